"""Reliability curves, calibration error and the split-half noise ceiling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.calibration import expected_calibration_error, reliability
from analysis.ceiling import ceiling_table, split_half_ceiling
from envs.records import DecisionPoint
from predictors.base import Prediction
from predictors.table import to_frame, to_rows


def _rows(p, y, predictor="m", family="f"):
    return pd.DataFrame({"predictor": predictor, "family": family, "p_affirmative": np.asarray(p, float),
                         "human_affirmative": np.asarray(y, int), "human_rate": np.asarray(y, float),
                         "is_rate": False})


def test_reliability_and_ece_by_hand():
    df = _rows([0.05, 0.15, 0.12, 0.95, 1.0], [0, 1, 0, 1, 1])
    rel = reliability(df, bins=10)
    assert list(rel.columns) == ["predictor", "family", "bin", "bin_low", "bin_high", "n", "mean_predicted",
                                 "observed_rate"]
    assert len(rel) == 10 and rel["n"].sum() == 5
    assert rel["n"].tolist() == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]  # p = 1 falls in the last bin
    b1 = rel[rel["bin"] == 1].iloc[0]
    assert (b1["bin_low"], b1["bin_high"]) == pytest.approx((0.1, 0.2))
    assert b1["mean_predicted"] == pytest.approx(0.135) and b1["observed_rate"] == pytest.approx(0.5)
    assert np.isnan(rel[rel["bin"] == 4]["mean_predicted"].iloc[0])
    ece = expected_calibration_error(df, bins=10).iloc[0]
    assert ece["n"] == 5
    assert ece["ece"] == pytest.approx((1 * 0.05 + 2 * 0.365 + 2 * 0.025) / 5)
    assert ece["mce"] == pytest.approx(0.365)


def test_perfectly_calibrated_data_lies_on_the_diagonal_and_miscalibrated_does_not():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 100_000)
    good = _rows(p, rng.uniform(size=p.size) < p, predictor="calibrated")
    bad = _rows(p, rng.uniform(size=p.size) < p ** 3, predictor="overconfident")
    df = pd.concat([good, bad], ignore_index=True)
    rel = reliability(df, bins=10)
    g = rel[rel["predictor"] == "calibrated"]
    assert (g["n"] > 9000).all()
    assert np.abs(g["observed_rate"] - g["mean_predicted"]).max() < 0.02
    ece = expected_calibration_error(df).set_index("predictor")["ece"]
    assert ece["calibrated"] < 0.01
    # E|p - p^3| for p ~ U(0, 1) is 1/4; binning barely changes it
    assert ece["overconfident"] == pytest.approx(0.25, abs=0.02)


def test_reliability_uses_the_rate_for_aggregate_rows():
    df = pd.DataFrame({"predictor": "m", "family": "f", "p_affirmative": [0.31, 0.33, 0.72],
                       "human_affirmative": [0, 1, 1], "human_rate": [0.2, 0.6, 0.7], "is_rate": True})
    rel = reliability(df, bins=5, by=("predictor",)).set_index("bin")
    assert rel.loc[1, "observed_rate"] == pytest.approx(0.4)
    assert rel.loc[3, "observed_rate"] == pytest.approx(0.7)


def _expected_reliability(rates, n):
    """Analytic full-sample reliability with true rates = observed: var / (var + mean binomial noise)."""
    noise = np.mean(rates * (1 - rates) / n)
    return np.var(rates) / (np.var(rates) + noise)


def test_ceiling_is_one_for_noiseless_data_and_lower_for_few_people():
    rng = np.random.default_rng(1)
    rates = rng.uniform(0, 1, 300)
    big = split_half_ceiling(rates, np.full(300, 100_000), draws=200, seed=0)
    assert big["ceiling"] > 0.995 and big["n_problems"] == 300 and big["valid_draws"] == 200
    small = split_half_ceiling(rates, np.full(300, 10), draws=500, seed=0)
    assert small["ceiling"] == pytest.approx(_expected_reliability(rates, 10), abs=0.03)
    assert small["ceiling"] < 0.9 and small["half_r"] < small["ceiling"]
    assert small["ci_low"] <= small["ceiling"] <= small["ci_high"]
    assert small["ceiling"] == pytest.approx(2 * small["half_r"] / (1 + small["half_r"]), abs=0.01)
    assert split_half_ceiling(rates, np.full(300, 10), draws=500, seed=0) == small
    assert split_half_ceiling(rates, np.full(300, 4), draws=500, seed=0)["ceiling"] < small["ceiling"]


def test_ceiling_skips_unsplittable_problems_and_odd_n_splits_unevenly():
    rates = np.linspace(0.05, 0.95, 40)
    n = np.r_[np.full(38, 7), 1, 0]  # odd n: halves of 3 and 4; the last two cannot be split
    res = split_half_ceiling(rates, n, draws=100)
    assert res["n_problems"] == 38 and res["mean_n_people"] == 7
    assert 0 < res["ceiling"] < 1
    flat = split_half_ceiling(np.full(10, 0.5), np.full(10, 50))
    assert np.isnan(flat["ceiling"])  # no spread between problems: nothing to be reliable about


def _agg_table(rates, n, family="lot", predictors=("a", "b")):
    dps = [DecisionPoint(f"{family}{i}", f"{family}{i}", family, "g", f"{family}{i}", "chooser", 1, ("B", "A"),
                         "B" if r >= 0.5 else "A", "B", {}, (), human_rate=float(r), n_people=int(k))
           for i, (r, k) in enumerate(zip(rates, n))]
    rows = []
    for name in predictors:
        rows += to_rows(name, dps, [Prediction(d.decision_id, {"B": 0.5, "A": 0.5}) for d in dps])
    return dps, to_frame(rows)


def test_ceiling_table_counts_each_decision_once():
    rng = np.random.default_rng(2)
    rates, n = rng.uniform(0, 1, 80), rng.integers(8, 30, 80)
    dps, df = _agg_table(rates, n, predictors=("a", "b", "c"))
    t = ceiling_table(df, dps, draws=300, seed=3)
    assert list(t.columns) == ["family", "n_problems", "mean_n_people", "ceiling", "ci_low", "ci_high", "half_r",
                               "valid_draws"]
    direct = split_half_ceiling(rates, n, draws=300, seed=3)
    assert t["n_problems"].iloc[0] == 80
    assert t["ceiling"].iloc[0] == pytest.approx(direct["ceiling"])
    with_col = ceiling_table(df.assign(n_people=df["decision_id"].map({d.decision_id: d.n_people for d in dps})),
                             draws=300, seed=3)
    assert with_col["ceiling"].iloc[0] == pytest.approx(direct["ceiling"])
    with pytest.raises(ValueError, match="n_people"):
        ceiling_table(df)
    individual = df.assign(is_rate=False)
    assert ceiling_table(individual, dps).empty
