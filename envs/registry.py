"""Game families by name: the built-in ones, YAML families and plugins' families.

``register_family(family)`` adds a ``Family`` (``envs.family``) under its name; every part
of gamereplay then finds it with ``get_family(name)`` — runs, the data check, the
predictors (which ask a decision's family for its prompt, stage game or features).

Three ways in:

- the built-in families, registered when this module is imported;
- a YAML family (``envs.tabular``): ``load_family_file("my_game.yaml")``, or
  ``data.family: my_game.yaml`` in a run config;
- an installed package's entry point in the group ``gamereplay.families``, whose object
  is a ``Family`` (or a subclass, a function returning one or a list, or the path of a
  YAML file); entry points are read the first time a name is not found.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from envs.entry_points import read_once
from envs.family import Family

ENTRY_POINT_GROUP = "gamereplay.families"

FAMILIES: dict[str, Family] = {}


class FamilyError(ValueError):
    """A family cannot be registered or found; the message says which and why."""


def register_family(family: Family, replace: bool = False) -> Family:
    """Make ``family`` known by its name; a different family of the same name is refused unless ``replace``."""
    if isinstance(family, type) and issubclass(family, Family):
        family = family()
    if not isinstance(family, Family):
        raise FamilyError(f"register_family expects a envs.family.Family, got {type(family).__name__}")
    if not family.name or not isinstance(family.name, str):
        raise FamilyError(f"{family!r}: a family needs a name")
    old = FAMILIES.get(family.name)
    if old is not None and old is not family and not replace and not _same_source(old, family):
        raise FamilyError(f"a game family called {family.name!r} is already registered ({old!r}); "
                          "give yours another name")
    FAMILIES[family.name] = family
    return family


def _same_source(a: Family, b: Family) -> bool:
    """Two loads of one YAML file are the same family."""
    spec_a, spec_b = getattr(a, "spec_path", None), getattr(b, "spec_path", None)
    return spec_a is not None and spec_a == spec_b


def get_family(name: str) -> Family:
    """The registered family called ``name`` (entry points are consulted on a miss)."""
    if name not in FAMILIES:
        load_entry_points()
    if name not in FAMILIES:
        raise KeyError(f"unknown game family {name!r}; known: {sorted(FAMILIES)}")
    return FAMILIES[name]


def families() -> dict[str, Family]:
    """Every known family, installed plugins' included."""
    load_entry_points()
    return dict(FAMILIES)


def load_family_file(path: str | os.PathLike) -> Family:
    """Read a YAML family description (``envs.tabular``) and register it; returns the family."""
    from envs.tabular import load_family_yaml

    return register_family(load_family_yaml(path))


def _register_object(obj: Any, origin: str) -> None:
    if isinstance(obj, (str, os.PathLike)):
        load_family_file(Path(obj))
        return
    if isinstance(obj, type) and issubclass(obj, Family):
        obj = obj()
    elif callable(obj) and not isinstance(obj, Family):
        obj = obj()
    for fam in obj if isinstance(obj, (list, tuple)) else [obj]:
        if not isinstance(fam, Family):
            raise FamilyError(f"entry point {origin} gave {type(fam).__name__}, not a Family")
        register_family(fam)


def load_entry_points() -> None:
    """Register the families that installed packages declare under ``gamereplay.families`` (once)."""
    for ep in read_once(ENTRY_POINT_GROUP):
        try:
            _register_object(ep.load(), f"{ep.name} = {ep.value}")
        except Exception as exc:  # a broken plugin must say so, not break every other family
            raise FamilyError(f"game family plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc


def _register_builtin() -> None:
    from envs.glee.family import glee_families
    from envs.lotteries.family import LotteryFamily
    from envs.one_shot.family import OneShotFamily
    from envs.repeated_matrix.family import RepeatedMatrixFamily

    for fam in (RepeatedMatrixFamily(), *glee_families(), LotteryFamily(False), LotteryFamily(True), OneShotFamily()):
        register_family(fam)


_register_builtin()
