"""Benchmark: equilibrium sets of random integer games, before and after exact vertex enumeration.

    python benchmarks/degenerate_games.py                      # 2,000 2x2 games, payoffs 0..10, seed 0
    python benchmarks/degenerate_games.py --games 200 --sizes 2x2 2x3 3x3 --seed 1

Needs pygambit (the ``[qre]`` extra): its ``enummixed_solve`` (exact rationals) is the reference set of
extreme equilibria.  For each game size the table counts the games, the degenerate ones
(``envs.equilibria.is_degenerate``) and, for three ways of computing the equilibria, the games whose
set differs from pygambit's ("before subset": is a strict subset of it) and whose ``mixed`` selection
differs from the same rule applied to pygambit's set:

- before: nashpy's support enumeration with vertex enumeration as a fallback when it finds nothing,
  and the ``mixed`` rule as ``envs/equilibria.py`` had them before this benchmark existed (unique
  fully mixed equilibrium, else the unique equilibrium, else the mean of all);
- nashpy-vertex: nashpy's ``vertex_enumeration`` alone (floating point, qhull), set only;
- after: ``envs.equilibria`` (exact vertex enumeration, the ``mixed`` rule over components).

"mixed changed" counts the games whose ``mixed`` prediction moved from before to after.  Sets are
compared after rounding to 9 decimals (duplicates merged); strategies to within 1e-9.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from fractions import Fraction
from pathlib import Path

import nashpy
import numpy as np
import pygambit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from envs import equilibria  # noqa: E402


def gambit_solution(row: np.ndarray, col: np.ndarray) -> equilibria.Solution:
    """pygambit's extreme equilibria (exact), with components and degeneracy computed as ``envs.equilibria`` does."""
    game = pygambit.Game.from_arrays(row.astype(int).tolist(), col.astype(int).tolist())
    first, second = (list(p.strategies) for p in game.players)
    eqs = tuple((tuple(Fraction(e[s]) for s in first), tuple(Fraction(e[s]) for s in second))
                for e in pygambit.nash.enummixed_solve(game, rational=True).equilibria)
    return equilibria.Solution(eqs, equilibria.components(eqs), equilibria.is_degenerate(row, col))


def before_equilibria(row: np.ndarray, col: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The equilibria as the code had them: support enumeration, vertex enumeration if it found none."""
    game = nashpy.Game(row, col)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nashpy warns of degenerate games, the very case measured here
        eqs = list(game.support_enumeration())
        return eqs or list(game.vertex_enumeration())


def before_mixed(eqs) -> np.ndarray:
    """The ``mixed`` rule as the code had it."""
    mixed = [e for e in eqs if np.all(np.asarray(e[0]) > 0) and np.all(np.asarray(e[1]) > 0)]
    if len(mixed) == 1:
        return np.asarray(mixed[0][0], float)
    if len(eqs) == 1:
        return np.asarray(eqs[0][0], float)
    return np.mean([np.asarray(e[0], float) for e in eqs], axis=0)


def as_set(eqs) -> frozenset:
    return frozenset((tuple(np.round(np.asarray(x, float), 9)), tuple(np.round(np.asarray(y, float), 9)))
                     for x, y in eqs)


def nashpy_vertices(row: np.ndarray, col: np.ndarray):
    """nashpy's vertex enumeration, or None where it fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # qhull divides by zero on polytopes with a zero payoff row
            return list(nashpy.Game(row, col).vertex_enumeration())
    except Exception:  # noqa: BLE001 - qhull errors on some degenerate polytopes: counted, not fatal
        return None


def measure(m: int, n: int, games: int, seed: int, high: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(("games", "degenerate", "before set", "before subset", "before mixed", "nashpy-vertex set",
                            "nashpy-vertex failed", "after set", "after mixed", "mixed changed"), 0)
    start = time.perf_counter()
    for _ in range(games):
        row, col = (rng.integers(0, high + 1, (m, n)).astype(float) for _ in range(2))
        ref = gambit_solution(row, col)
        ref_set = as_set(ref.equilibria)
        counts["games"] += 1
        counts["degenerate"] += ref.degenerate
        old = before_equilibria(row, col)
        old_mixed = before_mixed(old)
        ref_floats = [(np.array(x, float), np.array(y, float)) for x, y in ref.equilibria]
        counts["before set"] += as_set(old) != ref_set
        counts["before subset"] += as_set(old) < ref_set
        counts["before mixed"] += not np.allclose(old_mixed, before_mixed(ref_floats), atol=1e-9)
        vertices = nashpy_vertices(row, col)
        counts["nashpy-vertex failed"] += vertices is None
        counts["nashpy-vertex set"] += vertices is not None and as_set(vertices) != ref_set
        new = equilibria.solve(row, col)
        new_mixed = equilibria.select_equilibrium(row, col, "mixed")
        exact_payoffs = equilibria.exact_matrix(row), equilibria.exact_matrix(col)
        ref_mixed = equilibria.choose(ref, "mixed", *exact_payoffs).as_array()
        counts["after set"] += set(new.equilibria) != set(ref.equilibria)
        counts["after mixed"] += not np.allclose(new_mixed, ref_mixed, atol=1e-9)
        counts["mixed changed"] += not np.allclose(new_mixed, old_mixed, atol=1e-9)
    counts["seconds"] = round(time.perf_counter() - start, 1)
    return counts


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--games", type=int, default=2000, help="random games per size")
    ap.add_argument("--sizes", nargs="+", default=["2x2"], help="game sizes, rows x columns")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--high", type=int, default=10, help="payoffs are integers 0..high")
    args = ap.parse_args(argv)
    rows = {size: measure(*map(int, size.split("x")), args.games, args.seed, args.high) for size in args.sizes}
    columns = list(next(iter(rows.values())))
    print(f"random games, integer payoffs 0..{args.high}, seed {args.seed}; "
          "'set'/'mixed': games differing from pygambit's enummixed")
    print(" | ".join(["size", *columns]))
    for size, counts in rows.items():
        print(" | ".join([size, *(str(counts[c]) for c in columns)]))


if __name__ == "__main__":
    main()
