"""Normative benchmarks for a persuasion buyer's yes/no: the Bayesian buyer and two reference buyers.

Game theory.  Measure money in units of the price.  A product is high quality
with probability p and then worth v to the buyer, otherwise c (c = 0 in all
GLEE data), and buying costs 1.  A risk-neutral buyer who believes the product
is high quality with probability q buys iff ``q v + (1 - q) c >= 1`` (ties buy),
i.e. iff q reaches ``(1 - c) / (v - c)``.

What q is depends on what the buyer knows:

- the prior: p when the rules told it (``buyer_knows_p``); otherwise the
  Beta(1, 1)-posterior mean ``(1 + high) / (2 + n)`` of the n qualities revealed
  so far (a myopic buyer, who sees no single round, uses the sales record's
  ``(1 + high sold) / (2 + sold)``, ignoring that sold products are selected);
- binary messages (a yes/no recommendation): the seller's strategy is unknown, so
  the buyer estimates it from the track record — ``P(yes | high) = (1 + yes on
  high) / (2 + high rounds)`` and likewise for low (Laplace, i.e. Beta(1, 1)
  smoothing) — and applies Bayes' rule to the current signal.  With no track
  record both are 1/2 and the signal carries no information;
- text messages are not parsed here: the current message is treated as
  uninformative, so the Bayesian rule on a text game is the prior (known or
  learned) rule.  This is a limitation of the benchmark, not a claim that people
  ignore what they read;
- myopic games: the buyer sees only the sales statistics, never the seller's
  earlier messages, so there is no track record and the rule is the prior rule.

Variants (``RULES``):

- ``bayesian`` — the above;
- ``babbling`` — ignore every message (the babbling equilibrium's buyer): buy iff
  ``p v + (1 - p) c >= 1`` with the known or learned prior;
- ``obedient`` — the buyer of the Kamenica–Gentzkow commitment benchmark, who
  follows the recommendation: buy iff the binary signal is "yes".  Without a
  binary signal (text games) it falls back to ``bayesian`` and says so in the
  diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from envs.glee.persuasion.rules import BUYER, SELLER
from envs.glee.rules import NATURE_SEAT
from envs.records import DecisionPoint

EPS = 1e-6  # ties buy; configs write 1/3 as 0.333333333, so p = 1/3, v = 3 is a tie


@dataclass(frozen=True)
class Knowledge:
    """What the buyer saw before this decision, in counts (only from ``dp.history``)."""

    prior: float
    prior_source: str  # "known", "learned from revealed qualities", "learned from the sales record"
    signal: str | None  # the current binary signal, None for a text message
    revealed: int  # past rounds whose quality the buyer saw
    revealed_high: int
    yes_high: int  # past rounds: yes-signals on high-quality products
    yes_low: int
    high_signalled: int  # past rounds with a binary signal and a known quality, by quality
    low_signalled: int
    sold: int
    sold_high: int
    previous_buy: float  # 1/0 for the buyer's previous choice, 0.5 when none is visible
    last_quality: float  # 1/0 for the last revealed quality, 0.5 when none


def knowledge(dp: DecisionPoint) -> Knowledge:
    """Counts from the visible history; the current round's quality is never in it."""
    p = dp.params
    past = [e for e in dp.history if e.round < dp.round]
    quality = {e.round: e.data["quality"] for e in past if e.data.get("seat") == NATURE_SEAT}
    signals = {e.round: e.data.get("signal") for e in past if e.data.get("seat") == SELLER}
    buys = {e.round: e.action for e in past if e.data.get("seat") == BUYER}
    current = [e for e in dp.history if e.round == dp.round and e.data.get("seat") == SELLER]
    signal = current[-1].data.get("signal") if current else None
    high = sum(q == "high" for q in quality.values())
    sold = [r for r, a in buys.items() if a == "yes"]
    sold_high = sum(quality.get(r) == "high" for r in sold)
    if p.get("buyer_knows_p", True):
        prior, source = float(p["p"]), "known"
    elif p.get("myopic", False):
        prior, source = (1 + sold_high) / (2 + len(sold)), "learned from the sales record"
    else:
        prior, source = (1 + high) / (2 + len(quality)), "learned from revealed qualities"
    # a myopic buyer never saw an earlier pitch, so has no track record even if a history holds one
    tracked = [] if p.get("myopic", False) else \
        [(q, signals[r]) for r, q in quality.items() if signals.get(r) in ("yes", "no")]
    last = max(buys) if buys else None
    return Knowledge(
        prior=prior, prior_source=source, signal=signal, revealed=len(quality), revealed_high=high,
        yes_high=sum(q == "high" and s == "yes" for q, s in tracked),
        yes_low=sum(q == "low" and s == "yes" for q, s in tracked),
        high_signalled=sum(q == "high" for q, _ in tracked), low_signalled=sum(q == "low" for q, _ in tracked),
        sold=len(sold), sold_high=sold_high,
        previous_buy=(1.0 if buys[last] == "yes" else 0.0) if last is not None else 0.5,
        last_quality=(1.0 if quality[max(quality)] == "high" else 0.0) if quality else 0.5)


