"""Prompt wording variants, as data: YAML files a user can copy and edit without touching code.

A variant has a ``template`` over the named parts a game family renders (for the
repeated games: ``{rules}``, ``{history}``, ``{question}``, ``{round}``, ``{options}``),
an optional ``system`` text (a system turn in chat format, a first paragraph in plain
format) and the answer ``stub`` the option is read after.  A variant's ``system`` is
always a text: it counts as the predictor setting ``system: <that text>``, and a
predictor may not set ``system:`` as well (``predictors.llm.formats`` has the rule and
the default, no system turn).  Built-in variants live in
``predictors/llm/prompt_variants/``; a config names one (``prompt: observer``), points
at a file (``prompt: my/variant.yaml``) or writes one inline (``prompt: {template: ...}``).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

BUILTIN_DIR = Path(__file__).with_name("prompt_variants")
DEFAULT_STUB = '{"decision": "'


class VariantError(ValueError):
    pass


@dataclass(frozen=True)
class PromptVariant:
    name: str
    template: str = "{rules}\n\n{history}\n\n{question}"
    system: str = ""
    stub: str = DEFAULT_STUB
    source: str = "<built-in>"

    def fields(self) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(self.template) if f}

    def body(self, parts: Mapping[str, str]) -> str:
        missing = self.fields() - set(parts)
        if missing:
            raise VariantError(f"{self.source}: template uses {sorted(missing)}, which this game family does not "
                               f"provide (it provides {sorted(parts)})")
        text = self.template.format_map(dict(parts))
        while "\n\n\n" in text:  # an empty part (e.g. no history in round 1) leaves no hole
            text = text.replace("\n\n\n", "\n\n")
        return text.strip()


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def _from_mapping(d: Any, name: str, source: str) -> PromptVariant:
    if not isinstance(d, dict):
        raise VariantError(f"{source}: a prompt variant must be a mapping with a 'template'")
    allowed = {"name", "template", "system", "stub", "description"}
    extra = set(d) - allowed
    if extra:
        raise VariantError(f"{source}: unknown key {sorted(extra)[0]!r} (allowed: {', '.join(sorted(allowed))})")
    for k in ("template", "system", "stub"):
        if k in d and not isinstance(d[k], str):
            raise VariantError(f"{source}: '{k}' must be text")
    if d.get("system", "").strip().lower() in ("none", "template"):  # the predictor's policy words, not a text
        raise VariantError(f"{source}: system: {d['system']!r} would be sent as text; a variant's system is the "
                           "text itself (leave it out for none; the predictor's system: setting takes none "
                           "or template)")
    v = PromptVariant(name=str(d.get("name", name)), template=d.get("template", PromptVariant.template),
                      system=d.get("system", ""), stub=d.get("stub", DEFAULT_STUB), source=source)
    try:
        v.fields()
    except ValueError as exc:
        raise VariantError(f"{source}: bad template ({exc})") from None
    return v


def load_variant(spec: str | Mapping[str, Any] | None) -> PromptVariant:
    """A variant by built-in name, YAML path or inline mapping (None: the default)."""
    if spec is None:
        spec = "default"
    if isinstance(spec, Mapping):
        return _from_mapping(dict(spec), "inline", "inline prompt variant")
    path = Path(spec).expanduser()
    if path.suffix not in (".yaml", ".yml"):
        path = BUILTIN_DIR / f"{spec}.yaml"
        if not path.exists():
            raise VariantError(f"unknown prompt variant {spec!r}; built-in: {', '.join(builtin_names())} "
                               "(or give a path to a .yaml file)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VariantError(f"prompt variant file {path} not found") from None
    except yaml.YAMLError as exc:
        raise VariantError(f"{path}: not valid YAML ({exc})") from None
    return _from_mapping(data, path.stem, str(path))
