"""Parser for the games2p2k data (Zhu, Peterson, Enke & Griffiths; osf.io/xrvaw).

The main CSV has one row per game and role, aggregated over the people who
answered it.  Columns read: ``game_id``, ``role``, ``row_form_matrix`` (eight
numbers, see ``envs.one_shot.game`` for the assumed mapping), ``up_choice`` and,
when present, ``unique_id``, ``topology`` (e.g. ``"('dilemma', 'hero')"``) and a
count of respondents (``n``, ``n_people``, ``count``, ...; see ``COUNT_COLUMNS``).
Other columns are ignored.

**up_choice (our reading).**  The share of respondents who chose their *first*
strategy: "up" for row-role respondents and, for column-role respondents, their
first strategy too — the left column of the row-form matrix, which is the top
row of their own view (``game.human_view`` transposes it there).  So under
either role ``up_choice`` is the rate of the human's action ``X``; check this
against the codebook along with the matrix mapping.

Each row becomes two trajectories of one decision each — ``presentation``
"original" and "swapped" (the human's strategies listed in the opposite order
in the prompt; labels, rate and affirmative action are unchanged) — so that a
predictor's position bias can be measured and averaged out
(``analysis.counterbalance``).  ``participant_id`` is the ``game_id`` (the
data has no person ids), so every presentation and role of a game falls in the
same cross-fitting fold.  The human's action is the majority choice (``X`` on
an exact tie); the rate itself is in the human event's data.

The loader finds the main CSV itself: the ``*.csv`` below the data-set folder
that has the required columns (the largest, if several do).  Its report says,
for games answered in both roles, whether both rows carry the same matrix (as
assumed) or the column role's is already turned to its side
(``role_consistency``) — the first thing to look at when the real file arrives.
"""

from __future__ import annotations

import ast
import csv
from dataclasses import dataclass
from pathlib import Path

from envs.one_shot.game import (HUMAN_LABELS, PRESENTATIONS, MatrixFormatError, bimatrix_from_row_form,
                                human_view, labelled, normalise_role, parse_numbers)
from envs.quality import DataFormatError, LoadIssue, LoadReport, read_csv_records
from envs.records import HUMAN, Event, Trajectory
from envs.stage_game import StageGame

FAMILY = "games2p2k"
DATASET = "games2p2k"
REQUIRED_COLUMNS = ("game_id", "role", "row_form_matrix", "up_choice")
COUNT_COLUMNS = ("n", "n_people", "n_subjects", "n_participants", "n_responses", "n_obs", "num_responses", "count")
MAPPING_NOTE = "(r11, c11, r12, c12, r21, c21, r22, c22), assumed: check the codebook"


def trajectory_id(game_id: str, role: str, presentation: str) -> str:
    """The id of one presentation of one game and role (``counterbalance`` parses it back)."""
    return f"{FAMILY}/{game_id}/{role}/{presentation}"


def _header(path: Path) -> list[str]:
    """The column names as ``read_rows`` will see them (a quoted name may hold a line break); [] if unreadable."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        try:
            return [h.strip() for h in next(csv.reader(fh), [])]
        except csv.Error:
            return []


def find_main_csv(folder: Path) -> tuple[Path, list[Path]]:
    """(the CSV with the required columns, other CSVs that also have them); a DataFormatError lists what was seen."""
    if folder.is_file():
        return folder, []
    candidates = sorted(p for p in folder.rglob("*.csv") if p.is_file() and not p.name.startswith("."))
    if not candidates:
        raise DataFormatError(str(folder), "no .csv file in the data-set folder; run `gamereplay data fetch "
                                           f"{DATASET}`")
    fits, looked = [], []
    for p in candidates:
        missing = [c for c in REQUIRED_COLUMNS if c not in _header(p)]
        if missing:
            looked.append(f"{p.relative_to(folder)} (lacks {', '.join(missing)})")
        else:
            fits.append(p)
    if not fits:
        raise DataFormatError(str(folder), f"no CSV has the columns {list(REQUIRED_COLUMNS)}; looked at: "
                                           + "; ".join(looked), field=REQUIRED_COLUMNS[0])
    fits.sort(key=lambda p: (-p.stat().st_size, str(p)))
    return fits[0], fits[1:]


def read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header, [(line number, row)]); the header is line 1.  Unreadable files, and a file cut inside its last
    row, raise DataFormatError (``envs.quality.read_csv_records``)."""
    return read_csv_records(path, REQUIRED_COLUMNS, strip_header=True)


