"""Cognitive hierarchy and level-k (``type: cognitive-hierarchy``, ``type: level-k``)."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
from scipy.special import softmax

from envs.one_shot import load_trajectories
from envs.records import DecisionPoint
from envs.registry import get_family
from envs.repeated_matrix import GAMES
from envs.replay import replay_all
from predictors.feature_logit import fold_of
from predictors.hierarchy import (CognitiveHierarchy, LevelK, ch_beliefs, level_strategies, lk_beliefs,
                                  poisson_weights, population_mix)
from predictors.registry import allowed_keys, build
from predictors.table import predict_table
from tests.test_games2p2k import csv_text, good_rows

PD, BOS = GAMES["PD"], GAMES["BoS"]  # actions (J, F); in the PD F (defect) is dominant


def ladder(row, col, lam, beliefs):
    """The human's and the other's level strategies in one game."""
    own, other = level_strategies(np.asarray(row, float)[None], np.asarray(col, float).T[None], lam, beliefs)
    return own[0], other[0]


def decision(participant: str, game: str, action: str, rnd: int = 1, **kw) -> DecisionPoint:
    g = GAMES[game]
    return DecisionPoint(decision_id=f"{participant}/{game}/{rnd}", trajectory_id=f"{participant}/{game}",
                         family="repeated_matrix", game=game, participant_id=participant, role="row", round=rnd,
                         legal_actions=("J", "F"), human_action=action, affirmative="J", params=g.to_params(),
                         history=(), **kw)


# --- hand-checkable games --------------------------------------------------------------------------

@pytest.mark.parametrize("beliefs", [ch_beliefs(poisson_weights(1.5, 10)), lk_beliefs(3)], ids=["ch", "lk"])
def test_prisoners_dilemma_every_level_above_zero_defects_as_lambda_grows(beliefs):
    for lam in (20.0, 200.0):
        own, other = ladder(PD.row, PD.col, lam, beliefs)
        assert own[0] == pytest.approx([0.5, 0.5]) and other[0] == pytest.approx([0.5, 0.5])
        assert own[1:, 1] == pytest.approx(1.0, abs=1e-12) and other[1:, 1] == pytest.approx(1.0, abs=1e-12)
    # so the population defects except for half of level 0: P(F) = 1 - f(0) / 2
    w = poisson_weights(1.5, 10)
    assert w[0] == pytest.approx(np.exp(-1.5), rel=1e-3)  # truncation at 10 removes almost nothing
    mix = population_mix(PD.row, PD.col, 200.0, w, ch_beliefs(w))
    assert mix[1] == pytest.approx(1 - w[0] / 2, abs=1e-12)


def test_battle_of_the_sexes_level_one_responds_to_uniform():
    lam = 0.3
    own, other = ladder(BOS.row, BOS.col, lam, lk_beliefs(2))
    # against a uniform other, J earns (7 + 0) / 2 = 3.5 and F (0 + 10) / 2 = 5
    assert own[1] == pytest.approx(softmax(lam * np.array([3.5, 5.0])), abs=1e-12)
    # the other player (payoffs 10 for J-J, 7 for F-F) leans to J
    assert other[1] == pytest.approx(softmax(lam * np.array([5.0, 3.5])), abs=1e-12)
    # level 2 responds to the other's level 1: J pays 7 P(J), F pays 10 P(F)
    q = other[1][0]
    assert own[2] == pytest.approx(softmax(lam * np.array([7 * q, 10 * (1 - q)])), abs=1e-12)


def test_dominated_strategy_and_the_depth_of_reasoning():
    """The other player's R is dominated by L. The human's A pays 3 against L, 0 against R; B pays 2.
    Level 1 (other uniform: A earns 1.5) plays B. CH level 2 sees P(L) = (f0/2 + f1) / (f0 + f1) =
    (1/2 + τ) / (1 + τ), which beats 2/3 iff τ > 1/2; level-k's level 2 is sure of L and plays A."""
    row = np.array([[3.0, 0.0], [2.0, 2.0]])
    col = np.array([[1.0, 0.0], [1.0, 0.0]])
    lam = 100.0
    for tau, level2 in ((1.0, [1, 0]), (0.25, [0, 1])):
        own, other = ladder(row, col, lam, ch_beliefs(poisson_weights(tau, 10)))
        assert other[1:, 0] == pytest.approx(1.0) and own[1] == pytest.approx([0, 1], abs=1e-12)
        assert own[2] == pytest.approx(level2, abs=1e-6)
    own, _ = ladder(row, col, lam, lk_beliefs(3))
    assert own[1] == pytest.approx([0, 1], abs=1e-12) and own[2] == pytest.approx([1, 0], abs=1e-12)


