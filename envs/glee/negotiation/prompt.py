"""A negotiation answer told the way the participant saw it: their role, the dialogue, the price on the table.

Written from the game's parameters: the participant's role (seller or buyer)
and what the product is worth to them, what it is worth to the other side only
under complete information, how offers and counter-offers alternate, the
outside option (trading with John at their own value), the round limit and the
round numbers (shown only when ``max_rounds`` is 20 or fewer, as in the
experiment), and whether offers carried messages.  Messages are quoted exactly
as typed.

The logs name the outside option by role (SellToJhon / BuyFromJhon); a
predictor's answer is read through ``option_text(action)``, which knows only
the action, so the prompt offers the outside option under one role-free label,
``DealWithJohn``.
"""

from __future__ import annotations

from envs.glee.negotiation.rules import SELLER, role, worth
from envs.glee.rules import other
from envs.glee.text import money, quoted
from envs.records import DecisionPoint, Event

OPTION_LABELS = {"accept": "AcceptOffer", "reject": "RejectOffer", "outside": "DealWithJohn"}


def _seats(dp: DecisionPoint) -> tuple[str, str, dict]:
    me = dp.params["human_seat"]
    return me, other(me), dp.params["names"]


def _rounds_shown(dp: DecisionPoint) -> bool:
    return int(dp.params["max_rounds"]) <= 20


def _john(dp: DecisionPoint) -> str:
    """The outside option in the participant's role, with its price (their own value)."""
    me = dp.params["human_seat"]
    own = money(worth(dp.params, me))
    if me == SELLER:
        return f"sell the product to another buyer, John, who will pay you {own}"
    return f"buy the product from another seller, John, who will sell it to you for {own}"


def rules_text(dp: DecisionPoint) -> str:
    p = dp.params
    me, them, names = _seats(dp)
    buyer_side = "buy it" if me == SELLER else "sell it to you"
    lines = [f"You are {names[me]}, the {role(me)} in a negotiation over one product; {names[them]} may "
             f"{buyer_side}. The product is worth {money(worth(p, me))} to you."]
    if p["complete_information"]:
        lines.append(f"It is worth {money(worth(p, them))} to {names[them]}.")
    else:
        lines.append(f"You do not know what it is worth to {names[them]}.")
    if me == SELLER:
        turns = (f"You name the first price; {names[them]} then accepts it, which closes the deal at "
                 "that price, or rejects it and names a counter-price in the next round")
    else:
        turns = (f"{names[them]} names the first price; you then accept it, which closes the deal at "
                 "that price, or reject it and name a counter-price in the next round")
    lines.append(turns + ". Offers alternate like this: whoever rejected names the next price. "
                 + ("Each offer may come with a written message." if p["messages_allowed"] else
                    "Offers are prices only, without messages."))
    lines.append(f"Instead of answering an offer, you may stop negotiating with {names[them]} and {_john(dp)}.")
    if _rounds_shown(dp):
        lines.append(f"You have {int(p['max_rounds'])} rounds to close the deal; a rejection in the last round ends "
                     "the negotiation without a deal.")
    goal = "get as much money for the product as you can" if me == SELLER else \
        "buy the product while paying as little as you can"
    lines.append(f"Your goal is to {goal}.")
    return "\n".join(lines)


def _who(e: Event, dp: DecisionPoint) -> str:
    me, _, names = _seats(dp)
    return "You" if e.data["seat"] == me else names[e.data["seat"]]


def _answer_line(e: Event, dp: DecisionPoint) -> str:
    who = _who(e, dp)
    if e.action == "accept":
        return f"{who} accepted the offer."
    if e.action == "reject":
        return f"{who} rejected the offer."
    return f"{who} stopped the negotiation to deal with John."


def history_text(dp: DecisionPoint) -> str:
    """The dialogue so far, including the offer now on the table."""
    lines = []
    for e in dp.history:
        when = f"Round {e.round}: " if _rounds_shown(dp) else ""
        if e.action == "offer":
            line = f"{when}{_who(e, dp)} offered a price of {money(e.data['price'])}."
            if e.data.get("message") is not None:
                line += f" Message: {quoted(e.data['message'])}"
            lines.append(line)
        else:
            lines.append(when + _answer_line(e, dp))
    return "\n".join(lines)


def question_text(dp: DecisionPoint) -> str:
    me, them, names = _seats(dp)
    price = float(next(e for e in reversed(dp.history) if e.action == "offer").data["price"])
    last = dp.round >= int(dp.params["max_rounds"])
    deal = "sell" if me == SELLER else "buy"
    lines = [f"Round {dp.round} of {int(dp.params['max_rounds'])}."] if _rounds_shown(dp) else []
    reject = ("reject it and end the negotiation without a deal" if last and _rounds_shown(dp) else
              f"reject it and send {names[them]} a counter-offer in the next round" if not last else
              "reject it")
    lines += [f"{names[them]} offers a price of {money(price)}. You have three options:",
              f"(1) accept the offer and {deal} the product for {money(price)};",
              f"(2) {reject};",
              f"(3) stop negotiating with {names[them]} and {_john(dp)}.",
              'Answer with a JSON object: {"decision": "AcceptOffer"}, {"decision": "RejectOffer"} or '
              '{"decision": "DealWithJohn"}.']
    return "\n".join(lines)


def render(dp: DecisionPoint) -> dict[str, str]:
    """Named prompt parts: ``rules``, ``history`` (dialogue incl. the current offer), ``question``,
    ``round`` and ``options``."""
    return {"rules": rules_text(dp), "history": history_text(dp), "question": question_text(dp),
            "round": str(dp.round), "options": "AcceptOffer, RejectOffer or DealWithJohn"}


def option_text(action: str) -> str:
    """The label the prompt asks for: accept -> AcceptOffer, reject -> RejectOffer, outside -> DealWithJohn."""
    return OPTION_LABELS[action]

