"""Stage-game Nash equilibrium predictor built on nashpy.

The human is the row player.  For each decision the stage game's equilibria are
computed with nashpy's support enumeration (cached per game) and one row
strategy is chosen by ``selection``:

- ``"mixed"`` (default): the unique fully mixed equilibrium when there is one;
  otherwise the unique equilibrium; otherwise the average of all equilibria.
  In the Prisoner's Dilemma this is mutual defection (P(J) = 0); in Battle of
  the Sexes the mixed equilibrium where the human plays J with probability 7/17.
- ``"average"``: the mean of the row strategies of all equilibria.
- ``"payoff_dominant"``: the equilibrium with the highest sum of expected payoffs.
- ``"first"``: nashpy's first equilibrium.

The equilibrium is the same in every round: it is the normative benchmark of the
one-shot game, not a model of repeated-game strategies.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import nashpy as nash
import numpy as np

from envs.records import DecisionPoint
from predictors.base import Prediction, Predictor

SELECTIONS = ("mixed", "average", "payoff_dominant", "first")


@lru_cache(maxsize=256)
def stage_equilibria(row: tuple, col: tuple) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """All Nash equilibria of the bimatrix game, as (row strategy, column strategy)."""
    game = nash.Game(np.array(row, dtype=float), np.array(col, dtype=float))
    eqs = tuple((np.asarray(s, float), np.asarray(t, float)) for s, t in game.support_enumeration())
    if not eqs:  # degenerate games: fall back to vertex enumeration
        eqs = tuple((np.asarray(s, float), np.asarray(t, float)) for s, t in game.vertex_enumeration())
    return eqs


def select_equilibrium(row: np.ndarray, col: np.ndarray, selection: str = "mixed") -> np.ndarray:
    """The row player's equilibrium strategy under the documented selection rule."""
    if selection not in SELECTIONS:
        raise ValueError(f"unknown equilibrium selection {selection!r}; choose from {SELECTIONS}")
    key_r, key_c = tuple(map(tuple, row)), tuple(map(tuple, col))
    eqs = stage_equilibria(key_r, key_c)
    if not eqs:
        raise ValueError("nashpy found no equilibrium")
    if selection == "first":
        return eqs[0][0]
    if selection == "payoff_dominant":
        return max(eqs, key=lambda e: float(e[0] @ row @ e[1] + e[0] @ col @ e[1]))[0]
    if selection == "mixed":
        mixed = [e for e in eqs if np.all(e[0] > 0) and np.all(e[1] > 0)]
        if len(mixed) == 1:
            return mixed[0][0]
        if len(eqs) == 1:
            return eqs[0][0]
    return np.mean([e[0] for e in eqs], axis=0)


class NashPredictor(Predictor):
    """P(action) = the human's stage-game equilibrium strategy."""

    def __init__(self, selection: str = "mixed", name: str | None = None):
        if selection not in SELECTIONS:
            raise ValueError(f"unknown equilibrium selection {selection!r}; choose from {SELECTIONS}")
        self.selection = selection
        self.name = name or f"nash-{selection}"

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        out = []
        for dp in batch:
            row = np.array(dp.params["row_payoffs"], float)
            col = np.array(dp.params["col_payoffs"], float)
            strat = select_equilibrium(row, col, self.selection)
            actions = list(dp.params["actions"])
            probs = {a: float(strat[actions.index(a)]) for a in dp.legal_actions}
            z = sum(probs.values())
            out.append(Prediction(dp.decision_id, {a: p / z for a, p in probs.items()},
                                  {"n_equilibria": len(stage_equilibria(tuple(map(tuple, row)),
                                                                        tuple(map(tuple, col))))}))
        return out

    def describe(self) -> dict:
        return {**super().describe(), "selection": self.selection}
