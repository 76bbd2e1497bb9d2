"""All equilibria of bimatrix games, degenerate ones included (``envs.equilibria``, ``envs.vertex_enumeration``).

References independent of the code under test: pygambit's ``enummixed_solve`` (exact extreme equilibria),
nashpy's support enumeration (nondegenerate games), numpy's float solver, scipy's LP solver (degeneracy
by its definition), closed forms for 2x2 games, and exact best-response checks written here."""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

import nashpy
import numpy as np
import pytest
from scipy.optimize import linprog

from envs import equilibria as eq
from envs.repeated_matrix import GAMES
from envs.stage_game import StageGame
from envs.vertex_enumeration import _solve

F = Fraction
HALF = (F(1, 2), F(1, 2))


def random_games(shape, n, seed, high=10):
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, high + 1, shape).astype(float), rng.integers(0, high + 1, shape).astype(float))
            for _ in range(n)]


def gambit_extreme(row, col) -> set:
    """pygambit's extreme equilibria of the game, exactly."""
    pygambit = pytest.importorskip("pygambit")
    game = pygambit.Game.from_arrays([[F(repr(float(v))) for v in r] for r in row],
                                     [[F(repr(float(v))) for v in r] for r in col])
    first, second = (list(p.strategies) for p in game.players)
    return {(tuple(F(e[s]) for s in first), tuple(F(e[s]) for s in second))
            for e in pygambit.nash.enummixed_solve(game, rational=True).equilibria}


def is_nash(row, col, x, y) -> bool:
    """Exact best-response check: each strategy earns the best payoff available against the other."""
    a, b = eq.exact_matrix(row), eq.exact_matrix(col)
    row_values = [sum((v * q for v, q in zip(r, y)), F(0)) for r in a]
    col_values = [sum((b[i][j] * p for i, p in enumerate(x)), F(0)) for j in range(len(y))]
    return (sum(p * v for p, v in zip(x, row_values)) == max(row_values)
            and sum(q * v for q, v in zip(y, col_values)) == max(col_values))


# -- the extreme equilibria are pygambit's ----------------------------------------------------------

@pytest.mark.parametrize("shape,n,high", [((2, 2), 2500, 10), ((2, 2), 500, 2), ((2, 3), 400, 10),
                                          ((3, 2), 200, 4), ((3, 3), 300, 10), ((2, 1), 100, 3),
                                          ((1, 3), 100, 3)])
def test_extreme_equilibria_are_gambits_enummixed(shape, n, high):
    degenerate = 0
    for row, col in random_games(shape, n, seed=sum(shape) * 1000 + high, high=high):
        solution = eq.solve(row, col)
        assert len(set(solution.equilibria)) == len(solution.equilibria)  # no point twice
        assert set(solution.equilibria) == gambit_extreme(row, col), (row.tolist(), col.tolist())
        degenerate += solution.degenerate
    assert degenerate > n // 10  # the comparison covers many degenerate games


def test_decimal_and_negative_payoffs_tie_exactly():
    rng = np.random.default_rng(7)
    for _ in range(200):
        row, col = rng.integers(-10, 11, (2, 2)) / 10, rng.integers(-10, 11, (2, 2)) / 10 + 0.2
        assert set(eq.solve(row, col).equilibria) == gambit_extreme(row, col)
    # Against P(row 0) = 1/2 the column player's three payoffs are all 0.3 — in decimals; in binary
    # (0.1 + 0.5) / 2, 0.3 and (0.2 + 0.4) / 2 differ, and the segment would split into two points
    row, col = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 2.0]]), np.array([[0.1, 0.3, 0.2], [0.5, 0.3, 0.4]])
    sol = eq.solve(row, col)
    assert sol.degenerate and len(sol.components) == 1 and sol.components[0].row_vertices == (HALF,)
    assert set(sol.equilibria) == gambit_extreme(row, col)


def test_every_extreme_equilibrium_and_every_edge_of_a_component_is_an_equilibrium():
    """Two extreme equilibria that share a strategy span a segment of equilibria (Winkels, 1979): the
    components are connected through such pairs, checked here by exact best responses."""
    for row, col in random_games((3, 3), 150, seed=11, high=3):
        for comp in eq.solve(row, col).components:
            for e in comp.equilibria:
                assert is_nash(row, col, *e)
            for (x1, y1), (x2, y2) in combinations(comp.equilibria, 2):
                if x1 == x2 or y1 == y2:
                    mid = tuple((u + v) / 2 for u, v in zip(x1, x2)), tuple((u + v) / 2 for u, v in zip(y1, y2))
                    assert is_nash(row, col, *mid)


def test_bareiss_solver_against_numpy():
    rng = np.random.default_rng(3)
    for _ in range(3000):
        k = int(rng.integers(1, 6))
        m = rng.integers(1, 6, (k, k))
        got = _solve(m.tolist())
        if np.linalg.matrix_rank(m) < k:
            assert got is None
        else:
            nums, det = got
            assert det > 0 and np.allclose([n / det for n in nums], np.linalg.solve(m, np.ones(k)), atol=1e-9)


