"""Alternating-offers bargaining (Rubinstein) as played in GLEE.

Two players split ``money``.  In odd rounds player_1 (Alice) proposes a split,
in even rounds player_2 (Bob); the other accepts (the game ends and each gets
their share, worth ``delta_i ** (round - 1)`` of its face value because of
"inflation") or rejects, and the rejecter proposes next round.  After
``max_rounds`` rejected offers both get nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from envs.glee.rules import GameState, IllegalMove, Rules, other
from envs.records import Event

OFFER_STEPS = 21  # live play: the proposer keeps 0%, 5%, ..., 100%


@dataclass
class BargainingState(GameState):
    phase: str = "offer"  # "offer" or "respond"
    offer: dict | None = None  # seat -> amount of the offer on the table


def proposer(round_: int) -> str:
    return "player_1" if round_ % 2 == 1 else "player_2"


def delta(params: dict, seat: str) -> float:
    return float(params["delta_1" if seat == "player_1" else "delta_2"])


class BargainingRules(Rules):
    family = "glee_bargaining"
    actions = ("accept", "reject") + tuple(f"offer_{5 * k}" for k in range(OFFER_STEPS))
    obs_size = 7
    default_params = {"money": 10000.0, "delta_1": 0.95, "delta_2": 0.95, "max_rounds": 12,
                      "complete_information": True, "messages_allowed": False, "human_seat": "player_1"}

    def start(self, params) -> BargainingState:
        return BargainingState(params=dict(params))

    def to_move(self, s: BargainingState) -> str | None:
        if s.finished:
            return None
        return proposer(s.round) if s.phase == "offer" else other(proposer(s.round))

    def legal(self, s: BargainingState) -> tuple[str, ...]:
        if s.finished:
            return ()
        return self.actions[2:] if s.phase == "offer" else ("accept", "reject")

    def from_action(self, s: BargainingState, name: str) -> Event:
        seat = self.to_move(s)
        if name.startswith("offer_"):
            keep = float(s.params["money"]) * int(name.split("_")[1]) / 100
            gains = {seat: keep, other(seat): float(s.params["money"]) - keep}
            return Event(s.round, "", "offer", data={"seat": seat, "gains": gains, "message": None})
        return Event(s.round, "", name, data={"seat": seat})

    def apply(self, s: BargainingState, move: Event) -> dict[str, float]:
        if s.phase == "offer":
            self.expect(s, move, proposer(s.round), ("offer",))
            gains = move.data.get("gains") or {}
            if set(gains) != {"player_1", "player_2"} or not all(np.isfinite(float(v)) for v in gains.values()):
                raise IllegalMove("bad_offer", f"an offer needs a finite amount for each seat, got {gains}")
            self.record(s, move)
            s.offer, s.phase = {k: float(v) for k, v in gains.items()}, "respond"
            return {}
        self.expect(s, move, other(proposer(s.round)), ("accept", "reject"))
        self.record(s, move)
        if move.action == "accept":
            s.finished, s.outcome = True, f"deal in round {s.round}"
            return {seat: s.offer[seat] * delta(s.params, seat) ** (s.round - 1) for seat in s.offer}
        if s.round >= int(s.params["max_rounds"]):
            s.finished, s.outcome = True, "no deal"
            return {}
        s.round, s.phase, s.offer = s.round + 1, "offer", None
        return {}

    def observe(self, s: BargainingState, seat: str) -> np.ndarray:
        p = s.params
        responding = s.phase == "respond" and not s.finished and self.to_move(s) == seat
        share = s.offer[seat] / float(p["money"]) if s.offer else -1.0
        other_delta = delta(p, other(seat)) if p.get("complete_information", True) else -1.0
        return np.array([s.round, float(p["max_rounds"]), float(responding), share, delta(p, seat), other_delta,
                         float(p["money"])])

    def decision(self, s: BargainingState, seat: str):
        if not s.finished and s.phase == "respond" and self.to_move(s) == seat:
            return ("accept", "reject"), "accept"
        return None
