"""The normative benchmark for a bargaining response: Rubinstein's subgame-perfect acceptance rule.

Game theory.  Player i values x dollars received in round t at
``delta_i ** (t - 1) * x``.  With a last round T (``max_rounds``), subgame
perfection is found by backward induction on the proposer's share y(t) (in
dollars): the proposer in round T takes everything, y(T) = M; in round t < T the
responder j accepts an offer x exactly when ``x >= delta_j * y(t+1)`` — what j
gets by rejecting and proposing next round, discounted by one round — so the
proposer offers that and keeps ``y(t) = M - delta_j * y(t+1)``.  For long
horizons this converges to Rubinstein's infinite-horizon split, where the
first proposer i keeps ``M (1 - delta_j) / (1 - delta_i delta_j)``.

The responder's rule: accept iff the offer to them is at least
``delta_j * y(t+1)`` (ties accept).  With both deltas 1 and a finite horizon the
last proposer takes all, so the rule accepts anything or nothing by round
parity — that is what subgame perfection says, not a bug.

Incomplete information: the responder knows only their own delta.  The rule then
uses the responder's belief that the other side discounts like themselves
(``delta_other := delta_own``), the symmetric-belief benchmark; the true
other delta is never used in that case.
"""

from __future__ import annotations

import math

from envs.glee.bargaining.rules import delta, proposer
from envs.glee.rules import other
from envs.records import DecisionPoint


def proposer_share(money: float, deltas: dict[str, float], max_rounds: int, round_: int) -> float:
    """y(round_): the SPE amount the proposer of ``round_`` keeps, by backward induction from ``max_rounds``."""
    y = money
    for t in range(max_rounds - 1, round_ - 1, -1):
        responder = other(proposer(t))
        y = money - deltas[responder] * y
    return y


def acceptance_threshold(params: dict, seat: str, round_: int) -> float:
    """The smallest offer (dollars) the responder ``seat`` accepts in ``round_`` under SPE."""
    own = delta(params, seat)
    theirs = delta(params, other(seat)) if params.get("complete_information", True) else own
    deltas = {seat: own, other(seat): theirs}
    max_rounds = int(params["max_rounds"])
    if round_ >= max_rounds:
        return 0.0  # rejecting the last offer leaves nothing
    return own * proposer_share(float(params["money"]), deltas, max_rounds, round_ + 1)


def rule(dp: DecisionPoint) -> tuple[dict[str, float], dict]:
    """P(accept) = 1 when the offer meets the SPE threshold, else 0; plus the threshold used."""
    seat = dp.params["human_seat"]
    offer = next(e for e in reversed(dp.history) if e.action == "offer")
    mine = float(offer.data["gains"][seat])
    thr = acceptance_threshold(dict(dp.params), seat, dp.round)
    acc = 1.0 if mine >= thr - 1e-9 * float(dp.params["money"]) else 0.0
    return {"accept": acc, "reject": 1.0 - acc}, {"threshold": thr, "offer": mine}


def features(dp: DecisionPoint) -> dict[str, float]:
    """Numbers a descriptive model of acceptance can use (shares are fractions of the stakes)."""
    seat = dp.params["human_seat"]
    offer = next(e for e in reversed(dp.history) if e.action == "offer")
    m = float(dp.params["money"])
    share = float(offer.data["gains"][seat]) / m
    return {"share": share, "share_minus_spe": share - acceptance_threshold(dict(dp.params), seat, dp.round) / m,
            "log_round": math.log(dp.round), "own_delta": delta(dp.params, seat)}
