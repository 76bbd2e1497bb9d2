"""A PettingZoo AEC environment for a one-shot 2x2 game, modelled on PettingZoo's ``aec_rps``.

Two seats, ``human`` and ``opponent``, each move once; neither sees the other's
move (a simultaneous game in AEC form), and after both moves every agent is
terminated.  The game is always the human's view (``envs.one_shot.game``): the
human plays rows, the opponent columns.

Observation of each seat: its own view of the game as eight numbers — its own
2x2 payoffs then the other's, rows = its own strategies (so the opponent sees
the transposed game).  Action: 0 = the seat's first strategy (``X`` / ``A``),
1 = its second (``Y`` / ``B``).

Replay: ``reset(options={"trajectory": traj})`` binds one games2p2k record;
``logged_action(HUMAN)`` is the respondents' majority choice and
``decision_point()`` the decision with the observed rate.  The data are
aggregate answers of one role, so the opponent's move is not logged:
``logged_action(OPPONENT)`` raises ``LookupError`` and the replay driver stops
after the human's decision, which is the only one scored.  Live play: any
policy in either seat, e.g. via ``envs.live.play``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv
from pettingzoo.utils import AgentSelector

from envs.one_shot.game import PRISONERS_DILEMMA
from envs.stage_game import StageGame
from envs.records import HUMAN, OPPONENT, DecisionPoint, Trajectory

SEATS = (HUMAN, OPPONENT)


class OneShotEnv(AECEnv):
    """One play of a 2x2 game; replays a games2p2k decision or plays live."""

    metadata = {"name": "one_shot_2x2_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, view: StageGame = PRISONERS_DILEMMA, render_mode: str | None = None):
        super().__init__()
        self.view = view
        self.render_mode = render_mode
        self.possible_agents = list(SEATS)
        self._obs_space = spaces.Box(-np.inf, np.inf, (8,), np.float64)
        self._act_space = spaces.Discrete(2)
        self.trajectory: Trajectory | None = None
        self.moves: dict[str, int] = {}

    @classmethod
    def from_trajectory(cls, trajectory: Trajectory, render_mode: str | None = None) -> "OneShotEnv":
        """An environment playing this record's game, from the respondent's side."""
        return cls(StageGame.from_params(dict(trajectory.params)), render_mode)

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
            self.view = StageGame.from_params(dict(self.trajectory.params))
        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos = {a: {} for a in self.agents}
        self.moves = {}
        self._selector = AgentSelector(self.agents)
        self.agent_selection = self._selector.reset()

    def observe(self, agent: str) -> np.ndarray:
        own, other = (self.view.row, self.view.col) if agent == HUMAN else (self.view.col.T, self.view.row.T)
        return np.concatenate([own.ravel(), other.ravel()]).astype(np.float64)

    def step(self, action: int | None) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if action is None or not self._act_space.contains(int(action)):
            raise ValueError(f"{agent}: illegal action {action!r} (expected 0 or 1)")
        self._cumulative_rewards[agent] = 0.0
        self.moves[agent] = int(action)
        finished = self._selector.is_last()
        if finished:
            i, j = self.moves[HUMAN], self.moves[OPPONENT]
            self.rewards[HUMAN], self.rewards[OPPONENT] = float(self.view.row[i, j]), float(self.view.col[i, j])
            for a in self.agents:
                self.terminations[a] = True
                self.infos[a] = {"moves": {HUMAN: self.view.actions[i], OPPONENT: self.view.other_actions[j]}}
        else:
            self._clear_rewards()
        self.agent_selection = self._selector.next()
        self._accumulate_rewards()
        if self.render_mode == "ansi" and finished:
            print(self.render())

    def render(self) -> str:
        if len(self.moves) < 2:
            return "one-shot 2x2 game: not played yet"
        i, j = self.moves[HUMAN], self.moves[OPPONENT]
        return (f"human {self.view.actions[i]} ({self.view.row[i, j]:g}), "
                f"opponent {self.view.other_actions[j]} ({self.view.col[i, j]:g})")

    def close(self) -> None:
        pass

    # -- replay support -----------------------------------------------------------------------
    def _human_event(self):
        if self.trajectory is None:
            raise RuntimeError("no trajectory bound: reset(options={'trajectory': ...}) first")
        for e in self.trajectory.events:
            if e.actor == HUMAN:
                return e
        raise LookupError(f"{self.trajectory.trajectory_id}: no logged human choice")

    def logged_action(self, agent: str) -> int:
        """The human seat's logged (majority) choice; the opponent's move is never logged in this data."""
        if agent != HUMAN:
            raise LookupError(f"{agent}: aggregate one-role data logs no opponent move")
        return self.view.actions.index(self._human_event().action)

    def is_scored_decision(self, agent: str) -> bool:
        return agent == HUMAN

    def decision_point(self, action: int | None = None) -> DecisionPoint:
        """The respondents' decision: the game from their side, the majority choice and the observed rate."""
        traj = self.trajectory
        if traj is None:
            raise RuntimeError("no trajectory bound")
        event = self._human_event()
        rate, n = event.data.get("rate"), event.data.get("n_people")
        return DecisionPoint(
            decision_id=f"{traj.trajectory_id}/r1", trajectory_id=traj.trajectory_id, family=traj.family,
            game=traj.game, participant_id=traj.participant_id, role=traj.role, round=1,
            legal_actions=tuple(self.view.actions), human_action=event.action, affirmative=self.view.actions[0],
            params=dict(traj.params), history=(), flags=tuple(traj.flags),
            human_rate=None if rate is None else float(rate), n_people=None if n is None else int(n),
        )


def env(**kwargs: Any) -> OneShotEnv:
    """PettingZoo-style constructor."""
    return OneShotEnv(**kwargs)
