"""The normative benchmark for a negotiation answer: take a price exactly when it beats the outside option.

Game theory.  Each side can always trade with John at its own value (the seller
sells for ``seller_value * order``, the buyer buys for ``buyer_value * order``),
which is worth 0 surplus, and walking away or running out of rounds is worth 0
too.  A deal at price q is worth ``q - own value`` to the seller and
``own value - q`` to the buyer.  So the responder's reservation price is their
own value: accepting is worth at least the outside option exactly when
the seller is offered ``q >= own value`` or the buyer ``q <= own value`` (ties
accept — the deal is no worse than John).

Below the reservation price the answer is *reject* while rounds remain:
rejecting lets the responder name a counter-price next round and keeps John
available at every later answer, so it weakly dominates taking John now (there
is no discounting).  In the last round a rejection ends the game without a
deal, worth the same 0 as John; the rule then names the outside option, the
explicit way out the game offers — the two are payoff-equivalent there.

This is the individual-rationality benchmark, the one a responder can apply
knowing only their own value (as under incomplete information).  It is not the
full subgame-perfect answer under complete information: with no discounting
and an even ``max_rounds`` the buyer proposes last and can then take the whole
surplus at a price of the seller's value, so a subgame-perfect buyer would
also reject prices between the seller's value and their own while rounds
remain; the seller's subgame-perfect answer coincides with this rule.
"""

from __future__ import annotations

from envs.glee.negotiation.rules import SELLER, deal_surplus, worth
from envs.records import DecisionPoint


def _price(dp: DecisionPoint) -> float:
    """The price on the table: the last offer the human saw."""
    return float(next(e for e in reversed(dp.history) if e.action == "offer").data["price"])


def _last_round(dp: DecisionPoint) -> bool:
    return dp.round >= int(dp.params["max_rounds"])


def rule(dp: DecisionPoint) -> tuple[dict[str, float], dict]:
    """Accept iff the deal's surplus over John is >= 0; else reject, or take John in the last round."""
    seat = dp.params["human_seat"]
    price = _price(dp)
    own = worth(dp.params, seat)
    surplus = deal_surplus(dp.params, seat, price)
    choice = "accept" if surplus >= -1e-9 * max(1.0, own) else ("outside" if _last_round(dp) else "reject")
    probs = {a: float(a == choice) for a in ("accept", "reject", "outside")}
    return probs, {"own_value": own, "price": price, "surplus": surplus}


def features(dp: DecisionPoint) -> dict[str, float]:
    """Numbers a descriptive model of the answer can use (money relative to the responder's own value)."""
    seat = dp.params["human_seat"]
    own = worth(dp.params, seat)
    return {"surplus_share": deal_surplus(dp.params, seat, _price(dp)) / own, "round": float(dp.round),
            "last_round": float(_last_round(dp)), "is_seller": float(seat == SELLER),
            "complete_information": float(bool(dp.params["complete_information"])),
            "messages_allowed": float(bool(dp.params["messages_allowed"]))}
