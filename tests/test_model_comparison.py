"""The report's "equilibrium vs learning vs LLMs" panel (``analysis.model_comparison``): phases, coverage, the
figures that come out of a real run, and the categories every predictor declares."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import report_figures as figs
from analysis.model_comparison import (ALL, LATER, ROUND_1, categories, comparison, display, fitted_display,
                                       fitted_parameters, round_nll)
from analysis.report import analyse, render_html, render_markdown
from envs.records import DecisionPoint, write_decisions
from predictors.base import CATEGORIES, Prediction
from predictors.table import to_frame, to_rows
from sim.cli import main

TREMBLE = 0.01


def _dp(person: int, rnd: int, act: str) -> DecisionPoint:
    return DecisionPoint(f"{person}/{rnd}", str(person), "fam", "g", str(person), "row", rnd, ("J", "F"), act, "J",
                         {}, ())


def _people(n: int = 12, rounds: int = 4, seed: int = 0) -> list[DecisionPoint]:
    rng = np.random.default_rng(seed)
    return [_dp(i, r, "J" if rng.random() < 0.3 + 0.1 * r else "F") for i in range(n) for r in range(1, rounds + 1)]


def _table(dps: list[DecisionPoint], signals: dict[str, callable]) -> pd.DataFrame:
    """Predictions ``p(J) = signals[name](dp)`` for each decision the signal gives a number for (None: not scored)."""
    rows = []
    for name, f in signals.items():
        mine = [dp for dp in dps if f(dp) is not None]
        rows += to_rows(name, mine, [Prediction(dp.decision_id, {"J": f(dp), "F": 1 - f(dp)}) for dp in mine])
    return to_frame(rows)


def _by_hand(dps: list[DecisionPoint], f, keep) -> float:
    """Mean over people of their mean −log q(action), q = 0.99 p + 0.005, over the decisions ``keep`` selects."""
    per: dict[str, list[float]] = {}
    for dp in dps:
        if keep(dp):
            p = f(dp) if dp.human_action == "J" else 1 - f(dp)
            per.setdefault(dp.participant_id, []).append(-math.log((1 - TREMBLE) * p + TREMBLE / 2))
    return float(np.mean([np.mean(v) for v in per.values()]))


@pytest.fixture()
def dps() -> list[DecisionPoint]:
    return _people()


def learner(dp):
    return 0.3 + 0.1 * dp.round  # the true rate: the best model here


def one_shot(dp):
    return 0.4 if dp.round == 1 else None  # scores round 1 only, like cognitive hierarchy


def test_each_phase_by_hand_and_a_one_shot_model_is_compared_only_in_round_one(dps):
    table = _table(dps, {"learner": learner, "one-shot": one_shot, "coin": lambda dp: 0.5})
    out = comparison(table, dps, {"learner": "learning", "one-shot": "bounded rationality"}, n_boot=200)
    got = out.set_index(["phase", "predictor"])
    for phase, keep in ((ROUND_1, lambda dp: dp.round == 1), (LATER, lambda dp: dp.round > 1), (ALL, lambda dp: True)):
        assert got.loc[(phase, "learner"), "nll_mean"] == pytest.approx(_by_hand(dps, learner, keep), abs=1e-12)
        assert got.loc[(phase, "coin"), "nll_mean"] == pytest.approx(math.log(2), abs=1e-12)
        assert got.loc[(phase, "learner"), "coverage"] == 1.0
        lo, hi = got.loc[(phase, "learner"), ["nll_ci_low", "nll_ci_high"]]
        assert lo < got.loc[(phase, "learner"), "nll_mean"] < hi
    assert got.loc[(ROUND_1, "one-shot"), "nll_mean"] == pytest.approx(
        _by_hand(dps, lambda dp: 0.4, lambda dp: dp.round == 1), abs=1e-12)
    assert got.loc[(ROUND_1, "one-shot"), "coverage"] == 1.0
    assert got.loc[(ALL, "one-shot"), "coverage"] == pytest.approx(0.25)
    assert (LATER, "one-shot") not in got.index
    assert got.loc[(ALL, "coin"), "category"] == "other"  # not named: other

    shown = display(out).set_index("predictor")
    assert shown.loc["one-shot", "NLL all rounds [95% CI]"] == "–"  # a round-1 figure never poses as all rounds
    assert shown.loc["one-shot", "NLL rounds 2+ [95% CI]"] == "–"
    assert shown.loc["one-shot", "scored"] == "12 of 48 (round 1 only)"
    assert shown.loc["learner", "scored"] == "48 of 48"
    assert shown.loc["learner", "NLL all rounds [95% CI]"].startswith(f"{got.loc[(ALL, 'learner'), 'nll_mean']:.3f} [")
    # kinds of model in CATEGORIES order: bounded rationality, learning, then what is not named
    assert list(shown.index) == ["one-shot", "learner", "coin"]


def test_round_by_round_by_hand_and_a_single_round_family_has_only_all_rounds(dps):
    table = _table(dps, {"learner": learner, "one-shot": one_shot})
    rounds = round_nll(table, dps, {}, n_boot=100)
    for r in range(1, 5):
        row = rounds[(rounds["round"] == r) & (rounds["predictor"] == "learner")].iloc[0]
        assert row["nll_mean"] == pytest.approx(_by_hand(dps, learner, lambda dp: dp.round == r), abs=1e-12)
    assert list(rounds.loc[rounds["predictor"] == "one-shot", "round"]) == [1]
    single = [dp for dp in dps if dp.round == 1]
    one = comparison(_table(single, {"learner": learner}), single, n_boot=50)
    assert list(one["phase"]) == [ALL]
    assert round_nll(_table(single, {"learner": learner}), single).empty
    with pytest.raises(figs.NothingToShow, match="more than one round"):
        figs.nll_by_round(round_nll(_table(single, {"learner": learner}), single))


def test_every_category_has_a_colour():
    assert set(CATEGORIES) <= set(figs.CATEGORY_COLOURS)


def test_categories_come_from_the_run_and_old_runs_fall_back_to_the_class():
    manifest = {"resolved": {"predictors": [{"name": "ewa", "class": "EWAPredictor", "category": "learning"},
                                            {"name": "coin", "class": "Uniform"},
                                            {"name": "mine", "class": "SomethingElse"}]}}
    assert categories(manifest) == {"ewa": "learning", "coin": "baseline", "mine": "other"}
    assert categories({}) == {}


def test_fitted_parameters_across_folds():
    manifest = {"resolved": {"predictors": [
        {"name": "ewa", "fixed": {"delta": 0.0}, "fitted": {"fam": {0: {"phi": 0.6, "lam": 0.1, "train_nll": 9.0,
                                                                          "delta": 0.0},
                                           1: {"phi": 0.8, "lam": 0.3, "train_nll": 8.0},
                                           2: {"phi": 0.7, "lam": 0.2, "train_nll": 7.0}}}},
        {"name": "ch", "fitted": {"fam": {0: {"tau": 5.0, "lambda": 0.0, "at_upper_bound": ["tau"]},
                                          1: {"tau": 1.0, "lambda": 0.2, "at_upper_bound": []}}}},
        {"name": "qre", "fitted_lambda": {"fam": {0: 0.5, 1: 1.5}}},
        {"name": "level-k", "fitted": {"fam": {0: {"lambda": 1.0, "shares": [0.5, 0.5]}}}},
        {"name": "uniform"}]}}
    got = fitted_parameters(manifest).set_index(["predictor", "parameter"])
    assert list(got.index) == [("ewa", "phi"), ("ewa", "lam"), ("ch", "tau"), ("ch", "lambda"), ("qre", "lambda"),
                               ("level-k", "lambda")]  # no training likelihood, no share vectors
    assert tuple(got.loc[("ewa", "phi"), ["folds", "median", "min", "max"]]) == pytest.approx((3, 0.7, 0.6, 0.8))
    assert got.loc[("ch", "tau"), "at_upper_bound"] == 1 and got.loc[("ch", "lambda"), "at_upper_bound"] == 0
    assert pd.isna(got.loc[("ewa", "phi"), "at_upper_bound"])  # the model does not report its bounds
    assert tuple(got.loc[("qre", "lambda"), ["median", "min", "max"]]) == (1.0, 0.5, 1.5)
    shown = fitted_display(fitted_parameters(manifest)).set_index(["predictor", "parameter"])
    assert shown.loc[("ch", "tau"), "folds at upper bound"] == "1 of 2"
    assert shown.loc[("ewa", "phi"), "folds at upper bound"] == "–"


@pytest.mark.slow
def test_the_behavioural_models_config_gets_the_panel(data_root, tmp_path):
    """The shipped config without its two LLMs, on 30 real people: every kind of model in the table and the
    figures, cognitive hierarchy in round 1 only, the learning models in every round."""
    from tests.test_report import REPO, _figures_on_page

    cfg = yaml.safe_load((REPO / "configs" / "behavioural_models.yaml").read_text())
    cfg["predictors"] = [p for p in cfg["predictors"] if p["type"] not in ("llm", "qre")]
    cfg["data"]["participants"] = 30
    cfg["analysis"] = {"bootstrap": 200}
    path = tmp_path / "b.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run = tmp_path / "run"
    assert main(["run", str(path), "--out", str(run), "--quiet", "--data-dir", str(data_root)]) == 0
    data = analyse(run)
    kinds = dict(zip(data.models["predictor"], data.models["category"]))
    assert {kinds["ewa"], kinds["cognitive-hierarchy"], kinds["nash-mixed"], kinds["uniform"]} == {
        "learning", "bounded rationality", "equilibrium", "baseline"}
    shown = display(data.models).set_index("predictor")
    assert shown.loc["cognitive-hierarchy", "scored"] == "60 of 600 (round 1 only)"
    assert shown.loc["ewa", "NLL all rounds [95% CI]"] != "–"
    figures = _figures_on_page(render_html(data))
    assert figures["fig-models"] == figures["fig-model-rounds"] == "img"
    assert "Equilibrium vs learning vs LLMs" in render_markdown(data)
    folds = data.fitted.set_index(["predictor", "parameter"])["folds"]
    assert folds[("ewa", "phi")] == folds[("cognitive-hierarchy", "tau")] == 10


def test_a_far_worse_predictor_is_named_at_the_edge_instead_of_flattening_the_rest():
    top, far = figs._focus({"ewa": 0.55, "coin": 0.69, "llm": 0.81, "nash": 1.61})
    assert far == ["nash"] and top == pytest.approx(1.15 * 0.81)
    assert figs._focus({"ewa": 0.55, "coin": 0.69, "llm": 0.81}) == (None, [])
