"""The ``Family`` protocol: everything gamereplay needs to know about a game family.

A *game family* is a kind of game together with the human logs it is read from:
the repeated Prisoner's Dilemma of Akata et al., GLEE bargaining, a user's stag hunt
from a CSV.  Subclass ``Family`` (or write a YAML file, ``envs.tabular``) and register
it (``envs.register_family``); every predictor, metric and report then works on it.

Required (a family without them cannot be replayed):

==================  ============================================================
``name``            the family's name in configs and in the predictions table
``description``     one line for ``gamereplay list``
``load(folder)``    the human log -> ``(trajectories, LoadReport)``; problems go
                    into the report with file, row and field (``envs.quality``)
``make_env(t)``     a replay environment for trajectory ``t``: a PettingZoo AEC
                    environment with the replay methods of ``envs.replay_env``
==================  ============================================================

Optional (each unlocks predictors; a family without one simply lacks them):

=========================  =================================================  ==========================
method                     what                                               used by
=========================  =================================================  ==========================
``prompt(dp)``             the decision in words: named parts ``rules``,       ``llm``
                           ``history``, ``question``, ``round``, ``options``
                           (prompt variants put them together)
``option_text(action)``    what a model writes to choose ``action``           ``llm``
``stage_game(dp)``         the ``StageGame`` the decision is taken in          ``nash``, ``qre``,
                                                                               ``normative`` (default)
``normative(dp, variant)`` the rational benchmark: (probabilities, notes);    ``normative``
                           by default the stage game's Nash equilibrium
``features(dp)``           named numbers describing the decision              ``feature-logit``
``cell(dp)``               the group of comparable decisions                  ``population-rate``,
                           (default: game and round)                          ``reciprocity``
``variables(dp)``          named values of the decision (round, game,         ``analysis.group_by``
                           context such as an offer)
``opponent_move(dp, dir)`` the other seat's move in this round, as the        counterfactual play
                           opponent the humans faced plays it                 (``simulate:``)
=========================  =================================================  ==========================

``can_hide`` names what ``prompt`` can leave out of the history when an event is marked hidden
(``envs.records.hidden``): ``"payoffs"``, ``"own_moves"`` — the history interventions ``hide-payoffs`` and
``hide-own-moves`` (``envs.interventions``) need it; the default is nothing.

``dataset`` names the registered data set ``load`` reads by default (``sim.datasets``);
a family read from a local path (``data.path``) has ``dataset = None`` and ``source``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envs.quality import LoadReport
from envs.records import DecisionPoint, Trajectory
from envs.stage_game import StageGame

Probabilities = dict[str, float]

#: the optional methods, in the order ``gamereplay list`` shows them
OPTIONAL = ("prompt", "stage_game", "normative", "features", "cell", "variables", "opponent_move")


class NotProvided(NotImplementedError):
    """A family does not provide an optional part (e.g. no stage game): the predictor needing it cannot run."""


class Family:
    """Base class of a game family; see the module docstring for what to override."""

    name: str = ""
    description: str = ""
    #: the registered data set ``load`` reads (``None``: a local path, see ``source``)
    dataset: str | None = None
    #: a local file or folder to read instead of a registered data set
    source: Path | None = None
    #: names of the alternative normative rules (``normative(dp, variant=...)``)
    normative_variants: tuple[str, ...] = ()
    #: what ``prompt`` leaves out of the history where an event is marked hidden: "payoffs", "own_moves"
    can_hide: frozenset[str] = frozenset()

    # -- required ------------------------------------------------------------------------------
    def load(self, folder: Path) -> tuple[list[Trajectory], LoadReport]:
        """Read the human log in ``folder`` (the data set's folder, or ``source``)."""
        raise NotImplementedError(f"family {self.name!r} does not implement load")

    def make_env(self, trajectory: Trajectory):
        """A replay environment bound to nothing yet, shaped for ``trajectory``."""
        raise NotImplementedError(f"family {self.name!r} does not implement make_env")

    # -- optional ------------------------------------------------------------------------------
    def prompt(self, dp: DecisionPoint) -> dict[str, str]:
        raise NotProvided(f"game family {self.name!r} has no prompt renderer")

    def option_text(self, action: str) -> str:
        return action

    def stage_game(self, dp: DecisionPoint) -> StageGame:
        raise NotProvided(f"game family {self.name!r} has no stage game (no matrix game to solve)")

    def normative(self, dp: DecisionPoint, variant: str | None = None) -> tuple[Probabilities, dict]:
        """The game's normative prediction; by default the stage game's equilibrium (``variant`` = selection)."""
        game = self.stage_game_or_none(dp)
        if game is None:
            raise NotProvided(f"game family {self.name!r} has no normative rule")
        selection = variant or "mixed"
        probs = game.equilibrium(selection)
        return ({a: probs.get(a, 0.0) for a in dp.legal_actions},
                {"selection": selection, **game.equilibrium_notes(selection)})

    def features(self, dp: DecisionPoint) -> dict[str, float]:
        raise NotProvided(f"game family {self.name!r} defines no decision features for feature-logit")

    def cell(self, dp: DecisionPoint) -> tuple:
        """Decisions in the same cell are comparable: descriptive baselines pool other people's choices in it."""
        return (dp.game, dp.round)

    def opponent_move(self, dp: DecisionPoint, folder: Path | None = None) -> str:
        """The other seat's move in ``dp``'s round as the opponent the humans faced plays it, given ``dp``'s
        history (``folder``: the data set's folder, for a policy stored beside the log).  Counterfactual play
        (``sim.counterfactual``) puts a predictor in the human's seat against it."""
        raise NotProvided(f"game family {self.name!r} declares no opponent policy to play against")

    def variables(self, dp: DecisionPoint) -> dict[str, Any]:
        """Named values a decision can be grouped by in the analysis (``analysis.group_by``)."""
        out: dict[str, Any] = {"round": dp.round, "game": dp.game, "role": dp.role}
        out.update({k: v for k, v in dp.params.items() if isinstance(v, (str, int, float, bool)) and v is not None})
        return out

    # -- helpers -------------------------------------------------------------------------------
    def provides(self, part: str) -> bool:
        """Whether this family overrides the optional ``part`` (``stage_game``, ``prompt`` ...).

        ``normative`` counts as provided when the family has a stage game."""
        if part not in OPTIONAL:
            raise ValueError(f"unknown family part {part!r}; one of {OPTIONAL}")
        mine = getattr(type(self), part, None) is not getattr(Family, part)
        if part == "normative":
            return mine or self.provides("stage_game")
        return mine

    def stage_game_or_none(self, dp: DecisionPoint) -> StageGame | None:
        try:
            return self.stage_game(dp)
        except NotProvided:
            return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

