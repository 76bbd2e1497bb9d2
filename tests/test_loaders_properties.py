"""Property-based tests: every loader, fed a valid data set with random damage, fails cleanly or loses nothing.

Each test starts from a small *valid* copy (a few participants, games or problems of the real data, or
a games2p2k file built like ``test_games2p2k`` builds one) and applies random mutations: truncation at
any byte, a deleted or renamed column, a field replaced by a random string / a number of the wrong kind /
an empty value / an absurd amount (huge, negative, NaN, inf), non-UTF-8 bytes at any position, duplicated
or dropped rows, a game emptied to its header, and broken JSON side files (invalid JSON, missing keys,
wrong types).  The property, for every loader:

(a) loading raises ``DataFormatError`` whose message names one of the data set's files (and, when a
    required column is gone, that column) — and only when the damage is structural (not UTF-8, no
    header, a required column missing, an unusable side file, or — for the readers built on
    ``envs.quality.read_csv_rows`` — a file that ends inside its last row, named by its row number); or
(b) it returns ``(trajectories, report)`` where every input record is accounted for — kept, or listed
    in ``report.issues`` with path, row and field — every kept value is finite or its trajectory is
    flagged, and every trajectory replays through its family's environment into valid decision points.

Any other exception fails the test.  Fixed bugs keep their failing example as a plain regression test
at the end of each section.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from envs.quality import DataFormatError, DataQualityWarning, LoadReport
from envs.records import HUMAN, Trajectory
from envs.registry import get_family
from envs.replay import replay_all

#: examples per loader test scale with this (40 = the default, about 10 s in all); raise it to hunt for bugs
EXAMPLES = int(os.environ.get("GAMEREPLAY_PROPERTY_EXAMPLES", "40"))
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                       HealthCheck.data_too_large])

# -- mutations ---------------------------------------------------------------------------------------
IDX = st.integers(0, 10_000)  # an index into whatever is there, taken modulo its length
ABSURD = st.sampled_from(["1e308", "-1e308", "1e400", "-1e400", "-1", "-0", "-999999999999", "nan", "NaN", "-nan",
                          "inf", "-inf", "Infinity", "1e-320", "1_000", " 8 ", "0x10", "8.0000001", "10.0"])
WORDS = st.sampled_from(["True", "False", "None", "null", "[]", "{}", "J", "F", "PD", "BoS", "Base", "Prompted",
                         "row", "col", "Alice", "Bob", "Nature", "accept", "reject", "yes", "no", "AcceptOffer",
                         "SellToJhon", "high-quality", "low-quality", "[1 2 3 4 5 6 7 8]", "('a', 'b')"])
VALUES = st.one_of(st.just(""), st.text(max_size=10), st.integers(-10**12, 10**12).map(str),
                   st.floats().map(repr), ABSURD, WORDS)
TABLE_OP = st.one_of(
    st.tuples(st.just("drop_column"), IDX),
    st.tuples(st.just("rename_column"), IDX, st.one_of(st.text(max_size=8), WORDS,
                                                       st.sampled_from(["id", "score", "round", "player"]))),
    st.tuples(st.just("set_field"), IDX, IDX, VALUES),
    st.tuples(st.just("set_field"), IDX, IDX, VALUES),  # twice: the commonest damage
    st.tuples(st.just("duplicate_rows"), IDX, IDX, st.integers(1, 3)),
    st.tuples(st.just("drop_rows"), IDX, st.integers(1, 12)),
    st.tuples(st.just("header_only")),
)
BAD_BYTES = st.sampled_from([b"\xff", b"\xfe\xff", b"\x80", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf"])
BYTE_OP = st.one_of(st.tuples(st.just("truncate"), IDX), st.tuples(st.just("inject"), IDX, BAD_BYTES))
JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(), st.text(max_size=6),
                        st.sampled_from([[], {}, [[0.5, 1.0]], [[1.0, 1e308]], "J", "F", "otree", "otree_LLM",
                                         "true", "text", "binary", 1e308, -1.0, 0, 0.5]))
JSON_OP = st.one_of(
    st.tuples(st.just("delete"), IDX),
    st.tuples(st.just("set"), IDX, JSON_VALUES),
    st.tuples(st.just("set"), IDX, JSON_VALUES),
    st.tuples(st.just("root"), st.sampled_from([[], "x", 1, None, {}, [{"game_args": {}}]])),
    st.tuples(st.just("truncate"), IDX),
    st.tuples(st.just("inject"), IDX, BAD_BYTES),
)
TABLE_OPS = st.lists(TABLE_OP, max_size=3)
BYTE_OPS = st.lists(BYTE_OP, max_size=1)


class Seed(dict):
    """Relative path -> bytes of a valid data set; short in hypothesis's report of a failing example."""

    def __repr__(self) -> str:
        return f"<{len(self)} seed file(s)>"


