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
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv

from envs.glee.rules import NATURE_SEAT, GameState, IllegalMove, Rules
from envs.records import HUMAN, DecisionPoint, Event, Trajectory

SEATS = ("player_1", "player_2")


class GleeEnv(AECEnv):
    """A GLEE game (bargaining, persuasion or negotiation): replays human logs or plays live."""

    metadata = {"name": "glee_v0", "render_modes": ["ansi"], "is_parallelizable": False}

    def __init__(self, rules: Rules, params: Mapping[str, Any] | None = None, render_mode: str | None = None):
        super().__init__()
        self.rules = rules
        self.metadata = {**self.metadata, "name": f"{rules.family}_v0"}
        self.params = {**rules.default_params, **(params or {})}
        self.render_mode = render_mode
        self.possible_agents = list(SEATS)
        n = len(rules.actions)
        self._obs_spaces = {a: spaces.Dict({
            "observation": spaces.Box(-np.inf, np.inf, (rules.obs_size,), np.float64),
            "action_mask": spaces.Box(0, 1, (n,), np.int8)}) for a in SEATS}
        self._act_spaces = {a: spaces.Discrete(n) for a in SEATS}
        self.trajectory: Trajectory | None = None
        self.state: GameState | None = None
        self._cursor = 0

    @classmethod
    def from_trajectory(cls, trajectory: Trajectory, rules: Rules, render_mode: str | None = None) -> "GleeEnv":
        """An environment with ``rules`` and this trajectory's parameters."""
        return cls(rules, dict(trajectory.params), render_mode)

    def observation_space(self, agent: str) -> spaces.Space:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self._act_spaces[agent]

    # -- AEC loop ------------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        self.np_random = np.random.default_rng(seed)
        if seed is not None:
            for i, a in enumerate(SEATS):
                self._act_spaces[a].seed(seed + i)
                self._obs_spaces[a].seed(seed + i)
        self.trajectory = (options or {}).get("trajectory")
        if self.trajectory is not None:
            self.params = dict(self.trajectory.params)
        self._cursor = 0
        self.state = self.rules.start(self.params)
        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos = {a: {} for a in self.agents}
        self._advance()

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

    def step(self, action: int | Event | None) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        s = self.state
        if isinstance(action, Event):
            move = action
        else:
            if action is None or not self._act_spaces[agent].contains(int(action)):
                raise ValueError(f"{agent}: illegal action {action!r}")
            name = self.rules.actions[int(action)]
            if name not in self.rules.legal(s):
                raise ValueError(f"{agent}: action {name!r} is not legal now (legal: {self.rules.legal(s)})")
            move = self.rules.from_action(s, name)
        if move.data.get("seat") != agent:
            raise IllegalMove("out_of_turn", f"{move.data.get('seat')} cannot move for {agent}")
        self._cumulative_rewards[agent] = 0.0
        gained = self.rules.apply(s, move)
        for a in self.agents:
            self.rewards[a] = float(gained.get(a, 0.0))
        self._advance()
        self._accumulate_rewards()
        if self.render_mode == "ansi":
            print(self.render())

    def render(self) -> str:
        s = self.state
        if s is None or not s.events:
            return f"{self.rules.family}: nothing played yet"
        e = s.events[-1]
        return f"{self.rules.family} round {e.round}: {e.data.get('seat')} {e.action} " + \
            ", ".join(f"{k}={v}" for k, v in e.data.items() if k not in ("seat", "row", "message"))

    def close(self) -> None:
        pass

    def to_trajectory(self, trajectory_id: str, participant_id: str = "live") -> Trajectory:
        """The game played so far as a Trajectory shaped like a human log, so it replays and scores alike."""
        s = self.state
        seat = s.params.get("human_seat", "player_1")
        return Trajectory(trajectory_id=trajectory_id, family=self.rules.family, game=self.rules.family.split("_")[-1],
                          participant_id=participant_id, role=seat, params=dict(s.params), events=tuple(s.events),
                          source="live", meta={"outcome": s.outcome})

    # -- replay support -----------------------------------------------------------------------
    def _next_logged(self) -> Event | None:
        events = self.trajectory.events if self.trajectory is not None else ()
        return events[self._cursor] if self._cursor < len(events) else None

    def logged_action(self, agent: str) -> Event:
        """The next move the bound log records; it must be ``agent``'s."""
        if self.trajectory is None:
            raise RuntimeError("no trajectory bound: reset(options={'trajectory': ...}) first")
        move = self._next_logged()
        if move is None or move.data.get("seat") != agent:
            raise LookupError(f"{self.trajectory.trajectory_id}: the log has no move for {agent} here")
        self._cursor += 1
        return move

    def is_scored_decision(self, agent: str) -> bool:
        """Whether the human is now to make a decision that predictors score."""
        s = self.state
        return (s.actor(agent) == HUMAN and self.rules.to_move(s) == agent
                and self.rules.decision(s, agent) is not None)

    def decision_point(self, action: Event) -> DecisionPoint:
        """The human's current decision: what they saw (visible history) and what they did (``action``)."""
        t, s = self.trajectory, self.state
        seat = self.agent_selection
        legal, affirmative = self.rules.decision(s, seat)
        history = tuple(e for e in s.events if self.rules.visible(s, e, seat))
        rflag = f"@r{s.round}"
        flags = tuple(f for f in t.flags if f.endswith(rflag) or "@r" not in f)
        return DecisionPoint(
            decision_id=f"{t.trajectory_id}/r{s.round}", trajectory_id=t.trajectory_id, family=t.family,
            game=t.game, participant_id=t.participant_id, role=t.role, round=s.round, legal_actions=legal,
            human_action=action.action, affirmative=affirmative, params=dict(t.params), history=history,
            flags=flags)
