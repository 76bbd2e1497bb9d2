"""Calibration: when a predictor says 70 %, do about 70 % of people take the action?

Correlation (the study's headline metric) ignores scale: a model that says 0.9 where
people do 0.6 and 0.6 where they do 0.3 correlates perfectly but is badly calibrated.
Alignment is suspected to make models overconfident and normative, which shows up
here rather than in r.

Bins are equal-width on [0, 1] of ``p_affirmative`` (the last bin includes 1).  The
observed rate is the mean of ``human_rate`` (the 0/1 choice for one person, the share
of people for aggregate rows), as in :mod:`analysis.metrics`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from analysis.pairs import human_target

RELIABILITY_COLUMNS = ["bin", "bin_low", "bin_high", "n", "mean_predicted", "observed_rate"]
ECE_COLUMNS = ["n", "ece", "mce"]


def _bin_index(p: np.ndarray, bins: int) -> np.ndarray:
    return np.clip(np.floor(np.asarray(p, float) * bins).astype(int), 0, bins - 1)


def reliability(predictions: pd.DataFrame, bins: int = 10,
                by: Sequence[str] = ("predictor", "family")) -> pd.DataFrame:
    """Reliability curve per group: every bin (empty ones with n = 0 and NaN means), so groups align.

    Columns: *by, bin, bin_low, bin_high, n, mean_predicted, observed_rate.
    """
    by = list(by)
    edges = np.linspace(0.0, 1.0, bins + 1)
    df = pd.DataFrame({c: predictions[c].to_numpy() for c in by})
    df["bin"] = _bin_index(predictions["p_affirmative"].to_numpy(float), bins)
    df["p"] = predictions["p_affirmative"].to_numpy(float)
    df["y"] = human_target(predictions)
    agg = df.groupby([*by, "bin"], sort=True).agg(n=("p", "size"), mean_predicted=("p", "mean"),
                                                  observed_rate=("y", "mean")).reset_index()
    groups = df[by].drop_duplicates() if by else pd.DataFrame(index=[0])
    full = groups.merge(pd.DataFrame({"bin": np.arange(bins)}), how="cross")
    out = full.merge(agg, on=[*by, "bin"], how="left")
    out["n"] = out["n"].fillna(0).astype(int)
    out["bin_low"] = edges[out["bin"].to_numpy()]
    out["bin_high"] = edges[out["bin"].to_numpy() + 1]
    return out.sort_values([*by, "bin"], kind="stable")[[*by, *RELIABILITY_COLUMNS]].reset_index(drop=True)


def expected_calibration_error(predictions: pd.DataFrame, bins: int = 10,
                               by: Sequence[str] = ("predictor", "family")) -> pd.DataFrame:
    """ECE (bin-size-weighted mean |predicted - observed|) and MCE (its worst bin) per group.

    Columns: *by, n, ece, mce.
    """
    by = list(by)
    rel = reliability(predictions, bins, by)
    rel = rel[rel["n"] > 0].assign(gap=lambda d: (d["mean_predicted"] - d["observed_rate"]).abs())
    rows = []
    groups = rel.groupby(by, sort=True) if by else [((), rel)]
    for keys, g in groups:
        keys = keys if isinstance(keys, tuple) else (keys,)
        n = int(g["n"].sum())
        rows.append({**dict(zip(by, keys)), "n": n, "ece": float((g["n"] * g["gap"]).sum() / n),
                     "mce": float(g["gap"].max())})
    return pd.DataFrame(rows, columns=[*by, *ECE_COLUMNS])
