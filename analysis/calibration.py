"""Calibration: when a predictor says 70 %, do about 70 % of people take the action?

Correlation (the study's headline metric) ignores scale: a model that says 0.9 where
people do 0.6 and 0.6 where they do 0.3 correlates perfectly but is badly calibrated.
Alignment is suspected to make models overconfident and normative, which shows up
here rather than in r.

Bins are equal-width on [0, 1] of ``p_affirmative`` (the last bin includes 1).  The
observed rate is the mean of ``human_rate`` (the 0/1 choice for one person, the share
of people for aggregate rows), as in :mod:`analysis.metrics`.  With ``n_boot`` the
observed rate of each bin gets a participant-bootstrap interval: a bin of 12 decisions
from 3 people says little, and a reliability curve without error bars hides that.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from analysis.bootstrap import mean_interval, seeded_rng
from analysis.pairs import human_target

RELIABILITY_COLUMNS = ["bin", "bin_low", "bin_high", "n", "mean_predicted", "observed_rate"]
INTERVAL_COLUMNS = ["observed_ci_low", "observed_ci_high"]
ECE_COLUMNS = ["n", "ece", "mce"]


def _bin_index(p: np.ndarray, bins: int) -> np.ndarray:
    return np.clip(np.floor(np.asarray(p, float) * bins).astype(int), 0, bins - 1)


def _observed_intervals(df: pd.DataFrame, by: list[str], n_boot: int, seed: int, ci: float) -> pd.DataFrame:
    """Participant-bootstrap percentile interval of each non-empty bin's observed rate, per group
    (the bin's people resampled); NaN for a bin of one person, whose resamples are all that person."""
    rows = []
    for keys, g in df.groupby([*by, "bin"], sort=True):
        lo = hi = np.nan
        if g["participant"].nunique() >= 2:
            lo, hi = mean_interval(g["y"].to_numpy(float), g["participant"], n_boot,
                                   seeded_rng(seed, "calibration", *keys), ci)
        rows.append({**dict(zip([*by, "bin"], keys)), "observed_ci_low": lo, "observed_ci_high": hi})
    return pd.DataFrame(rows, columns=[*by, "bin", *INTERVAL_COLUMNS])


def reliability(predictions: pd.DataFrame, bins: int = 10, by: Sequence[str] = ("predictor", "family"),
                n_boot: int = 0, seed: int = 0, ci: float = 0.95) -> pd.DataFrame:
    """Reliability curve per group: every bin (empty ones with n = 0 and NaN means), so groups align.

    Columns: *by, bin, bin_low, bin_high, n, mean_predicted, observed_rate; with
    ``n_boot > 0`` also observed_ci_low, observed_ci_high (participants resampled, by
    ``participant_id``; seeded by ``seed`` and the group's keys).
    """
    by = list(by)
    edges = np.linspace(0.0, 1.0, bins + 1)
    df = pd.DataFrame({c: predictions[c].to_numpy() for c in by})
    df["bin"] = _bin_index(predictions["p_affirmative"].to_numpy(float), bins)
    df["p"] = predictions["p_affirmative"].to_numpy(float)
    df["y"] = human_target(predictions)
    if n_boot > 0:
        df["participant"] = predictions["participant_id"].to_numpy()
    agg = df.groupby([*by, "bin"], sort=True).agg(n=("p", "size"), mean_predicted=("p", "mean"),
                                                  observed_rate=("y", "mean")).reset_index()
    groups = df[by].drop_duplicates() if by else pd.DataFrame(index=[0])
    full = groups.merge(pd.DataFrame({"bin": np.arange(bins)}), how="cross")
    out = full.merge(agg, on=[*by, "bin"], how="left")
    out["n"] = out["n"].fillna(0).astype(int)
    out["bin_low"] = edges[out["bin"].to_numpy()]
    out["bin_high"] = edges[out["bin"].to_numpy() + 1]
    columns = [*by, *RELIABILITY_COLUMNS]
    if n_boot > 0:
        out = out.merge(_observed_intervals(df, by, n_boot, seed, ci), on=[*by, "bin"], how="left")
        columns += INTERVAL_COLUMNS
    return out.sort_values([*by, "bin"], kind="stable")[columns].reset_index(drop=True)


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
