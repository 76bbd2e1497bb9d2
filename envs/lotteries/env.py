"""A PettingZoo AEC environment for one choice between two gambles (choices13k, CPC15-style problems).

One agent, ``chooser``, acts once: action 0 = gamble A, 1 = gamble B
(``ACTIONS``).  The chosen gamble is then played with its true probabilities
(drawn from the environment's seeded generator), the outcome is the reward, and
the agent is terminated.

Observation: what the chooser sees, as a float32 vector of length
``4 * MAX_OUTCOMES + 2``: A's outcomes as (probability, amount) pairs, then B's,
each padded with (0, 0) to ``MAX_OUTCOMES`` pairs, then ``Amb`` (0/1) and
``Corr``.  Under ambiguity B's probabilities are not shown: they read -1.

Replay: ``reset(options={"trajectory": traj})`` binds a problem; ``logged_action``
is the majority choice, and ``decision_point`` carries the observed share of B
choices (``human_rate``) and the number of people.  Live play: construct with any
two gambles, drive with ``envs.live.play``, and ``to_trajectory`` turns the
finished game into a trajectory that replays like a logged one (of the family
``choices13k_feedback`` when built with ``feedback=True``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from gymnasium import spaces

from envs.lotteries.gambles import Gamble, problem_gambles
from envs.lotteries.loader import FAMILY, FEEDBACK_FAMILY, ROLE
from envs.records import HUMAN, DecisionPoint, Event, Trajectory
from envs.replay_env import ReplayEnv, wrap

CHOOSER = "chooser"  # the one seat; its logged move is the human event of the trajectory
ACTIONS: tuple[str, str] = ("A", "B")
MAX_OUTCOMES = 10  # choices13k has at most 9 outcomes per gamble
HIDDEN = -1.0  # the probability shown for B's outcomes under ambiguity
MAX_AMOUNT = 1e6  # bound of the observation space; choices13k's amounts lie in [-50, 256]

# Choices13k problem 1: A = 95% $26 / 5% -$1, B = 95% $21 / 5% $23 — a default for live play.
DEFAULT_A = ((0.95, 26.0), (0.05, -1.0))
DEFAULT_B = ((0.95, 21.0), (0.05, 23.0))


class LotteryEnv(ReplayEnv):
    """A single choice between gamble A and gamble B; replays choices13k problems or plays live."""

    metadata = {"name": "lotteries_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, a: Sequence[Sequence[float]] = DEFAULT_A, b: Sequence[Sequence[float]] = DEFAULT_B,
                 amb: bool = False, corr: int = 0, feedback: bool = False, render_mode: str | None = None):
        super().__init__(
            [CHOOSER], {CHOOSER: spaces.Box(-MAX_AMOUNT, MAX_AMOUNT, shape=(4 * MAX_OUTCOMES + 2,), dtype=np.float32)},
            {CHOOSER: spaces.Discrete(len(ACTIONS))},
            {"A": [list(map(float, o)) for o in a], "B": [list(map(float, o)) for o in b], "Amb": bool(amb),
             "Corr": int(corr), "Feedback": bool(feedback)}, render_mode)
        self._check_size()
        self.choice: str | None = None
        self.outcome: float | None = None

    @classmethod
    def from_trajectory(cls, trajectory: Trajectory, render_mode: str | None = None) -> "LotteryEnv":
        """An environment holding this trajectory's problem."""
        p = trajectory.params
        return cls(p["A"], p["B"], bool(p.get("Amb", False)), int(p.get("Corr", 0)), bool(p.get("Feedback", False)),
                   render_mode)

    def _check_size(self) -> None:
        """A gamble must fit the observation: at most MAX_OUTCOMES outcomes, amounts within +-MAX_AMOUNT."""
        for side in ACTIONS:
            g = Gamble.from_pairs(self.params[side]).merged()
            if len(g.outcomes) > MAX_OUTCOMES:
                raise ValueError(f"gamble {side} has more than {MAX_OUTCOMES} outcomes")
            if any(abs(x) > MAX_AMOUNT for _, x in g.outcomes):
                raise ValueError(f"gamble {side} has an amount beyond +-{MAX_AMOUNT:g}")

    def _adopt(self, trajectory: Trajectory) -> None:
        super()._adopt(trajectory)
        self._check_size()

    def _start(self) -> None:
        self.choice = None
        self.outcome = None

    def action_labels(self, agent: str) -> tuple[str, ...]:
        return ACTIONS

    # -- core AEC loop -------------------------------------------------------------------------
    def observe(self, agent: str) -> np.ndarray:
        a, b = problem_gambles(self.params)
        obs = np.zeros(4 * MAX_OUTCOMES + 2, dtype=np.float32)
        for offset, g, hide in ((0, a, False), (2 * MAX_OUTCOMES, b, bool(self.params.get("Amb")))):
            for i, (p, x) in enumerate(g.merged().outcomes):
                obs[offset + 2 * i] = HIDDEN if hide else p
                obs[offset + 2 * i + 1] = x
        obs[-2] = float(bool(self.params.get("Amb")))
        obs[-1] = float(self.params.get("Corr", 0))
        return obs

    def _play(self, agent: str, move: int) -> bool:
        self.choice = ACTIONS[move]
        self.outcome = Gamble.from_pairs(self.params[self.choice]).sample(self.np_random)
        self.rewards[agent] = self.outcome
        self.terminations[agent] = True
        self.infos[agent] = {"choice": self.choice, "outcome": self.outcome}
        return True

    def render(self) -> str:
        if self.choice is None:
            return "no choice made yet"
        return f"chose gamble {self.choice}; outcome {self.outcome:g}"

    # -- replay and live logs ------------------------------------------------------------------
    def logged_action(self, agent: str) -> int:
        """The choice the log records (for aggregate data: the majority choice)."""
        return ACTIONS.index(self.logged_event(HUMAN).action)

    def is_scored_decision(self, agent: str) -> bool:
        """The one choice is the scored decision."""
        return agent == CHOOSER

    def decision_point(self, action: int | None = None) -> DecisionPoint:
        """The choice as a decision point; aggregate logs carry the share choosing B and the number of people."""
        e = self.logged_event(HUMAN)
        return self.make_decision_point(1, ACTIONS, e.action, "B", human_rate=e.data.get("b_rate"),
                                        n_people=e.data.get("n_people"))

    def to_trajectory(self, trajectory_id: str, participant_id: str = "live") -> Trajectory:
        """The live choice as a one-decision trajectory (no rate: one chooser); no event before the choice."""
        events = () if self.choice is None else (Event(1, HUMAN, self.choice, payoff=self.outcome),)
        family = FEEDBACK_FAMILY if self.params.get("Feedback") else FAMILY
        game = "ambiguity" if self.params.get("Amb") else "risk"
        return self.live_trajectory(trajectory_id, participant_id, family, game, ROLE, events)


#: PettingZoo's pair of constructors: the environment itself, and with the standard wrappers
raw_env = LotteryEnv
env = wrap(raw_env)
