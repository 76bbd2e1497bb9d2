"""Metrics against independent computations (scipy, numpy) on tables the test builds."""

import json
import re

import numpy as np
import pandas.testing as pd_testing
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


# --- issue 12, item 6: metrics that cannot mislead -------------------------------------------------------------

def _table(spec, actions=("J", "F")):
    """A predictions table from (predictor, game, round, participant, human action, probabilities) tuples."""
    rows = []
    for pred in sorted({s[0] for s in spec}):
        mine = [s for s in spec if s[0] == pred]
        dps = [DecisionPoint(f"d{i}", f"t{part}{game}", "fam", game, part, "row", rnd, actions, act, actions[0], {}, ())
               for i, (_, game, rnd, part, act, _) in enumerate(mine)]
        rows += to_rows(pred, dps, [Prediction(f"d{i}", dict(zip(actions, probs))) for i, s in enumerate(mine)
                                    for probs in [s[5]]])
    return to_frame(rows)


def _two_games(rng, n_people=40):
    """Game H: people mostly take J; game L: mostly F.  ``equilibrium`` says one number per game (.8 / .2);
    ``signal`` knows something about each person within a game; two rounds, cells of unequal size."""
    spec = []
    for person in range(n_people):
        part = f"p{person:03d}"
        for game, base in (("H", 0.8), ("L", 0.2)):
            for rnd in (1, 2):
                if rnd == 2 and game == "L" and person % 2:
                    continue  # unequal cells: (L, 2) has half the decisions
                latent = rng.uniform(-0.15, 0.15)
                act = "J" if rng.random() < base + latent else "F"
                spec.append(("equilibrium", game, rnd, part, act, (base, 1 - base)))
                q = float(np.clip(base + 2 * latent + rng.normal(0, 0.1), 0.01, 0.99))
                spec.append(("signal", game, rnd, part, act, (q, 1 - q)))
    return _table(spec)


def test_r_within_is_the_decision_weighted_mean_of_the_within_cell_rs():
    df = _two_games(np.random.default_rng(10))
    sig = df[df["predictor"] == "signal"]
    cells = [g for _, g in sig.groupby(["game", "round"])]
    rs = [stats.pearsonr(g["p_affirmative"], g["human_affirmative"]).statistic for g in cells]
    ns = [len(g) for g in cells]
    s = summarise(sig)
    assert s["r_within"] == pytest.approx(np.average(rs, weights=ns))
    assert (s["r_within_cells"], s["r_within_skipped"]) == (4, 0)
    assert summarise(cells[0])["r_within"] == pytest.approx(summarise(cells[0])["pearson_r"])  # one cell: same r


def test_a_constant_per_game_prediction_has_a_pooled_r_but_no_r_within():
    """The pooled r of a prediction constant within each game is only the difference between games."""
    df = _two_games(np.random.default_rng(11))
    t = metrics_table(df, by=(), n_boot=200)
    for rnd in ("1", "2", "all"):
        row = t[(t["predictor"] == "equilibrium") & (t["round"] == rnd)].iloc[0]
        assert row["pearson_r"] > 0.3  # between-game contrast only
        assert np.isnan(row["r_within"]) and row["r_within_cells"] == 0
        assert row["r_within_skipped"] == (2 if rnd != "all" else 4)
        assert np.isnan(row["r_within_ci_low"])


def test_log_loss_eps_does_not_depend_on_the_clip_and_the_clip_is_counted(monkeypatch):
    import analysis.metrics as metrics

    acts = ["J", "J", "F", "J", "F"]
    df = _table([("pure", "G", 1, f"p{i}", a, (1.0, 0.0)) for i, a in enumerate(acts)])
    s = summarise(df)
    assert s["n_clipped"] == 2
    assert s["log_loss"] == pytest.approx(2 / 5 * -np.log(1e-6))
    eps = metrics.TREMBLE
    expected = -(3 * np.log(1 - eps + eps / 2) + 2 * np.log(eps / 2)) / 5
    assert s["log_loss_eps"] == pytest.approx(expected)
    monkeypatch.setattr(metrics, "EPS", 1e-12)
    again = summarise(df)
    assert again["log_loss"] > s["log_loss"] + 1 and again["log_loss_eps"] == pytest.approx(s["log_loss_eps"])


def test_log_loss_eps_mixes_uniform_over_the_decisions_actions():
    eps = 0.01
    three = _table([("m", "G", 1, "p0", "C", (0.5, 0.5, 0.0)), ("m", "G", 1, "p1", "A", (0.5, 0.5, 0.0))],
                   actions=("A", "B", "C"))
    s = summarise(three)
    assert s["n_clipped"] == 1
    assert s["log_loss_eps"] == pytest.approx(-(np.log(eps / 3) + np.log(0.5 * (1 - eps) + eps / 3)) / 2)
    rates = [DecisionPoint(f"r{i}", f"r{i}", "lot", "c", f"r{i}", "chooser", 1, ("B", "A"), "A", "B", {}, (),
                           human_rate=r, n_people=10) for i, r in enumerate((0.0, 0.3))]
    agg = summarise(to_frame(to_rows("pure", rates, [Prediction(d.decision_id, {"B": 0.0, "A": 1.0}) for d in rates])))
    q = eps / 2  # p(B) after the tremble
    assert agg["n_clipped"] == 1  # the rate-0.3 problem: 30% of people chose what the prediction rules out
    assert agg["log_loss_eps"] == pytest.approx((-np.log(1 - q) - (0.3 * np.log(q) + 0.7 * np.log(1 - q))) / 2)


