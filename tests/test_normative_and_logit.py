"""The family-generic predictors: the normative rule (with tremble) and the cross-fitted feature logit."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from envs.quality import DataQualityWarning
from envs.registry import get_family
from envs.replay import replay_all
from predictors.feature_logit import FeatureLogit, fit_logit, fold_of
from predictors.nash import NashPredictor
from predictors.normative import NormativePredictor


@pytest.fixture(scope="module")
def bargaining(glee_root):
    fam = get_family("glee_bargaining")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        trajectories, _ = fam.load(glee_root)
    return replay_all(trajectories, fam.make_env, progress=False)


def test_normative_on_matrix_games_is_the_nash_equilibrium(akata_decisions):
    dps = akata_decisions[:40]
    a = NormativePredictor().predict(dps)
    b = NashPredictor("mixed").predict(dps)
    for x, y in zip(a, b):
        assert x.probs == pytest.approx(y.probs)


def test_tremble_mixes_in_uniform_noise(bargaining):
    pure = NormativePredictor().predict(bargaining)
    noisy = NormativePredictor(epsilon=0.2).predict(bargaining)
    for p, q in zip(pure, noisy):
        for a in p.probs:
            assert q.probs[a] == pytest.approx(0.8 * p.probs[a] + 0.1)


def test_unknown_variant_fails_before_scoring(bargaining):
    with pytest.raises(ValueError, match="no variants"):
        NormativePredictor(variant="lenient").validate(bargaining[:1])


def test_logit_recovers_a_known_slope():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 1))
    y = (rng.random(4000) < 1 / (1 + np.exp(-(0.5 + 2.0 * x[:, 0])))).astype(float)
    mean, scale, w = fit_logit(x, y, l2=0.0)
    assert w[0] + w[1] * (0 - mean[0]) / scale[0] == pytest.approx(0.5, abs=0.15)
    assert w[1] / scale[0] == pytest.approx(2.0, abs=0.2)


def test_feature_logit_never_learns_from_the_person_it_predicts(bargaining):
    model = FeatureLogit(folds=5)
    model.fit(bargaining)
    person = bargaining[0].participant_id
    mine = [dp for dp in bargaining if dp.participant_id == person]
    before = model.predict(mine)
    flip = {"accept": "reject", "reject": "accept"}
    flipped = [dataclasses.replace(dp, human_action=flip[dp.human_action]) if dp.participant_id == person else dp
               for dp in bargaining]
    model.fit(flipped)
    after = model.predict(mine)
    assert [p.probs for p in before] == [p.probs for p in after]
    # ...whereas flipping someone in a training fold does move the prediction
    other = next(dp.participant_id for dp in bargaining if fold_of(dp.participant_id, 5) != fold_of(person, 5))
    flipped = [dataclasses.replace(dp, human_action=flip[dp.human_action]) if dp.participant_id == other else dp
               for dp in bargaining]
    model.fit(flipped)
    assert [p.probs for p in model.predict(mine)] != [p.probs for p in before]


def test_feature_logit_needs_family_features(bargaining, monkeypatch):
    import copy

    from envs.family import Family
    from envs.registry import FAMILIES

    class NoFeatures(type(FAMILIES["glee_bargaining"])):
        features = Family.features

    fam = copy.copy(FAMILIES["glee_bargaining"])
    fam.__class__, fam.name = NoFeatures, "nofeatures"
    monkeypatch.setitem(FAMILIES, "nofeatures", fam)
    with pytest.raises(ValueError, match="defines no decision features"):
        FeatureLogit().validate([dataclasses.replace(bargaining[0], family="nofeatures")])


def test_feature_logit_on_repeated_games_picks_up_reciprocity(akata_decisions):
    from analysis.metrics import summarise
    from predictors.table import to_frame, to_rows

    model = FeatureLogit()
    model.fit(akata_decisions)
    s = summarise(to_frame(to_rows("fl", akata_decisions, model.predict(akata_decisions))))
    assert s["pearson_r"] > 0.3 and s["log_loss"] < np.log(2)


def test_variant_mapping_applies_only_to_the_named_family(bargaining, glee_root):
    fam = get_family("glee_persuasion")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        persuasion = replay_all(fam.load(glee_root)[0], fam.make_env, progress=False)
    pred = NormativePredictor(variant={"glee_persuasion": "babbling"})
    pred.validate(bargaining[:1] + persuasion[:1])
    assert pred.predict(bargaining[:5])[0].probs == NormativePredictor().predict(bargaining[:5])[0].probs
    babble = pred.predict(persuasion)
    assert all(p.diagnostics["variant"] == "babbling" for p in babble)
    assert pred.name == "normative-babbling"


def test_data_check_cli_reports_counts_and_skips(glee_root, capsys):
    from sim.cli import main

    assert main(["data", "check", "glee", "--data-dir", str(glee_root.parent)]) == 0
    out = capsys.readouterr().out
    assert "== glee_bargaining" in out and "== glee_persuasion" in out
    assert "replay and loader disagree" not in out
    assert "no_config (skipped)" in out  # persuasion folders without config.json are counted, not hidden


def test_logit_fits_rates_as_binomial_shares():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, 1))
    true = 1 / (1 + np.exp(-(-0.3 + 1.5 * x[:, 0])))
    n = rng.integers(10, 30, size=3000)
    rate = rng.binomial(n, true) / n
    mean, scale, w = fit_logit(x, rate, l2=0.0, weight=n)
    assert w[1] / scale[0] == pytest.approx(1.5, abs=0.1)
    assert w[0] - w[1] * mean[0] / scale[0] == pytest.approx(-0.3, abs=0.1)
