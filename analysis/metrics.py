"""How well predictions describe what people did, overall and round by round.

For every group of decisions:

- ``accuracy``: share of decisions where the most likely action is the one the
  human took; ties count 1/k (the expected accuracy of breaking the tie at random),
  so the uniform predictor scores exactly chance.
- ``pearson_r``: Pearson correlation between p(affirmative action) and the human's
  0/1 choice — the field's primary metric (NaN when either side is constant, e.g.
  an equilibrium that predicts the same number for every decision).
- ``log_loss``: mean -log p(human's action), with p clipped to [1e-6, 1].
- ``brier``: mean squared error of p(affirmative) against the 0/1 choice.
- ``mean_mass``: mean decision-token probability mass (LLM predictors only).

Aggregate data (``is_rate``: a problem answered by many people, with the share
``human_rate`` who took the affirmative action) is scored against that rate: r is
between p(affirmative) and the rate, Brier is ``(p - rate)^2``, log-loss is the
cross-entropy ``-(rate log p + (1 - rate) log(1 - p))``, and accuracy counts the
most likely action against the majority choice.  For one person's decision the
rate is 0 or 1 and every formula reduces to the one above.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

METRICS = ["n", "accuracy", "pearson_r", "log_loss", "brier", "mean_mass", "human_rate", "predicted_rate"]
EPS = 1e-6


def summarise(df: pd.DataFrame) -> dict[str, float]:
    """All metrics for one group of prediction rows."""
    y = (df["human_rate"] if "human_rate" in df else df["human_affirmative"]).to_numpy(float)
    p = df["p_affirmative"].to_numpy(float)
    is_rate = df["is_rate"].to_numpy(bool) if "is_rate" in df else np.zeros(len(df), bool)
    pa = np.clip(p, EPS, 1.0)
    pn = np.clip(1.0 - p, EPS, 1.0)
    nll = np.where(is_rate, -(y * np.log(pa) + (1 - y) * np.log(pn)),
                   -np.log(np.clip(df["p_human"].to_numpy(float), EPS, 1.0)))
    in_top = np.isclose(df["p_human"].to_numpy(float), df["p_top"].to_numpy(float), rtol=0, atol=1e-12)
    acc = float(np.where(in_top, 1.0 / df["n_tied"].to_numpy(float), 0.0).mean()) if len(df) else np.nan
    r = np.nan
    if len(df) > 1 and np.ptp(y) > 0 and np.ptp(p) > 0:
        r = float(stats.pearsonr(p, y).statistic)
    mass = df["mass"].to_numpy(float)
    return {
        "n": int(len(df)),
        "accuracy": float(acc),
        "pearson_r": r,
        "log_loss": float(nll.mean()) if len(df) else np.nan,
        "brier": float(((p - y) ** 2).mean()) if len(df) else np.nan,
        "mean_mass": float(np.nanmean(mass)) if np.isfinite(mass).any() else np.nan,
        "human_rate": float(y.mean()) if len(df) else np.nan,
        "predicted_rate": float(p.mean()) if len(df) else np.nan,
    }


def metrics_table(predictions: pd.DataFrame, by: tuple[str, ...] = ("family", "game")) -> pd.DataFrame:
    """Metrics per predictor × group × round, plus an ``all`` round per group and an ``all`` group.

    The ``round`` column is a string so that the ``all`` rows sit in the same column.
    """
    rows = []
    for keys, g in predictions.groupby(["predictor", *by, "round"], sort=True):
        rows.append({**dict(zip(["predictor", *by, "round"], keys)), **summarise(g)})
    for keys, g in predictions.groupby(["predictor", *by], sort=True):
        rows.append({**dict(zip(["predictor", *by], keys)), "round": "all", **summarise(g)})
    if by:  # with no grouping columns the rows above are already the pooled ones
        for pred, g in predictions.groupby("predictor", sort=True):
            rows.append({"predictor": pred, **{k: "all" for k in by}, "round": "all", **summarise(g)})
    out = pd.DataFrame(rows, columns=["predictor", *by, "round", *METRICS])
    out["round"] = out["round"].astype(str)
    return out


def round_pivot(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rounds as rows (numeric order, then ``all``), predictors as columns, from a ``metrics_table``."""
    t = table.pivot(index="round", columns="predictor", values=metric)
    order = sorted((r for r in t.index if r != "all"), key=int) + ["all"]
    return t.loc[order].rename_axis(index="round", columns=None)


def pooled_round_table(predictions: pd.DataFrame, metric: str = "pearson_r") -> pd.DataFrame:
    """Rounds (pooled over games) as rows, predictors as columns — the table the CLI prints."""
    return round_pivot(metrics_table(predictions, by=()), metric)
