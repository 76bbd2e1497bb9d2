"""Predictor types by name, as configs refer to them (``type: nash``, ``type: wsls`` ...): an open registry.

Four ways a type becomes known — the built-in ones are registered exactly like a user's:

- ``@register_predictor("my-model")`` on a ``Predictor`` subclass or a factory function
  (or ``register_predictor("my-model", MyModel)``), in a module a run config imports
  with ``plugins: [my_pkg.predictors]`` or ``plugins: [path/to/file.py]`` (``sim.plugins``);
- a ``type: "package.module:Class"`` in a config: imported the first time it is used;
- an installed package's entry point in the group ``gamereplay.predictors``
  (``wsls = "gamereplay_example.wsls:WinStayLoseShift"``), read the first time a
  type is not found — nothing is imported until that type is used;
- ``register_predictor("name", "module:attr")``: a lazy target, imported when first built
  (how ``llm`` stays lazy: torch is imported only when an llm predictor is built).

The keyword arguments a type's constructor accepts are the keys a config may set
(``allowed_keys``), so a misspelt key is caught before anything runs; a constructor
with ``**kwargs`` accepts any key.  The keys of a type not imported yet are read from its
source (``ast``), so checking a config or listing the types imports nothing.  Every failure is a ``PredictorTypeError`` with one
line saying which type and why.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from envs.entry_points import read_once
from predictors.base import Predictor

ENTRY_POINT_GROUP = "gamereplay.predictors"

#: constructor parameters a config never sets (the runner sets ``progress`` itself)
_NOT_KEYS = frozenset({"self", "progress"})

Factory = Callable[..., Predictor]


class PredictorTypeError(ValueError):
    """A predictor type is unknown or cannot be imported or built; the message is one line."""


@dataclass
class _Entry:
    """One registered type: a factory, or a ``"module:attr"`` imported on first use."""

    name: str
    target: Factory | str
    origin: str = ""
    static: tuple | None = None  # the signature read from a lazy target's source (``()``: unreadable)

    def factory(self) -> Factory:
        if isinstance(self.target, str):
            self.target = _import_target(self.target, f"predictor type {self.name!r}" +
                                         (f" ({self.origin})" if self.origin else ""))
        return self.target

    def signature(self) -> tuple[list[str], list[str], bool]:
        """(the keys a config may set, those it must set, whether any key is accepted)."""
        if isinstance(self.target, str):
            if self.static is None:
                self.static = _static_signature(self.target) or ()
            if self.static:
                return self.static
        return _signature(self.factory())


_REGISTRY: dict[str, _Entry] = {}
_BY_PATH: dict[str, _Entry] = {}  # ``"module:Class"`` types used so far (not listed: they have no name)


def _import_target(target: str, what: str) -> Factory:
    """``"package.module:Attr"`` -> the object, checked to be a Predictor factory."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise PredictorTypeError(f"{what}: {target!r} is not of the form 'package.module:Class'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise PredictorTypeError(f"{what}: cannot import module {module_name!r} ({exc})") from None
    except Exception as exc:  # a plugin module that raises on import: say which, in one line
        raise PredictorTypeError(f"{what}: importing {module_name!r} failed: {type(exc).__name__}: {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise PredictorTypeError(f"{what}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    _check_factory(obj, f"{what}: {target}")
    return obj


def _check_factory(obj: Any, what: str) -> None:
    if isinstance(obj, type):
        if not issubclass(obj, Predictor):
            raise PredictorTypeError(f"{what} is a class but not a predictors.base.Predictor subclass")
    elif not callable(obj):
        raise PredictorTypeError(f"{what} is a {type(obj).__name__}, not a Predictor class or factory function")


def _signature(factory: Factory) -> tuple[list[str], list[str], bool]:
    """Keys from a constructor's (or factory's) signature; ``**kwargs`` means any key is accepted."""
    try:
        sig = inspect.signature(factory)  # of a class: its constructor's, without ``self``
    except (TypeError, ValueError):  # a builtin or C callable: nothing to inspect, accept anything
        return [], [], True
    keys, required, open_ = [], [], False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            open_ = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in _NOT_KEYS:
            keys.append(p.name)
            if p.default is p.empty:
                required.append(p.name)
    return keys, required, open_


def _static_signature(target: str) -> tuple[list[str], list[str], bool] | None:
    """``_signature`` of a ``"module:attr"`` read from its source, without importing it (``None``: cannot tell,
    e.g. a class that inherits its constructor or a decorated function; then it is imported)."""
    module_name, _, attr = target.partition(":")
    try:
        spec = importlib.util.find_spec(module_name)
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))  # type: ignore[union-attr,arg-type]
    except Exception:  # not found, not a .py file, unreadable: importing it will say what is wrong
        return None
    node: Any = tree
    for part in attr.split("."):
        node = next((n for n in getattr(node, "body", []) if getattr(n, "name", None) == part
                     and isinstance(n, (ast.ClassDef, ast.FunctionDef))), None)
        if node is None:
            return None
    is_class = isinstance(node, ast.ClassDef)
    if is_class:
        node = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if node is None or node.decorator_list:
        return None
    args = node.args
    positional = args.posonlyargs + args.args
    n_defaults = len(args.defaults)
    keys, required = [], []
    for i, a in enumerate(positional):
        if (is_class and i == 0) or i < len(args.posonlyargs) or a.arg in _NOT_KEYS:
            continue
        keys.append(a.arg)
        if i < len(positional) - n_defaults:
            required.append(a.arg)
    for a, default in zip(args.kwonlyargs, args.kw_defaults):
        if a.arg not in _NOT_KEYS:
            keys.append(a.arg)
            if default is None:
                required.append(a.arg)
    return keys, required, args.kwarg is not None


