"""Replay a human trajectory through its environment, collecting the human's decision points.

The environment, not the loader, decides what a person could see at each
decision: the driver steps every seat with the move the log records and asks
the environment for a ``DecisionPoint`` whenever the human seat is to move.
"""

from __future__ import annotations

from typing import Callable, Iterable, Protocol

from tqdm.auto import tqdm

from envs.records import DecisionPoint, Trajectory


class ReplayableEnv(Protocol):
    """What an environment offers for replay, beyond the PettingZoo AEC API."""

    def reset(self, seed: int | None = None, options: dict | None = None) -> None: ...
    def agent_iter(self, max_iter: int = ...) -> Iterable[str]: ...
    def last(self, observe: bool = True) -> tuple: ...
    def step(self, action) -> None: ...
    def logged_action(self, agent: str): ...
    def is_scored_decision(self, agent: str) -> bool: ...
    def decision_point(self, action) -> DecisionPoint: ...


def replay(trajectory: Trajectory, make_env: Callable[[Trajectory], ReplayableEnv]) -> list[DecisionPoint]:
    """Every human decision of ``trajectory``, in play order."""
    env = make_env(trajectory)
    env.reset(options={"trajectory": trajectory})
    points: list[DecisionPoint] = []
    for agent in env.agent_iter():
        _, _, terminated, truncated, _ = env.last(observe=False)
        if terminated or truncated:
            env.step(None)
            continue
        try:
            action = env.logged_action(agent)
        except LookupError:  # the log ends early; the loader has flagged the trajectory
            break
        if env.is_scored_decision(agent):
            points.append(env.decision_point(action))
        env.step(action)
    return points


def replay_all(trajectories: list[Trajectory], make_env: Callable[[Trajectory], ReplayableEnv],
               progress: bool = True) -> list[DecisionPoint]:
    """Decision points of many trajectories, with a progress bar."""
    out: list[DecisionPoint] = []
    for t in tqdm(trajectories, desc="replay", unit="game", disable=not progress):
        out.extend(replay(t, make_env))
    return out
