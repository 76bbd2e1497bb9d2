"""Base/aligned pair comparisons against scipy, numpy and hand-built tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.metrics import summarise
from analysis.bootstrap import weighted_r as _weighted_r
from analysis.pairs import (Pair, apply_filters, pair_table, param_breakdown, pearson, round_breakdown,
                            sensitivity_grid, win_summary)
from envs.records import DecisionPoint
from predictors.base import Prediction
from predictors.table import to_frame, to_rows


def _decisions(n_people=30, rounds=4, families=("famA", "famB"), seed=0, params=None):
    rng = np.random.default_rng(seed)
    out = []
    for fam in families:
        for i in range(n_people):
            pr = rng.uniform(0.1, 0.9)  # each person has their own propensity: choices are clustered
            for r in range(1, rounds + 1):
                act = "J" if rng.random() < pr else "F"
                p = params(fam, i, r) if params else {}
                out.append(DecisionPoint(f"{fam}/{i}/r{r}", f"{fam}/{i}", fam, "g", f"{fam}-{i}", "row", r,
                                         ("J", "F"), act, "J", p, ()))
    return out


def _table(dps, predictors: dict, seed=1):
    """predictors: name -> (function (dp, rng) -> p(J), mass or None)."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, (fn, mass) in predictors.items():
        preds = []
        for dp in dps:
            q = float(np.clip(fn(dp, rng), 0.0, 1.0))
            preds.append(Prediction(dp.decision_id, {"J": q, "F": 1 - q}, {} if mass is None else {"mass": mass}))
        rows += to_rows(name, dps, preds)
    return to_frame(rows)


def _y(dp):
    return float(dp.human_action == "J")


def _standard():
    dps = _decisions()
    preds = {
        "base": (lambda dp, rng: 0.3 + 0.4 * _y(dp) + rng.normal(0, 0.15), 0.95),
        "aligned": (lambda dp, rng: 0.5 + 0.1 * _y(dp) + rng.normal(0, 0.2), 0.85),
        "base2": (lambda dp, rng: rng.uniform(0.2, 0.8), 0.6),
        "aligned2": (lambda dp, rng: 0.5 + 0.3 * _y(dp) + rng.normal(0, 0.1), np.nan),
    }
    return dps, _table(dps, preds)


PAIRS = [Pair("base", "aligned", label="p1", provider="x"), Pair("base2", "aligned2", provider="y", matched=False)]


def test_pair_table_r_and_mass_match_summarise_and_scipy():
    _, df = _standard()
    t = pair_table(df, PAIRS, n_boot=0)
    assert list(t.columns) == ["pair", "base", "aligned", "provider", "matched", "family", "n", "n_participants",
                               "r_base", "r_aligned", "diff", "diff_ci_low", "diff_ci_high", "mass_base",
                               "mass_aligned", "winner"]
    assert len(t) == 4 and list(t["pair"]) == ["p1", "p1", "base2 vs aligned2", "base2 vs aligned2"]
    for _, row in t.iterrows():
        sb = summarise(df[(df["predictor"] == row["base"]) & (df["family"] == row["family"])])
        sa = summarise(df[(df["predictor"] == row["aligned"]) & (df["family"] == row["family"])])
        assert row["r_base"] == pytest.approx(sb["pearson_r"])
        assert row["r_aligned"] == pytest.approx(sa["pearson_r"])
        assert row["diff"] == pytest.approx(sb["pearson_r"] - sa["pearson_r"])
        assert row["n"] == 120 and row["n_participants"] == 30
        assert row["mass_base"] == pytest.approx(sb["mean_mass"], nan_ok=True)
        assert np.isnan(row["diff_ci_low"])  # n_boot=0: no CI
    p1 = t[t["pair"] == "p1"]
    assert (p1["winner"] == "base").all()  # the base predictor is built to track people more closely
    assert (t[t["pair"] != "p1"]["winner"] == "aligned").all()
    assert t["mass_aligned"].iloc[-1] != t["mass_aligned"].iloc[-1]  # NaN mass stays NaN


def test_pair_table_scores_rate_rows_against_the_rate():
    rng = np.random.default_rng(3)
    rates = rng.uniform(0, 1, 60)
    dps = [DecisionPoint(f"p{i}", f"p{i}", "lot", "c13k", f"p{i}", "chooser", 1, ("B", "A"),
                         "B" if r >= 0.5 else "A", "B", {}, (), human_rate=float(r), n_people=20)
           for i, r in enumerate(rates)]
    pb = np.clip(rates + rng.normal(0, 0.1, 60), 0, 1)
    pa = rng.uniform(0, 1, 60)
    rows = to_rows("b", dps, [Prediction(d.decision_id, {"B": q, "A": 1 - q}) for d, q in zip(dps, pb)])
    rows += to_rows("a", dps, [Prediction(d.decision_id, {"B": q, "A": 1 - q}) for d, q in zip(dps, pa)])
    t = pair_table(to_frame(rows), [Pair("b", "a")], n_boot=0)
    assert t["r_base"].iloc[0] == pytest.approx(stats.pearsonr(pb, rates).statistic)
    assert t["r_aligned"].iloc[0] == pytest.approx(stats.pearsonr(pa, rates).statistic)


