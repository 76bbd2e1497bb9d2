"""The base of every replay environment: a PettingZoo AEC environment that can also replay a human log.

PettingZoo's AEC API (``reset``, ``step``, ``last``, ``agent_iter``, ``observe``) is how
environments are played live; replaying a log adds four methods, which the replay
driver (``envs.replay.replay``) calls:

- ``logged_action(agent)``: the move the bound log says ``agent`` makes now (``LookupError``
  when the log has none: it ended early, or the seat's moves are not logged);
- ``is_scored_decision(agent)``: whether ``agent`` is the human, facing a decision that
  predictors score;
- ``decision_point(action)``: that decision as a ``DecisionPoint`` — what the human could
  see (no later event) and what they did (``action``);
- ``to_trajectory(trajectory_id)``: a finished live game as a ``Trajectory`` shaped like a
  human log, so it replays and scores like one.

``ReplayEnv`` writes once what every environment shares: binding a trajectory on
``reset(options={"trajectory": t})``, seeding the spaces, the reward / termination
bookkeeping, and building the ``DecisionPoint`` (its id, the round's data-quality flags).
Subclasses set ``possible_agents`` and the spaces, and implement the game.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv
from pettingzoo.utils import AgentSelector, wrappers

from envs.records import DecisionPoint, Event, Trajectory


class ReplayEnv(AECEnv):
    """An AEC environment that replays human logs (see the module docstring)."""

    metadata: dict[str, Any] = {"name": "replay_v0", "render_modes": ["ansi"], "is_parallelizable": False}

    def __init__(self, agents: list[str], observation_spaces: dict[str, spaces.Space],
                 action_spaces: dict[str, spaces.Space], render_mode: str | None = None):
        super().__init__()
        self.possible_agents = list(agents)
        self.observation_spaces = dict(observation_spaces)
        self.action_spaces = dict(action_spaces)
        self.render_mode = render_mode
        self.trajectory: Trajectory | None = None
        self.np_random = np.random.default_rng()

    @classmethod
    def from_trajectory(cls, trajectory: Trajectory, *args: Any, **kwargs: Any) -> "ReplayEnv":
        """An environment shaped for this trajectory's game (not yet bound to it: ``reset`` binds)."""
        raise NotImplementedError

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    # -- shared reset --------------------------------------------------------------------------
    def _reset_common(self, seed: int | None, options: dict | None) -> Trajectory | None:
        """Seed, bind ``options["trajectory"]`` (or none, for live play) and clear the per-game state."""
        if seed is not None:
            self.np_random = np.random.default_rng(seed)
            for i, a in enumerate(self.possible_agents):
                self.observation_spaces[a].seed(seed + i)
                self.action_spaces[a].seed(seed + i)
        self.trajectory = (options or {}).get("trajectory")
        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos = {a: {} for a in self.agents}
        self._selector = AgentSelector(self.agents)
        self.agent_selection = self._selector.reset()
        return self.trajectory

    def close(self) -> None:
        pass

    # -- replay --------------------------------------------------------------------------------
    def bound(self) -> Trajectory:
        """The bound trajectory, or a RuntimeError saying how to bind one."""
        if self.trajectory is None:
            raise RuntimeError("no trajectory bound: reset(options={'trajectory': ...}) first")
        return self.trajectory

    def logged_action(self, agent: str):
        raise NotImplementedError

    def is_scored_decision(self, agent: str) -> bool:
        raise NotImplementedError

    def decision_point(self, action: Any = None) -> DecisionPoint:
        raise NotImplementedError

    def to_trajectory(self, trajectory_id: str, participant_id: str = "live") -> Trajectory:
        raise NotImplementedError

    def make_decision_point(self, round: int, legal_actions: tuple[str, ...], human_action: str, affirmative: str,
                            history: tuple[Event, ...], human_rate: float | None = None,
                            n_people: int | None = None) -> DecisionPoint:
        """The bound trajectory's decision in ``round``: id ``<trajectory id>/r<round>``, the trajectory's flags
        that concern this round (``...@r<round>``) or no round at all."""
        t = self.bound()
        tag = f"@r{round}"
        flags = tuple(f for f in t.flags if f.endswith(tag) or "@r" not in f)
        return DecisionPoint(
            decision_id=f"{t.trajectory_id}/r{round}", trajectory_id=t.trajectory_id, family=t.family, game=t.game,
            participant_id=t.participant_id, role=t.role, round=round, legal_actions=tuple(legal_actions),
            human_action=human_action, affirmative=affirmative, params=dict(t.params), history=tuple(history),
            flags=flags, human_rate=None if human_rate is None else float(human_rate),
            n_people=None if n_people is None else int(n_people))


def wrap(raw: Callable[..., ReplayEnv]) -> Callable[..., AECEnv]:
    """An ``env()`` factory with PettingZoo's standard wrappers (as in PettingZoo's classic environments):
    out-of-bounds actions and calls out of order are caught.  Replay uses the raw environment."""

    def env(**kwargs: Any) -> AECEnv:
        e = raw(**kwargs)
        if all(isinstance(e.action_space(a), spaces.Discrete) for a in e.possible_agents):
            e = wrappers.AssertOutOfBoundsWrapper(e)
        return wrappers.OrderEnforcingWrapper(e)

    env.__doc__ = f"{raw.__doc__ or raw.__name__}, with PettingZoo's standard wrappers."
    return env
