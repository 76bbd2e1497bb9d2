"""Repeated Bayesian persuasion (a seller and a buyer) as played in GLEE.

player_1 (Alice) sells, player_2 (Bob) buys, for ``total_rounds`` rounds at a
fixed ``price``.  Each round:

1. nature draws the product's quality: high with probability ``p``; a
   high-quality product is worth ``v * price`` to the buyer, a low-quality one
   ``c * price``;
2. the seller, who sees the quality, sends a message: free text
   (``message_type == "text"``) or a yes/no recommendation (``"binary"``);
3. the buyer, who does not see the quality, buys (``yes``) or passes (``no``).
   A sale pays the seller ``price`` and the buyer ``worth - price``; a passed
   product is thrown away.  Either way the buyer then learns the quality.

In myopic games (``myopic``) every round has a new buyer who sees only the
seller's sales record (how many products were sold, how many of them were high
quality), not the earlier rounds themselves.

Moves: nature's ``quality`` (data ``quality`` "high"/"low", ``worth``), the
seller's ``recommend`` / ``discourage`` (a binary signal, data ``signal``
"yes"/"no") or ``message`` (free text, data ``message``; ``None`` when empty),
and the buyer's ``yes`` / ``no``.  The rules accept either kind of seller move in
either kind of game, so a log whose seller move does not fit the game's message
type is replayed and flagged by the loader, not thrown away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from envs.glee.rules import NATURE_SEAT, GameState, IllegalMove, Rules
from envs.records import Event

SELLER, BUYER = "player_1", "player_2"
QUALITIES = ("high", "low")
SIGNAL_ACTIONS = {"yes": "recommend", "no": "discourage"}
SELLER_MOVES = ("recommend", "discourage", "message")
#: live play in text games: the short plain message a discrete seller action stands for
LIVE_TEXT = {"recommend": "I recommend that you buy this product.",
             "discourage": "I do not recommend that you buy this product."}


@dataclass
class PersuasionState(GameState):
    phase: str = "nature"  # "nature", "seller" or "buyer"
    quality: str | None = None  # this round's quality, once nature has drawn it
    signal: str | None = None  # this round's binary signal ("yes"/"no"), None for text or not yet sent
    sent: bool = False  # whether the seller has moved this round
    completed: int = 0  # rounds whose buyer decision is made (their quality is revealed to the buyer)
    high_rounds: int = 0  # completed rounds with a high-quality product
    sold: int = 0
    sold_high: int = 0
    recommended: int = 0  # completed rounds with a "yes" signal
    recommended_high: int = 0


def worth(params: Mapping[str, Any], quality: str) -> float:
    """What a product of ``quality`` is worth to the buyer, in dollars."""
    mult = params["v"] if quality == "high" else params["c"]
    return float(mult) * float(params["price"])


def is_binary(params: Mapping[str, Any]) -> bool:
    return params.get("message_type") == "binary"


class PersuasionRules(Rules):
    family = "glee_persuasion"
    actions = ("yes", "no", "recommend", "discourage")
    obs_size = 17
    default_params = {"p": 1 / 3, "v": 2.0, "c": 0.0, "price": 10000.0, "total_rounds": 20,
                      "message_type": "binary", "myopic": False, "seller_knows_values": True,
                      "buyer_knows_p": True, "buyer_messages": False, "human_seat": BUYER}

    def start(self, params: Mapping[str, Any]) -> PersuasionState:
        return PersuasionState(params=dict(params))

    def to_move(self, s: PersuasionState) -> str | None:
        if s.finished:
            return None
        return {"nature": NATURE_SEAT, "seller": SELLER, "buyer": BUYER}[s.phase]

    def legal(self, s: PersuasionState) -> tuple[str, ...]:
        if s.finished or s.phase == "nature":
            return ()
        return ("recommend", "discourage") if s.phase == "seller" else ("yes", "no")

    def from_action(self, s: PersuasionState, name: str) -> Event:
        seat = self.to_move(s)
        if name in ("recommend", "discourage"):
            if is_binary(s.params):
                sig = "yes" if name == "recommend" else "no"
                return Event(s.round, "", name, data={"seat": seat, "signal": sig, "message": None})
            return Event(s.round, "", "message", data={"seat": seat, "signal": None, "message": LIVE_TEXT[name]})
        return Event(s.round, "", name, data={"seat": seat})

    def nature(self, s: PersuasionState, rng: np.random.Generator) -> Event:
        """Draws this round's quality: high with probability ``p``."""
        q = "high" if rng.random() < float(s.params["p"]) else "low"
        return Event(s.round, "", "quality", data={"seat": NATURE_SEAT, "quality": q, "worth": worth(s.params, q)})

    def apply(self, s: PersuasionState, move: Event) -> dict[str, float]:
        if s.phase == "nature":
            self.expect(s, move, NATURE_SEAT, ("quality",))
            q = move.data.get("quality")
            if q not in QUALITIES:
                raise IllegalMove("unknown_quality", f"quality {q!r} is not one of {QUALITIES}")
            self.record(s, move)
            s.quality, s.signal, s.sent, s.phase = q, None, False, "seller"
            return {}
        if s.phase == "seller":
            self.expect(s, move, SELLER, SELLER_MOVES)
            sig = move.data.get("signal")
            if move.action != "message" and sig != {"recommend": "yes", "discourage": "no"}[move.action]:
                raise IllegalMove("bad_signal", f"a {move.action!r} move must carry the signal "
                                                f"{'yes' if move.action == 'recommend' else 'no'}, got {sig!r}")
            self.record(s, move)
            s.signal = sig if move.action != "message" else None
            s.sent, s.phase = True, "buyer"
            return {}
        self.expect(s, move, BUYER, ("yes", "no"))
        self.record(s, move)
        price = float(s.params["price"])
        high = s.quality == "high"
        rewards = {}
        if move.action == "yes":
            rewards = {SELLER: price, BUYER: worth(s.params, s.quality) - price}
            s.sold += 1
            s.sold_high += high
        s.completed += 1
        s.high_rounds += high
        if s.signal == "yes":
            s.recommended += 1
            s.recommended_high += high
        if s.round >= int(s.params["total_rounds"]):
            s.finished, s.outcome = True, f"{s.sold} of {s.completed} products sold"
        else:
            s.round, s.phase, s.quality, s.signal, s.sent = s.round + 1, "nature", None, None, False
        return rewards

    def observe(self, s: PersuasionState, seat: str) -> np.ndarray:
        """[round, total rounds, to move, prior (-1 unknown), v, c (-1 unknown), price, binary, myopic,
        current quality (seller only; 1 high, 0 low, -1 hidden), current signal (1 yes, 0 no, 0.5 text,
        -1 none), sold, high-quality sold, then what the seat knows of past rounds (-1 for a myopic buyer):
        rounds revealed, high-quality rounds, recommendations, recommendations that were high]."""
        p = s.params
        seller = seat == SELLER
        knows_p = seller or bool(p.get("buyer_knows_p", True))
        knows_values = (not seller) or bool(p.get("seller_knows_values", True))
        quality = (1.0 if s.quality == "high" else 0.0) if seller and s.quality is not None else -1.0
        if not s.sent:
            signal = -1.0
        else:
            signal = {"yes": 1.0, "no": 0.0}.get(s.signal, 0.5)
        sees_rounds = seller or not p.get("myopic", False)
        past = [s.completed, s.high_rounds, s.recommended, s.recommended_high] if sees_rounds else [-1.0] * 4
        return np.array([s.round, float(p["total_rounds"]), float(self.to_move(s) == seat),
                         float(p["p"]) if knows_p else -1.0,
                         float(p["v"]) if knows_values else -1.0, float(p["c"]) if knows_values else -1.0,
                         float(p["price"]), float(is_binary(p)), float(bool(p.get("myopic", False))), quality,
                         signal, s.sold, s.sold_high, *past], dtype=np.float64)

    def decision(self, s: PersuasionState, seat: str) -> tuple[tuple[str, ...], str] | None:
        """Only the buyer's yes/no is scored; the seller's messages are not."""
        if not s.finished and s.phase == "buyer" and seat == BUYER:
            return ("yes", "no"), "yes"
        return None

    def visible(self, s: PersuasionState, event: Event, seat: str) -> bool:
        """The seller sees everything.  The buyer never sees a quality before deciding on that product
        (nature's event of an undecided round); a myopic buyer sees, of earlier rounds, only what the
        sales record is made of — the buyers' choices and the qualities of products that were sold — and
        of this round only the seller's message."""
        if seat == SELLER:
            return True
        if event.round > s.round:
            return False
        seat_of = event.data.get("seat")
        if seat_of == NATURE_SEAT and event.round > s.completed:
            return False
        if not s.params.get("myopic", False) or event.round == s.round:
            return True
        if seat_of == SELLER:
            return False
        if seat_of == NATURE_SEAT:
            return any(e.round == event.round and e.data.get("seat") == BUYER and e.action == "yes"
                       for e in s.events)
        return True
