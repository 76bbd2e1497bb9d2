"""Predictor types by name, as configs refer to them (``type: nash``, ``type: llm`` ...).

Each entry is a constructor; the keyword arguments it accepts are the keys a
config may set, so a misspelt key is caught before anything runs.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from predictors.base import Predictor


def _llm(**kw: Any) -> Predictor:
    from predictors.llm.predictor import LLMPredictor  # imports torch only when an LLM is configured

    return LLMPredictor(**kw)


def _llm_params() -> list[str]:
    from predictors.llm.predictor import LLMPredictor

    return [p for p in inspect.signature(LLMPredictor.__init__).parameters if p not in ("self", "progress")]


def _builtin() -> dict[str, tuple[Callable[..., Predictor], Callable[[], list[str]]]]:
    from predictors.baselines import PopulationRate, Reciprocity, Uniform
    from predictors.feature_logit import FeatureLogit
    from predictors.nash import NashPredictor
    from predictors.normative import NormativePredictor
    from predictors.qre import QREPredictor

    def params(cls) -> Callable[[], list[str]]:
        return lambda: [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "args", "kwargs")]

    return {
        "uniform": (Uniform, lambda: []),
        "population-rate": (PopulationRate, params(PopulationRate)),
        "reciprocity": (Reciprocity, params(Reciprocity)),
        "nash": (NashPredictor, params(NashPredictor)),
        "normative": (NormativePredictor, params(NormativePredictor)),
        "feature-logit": (FeatureLogit, params(FeatureLogit)),
        "qre": (QREPredictor, params(QREPredictor)),
        "llm": (_llm, _llm_params),
    }


PREDICTOR_TYPES = _builtin()


def allowed_keys(type_name: str) -> list[str]:
    return PREDICTOR_TYPES[type_name][1]()


def build(type_name: str, **params: Any) -> Predictor:
    if type_name not in PREDICTOR_TYPES:
        raise KeyError(f"unknown predictor type {type_name!r}; known: {', '.join(sorted(PREDICTOR_TYPES))}")
    return PREDICTOR_TYPES[type_name][0](**params)
