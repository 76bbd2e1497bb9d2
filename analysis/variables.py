"""Metrics by any variable of a decision, not only by round (``analysis.group_by`` in a run config).

A family names the values a decision can be grouped by (``Family.variables``: round,
game, role and its scalar parameters — the offer a responder saw, a price, a
treatment; a YAML family adds its context columns).  ``variable_table`` reads them for
every decision of a run, and ``metrics_by_variable`` scores each predictor per family
and value, with a participant-bootstrap interval around each Pearson r.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from analysis.bootstrap import mean_interval, r_interval, seeded_rng
from analysis.metrics import METRICS, summarise
from envs.family import Family
from envs.records import DecisionPoint
from envs.registry import FAMILIES

R_CI = ["r_ci_low", "r_ci_high"]
RATE_CI = ["human_rate_ci_low", "human_rate_ci_high"]


def _values(dp: DecisionPoint) -> dict[str, Any]:
    family = FAMILIES.get(dp.family)
    return family.variables(dp) if family is not None else Family.variables(Family(), dp)


def variable_table(decisions: Sequence[DecisionPoint], names: Sequence[str]) -> pd.DataFrame:
    """(decision_id, *names) for every decision; a name no decision of a family has is a ValueError naming it
    and the variables that family offers."""
    rows, seen = [], {}
    for dp in decisions:
        vals = _values(dp)
        seen.setdefault(dp.family, set(vals))
        rows.append({"decision_id": dp.decision_id, **{n: vals.get(n) for n in names}})
    table = pd.DataFrame(rows, columns=["decision_id", *names])
    for family, offered in seen.items():
        missing = [n for n in names if n not in offered]
        if missing:
            raise ValueError(f"analysis.group_by: family {family!r} has no variable {missing[0]!r} "
                             f"(it has: {', '.join(sorted(offered))})")
    return table


def metrics_by_variable(predictions: pd.DataFrame, decisions: Sequence[DecisionPoint], names: Sequence[str],
                        n_boot: int = 1000, seed: int = 0, ci: float = 0.95) -> pd.DataFrame:
    """Metrics per predictor × family × value of ``names``, with a participant-bootstrap CI of Pearson r.

    Columns: predictor, family, *names, *METRICS, r_ci_low, r_ci_high, human_rate_ci_low, human_rate_ci_high
    (the human rate's interval does not depend on the predictor: the same seed per value).  Values are kept as they are
    (numbers sort as numbers); a decision whose family lacks a value gets NaN there."""
    names = list(names)
    values = variable_table(decisions, names)
    extra = [n for n in names if n not in predictions.columns]  # round, game ... are columns already
    merged = predictions.merge(values[["decision_id", *extra]], on="decision_id", how="left", validate="many_to_one")
    target = "human_rate" if "human_rate" in merged else "human_affirmative"
    rows = []
    for keys, g in merged.groupby(["predictor", "family", *names], sort=True, dropna=False):
        lo, hi = r_interval(g["p_affirmative"], g[target], g["participant_id"], n_boot, seeded_rng(seed, *keys), ci)
        h_lo, h_hi = mean_interval(g[target], g["participant_id"], n_boot, seeded_rng(seed, "rate", *keys[1:]), ci)
        rows.append({**dict(zip(["predictor", "family", *names], keys)), **summarise(g), "r_ci_low": lo,
                     "r_ci_high": hi, "human_rate_ci_low": h_lo, "human_rate_ci_high": h_hi})
    return pd.DataFrame(rows, columns=["predictor", "family", *names, *METRICS, *R_CI, *RATE_CI])


def _fmt(v: float, lo: float, hi: float) -> str:
    if not np.isfinite(v):
        return "n/a"
    return f"{v:.3f}" + ("" if not np.isfinite(lo) else f" [{lo:.2f}, {hi:.2f}]")


def variable_pivot(table: pd.DataFrame, name: str, metric: str = "pearson_r") -> pd.DataFrame:
    """One family's ``metrics_by_variable`` rows as values × predictors.

    ``metric="pearson_r"``: "r [lo, hi]" per cell.  ``metric="rate"``: the human rate with its interval in
    the first column, then each predictor's mean predicted probability of the affirmative action — where
    predictions constant within a value (an LLM shown the same prompt) have no r, rates still compare."""
    if metric == "rate":
        first = table.drop_duplicates(name).set_index(name)
        human = first.apply(lambda r: _fmt(r["human_rate"], r["human_rate_ci_low"], r["human_rate_ci_high"]), axis=1)
        rates = table.pivot(index=name, columns="predictor", values="predicted_rate").map(lambda v: f"{v:.3f}")
        return pd.concat([human.rename("people"), rates], axis=1).rename_axis(index=name, columns=None)
    cells = table.apply(lambda r: _fmt(r["pearson_r"], r["r_ci_low"], r["r_ci_high"]) if metric == "pearson_r"
                        else f"{r[metric]:.3f}", axis=1)
    return table.assign(cell=cells).pivot(index=name, columns="predictor", values="cell").rename_axis(columns=None)
