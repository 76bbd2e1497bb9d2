"""Analysis: metrics over predictions tables, comparisons and reports.

The public surface (imported on first use)::

    from analysis import metrics_table, metrics_by_variable

    metrics_table(table)                               # per predictor x family/game x round, and pooled
    metrics_by_variable(table, decisions, ["offer"])   # per value of a decision's variable, r with a CI
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {"metrics_table": "analysis.metrics", "summarise": "analysis.metrics",
            "metrics_by_variable": "analysis.variables", "pair_table": "analysis.pairs", "Pair": "analysis.pairs",
            "participant_nll": "analysis.likelihood", "nll_ranking": "analysis.likelihood",
            "paired_nll": "analysis.likelihood"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
