"""Decision points -> the arrays the learning models read: each decision's own past rounds in its stage game.

A decision's past is read only from ``dp.history`` (events strictly before it: ``DecisionPoint``
refuses future events) and its payoffs only from the family's stage game
(``Family.stage_game``): what the human chose (``actor == "human"``) and what the other player
chose (``actor == "opponent"``) in each earlier round, paired by round.  A round in which either
move is missing is left out.  The human's payoff of a pair is read from the stage game, so
foregone payoffs (of actions not taken) come from the same matrix as received ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from envs.family import NotProvided
from envs.records import HUMAN, OPPONENT, DecisionPoint
from envs.stage_game import StageGame
from predictors.learning.ewa import Histories
from predictors.nash import stage_game


def past_rounds(dp: DecisionPoint) -> list[tuple[str, str]]:
    """(the human's move, the other's move) in each earlier round with both moves logged, oldest first."""
    own: dict[int, str] = {}
    other: dict[int, str] = {}
    for e in dp.history:
        if e.action is None:
            continue
        if e.actor == HUMAN:
            own[e.round] = e.action
        elif e.actor == OPPONENT:
            other[e.round] = e.action
    return [(own[r], other[r]) for r in sorted(own) if r in other]


def game_of(dp: DecisionPoint) -> StageGame:
    """The decision's stage game; ValueError when its family has none (learning models need payoffs)."""
    try:
        return stage_game(dp)
    except NotProvided as exc:
        raise ValueError(f"learning models need a stage game (payoff matrix): {exc}") from None


@dataclass(frozen=True)
class Encoded:
    """Decisions of one stage game: the histories they continue, their choices and legal actions.

    Decisions of one trajectory share one history (the longest of them; the others are its prefixes),
    so decision i is at ``hist`` row ``seq[i]`` after its first ``at[i]`` rounds."""

    game: StageGame
    hist: Histories
    seq: np.ndarray  # (n,) row of hist
    at: np.ndarray  # (n,) rounds of history before the decision
    choice: np.ndarray  # (n,) index of the human's action in game.actions
    legal: np.ndarray  # (n, k) booleans

    def __len__(self) -> int:
        return len(self.choice)

    @property
    def first(self) -> np.ndarray:
        """Decisions with no past round: "round-1" choices."""
        return self.at == 0


def encode(game: StageGame, dps: Sequence[DecisionPoint]) -> Encoded:
    """The arrays of decisions ``dps``, all played in ``game``."""
    rounds = [past_rounds(dp) for dp in dps]
    longest: dict[str, list[tuple[str, str]]] = {}
    for dp, rs in zip(dps, rounds):
        if dp.human_rate is not None:
            raise ValueError(f"learning models need one person's choices; {dp.decision_id} is aggregate data")
        if len(rs) >= len(longest.get(dp.trajectory_id, [])):
            longest[dp.trajectory_id] = rs
    seqs: list[list[tuple[str, str]]] = []
    row: dict[str, int] = {}
    seq = np.zeros(len(dps), int)
    for i, (dp, rs) in enumerate(zip(dps, rounds)):
        full = longest[dp.trajectory_id]
        if full[:len(rs)] != rs:  # not a prefix of its trajectory's longest history: a sequence of its own
            seq[i] = len(seqs)
            seqs.append(rs)
            continue
        if dp.trajectory_id not in row:
            row[dp.trajectory_id] = len(seqs)
            seqs.append(full)
        seq[i] = row[dp.trajectory_id]
    t = max(1, max((len(r) for r in seqs), default=0))
    own, other = np.zeros((len(seqs), t), int), np.zeros((len(seqs), t), int)
    for i, rs in enumerate(seqs):
        for s, (a, b) in enumerate(rs):
            own[i, s], other[i, s] = game.actions.index(a), game.other_actions.index(b)
    length = np.array([len(r) for r in seqs], int)
    choice = np.array([game.actions.index(dp.human_action) for dp in dps], int)
    legal = np.array([[a in dp.legal_actions for a in game.actions] for dp in dps], bool).reshape(len(dps), -1)
    return Encoded(game, Histories(game.row, own, other, length), seq, np.array([len(r) for r in rounds], int),
                   choice, legal)
