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

The simultaneous rounds (AEC loop, observation, render, replay) are
``envs.simultaneous.SimultaneousRoundsEnv``'s; this module writes the game.

Replay (``envs.replay_env``): each seat's logged move is its event of the current
round.  Live play: put any policy in either seat (e.g. ``lookup_policy`` for the
GPT-4 opponent), drive it with ``envs.live.play``; ``to_trajectory`` logs the game.
"""

from __future__ import annotations

from gymnasium import spaces

from envs.records import HUMAN, Trajectory
from envs.repeated_matrix.games import GAMES, game_from_params
from envs.repeated_matrix.loader import FAMILY
from envs.replay_env import wrap
from envs.simultaneous import SEATS, SimultaneousRoundsEnv
from envs.stage_game import StageGame

ROLE = "row player"  # the human's role in Akata et al.'s logs


class RepeatedMatrixEnv(SimultaneousRoundsEnv):
    """Repeated matrix game; replays human logs or plays live."""

    metadata = {"name": "repeated_matrix_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, game: StageGame | str = "PD", n_rounds: int = 10, render_mode: str | None = None):
        self.game = GAMES[game] if isinstance(game, str) else game
        n_codes = 1 + max(len(self.game.actions), len(self.game.other_actions))
        super().__init__(n_rounds, (len(self.game.actions), len(self.game.other_actions)),
                         {a: spaces.MultiDiscrete([n_codes] * (2 * n_rounds)) for a in SEATS},
                         {**self.game.to_params(), "n_rounds": n_rounds}, render_mode)

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

    # -- the game --------------------------------------------------------------------------------
    def action_labels(self, agent: str) -> tuple[str, ...]:
        return self.game.actions if agent == HUMAN else self.game.other_actions

    def payoffs(self, rnd: int, human: str, opponent: str | None) -> tuple[float, float]:
        """The stage game's payoffs (the same every round)."""
        return self.game.payoff(human, opponent)

    def title(self) -> str:
        return self.game.title

    @property
    def affirmative(self) -> str:
        return self.game.actions[0]

    # -- live logs -------------------------------------------------------------------------------
    def to_trajectory(self, trajectory_id: str, participant_id: str = "live") -> Trajectory:
        """The rounds played so far, shaped like Akata et al.'s logs (both moves and payoffs per round)."""
        return self.live_trajectory(trajectory_id, participant_id, FAMILY, self.game.name, ROLE,
                                    self.round_events())


#: PettingZoo's pair of constructors: the environment itself, and with the standard wrappers
raw_env = RepeatedMatrixEnv
env = wrap(raw_env)
