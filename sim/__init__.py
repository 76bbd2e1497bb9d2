"""Orchestration: configs, the runner, the results store, backends, data sets and the CLI.

The public surface (imported on first use)::

    from sim import data_folder, load_config, run

    folder = data_folder(family)            # where a family's human log is (its data set, or data.path)
    result = run(load_config("configs/quickstart.yaml"), "runs/mine")
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {"data_folder": ("sim.datasets", "family_folder"), "run": ("sim.runner", "run"),
            "load_config": ("sim.config", "load")}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module, attr = _EXPORTS[name]
        return getattr(import_module(module), attr)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
