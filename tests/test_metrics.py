"""Metrics against independent computations (scipy, numpy) on tables the test builds."""

import json

import numpy as np
import pytest
from scipy import stats

from analysis.metrics import metrics_table, pooled_round_table, summarise
from predictors.table import to_frame, to_rows
from predictors.base import Prediction
from envs.records import DecisionPoint


def _decisions(n, rng):
    out = []
    for i in range(n):
        out.append(DecisionPoint(f"d{i}", f"t{i // 4}", "fam", "G" if i % 2 else "H", str(i // 4), "row",
                                 i % 4 + 1, ("J", "F"), "J" if rng.random() < 0.4 else "F", "J", {}, ()))
    return out


def test_summary_matches_scipy_and_numpy():
    rng = np.random.default_rng(0)
    dps = _decisions(200, rng)
    p = rng.uniform(0.01, 0.99, len(dps))
    preds = [Prediction(dp.decision_id, {"J": float(q), "F": float(1 - q)}) for dp, q in zip(dps, p)]
    df = to_frame(to_rows("m", dps, preds))
    y = np.array([dp.human_action == "J" for dp in dps], float)
    s = summarise(df)
    assert s["pearson_r"] == pytest.approx(stats.pearsonr(p, y).statistic)
    assert s["log_loss"] == pytest.approx(-np.mean(np.log(np.where(y == 1, p, 1 - p))))
    assert s["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert s["accuracy"] == pytest.approx(np.mean((p > 0.5) == (y == 1)))


def test_ties_count_as_chance_and_constant_predictions_have_no_r():
    rng = np.random.default_rng(1)
    dps = _decisions(40, rng)
    preds = [Prediction(dp.decision_id, {"J": 0.5, "F": 0.5}) for dp in dps]
    s = summarise(to_frame(to_rows("u", dps, preds)))
    assert s["accuracy"] == pytest.approx(0.5)
    assert np.isnan(s["pearson_r"])


def test_tables_have_every_round_and_the_pooled_rows():
    rng = np.random.default_rng(2)
    dps = _decisions(80, rng)
    rows = []
    for name in ("a", "b"):
        preds = [Prediction(dp.decision_id, {"J": q, "F": 1 - q}) for dp, q in
                 zip(dps, rng.uniform(0.1, 0.9, len(dps)))]
        rows += to_rows(name, dps, preds)
    df = to_frame(rows)
    t = metrics_table(df)
    assert set(t["round"]) == {"1", "2", "3", "4", "all"}
    pooled = t[(t["game"] == "all")]
    assert list(pooled["n"]) == [80, 80]
    pr = pooled_round_table(df, "accuracy")
    assert list(pr.index) == ["1", "2", "3", "4", "all"] and list(pr.columns) == ["a", "b"]
    r3 = df[(df["predictor"] == "a") & (df["round"] == 3)]
    assert pr.loc["3", "a"] == pytest.approx(summarise(r3)["accuracy"])


def test_predictions_must_cover_every_decision():
    dps = _decisions(3, np.random.default_rng(3))
    with pytest.raises(ValueError, match="one prediction per decision"):
        to_rows("m", dps, [Prediction("d0", {"J": 1.0, "F": 0.0})])


def test_prediction_probabilities_must_sum_to_one():
    with pytest.raises(ValueError, match="sum"):
        Prediction("d", {"J": 0.7, "F": 0.7})
    assert json.loads(to_rows("m", _decisions(1, np.random.default_rng(4)),
                              [Prediction("d0", {"J": 0.25, "F": 0.75})])[0]["probs"]) == {"J": 0.25, "F": 0.75}


def test_aggregate_rows_are_scored_against_the_rate():
    rng = np.random.default_rng(5)
    rates = rng.uniform(0, 1, 120)
    dps = [DecisionPoint(f"p{i}", f"p{i}", "lotteries", "c13k", f"p{i}", "chooser", 1, ("B", "A"),
                         "B" if r >= 0.5 else "A", "B", {}, (), human_rate=float(r), n_people=15)
           for i, r in enumerate(rates)]
    p = rng.uniform(0.02, 0.98, len(dps))
    df = to_frame(to_rows("m", dps, [Prediction(dp.decision_id, {"B": float(q), "A": float(1 - q)})
                                     for dp, q in zip(dps, p)]))
    s = summarise(df)
    assert df["is_rate"].all()
    assert s["pearson_r"] == pytest.approx(stats.pearsonr(p, rates).statistic)
    assert s["log_loss"] == pytest.approx(-np.mean(rates * np.log(p) + (1 - rates) * np.log(1 - p)))
    assert s["brier"] == pytest.approx(np.mean((p - rates) ** 2))
    assert s["accuracy"] == pytest.approx(np.mean((p > 0.5) == (rates >= 0.5)))
    with pytest.raises(ValueError, match="not in"):
        DecisionPoint("x", "x", "f", "g", "x", "r", 1, ("B", "A"), "B", "B", {}, (), human_rate=1.5)
