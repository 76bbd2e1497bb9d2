"""A PettingZoo AEC environment for a repeated 2x2 game, modelled on PettingZoo's ``aec_rps``.

Two seats, ``human`` and ``opponent``, move in turn within a round, but neither
sees the other's current move until the round ends (a simultaneous game in AEC
form).  After ``n_rounds`` rounds every agent is truncated.

Observation of each seat: the full history a participant saw, as a vector of
length ``2 * n_rounds`` — for each past round (own move, other's move) coded
0 = not yet played, 1 = J, 2 = F.  Action: 0 = J, 1 = F (``ACTIONS``).

Replay: ``reset(options={"trajectory": traj})`` binds a human log; then
``logged_action(agent)`` gives the move the log says that seat made next and
``decision_point()`` the human's current state as a ``DecisionPoint``.
Live play: put any policy in either seat (e.g. ``LookupStrategy`` for the
GPT-4 opponent) and drive it with ``envs.live.play``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv
from pettingzoo.utils import AgentSelector

from envs.records import HUMAN, OPPONENT, DecisionPoint, Event, Trajectory
from envs.repeated_matrix.games import GAMES, game_from_params
from envs.stage_game import StageGame

SEATS = (HUMAN, OPPONENT)


class RepeatedMatrixEnv(AECEnv):
    """Repeated 2x2 game; replays human logs or plays live."""

    metadata = {"name": "repeated_matrix_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, game: StageGame | str = "PD", n_rounds: int = 10, render_mode: str | None = None):
        super().__init__()
        self.game = GAMES[game] if isinstance(game, str) else game
        self.n_rounds = n_rounds
        self.render_mode = render_mode
        self.possible_agents = list(SEATS)
        self._obs_space = spaces.MultiDiscrete([3] * (2 * n_rounds), seed=None)
        self._act_space = spaces.Discrete(2)
        self.trajectory: Trajectory | None = None
        self.params: dict[str, Any] = {**self.game.to_params(), "n_rounds": n_rounds}

    @classmethod
    def from_trajectory(cls, trajectory: Trajectory, render_mode: str | None = None) -> "RepeatedMatrixEnv":
        """An environment shaped for this trajectory's game and length."""
        env = cls(game_from_params(dict(trajectory.params)), int(trajectory.params["n_rounds"]), render_mode)
        return env

    def observation_space(self, agent: str) -> spaces.Space:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Space:
        return self._act_space

    # -- core AEC loop -------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        if seed is not None:
            self._obs_space.seed(seed)
            self._act_space.seed(seed)
        self.trajectory = (options or {}).get("trajectory")
        if self.trajectory is not None:
            if int(self.trajectory.params["n_rounds"]) != self.n_rounds:
                raise ValueError(f"{self.trajectory.trajectory_id}: has {self.trajectory.params['n_rounds']} "
                                 f"rounds but this environment plays {self.n_rounds}")
            self.params = dict(self.trajectory.params)
        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos = {a: {"round": 1} for a in self.agents}
        self.history: list[tuple[str, str]] = []  # (human move, opponent move) per finished round
        self._pending: dict[str, str] = {}
        self._selector = AgentSelector(self.agents)
        self.agent_selection = self._selector.reset()

    @property
    def round(self) -> int:
        """The round being played now (1-based)."""
        return len(self.history) + 1

    def observe(self, agent: str) -> np.ndarray:
        code = {a: i + 1 for i, a in enumerate(self.game.actions)}
        obs = np.zeros(2 * self.n_rounds, dtype=np.int64)
        own = 0 if agent == HUMAN else 1
        for r, moves in enumerate(self.history):
            obs[2 * r] = code[moves[own]]
            obs[2 * r + 1] = code[moves[1 - own]]
        return obs

    def step(self, action: int | None) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if action is None or not self._act_space.contains(int(action)):
            raise ValueError(f"{agent}: illegal action {action!r} (expected 0=J or 1=F)")
        self._cumulative_rewards[agent] = 0.0
        self._pending[agent] = self.game.actions[int(action)]
        if self._selector.is_last():
            h, o = self._pending[HUMAN], self._pending[OPPONENT]
            self.rewards[HUMAN], self.rewards[OPPONENT] = self.game.payoff(h, o)
            self.history.append((h, o))
            self._pending = {}
            done = len(self.history) >= self.n_rounds
            for a in self.agents:
                self.truncations[a] = done
                self.infos[a] = {"round": self.round if not done else self.n_rounds}
        else:
            self._clear_rewards()
        self.agent_selection = self._selector.next()
        self._accumulate_rewards()
        if self.render_mode == "ansi" and not self._pending and self.history:
            print(self.render())

    def render(self) -> str:
        if not self.history:
            return f"{self.game.title}: no rounds played yet"
        h, o = self.history[-1]
        ph, po = self.game.payoff(h, o)
        return f"{self.game.title} round {len(self.history)}: human {h} ({ph:g}), opponent {o} ({po:g})"

    def close(self) -> None:
        pass

    # -- replay support -----------------------------------------------------------------------
    def logged_action(self, agent: str) -> int:
        """The move the bound trajectory says ``agent`` made in the current round."""
        if self.trajectory is None:
            raise RuntimeError("no trajectory bound: reset(options={'trajectory': ...}) first")
        for e in self.trajectory.events:
            if e.round == self.round and e.actor == agent:
                return self.game.actions.index(e.action)
        raise LookupError(f"{self.trajectory.trajectory_id}: no logged move for {agent} in round {self.round}")

    def is_scored_decision(self, agent: str) -> bool:
        """Every human move is a scored decision in a repeated matrix game."""
        return agent == HUMAN

    def decision_point(self, action: int | None = None) -> DecisionPoint:
        """The human's current decision, with only the rounds already played as history."""
        traj = self.trajectory
        if traj is None:
            raise RuntimeError("no trajectory bound")
        r = self.round
        history: list[Event] = [e for e in traj.events if e.round < r]
        human = self.game.actions[self.logged_action(HUMAN)]
        flags = tuple(f for f in traj.flags if f.endswith(f"@r{r}") or "@r" not in f)
        return DecisionPoint(
            decision_id=f"{traj.trajectory_id}/r{r}", trajectory_id=traj.trajectory_id, family=traj.family,
            game=traj.game, participant_id=traj.participant_id, role=traj.role, round=r,
            legal_actions=tuple(self.game.actions), human_action=human, affirmative=self.game.actions[0],
            params=dict(traj.params), history=tuple(history), flags=flags,
        )


def env(**kwargs: Any) -> RepeatedMatrixEnv:
    """PettingZoo-style constructor."""
    return RepeatedMatrixEnv(**kwargs)
