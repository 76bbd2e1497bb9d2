"""Per-participant NLL (``analysis.likelihood``) against hand computations, scipy and the metrics module."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from scipy import stats

from analysis.likelihood import (decision_nll, format_nll_tables, nll_ranking, paired_nll, participant_nll,
                                 with_n_people)
from analysis.metrics import EPS, summarise
from envs.records import DecisionPoint
from predictors.base import Prediction
from predictors.table import to_frame, to_rows

# person -> their choices in rounds 1, 2, ...: A takes J twice, B takes J then F, C takes F once
CHOICES = {"A": "JJ", "B": "JF", "C": "F"}
SURE_J = -math.log(0.99 * 1.0 + 0.01 / 2)  # "sure" puts p(J) = 1: trembled to 0.995
SURE_F = -math.log(0.99 * 0.0 + 0.01 / 2)  # ... and 0.005 on F
HALF = math.log(2)  # "half" puts 0.5 on each: the tremble leaves it at 0.5


def _dp(pid: str, r: int, act: str, rate: float | None = None, n_people: int | None = None) -> DecisionPoint:
    return DecisionPoint(f"{pid}/r{r}", pid, "f", "g", pid, "row", r, ("J", "F"), act, "J", {}, (),
                         human_rate=rate, n_people=n_people)


def _table(decisions: list[DecisionPoint], predictors: dict[str, float]) -> pd.DataFrame:
    """predictors: name -> p(J) for every decision."""
    rows = []
    for name, q in predictors.items():
        rows += to_rows(name, decisions, [Prediction(dp.decision_id, {"J": q, "F": 1 - q}) for dp in decisions])
    return to_frame(rows)


@pytest.fixture()
def hand() -> pd.DataFrame:
    dps = [_dp(pid, r, a) for pid, acts in CHOICES.items() for r, a in enumerate(acts, start=1)]
    return _table(dps, {"sure": 1.0, "half": 0.5})


def test_participant_sums_and_means_by_hand(hand):
    per = participant_nll(hand).set_index(["predictor", "participant_id"])
    expected = {"A": (2, 2 * SURE_J, 0.0), "B": (2, SURE_J + SURE_F, -math.log(EPS)), "C": (1, SURE_F, -math.log(EPS))}
    for pid, (n, total, raw) in expected.items():
        row = per.loc[("sure", pid)]
        assert row["n"] == n and row["n_obs"] == n
        assert row["nll_sum"] == pytest.approx(total, abs=1e-12)
        assert row["nll_mean"] == pytest.approx(total / n, abs=1e-12)
        assert row["nll_raw_sum"] == pytest.approx(raw, abs=1e-12)  # p(J) = 1 costs nothing unclipped
        half = per.loc[("half", pid)]
        assert half["nll_sum"] == pytest.approx(n * HALF, abs=1e-12)
        assert half["nll_mean"] == pytest.approx(HALF, abs=1e-12)
    assert per.loc[("sure", "A"), "family"] == "f"


def test_per_round(hand):
    per = participant_nll(hand, by=("family", "round")).set_index(["predictor", "round", "participant_id"])
    assert len(per) == 2 * 5  # 5 person-rounds per predictor
    assert per.loc[("sure", 2, "B"), "nll_sum"] == pytest.approx(SURE_F, abs=1e-12)
    assert per.loc[("sure", 1, "B"), "nll_sum"] == pytest.approx(SURE_J, abs=1e-12)


def test_ranking_by_hand(hand):
    rank = nll_ranking(hand, n_boot=200).set_index("predictor")
    sure = (SURE_J + (SURE_J + SURE_F) / 2 + SURE_F) / 3  # each person weighs 1/3, whatever their decisions
    assert rank.loc["sure", "nll_mean"] == pytest.approx(sure, abs=1e-12)  # 1.787: worse than a coin here
    assert rank.loc["half", "nll_mean"] == pytest.approx(HALF, abs=1e-12)
    assert list(rank.sort_values("rank").index) == ["half", "sure"]
    assert rank.loc["half", "nll_ci_low"] == pytest.approx(HALF) == rank.loc["half", "nll_ci_high"]
    means = sorted([SURE_J, (SURE_J + SURE_F) / 2, SURE_F])
    assert means[0] - 1e-12 <= rank.loc["sure", "nll_ci_low"] <= sure <= rank.loc["sure", "nll_ci_high"] <= means[2]
    assert rank.loc["sure", "n"] == 5 and rank.loc["sure", "n_participants"] == 3


def test_paired_by_hand(hand):
    out = paired_nll(hand, "sure", "half", n_boot=200).iloc[0]
    d = np.array([SURE_J, (SURE_J + SURE_F) / 2, SURE_F]) - HALF  # A, B, C
    assert out["diff"] == pytest.approx(d.mean(), abs=1e-12)
    assert out["p_wilcoxon"] == pytest.approx(stats.wilcoxon(d).pvalue)
    assert out["n_participants"] == 3 and out["n"] == 5
    assert out["better"] == "neither"  # with 3 people a resample of A alone can favour "sure"


def test_paired_uses_only_shared_decisions(hand):
    partial = hand[~((hand["predictor"] == "half") & (hand["participant_id"] == "C"))]
    out = paired_nll(partial, "sure", "half", n_boot=0).iloc[0]
    assert out["n_participants"] == 2
    assert out["diff"] == pytest.approx((SURE_J + (SURE_J + SURE_F) / 2) / 2 - HALF, abs=1e-12)


def test_aggregate_rows_are_binomial():
    dps = [_dp("p1", 1, "F", rate=0.3, n_people=10), _dp("p2", 1, "J", rate=0.75, n_people=40),
           _dp("p3", 1, "J", rate=0.6)]  # p3: count unknown
    table = with_n_people(_table(dps, {"m": 0.4}), dps)
    q = 0.99 * 0.4 + 0.005
    nll = decision_nll(table)
    assert nll["nll"].iloc[0] == pytest.approx(-stats.binom.logpmf(3, 10, q), rel=1e-12)
    assert nll["nll"].iloc[1] == pytest.approx(-stats.binom.logpmf(30, 40, q), rel=1e-12)
    assert nll["nll_raw"].iloc[1] == pytest.approx(-stats.binom.logpmf(30, 40, 0.4), rel=1e-12)
    assert nll["nll"].iloc[2] == pytest.approx(-(0.6 * math.log(q) + 0.4 * math.log(1 - q)), rel=1e-12)
    assert list(nll["n_obs"]) == [10, 40, 1]
    per = participant_nll(table).set_index("participant_id")
    assert per.loc["p2", "nll_mean"] == pytest.approx(-stats.binom.logpmf(30, 40, q) / 40, rel=1e-12)
    # without the coefficient: n times the cross-entropy, as the predictions table's log-loss counts one row
    plain = decision_nll(table, binom_coef=False)["nll"].iloc[0]
    assert plain == pytest.approx(-10 * (0.3 * math.log(q) + 0.7 * math.log(1 - q)), rel=1e-12)


def test_binomial_coefficient_cancels_in_pairs():
    dps = [_dp(f"p{i}", 1, "J", rate=r, n_people=n) for i, (r, n) in enumerate([(0.7, 10), (0.55, 20), (0.9, 30)])]
    table = with_n_people(_table(dps, {"good": 0.7, "bad": 0.3}), dps)
    with_coef = paired_nll(table, "good", "bad", n_boot=0).iloc[0]
    d = [(-stats.binom.logpmf(k, n, 0.99 * 0.7 + 0.005) + stats.binom.logpmf(k, n, 0.99 * 0.3 + 0.005)) / n
         for k, n in [(7, 10), (11, 20), (27, 30)]]
    assert with_coef["diff"] == pytest.approx(np.mean(d), rel=1e-9)
    assert with_coef["diff"] < 0
    plain = nll_ranking(table, n_boot=0, binom_coef=False).set_index("predictor")
    coef = nll_ranking(table, n_boot=0).set_index("predictor")
    shift = np.mean([-stats.binom.logpmf(k, n, 0.5) / n - math.log(2) for k, n in [(7, 10), (11, 20), (27, 30)]])
    assert (coef["nll_mean"] - plain["nll_mean"]).to_numpy() == pytest.approx([shift, shift], rel=1e-9)
    assert list(coef.sort_values("rank").index) == list(plain.sort_values("rank").index) == ["good", "bad"]
    assert "including -log C(n, k)" in format_nll_tables(table, n_boot=0)


def test_row_order_changes_nothing(hand):
    shuffled = hand.sample(frac=1.0, random_state=3).reset_index(drop=True)
    pdt.assert_frame_equal(participant_nll(hand), participant_nll(shuffled))
    pdt.assert_frame_equal(nll_ranking(hand, n_boot=100), nll_ranking(shuffled, n_boot=100))
    pdt.assert_frame_equal(paired_nll(hand, "sure", "half", n_boot=100),
                           paired_nll(shuffled, "sure", "half", n_boot=100))


def test_format(hand):
    text = format_nll_tables(hand, n_boot=100)
    assert "f: predictors ranked by NLL per choice [95% CI]" in text
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("1 "))
    assert "half" in lines[first] and "0.693 [0.69, 0.69]" in lines[first]
    assert "sure" in lines[first + 1] and f"{-math.log(EPS) * (0.5 + 1) / 3:.3f}" in lines[first + 1]


@pytest.fixture(scope="module")
def repeated(akata_decisions) -> pd.DataFrame:
    import predictors

    return pd.concat([predictors.predict_table(predictors.make_predictor(n), akata_decisions)
                      for n in ("reciprocity", "uniform")], ignore_index=True)


def test_reciprocity_beats_uniform_on_repeated_games(repeated):
    out = paired_nll(repeated, "reciprocity", "uniform", n_boot=500).iloc[0]
    assert out["nll_b"] == pytest.approx(math.log(2), abs=1e-12)  # uniform: log 2 per binary choice
    assert out["diff"] < 0 and out["diff_ci_high"] < 0 and out["better"] == "reciprocity"
    assert out["p_wilcoxon"] < 1e-6
    assert out["n_participants"] == repeated["participant_id"].nunique()


def test_agrees_with_metrics_log_loss(repeated):
    """Equal-sized participants: the mean of per-person means is the pooled log_loss(_eps) of analysis.metrics."""
    rec = repeated[repeated["predictor"] == "reciprocity"]
    per = participant_nll(rec)
    assert per["n"].nunique() == 1  # everyone played the same number of rounds
    m = summarise(rec)
    assert per["nll_mean"].mean() == pytest.approx(m["log_loss_eps"], rel=1e-12)
    assert per["nll_raw_mean"].mean() == pytest.approx(m["log_loss"], rel=1e-12)
    shuffled = repeated.sample(frac=1.0, random_state=0)
    pdt.assert_frame_equal(nll_ranking(repeated, n_boot=200), nll_ranking(shuffled, n_boot=200))