def test_no_thinking_or_no_precision_is_uniform():
    for w in (poisson_weights(0.0, 10), poisson_weights(2.0, 10)):
        lam = 0.0 if w[0] < 1 else 5.0
        assert population_mix(BOS.row, BOS.col, lam, w, ch_beliefs(w)) == pytest.approx([0.5, 0.5])


# --- fitting ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def g2_decisions(tmp_path_factory):
    """The games2p2k-shaped decisions (12 games x 2 roles x 2 presentations, aggregate rates)."""
    folder = tmp_path_factory.mktemp("games2p2k")
    (folder / "games2p2k_main.csv").write_text(csv_text(good_rows()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trajectories, _ = load_trajectories(folder)
    return replay_all(trajectories, get_family("games2p2k").make_env, progress=False)


def simulated(decisions, model, theta, n_people=5000, seed=0):
    """Each row's rate drawn as Binomial(n_people, the model's P(affirmative)) / n_people."""
    rng = np.random.default_rng(seed)
    lam, w, b = model._model(np.asarray(theta, float))
    out = []
    for dp in decisions:
        row, col, actions = model._game(dp)
        p = population_mix(row, col, lam, w, b)[actions.index(dp.affirmative)]
        out.append(replace(dp, human_rate=rng.binomial(n_people, p) / n_people, n_people=n_people))
    return out


def test_cognitive_hierarchy_recovers_tau_and_lambda(g2_decisions):
    """Rates simulated at τ = 1.5, λ = 0.15 (5000 people per row): every fold, fitted on 6 of the 12
    games, recovers both within 5% (seeds 0-2 gave errors up to 3%)."""
    model = CognitiveHierarchy(folds=2)
    data = simulated(g2_decisions, model, [1.5, 0.15])
    model.fit(data)
    assert len(model.fitted) == 2
    for fit in model.fitted.values():
        assert fit["tau"] == pytest.approx(1.5, rel=0.05) and fit["lambda"] == pytest.approx(0.15, rel=0.05)


def test_level_k_recovers_lambda_and_the_predicted_rates(g2_decisions):
    """Rates simulated from level-k (λ = 0.2; shares 0.1, 0.5, 0.3, 0.1): λ within 5%, shares within 0.05
    (seeds 0-2: errors up to 2% and 0.03), every held-out rate within 0.03 of the true model's."""
    model = LevelK(folds=2)
    truth = [0.2, *np.log([5.0, 3.0, 1.0])]
    data = simulated(g2_decisions, model, truth)
    model.fit(data)
    for fit in model.fitted.values():
        assert fit["lambda"] == pytest.approx(0.2, rel=0.05)
        assert fit["shares"] == pytest.approx([0.1, 0.5, 0.3, 0.1], abs=0.05)
    exact = simulated(g2_decisions, model, truth, n_people=10**12)
    for dp, pred in zip(exact, model.predict(data)):
        assert pred.probs[dp.affirmative] == pytest.approx(dp.human_rate, abs=0.03)


def people(n=40, seed=1):
    rng = np.random.default_rng(seed)
    return [decision(f"p{i}", g, "F" if rng.random() < (0.8 if g == "PD" else 0.6) else "J")
            for i in range(n) for g in ("PD", "BoS")]


@pytest.mark.parametrize("cls", [CognitiveHierarchy, LevelK])
def test_a_persons_own_choices_never_move_their_prediction(cls):
    data = people()
    victim = "p3"
    flipped = [replace(dp, human_action="J" if dp.human_action == "F" else "F")
               if dp.participant_id in {victim} | {f"p{i}" for i in range(20, 40)} and
               fold_of(dp.participant_id, 5) == fold_of(victim, 5) else dp for dp in data]
    assert sum(a.human_action != b.human_action for a, b in zip(data, flipped)) >= 2
    preds = []
    for d in (data, flipped):
        model = cls(folds=5)
        model.fit(d)
        preds.append({p.decision_id: p.probs for p in model.predict(d)})
    same_fold = [dp.decision_id for dp in data if fold_of(dp.participant_id, 5) == fold_of(victim, 5)]
    for did in same_fold:
        assert preds[0][did] == preds[1][did]
    # ... while everybody else's prediction, fitted on the changed choices, moves
    moved = [did for did in preds[0] if did not in same_fold and preds[0][did] != preds[1][did]]
    assert moved


def test_an_aggregate_row_counts_as_n_people_choices_like_qre():
    """A row of n people of whom k chose J fits exactly like n rows of one person (k J, n - k F); the
    rows' n differ, so weighting every row alike would fit differently (checked too)."""
    rows = {("a", "PD"): (10, 3), ("a", "BoS"): (40, 22), ("b", "PD"): (30, 6), ("b", "BoS"): (5, 3),
            ("c", "PD"): (20, 5), ("c", "BoS"): (50, 20), ("d", "PD"): (8, 3), ("d", "BoS"): (25, 11)}
    aggregate = [decision(p, g, "J" if 2 * k > n else "F", human_rate=k / n, n_people=n)
                 for (p, g), (n, k) in rows.items()]
    single = [replace(decision(p, g, "J" if i < k else "F"), decision_id=f"{p}/{g}/{i}")
              for (p, g), (n, k) in rows.items() for i in range(n)]
    unweighted = [replace(dp, n_people=1) for dp in aggregate]
    fits = []
    for data in (aggregate, single, unweighted):
        model = CognitiveHierarchy(folds=2)
        model.fit(data)
        fits.append(model.fitted)
    assert fits[0].keys() == fits[1].keys() == fits[2].keys()
    for key in fits[0]:
        assert fits[0][key]["_theta"] == pytest.approx(fits[1][key]["_theta"], abs=1e-6)
        assert fits[0][key]["_theta"] != pytest.approx(fits[2][key]["_theta"], abs=1e-3)


# --- rounds, settings, registry --------------------------------------------------------------------

def test_one_shot_models_apply_to_round_one_and_refuse_later_rounds_given_directly():
    data = [decision("a", "PD", "F"), decision("b", "PD", "F", rnd=2), decision("c", "BoS", "J", rnd=2)]
    with pytest.raises(ValueError, match="round 2.*restrict the data to round 1 or set `rounds: all`"):
        CognitiveHierarchy(folds=2, rounds="first").validate(data)
    with pytest.raises(ValueError, match="round 2"):
        LevelK(folds=2, rounds="first").fit(data)
    CognitiveHierarchy(folds=2, rounds="first").validate(data[:1])
    # rounds: first (the default) applies to round 1 only; predict_table and the runner leave later rounds out
    assert [CognitiveHierarchy(folds=2).applies_to(dp) for dp in data] == [True, False, False]
    mixed = people(6) + [replace(dp, round=2, decision_id=dp.decision_id + "/2") for dp in people(6)]
    assert set(predict_table(LevelK(folds=2), mixed)["decision_id"]) == {dp.decision_id for dp in people(6)}
    # rounds: all applies the stage-game model to every round (as qre does): round 2 predicted like round 1
    model = CognitiveHierarchy(folds=2, rounds="all")
    model.validate(data)
    model.fit(data)
    again = [replace(dp, round=1, decision_id=dp.decision_id + "'") for dp in data]
    assert [p.probs for p in model.predict(data)] == [p.probs for p in model.predict(again)]
    with pytest.raises(ValueError, match="rounds must be one of"):
        LevelK(rounds="later")


def test_registered_with_their_settings():
    keys = {"folds", "max_level", "lambda_max", "starts", "rounds", "name"}
    assert set(allowed_keys("cognitive-hierarchy")) == keys | {"tau_max"}
    assert set(allowed_keys("level-k")) == keys
    assert isinstance(build("cognitive-hierarchy", folds=3), CognitiveHierarchy)
    assert isinstance(build("level-k", max_level=2), LevelK)


def test_fitted_values_in_describe_and_diagnostics():
    data = people(20)
    model = LevelK(folds=2, max_level=2)
    model.fit(data)
    described = model.describe()["fitted"]["repeated_matrix"]
    assert set(described) == {0, 1}
    pred = model.predict(data[:1])[0]
    fit = described[pred.diagnostics["fold"]]
    assert pred.diagnostics["lambda"] == fit["lambda"] and len(fit["shares"]) == 3
    assert sum(fit["shares"]) == pytest.approx(1.0)


def test_round_one_of_the_repeated_games(akata_decisions):
    """The real round-1 choices (390): the models are scored without error and do about as well as a
    coin (the humans' round-1 choices are close to 50/50; λ is fitted near 0)."""
    first = [dp for dp in akata_decisions if dp.round == 1]
    assert len(first) == 390
    for cls in (CognitiveHierarchy, LevelK):
        model = cls(rounds="first")
        model.validate(first)
        model.fit(first)
        ll = np.mean([np.log(p.probs[dp.human_action]) for p, dp in zip(model.predict(first), first)])
        assert np.log(0.5) - 0.01 < ll < np.log(0.5) + 0.01
