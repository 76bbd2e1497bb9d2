"""A gamble: a finite list of (probability, amount) outcomes, and the numbers people compare gambles by.

Every other module of the family (prompt, normative rule, features, environment)
works on these objects, so the arithmetic of a gamble lives in one place.
Amounts are dollars; negative amounts are losses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

PROB_TOL = 1e-6  # how far a gamble's probabilities may sum from 1 (the data stores e.g. 0.050000000000000044)


@dataclass(frozen=True)
class Gamble:
    """Outcomes as ``((probability, amount), ...)``, in the order they are listed."""

    outcomes: tuple[tuple[float, float], ...]

    @classmethod
    def from_pairs(cls, pairs: Iterable[Sequence[float]]) -> "Gamble":
        """From the data's ``[[p, x], ...]`` lists."""
        return cls(tuple((float(p), float(x)) for p, x in pairs))

    def merged(self) -> "Gamble":
        """The same gamble with zero-probability outcomes dropped and equal amounts merged.

        The data lists e.g. ``[[1.0, 26], [0.0, 26]]`` for a sure $26; people saw one outcome.
        """
        probs: dict[float, float] = {}
        for p, x in self.outcomes:
            if p > 0:
                probs[x] = probs.get(x, 0.0) + p
        return Gamble(tuple((p, x) for x, p in probs.items()))

    def amounts(self) -> tuple[float, ...]:
        """The distinct amounts with positive probability, in listed order."""
        return tuple(x for _, x in self.merged().outcomes)

    def equal_probabilities(self) -> "Gamble":
        """Each distinct amount equally likely: the principle of insufficient reason, for unknown probabilities."""
        xs = self.amounts()
        return Gamble(tuple((1.0 / len(xs), x) for x in xs))

    def total_probability(self) -> float:
        return math.fsum(p for p, _ in self.outcomes)

    def ev(self) -> float:
        """Expected value."""
        return math.fsum(p * x for p, x in self.outcomes)

    def sd(self) -> float:
        """Standard deviation of the amount."""
        m = self.ev()
        return math.sqrt(max(0.0, math.fsum(p * (x - m) ** 2 for p, x in self.outcomes)))

    def p_loss(self) -> float:
        """Probability of losing money (an amount below zero)."""
        return math.fsum(p for p, x in self.outcomes if x < 0)

    def cara_certainty_equivalent(self, a: float) -> float:
        """The sure amount worth as much as the gamble under u(x) = (1 - exp(-a x)) / a.

        ``CE = -log E[exp(-a X)] / a``, computed with log-sum-exp so large stakes do not overflow;
        ``a = 0`` is risk neutrality (CE = EV).
        """
        if a == 0:
            return self.ev()
        terms = [math.log(p) - a * x for p, x in self.outcomes if p > 0]
        top = max(terms)
        return -(top + math.log(math.fsum(math.exp(t - top) for t in terms))) / a

    def sample(self, rng: np.random.Generator) -> float:
        """One draw of the amount (probabilities renormalised against rounding)."""
        m = self.merged().outcomes
        p = np.array([q for q, _ in m], float)
        return float(m[int(rng.choice(len(m), p=p / p.sum()))][1])


def problem_gambles(params: Mapping[str, Any]) -> tuple[Gamble, Gamble]:
    """Gambles A and B of a problem, with their true probabilities, from a trajectory's ``params``."""
    return Gamble.from_pairs(params["A"]), Gamble.from_pairs(params["B"])


def believed_gambles(params: Mapping[str, Any]) -> tuple[Gamble, Gamble]:
    """Gambles A and B as a person could know them: under ambiguity B's outcomes are equally likely.

    People never saw B's probabilities in ambiguous problems (``Amb``), so anything meant to use
    only what they saw (normative rule, features) uses this.
    """
    a, b = problem_gambles(params)
    return a.merged(), (b.equal_probabilities() if params.get("Amb") else b.merged())
