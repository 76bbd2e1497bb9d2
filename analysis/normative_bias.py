"""Normative bias: how much a predictor's predictions look like the game-theoretic prescription.

The study's explanation for aligned models describing people worse is that alignment
pulls them toward what a rational player *should* do.  That is testable directly:
correlate each predictor's p(affirmative) with the ``normative`` predictor's on the
same decisions, and ask whether an aligned model sits closer to the prescription than
its base partner.  ``human_r_with_normative`` (how well the prescription itself describes
people) says how costly that pull is in each family.  With ``n_boot`` each correlation
gets a participant-bootstrap interval (people resampled, not decisions), so a bar chart
of them can show how much of a difference is noise.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.bootstrap import seeded_rng
from analysis.intervals import participant_interval
from analysis.pairs import PAIR_COLUMNS, Pair, human_target, pearson

BIAS_COLUMNS = ["n", "r_with_normative", "mean_abs_distance", "r_human", "human_r_with_normative"]
#: with ``n_boot``: the interval of each correlation in BIAS_COLUMNS, as ``<name>_ci_low`` / ``<name>_ci_high``
CORRELATIONS = ["r_with_normative", "r_human", "human_r_with_normative"]
INTERVAL_COLUMNS = [f"{c}_ci_{end}" for c in CORRELATIONS for end in ("low", "high")]
CLOSER_COLUMNS = ["r_with_normative_base", "r_with_normative_aligned", "distance_base", "distance_aligned",
                  "aligned_closer_r", "aligned_closer_distance"]


def _intervals(p: np.ndarray, pn: np.ndarray, y: np.ndarray, participants: np.ndarray, n_boot: int,
               seed: int, keys: tuple) -> dict[str, float]:
    """Participant-bootstrap interval of each of the three correlations, seeded by the group's keys."""
    out: dict[str, float] = {}
    for name, (a, b) in zip(CORRELATIONS, ((p, pn), (p, y), (pn, y))):
        lo, hi = participant_interval(a, b, participants, n_boot, seeded_rng(seed, "normative", name, *keys))
        out.update({f"{name}_ci_low": lo, f"{name}_ci_high": hi})
    return out


def normative_bias(predictions: pd.DataFrame, normative: str = "normative",
                   by: Sequence[str] = ("family",), n_boot: int = 0, seed: int = 0) -> pd.DataFrame:
    """Per group × predictor: agreement with the normative predictor on the decisions both predicted.

    ``r_with_normative``: Pearson r of p_affirmative with the normative p_affirmative (NaN
    when either is constant, e.g. a normative rule that always says accept);
    ``mean_abs_distance``: mean |p - p_normative|; ``r_human``: the predictor's own r
    with people; ``human_r_with_normative``: the normative predictor's r with people.

    Columns: *by, predictor, n, r_with_normative, mean_abs_distance, r_human, human_r_with_normative;
    with ``n_boot > 0`` also the 95 % participant-bootstrap interval of each correlation
    (``INTERVAL_COLUMNS``: r_with_normative_ci_low, r_with_normative_ci_high, ...).
    """
    by = list(by)
    if normative not in set(predictions["predictor"]):
        raise ValueError(f"normative predictor {normative!r} is not in the predictions table")
    norm = predictions[predictions["predictor"] == normative]
    ref = pd.DataFrame({"decision_id": norm["decision_id"].to_numpy(), "p_norm": norm["p_affirmative"].to_numpy(float)})
    df = predictions[["decision_id", "predictor", *[c for c in by if c not in ("decision_id", "predictor")]]].copy()
    df["p"] = predictions["p_affirmative"].to_numpy(float)
    df["y"] = human_target(predictions)
    df["participant"] = predictions["participant_id"].to_numpy()
    df = df.merge(ref, on="decision_id", how="inner", validate="many_to_one")
    rows = []
    for keys, g in df.groupby([*by, "predictor"], sort=True):
        keys = keys if isinstance(keys, tuple) else (keys,)
        p, pn, y = g["p"].to_numpy(), g["p_norm"].to_numpy(), g["y"].to_numpy()
        rows.append({**dict(zip([*by, "predictor"], keys)), "n": int(len(g)), "r_with_normative": pearson(p, pn),
                     "mean_abs_distance": float(np.abs(p - pn).mean()), "r_human": pearson(p, y),
                     "human_r_with_normative": pearson(pn, y),
                     **(_intervals(p, pn, y, g["participant"].to_numpy(), n_boot, seed, keys) if n_boot > 0 else {})})
    return pd.DataFrame(rows, columns=[*by, "predictor", *BIAS_COLUMNS, *(INTERVAL_COLUMNS if n_boot > 0 else [])])


def _closer(aligned: float, base: float, higher_is_closer: bool) -> object:
    if not (np.isfinite(aligned) and np.isfinite(base)):
        return pd.NA
    return bool(aligned > base) if higher_is_closer else bool(aligned < base)


def closer_to_normative(bias: pd.DataFrame, pairs: Iterable[Pair]) -> pd.DataFrame:
    """Per pair × group of a ``normative_bias`` table: is the aligned model closer to the prescription?

    By correlation (higher r_with_normative) and by distance (lower mean |p - p_normative|);
    NA when either value is undefined.  Groups where either model is missing are left out.

    Columns: pair, base, aligned, provider, matched, *group columns, r_with_normative_base,
    r_with_normative_aligned, distance_base, distance_aligned, aligned_closer_r,
    aligned_closer_distance (nullable booleans).
    """
    gcols = [c for c in bias.columns if c not in ("predictor", *BIAS_COLUMNS, *INTERVAL_COLUMNS)]
    rows = []
    for pair in pairs:
        b = bias[bias["predictor"] == pair.base]
        a = bias[bias["predictor"] == pair.aligned]
        both = b.merge(a, on=gcols, suffixes=("_b", "_a")) if gcols else b.merge(a, how="cross", suffixes=("_b", "_a"))
        for _, row in both.iterrows():
            rows.append({"pair": pair.name, "base": pair.base, "aligned": pair.aligned, "provider": pair.provider,
                         "matched": pair.matched, **{c: row[c] for c in gcols},
                         "r_with_normative_base": row["r_with_normative_b"],
                         "r_with_normative_aligned": row["r_with_normative_a"],
                         "distance_base": row["mean_abs_distance_b"], "distance_aligned": row["mean_abs_distance_a"],
                         "aligned_closer_r": _closer(row["r_with_normative_a"], row["r_with_normative_b"], True),
                         "aligned_closer_distance": _closer(row["mean_abs_distance_a"], row["mean_abs_distance_b"],
                                                            False)})
    out = pd.DataFrame(rows, columns=[*PAIR_COLUMNS, *gcols, *CLOSER_COLUMNS])
    for c in ("aligned_closer_r", "aligned_closer_distance"):
        out[c] = out[c].astype("boolean")
    return out