def register_predictor(name: str, target: Factory | str | None = None, *, replace: bool = False, origin: str = ""):
    """Make a predictor type known as ``name``; as a decorator (``@register_predictor("x")``) or a call.

    ``target``: a ``Predictor`` subclass, a function returning a ``Predictor``, or ``"module:attr"``
    (imported when first built).
    Registering another target under a taken name is refused unless ``replace``."""
    if not isinstance(name, str) or not name.strip():
        raise PredictorTypeError(f"a predictor type needs a non-empty name, got {name!r}")

    def add(obj: Factory | str) -> Factory | str:
        if not isinstance(obj, str):
            _check_factory(obj, f"predictor type {name!r}")
        old = _REGISTRY.get(name)
        if old is not None and not replace and not _same(old.target, obj):
            raise PredictorTypeError(f"a predictor type called {name!r} is already registered "
                                     f"({_describe(old)}); give yours another name")
        _REGISTRY[name] = _Entry(name, obj, origin)
        return obj

    return add if target is None else add(target)


def _same(a: Factory | str, b: Factory | str) -> bool:
    """One target, or the same code imported again (a re-executed plugin module defines a new class object)."""
    return a is b or _target_name(a) == _target_name(b)


def _target_name(t: Factory | str) -> str:
    return t if isinstance(t, str) else f"{getattr(t, '__module__', '?')}:{getattr(t, '__qualname__', t)}"


def _describe(entry: _Entry) -> str:
    return _target_name(entry.target)


def load_entry_points() -> None:
    """Register (lazily: nothing is imported) the types installed packages declare under ``gamereplay.predictors``."""
    for ep in read_once(ENTRY_POINT_GROUP):
        old = _REGISTRY.get(ep.name)
        if old is not None:
            if not _same(old.target, ep.value):
                warnings.warn(f"entry point {ep.name} = {ep.value} ignored: a predictor type called {ep.name!r} "
                              f"is already registered ({_describe(old)})", stacklevel=2)
            continue
        dist = getattr(getattr(ep, "dist", None), "name", None)
        _REGISTRY[ep.name] = _Entry(ep.name, ep.value, origin=f"entry point of {dist}" if dist else "entry point")


def _entry(type_name: str) -> _Entry:
    """The registered type ``type_name`` (a ``"module:attr"`` is imported; entry points are read on a miss)."""
    if not isinstance(type_name, str):
        raise PredictorTypeError(f"a predictor type is a name or 'package.module:Class', got {type_name!r}")
    if type_name not in _REGISTRY and ":" in type_name:
        if type_name not in _BY_PATH:
            _BY_PATH[type_name] = _Entry(type_name, _import_target(type_name, "predictor type"), origin="import path")
        return _BY_PATH[type_name]
    if type_name not in _REGISTRY:
        load_entry_points()
    if type_name not in _REGISTRY:
        raise PredictorTypeError(f"unknown predictor type {type_name!r} (known: {', '.join(sorted(_REGISTRY))}; "
                                 "or 'package.module:Class')")
    return _REGISTRY[type_name]