def to_csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def apply_table(data: bytes, ops: list[tuple]) -> bytes:
    """The csv with column and row mutations applied (re-written by the csv module, so quoting stays valid)."""
    try:
        table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    except UnicodeDecodeError:
        table = []
    if not ops or not table:  # nothing to do, or an earlier mutation left no table to edit
        return data
    header, rows = table[0], [list(r) for r in table[1:]]
    for op in ops:
        kind = op[0]
        if kind == "drop_column" and header:
            c = op[1] % len(header)
            header = header[:c] + header[c + 1:]
            rows = [r[:c] + r[c + 1:] for r in rows]
        elif kind == "rename_column" and header:
            header[op[1] % len(header)] = op[2]
        elif kind == "set_field" and rows:
            r = rows[op[1] % len(rows)]
            if r:
                r[op[2] % len(r)] = op[3]
        elif kind == "duplicate_rows" and rows:
            src, at = op[1] % len(rows), op[2] % (len(rows) + 1)
            rows[at:at] = [list(rows[src]) for _ in range(op[3])]
        elif kind == "drop_rows" and rows:
            start = op[1] % len(rows)
            del rows[start:start + op[2]]
        elif kind == "header_only":
            rows = []
    return to_csv(header, rows)


def apply_bytes(data: bytes, ops: list[tuple]) -> bytes:
    for op in ops:
        at = op[1] % (len(data) + 1)
        data = data[:at] if op[0] == "truncate" else data[:at] + op[2] + data[at:]
    return data


def _json_paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    out = []
    for k, v in items:
        out.append(prefix + (k,))
        out += _json_paths(v, prefix + (k,))
    return out


def apply_json(data: bytes, ops: list[tuple]) -> bytes:
    """JSON with keys deleted, values of the wrong type, another root, or its bytes broken."""
    # copies, one per op: hypothesis hands out the same list or dict again, and an edited one that is set
    # inside itself is a cycle json cannot write
    tree_ops = [copy.deepcopy(op) for op in ops if op[0] in ("delete", "set", "root")]
    try:
        obj = json.loads(data.decode("utf-8"))
    except ValueError:  # an earlier mutation broke it already
        tree_ops = []
    if tree_ops:
        for op in tree_ops:
            if op[0] == "root":
                obj = op[1]
                continue
            paths = _json_paths(obj)
            if not paths:
                continue
            path = paths[op[1] % len(paths)]
            parent = obj
            for k in path[:-1]:
                parent = parent[k]
            if op[0] == "delete":
                del parent[path[-1]]
            else:
                parent[path[-1]] = op[2]
        data = json.dumps(obj, indent=1).encode("utf-8")  # NaN / Infinity as Python's json writes them
    return apply_bytes(data, [op for op in ops if op[0] in ("truncate", "inject")])


# -- checking ----------------------------------------------------------------------------------------
def load_quietly(load: Callable[[], tuple[list[Trajectory], LoadReport]]):
    """(result, None) or (None, DataFormatError); any other exception propagates and fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        try:
            return load(), None
        except DataFormatError as exc:
            return None, exc


def check_error(exc: DataFormatError, files: list[Path], missing_columns: list[str] = ()) -> None:
    msg = str(exc)
    assert any(str(f) in msg for f in files), f"error does not name a data file: {msg}"
    assert exc.path and exc.path in msg
    if missing_columns:
        assert any(c in msg for c in missing_columns), f"error does not name the missing column(s): {msg}"


def header_of(data: bytes, encoding: str = "utf-8") -> list[str] | None:
    """The csv header as a reader sees it, or None when the bytes are not text in ``encoding`` or empty."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    return next(csv.reader(io.StringIO(text, newline="")), None)


