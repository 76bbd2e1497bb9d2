"""``analysis.interventions``: Δr and ΔNLL against the unmodified predictor, and the pairs' difference of
differences, checked by hand on tables the test builds; the report's panel with and without interventions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.bootstrap import pearson
from analysis.interventions import difference_of_differences, effects, interventions_of
from analysis.pairs import Pair
from analysis.report import analyse, render_html, render_markdown
from envs.records import DecisionPoint
from tests.test_report import _decisions, _figures_on_page, _write_run

EPS = 0.01


def _nll(p_human: float) -> float:
    return -math.log((1 - EPS) * p_human + EPS / 2)


def _manifest(*modified: tuple[str, str, str]) -> dict:
    return {"resolved": {"predictors": [{"name": m, "base_predictor": o, "intervention": iv}
                                        for m, o, iv in modified]}}


@pytest.fixture(scope="module")
def world():
    """Decisions of 30 people × 5 rounds in two families, and signals: each model's p(affirmative)."""
    rng = np.random.default_rng(3)
    dps = _decisions(rng)
    y = np.array([dp.human_action == dp.affirmative for dp in dps], float)
    noise = rng.random((4, len(dps)))
    signals = {"base": 0.2 + 0.6 * (0.7 * y + 0.3 * noise[0]), "base@no-history": 0.2 + 0.6 * noise[1],
               "aligned": 0.2 + 0.6 * (0.4 * y + 0.6 * noise[2]), "aligned@no-history": 0.2 + 0.6 * noise[3]}
    return dps, y, signals


def _per_person_mean_nll(dps: list[DecisionPoint], y: np.ndarray, p: np.ndarray, keep) -> dict[str, float]:
    per: dict[str, list[float]] = {}
    for dp, yi, pi in zip(dps, y, p):
        if keep(dp):
            per.setdefault(dp.participant_id, []).append(_nll(pi if yi else 1 - pi))
    return {k: float(np.mean(v)) for k, v in per.items()}


def test_effects_and_the_difference_of_differences_by_hand(world, tmp_path):
    dps, y, signals = world
    run = _write_run(tmp_path, dps, signals, {"name": "iv"})
    predictions = pd.read_parquet(run / "predictions.parquet")
    which = interventions_of(_manifest(("base@no-history", "base", "no-history"),
                                       ("aligned@no-history", "aligned", "no-history")), set(predictions["predictor"]))
    eff = effects(predictions, which, dps, ("family",), n_boot=300).set_index(["family", "predictor"])
    for fam in ("fam_a", "fam_b"):
        mask = np.array([dp.family == fam for dp in dps])

        def keep(dp, fam=fam):
            return dp.family == fam

        for orig in ("base", "aligned"):
            row = eff.loc[(fam, f"{orig}@no-history")]
            want_r = pearson(signals[f"{orig}@no-history"][mask], y[mask]) - pearson(signals[orig][mask], y[mask])
            assert row["delta_r"] == pytest.approx(want_r, abs=1e-12)
            mod = _per_person_mean_nll(dps, y, signals[f"{orig}@no-history"], keep)
            old = _per_person_mean_nll(dps, y, signals[orig], keep)
            assert row["delta_nll"] == pytest.approx(np.mean([mod[k] - old[k] for k in old]), abs=1e-12)
            assert row["delta_r_ci_low"] < row["delta_r"] < row["delta_r_ci_high"]
            assert row["delta_nll_ci_low"] < row["delta_nll"] < row["delta_nll_ci_high"]
            assert row["delta_nll"] > 0  # the modified signals carry no information: they lose likelihood
        did = difference_of_differences(predictions, which, [Pair("base", "aligned")], dps, n_boot=300)
        d = did.set_index("family").loc[fam]
        b1, b0 = (_per_person_mean_nll(dps, y, signals[k], keep) for k in ("base@no-history", "base"))
        a1, a0 = (_per_person_mean_nll(dps, y, signals[k], keep) for k in ("aligned@no-history", "aligned"))
        assert d["did_nll"] == pytest.approx(np.mean([(b1[k] - b0[k]) - (a1[k] - a0[k]) for k in b0]), abs=1e-12)
        assert d["did_r"] == pytest.approx(eff.loc[(fam, "base@no-history"), "delta_r"]
                                           - eff.loc[(fam, "aligned@no-history"), "delta_r"], abs=1e-12)
        assert d["did_nll_ci_low"] < d["did_nll"] < d["did_nll_ci_high"]
        assert d["did_nll"] > 0 and d["did_r"] < 0  # the base signal had more to lose, and lost it
    by_round = effects(predictions, which, dps, ("family", "round"), n_boot=50)
    assert len(by_round) == 2 * 2 * 5


def test_interventions_are_read_from_the_run_and_need_their_original():
    m = _manifest(("x@last-1", "x", "last-1"), ("y@shuffle-0", "y", "shuffle-0"))
    m["resolved"]["predictors"] += [{"name": "x", "intervention": "none", "base_predictor": "x"}, {"name": "z"}]
    assert list(interventions_of(m)["predictor"]) == ["x@last-1", "y@shuffle-0"]
    assert list(interventions_of(m, {"x", "x@last-1", "y@shuffle-0"})["predictor"]) == ["x@last-1"]
    assert interventions_of({}).empty


def test_the_report_panel_with_and_without_interventions(world, tmp_path):
    dps, _, signals = world
    config = {"name": "iv", "pairs": [{"base": "base", "aligned": "aligned", "matched": False}],
              "analysis": {"bootstrap": 100},
              **_manifest(("base@no-history", "base", "no-history"), ("aligned@no-history", "aligned", "no-history"))}
    (tmp_path / "with").mkdir()
    data = analyse(_write_run(tmp_path / "with", dps, signals, config))
    page = render_html(data)
    assert _figures_on_page(page)["fig-interventions"] == "img"
    assert "difference of differences" in page and "did_nll [95% CI]" in page
    assert "History interventions" in render_markdown(data)
    (tmp_path / "without").mkdir()
    plain = analyse(_write_run(tmp_path / "without", dps, {"base": signals["base"]}, {"name": "plain"}))
    assert "fig-interventions" not in _figures_on_page(render_html(plain))
    assert "give a predictor `intervention:" in render_html(plain)