def test_weighted_r_equals_r_on_the_explicit_resample():
    rng = np.random.default_rng(4)
    x, y = rng.uniform(size=50), (rng.uniform(size=50) < 0.5).astype(float)
    w = rng.multinomial(50, np.full(50, 1 / 50), size=20).astype(float)
    got = _weighted_r(w, x, y)
    for i in range(20):
        idx = np.repeat(np.arange(50), w[i].astype(int))
        assert got[i] == pytest.approx(pearson(x[idx], y[idx]), abs=1e-10)
    only_one = np.zeros((1, 50))
    only_one[0, 7] = 50.0  # a resample of one row repeated: r undefined
    assert np.isnan(_weighted_r(only_one, x, y)[0])


def test_bootstrap_ci_is_deterministic_contains_the_estimate_and_is_paired():
    _, df = _standard()
    a = pair_table(df, PAIRS[:1], n_boot=400, seed=7)
    b = pair_table(df, PAIRS[:1], n_boot=400, seed=7)
    c = pair_table(df, PAIRS[:1], n_boot=400, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["diff_ci_low"], c["diff_ci_low"])
    assert (a["diff_ci_low"] <= a["diff"]).all() and (a["diff"] <= a["diff_ci_high"]).all()
    assert (a["diff_ci_low"] < a["diff_ci_high"]).all()
    # the same model on both sides: every paired resample gives diff 0 (an unpaired bootstrap would not)
    same = df[df["predictor"] == "base"].assign(predictor="same")
    t = pair_table(pd.concat([df, same]), [Pair("base", "same")], n_boot=200)
    assert (t["winner"] == "tie").all()
    assert np.allclose(t[["diff_ci_low", "diff_ci_high"]].to_numpy(), 0.0)
    # the pair order in the list does not change a pair's CI
    rev = pair_table(df, PAIRS[::-1], n_boot=400, seed=7)
    assert rev[rev["pair"] == "p1"]["diff_ci_low"].tolist() == a["diff_ci_low"].tolist()


def test_bootstrap_resamples_participants_not_decisions():
    # every participant's 5 rows are identical, so resampling participants on the expanded
    # table is the same weighted resample as on one row per participant: identical CIs
    dps = _decisions(n_people=25, rounds=1, families=("f",), seed=5)
    one = _table(dps, {"b": (lambda dp, rng: 0.2 + 0.6 * _y(dp) * rng.uniform(), None),
                       "a": (lambda dp, rng: rng.uniform(), None)}, seed=6)
    five = pd.concat([one.assign(decision_id=one["decision_id"] + f"#{k}") for k in range(5)], ignore_index=True)
    five = five.sort_values(["predictor", "participant_id"], kind="stable").reset_index(drop=True)
    one = one.sort_values(["predictor", "participant_id"], kind="stable").reset_index(drop=True)
    t1 = pair_table(one, [Pair("b", "a")], n_boot=300, seed=1)
    t5 = pair_table(five, [Pair("b", "a")], n_boot=300, seed=1)
    assert t5["n"].iloc[0] == 125 and t5["n_participants"].iloc[0] == 25
    assert t5["diff"].iloc[0] == pytest.approx(t1["diff"].iloc[0])
    assert t5["diff_ci_low"].iloc[0] == pytest.approx(t1["diff_ci_low"].iloc[0])
    assert t5["diff_ci_high"].iloc[0] == pytest.approx(t1["diff_ci_high"].iloc[0])


def test_unknown_predictor_is_an_error():
    _, df = _standard()
    with pytest.raises(ValueError, match="not in the predictions table"):
        pair_table(df, [Pair("base", "nope")], n_boot=0)