def records(data: bytes, encoding: str = "utf-8", strip_header: bool = False) -> list[tuple[int, int, dict]]:
    """(record number with header = 1, line number where it ends, row) of every data record, read
    independently of the loaders with the csv module's own rules (``newline=''``)."""
    reader = csv.DictReader(io.StringIO(data.decode(encoding), newline=""))
    if strip_header and reader.fieldnames is not None:
        reader.fieldnames = [h.strip() for h in reader.fieldnames]
    return [(i, reader.line_num, row) for i, row in enumerate(reader, start=2)]


def cut_record(data: bytes, encoding: str = "utf-8") -> int | None:
    """The record number (header = 1) of the last row when the file ends inside it, else None — the rule
    ``envs.quality.check_last_row`` promises, written out independently with the csv module's strict mode:
    the file ends inside a quoted value, or there is no line end after the last record and that record has
    fewer fields than the header or an empty last field."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    if len(rows) < 2:
        return None
    header, last = rows[0], rows[-1]
    try:
        list(csv.reader(io.StringIO(text, newline=""), strict=True))
        unclosed = False
    except csv.Error as exc:
        unclosed = "unexpected end of data" in str(exc)
    if unclosed or (not text.endswith(("\n", "\r")) and (len(last) < len(header) or last[len(header) - 1] == "")):
        return len(rows)
    return None


def check_cut(exc: DataFormatError, path: Path, record: int) -> None:
    """The error of a file cut inside its last row names the file and that row and says the file looks cut."""
    msg = str(exc)
    assert exc.path == str(path) and exc.row == record and exc.field, msg
    assert f"row {record}" in msg and "cut short" in msg and "\n" not in msg, msg


def _nonfinite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_nonfinite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_nonfinite(v) for v in value)
    return False


def check_trajectories(family: str, trajectories: list[Trajectory], report: LoadReport) -> None:
    """Kept values are finite unless flagged; everything replays into valid decision points."""
    for t in trajectories:
        bad = _nonfinite(dict(t.params)) or any(_nonfinite(e.payoff) or _nonfinite(dict(e.data)) for e in t.events)
        assert not bad or t.flags, f"{t.trajectory_id} keeps a non-finite number without a flag"
    points = replay_all(trajectories, get_family(family).make_env, progress=False)
    assert len(points) == report.decisions, "the report's decision count is not what replay yields"
    ids = [p.decision_id for p in points]
    assert len(ids) == len(set(ids))
    for issue in report.issues:
        assert issue.path and issue.kind and issue.outcome in ("flagged", "skipped"), issue


def check_issue(issue, paths: set[str], need_field: bool = True) -> None:
    assert issue.path in paths, issue
    assert issue.row is not None, issue
    if need_field:
        assert issue.field, issue


# == repeated matrix games (akata2025: repgames.csv + four lookup tables) ===============================
from envs.repeated_matrix import loader as rm  # noqa: E402


@pytest.fixture(scope="module")
def akata_seed(akata_dir: Path, akata) -> dict[str, bytes]:
    """Three participants (60 rows) of the real log, one with an impossible score, and the real lookups."""
    raw = (akata_dir / rm.CSV_NAME).read_bytes()
    header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    ids = list(dict.fromkeys(r[0] for r in rows))
    odd = next(t.participant_id for t in akata[0] if any(f.startswith("impossible_score") for f in t.flags))
    keep = list(dict.fromkeys(ids[:2] + [odd]))
    files = {rm.CSV_NAME: to_csv(header, [r for r in rows if r[0] in keep])}
    for name in rm.LOOKUP_FILES.values():
        files[name] = (akata_dir / name).read_bytes()
    return Seed(files)


def write_files(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def check_repeated(folder: Path, files: dict[str, bytes], lookups_broken: bool) -> None:
    csv_path = folder / rm.CSV_NAME
    data = files[rm.CSV_NAME]
    header = header_of(data)
    missing = [c for c in rm.REQUIRED_COLUMNS if header is not None and c not in header]
    cut = cut_record(data) if header is not None and not missing else None
    structural = header is None or missing or lookups_broken or cut is not None
    result, exc = load_quietly(lambda: get_family(rm.FAMILY).load(folder))
    if exc is not None:
        assert structural, f"DataFormatError on a structurally sound file: {exc}"
        check_error(exc, [folder / n for n in files], missing)
        if cut is not None and not lookups_broken:
            check_cut(exc, csv_path, cut)
        return
    assert not (header is None or missing), "a broken file loaded without a DataFormatError"
    assert cut is None, f"row {cut}, where the file ends, was read as a decision"
    trajectories, report = result
    recs = records(data)
    blocks: dict[str, list[int]] = {}
    for rowno, _, row in recs:
        key = ((row.get("id") or "").strip(), (row.get("game") or "").strip())
        blocks.setdefault(f"{rm.FAMILY}/{key[0]}/{key[1]}", []).append(rowno)
    kept = {t.trajectory_id: t for t in trajectories}
    skipped: dict[str, list[int]] = {}
    for i in report.skipped:
        skipped.setdefault(i.trajectory_id, []).append(i.row)
    assert set(kept) | set(skipped) == set(blocks), "a participant's game vanished without an issue"
    for tid, rows in blocks.items():
        if tid in kept:  # every row replayed, or skipped with an issue of its own (rounds beyond the game's)
            humans = [e.data["row"] for e in kept[tid].events if e.actor == HUMAN]
            assert sorted(humans + skipped.get(tid, [])) == rows, f"{tid}: rows lost"
        else:  # the whole game skipped, naming the row at fault
            assert set(skipped[tid]) <= set(rows), skipped[tid]
    for issue in report.issues:
        check_issue(issue, {str(csv_path)})
    check_trajectories(rm.FAMILY, trajectories, report)


@settings(max_examples=EXAMPLES * 40 // 40, **SETTINGS)
@given(table=TABLE_OPS, raw=BYTE_OPS, lookup=st.lists(st.tuples(st.integers(0, 3), JSON_OP), max_size=1))
@example(table=[], raw=[], lookup=[(0, ("root", []))])  # a lookup table that is a list, not a map
@example(table=[("set_field", 0, 3, "nan")], raw=[], lookup=[])  # a NaN score
@example(table=[("duplicate_rows", 0, 0, 1)], raw=[], lookup=[])  # 11 rounds: the 11th is not replayed
def test_repeated_matrix_loader(tmp_path, akata_seed, table, raw, lookup):
    files = dict(akata_seed)
    files[rm.CSV_NAME] = apply_bytes(apply_table(files[rm.CSV_NAME], table), raw)
    names = list(rm.LOOKUP_FILES.values())
    for which, op in lookup:
        files[names[which]] = apply_json(files[names[which]], [op])
    folder = write_files(Path(tempfile.mkdtemp(dir=tmp_path)), files)
    check_repeated(folder, files, lookups_broken=bool(lookup))


# == GLEE (bargaining, persuasion, negotiation: one folder per game with game.csv + config.json) ========
from envs.glee import files as glee_files  # noqa: E402

GLEE_FAMILIES = {"glee_bargaining": "bargaining", "glee_persuasion": "persuasion", "glee_negotiation": "negotiation"}


@pytest.fixture(scope="module")
def glee_seed(glee_root: Path) -> dict[str, dict[str, bytes]]:
    """Per family, three short real games, those with human decisions first: relative path -> bytes."""
    out = {}
    for name, folder in GLEE_FAMILIES.items():
        fam = get_family(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            trajectories, _ = fam.load(glee_root)
        scored = {p.trajectory_id for p in replay_all(trajectories, fam.make_env, progress=False)}
        short = [t for t in trajectories if len(t.events) >= 2]
        chosen = sorted(short, key=lambda t: (t.trajectory_id not in scored, len(t.events), t.trajectory_id))[:3]
        base = glee_files.family_root(glee_root, folder).parent.parent
        files = {}
        for t in chosen:
            src = Path(t.source).parent
            for f in ("game.csv", "config.json"):
                files[str((src / f).relative_to(base))] = (src / f).read_bytes()
        out[name] = Seed(files)
    return Seed(out)


ODD_JSON = st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, -1, 0, 0.5, 2.5, True, False, None, "",
                            "abc", "1", [], {}, [1], "false"])
GAME_OP = st.one_of(
    st.tuples(st.just("csv"), IDX, TABLE_OPS, BYTE_OPS),
    st.tuples(st.just("csv"), IDX, TABLE_OPS, BYTE_OPS),
    st.tuples(st.just("game_arg"), IDX, IDX, st.one_of(ODD_JSON, JSON_VALUES)),  # one parameter made odd
    st.tuples(st.just("config"), IDX, st.lists(JSON_OP, min_size=1, max_size=2)),
    st.tuples(st.just("remove"), IDX, st.sampled_from(["game.csv", "config.json"])),
)


def glee_rows(data: bytes) -> list[int]:
    """Record numbers (header = 1) of the non-blank rows of a game.csv, read with the csv module's rules."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    next(reader, None)
    return [i for i, rec in enumerate(reader, start=2) if any(x.strip() for x in rec)]


