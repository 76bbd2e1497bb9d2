"""The logit quantal-response-equilibrium predictor (``type: qre``)."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
from scipy import optimize
from scipy.special import expit

# pygambit is both what the predictor traces QREs with and these tests' reference: without the
# [qre] extra there is nothing to test here (tests/test_install_extras.py checks the error instead).
pygambit = pytest.importorskip("pygambit", reason="the [qre] extra is not installed")

from envs.records import DecisionPoint
from envs.repeated_matrix import GAMES
from predictors.feature_logit import fold_of
from envs.equilibria import equilibria
from predictors.qre import QREPredictor, qre_path, qre_row_strategy
from predictors.registry import allowed_keys, build

PD = GAMES["PD"].matrices()
BOS = GAMES["BoS"].matrices()


def reference_qre(row, col, lam, steps=400):
    """The 2x2 logit QRE on the principal branch, written independently of the predictor:
    solve p = σ(λ·Δu_row(q)), q = σ(λ·Δu_col(p)) with scipy, continuing in λ from the uniform profile."""
    row, col = np.asarray(row, float), np.asarray(col, float)

    def eqs(z, t):
        p, q = expit(z[0]), expit(z[1])  # P(row plays action 0), P(column plays action 0)
        du_row = q * (row[0, 0] - row[1, 0]) + (1 - q) * (row[0, 1] - row[1, 1])
        du_col = p * (col[0, 0] - col[0, 1]) + (1 - p) * (col[1, 0] - col[1, 1])
        return [z[0] - t * du_row, z[1] - t * du_col]

    z = np.zeros(2)
    for t in np.linspace(0, lam, steps + 1)[1:]:
        z = optimize.fsolve(eqs, z, args=(t,), xtol=1e-13)
    assert np.allclose(eqs(z, lam), 0, atol=1e-9)
    return np.array([expit(z[0]), 1 - expit(z[0])]), np.array([expit(z[1]), 1 - expit(z[1])])


def decision(i, participant, game, action, family="repeated_matrix", **kw):
    g = GAMES[game]
    return DecisionPoint(
        decision_id=f"{participant}/{game}/{i}", trajectory_id=f"{participant}/{game}", family=family,
        game=game, participant_id=participant, role="row", round=i + 1, legal_actions=("J", "F"),
        human_action=action, affirmative="J", params=g.to_params(), history=(), **kw)


def synthetic(lam, n_people=300, per_game=5, seed=0, games=("PD", "BoS")):
    """Choices drawn from the QRE at a known λ."""
    rng = np.random.default_rng(seed)
    out = []
    for n in range(n_people):
        for game in games:
            p_j = qre_row_strategy(*GAMES[game].matrices(), lam)[0]
            out += [decision(i, f"s{n}", game, "J" if rng.random() < p_j else "F") for i in range(per_game)]
    return out


# --- the equilibrium itself ---------------------------------------------------------------------------

def test_lambda_zero_is_uniform():
    for row, col in (PD, BOS):
        assert qre_row_strategy(row, col, 0.0) == pytest.approx([0.5, 0.5], abs=0)
        assert qre_row_strategy(row, col, 1e-7) == pytest.approx([0.5, 0.5], abs=1e-5)  # pygambit's trace
    pred = QREPredictor()
    pred.lambdas[("repeated_matrix", fold_of("a", 10))] = 0.0
    pred.at_bound[("repeated_matrix", fold_of("a", 10))] = False
    assert pred.predict([decision(0, "a", "PD", "J")])[0].probs == {"J": 0.5, "F": 0.5}


def test_prisoners_dilemma_approaches_the_dominant_strategy():
    lams = [0.05, 0.2, 0.5, 1.0, 2.0, 5.0]
    p_defect = qre_path(*PD, lams)[:, 1]
    assert np.all(np.diff(p_defect) > 0)  # more precision, more defection
    assert p_defect[0] < 0.75 and p_defect[-1] > 1 - 1e-9


def test_battle_of_the_sexes_limit_is_the_equilibrium_gambit_selects():
    row, col = BOS
    limit = pygambit.nash.logit_solve(pygambit.Game.from_arrays(row, col)).equilibria[0]
    players = list(limit.game.players)
    gambit_row = np.array([limit[s] for s in players[0].strategies], float)
    gambit_col = np.array([limit[s] for s in players[1].strategies], float)
    # it is one of the three equilibria nashpy enumerates (two pure, one mixed) ...
    eqs = equilibria(row, col)
    assert len(eqs) == 3
    assert sum(np.allclose(gambit_row, s, atol=1e-6) and np.allclose(gambit_col, t, atol=1e-6) for s, t in eqs) == 1
    # ... the pure one where both play F (the human's favourite, 10 points): not the mixed one nash predicts
    assert gambit_row == pytest.approx([0, 1], abs=1e-6) and gambit_col == pytest.approx([0, 1], abs=1e-6)
    assert qre_row_strategy(row, col, 5.0) == pytest.approx(gambit_row, abs=1e-6)
    assert qre_row_strategy(row, col, 2.0)[1] > 0.999


@pytest.mark.parametrize("game,lam", [("PD", 0.3), ("BoS", 0.1), ("BoS", 0.2), ("random", 0.7)])
def test_matches_an_independent_fixed_point(game, lam):
    if game == "random":
        rng = np.random.default_rng(3)
        row, col = rng.integers(0, 10, (2, 2)).astype(float), rng.integers(0, 10, (2, 2)).astype(float)
    else:
        row, col = GAMES[game].matrices()
    p_ref, q_ref = reference_qre(row, col, lam)
    assert 0.01 < p_ref[0] < 0.99  # a moderate λ: interior, informative
    assert qre_row_strategy(row, col, lam) == pytest.approx(p_ref, abs=1e-6)
    # the column player's side, through the transposed game (the column player as row player)
    assert qre_row_strategy(col.T, row.T, lam) == pytest.approx(q_ref, abs=1e-6)


def test_past_the_battle_of_the_sexes_pitchfork_the_branch_to_gambits_equilibrium_is_followed():
    """This BoS is symmetric under swapping players and actions, so the symmetric QRE branch forks: past
    the fork (between λ = 0.2 and 0.4) a naive continuation in λ stays on the symmetric branch (towards
    the mixed equilibrium), while the predictor follows the branch towards the pure equilibrium gambit's
    logit_solve ends in (both play F). Both are QREs; the test checks which one, and that it is one."""
    row, col = BOS
    p_sym, _ = reference_qre(row, col, 0.4)
    p = qre_row_strategy(row, col, 0.4)
    q_j = expit(0.4 * (p @ (col[:, 0] - col[:, 1])))  # the column player's logit response to p
    q = np.array([q_j, 1 - q_j])
    assert p[0] < p_sym[0] - 0.2 and q[1] > 0.5  # off the symmetric branch, towards (F, F)
    assert p[0] == pytest.approx(expit(0.4 * ((row[0] - row[1]) @ q)), abs=1e-6)  # a fixed point: a QRE


def test_a_bifurcation_where_gambits_tracer_stalls_is_continued():
    anti = np.array([[0.0, 1.0], [1.0, 0.0]])  # symmetric anti-coordination: pitchfork at λ = 2
    lams = [0.5, 1.9, 2.5, 4.0]
    path = qre_path(anti, anti, lams)
    assert path == pytest.approx(np.full((4, 2), 0.5), abs=1e-6)  # the symmetric QRE continues at ½
    for lam, strat in zip(lams, path):
        q = strat  # symmetric game, symmetric profile: the other's mix is the same
        du = (anti[0] - anti[1]) @ q
        assert strat[0] == pytest.approx(expit(lam * du), abs=1e-8)


# --- fitting --------------------------------------------------------------------------------------------

def test_fitted_lambda_recovers_the_generating_one():
    truth = 0.3
    pred = QREPredictor(folds=5)
    pred.fit(synthetic(truth))
    lams = np.array(list(pred.lambdas.values()))
    assert len(lams) == 5
    assert np.all(np.abs(lams - truth) < 0.06), lams
    assert not any(pred.at_bound.values())
    # a different truth gives a clearly different estimate
    pred.fit(synthetic(0.08, seed=1))
    assert np.all(np.abs(np.array(list(pred.lambdas.values())) - 0.08) < 0.03)


def test_one_game_fit_agrees_with_gambits_own_estimator():
    dps = synthetic(0.2, n_people=200, per_game=3, games=("PD",), seed=2)
    pred = QREPredictor(folds=3)
    pred.fit(dps)
    game = pygambit.Game.from_arrays(*PD)
    for k in range(3):
        train = [dp for dp in dps if fold_of(dp.participant_id, 3) != k]
        n_j = sum(dp.human_action == "J" for dp in train)
        data = game.mixed_strategy_profile(data=[[n_j, len(train) - n_j], [0, 0]])  # only the row player observed
        ref = pygambit.qre.logit_estimate(data).lam
        assert pred.lambdas[("repeated_matrix", k)] == pytest.approx(ref, rel=0.02)


def test_aggregate_rates_count_as_that_many_choices():
    dps = synthetic(0.25, n_people=60, per_game=10, seed=4)
    individual = QREPredictor(folds=4)
    individual.fit(dps)
    rates = []
    for n in range(60):
        for game in ("PD", "BoS"):
            mine = [dp for dp in dps if dp.participant_id == f"s{n}" and dp.game == game]
            share = sum(dp.human_action == "J" for dp in mine) / len(mine)
            rates.append(decision(0, f"s{n}", game, "J" if share >= 0.5 else "F", human_rate=share, n_people=len(mine)))
    aggregate = QREPredictor(folds=4)
    aggregate.fit(rates)
    assert aggregate.lambdas == pytest.approx(individual.lambdas, rel=1e-9)


def test_never_fitted_on_the_person_it_predicts(akata_decisions):
    pred = QREPredictor()
    pred.fit(akata_decisions)
    target = akata_decisions[0]
    mine = [dp for dp in akata_decisions if dp.participant_id == target.participant_id]
    before = [p.probs for p in pred.predict(mine)]
    flip = {"J": "F", "F": "J"}
    # flip every choice of this participant: their own predictions must not move at all
    flipped = [replace(dp, human_action=flip[dp.human_action]) if dp.participant_id == target.participant_id
               else dp for dp in akata_decisions]
    pred.fit(flipped)
    assert [p.probs for p in pred.predict(mine)] == before
    # ... while flipping someone in another fold moves this participant's λ and predictions
    k = fold_of(target.participant_id, pred.folds)
    other = next(dp.participant_id for dp in akata_decisions if fold_of(dp.participant_id, pred.folds) != k)
    pred.fit([replace(dp, human_action=flip[dp.human_action]) if dp.participant_id == other else dp
              for dp in akata_decisions])
    after = pred.predict(mine)
    assert after[0].diagnostics["fold"] == k
    assert any(p.probs != pytest.approx(b) for p, b in zip(after, before))


def test_runs_on_the_real_repeated_games(akata_decisions):
    dps = akata_decisions
    assert len(dps) == 3900
    pred = QREPredictor()
    t0 = time.perf_counter()
    pred.validate(dps)
    pred.fit(dps)
    preds = pred.predict(dps)
    elapsed = time.perf_counter() - t0
    assert elapsed < 30, f"fit + predict on 3,900 decisions took {elapsed:.1f}s"
    assert len(pred.lambdas) == 10
    for p, dp in zip(preds, dps):
        lam = p.diagnostics["lambda"]
        assert lam == pred.lambdas[(dp.family, p.diagnostics["fold"])]
        assert p.diagnostics["fold"] == fold_of(dp.participant_id, 10)
        assert p.probs == pytest.approx(dict(zip(("J", "F"), qre_row_strategy(*GAMES[dp.game].matrices(), lam))))
    # people cooperate about half the time in the PD: the best precision is low, well inside the bounds
    assert all(0 < lam < 0.2 for lam in pred.lambdas.values())
    assert pred.describe()["fitted_lambda"]["repeated_matrix"] == {k: pred.lambdas[("repeated_matrix", k)]
                                                                    for k in range(10)}


# --- configuration and validation -----------------------------------------------------------------------

def test_registered_and_configurable():
    assert {"folds", "lambda_max", "grid_size", "name"} <= set(allowed_keys("qre"))
    pred = build("qre", folds=4, lambda_max=2.0)
    assert isinstance(pred, QREPredictor) and pred.folds == 4 and pred.name == "qre"
    with pytest.raises(ValueError, match="folds"):
        QREPredictor(folds=1)
    with pytest.raises(ValueError, match="lambda_max"):
        QREPredictor(lambda_max=0)


def test_lambda_max_bounds_the_fit():
    pred = QREPredictor(folds=3, lambda_max=0.1)
    pred.fit(synthetic(0.3, n_people=60))
    assert all(lam == pytest.approx(0.1) for lam in pred.lambdas.values())
    assert all(pred.at_bound.values())


def test_decisions_without_matrix_payoffs_are_rejected_by_family(monkeypatch):
    from envs.family import Family
    from envs.registry import FAMILIES
    from envs.stage_game import StageGame

    dp = decision(0, "a", "PD", "J")
    no_game = replace(dp, family="glee_bargaining", params={"pie": 100})
    with pytest.raises(ValueError, match="glee_bargaining.*no stage game"):
        QREPredictor().validate([dp, no_game])

    class Bigger(Family):  # a family whose stage game is 3x3
        name = "bigger"

        def stage_game(self, d):
            return StageGame([[1, 2, 3]] * 3, [[1, 2, 3]] * 3, ("J", "F", "X"))

    monkeypatch.setitem(FAMILIES, "bigger", Bigger())
    with pytest.raises(ValueError, match="2x2.*'bigger'"):
        QREPredictor().validate([replace(dp, family="bigger")])
    with pytest.raises(RuntimeError, match="fit first"):
        QREPredictor().predict([dp])
