"""The example's game family, for the ``gamereplay.families`` entry point: the stag hunt YAML shipped here."""

from __future__ import annotations

from pathlib import Path

from envs.family import Family

STAG_HUNT_YAML = Path(__file__).resolve().with_name("stag_hunt.yaml")


def stag_hunt() -> Family:
    """The repeated stag hunt (MADE-UP data, see README.md), read from ``stag_hunt.yaml``."""
    from envs.tabular import load_family_yaml

    return load_family_yaml(STAG_HUNT_YAML)
