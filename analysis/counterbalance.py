"""Averaging out, and measuring, a predictor's position bias over the two presentations of a decision.

Every games2p2k game and role is told twice: "original" (the respondent's
options listed X, Y) and "swapped" (Y, X).  People answered one fixed question,
so both presentations carry the same rate; a predictor without position bias
gives both the same probability.  ``counterbalance`` takes the predictions
table (``predictors.table``: one row per predictor x decision) and returns

- ``averaged``: one row per predictor x (game, role), in the predictions-table
  columns (so ``analysis.metrics`` scores it unchanged), with the probabilities
  averaged over the two presentations, plus ``p_original``, ``p_swapped`` and
  ``n_presentations`` (1 when a presentation is missing, e.g. under ``--limit``:
  then the one present is used as is);
- ``bias``: one row per predictor: ``pairs`` (complete pairs), ``gap`` = mean
  |p_original - p_swapped| of P(X), ``first_listed_shift`` = mean
  (p_original - p_swapped) — positive when the predictor favours whichever
  option is listed first — and ``max_gap``.

Rows of other families are ignored.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from envs.one_shot.loader import FAMILY
from predictors.table import COLUMNS

_ID = re.compile(r"^(?P<pair>.+)/(?P<presentation>original|swapped)/r1$")
BIAS_COLUMNS = ["predictor", "pairs", "gap", "first_listed_shift", "max_gap"]


def split_decision_id(decision_id: str) -> tuple[str, str]:
    """(id shared by the two presentations, presentation) of a games2p2k decision id."""
    m = _ID.match(decision_id)
    if m is None:
        raise ValueError(f"{decision_id!r} is not a games2p2k decision id (<family>/<game>/<role>/<presentation>/r1)")
    return m["pair"], m["presentation"]


@dataclass(frozen=True)
class Counterbalanced:
    averaged: pd.DataFrame
    bias: pd.DataFrame


def _mean_probs(probs: list[str]) -> dict[str, float]:
    dicts = [json.loads(p) for p in probs]
    keys = list(dict.fromkeys(k for d in dicts for k in d))
    return {k: float(np.mean([d.get(k, 0.0) for d in dicts])) for k in keys}


def _average(group: pd.DataFrame, pair: str) -> dict:
    first = group.iloc[0]
    probs = _mean_probs(list(group["probs"]))
    top = max(probs.values())
    tied = [a for a, v in probs.items() if math.isclose(v, top, rel_tol=0, abs_tol=1e-12)]
    by_pres = dict(zip(group["presentation"], group["p_affirmative"].astype(float)))
    flags = sorted({f for fl in group["flags"].fillna("") for f in str(fl).split(",") if f})
    return {
        **{c: first[c] for c in ("predictor", "family", "game", "participant_id", "round", "human_action",
                                 "affirmative", "human_affirmative", "human_rate", "is_rate")},
        "decision_id": pair, "p_affirmative": probs.get(first["affirmative"], 0.0),
        "p_human": probs.get(first["human_action"], 0.0), "p_top": top, "predicted_action": tied[0],
        "n_tied": len(tied), "mass": float(group["mass"].astype(float).mean()), "flags": ",".join(flags),
        "probs": json.dumps(probs), "diagnostics": json.dumps({"presentations": sorted(by_pres)}),
        "p_original": by_pres.get("original", math.nan), "p_swapped": by_pres.get("swapped", math.nan),
        "n_presentations": len(group),
    }


def counterbalance(predictions: pd.DataFrame) -> Counterbalanced:
    """Presentation-averaged predictions and each predictor's position-bias gap (games2p2k rows only)."""
    df = predictions[predictions["family"] == FAMILY].copy()
    split = [split_decision_id(d) for d in df["decision_id"]]
    df["pair"] = [s[0] for s in split]
    df["presentation"] = [s[1] for s in split]
    dup = df.duplicated(["predictor", "pair", "presentation"])
    if dup.any():
        raise ValueError(f"predictions table has repeated decisions, e.g. {df.loc[dup, 'decision_id'].iloc[0]!r}")
    rows = [_average(g, pair) for (_, pair), g in df.groupby(["predictor", "pair"], sort=True)]
    averaged = pd.DataFrame(rows, columns=[*COLUMNS, "p_original", "p_swapped", "n_presentations"])
    bias = []
    for pred, g in averaged.groupby("predictor", sort=True):
        full = g[g["n_presentations"] == 2]
        diff = (full["p_original"] - full["p_swapped"]).to_numpy(float)
        bias.append({"predictor": pred, "pairs": len(full),
                     "gap": float(np.abs(diff).mean()) if len(diff) else math.nan,
                     "first_listed_shift": float(diff.mean()) if len(diff) else math.nan,
                     "max_gap": float(np.abs(diff).max()) if len(diff) else math.nan})
    return Counterbalanced(averaged.reset_index(drop=True), pd.DataFrame(bias, columns=BIAS_COLUMNS))