def test_intervals_resample_participants_not_decisions():
    """Each person decides the same 20 times: the interval must be as wide as 10 people allow, not 200 decisions."""
    spec = [("m", "G", r, f"p{i:02d}", "J" if i % 2 else "F", (0.3 + 0.04 * i, 0.7 - 0.04 * i))
            for i in range(10) for r in range(1, 21)]
    t = metrics_table(_table(spec), by=(), n_boot=1000)
    row = t[t["round"] == "all"].iloc[0]
    assert row["human_rate_ci_high"] - row["human_rate_ci_low"] > 0.4  # about ±1.96 × sqrt(.25 / 10); decisions: ±.07
    assert row["accuracy_ci_low"] <= row["accuracy"] <= row["accuracy_ci_high"]
    one = t[t["round"] == "1"].iloc[0]
    assert one["pearson_r_ci_low"] < one["pearson_r"] < one["pearson_r_ci_high"]


def test_intervals_are_the_shared_participant_bootstrap():
    from analysis.bootstrap import mean_interval, r_interval, seeded_rng
    from analysis.metrics import decision_scores, intervals, resamples

    df = _two_games(np.random.default_rng(12))
    sig = df[df["predictor"] == "signal"]  # participants appear in sorted order, as r_interval numbers them
    s = decision_scores(sig)
    ids, counts = resamples(s["participant"], 500, seeded_rng(3, "x"))
    got = intervals([s], ids, counts)[0]
    lo, hi = r_interval(sig["p_affirmative"], sig["human_rate"], sig["participant_id"], 500, seeded_rng(3, "x"))
    assert (got["pearson_r_ci_low"], got["pearson_r_ci_high"]) == pytest.approx((lo, hi))
    lo, hi = mean_interval(sig["human_rate"], sig["participant_id"], 500, seeded_rng(3, "x"))
    assert (got["human_rate_ci_low"], got["human_rate_ci_high"]) == pytest.approx((lo, hi))
    single = sig[sig["participant_id"] == "p000"]
    one = decision_scores(single)
    assert np.isnan(intervals([one], *resamples(one["participant"], 500, seeded_rng(3, "x")))[0]["accuracy_ci_low"])
    both = intervals([s, one], ids, counts)  # one predictor of a group scored one person only: no interval for it
    assert both[0] == pytest.approx(got, nan_ok=True) and np.isnan(both[1]["pearson_r_ci_low"])


def test_a_new_predictor_moves_no_other_interval():
    df = _two_games(np.random.default_rng(13))
    alone = metrics_table(df[df["predictor"] == "signal"], n_boot=300)
    both = metrics_table(df, n_boot=300)
    both = both[both["predictor"] == "signal"].reset_index(drop=True)
    pd_testing.assert_frame_equal(alone, both)


def test_printed_tables_name_the_r_and_carry_intervals():
    from analysis.tables import format_tables

    out = format_tables(_two_games(np.random.default_rng(14)), n_boot=200)
    assert "fam: r_within by round" in out and "fam: pearson_r by round, all games pooled" in out
    assert "cells with r" in out and "0/4" in out  # the equilibrium's cells, all skipped
    assert re.search(r"\d\.\d{3} \[-?\d\.\d\d, -?\d\.\d\d\]", out)
    assert "eps = 0.01" in out and "clipped at 1e-06" in out and "decisions at the clip" in out
    assert out.isascii()  # a console that is not UTF-8 prints it too


def test_round_figure_draws_an_interval_band_per_line(tmp_path, monkeypatch):
    import matplotlib.axes

    from analysis.plots import plot_by_round

    bands = []
    original = matplotlib.axes.Axes.fill_between
    monkeypatch.setattr(matplotlib.axes.Axes, "fill_between",
                        lambda self, *a, **k: bands.append(a) or original(self, *a, **k))
    table = metrics_table(_two_games(np.random.default_rng(15)), n_boot=200)
    assert plot_by_round(table, tmp_path / "r.png").stat().st_size > 10_000
    assert len(bands) == 2 + 2 * 2  # r: the signal in 2 games (the equilibrium has none); accuracy: both, 2 games


@pytest.mark.parametrize("setting", [{"_SMALL": 0, "_DENSE_LIMIT": 0}, {"_JOIN_LIMIT": 50}, {"_SMALL_PRODUCT": 0}])
def test_every_way_of_computing_the_resamples_gives_the_same_table(monkeypatch, setting):
    """Sparse sums (participants nested in many cells), draws in slices (many cells) and BLAS or not for the
    products are only ways of computing: the table must not change."""
    import analysis.metrics as metrics

    df = _two_games(np.random.default_rng(16))
    plain = metrics_table(df, n_boot=200)
    for name, value in setting.items():
        monkeypatch.setattr(metrics, name, value)
    pd_testing.assert_frame_equal(metrics_table(df, n_boot=200), plain, rtol=1e-9)