# -- degeneracy -------------------------------------------------------------------------------------

def test_degeneracy_of_2x2_games_is_a_payoff_tie_against_a_pure_strategy():
    """In a 2x2 game only a pure strategy can have more best responses than its support size (two): the
    game is degenerate iff a player is indifferent against one of the other's pure strategies."""
    for row, col in random_games((2, 2), 3000, seed=5):
        tie = bool(np.any(row[0] == row[1]) or np.any(col[:, 0] == col[:, 1]))
        assert eq.is_degenerate(row, col) == tie


def lp_degenerate(row, col) -> bool:
    """Von Stengel's definition by brute force: some mixed strategy with support S (|S| = k) has k + 1
    pure best responses T — an LP maximising the smallest weight on S with every j in T a best response."""
    for mine, theirs in ((col, row), (row.T, col.T)):  # (opponent's payoffs by my strategy, ...)
        m, n = mine.shape
        for k in range(1, m + 1):
            for support in combinations(range(m), k):
                for best in combinations(range(n), k + 1):
                    # variables: x (m), v, t; maximise t
                    c = np.zeros(m + 2)
                    c[-1] = -1
                    a_ub = [np.r_[mine[:, j], -1, 0] for j in range(n)]  # payoff of j <= v
                    a_ub += [np.r_[-np.eye(m)[i], 0, 1] for i in support]  # t <= x_i
                    a_eq = [np.r_[mine[:, j], -1, 0] for j in best] + [np.r_[np.ones(m), 0, 0]]
                    a_eq += [np.eye(m + 2)[i] for i in range(m) if i not in support]
                    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(len(a_ub)), A_eq=a_eq,
                                  b_eq=np.r_[np.zeros(len(best)), 1, np.zeros(m - k)],
                                  bounds=[(0, None)] * m + [(None, None), (None, 1)])
                    if res.status == 0 and -res.fun > 1e-9:
                        return True
    return False


@pytest.mark.parametrize("shape", [(2, 3), (3, 3)])
def test_degeneracy_matches_its_definition(shape):
    games = random_games(shape, 40, seed=21, high=4)
    flags = [eq.is_degenerate(r, c) for r, c in games]
    assert flags == [lp_degenerate(r, c) for r, c in games]
    assert 0 < sum(flags) < len(flags)


# -- selections -------------------------------------------------------------------------------------

def old_rule(eqs, selection):
    """The selection rules as they were for nondegenerate games, on nashpy's support enumeration."""
    rows = [np.asarray(e[0], float) for e in eqs]
    if selection == "first":
        return rows[0]
    if selection == "mixed":
        mixed = [e for e in eqs if np.all(e[0] > 0) and np.all(e[1] > 0)]
        if len(mixed) == 1:
            return mixed[0][0]
        if len(eqs) == 1:
            return rows[0]
    return np.mean(rows, axis=0)


def test_nondegenerate_2x2_games_keep_the_support_enumeration_answers():
    for row, col in random_games((2, 2), 300, seed=31, high=10**6):
        assert not eq.is_degenerate(row, col)
        support = list(nashpy.Game(row, col).support_enumeration())
        assert len(eq.equilibria(row, col)) == len(support) == len(eq.solve(row, col).components)
        for selection in ("mixed", "average", "first"):
            assert np.allclose(eq.select_equilibrium(row, col, selection), old_rule(support, selection), atol=1e-9)
        sums = [s @ (row + col) @ t for s, t in support]
        assert np.allclose(eq.select_equilibrium(row, col, "payoff_dominant"), support[int(np.argmax(sums))][0])
        assert not eq.select(row, col, "payoff_dominant").tie


@pytest.mark.parametrize("shape", [(2, 3), (3, 3)])
def test_nondegenerate_larger_games_keep_the_old_rules_on_gambits_set(shape):
    """Beyond 2x2 nashpy's support enumeration (float tolerance 1e-16) drops equilibria of some
    nondegenerate games, so the old rules are applied to pygambit's set instead."""
    for row, col in random_games(shape, 150, seed=31, high=10**6):
        assert not eq.is_degenerate(row, col)
        ref = [(np.array(x, float), np.array(y, float)) for x, y in gambit_extreme(row, col)]
        assert len(eq.solve(row, col).components) == len(ref)
        for selection in ("mixed", "average"):
            assert np.allclose(eq.select_equilibrium(row, col, selection), old_rule(ref, selection), atol=1e-9)
        sums = [s @ (row + col) @ t for s, t in ref]
        assert np.allclose(eq.select_equilibrium(row, col, "payoff_dominant"), ref[int(np.argmax(sums))][0])


