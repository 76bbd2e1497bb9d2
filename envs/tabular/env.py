"""The generic PettingZoo AEC environment of a YAML family: a repeated two-seat game, moves simultaneous.

Its rounds are ``envs.simultaneous.SimultaneousRoundsEnv``'s, as ``envs.repeated_matrix.env``'s
(after PettingZoo's ``aec_rps``): seats ``human`` and ``opponent`` move in turn within a
round, but neither sees the other's move until the round ends; after ``n_rounds`` rounds every agent is truncated.  Actions are ``Discrete``: the
index of the seat's action in ``actions`` / ``opponent_actions``.  Observation of each
seat: the history as a vector of length ``2 * n_rounds``, per past round (own move,
other's move), coded 0 = not played (or unknown), i + 1 = action i.  Rewards come from the
stage game when the family has one (0 otherwise, and for a round whose opponent move is
unknown).

Replay (``envs.replay``): ``reset(options={"trajectory": t})`` binds a log;
``logged_action`` gives each seat's logged move — ``None`` for an opponent move the log
lacks, which ``step`` then accepts as "unknown" (only then) so that later rounds still
replay.  Live play: ``env(family=...)`` (PettingZoo's wrappers) with any policies,
``envs.live.play``, ``opponent_policy()`` for the family's declared opponent, and
``to_trajectory`` to score the game like a log.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from gymnasium import spaces

from envs.records import HUMAN, OPPONENT, DecisionPoint, Event, Trajectory
from envs.replay_env import wrap
from envs.simultaneous import SimultaneousRoundsEnv
from envs.stage_game import StageGame
from envs.tabular.loader import ROLE
from envs.tabular.scope import decision_scope


def resolve_family(family: Any):
    """A ``TabularFamily`` from itself, a registered family's name or the path of a YAML file."""
    from envs.registry import get_family, load_family_file
    from envs.tabular.family import TabularFamily

    if isinstance(family, (str, os.PathLike)) and str(family).endswith((".yaml", ".yml")):
        family = load_family_file(Path(family))
    elif isinstance(family, str):
        family = get_family(family)
    if not isinstance(family, TabularFamily):
        raise TypeError(f"expected a YAML game family (envs.tabular), got {family!r}")
    return family


