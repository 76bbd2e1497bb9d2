"""Parser for choices13k (Peterson et al., Science 2021; github.com/jcpeterson/choices13k).

``c13k_selections.csv`` has one row per (problem, feedback condition): the
problem id, whether people saw feedback, ``n`` people, the CPC15 parameters of
the two gambles (Ha, pHa, La, Hb, pHb, Lb, LotShapeB, LotNumB, Amb, Corr) and
``bRate``, the share of choices of gamble B.  A problem id appears at most twice
(once per feedback condition).  ``c13k_problems.json`` lists each problem's
outcomes ``{"A": [[p, x], ...], "B": [[p, x], ...]}``; its keys are the 0-based
*row index* of the csv (key "0" = first data row), not the Problem column — the
loader checks every entry against the row's Ha/pHa/La and B's expected value
``pHb Hb + (1 - pHb) Lb`` and skips rows where they disagree.

There are no person ids: each row is one problem answered by many people, so it
becomes one trajectory with one decision whose ``human_rate`` is bRate,
``n_people`` is n, ``human_action`` the majority choice ("B" when bRate >= 1/2)
and ``participant_id`` the problem id.  By default only the no-feedback rows are
read (decisions from description); ``feedback=True`` reads the others.

Issues: structural problems (missing file or column, not UTF-8, not JSON) raise
``DataFormatError``.  A bad row is skipped with a ``LoadIssue``; issues with a
row's csv fields name the csv, its line number (header = 1) and the column;
issues with its json entry name the json file, the same csv line number and the
entry as ``<key>/<gamble>``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from envs.lotteries.gambles import PROB_TOL, Gamble
from envs.quality import DataFormatError, LoadIssue, LoadReport, read_csv_rows
from envs.records import HUMAN, Event, Trajectory

FAMILY = "choices13k"
FEEDBACK_FAMILY = "choices13k_feedback"
DATASET = "choices13k"
CSV_NAME = "c13k_selections.csv"
JSON_NAME = "c13k_problems.json"
ROLE = "chooser"
REQUIRED_COLUMNS = ("Problem", "Feedback", "n", "Block", "Ha", "pHa", "La", "Hb", "pHb", "Lb",
                    "LotShapeB", "LotNumB", "Amb", "Corr", "bRate")
NUMERIC = ("Ha", "pHa", "La", "Hb", "pHb", "Lb")
INTEGER = ("Block", "LotShapeB", "LotNumB", "Corr")
_BOOLS = {"true": True, "1": True, "false": False, "0": False}


class RowError(ValueError):
    """One bad field of one row; becomes a skipped LoadIssue."""

    def __init__(self, field: str, kind: str, message: str, path: str | None = None):
        super().__init__(message)
        self.field, self.kind, self.path = field, kind, path


def read_rows(path: Path) -> list[dict[str, str]]:
    """The csv rows; a missing file, non-UTF-8 text or a missing column is a DataFormatError."""
    return read_csv_rows(path, REQUIRED_COLUMNS)


def read_problems(path: Path) -> dict[str, Any]:
    """The json map of row index -> outcomes; unreadable or not a JSON object is a DataFormatError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFormatError(str(path), "file not found") from None
    except UnicodeDecodeError as exc:
        raise DataFormatError(str(path), f"not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise DataFormatError(str(path), f"not valid JSON: {exc}", row=exc.lineno) from None
    if not isinstance(data, dict):
        raise DataFormatError(str(path), f"expected a JSON object of problems, found {type(data).__name__}")
    return data


def load_trajectories(folder: str | Path, feedback: bool = False,
                      report: LoadReport | None = None) -> tuple[list[Trajectory], LoadReport]:
    """One single-decision trajectory per problem of the chosen feedback condition."""
    folder = Path(folder)
    family = FEEDBACK_FAMILY if feedback else FAMILY
    csv_path, json_path = folder / CSV_NAME, folder / JSON_NAME
    report = report or LoadReport(family=family)
    report.files += [str(csv_path), str(json_path)]
    rows = read_rows(csv_path)
    problems = read_problems(json_path)

    out: list[Trajectory] = []
    seen: dict[str, int] = {}
    other = 0
    for index, row in enumerate(rows):
        rowno = index + 2
        try:
            fb = parse_bool(row, "Feedback")
            if fb != feedback:
                other += 1
                continue
            traj, issues = parse_row(csv_path, json_path, rowno, index, row, problems, family)
            if traj.participant_id in seen:
                raise RowError("Problem", "duplicate_problem",
                               f"problem {traj.participant_id} appears again (first on row {seen[traj.participant_id]})")
        except RowError as exc:
            report.add(LoadIssue(exc.path or str(csv_path), rowno, exc.field, exc.kind, str(exc), "skipped",
                                 f"{family}/{(row.get('Problem') or '').strip()}"))
            continue
        seen[traj.participant_id] = rowno
        for kind, fld, msg in issues:
            report.add(LoadIssue(str(csv_path), rowno, fld, kind, msg, "flagged", traj.trajectory_id))
        out.append(traj)
    report.trajectories += len(out)
    report.decisions += len(out)
    report.stats["rows of the other feedback condition (other family)"] = other
    report.stats["ambiguous problems (B's probabilities not shown)"] = sum(bool(t.params["Amb"]) for t in out)
    return out, report


def parse_row(csv_path: Path, json_path: Path, rowno: int, index: int, row: dict[str, str],
              problems: dict[str, Any], family: str) -> tuple[Trajectory, list[tuple[str, str, str]]]:
    """One csv row and its json entry as a trajectory, plus (kind, field, message) of flaws kept.

    A field the decision cannot do without raises RowError (the row is skipped)."""
    problem = parse_int(row, "Problem", positive=True)
    n = parse_int(row, "n", positive=True)
    rate = parse_float(row, "bRate")
    if not 0.0 <= rate <= 1.0:
        raise RowError("bRate", "bad_rate", f"bRate {rate} is not in [0, 1]")
    nums = {c: parse_float(row, c) for c in NUMERIC}
    ints = {c: parse_int(row, c) for c in INTEGER}
    amb = parse_bool(row, "Amb")
    issues = []
    if ints["Corr"] not in (-1, 0, 1):
        issues.append(("bad_corr", "Corr", f"Corr {ints['Corr']} is not -1, 0 or 1"))
    std: float | None = None
    if (row.get("bRate_std") or "").strip():
        try:
            std = parse_float(row, "bRate_std")
        except RowError as exc:
            issues.append((exc.kind, "bRate_std", str(exc)))

    a, b = problem_outcomes(problems, str(index), str(json_path))
    check_against_csv(a, b, nums, str(index), str(json_path))

    action = "B" if rate >= 0.5 else "A"
    tid = f"{family}/{problem}"
    params = {"problem": problem, "A": [list(o) for o in a.outcomes], "B": [list(o) for o in b.outcomes],
              **nums, **ints, "Amb": amb, "Feedback": family == FEEDBACK_FAMILY, "json_key": str(index)}
    event = Event(1, HUMAN, action, data={"b_rate": rate, "n_people": n, "b_rate_std": std})
    traj = Trajectory(trajectory_id=tid, family=family, game="ambiguity" if amb else "risk",
                      participant_id=str(problem), role=ROLE, params=params, events=(event,),
                      flags=tuple(k for k, _, _ in issues), source=f"{csv_path}:{rowno}")
    return traj, issues


def problem_outcomes(problems: dict[str, Any], key: str, json_path: str) -> tuple[Gamble, Gamble]:
    """Gambles A and B of json entry ``key``: lists of [p, x] with p in [0, 1] summing to 1."""
    entry = problems.get(key)
    if entry is None:
        raise RowError(key, "missing_problem", f"no entry {key!r} in {Path(json_path).name}", json_path)
    if not isinstance(entry, dict):
        raise RowError(key, "bad_problem", f"entry {key!r} is not an object", json_path)
    out = []
    for side in ("A", "B"):
        fld = f"{key}/{side}"
        pairs = entry.get(side)
        ok = isinstance(pairs, list) and pairs and all(
            isinstance(o, list) and len(o) == 2 and all(_is_number(v) for v in o) for o in pairs)
        if not ok:
            raise RowError(fld, "bad_outcomes", f"gamble {side} of entry {key!r} is not a list of [p, x] numbers",
                           json_path)
        g = Gamble.from_pairs(pairs)
        if any(not 0.0 <= p <= 1.0 for p, _ in g.outcomes):
            raise RowError(fld, "bad_probability", f"gamble {side} of entry {key!r} has a probability "
                           "outside [0, 1]", json_path)
        total = g.total_probability()
        if abs(total - 1.0) > PROB_TOL:
            raise RowError(fld, "probabilities_not_one",
                           f"gamble {side} of entry {key!r}: probabilities sum to {total:.9g}, not 1", json_path)
        out.append(g)
    return out[0], out[1]


def check_against_csv(a: Gamble, b: Gamble, nums: dict[str, float], key: str, json_path: str) -> None:
    """The json entry must be the row's problem: A = (Ha w.p. pHa, La otherwise), E[B] = pHb Hb + (1-pHb) Lb."""
    want_a = Gamble(((nums["pHa"], nums["Ha"]), (1.0 - nums["pHa"], nums["La"]))).merged()
    got_a = dict((x, p) for p, x in a.merged().outcomes)
    same_a = set(got_a) == {x for _, x in want_a.outcomes} and all(
        abs(got_a[x] - p) <= PROB_TOL for p, x in want_a.outcomes)
    if not same_a:
        raise RowError(f"{key}/A", "json_mismatch", f"gamble A of entry {key!r} {list(a.outcomes)} is not the "
                       f"row's Ha={nums['Ha']:g}, pHa={nums['pHa']:g}, La={nums['La']:g}", json_path)
    ev_b = nums["pHb"] * nums["Hb"] + (1.0 - nums["pHb"]) * nums["Lb"]
    if abs(b.ev() - ev_b) > 1e-6 * max(1.0, abs(ev_b)):
        raise RowError(f"{key}/B", "json_mismatch", f"gamble B of entry {key!r} has expected value {b.ev():.6g}, "
                       f"the row's pHb, Hb, Lb give {ev_b:.6g}", json_path)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def parse_bool(row: dict[str, str], name: str) -> bool:
    raw = (row.get(name) or "").strip()
    if raw.lower() not in _BOOLS:
        raise RowError(name, "bad_value", f"{name} {raw!r} is not True or False")
    return _BOOLS[raw.lower()]


def parse_float(row: dict[str, str], name: str) -> float:
    raw = (row.get(name) or "").strip()
    try:
        v = float(raw)
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        raise RowError(name, "bad_value", f"{name} {raw!r} is not a finite number")
    return v


def parse_int(row: dict[str, str], name: str, positive: bool = False) -> int:
    v = parse_float(row, name)
    if not v.is_integer() or (positive and v < 1):
        kind = "bad_count" if name == "n" else "bad_value"
        raise RowError(name, kind, f"{name} {row.get(name)!r} is not a {'positive ' if positive else ''}integer")
    return int(v)
