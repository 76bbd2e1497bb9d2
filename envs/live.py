"""Play an environment live: a policy in every seat, the result logged as a Trajectory.

A live game becomes a trajectory of the same shape as a human log, so it can be
replayed and scored like one.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from envs.records import Event, Trajectory

Policy = Callable[[np.ndarray, dict], int]


def play(env, policies: Mapping[str, Policy], seed: int | None = None) -> list[tuple[str, int, float]]:
    """Run one game; returns (agent, action, reward received after the move) per step."""
    env.reset(seed=seed)
    log: list[tuple[str, int, float]] = []
    for agent in env.agent_iter():
        obs, reward, terminated, truncated, info = env.last()
        if terminated or truncated:
            env.step(None)
            continue
        action = int(policies[agent](obs, info))
        env.step(action)
        log.append((agent, action, float(env.rewards.get(agent, 0.0))))
    return log


def as_trajectory(env, trajectory_id: str, participant_id: str = "live") -> Trajectory:
    """The finished live game in ``env`` (a repeated matrix game) as a Trajectory."""
    events = []
    for r, (h, o) in enumerate(env.history, start=1):
        ph, po = env.game.payoff(h, o)
        events += [Event(r, "human", h, payoff=ph), Event(r, "opponent", o, payoff=po)]
    return Trajectory(trajectory_id=trajectory_id, family="repeated_matrix", game=env.game.name,
                      participant_id=participant_id, role="row player", params=dict(env.params),
                      events=tuple(events), source="live")
