"""Plugins: code and game families from outside gamereplay, made known the same way everywhere.

A run config may name what it needs besides the built-ins::

    plugins:
      - my_pkg.predictors          # a module: imported (its @register_predictor / register_family run)
      - plugins/my_predictor.py    # a Python file (or a package folder), relative to the config file
      - families/stag_hunt.yaml    # a YAML game family (envs.tabular)
    data:
      family: families/stag_hunt.yaml   # a YAML family may also be named directly here

``resolve`` turns such a list into a ``PluginSetup``: a small picklable record (module
names, absolute paths, the directories to add to ``sys.path``).  ``activate(setup)`` is
what makes it so — the driver calls it when the config is read, and every Ray worker
calls it before building its predictor (``sim.ray_backend``), which is why a plugin
predictor runs under ``--backend ray`` exactly as locally.  It is idempotent.

A Python file is imported under its file name (``plugins/my_predictor.py`` -> module
``my_predictor``, its folder appended to ``sys.path``), so a worker imports it under
the same name, its classes pickle, and ``type: "my_predictor:MyPredictor"`` works.  Two
different files with one name in one process are refused (rename one).  A module name
is looked up on ``sys.path``, then in the config file's folder.

On a Ray cluster (``--address``) the paths must exist on every node (a shared file
system), or the plugin must be an installed package (entry points, see
``predictors.registry`` and ``envs.registry``).

Every failure is a ``PluginError``: one line naming the config file and the plugin.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

FAMILY_SUFFIXES = (".yaml", ".yml")


class PluginError(ValueError):
    """A plugin cannot be found or imported; the message is one line naming the config file and the plugin."""


@dataclass(frozen=True)
class Plugin:
    """One thing to import or register."""

    kind: Literal["module", "file", "family"]
    target: str  # a module name, or an absolute path
    written: str  # as the user wrote it (for messages)
    key: str  # where it was written: ``plugins[0]``, ``data.family``, ``--plugin``
    module: str = ""  # the module name a file is imported as

    def describe(self) -> str:
        """As ``to_dict`` writes it back: re-loadable from anywhere."""
        return self.target


@dataclass(frozen=True)
class PluginSetup:
    """What must be imported/registered before a config can be used (picklable: shipped to Ray workers)."""

    plugins: tuple[Plugin, ...] = ()
    paths: tuple[str, ...] = ()  # directories appended to sys.path
    source: str = "<command line>"  # the config file, for messages

    def __add__(self, other: PluginSetup) -> PluginSetup:
        plugins = self.plugins + tuple(p for p in other.plugins if p not in self.plugins)
        paths = self.paths + tuple(p for p in other.paths if p not in self.paths)
        return PluginSetup(plugins, paths, self.source if self.plugins or self.paths else other.source)

    def __bool__(self) -> bool:
        return bool(self.plugins or self.paths)

    @property
    def modules(self) -> list[str]:
        """The module names imported, plugin files' included."""
        return [p.module or p.target for p in self.plugins if p.kind != "family"]

    @property
    def family_files(self) -> list[str]:
        return [p.target for p in self.plugins if p.kind == "family"]


def is_path(entry: str) -> bool:
    """Whether a plugin entry is a path (has a separator or a .py/.yaml suffix) rather than a module name."""
    return "/" in entry or "\\" in entry or entry.endswith((".py", *FAMILY_SUFFIXES))


