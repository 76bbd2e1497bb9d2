"""The game's own normative prediction, for any family: equilibrium or rational benchmark.

Each game family states its normative rule next to its rules (``Family.normative``; by
default the equilibrium of its stage game):
the stage-game Nash equilibrium in the repeated matrix games, Rubinstein's
subgame-perfect acceptance rule in bargaining, the Bayesian buyer in persuasion,
"accept when the price beats the outside option" in negotiation.  This predictor
applies it, optionally with a tremble ``epsilon`` (probability spread evenly over
all legal actions) so that log-loss stays finite against people who deviate.

``variant`` picks one of a family's alternative rules (persuasion: ``bayesian``,
``babbling``, ``obedient``): a name applies to every family (each must have it),
a mapping ``{family: variant}`` only to the families it names.
"""

from __future__ import annotations

from typing import Sequence

from envs.records import DecisionPoint
from envs.registry import get_family
from predictors.base import Prediction, Predictor


class NormativePredictor(Predictor):
    """P(action) = the family's normative rule, mixed with ``epsilon`` of uniform noise."""

    category = "equilibrium"

    def __init__(self, variant: str | dict[str, str] | None = None, epsilon: float = 0.0, name: str | None = None):
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        self.variant, self.epsilon = variant, float(epsilon)
        label = variant if isinstance(variant, str) else "-".join(sorted(set((variant or {}).values())))
        self.name = name or ("normative" + (f"-{label}" if label else ""))

    def _rule(self, family: str):
        fam = get_family(family)
        if not fam.provides("normative"):
            raise ValueError(f"game family {family!r} has no normative rule")
        variant = self.variant.get(family) if isinstance(self.variant, dict) else self.variant
        if variant is None:
            return fam.normative
        if variant not in fam.normative_variants:
            if not fam.normative_variants:
                raise ValueError(f"the normative rule of {family!r} has no variants (asked for {variant!r})")
            raise ValueError(f"unknown {family} normative variant {variant!r}; choose from {fam.normative_variants}")
        return lambda dp: fam.normative(dp, variant=variant)

    def validate(self, decisions: Sequence[DecisionPoint]) -> None:
        """Unknown families or variants fail here, before anything is scored."""
        seen = {}
        for dp in decisions:
            if dp.family not in seen:
                seen[dp.family] = dp
                self._rule(dp.family)(dp)

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        rules: dict = {}
        out = []
        for dp in batch:
            rule = rules.setdefault(dp.family, self._rule(dp.family))
            probs, diag = rule(dp)
            k = len(dp.legal_actions)
            mixed = {a: (1 - self.epsilon) * float(probs.get(a, 0.0)) + self.epsilon / k for a in dp.legal_actions}
            z = sum(mixed.values())
            out.append(Prediction(dp.decision_id, {a: v / z for a, v in mixed.items()}, diag))
        return out

    def describe(self) -> dict:
        return {**super().describe(), "variant": self.variant, "epsilon": self.epsilon}
