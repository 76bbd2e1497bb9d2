"""A bargaining decision told the way the participant saw it: rules, the dialogue, the offer.

Written from the game's parameters: the stakes, each side's "inflation" (the
discount factor shown as the percentage by which money loses value per round;
the other side's only under complete information), the round limit (shown when
it is 20 or fewer, as in the experiment), and whether messages were allowed.
"""

from __future__ import annotations

from envs.glee.bargaining.rules import delta
from envs.glee.rules import other
from envs.glee.text import money, percent, quoted
from envs.records import DecisionPoint, Event


def _seats(dp: DecisionPoint) -> tuple[str, str, dict]:
    me = dp.params["human_seat"]
    return me, other(me), dp.params["names"]


def rules_text(dp: DecisionPoint) -> str:
    p = dp.params
    me, them, names = _seats(dp)
    lines = [
        f"You are playing a bargaining game as {names[me]}. You and {names[them]} must agree on how to divide "
        f"{money(p['money'])} between you.",
        "In each round one player proposes a division" + (" and may add a short message" if p["messages_allowed"]
                                                          else "") +
        ". The other player either accepts it, which ends the game with that division, or rejects it, and the "
        "game goes on to the next round, where the player who rejected makes the proposal.",
        f"{names['player_1']} makes the first proposal.",
    ]
    own, theirs = 1 - delta(p, me), 1 - delta(p, them)
    if p["complete_information"]:
        if own or theirs:
            lines.append(f"Beware of inflation: with every round that passes, money is worth {percent(own)} less "
                         f"to you and {percent(theirs)} less to {names[them]}.")
    else:
        lines.append(f"Beware of inflation: with every round that passes, money is worth {percent(own)} less to "
                     f"you. You do not know how inflation affects {names[them]}.")
    if int(p["max_rounds"]) <= 20:
        lines.append(f"You have {int(p['max_rounds'])} rounds to agree; if you do not, both of you get nothing.")
    return "\n".join(lines)


def _offer_line(e: Event, dp: DecisionPoint) -> str:
    me, _, names = _seats(dp)
    who = "You" if e.data["seat"] == me else names[e.data["seat"]]
    g = e.data["gains"]
    parts = [f"Round {e.round}: {who} proposed: {names['player_1']} gets {money(g['player_1'])}, "
             f"{names['player_2']} gets {money(g['player_2'])}."]
    if e.data.get("message") is not None:
        parts.append(f"Message: {quoted(e.data['message'])}")
    return " ".join(parts)


def history_text(dp: DecisionPoint) -> str:
    """The dialogue so far, including the offer now on the table."""
    me, _, names = _seats(dp)
    lines = []
    for e in dp.history:
        if e.action == "offer":
            lines.append(_offer_line(e, dp))
        else:
            who = "You" if e.data["seat"] == me else names[e.data["seat"]]
            lines.append(f"{who} {'accepted' if e.action == 'accept' else 'rejected'} the proposal.")
    return "\n".join(lines)


def question_text(dp: DecisionPoint) -> str:
    me, them, names = _seats(dp)
    offer = next(e for e in reversed(dp.history) if e.action == "offer")
    mine = offer.data["gains"][me]
    lost = 1 - delta(dp.params, me) ** (dp.round - 1)
    lines = [f"Round {dp.round}."]
    if lost > 0:
        lines.append(f"Because of inflation, the money you gain is now worth {percent(lost)} less than in the "
                     "first round.")
    lines.append(f"{names[them]} offers you {money(mine)} and keeps {money(offer.data['gains'][them])}. "
                 "Do you accept this offer?")
    lines.append('Answer with a JSON object: {"decision": "accept"} or {"decision": "reject"}.')
    return "\n".join(lines)


def render(dp: DecisionPoint) -> dict[str, str]:
    """Named prompt parts: ``rules``, ``history`` (dialogue incl. the current offer), ``question``,
    ``round`` and ``options``."""
    return {"rules": rules_text(dp), "history": history_text(dp), "question": question_text(dp),
            "round": str(dp.round), "options": "accept or reject"}


def option_text(action: str) -> str:
    return action