def _valid_module_name(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


def resolve(entries: Sequence[object], base: Path | None = None, source: str = "<command line>",
            key: str = "plugins", families_only: bool = False) -> PluginSetup:
    """A ``PluginSetup`` from entries as written: module names, ``.py`` files or package folders, YAML families.

    Paths are relative to ``base`` (the config file's folder; default the working directory) and must
    exist.  ``families_only``: every path entry must be a YAML family (``data.family``, ``--family``)."""
    base = (base or Path.cwd()).resolve()
    plugins: list[Plugin] = []
    paths: list[str] = []

    def fail(where: str, msg: str) -> PluginError:
        return PluginError(f"{source}: {where}: {msg}")

    for i, entry in enumerate(entries):
        where = f"{key}[{i}]" if len(entries) > 1 or key == "plugins" else key
        if not isinstance(entry, str) or not entry.strip():
            raise fail(where, f"expected a module name or a path to a .py or .yaml file, got {entry!r}")
        if not is_path(entry):
            if families_only:
                raise fail(where, f"{entry!r} is not a YAML family file (*.yaml)")
            if not _valid_module_name(entry):
                raise fail(where, f"{entry!r} is neither a module name (my_pkg.predictors) nor a path")
            top = entry.split(".")[0]
            if top not in sys.modules and importlib.util.find_spec(top) is None \
                    and ((base / top).is_dir() or (base / f"{top}.py").is_file()) and str(base) not in paths:
                paths.append(str(base))  # a package next to the config file
            plugins.append(Plugin("module", entry, entry, where))
            continue
        path = (base / Path(entry).expanduser()).resolve()
        if not path.exists():
            raise fail(where, f"{entry}: no such file or folder ({path})")
        if path.suffix in FAMILY_SUFFIXES:
            plugins.append(Plugin("family", str(path), entry, where))
            continue
        if families_only:
            raise fail(where, f"{entry!r} is not a YAML family file (*.yaml)")
        if path.is_dir() and not (path / "__init__.py").is_file():
            raise fail(where, f"{entry}: a folder plugin must be a Python package (with __init__.py)")
        if path.is_file() and path.suffix != ".py":
            raise fail(where, f"{entry}: expected a .py file, a package folder or a .yaml family file")
        module = path.stem if path.is_file() else path.name
        if not module.isidentifier():
            raise fail(where, f"{entry}: {module!r} is not a valid Python module name; rename the file")
        if str(path.parent) not in paths:
            paths.append(str(path.parent))
        plugins.append(Plugin("file", str(path), entry, where, module))
    return PluginSetup(tuple(plugins), tuple(paths), source)


# -- activation ------------------------------------------------------------------------------------

_done: dict[tuple[str, str], str] = {}  # (kind, target) -> what it gave (a family's name; "" otherwise)
_active: list[PluginSetup] = []


def activate(setup: PluginSetup | None) -> dict[str, str]:
    """Import and register everything ``setup`` names (once per process); returns family file -> family name."""
    names: dict[str, str] = {}
    if not setup:
        return names
    for p in setup.paths:
        if p not in sys.path:
            sys.path.append(p)
    for plugin in setup.plugins:
        done = (plugin.kind, plugin.target)
        if done not in _done:
            _done[done] = _activate_one(plugin, setup.source)
        if plugin.kind == "family":
            names[plugin.target] = _done[done]
    if setup not in _active:
        _active.append(setup)
    return names


def activated() -> PluginSetup:
    """Everything activated in this process so far (what a Ray worker must activate to match it)."""
    out = PluginSetup()
    for s in _active:
        out = out + s
    return out


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split()) or '(no message)'}"


def _activate_one(plugin: Plugin, source: str) -> str:
    where = f"{source}: {plugin.key} ({plugin.written})"
    try:
        if plugin.kind == "family":
            from envs.registry import load_family_file

            return load_family_file(plugin.target).name
        if plugin.kind == "file":
            _import_file(plugin.module, Path(plugin.target))
        else:
            importlib.import_module(plugin.target)
    except PluginError as exc:
        raise PluginError(f"{where}: {exc}") from None
    except Exception as exc:  # whatever the plugin's own code raised: one line naming the plugin
        what = "cannot load the game family" if plugin.kind == "family" else "import failed"
        raise PluginError(f"{where}: {what}: {_one_line(exc)}") from None
    return ""


def _import_file(name: str, path: Path) -> None:
    """Import a .py file or a package folder as the top-level module ``name`` (so its classes pickle)."""
    init = path / "__init__.py" if path.is_dir() else path
    loaded = sys.modules.get(name)
    if loaded is not None:
        where = getattr(loaded, "__file__", None)
        if where and Path(where).resolve() == init.resolve():
            return
        raise PluginError(f"the module name {name!r} is already taken by {where or 'a built-in module'}; "
                          "rename the plugin file")
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(path)] if path.is_dir() else None)
    if spec is None or spec.loader is None:
        raise PluginError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
