"""Installed packages' entry points, read once per group: how plugins register families and predictor types.

Both registries (``envs.registry`` for ``gamereplay.families``, ``predictors.registry`` for
``gamereplay.predictors``) read their group the first time a name is not found, and only then:
reading entry points scans every installed distribution's metadata.
"""

from __future__ import annotations

from importlib import metadata

_READ: set[str] = set()


def read_once(group: str) -> list[metadata.EntryPoint]:
    """The entry points of ``group`` the first time it is asked for in this process; ``[]`` after that."""
    if group in _READ:
        return []
    _READ.add(group)
    return list(metadata.entry_points(group=group))
