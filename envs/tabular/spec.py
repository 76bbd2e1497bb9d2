"""Read and check a YAML family file into plain, frozen values (``Spec``).

Everything that can be checked without the data is checked here, each failure one
``FamilySpecError`` line naming the file and the key: unknown keys (with the allowed
ones), missing required keys, wrong types, action labels used twice, ``affirmative``
on no action or on several, payoffs that miss an action pair, names a template or an
expression uses that its scope will not hold, a policy that cannot be imported.
The keys themselves are documented in ``envs.tabular``.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from envs.tabular.errors import FamilySpecError
from envs.tabular.templates import Constant, Expression, Template, number_or_expression

NAME = re.compile(r"^[A-Za-z0-9_-]+$")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FORMATS = ("csv", "tsv", "jsonl")
LOOKUP_KEYS = ("own_history",)

#: names of one row (payoff expressions, the lookup file name, the baseline cell), context columns aside
ROW_NAMES = ("game", "title", "round", "n_rounds", "participant")
#: names of a decision (prompt parts, features), context columns aside; ``payoffs`` only with a game
DECISION_NAMES = ROW_NAMES + ("actions", "opponent_actions", "affirmative", "history", "own_moves",
                              "opponent_moves", "payoffs")
#: what each entry of ``history`` holds (and what ``history_line`` sees at top level), context aside
ROUND_FIELDS = ("round", "action", "opponent_action", "payoff", "opponent_payoff", "logged_payoff")
#: prompt parts the family writes itself
MADE_PARTS = ("history", "round")


@dataclass(frozen=True)
class Option:
    """An action as the data, the model and templates know it (``str(option)`` is its name)."""

    name: str
    text: str
    labels: tuple[str, ...]
    affirmative: bool = False

    @property
    def label(self) -> str:
        """The first of the values the data write for this action."""
        return self.labels[0]

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Columns:
    """Which data column holds what (``data.columns``)."""

    participant: str
    action: str
    instance: tuple[str, ...]
    game: str | None = None
    round: str | None = None
    opponent_action: str | None = None
    payoff: str | None = None
    context: tuple[str, ...] = ()

    def all(self) -> tuple[str, ...]:
        """Every column the data must have, once each."""
        named = (self.participant, *self.instance, self.game, self.round, self.action, self.opponent_action,
                 self.payoff, *self.context)
        return tuple(dict.fromkeys(c for c in named if c))


@dataclass(frozen=True)
class DataSpec:
    path: str
    dataset: str | None
    format: str | None
    delimiter: str | None
    rounds: int | None
    columns: Columns


@dataclass(frozen=True)
class GameSpec:
    """One payoff matrix: (human action, opponent action) -> (human payoff, opponent payoff), as expressions."""

    title: str | None
    cells: Mapping[tuple[str, str], tuple[Constant | Expression, Constant | Expression]]

    @property
    def names(self) -> frozenset[str]:
        return frozenset().union(*(e.names for pq in self.cells.values() for e in pq))


@dataclass(frozen=True)
class Games:
    """The stage game(s): one matrix, or one per value of the column ``by``."""

    by: str | None
    games: Mapping[str, GameSpec]


@dataclass(frozen=True)
class OpponentSpec:
    lookup_file: Template | None = None
    lookup_key: str = "own_history"
    policy: Callable[[dict], str] | None = None
    policy_name: str = ""


@dataclass(frozen=True)
class PromptSpec:
    rules: Template
    question: Template
    history_line: Template | None = None
    options: Template | None = None
    extra: Mapping[str, Template] = field(default_factory=dict)


@dataclass(frozen=True)
class Spec:
    """A checked YAML family file."""

    file: str  # as the user named it, for messages
    path: Path  # resolved
    name: str
    description: str
    data: DataSpec
    actions: tuple[Option, ...]
    opponent_actions: tuple[Option, ...]
    games: Games | None
    opponent: OpponentSpec | None
    prompt: PromptSpec | None
    features: Mapping[str, Constant | Expression] | None
    cell: tuple[str, ...]

    @property
    def affirmative(self) -> Option:
        return next(a for a in self.actions if a.affirmative)

    @property
    def context(self) -> tuple[str, ...]:
        return self.data.columns.context


# -- YAML with duplicate keys refused ---------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, file: str) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FamilySpecError(file, "", "file not found") from None
    except UnicodeDecodeError as exc:
        raise FamilySpecError(file, "", f"not UTF-8 text (byte {exc.start})") from None
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise FamilySpecError(file, "", f"not valid YAML: {problem}{where}") from None
    if not isinstance(doc, dict):
        raise FamilySpecError(file, "", f"expected a mapping of keys (name, data, actions ...), "
                                        f"got {type(doc).__name__}")
    return doc


# -- small checkers -------------------------------------------------------------------------------
class _Checker:
    """Type and key checks that all name the file and the key."""

    def __init__(self, file: str):
        self.file = file

    def fail(self, key: str, message: str) -> FamilySpecError:
        return FamilySpecError(self.file, key, message)

    def mapping(self, value: Any, key: str, allowed: tuple[str, ...] | None = None,
                required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__} {value!r}")
        if allowed is not None:
            unknown = [k for k in value if k not in allowed]
            if unknown:
                raise self.fail(_join(key, unknown[0]), f"unknown key; allowed: {', '.join(allowed)}")
        for r in required:
            if value.get(r) is None:
                raise self.fail(_join(key, r), "required key is missing")
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty text, got {value!r}")
        return value

    def names(self, value: Any, key: str) -> tuple[str, ...]:
        """A name or a list of names (column names)."""
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(v, str) and v for v in items):
            raise self.fail(key, f"expected a column name or a list of them, got {value!r}")
        if len(set(items)) != len(items):
            raise self.fail(key, f"a name is listed twice in {items}")
        return tuple(items)


def _join(key: str, sub: Any) -> str:
    return f"{key}.{sub}" if key else str(sub)


# -- the sections ---------------------------------------------------------------------------------
TOP_KEYS = ("name", "description", "data", "actions", "opponent_actions", "game", "opponent", "prompt",
            "features", "baselines")
DATA_KEYS = ("path", "dataset", "format", "delimiter", "rounds", "columns")
COLUMN_KEYS = ("participant", "instance", "game", "round", "action", "opponent_action", "payoff", "context")


def _columns(c: _Checker, raw: Any) -> Columns:
    raw = c.mapping(raw, "data.columns", COLUMN_KEYS, required=("participant", "action"))
    one = {k: c.names(raw[k], f"data.columns.{k}") for k in raw if raw[k] is not None}
    for k in ("participant", "game", "round", "action", "opponent_action", "payoff"):
        if k in one and len(one[k]) != 1:
            raise c.fail(f"data.columns.{k}", f"expected one column name, got {list(one[k])}")
    single = {k: v[0] for k, v in one.items() if k not in ("instance", "context")}
    participant = single["participant"]
    instance = one.get("instance") or (participant, *([single["game"]] if "game" in single else []))
    if participant not in instance:
        raise c.fail("data.columns.instance", f"must include the participant column {participant!r} "
                                              "(an instance is one person's play)")
    context = one.get("context", ())
    reserved = set(DECISION_NAMES) | set(ROUND_FIELDS)
    for col in context:
        if not IDENTIFIER.match(col):
            raise c.fail("data.columns.context", f"{col!r} is not a name templates can use "
                                                 "(letters, digits and _, not starting with a digit)")
        if col in reserved:
            raise c.fail("data.columns.context", f"{col!r} is a built-in name of the template scope; "
                                                 f"rename the column (reserved: {', '.join(sorted(reserved))})")
    own = [single.get(k) for k in ("action", "opponent_action", "payoff", "round")]
    clash = [col for col in context if col in own]
    if clash:
        raise c.fail("data.columns.context", f"{clash[0]!r} is already the column of another role")
    return Columns(participant=participant, action=single["action"], instance=instance, game=single.get("game"),
                   round=single.get("round"), opponent_action=single.get("opponent_action"),
                   payoff=single.get("payoff"), context=context)


def _data(c: _Checker, raw: Any) -> DataSpec:
    raw = c.mapping(raw, "data", DATA_KEYS, required=("path", "columns"))
    path = c.text(raw["path"], "data.path")
    dataset = raw.get("dataset")
    if dataset is not None:
        c.text(dataset, "data.dataset")
    fmt = raw.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise c.fail("data.format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    delim = raw.get("delimiter")
    if delim is not None and (not isinstance(delim, str) or len(delim) != 1):
        raise c.fail("data.delimiter", f"expected one character, got {delim!r}")
    if delim is not None and fmt == "jsonl":
        raise c.fail("data.delimiter", "JSON lines have no delimiter")
    rounds = raw.get("rounds")
    if rounds is not None and (isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1):
        raise c.fail("data.rounds", f"expected a whole number of rounds >= 1, got {rounds!r}")
    return DataSpec(path, dataset, fmt, delim, rounds, _columns(c, raw["columns"]))


def _label(v: Any) -> str:
    return str(v).strip()


def _actions(c: _Checker, raw: Any, key: str, human: bool) -> tuple[Option, ...]:
    if not isinstance(raw, dict) or not raw:
        raise c.fail(key, "expected a mapping of action names to {label, text"
                          + (", affirmative}" if human else "}") + f", got {raw!r}")
    allowed = ("label", "text", "affirmative") if human else ("label", "text")
    out, by_label = [], {}
    for name, spec in raw.items():
        k = _join(key, name)
        if not isinstance(name, (str, int)) or isinstance(name, bool) or not str(name).strip():
            raise c.fail(k, "an action name must be a non-empty text")
        name = str(name)
        spec = c.mapping({} if spec is None else spec, k, allowed)
        labels = spec.get("label", name)
        labels = labels if isinstance(labels, list) else [labels]
        if not labels or any(v is None or isinstance(v, (dict, list)) or _label(v) == "" for v in labels):
            raise c.fail(f"{k}.label", f"expected a value or a list of values, got {spec.get('label')!r}")
        labels = tuple(_label(v) for v in labels)
        for lab in labels:
            if lab in by_label:
                raise c.fail(f"{k}.label", f"label {lab!r} is also a label of {by_label[lab]!r}")
            by_label[lab] = name
        text = spec.get("text", name)
        if not isinstance(text, (str, int, float)) or isinstance(text, bool) or str(text) == "":
            raise c.fail(f"{k}.text", f"expected a text, got {text!r}")
        aff = spec.get("affirmative", False)
        if not isinstance(aff, bool):
            raise c.fail(f"{k}.affirmative", f"expected true or false, got {aff!r}")
        out.append(Option(name, str(text), labels, aff))
    if human:
        if len(out) < 2:
            raise c.fail(key, "a decision needs at least two actions")
        marked = [a.name for a in out if a.affirmative]
        if len(marked) != 1:
            raise c.fail(key, f"exactly one action must be marked 'affirmative: true' (the one binary metrics "
                              f"count as 1); marked: {marked or 'none'}")
    texts = [a.text for a in out]
    if len(set(texts)) != len(texts):
        raise c.fail(key, f"two actions have the same text {texts}: a model could not tell them apart")
    return tuple(out)


def _matrix(c: _Checker, raw: Any, key: str, actions, others, allowed: tuple[str, ...]) -> GameSpec:
    raw = c.mapping(raw, key, ("payoffs", "title"), required=("payoffs",))
    title = raw.get("title")
    if title is not None and not isinstance(title, str):
        raise c.fail(f"{key}.title", f"expected a text, got {title!r}")
    pk = f"{key}.payoffs"
    rows = c.mapping(raw["payoffs"], pk, tuple(a.name for a in actions))
    cells = {}
    for a in actions:
        if a.name not in rows:
            raise c.fail(_join(pk, a.name), "missing: payoffs must cover every action of the human")
        row = c.mapping(rows[a.name], _join(pk, a.name), tuple(b.name for b in others))
        for b in others:
            ck = f"{pk}.{a.name}.{b.name}"
            if b.name not in row:
                raise c.fail(ck, "missing: payoffs must cover every pair of actions")
            pq = row[b.name]
            if not isinstance(pq, list) or len(pq) != 2:
                raise c.fail(ck, f"expected [human payoff, opponent payoff], got {pq!r}")
            cells[(a.name, b.name)] = (number_or_expression(pq[0], c.file, f"{ck}[0]", allowed),
                                       number_or_expression(pq[1], c.file, f"{ck}[1]", allowed))
    return GameSpec(title, cells)


def _games(c: _Checker, raw: Any, actions, others, columns: Columns) -> Games:
    raw = c.mapping(raw, "game", ("payoffs", "title", "by", "games"))
    allowed = ROW_NAMES + columns.context
    if "by" not in raw and "games" not in raw:
        return Games(None, {"": _matrix(c, raw, "game", actions, others, allowed)})
    c.mapping(raw, "game", ("by", "games"), required=("by", "games"))
    by = raw["by"]
    choices = tuple(x for x in (columns.game, *columns.context) if x)
    if by == "game" and columns.game:
        by = columns.game
    if by not in choices:
        raise c.fail("game.by", f"{by!r} is neither the game column nor a context column "
                                f"(choose from {', '.join(choices) or 'none: declare data.columns.game'})")
    games = c.mapping(raw["games"], "game.games")
    if not games:
        raise c.fail("game.games", "no game listed")
    return Games(by, {str(name): _matrix(c, spec, f"game.games.{name}", actions, others, allowed)
                      for name, spec in games.items()})


def _opponent(c: _Checker, raw: Any, columns: Columns) -> OpponentSpec:
    raw = c.mapping(raw, "opponent", ("lookup", "policy"))
    if ("lookup" in raw) == ("policy" in raw):
        raise c.fail("opponent", "give either 'lookup' or 'policy'")
    if "lookup" in raw:
        lk = c.mapping(raw["lookup"], "opponent.lookup", ("file", "key"), required=("file",))
        key = lk.get("key", "own_history")
        if key not in LOOKUP_KEYS:
            raise c.fail("opponent.lookup.key", f"{key!r} is not a known key kind ({', '.join(LOOKUP_KEYS)})")
        file = Template(c.text(lk["file"], "opponent.lookup.file"), c.file, "opponent.lookup.file",
                        ROW_NAMES + columns.context)
        return OpponentSpec(lookup_file=file, lookup_key=key)
    name = c.text(raw["policy"], "opponent.policy")
    module, _, attr = name.partition(":")
    if not module or not attr:
        raise c.fail("opponent.policy", f"expected 'package.module:function', got {name!r}")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise c.fail("opponent.policy", f"cannot import {name!r}: {exc}") from None
    if not callable(fn):
        raise c.fail("opponent.policy", f"{name!r} is not a function")
    return OpponentSpec(policy=fn, policy_name=name)


def _prompt(c: _Checker, raw: Any, scope: tuple[str, ...], line_scope: tuple[str, ...]) -> PromptSpec:
    raw = c.mapping(raw, "prompt", required=("rules", "question"))
    for k in raw:
        if not isinstance(k, str) or not IDENTIFIER.match(k):
            raise c.fail(_join("prompt", k), "a prompt part's name must be letters, digits and _")
        if k in MADE_PARTS:
            raise c.fail(_join("prompt", k), f"the family writes the part {k!r} itself "
                                             "(history: from history_line; round: the round number)")
    t = {k: Template(v, c.file, f"prompt.{k}", line_scope if k == "history_line" else scope)
         for k, v in raw.items()}
    known = ("rules", "question", "history_line", "options")
    return PromptSpec(rules=t["rules"], question=t["question"], history_line=t.get("history_line"),
                      options=t.get("options"), extra={k: v for k, v in t.items() if k not in known})


def _features(c: _Checker, raw: Any, scope: tuple[str, ...]) -> dict:
    if isinstance(raw, list):
        if not raw or not all(isinstance(n, str) for n in raw) or len(set(raw)) != len(raw):
            raise c.fail("features", f"expected a list of distinct names, got {raw!r}")
        return {n: Expression(n, c.file, f"features.{n}", scope) for n in raw}
    raw = c.mapping(raw, "features")
    if not raw:
        raise c.fail("features", "no feature listed")
    return {str(n): number_or_expression(e, c.file, f"features.{n}", scope) for n, e in raw.items()}


def _cell(c: _Checker, raw: Any, columns: Columns) -> tuple[str, ...]:
    raw = c.mapping(raw, "baselines", ("cell",))
    if raw.get("cell") is None:
        return ("game", "round")
    names = c.names(raw["cell"], "baselines.cell")
    allowed = ROW_NAMES + columns.context
    bad = [n for n in names if n not in allowed]
    if bad:
        raise c.fail("baselines.cell", f"{bad[0]!r} is not a decision variable; choose from {', '.join(allowed)}")
    return names


def parse(doc: Mapping[str, Any], path: Path, file: str) -> Spec:
    """Check a YAML document (already read) and turn it into a ``Spec``."""
    c = _Checker(file)
    c.mapping(dict(doc), "", TOP_KEYS, required=("name", "data", "actions"))
    name = doc["name"]
    if not isinstance(name, str) or not NAME.match(name):
        raise c.fail("name", f"{name!r}: use letters, digits, _ and - only")
    description = doc.get("description") or f"game family from {path.name}"
    if not isinstance(description, str):
        raise c.fail("description", f"expected a text, got {description!r}")
    data = _data(c, doc["data"])
    actions = _actions(c, doc["actions"], "actions", human=True)
    if doc.get("opponent_actions") is None:  # the same actions, seen from the other seat
        others = tuple(Option(a.name, a.text, a.labels) for a in actions)
    else:
        others = _actions(c, doc["opponent_actions"], "opponent_actions", human=False)
    games = _games(c, doc["game"], actions, others, data.columns) if doc.get("game") is not None else None
    context = data.columns.context
    scope = tuple(n for n in DECISION_NAMES if n != "payoffs" or games is not None) + context
    line_scope = scope + ROUND_FIELDS
    opponent = _opponent(c, doc["opponent"], data.columns) if doc.get("opponent") is not None else None
    prompt = _prompt(c, doc["prompt"], scope, line_scope) if doc.get("prompt") is not None else None
    features = _features(c, doc["features"], scope) if doc.get("features") is not None else None
    cell = _cell(c, doc.get("baselines") or {}, data.columns)
    return Spec(file=file, path=path, name=name, description=description.strip(), data=data, actions=actions,
                opponent_actions=others, games=games, opponent=opponent, prompt=prompt, features=features,
                cell=cell)


def load_spec(path: str | Path) -> Spec:
    """Read and check the YAML family file at ``path``."""
    file = str(path)
    resolved = Path(path).expanduser().resolve()
    return parse(read_yaml(resolved, file), resolved, file)
