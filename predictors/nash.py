"""Stage-game Nash equilibrium predictor.

The human is the row player of the decision's stage game (``Family.stage_game``,
an ``envs.stage_game.StageGame``).  All its equilibria, degenerate games'
segments included, come from exact vertex enumeration (``envs.equilibria``,
cached per game) and one of the human's equilibrium strategies is chosen by
``selection`` (documented in full in ``envs.equilibria``):

- ``"mixed"`` (default): the unique fully mixed isolated equilibrium when there
  is one; otherwise, when the equilibria form one component, its centroid (the
  unique equilibrium, or a segment's midpoint); otherwise the mean of the
  components' centroids.  In the Prisoner's Dilemma this is mutual defection
  (P(J) = 0); in Battle of the Sexes the mixed equilibrium where the human
  plays J with probability 7/17.
- ``"average"``: the mean of the components' centroids.
- ``"payoff_dominant"``: the equilibrium with the highest sum of expected
  payoffs; a tie (Battle of the Sexes) is reported in the diagnostics
  (``tie``, ``tied``) and broken by the human's own payoff, then averaged.
- ``"first"``: the first extreme equilibrium in support-enumeration order.

Each prediction's diagnostics are ``StageGame.equilibrium_notes``: the number of
extreme equilibria and of components, whether the game is degenerate, the
clause of the rule that chose, and any tie.

The equilibrium is the same in every round: it is the normative benchmark of the
one-shot game, not a model of repeated-game strategies.  A family without a stage
game cannot be scored by this predictor (the run says so before anything is scored).
"""

from __future__ import annotations

from typing import Sequence

from envs.equilibria import SELECTIONS, select_equilibrium
from envs.records import DecisionPoint
from envs.registry import get_family
from envs.stage_game import StageGame
from predictors.base import Prediction, Predictor

__all__ = ["NashPredictor", "SELECTIONS", "select_equilibrium", "stage_game"]


def stage_game(dp: DecisionPoint) -> StageGame:
    """The decision's stage game, from its family; a ValueError when the family has none or it does not fit."""
    game = get_family(dp.family).stage_game(dp)
    if not set(dp.legal_actions) <= set(game.actions):
        raise ValueError(f"decision {dp.decision_id}: legal actions {dp.legal_actions} are not the stage game's "
                         f"actions {game.actions}")
    return game


class NashPredictor(Predictor):
    """P(action) = the human's stage-game equilibrium strategy."""

    category = "equilibrium"

    def __init__(self, selection: str = "mixed", name: str | None = None):
        if selection not in SELECTIONS:
            raise ValueError(f"unknown equilibrium selection {selection!r}; choose from {SELECTIONS}")
        self.selection = selection
        self.name = name or f"nash-{selection}"

    def validate(self, decisions: Sequence[DecisionPoint]) -> None:
        for dp in {dp.family: dp for dp in decisions}.values():
            stage_game(dp)

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        out = []
        for dp in batch:
            game = stage_game(dp)
            strat = game.equilibrium(self.selection)
            probs = {a: strat[a] for a in dp.legal_actions}
            z = sum(probs.values())
            out.append(Prediction(dp.decision_id, {a: p / z for a, p in probs.items()},
                                  game.equilibrium_notes(self.selection)))
        return out

    def describe(self) -> dict:
        return {**super().describe(), "selection": self.selection}