def topology_name(text: str) -> str | None:
    """``"('dilemma', 'hero')"`` -> ``"dilemma/hero"``; None when it is not a tuple of names."""
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, str):
        value = (value,)
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, str) for v in value):
        return "/".join(v.strip() for v in value)
    return None


@dataclass(frozen=True)
class GameRow:
    """One parsed row: a game and role, the respondents' rate of choosing their first strategy."""

    line: int
    game_id: str
    unique_id: str | None
    role: str
    numbers: tuple[float, ...]
    view: StageGame
    rate: float
    n_people: int | None
    topology: str
    notes: tuple[tuple[str, str, str], ...]  # (field, kind, message) of odd values that were kept

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(kind for _, kind, _ in self.notes)


class _Rejected(Exception):
    def __init__(self, field: str, kind: str, message: str):
        super().__init__(message)
        self.field, self.kind = field, kind


def _parse_count(text: str) -> int:
    value = float(text)
    if not value.is_integer() or value < 0:
        raise ValueError(text)
    return int(value)


def parse_row(line: int, row: dict[str, str], count_column: str | None) -> GameRow:
    """One row, or ``_Rejected`` naming the field of the first value that makes it unusable."""
    get = lambda c: (row.get(c) or "").strip()  # noqa: E731
    game_id = get("game_id")
    if not game_id:
        raise _Rejected("game_id", "missing_game_id", "empty game_id")
    role = normalise_role(get("role"))
    if role is None:
        raise _Rejected("role", "unknown_role", f"role {get('role')!r} is neither row nor column")
    try:
        numbers = parse_numbers(get("row_form_matrix"))
        row_pay, col_pay = bimatrix_from_row_form(numbers)
    except MatrixFormatError as exc:
        raise _Rejected("row_form_matrix", "bad_matrix", str(exc)) from None
    try:
        rate = float(get("up_choice"))
    except ValueError:
        raise _Rejected("up_choice", "bad_rate", f"up_choice {get('up_choice')!r} is not a number") from None
    if not 0.0 <= rate <= 1.0:  # also rejects NaN
        raise _Rejected("up_choice", "bad_rate", f"up_choice {rate:g} is outside [0, 1]")
    notes = []
    n_people = None
    if count_column is not None and get(count_column):
        try:
            n_people = _parse_count(get(count_column))
        except ValueError:
            notes.append((count_column, "bad_count",
                          f"{count_column} {get(count_column)!r} is not a count; n_people unknown"))
    topology = "unknown"
    if "topology" in row:
        name = topology_name(get("topology"))
        if name is None:
            topology = get("topology") or "unknown"
            notes.append(("topology", "bad_topology",
                          f"topology {get('topology')!r} is not a tuple of names; kept as text"))
        else:
            topology = name
    mine, theirs = human_view(row_pay, col_pay, role)
    return GameRow(line, game_id, get("unique_id") or None, role, tuple(numbers), labelled(mine, theirs), rate,
                   n_people, topology, tuple(notes))


def trajectories_of(g: GameRow, path: Path) -> list[Trajectory]:
    """The two presentations of one game and role."""
    majority = HUMAN_LABELS[0] if g.rate >= 0.5 else HUMAN_LABELS[1]
    out = []
    for presentation in PRESENTATIONS:
        params = {**g.view.to_params(), "game_id": g.game_id, "unique_id": g.unique_id, "role": g.role,
                  "presentation": presentation, "topology": g.topology, "row_form_matrix": list(g.numbers)}
        event = Event(1, HUMAN, majority, data={"rate": g.rate, "n_people": g.n_people, "row": g.line})
        out.append(Trajectory(trajectory_id=trajectory_id(g.game_id, g.role, presentation), family=FAMILY,
                              game=g.topology, participant_id=g.game_id, role=g.role, params=params,
                              events=(event,), flags=g.flags, source=f"{path}:{g.line}",
                              meta={"rate": g.rate, "n_people": g.n_people}))
    return out