def check_glee(name: str, root: Path, files: dict[str, bytes]) -> None:
    """``files``: relative path -> bytes of every file written under ``root``."""
    result, exc = load_quietly(lambda: get_family(name).load(root))
    if exc is not None:  # GLEE problems are per game: a whole-family error is never expected
        raise AssertionError(f"GLEE loader raised for one broken game: {exc}")
    trajectories, report = result
    tids = {f"{name}/{Path(rel).parent.name}": Path(rel).parent for rel in files}
    kept = {t.trajectory_id: t for t in trajectories}
    skipped: dict[str, list] = {}
    for i in report.skipped:
        skipped.setdefault(i.trajectory_id, []).append(i)
    assert set(kept) | set(skipped) == set(tids), "a game vanished without an issue"
    assert not set(kept) & set(skipped)
    for tid, rel in tids.items():
        csv_path, cfg_path = str(root / rel / "game.csv"), str(root / rel / "config.json")
        if tid in skipped:
            assert len(skipped[tid]) == 1 and skipped[tid][0].path in (csv_path, cfg_path), skipped[tid]
            continue
        rows = glee_rows(files[str(rel / "game.csv")])
        seen = [e.data["row"] for e in kept[tid].events]
        assert seen == rows[:len(seen)], f"{tid}: events do not follow the log's rows"
        issues = [i for i in report.issues if i.trajectory_id == tid]
        for i in issues:
            check_issue(i, {csv_path}, need_field=i.kind != "unfinished")
        if len(seen) < len(rows):  # the rest was cut: a flagged issue at the first row left out
            cut = rows[len(seen)]
            assert any(i.row == cut and "cut here" in i.message for i in issues), f"{tid}: rows from {cut} lost"
    check_trajectories(name, trajectories, report)


