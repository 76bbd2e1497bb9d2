"""Metrics by a decision's own variable (analysis.group_by), not only by round."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.metrics import summarise
from analysis.variables import metrics_by_variable, variable_pivot, variable_table
from predictors.registry import build
from predictors.table import to_frame, to_rows


@pytest.fixture(scope="module")
def table(akata_decisions):
    rows = []
    for kind in ("population-rate", "reciprocity"):
        pred = build(kind)
        pred.fit(akata_decisions)
        rows += to_rows(pred.name, akata_decisions, pred.predict(akata_decisions))
    return to_frame(rows)


def test_each_value_is_scored_on_exactly_its_decisions(akata_decisions, table):
    m = metrics_by_variable(table, akata_decisions, ["opponent"], n_boot=200)
    assert set(m["opponent"]) == {"Base", "Prompted"}
    for _, row in m.iterrows():  # recompute from the decisions' own params, by hand
        ids = {dp.decision_id for dp in akata_decisions if dp.params["opponent"] == row["opponent"]}
        sub = table[(table["predictor"] == row["predictor"]) & table["decision_id"].isin(ids)]
        expected = summarise(sub)
        assert row["n"] == expected["n"] == len(ids)
        assert row["pearson_r"] == pytest.approx(expected["pearson_r"])
        assert row["r_ci_low"] < row["pearson_r"] < row["r_ci_high"]  # the participant bootstrap brackets r
    pivot = variable_pivot(m, "opponent")
    assert list(pivot.index) == ["Base", "Prompted"] and "[" in pivot.iloc[0, 0]


def test_round_is_a_variable_like_any_other(akata_decisions, table):
    m = metrics_by_variable(table, akata_decisions, ["round"], n_boot=0)
    assert sorted(m["round"].unique()) == list(range(1, 11))
    assert m["n"].sum() == len(table)
    assert np.isnan(m["r_ci_low"]).all()  # n_boot=0: no interval


def test_unknown_variable_names_the_family_and_what_it_has(akata_decisions):
    with pytest.raises(ValueError, match="repeated_matrix.*'offer'.*opponent"):
        variable_table(akata_decisions[:5], ["offer"])