def role_consistency(matrices: dict[str, dict[str, tuple[float, ...]]]) -> str:
    """How the two roles' matrices of a game relate: a check of the role reading on real data.

    As assumed, both roles of a game carry the same row-form matrix.  If instead the column role's
    matrix is the game already turned to the respondent's side, ``human_view`` must not transpose again.
    """
    same = turned = other = 0
    for by_role in matrices.values():
        if len(by_role) < 2:
            continue
        r, c = bimatrix_from_row_form(list(by_role["row"])), bimatrix_from_row_form(list(by_role["col"]))
        if all((a == b).all() for a, b in zip(r, c)):
            same += 1
        elif all((a == b).all() for a, b in zip(human_view(*r, "col"), c)):
            turned += 1
        else:
            other += 1
    return (f"{same + turned + other}: {same} with the same matrix for both roles (as assumed), {turned} with the "
            f"column role's matrix already turned to its side, {other} with unrelated matrices")


def load_trajectories(folder: str | Path, report: LoadReport | None = None,
                      csv_path: str | Path | None = None) -> tuple[list[Trajectory], LoadReport]:
    """Parse the main CSV found in ``folder`` (or ``csv_path``) into two trajectories per game and role."""
    folder = Path(folder)
    report = report or LoadReport(family=FAMILY)
    path, others = (Path(csv_path), []) if csv_path is not None else find_main_csv(folder)
    report.files.append(str(path))
    header, rows = read_rows(path)
    lower = {h.lower(): h for h in header}
    count_column = next((lower[c] for c in COUNT_COLUMNS if c in lower), None)

    trajectories: list[Trajectory] = []
    seen_uid: dict[str, int] = {}
    seen_key: dict[tuple[str, str], int] = {}
    roles = {"row": 0, "col": 0}
    matrices: dict[str, dict[str, tuple[float, ...]]] = {}
    for line, row in rows:
        try:
            g = parse_row(line, row, count_column)
        except _Rejected as exc:
            report.add(LoadIssue(str(path), line, exc.field, exc.kind, str(exc), "skipped"))
            continue
        if g.unique_id is not None and g.unique_id in seen_uid:
            report.add(LoadIssue(str(path), line, "unique_id", "duplicate_unique_id",
                                 f"unique_id {g.unique_id!r} already on row {seen_uid[g.unique_id]}", "skipped"))
            continue
        if (g.game_id, g.role) in seen_key:
            report.add(LoadIssue(str(path), line, "game_id", "duplicate_game_role",
                                 f"game {g.game_id} as {g.role} player already on row {seen_key[(g.game_id, g.role)]}",
                                 "skipped"))
            continue
        if g.unique_id is not None:
            seen_uid[g.unique_id] = line
        seen_key[(g.game_id, g.role)] = line
        roles[g.role] += 1
        matrices.setdefault(g.game_id, {})[g.role] = g.numbers
        for fld, kind, msg in g.notes:
            report.add(LoadIssue(str(path), line, fld, kind, msg, "flagged",
                                 trajectory_id(g.game_id, g.role, PRESENTATIONS[0])))
        trajectories.extend(trajectories_of(g, path))

    report.trajectories += len(trajectories)
    report.decisions += len(trajectories)
    report.stats["main CSV"] = str(path)
    if others:
        report.stats["other CSVs with the same columns (not read)"] = ", ".join(map(str, others))
    report.stats["games x roles kept"] = f"{len(seen_key)} of {len(rows)} rows ({roles['row']} row, {roles['col']} col)"
    report.stats["games"] = len({k[0] for k in seen_key})
    report.stats["respondent counts from column"] = count_column or "none (n_people unknown)"
    report.stats["row_form_matrix read as"] = MAPPING_NOTE
    report.stats["games with both roles"] = role_consistency(matrices)
    return trajectories, report