def is_known(type_name: Any) -> bool:
    """Whether ``type_name`` names a registered type (entry points included; import paths are not tried)."""
    if isinstance(type_name, str) and type_name not in _REGISTRY:
        load_entry_points()
    return isinstance(type_name, str) and type_name in _REGISTRY


def allowed_keys(type_name: str) -> list[str] | None:
    """The config keys a type accepts (its constructor's keyword arguments); ``None``: any key (``**kwargs``)."""
    keys, _, open_ = _entry(type_name).signature()
    return None if open_ else list(keys)


def required_keys(type_name: str) -> list[str]:
    """The config keys a type cannot do without (constructor arguments without a default)."""
    return list(_entry(type_name).signature()[1])


def build(type_name: str, **settings: Any) -> Predictor:
    """A predictor of type ``type_name`` with ``settings`` (no model weights are loaded yet)."""
    entry = _entry(type_name)
    pred = entry.factory()(**settings)
    if not isinstance(pred, Predictor):
        raise PredictorTypeError(f"predictor type {type_name!r} ({_describe(entry)}) returned a "
                                 f"{type(pred).__name__}, not a predictors.base.Predictor")
    return pred


make_predictor = build  # the name the package exports: ``predictors.make_predictor("nash", selection="pure")``


def predictor_types() -> dict[str, tuple[Factory | str, list[str] | None]]:
    """Every known type (installed plugins' included) -> (factory, allowed keys or ``None`` for any key).

    A lazily registered type whose module is not imported yet is given as its ``"module:attr"`` string."""
    load_entry_points()
    out: dict[str, tuple[Factory | str, list[str] | None]] = {}
    for name, entry in sorted(_REGISTRY.items()):
        try:
            keys, _, open_ = entry.signature()
        except PredictorTypeError:  # a broken plugin is listed, not fatal: building it says why
            out[name] = (entry.target, [])
            continue
        out[name] = (entry.target, None if open_ else list(keys))
    return out


class _TypesView(Mapping):
    """``PREDICTOR_TYPES``, kept for older callers: name -> (factory, function giving the allowed keys)."""

    def __getitem__(self, name: str):
        entry = _entry(name) if name in self else None
        if entry is None:
            raise KeyError(name)
        return entry.factory(), lambda: allowed_keys(name) or []

    def __contains__(self, name: object) -> bool:
        return is_known(name)

    def __iter__(self) -> Iterator[str]:
        load_entry_points()
        return iter(sorted(_REGISTRY))

    def __len__(self) -> int:
        load_entry_points()
        return len(_REGISTRY)


PREDICTOR_TYPES: Mapping[str, tuple[Factory, Callable[[], list[str]]]] = _TypesView()


def _register_builtin() -> None:
    from predictors.baselines import PopulationRate, Reciprocity, Uniform
    from predictors.feature_logit import FeatureLogit
    from predictors.hierarchy import CognitiveHierarchy, LevelK
    from predictors.learning import (EWAPredictor, FictitiousPlayPredictor, ReinforcementPredictor,
                                     SelfTuningEWAPredictor)
    from predictors.nash import NashPredictor
    from predictors.normative import NormativePredictor
    from predictors.qre import QREPredictor

    for name, cls in (("uniform", Uniform), ("population-rate", PopulationRate), ("reciprocity", Reciprocity),
                      ("nash", NashPredictor), ("normative", NormativePredictor), ("feature-logit", FeatureLogit),
                      ("qre", QREPredictor), ("cognitive-hierarchy", CognitiveHierarchy), ("level-k", LevelK),
                      ("ewa", EWAPredictor), ("reinforcement", ReinforcementPredictor),
                      ("fictitious-play", FictitiousPlayPredictor), ("self-tuning-ewa", SelfTuningEWAPredictor)):
        register_predictor(name, cls, origin="built-in")
    # lazy: importing the LLM predictor imports torch (its keys are read from the source, see _static_signature)
    register_predictor("llm", "predictors.llm.predictor:LLMPredictor", origin="built-in")
    register_predictor("probe", "predictors.probe:Probe", origin="built-in")


_register_builtin()