def value_ratio(q: float, params) -> float:
    """Expected worth of the product over its price when it is high quality with probability q."""
    return q * float(params["v"]) + (1 - q) * float(params["c"])


def _decide(buy: bool) -> dict[str, float]:
    return {"yes": 1.0 if buy else 0.0, "no": 0.0 if buy else 1.0}


def posterior(k: Knowledge) -> tuple[float, float, float]:
    """(P(high | what the buyer saw), P(yes | high), P(yes | low)), with Laplace-smoothed signal rates."""
    p_yes_high = (1 + k.yes_high) / (2 + k.high_signalled)
    p_yes_low = (1 + k.yes_low) / (2 + k.low_signalled)
    if k.signal not in ("yes", "no"):
        return k.prior, p_yes_high, p_yes_low
    lh = p_yes_high if k.signal == "yes" else 1 - p_yes_high
    ll = p_yes_low if k.signal == "yes" else 1 - p_yes_low
    z = k.prior * lh + (1 - k.prior) * ll
    return (k.prior * lh / z if z > 0 else k.prior), p_yes_high, p_yes_low


def _diag(dp: DecisionPoint, k: Knowledge, variant: str, q: float, note: str) -> dict:
    return {"variant": variant, "prior": k.prior, "prior_source": k.prior_source, "posterior": q,
            "value_ratio": value_ratio(q, dp.params), "signal": k.signal, "note": note}


def bayesian(dp: DecisionPoint) -> tuple[dict[str, float], dict]:
    """Buy iff the posterior expected worth covers the price (ties buy)."""
    k = knowledge(dp)
    q, p_yes_high, p_yes_low = posterior(k)
    if dp.params.get("myopic", False):
        note = "myopic buyer: sales statistics only, no track record; prior rule"
    elif k.signal is None:
        note = "text message not parsed: treated as uninformative; prior rule"
    else:
        note = "Bayes' rule on the signal with the seller's Laplace-smoothed track record"
    diag = {**_diag(dp, k, "bayesian", q, note), "p_yes_given_high": p_yes_high, "p_yes_given_low": p_yes_low}
    return _decide(value_ratio(q, dp.params) >= 1 - EPS), diag


def babbling(dp: DecisionPoint) -> tuple[dict[str, float], dict]:
    """Ignore the message: buy iff the prior expected worth covers the price."""
    k = knowledge(dp)
    return _decide(value_ratio(k.prior, dp.params) >= 1 - EPS), \
        _diag(dp, k, "babbling", k.prior, "messages ignored")


def obedient(dp: DecisionPoint) -> tuple[dict[str, float], dict]:
    """Follow a binary recommendation; without one, the Bayesian rule."""
    k = knowledge(dp)
    if k.signal in ("yes", "no"):
        return _decide(k.signal == "yes"), _diag(dp, k, "obedient", k.prior, "follows the recommendation")
    probs, diag = bayesian(dp)
    return probs, {**diag, "variant": "obedient",
                   "note": "no binary recommendation to obey (text message): fell back to bayesian; " + diag["note"]}


RULES: dict[str, Callable[[DecisionPoint], tuple[dict[str, float], dict]]] = {
    "bayesian": bayesian, "babbling": babbling, "obedient": obedient}


def rule(dp: DecisionPoint, variant: str = "bayesian") -> tuple[dict[str, float], dict]:
    """P(yes) / P(no) of the chosen benchmark buyer (0 or 1), plus the belief it used."""
    if variant not in RULES:
        raise ValueError(f"unknown persuasion rule variant {variant!r}; known: {sorted(RULES)}")
    return RULES[variant](dp)


def features(dp: DecisionPoint) -> dict[str, float]:
    """Numbers a descriptive model of buying can use.

    ``past_high_share``: Laplace-smoothed share of high quality among the products the seller recommended
    (binary games), among all revealed products (text games), or among products sold (myopic games)."""
    k = knowledge(dp)
    q, _, _ = posterior(k)
    if dp.params.get("myopic", False):
        hits, n = k.sold_high, k.sold
    elif dp.params.get("message_type") == "binary":
        hits, n = k.yes_high, k.yes_high + k.yes_low
    else:
        hits, n = k.revealed_high, k.revealed
    signal = {"yes": 1.0, "no": 0.0}.get(k.signal, 0.5)
    return {"prior_value_ratio": value_ratio(k.prior, dp.params), "posterior_value_ratio": value_ratio(q, dp.params),
            "signal": signal, "past_high_share": (1 + hits) / (2 + n), "previous_buy": k.previous_buy,
            "last_quality_high": k.last_quality, "round_fraction": dp.round / float(dp.params["total_rounds"])}
