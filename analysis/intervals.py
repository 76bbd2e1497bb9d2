"""Pearson r with a participant-bootstrap interval per group, and the reason wherever either is missing.

The report's metrics table, its round-by-round curves and the normative-bias panel
all need the same thing: r of one series with another, how sure we are of it (people,
not decisions, are resampled: one person's decisions are not independent), and —
when r or its interval does not exist — why, so that a page says "constant
prediction" instead of showing a blank or an empty chart.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from analysis.bootstrap import pearson, r_interval, seeded_rng
from analysis.pairs import human_target

R_COLUMNS = ["n", "n_participants", "pearson_r", "r_ci_low", "r_ci_high", "r_note"]


def r_note(p: np.ndarray, y: np.ndarray) -> str:
    """Why Pearson r of predictions ``p`` with targets ``y`` is undefined ("" when it is defined)."""
    p, y = np.asarray(p, float), np.asarray(y, float)
    if len(p) < 2:
        return "fewer than 2 decisions"
    if np.ptp(p) == 0:
        return "constant prediction"
    if np.ptp(y) == 0:
        return "people all chose alike"
    return ""


def participant_interval(x: np.ndarray, y: np.ndarray, participants, n_boot: int, rng: np.random.Generator,
                         ci: float = 0.95) -> tuple[float, float]:
    """:func:`analysis.bootstrap.r_interval`, but NaN for a single participant: every resample of one person
    is that person again, so the "interval" would be the estimate itself and look falsely certain."""
    if pd.Series(list(participants)).nunique() < 2:
        return np.nan, np.nan
    return r_interval(x, y, participants, n_boot, rng, ci)


def r_table(predictions: pd.DataFrame, by: Sequence[str], n_boot: int, seed: int = 0,
            ci: float = 0.95) -> pd.DataFrame:
    """Per group of ``by``: n, participants, Pearson r with people, its participant-bootstrap CI, and a note.

    The CI is NaN when r is undefined or when most resamples leave one side constant
    (few participants); ``r_note`` then says why.  Each group's resamples are seeded by
    the seed and the group's keys, so adding a predictor does not move another's interval.

    Columns: *by, n, n_participants, pearson_r, r_ci_low, r_ci_high, r_note.
    """
    by = list(by)
    rows = []
    for keys, g in predictions.groupby(by, sort=True):
        keys = keys if isinstance(keys, tuple) else (keys,)
        p, y = g["p_affirmative"].to_numpy(float), human_target(g)
        lo, hi = participant_interval(p, y, g["participant_id"], n_boot, seeded_rng(seed, "r", *keys), ci)
        note = r_note(p, y)
        if not note and n_boot > 0 and not np.isfinite(lo):
            note = "one participant: no interval" if g["participant_id"].nunique() < 2 \
                else "too few participants for an interval"
        rows.append({**dict(zip(by, keys)), "n": int(len(g)), "n_participants": int(g["participant_id"].nunique()),
                     "pearson_r": pearson(p, y), "r_ci_low": lo, "r_ci_high": hi, "r_note": note})
    return pd.DataFrame(rows, columns=[*by, *R_COLUMNS])
