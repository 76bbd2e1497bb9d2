"""A PettingZoo AEC environment for a one-shot matrix game, modelled on PettingZoo's ``aec_rps``.

Two seats, ``human`` and ``opponent``, each move once; neither sees the other's
move (a simultaneous game in AEC form), and after both moves every agent is
terminated.  The game is always the human's view (``envs.one_shot.game``): the
human plays rows (``view.actions``, X / Y), the opponent columns (``view.other_actions``, A / B).

Observation of each seat: its own view of the game — its own payoffs then the
other's, rows = its own strategies (so the opponent sees the transposed game);
eight numbers for a 2x2 game.  Action: the index of the seat's strategy
(0 = ``X`` / ``A``, 1 = ``Y`` / ``B``).

Replay: ``reset(options={"trajectory": traj})`` binds one games2p2k record;
``logged_action(HUMAN)`` is the respondents' majority choice and
``decision_point()`` the decision with the observed rate.  The data are
aggregate answers of one role, so the opponent's move is not logged:
``logged_action(OPPONENT)`` raises ``LookupError`` and the replay driver stops
after the human's decision, which is the only one scored.  Live play: any
policy in either seat, e.g. via ``envs.live.play``; ``to_trajectory`` logs both
moves, so a live game replays in full.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from envs.one_shot.game import PRISONERS_DILEMMA, ROW
from envs.one_shot.loader import FAMILY
from envs.records import HUMAN, OPPONENT, DecisionPoint, Event, Trajectory
from envs.replay_env import ReplayEnv, wrap
from envs.stage_game import StageGame

SEATS = (HUMAN, OPPONENT)


class OneShotEnv(ReplayEnv):
    """One play of a matrix game; replays a games2p2k decision or plays live."""

    metadata = {"name": "one_shot_2x2_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, view: StageGame = PRISONERS_DILEMMA, render_mode: str | None = None):
        self.view = view
        super().__init__(
            SEATS, {a: spaces.Box(-np.inf, np.inf, (2 * view.row.size,), np.float64) for a in SEATS},
            {HUMAN: spaces.Discrete(len(view.actions)), OPPONENT: spaces.Discrete(len(view.other_actions))},
            view.to_params(), render_mode)
        self.moves: dict[str, int] = {}

    @classmethod
    def from_trajectory(cls, trajectory: Trajectory, render_mode: str | None = None) -> "OneShotEnv":
        """An environment playing this record's game, from the respondent's side."""
        return cls(StageGame.from_params(dict(trajectory.params)), render_mode)

    def _adopt(self, trajectory: Trajectory) -> None:
        view = StageGame.from_params(dict(trajectory.params))
        if view.row.shape != self.view.row.shape:
            raise ValueError(f"{trajectory.trajectory_id}: a {view.row.shape} game, but this environment plays a "
                             f"{self.view.row.shape} game: use from_trajectory")
        super()._adopt(trajectory)
        self.view = view

    def _start(self) -> None:
        self.moves = {}

    def action_labels(self, agent: str) -> tuple[str, ...]:
        return self.view.actions if agent == HUMAN else self.view.other_actions

    # -- core AEC loop -------------------------------------------------------------------------
    def observe(self, agent: str) -> np.ndarray:
        own, other = (self.view.row, self.view.col) if agent == HUMAN else (self.view.col.T, self.view.row.T)
        return np.concatenate([own.ravel(), other.ravel()]).astype(np.float64)

    def _play(self, agent: str, move: int) -> bool:
        self.moves[agent] = move
        finished = self._selector.is_last()
        if finished:
            i, j = self.moves[HUMAN], self.moves[OPPONENT]
            self.rewards[HUMAN], self.rewards[OPPONENT] = float(self.view.row[i, j]), float(self.view.col[i, j])
            for a in self.agents:
                self.terminations[a] = True
                self.infos[a] = {"moves": {HUMAN: self.view.actions[i], OPPONENT: self.view.other_actions[j]}}
        self.agent_selection = self._selector.next()
        return finished

    def render(self) -> str:
        if len(self.moves) < 2:
            return "one-shot matrix game: not played yet"
        i, j = self.moves[HUMAN], self.moves[OPPONENT]
        return (f"human {self.view.actions[i]} ({self.view.row[i, j]:g}), "
                f"opponent {self.view.other_actions[j]} ({self.view.col[i, j]:g})")

    # -- replay and live logs ------------------------------------------------------------------
    def logged_action(self, agent: str) -> int:
        """The seat's logged choice (for aggregate data the human's majority choice; no opponent move)."""
        return self.action_labels(agent).index(self.logged_event(agent).action)

    def is_scored_decision(self, agent: str) -> bool:
        return agent == HUMAN

    def decision_point(self, action: int | None = None) -> DecisionPoint:
        """The respondents' decision: the game from their side, the majority choice and the observed rate."""
        event = self.logged_event(HUMAN)
        return self.make_decision_point(1, self.view.actions, event.action, self.view.actions[0],
                                        human_rate=event.data.get("rate"), n_people=event.data.get("n_people"))

    def to_trajectory(self, trajectory_id: str, participant_id: str = "live") -> Trajectory:
        """The game as played: both moves with their payoffs, the human in the row seat of ``view``."""
        events = []
        if len(self.moves) == 2:
            i, j = self.moves[HUMAN], self.moves[OPPONENT]
            events = [Event(1, HUMAN, self.view.actions[i], payoff=float(self.view.row[i, j])),
                      Event(1, OPPONENT, self.view.other_actions[j], payoff=float(self.view.col[i, j]))]
        return self.live_trajectory(trajectory_id, participant_id, FAMILY, self.view.name or "live", ROW, events)


#: PettingZoo's pair of constructors: the environment itself, and with the standard wrappers
raw_env = OneShotEnv
env = wrap(raw_env)
