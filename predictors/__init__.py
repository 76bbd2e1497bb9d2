"""Predictors: anything that assigns a probability to each legal action of a human decision.

The public surface (imported on first use, so ``import predictors.base`` stays light: no
built-in predictor, no torch)::

    from predictors import Predictor, Prediction, register_predictor, make_predictor, predict_table

    table = predict_table(make_predictor("nash"), decisions)   # the predictions table (a DataFrame)

``Predictor`` / ``Prediction`` (``predictors.base``) are what a new predictor implements;
``register_predictor`` makes it a config ``type`` (``predictors.registry``).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {"Predictor": "predictors.base", "Prediction": "predictors.base",
            "register_predictor": "predictors.registry", "make_predictor": "predictors.registry",
            "predictor_types": "predictors.registry", "predict_table": "predictors.table"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'predictors' has no attribute {name!r}")
