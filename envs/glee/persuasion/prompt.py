"""A persuasion buyer's decision told the way the buyer saw it: the rules, past rounds, this round's pitch.

Written from the game's parameters: the price, what high- and low-quality
products are worth to the buyer, the prior (or that the buyer does not know it),
whether the seller knows the buyer's valuations, the number of rounds, and how
the seller communicates (a free message or a yes/no recommendation).  A buyer
with one seller for the whole game sees every past round; a myopic buyer (a new
buyer each round) sees only the seller's sales record, so that is all the
history shows.  Messages are quoted exactly as typed.
"""

from __future__ import annotations

from typing import Any, Mapping

from envs.glee.persuasion.rules import BUYER, SELLER, worth
from envs.glee.rules import NATURE_SEAT
from envs.glee.text import money, percent, quoted
from envs.records import DecisionPoint, Event

DEFAULT_NAMES = {SELLER: "Alice", BUYER: "Bob"}


def _names(params: Mapping[str, Any]) -> dict[str, str]:
    return {**DEFAULT_NAMES, **(params.get("names") or {})}


def rules_text(dp: DecisionPoint) -> str:
    """The rules as the buyer was told them, in this project's words."""
    p = dp.params
    names = _names(p)
    seller, buyer = names[SELLER], names[BUYER]
    binary = p["message_type"] == "binary"
    myopic = bool(p.get("myopic", False))
    who = "one of a series of buyers" if myopic else f"{buyer}, the buyer"
    lines = [f"You are {who} in a game. {seller} is a seller offering products at a fixed price of "
             f"{money(float(p['price']))} each; there are no discounts and no refunds.",
             f"Some products are high quality and some are low quality. A high-quality product is worth "
             f"{money(worth(p, 'high'))} to you and a low-quality product is worth {money(worth(p, 'low'))} to you. "
             "If you buy, you pay the price and get the product's worth."]
    if p.get("buyer_knows_p", True):
        lines.append(f"Each product is high quality with probability {percent(float(p['p']))} and low quality "
                     f"with probability {percent(1 - float(p['p']))}.")
    else:
        lines.append("You do not know what share of the products are high quality.")
    lines.append(f"{seller} {'knows' if p.get('seller_knows_values', True) else 'does not know'} how much the "
                 "products are worth to you.")
    if myopic:
        tell = "tells the buyer whether she recommends buying it" if binary else "sends the buyer a message about it"
        lines.append(f"{seller} sells to {int(p['total_rounds'])} buyers, one after the other. For each buyer she "
                     f"picks a product, sees its true quality, and {tell}. Each buyer "
                     f"also sees {seller}'s sales record so far: how many products were sold and how many of them "
                     "were high quality, but nothing else about earlier buyers.")
        lines.append("You decide whether to buy the product or pass; a product nobody buys is thrown away. "
                     "After your decision you learn the product's true quality.")
    else:
        tell = "tells you whether she recommends buying it" if binary else "sends you a message about it"
        lines.append(f"The game has {int(p['total_rounds'])} rounds. In each round {seller} picks a product, sees "
                     f"its true quality, and {tell}. You decide whether to buy it or pass; a product you pass on "
                     "is thrown away. At the end of each round you learn the product's true quality.")
    return "\n".join(lines)


def _seller_line(e: Event | None, seller: str) -> str:
    if e is None:
        return f"{seller} sent nothing."
    if e.data.get("signal") == "yes":
        return f"{seller} recommends buying the product."
    if e.data.get("signal") == "no":
        return f"{seller} does not recommend buying the product."
    msg = e.data.get("message")
    return f"{seller}'s message: {quoted(msg)}" if msg is not None else f"{seller} sent an empty message."


def _by_round(dp: DecisionPoint) -> dict[int, dict[str, Event]]:
    out: dict[int, dict[str, Event]] = {}
    for e in dp.history:
        out.setdefault(e.round, {})[e.data.get("seat")] = e
    return out


def history_text(dp: DecisionPoint) -> str:
    """Past rounds (seller's message, the buyer's choice, the revealed quality) or, in myopic games, the
    sales record; the current round is in the question."""
    p = dp.params
    seller = _names(p)[SELLER]
    rounds = _by_round(dp)
    past = [r for r in sorted(rounds) if r < dp.round]
    if p.get("myopic", False):
        sold = [r for r in past if getattr(rounds[r].get(BUYER), "action", None) == "yes"]
        high = sum(1 for r in sold if rounds[r].get(NATURE_SEAT) is not None
                   and rounds[r][NATURE_SEAT].data["quality"] == "high")
        if not sold:
            return f"{seller}'s sales record: no products have been sold yet."
        return (f"{seller}'s sales record: {len(sold)} of the {len(past)} earlier buyers bought the product "
                f"offered to them; {high} of the products sold were high quality.")
    if not past:
        return "This is the first round."
    lines = []
    for r in past:
        ev = rounds[r]
        parts = [f"Round {r}: {_seller_line(ev.get(SELLER), seller)}"]
        choice = ev.get(BUYER)
        if choice is not None:
            parts.append("You bought the product." if choice.action == "yes" else "You did not buy the product.")
        nature = ev.get(NATURE_SEAT)
        if nature is not None:
            q = nature.data["quality"]
            parts.append(f"It was {q} quality (worth {money(worth(p, q))} to you).")
        lines.append(" ".join(parts))
    return "\n".join(lines)


def question_text(dp: DecisionPoint) -> str:
    """This round's message or recommendation and the question."""
    p = dp.params
    seller = _names(p)[SELLER]
    current = _by_round(dp).get(dp.round, {}).get(SELLER)
    head = "A new buyer has arrived: you." if p.get("myopic", False) else f"Round {dp.round}."
    return "\n".join([head, _seller_line(current, seller),
                      'Do you buy the product? Answer with a JSON object: {"decision": "yes"} or {"decision": "no"}.'])


def render(dp: DecisionPoint) -> dict[str, str]:
    """Named prompt parts: ``rules``, ``history`` (past rounds), ``question`` (this round's message and the
    question), ``round`` and ``options``."""
    return {"rules": rules_text(dp), "history": history_text(dp), "question": question_text(dp),
            "round": str(dp.round), "options": "yes or no"}


def option_text(action: str) -> str:
    """The token the model writes after the answer stub: ``yes`` or ``no``."""
    return action
