"""Buyer-seller price negotiation with an outside option, as played in GLEE.

player_1 (Alice) sells one product, player_2 (Bob) may buy it.  The product is
worth ``seller_value * product_price_order`` to the seller and
``buyer_value * product_price_order`` to the buyer.  In odd rounds the seller
names a price, in even rounds the buyer; the other side answers:

- ``accept``: the deal is made at that price; the seller gains price − own
  value, the buyer own value − price (either may be negative);
- ``reject``: the one who rejected names a counter-price next round; a
  rejection in round ``max_rounds`` ends the game without a deal;
- ``outside``: stop and deal with John instead (the seller sells to another
  buyer, the buyer buys from another seller, at the taker's own value), worth
  0 surplus to the taker and ends the game with 0 for the other side too.

No deal after ``max_rounds`` is 0 for both.  The log labels the outside
option by role (``SellToJhon`` / ``BuyFromJhon``, or ``DealWithJhon``); moves
here use the normalised names and keep the logged label in ``data["label"]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from envs.glee.rules import GameState, IllegalMove, Rules, other
from envs.records import Event

SELLER, BUYER = "player_1", "player_2"
ANSWERS = ("accept", "reject", "outside")
#: live play: offers at 5%, 10%, ..., 200% of ``product_price_order``
OFFER_PERCENTS = tuple(range(5, 201, 5))
#: the outside option's label in the logs, by the role of the one who takes it
OUTSIDE_LABEL = {SELLER: "SellToJhon", BUYER: "BuyFromJhon"}


@dataclass
class NegotiationState(GameState):
    phase: str = "offer"  # "offer" or "respond"
    price: float | None = None  # the price on the table while a seat is to respond


def proposer(round_: int) -> str:
    """Who names the price in ``round_``: the seller in odd rounds, the buyer in even ones."""
    return SELLER if round_ % 2 == 1 else BUYER


def role(seat: str) -> str:
    return "seller" if seat == SELLER else "buyer"


def worth(params: Mapping[str, Any], seat: str) -> float:
    """What the product is worth to ``seat`` in dollars: its value multiplier times the price order."""
    mult = params["seller_value"] if seat == SELLER else params["buyer_value"]
    return float(mult) * float(params["product_price_order"])


def deal_surplus(params: Mapping[str, Any], seat: str, price: float) -> float:
    """``seat``'s gain from a deal at ``price`` over its outside option (John at its own value)."""
    own = worth(params, seat)
    return price - own if seat == SELLER else own - price


class NegotiationRules(Rules):
    family = "glee_negotiation"
    actions = ANSWERS + tuple(f"offer_{p}" for p in OFFER_PERCENTS)
    obs_size = 11
    default_params = {"seller_value": 1.0, "buyer_value": 1.2, "product_price_order": 10000, "max_rounds": 10,
                      "complete_information": True, "messages_allowed": False, "human_seat": SELLER}

    def start(self, params: Mapping[str, Any]) -> NegotiationState:
        return NegotiationState(params=dict(params))

    def to_move(self, s: NegotiationState) -> str | None:
        if s.finished:
            return None
        return proposer(s.round) if s.phase == "offer" else other(proposer(s.round))

    def legal(self, s: NegotiationState) -> tuple[str, ...]:
        if s.finished:
            return ()
        return self.actions[len(ANSWERS):] if s.phase == "offer" else ANSWERS

    def from_action(self, s: NegotiationState, name: str) -> Event:
        seat = self.to_move(s)
        if name.startswith("offer_"):
            price = float(s.params["product_price_order"]) * int(name.split("_")[1]) / 100
            return Event(s.round, "", "offer", data={"seat": seat, "price": price, "message": None})
        data = {"seat": seat}
        if name == "outside":
            data["label"] = OUTSIDE_LABEL[seat]
        return Event(s.round, "", name, data=data)

    def apply(self, s: NegotiationState, move: Event) -> dict[str, float]:
        """Check and play ``move``; rewards are surpluses over each side's own value, paid when the game ends."""
        if s.phase == "offer":
            self.expect(s, move, proposer(s.round), ("offer",))
            try:
                price = float(move.data.get("price"))
            except (TypeError, ValueError):
                price = float("nan")
            if not np.isfinite(price):
                raise IllegalMove("bad_offer", f"an offer needs a finite price, got {move.data.get('price')!r}")
            self.record(s, move)
            s.price, s.phase = price, "respond"
            return {}
        self.expect(s, move, other(proposer(s.round)), ANSWERS)
        self.record(s, move)
        if move.action == "accept":
            s.finished, s.outcome = True, f"deal at {s.price:g} in round {s.round}"
            return {seat: deal_surplus(s.params, seat, s.price) for seat in (SELLER, BUYER)}
        if move.action == "outside":
            s.finished, s.outcome = True, f"{role(move.data['seat'])} dealt with John in round {s.round}"
            return {}
        if s.round >= int(s.params["max_rounds"]):
            s.finished, s.outcome = True, "no deal"
            return {}
        s.round, s.phase, s.price = s.round + 1, "offer", None
        return {}

    def observe(self, s: NegotiationState, seat: str) -> np.ndarray:
        """[round, max_rounds, responding, price, own value, other's value (-1 unless complete information),
        price order, is seller, complete information, messages allowed, last round]; money in units of the
        price order so games of every scale look alike."""
        p = s.params
        order = float(p["product_price_order"])
        responding = s.phase == "respond" and not s.finished and self.to_move(s) == seat
        complete = bool(p.get("complete_information", True))
        price = s.price / order if s.price is not None else -1.0
        theirs = worth(p, other(seat)) / order if complete else -1.0
        return np.array([s.round, float(p["max_rounds"]), float(responding), price, worth(p, seat) / order, theirs,
                         order, float(seat == SELLER), float(complete), float(bool(p.get("messages_allowed"))),
                         float(s.round >= int(p["max_rounds"]))])

    def decision(self, s: NegotiationState, seat: str) -> tuple[tuple[str, ...], str] | None:
        """Answering an offer is scored (accept / reject / outside); naming a price is not."""
        if not s.finished and s.phase == "respond" and self.to_move(s) == seat:
            return ANSWERS, "accept"
        return None
