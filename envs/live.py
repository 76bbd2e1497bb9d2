"""Play an environment live: a policy in every seat.

A finished live game becomes a trajectory of the same shape as a human log with the
environment's own ``to_trajectory(trajectory_id)`` (``envs.replay_env.ReplayEnv``), so it can be
replayed and scored like one.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from pettingzoo import AECEnv

#: a seat's policy: (observation, info) -> the index of its action
Policy = Callable[[Any, dict], int]


def play(env: AECEnv, policies: Mapping[str, Policy], seed: int | None = None) -> list[tuple[str, int, float]]:
    """Run one game of ``env`` (raw or wrapped); returns (agent, action, reward received after the move) per step."""
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
