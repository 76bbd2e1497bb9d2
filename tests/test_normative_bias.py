"""How close predictors sit to the normative prediction, and whether aligned models sit closer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.metrics import summarise
from analysis.normative_bias import closer_to_normative, normative_bias
from analysis.pairs import Pair


def _table(preds: dict[str, np.ndarray], y: np.ndarray, families=None) -> pd.DataFrame:
    n = len(y)
    fam = families if families is not None else np.array(["f"] * n)
    parts = []
    for name, p in preds.items():
        p = np.asarray(p, float)
        parts.append(pd.DataFrame({
            "decision_id": [f"d{i}" for i in range(n)], "predictor": name, "family": fam,
            "participant_id": [f"u{i // 3}" for i in range(n)], "round": 1,
            "human_affirmative": y.astype(int), "human_rate": y.astype(float), "is_rate": False,
            "p_affirmative": p, "p_human": np.where(y == 1, p, 1 - p), "p_top": np.maximum(p, 1 - p),
            "n_tied": np.where(np.isclose(p, 0.5), 2, 1), "mass": np.nan}))
    return pd.concat(parts, ignore_index=True)


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    norm = rng.uniform(0, 1, n)
    y = (rng.uniform(size=n) < 0.3 + 0.4 * norm).astype(int)
    return rng, norm, y


def test_normative_itself_and_its_mirror():
    rng, norm, y = _data()
    other = rng.uniform(0, 1, len(y))
    df = _table({"normative": norm, "copy": norm.copy(), "mirror": 1 - norm, "other": other}, y)
    b = normative_bias(df).set_index("predictor")
    assert list(normative_bias(df).columns) == ["family", "predictor", "n", "r_with_normative", "mean_abs_distance",
                                                "r_human", "human_r_with_normative"]
    for name in ("normative", "copy"):
        assert b.loc[name, "r_with_normative"] == pytest.approx(1.0)
        assert b.loc[name, "mean_abs_distance"] == pytest.approx(0.0)
    assert b.loc["mirror", "r_with_normative"] == pytest.approx(-1.0)
    assert b.loc["mirror", "mean_abs_distance"] == pytest.approx(np.mean(np.abs(1 - 2 * norm)))
    assert b.loc["other", "r_with_normative"] == pytest.approx(stats.pearsonr(other, norm).statistic)
    assert b.loc["other", "mean_abs_distance"] == pytest.approx(np.mean(np.abs(other - norm)))
    assert np.allclose(b["human_r_with_normative"], stats.pearsonr(norm, y).statistic)
    assert b.loc["other", "r_human"] == pytest.approx(summarise(df[df["predictor"] == "other"])["pearson_r"])
    assert (b["n"] == len(y)).all()


def test_constant_normative_has_no_r_and_families_are_separate():
    rng, norm, y = _data(120, seed=1)
    fam = np.array(["A"] * 60 + ["B"] * 60)
    norm = np.where(fam == "A", 1.0, norm)  # family A: the rule says "always accept"
    df = _table({"normative": norm, "m": rng.uniform(0, 1, 120)}, y, families=fam)
    b = normative_bias(df).set_index(["family", "predictor"])
    assert np.isnan(b.loc[("A", "m"), "r_with_normative"]) and np.isnan(b.loc[("A", "m"), "human_r_with_normative"])
    m = df[df["predictor"] == "m"]["p_affirmative"].to_numpy()
    assert b.loc[("A", "m"), "mean_abs_distance"] == pytest.approx(np.mean(1 - m[:60]))
    assert b.loc[("B", "m"), "r_with_normative"] == pytest.approx(stats.pearsonr(m[60:], norm[60:]).statistic)
    with pytest.raises(ValueError, match="normative predictor"):
        normative_bias(df, normative="nash")


def test_aligned_closer_to_normative():
    rng, norm, y = _data(150, seed=2)
    near = np.clip(norm + rng.normal(0, 0.05, len(y)), 0, 1)
    far = np.clip(0.5 * norm + 0.5 * rng.uniform(0, 1, len(y)), 0, 1)
    const = np.full(len(y), 0.4)
    df = _table({"normative": norm, "base": far, "aligned": near, "base2": near, "aligned2": const}, y)
    bias = normative_bias(df)
    c = closer_to_normative(bias, [Pair("base", "aligned", label="p"), Pair("base2", "aligned2", matched=False)])
    assert list(c.columns) == ["pair", "base", "aligned", "provider", "matched", "family", "r_with_normative_base",
                               "r_with_normative_aligned", "distance_base", "distance_aligned", "aligned_closer_r",
                               "aligned_closer_distance"]
    p = c.set_index("pair").loc["p"]
    assert bool(p["aligned_closer_r"]) and bool(p["aligned_closer_distance"])
    assert p["distance_aligned"] == pytest.approx(np.mean(np.abs(near - norm)))
    q = c.set_index("pair").loc["base2 vs aligned2"]
    assert pd.isna(q["aligned_closer_r"])  # a constant prediction has no r with anything
    assert q["aligned_closer_distance"] == bool(np.mean(np.abs(const - norm)) < np.mean(np.abs(near - norm)))
    assert str(c["aligned_closer_r"].dtype) == "boolean"
