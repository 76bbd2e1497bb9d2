"""Normative benchmarks for a choice between two gambles, and the features a descriptive model uses.

Decision theory.  An expected-utility maximiser with utility u picks the gamble
with the larger E[u(X)].  Two utilities are offered (``RULES``):

- ``ev`` (default) — risk neutrality, u(x) = x: choose the gamble with the larger
  expected value.  This is the textbook benchmark the choice-prediction
  literature measures deviations (risk aversion, loss aversion, ...) against.
- ``cara`` — constant absolute risk aversion, u(x) = (1 - exp(-a x)) / a, with
  ``CARA_A = 0.01`` per dollar.  Why that a: the certainty equivalent of a 50-50
  gamble between $0 and $100 is then about $38 (a risk premium of $12), in line
  with the certainty equivalents in the mid-$30s that people state for that
  gamble in classic experiments (Tversky & Kahneman, 1992), while a 50-50 gamble
  of +-$10 costs only about $0.50; at the data's stakes (-$50 to $256) it bends
  the utility noticeably without making every risky gamble lose.  CARA is chosen
  over power utility because it is defined for losses, which the data has.

Both rules are deterministic: the preferred gamble gets probability 1, and a tie
(values equal within 1e-9) gives 1/2 each.

Ambiguity.  When B's probabilities were not shown (``Amb``), the normative agent
cannot use them: it applies the principle of insufficient reason (Laplace) and
treats B's distinct outcomes as equally likely.  The true probabilities are never
used for such problems.  The same holds in the feedback condition, although
people there could learn the probabilities from experience — the rule models the
description, not the learning.
"""

from __future__ import annotations

from typing import Callable

from envs.lotteries.gambles import Gamble, believed_gambles
from envs.records import DecisionPoint

CARA_A = 0.01  # absolute risk aversion per dollar; see the module docstring
TIE = 1e-9


def _value_ev(g: Gamble) -> float:
    return g.ev()


def _value_cara(g: Gamble) -> float:
    return g.cara_certainty_equivalent(CARA_A)  # monotone in E[u], and in dollars


RULES: dict[str, Callable[[Gamble], float]] = {"ev": _value_ev, "cara": _value_cara}


def rule(dp: DecisionPoint, variant: str = "ev") -> tuple[dict[str, float], dict]:
    """P(A), P(B) of the chosen expected-utility maximiser (1/0, ties 1/2), plus the values compared."""
    if variant not in RULES:
        raise ValueError(f"unknown choices13k rule variant {variant!r}; known: {sorted(RULES)}")
    a, b = believed_gambles(dp.params)
    va, vb = RULES[variant](a), RULES[variant](b)
    pb = 0.5 if abs(va - vb) <= TIE * max(1.0, abs(va), abs(vb)) else float(vb > va)
    diag = {"variant": variant, "value_a": va, "value_b": vb,
            "b_probabilities": "equal (ambiguity)" if dp.params.get("Amb") else "as shown"}
    if variant == "cara":
        diag["cara_a"] = CARA_A
    return {"A": 1.0 - pb, "B": pb}, diag


def features(dp: DecisionPoint) -> dict[str, float]:
    """Numbers a descriptive model of choosing B can use, from what people saw.

    Under ambiguity B's moments use equal probabilities (as the normative rule does);
    ``amb`` lets a fitted model treat those problems differently.
    """
    a, b = believed_gambles(dp.params)
    return {"ev_diff": b.ev() - a.ev(), "sd_a": a.sd(), "sd_b": b.sd(), "p_loss_a": a.p_loss(),
            "p_loss_b": b.p_loss(), "amb": float(bool(dp.params.get("Amb"))), "corr": float(dp.params.get("Corr", 0)),
            "cara_diff": b.cara_certainty_equivalent(CARA_A) - a.cara_certainty_equivalent(CARA_A)}
