"""Game families as PettingZoo environments that replay human trajectories.

The public surface (imported on first use, so ``import envs.records`` stays light)::

    from envs import get_family, load_family_file, replay_all

    family = get_family("repeated_matrix")          # or load_family_file("my_game.yaml")
    trajectories, report = family.load(folder)       # the human log -> trajectories + data-quality report
    decisions = replay_all(trajectories, family.make_env)

``Family`` (``envs.family``) is the protocol a family implements; ``StageGame`` the matrix game
equilibrium predictors read; ``register_family`` adds one (``envs.registry``).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Family": "envs.family", "NotProvided": "envs.family",
    "StageGame": "envs.stage_game",
    "DecisionPoint": "envs.records", "Trajectory": "envs.records", "Event": "envs.records",
    "read_decisions": "envs.records", "write_decisions": "envs.records",
    "get_family": "envs.registry", "register_family": "envs.registry", "families": "envs.registry",
    "load_family_file": "envs.registry",
    "replay": "envs.replay", "replay_all": "envs.replay",
    "ReplayEnv": "envs.replay_env",
    "LoadReport": "envs.quality", "DataFormatError": "envs.quality",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'envs' has no attribute {name!r}")