def _glee_case(tmp_path: Path, name: str, seed: dict[str, bytes], ops: list[tuple]) -> None:
    files: dict[str, bytes | None] = dict(seed)
    games = sorted({str(Path(rel).parent) for rel in seed})
    for op in ops:
        game = games[op[1] % len(games)]
        if op[0] == "csv":
            rel = f"{game}/game.csv"
            if files.get(rel) is not None:
                files[rel] = apply_bytes(apply_table(files[rel], op[2]), op[3])
        elif op[0] == "config":
            rel = f"{game}/config.json"
            if files.get(rel) is not None:
                files[rel] = apply_json(files[rel], op[2])
        elif op[0] == "game_arg":
            rel = f"{game}/config.json"
            try:
                config = json.loads(files[rel].decode("utf-8"))
                keys = sorted(config["game_args"]) + ["player_1_type", "player_2_type"]
            except (AttributeError, KeyError, TypeError, ValueError):  # gone or broken already
                continue
            key = keys[op[2] % len(keys)]
            (config if key.endswith("_type") else config["game_args"])[key] = op[3]
            files[rel] = json.dumps(config).encode("utf-8")
        else:
            other = "config.json" if op[2] == "game.csv" else "game.csv"
            if files.get(f"{game}/{other}") is not None:  # keep one file, or the folder is not a game
                files[f"{game}/{op[2]}"] = None
    present = {k: v for k, v in files.items() if v is not None}
    root = write_files(Path(tempfile.mkdtemp(dir=tmp_path)), present)
    check_glee(name, root, present)