def test_a_segment_of_equilibria_gives_its_midpoint():
    """The human is indifferent everywhere, the other has a dominant strategy: every human mix is an
    equilibrium strategy (one component, a segment), and no point of it is singled out."""
    game = StageGame([[3, 3], [3, 3]], [[1, 0], [1, 0]], ("a", "b"))
    assert game.is_degenerate() and len(game.components()) == 1 and len(game.equilibria()) == 2
    assert set(eq.solve(game.row, game.col).equilibria) == gambit_extreme(game.row, game.col)
    for selection in ("mixed", "average", "payoff_dominant"):
        assert game.equilibrium(selection) == {"a": 0.5, "b": 0.5}
    assert game.equilibrium_notes("mixed")["selected_by"] == "centroid of the only component"
    assert game.equilibrium("first") == {"a": 1.0, "b": 0.0}  # support (0,) comes first


def test_a_component_with_three_human_vertices_gives_their_mean():
    """Human indifferent; the other plays L when P(a) >= 1/5, R when below: the equilibria form one
    component whose extreme human strategies are P(a) = 1, 1/5, 0, and ``mixed`` is their mean, 2/5."""
    row, col = np.zeros((2, 2)), np.array([[4.0, 0.0], [0.0, 1.0]])
    (comp,) = eq.solve(row, col).components
    assert sorted(x[0] for x in comp.row_vertices) == [0, F(1, 5), 1]
    assert set(comp.equilibria) == gambit_extreme(row, col)
    assert eq.select(row, col, "mixed").strategy == (F(2, 5), F(3, 5))


def test_chain_store_game_two_components_and_a_three_way_tie():
    """Entrant (human: In, Out) against incumbent (Fight, Accommodate): (In, Acc) is isolated; Out with
    any P(Fight) >= 1/2 is a segment.  Every equilibrium sums to 2: a tie, broken by the entrant's payoff."""
    row, col = np.array([[-1.0, 1.0], [0.0, 0.0]]), np.array([[-1.0, 1.0], [2.0, 2.0]])
    sol = eq.solve(row, col)
    assert set(sol.equilibria) == gambit_extreme(row, col) == {
        ((1, 0), (0, 1)), ((0, 1), (1, 0)), ((0, 1), HALF)}
    assert sol.degenerate and [len(c.equilibria) for c in sol.components] == [1, 2] and sol.n_pure() == 2
    assert eq.select(row, col, "mixed").strategy == HALF  # two components, no fully mixed one: their mean
    assert eq.select(row, col, "average").strategy == HALF
    assert eq.select(row, col, "first").strategy == (1, 0)
    pd = eq.select(row, col, "payoff_dominant")
    assert pd.tie and set(pd.tied) == {(1, 0), (0, 1)} and pd.strategy == (1, 0)  # In pays the entrant 1 > 0


def test_battle_of_the_sexes_tie_is_reported_and_not_resolved_by_order():
    game = GAMES["BoS"]  # pure equilibria (J, J) pays (7, 10), (F, F) pays (10, 7): both sum to 17
    chosen = game.selected("payoff_dominant")
    assert chosen.tie and set(chosen.tied) == {(1, 0), (0, 1)}
    assert game.equilibrium("payoff_dominant") == {"J": 0.0, "F": 1.0}  # the human's favourite, 10 points
    notes = game.equilibrium_notes("payoff_dominant")
    assert notes["tie"] is True and notes["tied"] == [{"J": 1.0, "F": 0.0}, {"J": 0.0, "F": 1.0}]
    # from the other side the other favourite: the rule follows the payoffs, not the order of the list
    assert game.transposed().equilibrium("payoff_dominant") == {"J": 1.0, "F": 0.0}
    swapped = StageGame(game.row[::-1, ::-1], game.col[::-1, ::-1], ("F", "J"))  # actions listed the other way
    assert swapped.equilibrium("payoff_dominant") == {"F": 1.0, "J": 0.0}
    assert game.equilibrium_notes("mixed")["tie"] is False and "tied" not in game.equilibrium_notes("mixed")


def test_a_tie_nothing_breaks_is_averaged():
    coordination = StageGame([[1, 0], [0, 1]], [[1, 0], [0, 1]], ("a", "b"))
    chosen = coordination.selected("payoff_dominant")
    assert chosen.tie and chosen.strategy == HALF and chosen.rule.endswith("their average")
    blank = StageGame(np.zeros((2, 2)), np.zeros((2, 2)), ("a", "b"))  # every profile is an equilibrium
    assert len(blank.components()) == 1 and blank.n_pure_equilibria() == 4
    assert blank.equilibrium("payoff_dominant") == blank.equilibrium("mixed") == {"a": 0.5, "b": 0.5}


def test_unknown_selection_is_refused():
    with pytest.raises(ValueError, match="unknown equilibrium selection"):
        eq.select(*GAMES["PD"].matrices(), "best")
