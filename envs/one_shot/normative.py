"""The normative benchmark for a one-shot 2x2 decision: the Nash equilibrium of the respondent's view.

Game theory.  In the bimatrix game (R, C) seen from the respondent's side
(rows = their strategies X, Y; columns = the other's A, B), a Nash equilibrium
is a pair of mixed strategies each a best response to the other.  A 2x2 game
with distinct payoffs has either one equilibrium — pure when some player has a
dominant strategy (the Prisoner's Dilemma: both defect), or fully mixed when
the best responses cycle (Matching Pennies) — or three: two pure ones and one
fully mixed (coordination and anti-coordination games such as Battle of the
Sexes or Chicken).  In the fully mixed equilibrium the respondent plays X with
the probability that makes the *other* player indifferent::

    P(X) = (C[1,1] - C[1,0]) / (C[0,0] - C[1,0] - C[0,1] + C[1,1])

so it depends on the other player's payoffs only — a well-known way in which
equilibrium and human play part ways.

Ties in the payoffs (common with integer payoffs) make the game *degenerate*:
when a player is indifferent between two strategies against a pure strategy of
the other, a whole segment of equilibria can exist.  The equilibria come from
the game's ``StageGame`` (exact vertex enumeration, ``envs.equilibria``), which
finds every segment's end points, so this rule and the ``nash`` predictor agree.

Selection (``variant``, as in ``envs.equilibria``): ``mixed`` (default) — the
unique fully mixed isolated equilibrium when there is one, else the centroid of
the equilibrium set when it is one component (the unique equilibrium, or a
segment's midpoint), else the mean of the components' centroids; ``average``,
``payoff_dominant`` (a tie on the payoff sum is reported in the notes, ``tie``
and ``tied``) and ``first`` as documented there.

``features`` gives the descriptive baselines numbers that plausibly drive the
choice: own payoff gains of X over Y against each of the other's strategies,
dominance for either player, the best reply to the other's dominant strategy
(one step of "level-k" reasoning), the maximin choice, the joint-payoff gain,
symmetry and the equilibrium probability itself.
"""

from __future__ import annotations

import numpy as np

from envs.equilibria import SELECTIONS as VARIANTS
from envs.records import DecisionPoint
from envs.stage_game import StageGame

__all__ = ["VARIANTS", "equilibrium_p", "rule", "features"]


def equilibrium_p(view: StageGame, variant: str = "mixed") -> float:
    """P(respondent plays their first strategy X) in the selected equilibrium."""
    return view.equilibrium(variant)[view.actions[0]]


def rule(dp: DecisionPoint, variant: str = "mixed") -> tuple[dict[str, float], dict]:
    """The selected Nash equilibrium strategy of the respondent, with the equilibria counted and any tie
    reported (``StageGame.equilibrium_notes``)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown games2p2k normative variant {variant!r}; choose from {VARIANTS}")
    view = StageGame.from_params(dp.params)
    p = equilibrium_p(view, variant)
    x, y = view.actions
    return {x: p, y: 1.0 - p}, {"selection": variant, **view.equilibrium_notes(variant),
                                "n_pure_equilibria": view.n_pure_equilibria()}


def _sign_dominance(gains: np.ndarray) -> float:
    """+1 if the first strategy weakly dominates (all gains >= 0, one > 0), -1 if the second does, else 0."""
    if np.all(gains >= 0) and np.any(gains > 0):
        return 1.0
    if np.all(gains <= 0) and np.any(gains < 0):
        return -1.0
    return 0.0


def features(dp: DecisionPoint) -> dict[str, float]:
    """Named numbers describing the decision, all from the respondent's view (X = first strategy)."""
    view = StageGame.from_params(dp.params)
    r, c = view.row, view.col
    own_gain = r[0] - r[1]  # X minus Y against A and against B
    other_gain = c[:, 0] - c[:, 1]  # A minus B against X and against Y
    other_dom = _sign_dominance(other_gain)
    reply = 0.0
    if other_dom:
        col = 0 if other_dom > 0 else 1
        reply = float(np.sign(r[0, col] - r[1, col]))
    return {
        "own_gain_vs_first": float(own_gain[0]),
        "own_gain_vs_second": float(own_gain[1]),
        "own_gain_mean": float(own_gain.mean()),
        "own_dominant": _sign_dominance(own_gain),
        "other_dominant": other_dom,
        "reply_to_other_dominant": reply,
        "maximin": float(np.sign(r[0].min() - r[1].min())),
        "joint_gain_mean": float(((r + c)[0] - (r + c)[1]).mean()),
        "symmetric": float(np.array_equal(c, r.T)),
        "n_pure_equilibria": float(view.n_pure_equilibria()),
        "nash_p": equilibrium_p(view, "mixed"),
    }