class TabularEnv(SimultaneousRoundsEnv):
    """A YAML family's repeated game; replays its logs or plays live (see the module docstring)."""

    def __init__(self, family: Any, n_rounds: int | None = None, game: str | None = None,
                 context: Mapping[str, Any] | None = None, render_mode: str | None = None):
        self.family = resolve_family(family)
        spec = self.family.spec
        n_rounds = int(n_rounds or spec.data.rounds or 0)
        if n_rounds < 1:
            raise ValueError(f"{spec.file}: give n_rounds (the family sets no data.rounds)")
        self.game_name = game or self.family.default_game()
        self.names = tuple(a.name for a in spec.actions)
        self.other_names = tuple(a.name for a in spec.opponent_actions)
        n_a, n_b = len(self.names), len(self.other_names)
        obs = {HUMAN: spaces.MultiDiscrete([n_a + 1, n_b + 1] * n_rounds),
               OPPONENT: spaces.MultiDiscrete([n_b + 1, n_a + 1] * n_rounds)}
        super().__init__(n_rounds, (n_a, n_b), obs, {**(context or {}), "n_rounds": n_rounds}, render_mode)
        self.metadata = {**SimultaneousRoundsEnv.metadata, "name": f"{spec.name}_v0"}
        self.stage(1)  # a game whose payoffs need context the caller did not give fails now

    @classmethod
    def from_trajectory(cls, trajectory: Trajectory, family: Any = None,
                        render_mode: str | None = None) -> "TabularEnv":
        """An environment shaped for this trajectory's game and length (``reset`` binds it)."""
        context = {k: v for k, v in trajectory.params.items() if k != "n_rounds"}
        return cls(family or trajectory.family, int(trajectory.params["n_rounds"]), trajectory.game, context,
                   render_mode)

    def _adopt(self, trajectory: Trajectory) -> None:
        if trajectory.family != self.family.name:
            raise ValueError(f"{trajectory.trajectory_id}: a {trajectory.family!r} trajectory, "
                             f"not {self.family.name!r}")
        if int(trajectory.params["n_rounds"]) != self.n_rounds:
            raise ValueError(f"{trajectory.trajectory_id}: has {trajectory.params['n_rounds']} rounds but this "
                             f"environment plays {self.n_rounds}: use from_trajectory")
        super()._adopt(trajectory)
        self.game_name = trajectory.game

    # -- the game --------------------------------------------------------------------------------
    def action_labels(self, agent: str) -> tuple[str, ...]:
        return self.names if agent == HUMAN else self.other_names

    def round_context(self, rnd: int) -> dict[str, Any]:
        """The context of round ``rnd``: the bound log's row for it, else the game's (``params``)."""
        if self.trajectory is not None:
            for e in self.trajectory.events:
                if e.round == rnd and e.actor == HUMAN and "context" in e.data:
                    return dict(e.data["context"])
        return {k: v for k, v in self.params.items() if k != "n_rounds"}

    def stage(self, rnd: int) -> StageGame | None:
        """The stage game of round ``rnd`` (``None``: the family has none)."""
        participant = self.trajectory.participant_id if self.trajectory is not None else "live"
        return self.family.stage_at(self.game_name, rnd, self.n_rounds, participant, self.round_context(rnd))

    def payoffs(self, rnd: int, human: str, opponent: str | None) -> tuple[float, float] | None:
        """Round ``rnd``'s stage game's payoffs (``None``: the family has no stage game, or the opponent's
        move is unknown)."""
        game = self.stage(rnd)
        return game.payoff(human, opponent) if game is not None and opponent is not None else None

    def title(self) -> str:
        return self.family.games.title(self.game_name, self.round_context(max(1, len(self.history))))

    @property
    def affirmative(self) -> str:
        return self.family.spec.affirmative.name

    # -- replay ----------------------------------------------------------------------------------
    def _check(self, agent: str, action: Any) -> int | None:
        if action is None and agent == OPPONENT and self._opponent_move_unknown():
            return None  # replaying a round whose opponent move the log lacks
        return self.checked_action(agent, action)

    def _opponent_move_unknown(self) -> bool:
        if self.trajectory is None:
            return False
        try:
            return self.logged_event(OPPONENT, self.round).action is None
        except LookupError:
            return False

    def logged_action(self, agent: str) -> int | None:
        """The bound log's move for ``agent`` this round, as an action index (``None``: the opponent's move
        is not known; ``LookupError``: the log has no such round)."""
        if agent == OPPONENT and self._opponent_move_unknown():
            return None
        return super().logged_action(agent)

    def decision_point(self, action: int | None = None) -> DecisionPoint:
        """The human's current decision: the rounds already played as history, this row's context as params."""
        dp = super().decision_point(action)
        return replace(dp, params={**self.round_context(dp.round), "n_rounds": self.n_rounds})

    # -- live play -------------------------------------------------------------------------------
    def _events(self) -> list[Event]:
        return self.round_events(lambda r: {"context": self.round_context(r)})

    def to_trajectory(self, trajectory_id: str, participant_id: str = "live") -> Trajectory:
        """The rounds played so far, shaped like a log of this family (payoffs from the stage game)."""
        return self.live_trajectory(trajectory_id, participant_id, self.family.name, self.game_name, ROLE,
                                    self._events())

    def opponent_policy(self, folder: str | os.PathLike | None = None):
        """The family's declared ``opponent`` as a live policy ``(obs, info) -> action index`` for this game.

        ``folder``: the data set's folder a lookup table's file name is relative to (default: the one the
        family was last loaded from; a family with a local ``data.path`` reads it beside its YAML file)."""
        opponent = self.family.opponent(folder)

        def policy(obs: np.ndarray, info: dict) -> int:
            scope = decision_scope(self.family.spec, self.family.games, self.game_name, self.round, self.n_rounds,
                                   "live", self.round_context(self.round), self._events())
            move = opponent.move(scope, f"live round {self.round}")
            if move is None:
                raise LookupError(f"the {opponent.description} has no move after {scope['own_moves']}")
            return self.other_names.index(move)

        return policy


def raw_env(family: Any, **kwargs: Any) -> TabularEnv:
    """A YAML family's environment (``family``: the family, its registered name or its YAML file)."""
    return TabularEnv(family, **kwargs)


env = wrap(raw_env)
