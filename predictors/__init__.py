"""Predictors: anything that assigns a probability to each legal action of a human decision.

The registry API is exported here (``from predictors import register_predictor``) and
imported on first use, so ``import predictors.base`` stays light (no built-in predictor,
no torch).
"""

from __future__ import annotations

from typing import Any

__all__ = ["register_predictor", "make_predictor", "predictor_types"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from predictors import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'predictors' has no attribute {name!r}")