def _hand_table(r_base, r_aligned, mass_base=None, mass_aligned=None, family=None, matched=None):
    n = len(r_base)
    return pd.DataFrame({
        "pair": [f"p{i}" for i in range(n)], "base": [f"b{i}" for i in range(n)],
        "aligned": [f"a{i}" for i in range(n)], "provider": "", "matched": matched or [True] * n,
        "family": family or ["f"] * n, "n": 100, "n_participants": 50,
        "r_base": r_base, "r_aligned": r_aligned, "diff": np.subtract(r_base, r_aligned),
        "diff_ci_low": np.nan, "diff_ci_high": np.nan,
        "mass_base": mass_base or [np.nan] * n, "mass_aligned": mass_aligned or [np.nan] * n,
        "winner": [None if not (np.isfinite(b) and np.isfinite(a))
                   else ("tie" if b == a else "base" if b > a else "aligned") for b, a in zip(r_base, r_aligned)],
    })


def test_filters_drop_exactly_the_right_pairs():
    t = _hand_table(r_base=[0.5, 0.5, 0.2, 0.1, np.nan, 0.6, 0.35],
                    r_aligned=[0.4, 0.4, 0.25, 0.5, 0.4, 0.3, 0.1],
                    mass_base=[0.9, 0.7, 0.9, np.nan, 0.9, 0.95, 0.81],
                    mass_aligned=[0.85, 0.9, 0.9, np.nan, 0.9, 0.79, 0.8],
                    matched=[True, True, True, True, True, True, False])
    f = apply_filters(t)
    assert f["kept"].tolist() == [True, False, False, True, False, False, True]
    assert f["drop_reason"].tolist() == ["", "base mass 0.700 < 0.8", "both r < 0.3", "", "r undefined",
                                         "aligned mass 0.790 < 0.8", ""]
    assert apply_filters(t, require_matched=True)["kept"].tolist() == [True, False, False, True, False, False, False]
    assert apply_filters(t, mass_threshold=0.5, r_threshold=0.0)["kept"].tolist() == [True] * 4 + [False] + [True] * 2
    assert "kept" not in t  # the input is not modified
    f2 = apply_filters(f, mass_threshold=0.0)  # re-filtering replaces the columns
    assert list(f2.columns).count("kept") == 1 and f2["kept"].iloc[1]


FIVE = dict(r_base=[0.5, 0.45, 0.30, 0.62, 0.40], r_aligned=[0.3, 0.35, 0.35, 0.32, 0.25])  # diffs .2 .1 -.05 .3 .15


def test_win_summary_counts_and_tests_match_scipy():
    t = apply_filters(_hand_table(**FIVE), r_threshold=0.0)
    s = win_summary(t, n_boot=500, seed=0)
    assert s["family"].tolist() == ["f", "all"]
    row = s.iloc[-1]
    diffs = np.subtract(FIVE["r_base"], FIVE["r_aligned"])
    assert (row["kept"], row["base_wins"], row["aligned_wins"], row["ties"]) == (5, 4, 1, 0)
    assert row["direction"] == "base"
    assert row["p_binomial"] == pytest.approx(stats.binomtest(4, 5, 0.5, alternative="greater").pvalue)
    assert row["p_binomial"] == pytest.approx(6 / 32)
    assert row["p_wilcoxon"] == pytest.approx(stats.wilcoxon(diffs, alternative="greater").pvalue)
    assert row["mean_diff"] == pytest.approx(diffs.mean())
    assert row["mean_diff_ci_low"] <= diffs.mean() <= row["mean_diff_ci_high"]
    assert row["base_win_share"] == pytest.approx(0.8)
    assert row["base_win_share_ci_low"] <= 0.8 <= row["base_win_share_ci_high"]
    pd.testing.assert_frame_equal(s, win_summary(t, n_boot=500, seed=0))


def test_win_summary_aligned_direction_ties_and_groups():
    t = _hand_table(r_base=[0.3, 0.2, 0.4, 0.4, 0.5, 0.6], r_aligned=[0.5, 0.6, 0.4, 0.7, 0.3, 0.7],
                    family=["A", "A", "A", "A", "B", "B"])
    s = win_summary(t, n_boot=100).set_index("family")
    assert (s.loc["all", "base_wins"], s.loc["all", "aligned_wins"], s.loc["all", "ties"]) == (1, 4, 1)
    assert s.loc["all", "direction"] == "aligned"
    assert s.loc["all", "p_binomial"] == pytest.approx(stats.binomtest(1, 5, alternative="less").pvalue)
    diffs = np.array([-0.2, -0.4, 0.0, -0.3, 0.2, -0.1])
    assert s.loc["all", "p_wilcoxon"] == pytest.approx(stats.wilcoxon(diffs, alternative="less").pvalue)
    assert (s.loc["A", "aligned_wins"], s.loc["A", "ties"], s.loc["A", "kept"]) == (3, 1, 4)
    assert s.loc["B", "direction"] == "none"  # 1 : 1
    assert s.loc["B", "p_binomial"] == pytest.approx(1.0)
    one = win_summary(_hand_table(r_base=[0.5], r_aligned=[0.2]), n_boot=50)
    assert np.isnan(one["p_wilcoxon"].iloc[0]) and "2 non-zero" in one["wilcoxon_note"].iloc[0]
    assert one["p_binomial"].iloc[0] == pytest.approx(0.5)


