"""Descriptive baselines a behavioural economist would reach for.

Both learn only from *other* participants: ``fit`` counts every decision, and
``predict`` subtracts the person's own counts before normalising
(leave-one-participant-out), with add-``alpha`` smoothing so no probability is 0.

- ``PopulationRate``: how often other people chose each action in the same
  cell — the family's ``cell(dp)``: game and round by default, or whatever a
  family declares comparable (e.g. the same offer in a responder game).
- ``Reciprocity``: play what the opponent played last round (tit-for-tat),
  trembling with the rate at which other people did *not* copy; in round 1
  (nothing to copy) it falls back to the population rate.
- ``Uniform``: every legal action equally likely (the chance level).

A property of leave-one-out rates worth knowing when reading per-cell metrics:
within one (game, round) cell the population rate of a person who chose J is
(k-1+a)/(n-1+2a) and of one who chose F is (k+a)/(n-1+2a), so *within a cell* it is
perfectly anti-correlated with the choice (Pearson r = -1).  That is the price of
never seeing the person being predicted, not a bug; compare it across cells
(pooled rows) or by log-loss.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from envs.records import OPPONENT, DecisionPoint
from envs.registry import get_family
from predictors.base import Prediction, Predictor


class Uniform(Predictor):
    name = "uniform"
    category = "baseline"

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        return [Prediction(dp.decision_id, {a: 1 / len(dp.legal_actions) for a in dp.legal_actions})
                for dp in batch]


class PopulationRate(Predictor):
    """Leave-one-participant-out choice rate per family and cell (``Family.cell``: by default game and round)."""

    name = "population-rate"
    category = "descriptive"

    def __init__(self, alpha: float = 1.0, name: str | None = None):
        self.alpha = alpha
        self.name = name or self.name
        self._all: Counter = Counter()
        self._own: Counter = Counter()

    @staticmethod
    def _key(dp: DecisionPoint) -> tuple:
        return (dp.family, *get_family(dp.family).cell(dp))

    def fit(self, decisions: Sequence[DecisionPoint]) -> None:
        self._all, self._own = Counter(), Counter()
        for dp in decisions:
            self._all[(*self._key(dp), dp.human_action)] += 1
            self._own[(dp.participant_id, *self._key(dp), dp.human_action)] += 1

    def rate(self, dp: DecisionPoint) -> dict[str, float]:
        counts = {a: self._all[(*self._key(dp), a)] - self._own[(dp.participant_id, *self._key(dp), a)]
                  + self.alpha for a in dp.legal_actions}
        z = sum(counts.values())
        return {a: c / z for a, c in counts.items()}

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        return [Prediction(dp.decision_id, self.rate(dp)) for dp in batch]

    def describe(self) -> dict:
        return {**super().describe(), "alpha": self.alpha}


def _last_opponent_move(dp: DecisionPoint) -> str | None:
    moves = [e for e in dp.history if e.actor == OPPONENT and e.action in dp.legal_actions]
    return moves[-1].action if moves else None


class Reciprocity(Predictor):
    """Noisy tit-for-tat with its tremble fitted on other participants."""

    name = "reciprocity"
    category = "descriptive"

    def __init__(self, alpha: float = 1.0, name: str | None = None):
        self.alpha = alpha
        self.name = name or self.name
        self._first = PopulationRate(alpha)
        self._copy_all: Counter = Counter()
        self._copy_own: Counter = Counter()

    def fit(self, decisions: Sequence[DecisionPoint]) -> None:
        self._first.fit(decisions)
        self._copy_all, self._copy_own = Counter(), Counter()
        for dp in decisions:
            last = _last_opponent_move(dp)
            if last is None:
                continue
            copied = dp.human_action == last
            self._copy_all[(dp.family, dp.game, copied)] += 1
            self._copy_own[(dp.participant_id, dp.family, dp.game, copied)] += 1

    def copy_rate(self, dp: DecisionPoint) -> float:
        n = {c: self._copy_all[(dp.family, dp.game, c)] - self._copy_own[(dp.participant_id, dp.family, dp.game, c)]
             for c in (True, False)}
        return (n[True] + self.alpha) / (n[True] + n[False] + 2 * self.alpha)

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        out = []
        for dp in batch:
            last = _last_opponent_move(dp)
            if last is None:
                out.append(Prediction(dp.decision_id, self._first.rate(dp), {"rule": "population"}))
                continue
            q = self.copy_rate(dp)
            others = [a for a in dp.legal_actions if a != last]
            probs = {last: q, **{a: (1 - q) / len(others) for a in others}}
            out.append(Prediction(dp.decision_id, probs, {"rule": "copy", "copy_rate": q}))
        return out

    def describe(self) -> dict:
        return {**super().describe(), "alpha": self.alpha}
