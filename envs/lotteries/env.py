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
two gambles, drive with ``envs.live.play``, and ``as_trajectory`` turns the
finished game into a trajectory that replays like a logged one.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv
from pettingzoo.utils import AgentSelector

from envs.lotteries.gambles import Gamble, problem_gambles
from envs.lotteries.loader import FAMILY, ROLE
from envs.records import HUMAN, DecisionPoint, Event, Trajectory

CHOOSER = "chooser"  # the one seat; its logged move is the human event of the trajectory
ACTIONS: tuple[str, str] = ("A", "B")
MAX_OUTCOMES = 10  # choices13k has at most 9 outcomes per gamble
HIDDEN = -1.0  # the probability shown for B's outcomes under ambiguity
MAX_AMOUNT = 1e6  # bound of the observation space; choices13k's amounts lie in [-50, 256]

# Choices13k problem 1: A = 95% $26 / 5% -$1, B = 95% $21 / 5% $23 — a default for live play.
DEFAULT_A = ((0.95, 26.0), (0.05, -1.0))
DEFAULT_B = ((0.95, 21.0), (0.05, 23.0))


class LotteryEnv(AECEnv):
    """A single choice between gamble A and gamble B; replays choices13k problems or plays live."""

    metadata = {"name": "lotteries_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, a: Sequence[Sequence[float]] = DEFAULT_A, b: Sequence[Sequence[float]] = DEFAULT_B,
                 amb: bool = False, corr: int = 0, render_mode: str | None = None):
        super().__init__()
        self.render_mode = render_mode
        self.possible_agents = [CHOOSER]
        self._obs_space = spaces.Box(-MAX_AMOUNT, MAX_AMOUNT, shape=(4 * MAX_OUTCOMES + 2,), dtype=np.float32)
        self._act_space = spaces.Discrete(2)
        self.trajectory: Trajectory | None = None
        self.params: dict[str, Any] = {"A": [list(map(float, o)) for o in a], "B": [list(map(float, o)) for o in b],
                                       "Amb": bool(amb), "Corr": int(corr)}
        self._check_size()
        self._rng = np.random.default_rng()

    @classmethod
    def from_trajectory(cls, trajectory: Trajectory, render_mode: str | None = None) -> "LotteryEnv":
        """An environment holding this trajectory's problem."""
        p = trajectory.params
        return cls(p["A"], p["B"], bool(p.get("Amb", False)), int(p.get("Corr", 0)), render_mode)

    def _check_size(self) -> None:
        """A gamble must fit the observation: at most MAX_OUTCOMES outcomes, amounts within +-MAX_AMOUNT."""
        for side in ACTIONS:
            g = Gamble.from_pairs(self.params[side]).merged()
            if len(g.outcomes) > MAX_OUTCOMES:
                raise ValueError(f"gamble {side} has more than {MAX_OUTCOMES} outcomes")
            if any(abs(x) > MAX_AMOUNT for _, x in g.outcomes):
                raise ValueError(f"gamble {side} has an amount beyond +-{MAX_AMOUNT:g}")

    def observation_space(self, agent: str) -> spaces.Space:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Space:
        return self._act_space

    # -- core AEC loop -------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            self._obs_space.seed(seed)
            self._act_space.seed(seed)
        self.trajectory = (options or {}).get("trajectory")
        if self.trajectory is not None:
            self.params = dict(self.trajectory.params)
            self._check_size()
        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos = {a: {} for a in self.agents}
        self.choice: str | None = None
        self.outcome: float | None = None
        self._selector = AgentSelector(self.agents)
        self.agent_selection = self._selector.reset()

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

    def step(self, action: int | None) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if action is None or not self._act_space.contains(int(action)):
            raise ValueError(f"{agent}: illegal action {action!r} (expected 0=A or 1=B)")
        self._cumulative_rewards[agent] = 0.0
        self.choice = ACTIONS[int(action)]
        self.outcome = Gamble.from_pairs(self.params[self.choice]).sample(self._rng)
        self.rewards[agent] = self.outcome
        self.terminations[agent] = True
        self.infos[agent] = {"choice": self.choice, "outcome": self.outcome}
        self._accumulate_rewards()
        if self.render_mode == "ansi":
            print(self.render())

    def render(self) -> str:
        if self.choice is None:
            return "no choice made yet"
        return f"chose gamble {self.choice}; outcome {self.outcome:g}"

    def close(self) -> None:
        pass

    # -- replay support -----------------------------------------------------------------------
    def _logged(self) -> Event:
        if self.trajectory is None:
            raise RuntimeError("no trajectory bound: reset(options={'trajectory': ...}) first")
        for e in self.trajectory.events:
            if e.actor == HUMAN:
                return e
        raise LookupError(f"{self.trajectory.trajectory_id}: no logged choice")

    def logged_action(self, agent: str) -> int:
        """The choice the log records (for aggregate data: the majority choice)."""
        return ACTIONS.index(self._logged().action)

    def is_scored_decision(self, agent: str) -> bool:
        """The one choice is the scored decision."""
        return agent == CHOOSER

    def decision_point(self, action: int | None = None) -> DecisionPoint:
        """The choice as a decision point; aggregate logs carry the share choosing B and the number of people."""
        traj = self.trajectory
        if traj is None:
            raise RuntimeError("no trajectory bound")
        e = self._logged()
        rate = e.data.get("b_rate")
        n = e.data.get("n_people")
        return DecisionPoint(
            decision_id=f"{traj.trajectory_id}/r1", trajectory_id=traj.trajectory_id, family=traj.family,
            game=traj.game, participant_id=traj.participant_id, role=traj.role, round=1,
            legal_actions=ACTIONS, human_action=e.action, affirmative="B", params=dict(traj.params),
            history=(), flags=tuple(traj.flags), human_rate=None if rate is None else float(rate),
            n_people=None if n is None else int(n),
        )

    def as_trajectory(self, trajectory_id: str, participant_id: str = "live", family: str = FAMILY) -> Trajectory:
        """The finished live choice as a one-decision trajectory (no rate: one chooser)."""
        if self.choice is None:
            raise RuntimeError("no choice made yet")
        game = "ambiguity" if self.params.get("Amb") else "risk"
        return Trajectory(trajectory_id=trajectory_id, family=family, game=game, participant_id=participant_id,
                          role=ROLE, params=dict(self.params),
                          events=(Event(1, HUMAN, self.choice, payoff=self.outcome),), source="live")


def env(**kwargs: Any) -> LotteryEnv:
    """PettingZoo-style constructor."""
    return LotteryEnv(**kwargs)
