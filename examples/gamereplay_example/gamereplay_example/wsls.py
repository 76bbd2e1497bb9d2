"""Win-stay, lose-shift as a gamereplay predictor (an example plugin).

Nowak, M. & Sigmund, K. (1993). A strategy of win-stay, lose-shift that outperforms
tit-for-tat in the Prisoner's Dilemma game. *Nature* 364, 56-58.

After a round whose payoff reached the aspiration level the player repeats their
action (win-stay); after a round below it they switch (lose-shift; with more than two
actions, to each other action equally).  With probability ``tremble`` the choice is
instead uniform over the legal actions.  Round 1 has no outcome to react to: uniform, or
``first_rate`` on the first legal action.  Unset, ``aspiration`` and ``tremble`` are
fitted on the *other* participants (leave-one-participant-out, as gamereplay's learners
must): the aspiration is their mean payoff per round in the same game, the tremble the
one that explains how often they broke the rule (add-one smoothed).  It reads nothing but
``DecisionPoint.history``: the human's last action and payoff.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from envs.records import HUMAN, DecisionPoint, Event
from predictors.base import Prediction, Predictor


def _last_own(dp: DecisionPoint) -> Event | None:
    moves = [e for e in dp.history if e.actor == HUMAN and e.action in dp.legal_actions and e.payoff is not None]
    return moves[-1] if moves else None


def _keys(dp: DecisionPoint) -> tuple[tuple, tuple]:
    """Counts are kept per game and per person in it; others' = the game's minus the person's own."""
    return (dp.family, dp.game), (dp.family, dp.game, dp.participant_id)


class WinStayLoseShift(Predictor):
    name = "wsls"

    def __init__(self, aspiration: float | None = None, tremble: float | None = None,
                 first_rate: float | None = None, name: str | None = None):
        for key, v in (("tremble", tremble), ("first_rate", first_rate)):
            if v is not None and not 0.0 <= v <= 1.0:
                raise ValueError(f"{key} must be in [0, 1], got {v}")
        self.aspiration, self.tremble, self.first_rate = aspiration, tremble, first_rate
        self.name = name or self.name
        self._n: Counter = Counter()  # (family, game[, participant]) -> decisions reacting to a payoff ...
        self._sum: Counter = Counter()  # ... the sum of those payoffs, and how many broke the rule
        self._broke: Counter = Counter()

    def fit(self, decisions: Sequence[DecisionPoint]) -> None:
        self._n, self._sum, self._broke = Counter(), Counter(), Counter()
        reacting = [(dp, last) for dp in decisions if (last := _last_own(dp)) is not None]
        for dp, last in reacting:
            for key in _keys(dp):
                self._n[key] += 1
                self._sum[key] += last.payoff
        for dp, last in reacting:  # judged by each person's own (leave-one-out) aspiration: after the sums
            broke = self._rule(dp, last)[dp.human_action] == 0
            for key in _keys(dp):
                self._broke[key] += broke

    def _others(self, counter: Counter, dp: DecisionPoint) -> tuple[float, int]:
        everyone, own = _keys(dp)
        return counter[everyone] - counter[own], self._n[everyone] - self._n[own]

    def level(self, dp: DecisionPoint) -> float:
        """The aspiration: configured, or others' mean payoff per round in this game (0 if nobody else)."""
        total, n = self._others(self._sum, dp)
        return float(self.aspiration) if self.aspiration is not None else total / n if n else 0.0

    def trembling(self, dp: DecisionPoint) -> float:
        """The tremble: configured, or the one under which others broke the rule as often as they did."""
        broke, n = self._others(self._broke, dp)
        k = len(dp.legal_actions)
        return self.tremble if self.tremble is not None else min(1.0, (broke + 1) / (n + 2) * k / max(1, k - 1))

    def _rule(self, dp: DecisionPoint, last: Event) -> dict[str, float]:
        acts = dp.legal_actions
        if last.payoff >= self.level(dp) or len(acts) < 2:
            return {a: float(a == last.action) for a in acts}
        return {a: float(a != last.action) / (len(acts) - 1) for a in acts}

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        out = []
        for dp in batch:
            acts, last, p = list(dp.legal_actions), _last_own(dp), self.first_rate
            if last is None:
                probs = {a: 1 / len(acts) if p is None or len(acts) < 2 else p if i == 0 else (1 - p) / (len(acts) - 1)
                         for i, a in enumerate(acts)}
                out.append(Prediction(dp.decision_id, probs, {"rule": "first"}))
                continue
            rule, eps = self._rule(dp, last), self.trembling(dp)
            probs = {a: (1 - eps) * rule[a] + eps / len(acts) for a in acts}
            out.append(Prediction(dp.decision_id, probs, {"rule": "stay" if rule[last.action] == 1 else "shift",
                                                          "aspiration": self.level(dp), "tremble": eps}))
        return out

    def describe(self) -> dict:
        return {**super().describe(), "aspiration": self.aspiration, "tremble": self.tremble,
                "first_rate": self.first_rate}
