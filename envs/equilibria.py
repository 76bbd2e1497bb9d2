"""Nash equilibria of a bimatrix game, and the documented rules that pick one of them.

Pure algorithm functions on payoff matrices (row player = the human); ``envs.stage_game.StageGame``
calls them, and so do the ``nash``, ``normative`` and ``qre`` predictors through it.  Equilibria come
from nashpy's support enumeration (Nash, 1951; nashpy's ``Game.support_enumeration``), with vertex
enumeration as the fallback where support enumeration finds nothing (some degenerate games).

Selection rules for the row player's strategy (``SELECTIONS``):

- ``"mixed"`` (default): the unique fully mixed equilibrium when there is one; otherwise the unique
  equilibrium; otherwise the average of all equilibria.  In the Prisoner's Dilemma this is mutual
  defection; in Battle of the Sexes the mixed equilibrium.
- ``"average"``: the mean of the row strategies of all equilibria.
- ``"payoff_dominant"``: the equilibrium with the highest sum of expected payoffs.
- ``"first"``: the first equilibrium nashpy reports.
"""

from __future__ import annotations

from functools import lru_cache

import nashpy as nash
import numpy as np

SELECTIONS = ("mixed", "average", "payoff_dominant", "first")

Key = tuple[tuple[float, ...], ...]


@lru_cache(maxsize=4096)
def _equilibria(row: Key, col: Key) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    game = nash.Game(np.array(row, dtype=float), np.array(col, dtype=float))
    eqs = tuple((np.asarray(s, float), np.asarray(t, float)) for s, t in game.support_enumeration())
    if not eqs:  # degenerate games: fall back to vertex enumeration
        eqs = tuple((np.asarray(s, float), np.asarray(t, float)) for s, t in game.vertex_enumeration())
    return eqs


def as_key(matrix) -> Key:
    """A hashable copy of a payoff matrix."""
    return tuple(tuple(float(x) for x in r) for r in np.asarray(matrix, float))


def equilibria(row, col) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """All Nash equilibria of the bimatrix game (row payoffs, column payoffs), as (row strategy, column
    strategy) pairs; cached per game."""
    return _equilibria(as_key(row), as_key(col))


def select_equilibrium(row, col, selection: str = "mixed") -> np.ndarray:
    """The row player's equilibrium strategy under the selection rule (see the module docstring)."""
    if selection not in SELECTIONS:
        raise ValueError(f"unknown equilibrium selection {selection!r}; choose from {SELECTIONS}")
    row, col = np.asarray(row, float), np.asarray(col, float)
    eqs = equilibria(row, col)
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


def is_pure(strategy: np.ndarray) -> bool:
    """Whether a mixed strategy puts all its weight on one action."""
    return bool(np.isclose(np.max(strategy), 1.0))
