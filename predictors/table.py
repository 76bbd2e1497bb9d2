"""The predictions table: one row per (predictor, decision), keyed by decision id.

Columns: ``decision_id, predictor, family, game, participant_id, round,
human_action, affirmative, human_affirmative`` (1 if the human took the
affirmative action), ``human_rate`` (the share of people who took it: equal to
``human_affirmative`` for one person's decision, the observed rate for aggregate
data), ``is_rate`` (whether the row is aggregate data), ``p_affirmative``, ``p_human`` (probability given to what the
human did), ``p_top`` (the highest probability), ``predicted_action`` (most likely action), ``n_tied`` (how many actions
share the top probability), ``mass`` (decision-token mass; NaN for non-LLM
predictors), ``probs`` and ``diagnostics`` (JSON text, so any family's actions fit).
"""

from __future__ import annotations

import json
import math
from typing import Sequence

import pandas as pd

from envs.records import DecisionPoint
from predictors.base import Prediction, Predictor, applicable

COLUMNS = ["decision_id", "predictor", "family", "game", "participant_id", "round", "human_action",
           "affirmative", "human_affirmative", "human_rate", "is_rate", "p_affirmative", "p_human", "p_top", "predicted_action", "n_tied",
           "mass", "flags", "probs", "diagnostics"]


def to_rows(predictor: str, decisions: Sequence[DecisionPoint], predictions: Sequence[Prediction]) -> list[dict]:
    """Join predictions to their decisions; every decision must be predicted exactly once."""
    by_id = {p.decision_id: p for p in predictions}
    if len(by_id) != len(decisions) or any(dp.decision_id not in by_id for dp in decisions):
        missing = [dp.decision_id for dp in decisions if dp.decision_id not in by_id][:3]
        raise ValueError(f"predictor {predictor!r} did not return one prediction per decision (missing {missing})")
    rows = []
    for dp in decisions:
        p = by_id[dp.decision_id]
        top = max(p.probs.values())
        tied = [a for a, v in p.probs.items() if math.isclose(v, top, rel_tol=0, abs_tol=1e-12)]
        rows.append({
            "decision_id": dp.decision_id, "predictor": predictor, "family": dp.family, "game": dp.game,
            "participant_id": dp.participant_id, "round": dp.round, "human_action": dp.human_action,
            "affirmative": dp.affirmative, "human_affirmative": int(dp.human_action == dp.affirmative),
            "human_rate": float(dp.human_rate if dp.human_rate is not None else dp.human_action == dp.affirmative),
            "is_rate": dp.human_rate is not None,
            "p_affirmative": float(p.probs[dp.affirmative]), "p_human": float(p.probs[dp.human_action]),
            "p_top": float(top), "predicted_action": tied[0], "n_tied": len(tied),
            "mass": float(p.diagnostics.get("mass", math.nan)), "flags": ",".join(dp.flags),
            "probs": json.dumps(dict(p.probs)), "diagnostics": json.dumps(dict(p.diagnostics), default=str),
        })
    return rows


def to_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def upgrade(df: pd.DataFrame) -> pd.DataFrame:
    """A predictions table written before aggregate data existed, given its ``human_rate``/``is_rate`` columns."""
    df = df.copy()
    if "human_rate" not in df:
        df["human_rate"] = df["human_affirmative"].astype(float)
    if "is_rate" not in df:
        df["is_rate"] = False
    return df[[c for c in COLUMNS if c in df] + [c for c in df if c not in COLUMNS]]


def predict_table(predictor: Predictor, decisions: Sequence[DecisionPoint], fit: bool = True) -> pd.DataFrame:
    """The predictions table of ``predictor`` on the ``decisions`` it applies to (``Predictor.applies_to``;
    a one-shot model leaves out later rounds): fitted on them first if ``fit`` (learners predict each person
    only from others'), then scored ``predictor.batch_size`` decisions per call."""
    decisions = applicable(predictor, decisions)
    if fit:
        predictor.fit(decisions)
    out: list[Prediction] = []
    step = max(1, int(predictor.batch_size))
    for i in range(0, len(decisions), step):
        out.extend(predictor.predict(decisions[i: i + step]))
    return to_frame(to_rows(predictor.name, decisions, out))
