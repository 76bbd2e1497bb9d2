"""Exact vertex enumeration of a bimatrix game: its extreme Nash equilibria, and whether it is degenerate.

The algorithm (Mangasarian, 1964; von Stengel, 2002, "Computing equilibria for two-person games",
Handbook of Game Theory 3, ch. 45, Alg. 3.5; Nisan et al., Algorithmic Game Theory, 2007, Alg. 3.5):
with the payoffs shifted to be positive, the best-response polytopes are ``P = {x >= 0 : Bᵀx <= 1}``
(row player) and ``Q = {y >= 0 : Ay <= 1}`` (column player).  A point's *labels* are the pure
strategies it does not play and the opponent's pure strategies that are best responses to it; the
extreme equilibria are the completely labelled pairs of nonzero vertices, normalised.  Unlike
support enumeration it needs no nondegeneracy assumption, and a game is degenerate exactly when a
vertex has more labels than its polytope's dimension (a mixed strategy with support size k and more
than k pure best responses).  nashpy's ``vertex_enumeration`` implements the same idea in floating
point with qhull, but shifts the payoffs only when some are negative, so an all-zero payoff row or
column leaves a polytope unbounded and its vertices lost (44 of 2,000 random 2x2 games with payoffs
0..10, ``benchmarks/degenerate_games.py``); here the payoffs are shifted to at least 1 and every
basis is solved in integer arithmetic (fraction-free elimination), so ties are exact.

Every basis is tried: C(m+n, m) linear systems per polytope, so the cost grows about fourfold per
added row and column: under a millisecond for 2x2, 10 ms at 5x5, half a second at 8x8, ten seconds
at 10x10 (measured on random integer games).  Pure functions of hashable payoff tables;
``envs.equilibria`` caches them per game.
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import combinations
from typing import Sequence

Key = tuple[tuple[float, ...], ...]
Strategy = tuple[Fraction, ...]
Profile = tuple[Strategy, Strategy]  # (row strategy, column strategy)
IntMatrix = tuple[tuple[int, ...], ...]


def exact(value: float) -> Fraction:
    """A payoff as the rational number its shortest decimal spells: ``0.1`` is 1/10, not the binary
    0.1000000000000000055…, so decimal data ties exactly where it looks tied."""
    return Fraction(repr(float(value)))


def _solve(rows: Sequence[Sequence[int]]) -> tuple[list[int], int] | None:
    """``rows · z = 1`` (a square integer system) by fraction-free Gauss–Jordan elimination (Bareiss,
    1968: every intermediate entry is a minor, so the divisions are exact): z = numerators / det, with
    det > 0; None if singular.  Integers rather than ``Fraction``s: ten times faster, still exact."""
    k = len(rows)
    a = [list(r) + [1] for r in rows]
    prev = 1
    for c in range(k):
        pivot = next((r for r in range(c, k) if a[r][c]), None)
        if pivot is None:
            return None
        a[c], a[pivot] = a[pivot], a[c]
        p = a[c][c]
        for r in range(k):
            if r != c:
                f = a[r][c]
                a[r] = [(p * u - f * v) // prev for u, v in zip(a[r], a[c])]
        prev = p
    det = a[0][0]  # every diagonal entry is now the determinant (up to the swaps' sign)
    return ([r[k] for r in a], det) if det > 0 else ([-r[k] for r in a], -det)


def _vertices(m: IntMatrix) -> dict[Strategy, tuple[frozenset[int], frozenset[int]]]:
    """The nonzero vertices of ``{z >= 0 : m·z <= 1}`` (``m`` positive, so the polytope is bounded), each
    with its zero coordinates and its tight rows.  A vertex with support S has |S| linearly independent
    tight rows on S, so solving ``m[T, S]·z_S = 1`` for every |T| = |S| finds them all."""
    n_rows, dim = len(m), len(m[0])
    out: dict[Strategy, tuple[frozenset[int], frozenset[int]]] = {}
    for size in range(1, min(n_rows, dim) + 1):
        for support in combinations(range(dim), size):
            for tight in combinations(range(n_rows), size):
                solved = _solve([[m[t][s] for s in support] for t in tight])
                if solved is None or min(solved[0]) < 0:
                    continue
                nums, det = solved
                values = [sum(r[s] * v for s, v in zip(support, nums)) for r in m]  # m·z times det
                if max(values) > det:
                    continue
                z = [Fraction(0)] * dim
                for s, v in zip(support, nums):
                    z[s] = Fraction(v, det)
                out.setdefault(tuple(z), (frozenset(i for i in range(dim) if z[i] == 0),
                                          frozenset(j for j, v in enumerate(values) if v == det)))
    return out


def _positive_integers(matrix: Key) -> IntMatrix:
    """The payoffs (read by ``exact``) shifted to be at least 1 and scaled to integers: best responses,
    hence equilibria and degeneracy, do not change."""
    exact_rows = [[exact(v) for v in r] for r in matrix]
    low = min(min(r) for r in exact_rows)
    scale = math.lcm(*(v.denominator for r in exact_rows for v in r))
    return tuple(tuple(int((v - low + 1) * scale) for v in r) for r in exact_rows)


def _normalised(z: Strategy) -> Strategy:
    total = sum(z)
    return tuple(v / total for v in z)


def _support(s: Strategy) -> tuple[int, ...]:
    return tuple(i for i, v in enumerate(s) if v != 0)


def _order(profile: Profile) -> tuple:
    """nashpy's support-enumeration order (row support size, row support, column support), then the
    probabilities, larger first."""
    x, y = profile
    return len(_support(x)), _support(x), len(_support(y)), _support(y), tuple(-v for v in x), tuple(-v for v in y)


# -- the equilibrium set -----------------------------------------------------------------------------


def extreme_equilibria(row: Key, col: Key) -> tuple[tuple[Profile, ...], bool]:
    """The extreme equilibria of the game (row payoffs, column payoffs), exactly and in support-enumeration
    order, and whether the game is degenerate."""
    a, b = _positive_integers(row), _positive_integers(col)
    m, n = len(a), len(a[0])
    # P (row player): labels i for x_i = 0, m + j for column j a best response
    p = {x: zeros | {m + j for j in tight} for x, (zeros, tight) in _vertices(tuple(zip(*b))).items()}
    # Q (column player): labels i for row i a best response, m + j for y_j = 0
    q = {y: tight | {m + j for j in zeros} for y, (zeros, tight) in _vertices(a).items()}
    everything = set(range(m + n))
    eqs = sorted(((_normalised(x), _normalised(y)) for x, lx in p.items() for y, ly in q.items()
                  if lx | ly == everything), key=_order)
    degenerate = any(len(lx) > m for lx in p.values()) or any(len(ly) > n for ly in q.values())
    return tuple(eqs), degenerate
