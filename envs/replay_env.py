"""The base of every replay environment: a PettingZoo AEC environment that can also replay a human log.

PettingZoo's AEC API (``reset``, ``step``, ``last``, ``agent_iter``, ``observe``) is how
environments are played live; replaying a log adds four methods, which the replay
driver (``envs.replay.replay``) calls, and one for live play:

- ``logged_action(agent)``: the move the bound log says ``agent`` makes now (``LookupError``
  when the log has none: it ended early, or the seat's moves are not logged);
- ``is_scored_decision(agent)``: whether ``agent`` is the human, facing a decision that
  predictors score;
- ``decision_point(action)``: that decision as a ``DecisionPoint`` — what the human could
  see (no later event) and what they did (``action``);
- ``from_trajectory(trajectory)`` (class method): an environment shaped for a trajectory's game;
- ``to_trajectory(trajectory_id)``: a live game as a ``Trajectory`` shaped like a human log,
  so it replays (into the same moves) and scores like one.

``ReplayEnv`` writes once what every environment shares, so a subclass only writes its game:

- ``reset``: seeds ``np_random`` and the spaces, binds ``options["trajectory"]`` (or none, for
  live play), adopts the trajectory's game (``_adopt``), clears the reward / termination
  bookkeeping, then starts the game (``_start``);
- ``step``: the dead-agent step, the reward bookkeeping and ``ansi`` rendering around the
  game's own move (``_check`` then ``_play``); ``checked_action`` refuses an action outside the space;
- replay helpers: ``bound``, ``logged_event`` and ``make_decision_point`` (the decision's id
  and the trajectory's data-quality flags that concern its round);
- ``live_trajectory``: the common shape of a live game's ``Trajectory``.

Every environment keeps its game's parameters in ``params`` (replaced by the bound
trajectory's on ``reset``).  ``wrap`` turns a raw environment class into PettingZoo's ``env()``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv
from pettingzoo.utils import AgentSelector, wrappers

from envs.records import DecisionPoint, Event, Trajectory


class ReplayEnv(AECEnv):
    """An AEC environment that replays human logs (see the module docstring)."""

    metadata: dict[str, Any] = {"name": "replay_v0", "render_modes": ["ansi"], "is_parallelizable": False}

    def __init__(self, agents: Iterable[str], observation_spaces: Mapping[str, spaces.Space],
                 action_spaces: Mapping[str, spaces.Space], params: Mapping[str, Any],
                 render_mode: str | None = None):
        super().__init__()
        self.possible_agents = list(agents)
        self.observation_spaces = dict(observation_spaces)
        self.action_spaces = dict(action_spaces)
        self.params: dict[str, Any] = dict(params)
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

    # -- reset ---------------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        """Seed, bind ``options["trajectory"]`` (or none: live play), clear the bookkeeping, start the game."""
        if seed is not None:
            self.np_random = np.random.default_rng(seed)
            for i, a in enumerate(self.possible_agents):
                self.observation_spaces[a].seed(seed + i)
                self.action_spaces[a].seed(seed + i)
        self.trajectory = (options or {}).get("trajectory")
        if self.trajectory is not None:
            self._adopt(self.trajectory)
        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos = {a: {} for a in self.agents}
        self._selector = AgentSelector(self.agents)
        self.agent_selection = self._selector.reset()
        self._start()

    def _adopt(self, trajectory: Trajectory) -> None:
        """Play the bound trajectory's game: take its parameters (subclasses check they fit the spaces)."""
        self.params = dict(trajectory.params)

    def _start(self) -> None:
        """Set up the game's own state for a new game (after the bookkeeping is cleared)."""

    # -- step ----------------------------------------------------------------------------------
    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        move = self._check(agent, action)
        self._cumulative_rewards[agent] = 0.0
        self._clear_rewards()
        settled = self._play(agent, move)
        self._accumulate_rewards()
        if self.render_mode == "ansi" and settled:
            print(self.render())

    def _check(self, agent: str, action: Any) -> Any:
        """The move ``action`` stands for (by default its index), or a ValueError; changes nothing."""
        return self.checked_action(agent, action)

    def _play(self, agent: str, move: Any) -> bool:
        """Play ``agent``'s checked move: set ``rewards``, terminations and the next ``agent_selection``.

        Returns whether the move settled something worth rendering (a round's payoffs, the game's end)."""
        raise NotImplementedError

    def checked_action(self, agent: str, action: Any) -> int:
        """``action`` as an index into ``agent``'s Discrete action space, or a ValueError naming the options."""
        try:
            index = int(action)
        except (TypeError, ValueError):
            index = None
        if index is None or not self.action_spaces[agent].contains(index):
            options = ", ".join(f"{i}={name}" for i, name in enumerate(self.action_labels(agent)))
            raise ValueError(f"{agent}: illegal action {action!r} (expected one of {options})")
        return index

    def action_labels(self, agent: str) -> tuple[str, ...]:
        """What ``agent``'s actions 0, 1, ... stand for (their names in the log)."""
        return tuple(str(i) for i in range(self.action_spaces[agent].n))

    def close(self) -> None:
        pass

    # -- replay --------------------------------------------------------------------------------
    def bound(self) -> Trajectory:
        """The bound trajectory, or a RuntimeError saying how to bind one."""
        if self.trajectory is None:
            raise RuntimeError("no trajectory bound: reset(options={'trajectory': ...}) first")
        return self.trajectory

    def logged_event(self, actor: str, round: int | None = None) -> Event:
        """The bound log's first event of ``actor`` (in ``round``); LookupError when the log has none."""
        t = self.bound()
        for e in t.events:
            if e.actor == actor and (round is None or e.round == round):
                return e
        where = "" if round is None else f" in round {round}"
        raise LookupError(f"{t.trajectory_id}: no logged move for {actor}{where}")

    def logged_action(self, agent: str) -> Any:
        raise NotImplementedError

    def is_scored_decision(self, agent: str) -> bool:
        raise NotImplementedError

    def decision_point(self, action: Any = None) -> DecisionPoint:
        raise NotImplementedError

    def make_decision_point(self, round: int, legal_actions: Iterable[str], human_action: str, affirmative: str,
                            history: Iterable[Event] = (), human_rate: float | None = None,
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

    # -- live play -----------------------------------------------------------------------------
    def to_trajectory(self, trajectory_id: str, participant_id: str = "live") -> Trajectory:
        """The game played so far (``envs.live.play``) as a Trajectory that replays into the same moves."""
        raise NotImplementedError

    def live_trajectory(self, trajectory_id: str, participant_id: str, family: str, game: str, role: str,
                        events: Iterable[Event], meta: Mapping[str, Any] | None = None) -> Trajectory:
        """A live game's Trajectory: this environment's ``params``, ``source="live"``."""
        return Trajectory(trajectory_id=trajectory_id, family=family, game=game, participant_id=participant_id,
                          role=role, params=dict(self.params), events=tuple(events), source="live",
                          meta=dict(meta or {}))


def wrap(raw: Callable[..., ReplayEnv]) -> Callable[..., AECEnv]:
    """An ``env()`` factory with PettingZoo's standard wrappers (as in PettingZoo's classic environments):
    out-of-bounds actions and calls out of order are caught.  Replay uses the raw environment."""

    def env(*args: Any, **kwargs: Any) -> AECEnv:
        e = raw(*args, **kwargs)
        if all(isinstance(e.action_space(a), spaces.Discrete) for a in e.possible_agents):
            e = wrappers.AssertOutOfBoundsWrapper(e)
        return wrappers.OrderEnforcingWrapper(e)

    name = getattr(raw, "__name__", "raw_env")
    env.__doc__ = f"``{name}`` with PettingZoo's standard wrappers (out-of-bounds actions, calls out of order)."
    return env
