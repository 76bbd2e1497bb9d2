"""A unit of scoring work that every backend runs the same way: one predictor, its shards.

Both backends (``sim.local_backend``, ``sim.ray_backend``) build a predictor from its
config spec, fit it on the run's decisions, and score shard after shard with
``score_shard``; only *where* that happens differs.  Keeping the per-shard code in one
place is what makes a Ray run's tables identical to a local run's.  A spec may name a
plugin's predictor type: ``build_predictor`` activates the run's ``PluginSetup``
(``sim.plugins``) first, which is a no-op where it is active already (the driver).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import pandas as pd

from envs.records import DecisionPoint
from predictors.base import Predictor, applicable
from predictors.intervened import Intervened
from predictors.registry import build
from predictors.table import predict_table
from sim.plugins import PluginSetup, activate
from sim.store import Shard


def build_predictor(spec: Mapping[str, Any], progress: bool = True, setup: PluginSetup | None = None) -> Predictor:
    """Instantiate one predictor from its config spec (no model weights are loaded yet).

    ``setup``: the run's plugins, imported first (in a fresh worker process they are not yet)."""
    activate(setup)
    params = {k: v for k, v in spec.items() if k not in ("type", "families", "intervention")}
    pred = build(spec["type"], **params)
    if "intervention" in spec:  # one intervention per spec here: sim.config expands a list
        pred = Intervened(pred, spec["intervention"])
    pred.families = spec.get("families")  # None: every family of the run
    if hasattr(pred, "progress"):  # --quiet reaches the predictors' own progress bars too
        pred.progress = progress
    return pred


def scored_by(pred: Predictor, decisions: Sequence[DecisionPoint]) -> list[DecisionPoint]:
    """The decisions a predictor scores: those of the families its spec names (all, without ``families:``) that
    it is a model of (``Predictor.applies_to``: a one-shot model, round 1 only)."""
    only = getattr(pred, "families", None)
    return applicable(pred, decisions if not only else [dp for dp in decisions if dp.family in only])


@dataclass
class PredictorJob:
    """One predictor's work in a run: its spec (to rebuild it elsewhere), the instance, its shards."""

    spec: dict[str, Any]
    predictor: Predictor
    shards: list[Shard]

    @property
    def name(self) -> str:
        return self.predictor.name

    @property
    def uses_gpu(self) -> bool:
        """Whether a worker scoring this job should hold a GPU (language models only)."""
        return self.spec.get("type") in ("llm", "probe")


def score_shard(pred: Predictor, shard: Shard, by_id: Mapping[str, DecisionPoint]) -> pd.DataFrame:
    """The predictions rows of one shard, in the shard's decision order (the predictor is fitted already)."""
    return predict_table(pred, [by_id[i] for i in shard.decision_ids], fit=False)
