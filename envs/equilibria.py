"""Nash equilibria of a bimatrix game — all of them, degenerate games included — and the documented
rules that pick one of them.

Pure algorithm functions on payoff matrices (row player = the human); ``envs.stage_game.StageGame``
calls them, and so do the ``nash`` predictor and the ``normative`` rules through it.

**The equilibrium set.**  Support enumeration (nashpy's ``support_enumeration``, used here before)
assumes a *nondegenerate* game: no mixed strategy with support size k has more than k pure best
responses (von Stengel, 2002, Handbook of Game Theory 3, ch. 45).  Integer payoffs make ties, so
degenerate games are common, and in them whole segments of equilibria exist, of which support
enumeration reports some points or none (and, by its float tolerance, it also drops equilibria of
some nondegenerate games larger than 2x2).  Here the equilibria come from exact vertex enumeration
(``envs.vertex_enumeration``): the *extreme* equilibria, the set pygambit's ``enummixed_solve``
reports (the tests compare them on thousands of random integer games), with no compiled dependency.
Every equilibrium is a convex combination of extreme equilibria inside a *maximal Nash subset* (a
product of two polytopes), and the connected *components* of the equilibrium set are those of the
bipartite graph that joins a row vertex to a column vertex when the pair is an extreme equilibrium
(Avis, Rosenberg, Savani & von Stengel, 2010, "Enumeration of Nash equilibria for two-player games",
Economic Theory 42).  In a nondegenerate game every component is one isolated equilibrium.

**Selection rules** for the row player's strategy (``SELECTIONS``).  A component's *centroid* is the
mean of its distinct extreme row strategies: for a segment, its midpoint (a vertex centroid, exact and
label-free; not the centre of mass when a component has more than two).  Each component counts once,
whatever its number of extreme points: that number reflects its shape, not its weight.

- ``"mixed"`` (default): the unique fully mixed *isolated* equilibrium (both players' supports full;
  a component that is one point) when there is exactly one; otherwise, when the equilibrium set is a
  single component, its centroid (a unique equilibrium is that point; a segment of equilibria along
  which the human is indifferent gives its midpoint, since no point of it is singled out); otherwise
  the mean of the components' centroids.  In nondegenerate games this is the rule as it always was:
  mutual defection in the Prisoner's Dilemma, the mixed equilibrium in Battle of the Sexes.
- ``"average"``: the mean of the components' centroids (in a nondegenerate game: of all equilibria).
- ``"payoff_dominant"``: the equilibrium with the highest sum of the two expected payoffs.  The sum
  is bilinear on each maximal Nash subset, so its maximum over the whole set is reached at extreme
  equilibria and only they are compared, exactly.  When the equilibria with the highest sum give the
  human different strategies (Battle of the Sexes: both pure equilibria sum to 17) that is a *tie*:
  it is reported (``Selection.tie`` and ``tied``, which the predictors put in their diagnostics)
  and broken by a label-free rule, never by list order: the human's own expected payoff (of equally
  efficient equilibria, the one the predicted player prefers), and what still ties (a fully
  symmetric game, or a segment of constant payoffs) is averaged.
- ``"first"``: the first extreme equilibrium in the order of nashpy's support enumeration (row
  support size, row support, column support, then the probabilities, larger first): arbitrary but
  reproducible, and in nondegenerate 2x2 games the equilibrium ``"first"`` always gave.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

from envs.vertex_enumeration import Key, Profile, Strategy, exact, extreme_equilibria

__all__ = ["SELECTIONS", "Component", "Selection", "Solution", "as_key", "choose", "components", "equilibria", "exact",
           "exact_matrix", "is_degenerate", "is_pure", "select", "select_equilibrium", "solve"]

SELECTIONS = ("mixed", "average", "payoff_dominant", "first")

Matrix = tuple[tuple[Fraction, ...], ...]


def as_key(matrix) -> Key:
    """A hashable copy of a payoff matrix."""
    return tuple(tuple(float(x) for x in r) for r in np.asarray(matrix, float))


def exact_matrix(matrix) -> Matrix:
    """A payoff matrix in exact rationals (``exact``)."""
    return tuple(tuple(exact(v) for v in r) for r in as_key(matrix))


@dataclass(frozen=True)
class Component:
    """A connected component of the equilibrium set, given by its extreme equilibria."""

    equilibria: tuple[Profile, ...]

    @property
    def isolated(self) -> bool:
        """One equilibrium, with no other equilibrium near it (then it is extreme)."""
        return len(self.equilibria) == 1

    @property
    def row_vertices(self) -> tuple[Strategy, ...]:
        return tuple(dict.fromkeys(x for x, _ in self.equilibria))

    @property
    def col_vertices(self) -> tuple[Strategy, ...]:
        return tuple(dict.fromkeys(y for _, y in self.equilibria))

    def row_centroid(self) -> Strategy:
        """The mean of the distinct extreme row strategies (a segment's midpoint)."""
        return _mean(self.row_vertices)

    @property
    def fully_mixed(self) -> bool:
        """Every extreme equilibrium in it gives both players full support (so does every point of it)."""
        return all(v > 0 for e in self.equilibria for s in e for v in s)


@dataclass(frozen=True)
class Solution:
    """All equilibria of one game: the extreme equilibria (in support-enumeration order), the components
    they span, and whether the game is degenerate."""

    equilibria: tuple[Profile, ...]
    components: tuple[Component, ...]
    degenerate: bool

    def n_pure(self) -> int:
        """Pure equilibria: all of them are extreme (a pure strategy is a vertex of its polytope)."""
        return sum(max(x) == 1 and max(y) == 1 for x, y in self.equilibria)


def components(eqs: Sequence[Profile]) -> tuple[Component, ...]:
    """Connected components of the bipartite graph of extreme equilibria (Avis et al., 2010), by union-find
    over the row and column vertices; in the order of their first extreme equilibrium."""
    parent: dict[tuple[int, Strategy], tuple[int, Strategy]] = {}

    def find(node):
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for x, y in eqs:
        parent[find((0, x))] = find((1, y))
    groups: dict = {}
    for e in eqs:
        groups.setdefault(find((0, e[0])), []).append(e)
    return tuple(Component(tuple(g)) for g in groups.values())


@lru_cache(maxsize=16384)
def _solve_game(row: Key, col: Key) -> Solution:
    eqs, degenerate = extreme_equilibria(row, col)
    return Solution(eqs, components(eqs), degenerate)


def solve(row, col) -> Solution:
    """All equilibria of the bimatrix game (row payoffs, column payoffs), exactly; cached per game."""
    return _solve_game(as_key(row), as_key(col))


def equilibria(row, col) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The extreme Nash equilibria as (row strategy, column strategy) float arrays, in nashpy's support-
    enumeration order; in a nondegenerate game, all equilibria.  See ``solve`` for the components."""
    return tuple((_floats(x), _floats(y)) for x, y in solve(row, col).equilibria)


def is_degenerate(row, col) -> bool:
    """Whether some mixed strategy with support size k has more than k pure best responses (von Stengel,
    2002): equivalently, whether a vertex of a best-response polytope has more labels than its dimension."""
    return solve(row, col).degenerate


# -- selection ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """The row player's strategy a selection rule picks, with how it was picked."""

    selection: str
    strategy: Strategy
    rule: str  # which clause of the rule decided
    tied: tuple[Strategy, ...] = ()  # ``payoff_dominant``: row strategies of all equilibria tied on the sum

    @property
    def tie(self) -> bool:
        return len(self.tied) > 1

    def as_array(self) -> np.ndarray:
        return _floats(self.strategy)


def _mean(strategies: Iterable[Strategy]) -> Strategy:
    strategies = list(strategies)
    return tuple(sum(c, Fraction(0)) / len(strategies) for c in zip(*strategies))


def _floats(s: Strategy) -> np.ndarray:
    return np.array([float(v) for v in s])


def _value(x: Strategy, y: Strategy, matrix: Matrix) -> Fraction:
    return sum((xi * sum((m * yj for m, yj in zip(r, y)), Fraction(0)) for xi, r in zip(x, matrix)), Fraction(0))


def _payoff_dominant(sol: Solution, row: Matrix, col: Matrix) -> Selection:
    """Highest payoff sum over the extreme equilibria; a tie (the tied equilibria give the human different
    strategies) is broken by the human's own payoff, then averaged."""
    total = {e: _value(*e, row) + _value(*e, col) for e in sol.equilibria}
    best = max(total.values())
    tied = [e for e in sol.equilibria if total[e] == best]
    tied_rows = tuple(dict.fromkeys(x for x, _ in tied))
    if len(tied_rows) == 1:
        return Selection("payoff_dominant", tied_rows[0], "highest payoff sum")
    own = {e: _value(*e, row) for e in tied}
    favourites = tuple(dict.fromkeys(e[0] for e in tied if own[e] == max(own.values())))
    rule = ("tie on the payoff sum, broken by the human's payoff" if len(favourites) == 1 else
            "tie on the payoff sum and the human's payoff: their average")
    return Selection("payoff_dominant", _mean(favourites), rule, tied_rows)


def choose(solution: Solution, selection: str, row: Matrix, col: Matrix) -> Selection:
    """Apply a selection rule to an equilibrium set (``row``/``col``: the exact payoffs, which only
    ``payoff_dominant`` reads); ``select`` is this on the game's own ``solve``."""
    if selection not in SELECTIONS:
        raise ValueError(f"unknown equilibrium selection {selection!r}; choose from {SELECTIONS}")
    if selection == "first":
        return Selection(selection, solution.equilibria[0][0], "first in support-enumeration order")
    if selection == "payoff_dominant":
        return _payoff_dominant(solution, row, col)
    comps = solution.components
    if selection == "mixed":
        mixed = [c for c in comps if c.isolated and c.fully_mixed]
        if len(mixed) == 1:
            return Selection(selection, mixed[0].equilibria[0][0], "the fully mixed isolated equilibrium")
        if len(comps) == 1:
            rule = "the unique equilibrium" if comps[0].isolated else "centroid of the only component"
            return Selection(selection, comps[0].row_centroid(), rule)
    return Selection(selection, _mean(c.row_centroid() for c in comps), "mean of the components' centroids")


@lru_cache(maxsize=16384)
def _select(row: Key, col: Key, selection: str) -> Selection:
    return choose(_solve_game(row, col), selection, exact_matrix(row), exact_matrix(col))


def select(row, col, selection: str = "mixed") -> Selection:
    """The row player's equilibrium strategy under the selection rule (see the module docstring), exactly,
    with the clause that decided and any tie; cached per game and rule (a ValueError for an unknown rule)."""
    return _select(as_key(row), as_key(col), selection)


def select_equilibrium(row, col, selection: str = "mixed") -> np.ndarray:
    """The row player's equilibrium strategy under the selection rule, as floats (see ``select``)."""
    return select(row, col, selection).as_array()


def is_pure(strategy) -> bool:
    """Whether a mixed strategy puts all its weight on one action."""
    return bool(np.isclose(float(np.max(np.asarray(strategy, float))), 1.0))
