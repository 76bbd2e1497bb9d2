"""The predictor protocol: score a batch of decision points at once.

A predictor returns, for each decision point, one probability per legal action
(summing to 1) and a dict of diagnostics (e.g. the probability mass an LLM put
on the decision tokens).  ``fit`` sees every decision point of the run before
prediction; predictors that learn from data must use only *other* participants'
decisions when predicting a person (leave-one-participant-out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
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


#: the kinds of model the report tells apart (``Predictor.category``), in the order it lists them
CATEGORIES = ("baseline", "descriptive", "equilibrium", "bounded rationality", "learning", "language model", "probe",
              "other")


class Predictor:
    """Base class; subclasses implement ``predict`` (and ``fit`` if they learn)."""

    name: str = "predictor"
    #: preferred number of decision points per ``predict`` call
    batch_size: int = 1024
    #: the kind of model, one of ``CATEGORIES`` — how the report's "equilibrium vs learning vs LLMs" panel
    #: groups and colours predictors (a plugin's predictor may set it; unset, it is "other")
    category: str = "other"
    #: whether it reads the rendered prompt (``Family.prompt``): a language model; only such a predictor can take
    #: a history intervention that changes only what a prompt shows (``hide-payoffs``, ``envs.interventions``)
    reads_prompt: bool = False

    def applies_to(self, dp: DecisionPoint) -> bool:
        """Whether this predictor is a model of ``dp`` at all (default: of every decision).

        A model of one-shot play (cognitive hierarchy) is not a model of round 7 of a repeated game; it says
        so here rather than failing, and the runner and ``predict_table`` give it only the decisions it
        applies to.  Comparisons between predictors are then made on the decisions both scored."""
        return True

    def fit(self, decisions: Sequence[DecisionPoint]) -> None:
        """Learn from the run's decisions (default: nothing to learn)."""

    def validate(self, decisions: Sequence[DecisionPoint]) -> None:
        """Fail fast (before any model loads) if this predictor cannot handle these decisions."""

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        raise NotImplementedError

    def bind_run(self, run_dir: str | Path) -> None:
        """Where the run's files are: a predictor that keeps intermediate results (a probe's hidden states)
        keeps them there, so a re-run finds them.  Default: nothing to keep."""

    def describe(self) -> dict[str, Any]:
        """Plain settings for the run manifest."""
        return {"name": self.name, "class": type(self).__name__, "category": self.category}


def applicable(predictor: Predictor, decisions: Sequence[DecisionPoint]) -> list[DecisionPoint]:
    """The decisions ``predictor`` is a model of (``Predictor.applies_to``), in their order."""
    return [dp for dp in decisions if predictor.applies_to(dp)]