def test_sensitivity_grid_matches_apply_filters_at_every_point():
    rng = np.random.default_rng(9)
    n = 12
    t = _hand_table(r_base=list(rng.uniform(0, 0.7, n)), r_aligned=list(rng.uniform(0, 0.7, n)),
                    mass_base=list(rng.uniform(0.4, 1, n)), mass_aligned=list(rng.uniform(0.4, 1, n)),
                    family=["A"] * 6 + ["B"] * 6)
    g = sensitivity_grid(t)
    assert list(g.columns) == ["group", "mass_threshold", "r_threshold", "kept", "base_wins", "aligned_wins",
                               "ties", "direction", "p_binomial"]
    assert len(g) == 25 * 3
    at = g[(g["mass_threshold"] == 0.8) & (g["r_threshold"] == 0.3)].set_index("group")
    ref = win_summary(apply_filters(t), n_boot=0).set_index("family")
    for col in ("kept", "base_wins", "aligned_wins", "ties"):
        assert at[col].tolist() == ref[col].tolist()
    assert np.allclose(at["p_binomial"], ref["p_binomial"], equal_nan=True)
    assert at.loc["all", "kept"] == int(apply_filters(t)["kept"].sum())
    assert at.index.tolist() == ["A", "B", "all"]
    allg = g[g["group"] == "all"].pivot(index="mass_threshold", columns="r_threshold", values="kept")
    assert (np.diff(allg.to_numpy(), axis=0) <= 0).all() and (np.diff(allg.to_numpy(), axis=1) <= 0).all()


def test_round_breakdown_equals_pair_table_on_the_subsets():
    _, df = _standard()
    rb = round_breakdown(df, PAIRS[:1], n_boot=0)
    first = rb[(rb["split"] == "first vs later") & (rb["rounds"] == "round 1")].set_index("family")
    later = rb[(rb["split"] == "first vs later") & (rb["rounds"] == "later rounds")].set_index("family")
    ref1 = pair_table(df[df["round"] == 1], PAIRS[:1], n_boot=0).set_index("family")
    ref2 = pair_table(df[df["round"] > 1], PAIRS[:1], n_boot=0).set_index("family")
    assert np.allclose(first["r_base"], ref1["r_base"]) and np.allclose(later["r_aligned"], ref2["r_aligned"])
    per = rb[rb["split"] == "per round"]
    assert sorted(per["rounds"].unique(), key=int) == ["1", "2", "3", "4"]
    r3 = per[(per["rounds"] == "3") & (per["family"] == "famB")]["r_base"].iloc[0]
    sub = df[(df["round"] == 3) & (df["family"] == "famB")]
    assert r3 == pytest.approx(summarise(sub[sub["predictor"] == "base"])["pearson_r"])
    assert (first["n"] + later["n"]).tolist() == [120, 120]


def test_param_breakdown_picks_scalar_params_with_few_values():
    def params(fam, i, r):
        return {"delta": [0.8, 0.9, 0.95][i % 3], "game_id": f"{fam}{i}", "info": i % 2 == 0,
                "names": {"a": "x"}, "shape": [1, 2], "const": 1}

    dps = _decisions(params=params)
    df = _table(dps, dict(base=(lambda dp, rng: 0.3 + 0.4 * _y(dp) + rng.normal(0, 0.2), 0.9),
                          aligned=(lambda dp, rng: rng.uniform(), 0.9)))
    pb = param_breakdown(df, dps, PAIRS[:1], n_boot=0)
    assert set(pb["param"]) == {"delta", "info"}
    assert set(pb[pb["param"] == "delta"]["value"]) == {"0.8", "0.9", "0.95"}
    ids = [d.decision_id for d in dps if d.params["delta"] == 0.9 and d.family == "famA"]
    row = pb[(pb["param"] == "delta") & (pb["value"] == "0.9") & (pb["family"] == "famA")].iloc[0]
    ref = pair_table(df[df["decision_id"].isin(ids)], PAIRS[:1], n_boot=0).iloc[0]
    assert row["n"] == len(ids) and row["r_base"] == pytest.approx(ref["r_base"])
    chosen = param_breakdown(df, dps, PAIRS[:1], param_names=["game_id"], n_boot=0)
    assert set(chosen["param"]) == {"game_id"} and len(chosen) == 60  # explicit names bypass the 2–12 rule
