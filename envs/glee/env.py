"""One PettingZoo AEC environment class for every GLEE family, driven by the family's ``Rules``.

Agents are the two seats, ``player_1`` and ``player_2`` (Alice and Bob in the
logs: the proposer who opens a bargaining game, the seller in persuasion and
negotiation).  Chance moves (a product's quality) are made by the environment:
drawn from its seeded generator in live play, read from the log in replay.

Actions: ``Discrete(len(rules.actions))`` with an ``action_mask`` in the
observation, so any PettingZoo agent can play live (offers on a grid of
amounts).  ``step`` also takes an exact move as an ``Event`` — that is how a
human log is replayed (``logged_action``) and how a scripted agent sends a
message or an off-grid offer.

Observation: ``{"observation": float vector (rules.observe), "action_mask": int8}``.
Rewards: each seat's payoff when it is earned (a deal, a sale), discounted as the
game says.

Each family's package offers PettingZoo's pair of constructors, made by ``constructors``:
``envs.glee.bargaining.raw_env()`` (a ``GleeEnv`` with that family's rules) and
``envs.glee.bargaining.env()`` (with the standard wrappers, for live play: the
wrappers refuse ``Event`` moves, so replay uses the raw environment).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv

from envs.glee.rules import NATURE_SEAT, GameState, IllegalMove, Rules
from envs.records import HUMAN, DecisionPoint, Event, Trajectory
from envs.replay_env import ReplayEnv, wrap

SEATS = ("player_1", "player_2")


class GleeEnv(ReplayEnv):
    """A GLEE game (bargaining, persuasion or negotiation): replays human logs or plays live."""

    metadata = {"name": "glee_v0", "render_modes": ["ansi"], "is_parallelizable": False}

    def __init__(self, rules: Rules, params: Mapping[str, Any] | None = None, render_mode: str | None = None):
        n = len(rules.actions)
        super().__init__(
            SEATS, {a: spaces.Dict({"observation": spaces.Box(-np.inf, np.inf, (rules.obs_size,), np.float64),
                                    "action_mask": spaces.Box(0, 1, (n,), np.int8)}) for a in SEATS},
            {a: spaces.Discrete(n) for a in SEATS}, {**rules.default_params, **(params or {})}, render_mode)
        self.rules = rules
        self.metadata = {**self.metadata, "name": f"{rules.family}_v0"}
        self.state: GameState | None = None
        self._cursor = 0

    @classmethod
    def from_trajectory(cls, trajectory: Trajectory, rules: Rules, render_mode: str | None = None) -> "GleeEnv":
        """An environment with ``rules`` and this trajectory's parameters."""
        return cls(rules, dict(trajectory.params), render_mode)

    def _start(self) -> None:
        self._cursor = 0
        self.state = self.rules.start(self.params)
        self._advance()

    def action_labels(self, agent: str) -> tuple[str, ...]:
        return self.rules.actions

    # -- AEC loop ------------------------------------------------------------------------------
    def _advance(self) -> None:
        """Play chance moves, then point ``agent_selection`` at the seat to move (or end the game)."""
        s = self.state
        while self.rules.to_move(s) == NATURE_SEAT:
            if self.trajectory is not None:
                move = self._next_logged()
                if move is None:  # the log stops before this chance move (a cut or unfinished game)
                    for a in self.agents:
                        self.truncations[a] = True
                    return
                if move.data.get("seat") != NATURE_SEAT:
                    raise LookupError(f"{self.trajectory.trajectory_id}: the log has no chance move here")
                self._cursor += 1
            else:
                move = self.rules.nature(s, self.np_random)
            self.rules.apply(s, move)
        seat = self.rules.to_move(s)
        for a in self.agents:
            self.infos[a] = {"round": s.round, "to_move": seat, "legal": self.rules.legal(s) if seat == a else ()}
        if seat is None:
            for a in self.agents:
                self.terminations[a] = True
        else:
            self.agent_selection = seat

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        s = self.state
        mask = np.zeros(len(self.rules.actions), np.int8)
        if self.rules.to_move(s) == agent:
            for name in self.rules.legal(s):
                mask[self.rules.actions.index(name)] = 1
        return {"observation": np.asarray(self.rules.observe(s, agent), np.float64), "action_mask": mask}

    def _check(self, agent: str, action: int | Event | None) -> Event:
        """A discrete action (live play) or an exact move as an ``Event`` (replay, scripted agents)."""
        s = self.state
        if isinstance(action, Event):
            move = action
        else:
            name = self.rules.actions[self.checked_action(agent, action)]
            if name not in self.rules.legal(s):
                raise ValueError(f"{agent}: action {name!r} is not legal now (legal: {self.rules.legal(s)})")
            move = self.rules.from_action(s, name)
        if move.data.get("seat") != agent:
            raise IllegalMove("out_of_turn", f"{move.data.get('seat')} cannot move for {agent}")
        return move

    def _play(self, agent: str, move: Event) -> bool:
        s = self.state
        gained = self.rules.apply(s, move)
        for a in self.agents:
            self.rewards[a] = float(gained.get(a, 0.0))
        self._advance()
        return True

    def render(self) -> str:
        s = self.state
        if s is None or not s.events:
            return f"{self.rules.family}: nothing played yet"
        e = s.events[-1]
        return f"{self.rules.family} round {e.round}: {e.data.get('seat')} {e.action} " + \
            ", ".join(f"{k}={v}" for k, v in e.data.items() if k not in ("seat", "row", "message"))

    # -- replay and live logs ------------------------------------------------------------------
    def _next_logged(self) -> Event | None:
        events = self.trajectory.events if self.trajectory is not None else ()
        return events[self._cursor] if self._cursor < len(events) else None

    def logged_action(self, agent: str) -> Event:
        """The next move the bound log records; it must be ``agent``'s."""
        t = self.bound()
        move = self._next_logged()
        if move is None or move.data.get("seat") != agent:
            raise LookupError(f"{t.trajectory_id}: the log has no move for {agent} here")
        self._cursor += 1
        return move

    def is_scored_decision(self, agent: str) -> bool:
        """Whether the human is now to make a decision that predictors score."""
        s = self.state
        return (s.actor(agent) == HUMAN and self.rules.to_move(s) == agent
                and self.rules.decision(s, agent) is not None)

    def decision_point(self, action: Event) -> DecisionPoint:
        """The human's current decision: what they saw (visible history) and what they did (``action``)."""
        s, seat = self.state, self.agent_selection
        legal, affirmative = self.rules.decision(s, seat)
        history = [e for e in s.events if self.rules.visible(s, e, seat)]
        return self.make_decision_point(s.round, legal, action.action, affirmative, history)

    def to_trajectory(self, trajectory_id: str, participant_id: str = "live") -> Trajectory:
        """The game played so far as a Trajectory shaped like a human log, so it replays and scores alike."""
        s = self.state
        return self.live_trajectory(trajectory_id, participant_id, self.rules.family,
                                    self.rules.family.split("_")[-1], s.params.get("human_seat", "player_1"),
                                    s.events, meta={"outcome": s.outcome})


def constructors(rules: Callable[[], Rules]) -> tuple[Callable[..., GleeEnv], Callable[..., AECEnv]]:
    """PettingZoo's pair ``(raw_env, env)`` for one GLEE family: a ``GleeEnv`` with ``rules()``, and the same
    with the standard wrappers (``envs.replay_env.wrap``)."""

    def raw_env(params: Mapping[str, Any] | None = None, render_mode: str | None = None) -> GleeEnv:
        return GleeEnv(rules(), params, render_mode)

    raw_env.__doc__ = f"A GLEE environment with {getattr(rules, '__name__', 'these rules')}: live play or replay."
    return raw_env, wrap(raw_env)
