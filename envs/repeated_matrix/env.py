"""A PettingZoo AEC environment for a repeated matrix game, modelled on PettingZoo's ``aec_rps``.

Two seats, ``human`` and ``opponent``, move in turn within a round, but neither
sees the other's current move until the round ends (a simultaneous game in AEC
form).  After ``n_rounds`` rounds every agent is truncated.  The stage game is a
``StageGame`` from the human's side: the human picks a row (``game.actions``, J/F in
Akata et al.), the opponent a column (``game.other_actions``).

Observation of each seat: the full history a participant saw, as a vector of
length ``2 * n_rounds`` — for each past round (own move, other's move) coded
0 = not yet played, 1 + the move's index (J = 1, F = 2).  Action: the index of the
seat's move (0 = J, 1 = F).

Replay (``envs.replay_env``): each seat's logged move is its event of the current
round.  Live play: put any policy in either seat (e.g. ``lookup_policy`` for the
GPT-4 opponent), drive it with ``envs.live.play``; ``to_trajectory`` logs the game.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from envs.records import HUMAN, OPPONENT, DecisionPoint, Event, Trajectory
from envs.repeated_matrix.games import GAMES, game_from_params
from envs.repeated_matrix.loader import FAMILY
from envs.replay_env import ReplayEnv, wrap
from envs.stage_game import StageGame

SEATS = (HUMAN, OPPONENT)
ROLE = "row player"  # the human's role in Akata et al.'s logs


class RepeatedMatrixEnv(ReplayEnv):
    """Repeated matrix game; replays human logs or plays live."""

    metadata = {"name": "repeated_matrix_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, game: StageGame | str = "PD", n_rounds: int = 10, render_mode: str | None = None):
        self.game = GAMES[game] if isinstance(game, str) else game
        self.n_rounds = n_rounds
        n_codes = 1 + max(len(self.game.actions), len(self.game.other_actions))
        super().__init__(
            SEATS, {a: spaces.MultiDiscrete([n_codes] * (2 * n_rounds)) for a in SEATS},
            {HUMAN: spaces.Discrete(len(self.game.actions)), OPPONENT: spaces.Discrete(len(self.game.other_actions))},
            {**self.game.to_params(), "n_rounds": n_rounds}, render_mode)
        self.history: list[tuple[str, str]] = []  # (human move, opponent move) per finished round

    @classmethod
    def from_trajectory(cls, trajectory: Trajectory, render_mode: str | None = None) -> "RepeatedMatrixEnv":
        """An environment shaped for this trajectory's game and length."""
        return cls(game_from_params(dict(trajectory.params)), int(trajectory.params["n_rounds"]), render_mode)

    def _adopt(self, trajectory: Trajectory) -> None:
        game = game_from_params(dict(trajectory.params))
        if int(trajectory.params["n_rounds"]) != self.n_rounds or game.row.shape != self.game.row.shape:
            raise ValueError(f"{trajectory.trajectory_id}: a {game.row.shape} game of "
                             f"{trajectory.params['n_rounds']} rounds, but this environment plays a "
                             f"{self.game.row.shape} game of {self.n_rounds}: use from_trajectory")
        super()._adopt(trajectory)
        self.game = game

    def _start(self) -> None:
        self.infos = {a: {"round": 1} for a in self.agents}
        self.history = []
        self._pending: dict[str, str] = {}

    def action_labels(self, agent: str) -> tuple[str, ...]:
        return self.game.actions if agent == HUMAN else self.game.other_actions

    @property
    def round(self) -> int:
        """The round being played now (1-based)."""
        return len(self.history) + 1

    # -- core AEC loop -------------------------------------------------------------------------
    def observe(self, agent: str) -> np.ndarray:
        codes = [{a: i + 1 for i, a in enumerate(self.action_labels(seat))} for seat in SEATS]
        own = SEATS.index(agent)
        obs = np.zeros(2 * self.n_rounds, dtype=np.int64)
        for r, moves in enumerate(self.history):
            obs[2 * r] = codes[own][moves[own]]
            obs[2 * r + 1] = codes[1 - own][moves[1 - own]]
        return obs

    def _play(self, agent: str, move: int) -> bool:
        self._pending[agent] = self.action_labels(agent)[move]
        settled = self._selector.is_last()
        if settled:
            h, o = self._pending[HUMAN], self._pending[OPPONENT]
            self.rewards[HUMAN], self.rewards[OPPONENT] = self.game.payoff(h, o)
            self.history.append((h, o))
            self._pending = {}
            done = len(self.history) >= self.n_rounds
            for a in self.agents:
                self.truncations[a] = done
                self.infos[a] = {"round": self.round if not done else self.n_rounds}
        self.agent_selection = self._selector.next()
        return settled

    def render(self) -> str:
        if not self.history:
            return f"{self.game.title}: no rounds played yet"
        h, o = self.history[-1]
        ph, po = self.game.payoff(h, o)
        return f"{self.game.title} round {len(self.history)}: human {h} ({ph:g}), opponent {o} ({po:g})"

    # -- replay and live logs ------------------------------------------------------------------
    def logged_action(self, agent: str) -> int:
        """The move the bound trajectory says ``agent`` made in the current round."""
        return self.action_labels(agent).index(self.logged_event(agent, self.round).action)

    def is_scored_decision(self, agent: str) -> bool:
        """Every human move is a scored decision in a repeated matrix game."""
        return agent == HUMAN

    def decision_point(self, action: int | None = None) -> DecisionPoint:
        """The human's current decision, with only the rounds already played as history."""
        r = self.round
        history = [e for e in self.bound().events if e.round < r]
        return self.make_decision_point(r, self.game.actions, self.logged_event(HUMAN, r).action,
                                        self.game.actions[0], history)

    def to_trajectory(self, trajectory_id: str, participant_id: str = "live") -> Trajectory:
        """The rounds played so far, shaped like Akata et al.'s logs (both moves and payoffs per round)."""
        events = []
        for r, (h, o) in enumerate(self.history, start=1):
            ph, po = self.game.payoff(h, o)
            events += [Event(r, HUMAN, h, payoff=ph), Event(r, OPPONENT, o, payoff=po)]
        return self.live_trajectory(trajectory_id, participant_id, FAMILY, self.game.name, ROLE, events)


#: PettingZoo's pair of constructors: the environment itself, and with the standard wrappers
raw_env = RepeatedMatrixEnv
env = wrap(raw_env)
