"""The predictor protocol: score a batch of decision points at once.

A predictor returns, for each decision point, one probability per legal action
(summing to 1) and a dict of diagnostics (e.g. the probability mass an LLM put
on the decision tokens).  ``fit`` sees every decision point of the run before
prediction; predictors that learn from data must use only *other* participants'
decisions when predicting a person (leave-one-participant-out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from envs.records import DecisionPoint


@dataclass(frozen=True)
class Prediction:
    decision_id: str
    probs: Mapping[str, float]
    diagnostics: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        total = sum(self.probs.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"{self.decision_id}: probabilities sum to {total}, not 1")


class Predictor:
    """Base class; subclasses implement ``predict`` (and ``fit`` if they learn)."""

    name: str = "predictor"
    #: preferred number of decision points per ``predict`` call
    batch_size: int = 1024

    def fit(self, decisions: Sequence[DecisionPoint]) -> None:
        """Learn from the run's decisions (default: nothing to learn)."""

    def validate(self, decisions: Sequence[DecisionPoint]) -> None:
        """Fail fast (before any model loads) if this predictor cannot handle these decisions."""

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Plain settings for the run manifest."""
        return {"name": self.name, "class": type(self).__name__}