@pytest.mark.parametrize("name", list(GLEE_FAMILIES))
@settings(max_examples=EXAMPLES * 30 // 40, **SETTINGS)
@given(ops=st.lists(GAME_OP, min_size=1, max_size=3))
@example(ops=[("csv", 0, [("set_field", 0, 0, "nan"), ("set_field", 0, 1, "inf")], [])])
@example(ops=[("csv", 0, [("set_field", 0, 4, "inf"), ("set_field", 1, 3, "nan")], [])])
@example(ops=[("config", 0, [("root", [{"game_args": {}}])])])
def test_glee_loader(tmp_path, glee_seed, name, ops):
    _glee_case(tmp_path, name, glee_seed[name], ops)


# == choices13k (c13k_selections.csv + c13k_problems.json, keyed by csv row index) =======================
from envs.lotteries import loader as c13k  # noqa: E402


@pytest.fixture(scope="module")
def c13k_seed(data_root: Path) -> dict[str, bytes]:
    """Ten no-feedback and six feedback rows of the real data, the json re-keyed to their new row indices."""
    folder = data_root / c13k.DATASET
    if not (folder / c13k.CSV_NAME).exists():
        pytest.skip("choices13k data not found")
    header, *rows = list(csv.reader(io.StringIO((folder / c13k.CSV_NAME).read_text("utf-8"), newline="")))
    problems = json.loads((folder / c13k.JSON_NAME).read_text("utf-8"))
    fb = header.index("Feedback")
    picked = [i for i, r in enumerate(rows) if r[fb] == "False"][:10] + \
             [i for i, r in enumerate(rows) if r[fb] == "True"][:6]
    return Seed({c13k.CSV_NAME: to_csv(header, [rows[i] for i in picked]),
                 c13k.JSON_NAME: json.dumps({str(k): problems[str(i)] for k, i in enumerate(picked)}).encode()})


def check_c13k(folder: Path, files: dict[str, bytes], feedback: bool, json_broken: bool) -> None:
    csv_path, json_path = folder / c13k.CSV_NAME, folder / c13k.JSON_NAME
    data = files[c13k.CSV_NAME]
    header = header_of(data)
    missing = [c for c in c13k.REQUIRED_COLUMNS if header is not None and c not in header]
    family = c13k.FEEDBACK_FAMILY if feedback else c13k.FAMILY
    cut = cut_record(data) if header is not None and not missing else None
    result, exc = load_quietly(lambda: get_family(family).load(folder))
    if exc is not None:
        assert header is None or missing or json_broken or cut is not None, \
            f"DataFormatError on a structurally sound file: {exc}"
        check_error(exc, [csv_path, json_path], missing)
        if cut is not None and (exc.path == str(csv_path) or not json_broken):
            check_cut(exc, csv_path, cut)
        return
    assert not (header is None or missing), "a broken file loaded without a DataFormatError"
    assert cut is None, f"row {cut}, where the file ends, was read as a decision"
    trajectories, report = result
    rownos = [r for r, _, _ in records(data)]
    kept = [int(t.source.rsplit(":", 1)[1]) for t in trajectories]
    skipped = [i.row for i in report.skipped]
    other = report.stats["rows of the other feedback condition (other family)"]
    assert len(set(kept)) == len(kept) and len(set(skipped)) == len(skipped) and not set(kept) & set(skipped)
    assert set(kept) | set(skipped) <= set(rownos)
    assert len(kept) + len(skipped) + other == len(rownos), "a row vanished without an issue"
    for issue in report.issues:
        check_issue(issue, {str(csv_path), str(json_path)})
    check_trajectories(family, trajectories, report)


@settings(max_examples=EXAMPLES * 40 // 40, **SETTINGS)
@given(table=TABLE_OPS, raw=BYTE_OPS, js=st.lists(JSON_OP, max_size=2), feedback=st.booleans())
@example(table=[("set_field", 0, 14, "1e400")], raw=[], js=[], feedback=False)
def test_choices13k_loader(tmp_path, c13k_seed, table, raw, js, feedback):
    files = dict(c13k_seed)
    files[c13k.CSV_NAME] = apply_bytes(apply_table(files[c13k.CSV_NAME], table), raw)
    files[c13k.JSON_NAME] = apply_json(files[c13k.JSON_NAME], js)
    folder = write_files(Path(tempfile.mkdtemp(dir=tmp_path)), files)
    broken = True
    try:
        broken = not isinstance(json.loads(files[c13k.JSON_NAME].decode("utf-8")), dict)
    except ValueError:
        pass
    check_c13k(folder, files, feedback, json_broken=broken)


# == games2p2k (one CSV, one row per game and role; no real data here: built like test_games2p2k) ========
from envs.one_shot import loader as g2  # noqa: E402

G2_HEADER = ["game_id", "unique_id", "role", "row_form_matrix", "topology", "up_choice", "n", "notes"]


@pytest.fixture(scope="module")
def g2_seed() -> dict[str, bytes]:
    rng = np.random.default_rng(3)
    rows = []
    for k in range(5):
        numbers = [int(x) for x in rng.permutation(np.arange(1, 41))[:8]]
        for j, role in enumerate(("row", "Column")):
            rows.append([f"g{k}", f"u{2 * k + j}", role, str(np.array(numbers)), "('dilemma', 'hero')",
                         str(round(0.1 + 0.17 * k + 0.05 * j, 3)), str(30 + k), "a note, with a comma"])
    return Seed({"games2p2k.csv": to_csv(G2_HEADER, rows)})


def check_g2(folder: Path, files: dict[str, bytes]) -> None:
    csv_path = folder / "games2p2k.csv"
    data = files["games2p2k.csv"]
    header = header_of(data, "utf-8-sig")
    header = None if header is None else [h.strip() for h in header]
    missing = [c for c in g2.REQUIRED_COLUMNS if header is not None and c not in header]
    cut = cut_record(data, "utf-8-sig") if header is not None and not missing else None
    result, exc = load_quietly(lambda: get_family(g2.FAMILY).load(folder))
    if exc is not None:
        assert header is None or missing or cut is not None, f"DataFormatError on a structurally sound file: {exc}"
        check_error(exc, [folder], missing)
        assert csv_path.name in str(exc) or not data.strip(), f"error does not name the csv: {exc}"
        if cut is not None:
            check_cut(exc, csv_path, cut)
        return
    assert not (header is None or missing), "a broken file loaded without a DataFormatError"
    assert cut is None, f"row {cut}, where the file ends, was read as a decision"
    trajectories, report = result
    lines = [line for _, line, _ in records(data, "utf-8-sig", strip_header=True)]
    kept: dict[int, int] = {}
    for t in trajectories:
        line = int(t.source.rsplit(":", 1)[1])
        kept[line] = kept.get(line, 0) + 1
    skipped = [i.row for i in report.skipped]
    assert all(n == 2 for n in kept.values()), "each kept row gives both presentations"
    assert len(set(skipped)) == len(skipped) and not set(kept) & set(skipped)
    assert sorted(set(kept) | set(skipped)) == sorted(lines), "a row vanished without an issue"
    for issue in report.issues:
        check_issue(issue, {str(csv_path)})
    check_trajectories(g2.FAMILY, trajectories, report)


@settings(max_examples=EXAMPLES * 40 // 40, **SETTINGS)
@given(table=TABLE_OPS, raw=BYTE_OPS)
def test_games2p2k_loader(tmp_path, g2_seed, table, raw):
    files = {"games2p2k.csv": apply_bytes(apply_table(g2_seed["games2p2k.csv"], table), raw)}
    folder = write_files(Path(tempfile.mkdtemp(dir=tmp_path)), files)
    check_g2(folder, files)


def test_seeds_are_valid(tmp_path, akata_seed, glee_seed, c13k_seed, g2_seed):
    """The unmutated copies load without a skipped record and with decisions to replay."""
    for name, seed in (("akata", akata_seed), ("c13k", c13k_seed), ("g2", g2_seed)):
        folder = write_files(tmp_path / name, seed)
        family = {"akata": rm.FAMILY, "c13k": c13k.FAMILY, "g2": g2.FAMILY}[name]
        (trajectories, report), exc = load_quietly(lambda: get_family(family).load(folder))
        assert trajectories and not report.skipped and report.decisions
    for name, seed in glee_seed.items():
        root = write_files(tmp_path / name, seed)
        (trajectories, report), exc = load_quietly(lambda: get_family(name).load(root))
        assert len(trajectories) == 3 and not report.skipped and report.decisions


# == the shared CSV reader (read_csv_rows: repeated matrix, choices13k, YAML families): a file cut anywhere ======
from envs.quality import read_csv_rows  # noqa: E402

# no lone "\r" in random text: the csv module's writer leaves it unquoted with a "\n" line end, and a reader
# rightly takes it for a line end, so the "valid" file would not be the table written
CELL = st.one_of(st.text(max_size=6).map(lambda t: t.replace("\r", "")),
                 st.sampled_from(['"', '""', "a,b", "x\ny", " ", "\r\n", "PD", "Prompted"]))


@settings(max_examples=EXAMPLES * 3, **SETTINGS)
@given(rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=4), at=IDX,
       terminator=st.sampled_from(["\n", "\r\n"]))
def test_a_file_cut_at_any_byte_is_refused_or_read_in_whole_rows(tmp_path, rows, at, terminator):
    """Cut a valid CSV anywhere: either every record read is a record of the original, unchanged, or the
    file ends inside a row and the reader refuses it naming that row — never a partial row read as data."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator=terminator).writerows([["id", "game", "label"], *rows])
    full = buf.getvalue().encode("utf-8")
    data = full[: at % (len(full) + 1)]
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "cut.csv"
    path.write_bytes(data)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return  # a cut inside a multi-byte character: 'not UTF-8 text', covered above
    if header_of(data) != ["id", "game", "label"]:
        return  # the header itself is cut: a missing column, covered above
    cut = cut_record(data)
    try:
        got = read_csv_rows(path, ["id"])
    except DataFormatError as exc:
        assert cut is not None, f"a file that does not end inside a row was refused: {exc}"
        check_cut(exc, path, cut)
        return
    assert cut is None, f"row {cut}, where the file ends, was read as data"
    # the reader reads text with universal newlines: a line end inside a quoted value becomes "\n"
    original = [{k: v.replace("\r\n", "\n").replace("\r", "\n") for k, v in zip(["id", "game", "label"], r)}
                for r in rows]
    if got:
        assert got[:-1] == original[: len(got) - 1], "a row before the last changed"
        last, was = got[-1], original[len(got) - 1]
        assert last == was or (not data.endswith(b"\n") and [last["id"], last["game"]] == [was["id"], was["game"]]
                               and last["label"] and was["label"].startswith(last["label"])), \
            f"the last row {last} is neither whole ({was}) nor cut inside its last value only"


def test_a_row_cut_in_a_value_names_row_and_field(tmp_path, akata_seed):
    """The partial row of the issue report, ``103,PD,0,10,Promp``: refused, naming the row and the field
    cut; the same file with its last row complete but no final line end loads every row."""
    files = dict(akata_seed)
    lines = files[rm.CSV_NAME].decode("utf-8").splitlines()
    n = len(lines)  # the last record's number (the header is 1)
    header = lines[0].split(",")
    files[rm.CSV_NAME] = ("\n".join(lines[:-1] + ["103,PD,0,10,Promp"])).encode("utf-8")
    folder = write_files(tmp_path / "cut", files)
    result, exc = load_quietly(lambda: get_family(rm.FAMILY).load(folder))
    assert result is None and exc is not None
    check_cut(exc, folder / rm.CSV_NAME, n)
    assert exc.field == header[4] == "opponent" and "5 of 7 fields" in str(exc)
    files[rm.CSV_NAME] = "\n".join(lines).encode("utf-8")  # complete, only the final line end missing
    folder = write_files(tmp_path / "whole", files)
    (trajectories, report), exc = load_quietly(lambda: get_family(rm.FAMILY).load(folder))
    assert exc is None and report.decisions == n - 1
