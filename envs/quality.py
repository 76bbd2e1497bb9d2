"""Data-quality reporting shared by all loaders.

Real logs have flaws.  A loader never crashes on a bad row and never drops one
silently: a structural problem (missing file or column) raises
``DataFormatError`` naming file and field; a per-row problem becomes a
``LoadIssue`` (file, row, field, message) in the ``LoadReport``, and the record
it touches is either flagged or skipped — and the report says which.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence


class DataFormatError(ValueError):
    """A data file cannot be read at all; the message names file, row and field."""

    def __init__(self, path: str, message: str, row: int | None = None, field: str | None = None):
        where = str(path)
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")
        self.path, self.row, self.field = str(path), row, field


@dataclass(frozen=True)
class LoadIssue:
    """One problem found in a log. ``outcome`` is 'flagged' (kept) or 'skipped'."""

    path: str
    row: int | None
    field: str | None
    kind: str
    message: str
    outcome: str
    trajectory_id: str | None = None

    def __str__(self) -> str:
        where = self.path + (f", row {self.row}" if self.row is not None else "")
        where += f", field '{self.field}'" if self.field else ""
        return f"{where}: {self.message} [{self.kind}; {self.outcome}]"


@dataclass
class LoadReport:
    """What a loader read, kept, flagged and skipped — with reasons."""

    family: str
    files: list[str] = field(default_factory=list)
    trajectories: int = 0
    decisions: int = 0
    issues: list[LoadIssue] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    def add(self, issue: LoadIssue, warn: bool = True) -> None:
        self.issues.append(issue)
        if warn:
            warnings.warn(str(issue), DataQualityWarning, stacklevel=3)

    @property
    def skipped(self) -> list[LoadIssue]:
        return [i for i in self.issues if i.outcome == "skipped"]

    @property
    def flagged(self) -> list[LoadIssue]:
        return [i for i in self.issues if i.outcome == "flagged"]

    def summary(self) -> str:
        kinds = Counter(f"{i.kind} ({i.outcome})" for i in self.issues)
        lines = [f"{self.family}: {self.trajectories} trajectories, {self.decisions} decisions "
                 f"from {len(self.files)} file(s)"]
        lines += [f"  {k}: {n}" for k, n in sorted(kinds.items())]
        lines += [f"  {k}: {v}" for k, v in self.stats.items()]
        return "\n".join(lines)


class DataQualityWarning(UserWarning):
    """Emitted for every flagged or skipped record."""



def read_csv_rows(path: Path, required: Sequence[str], delimiter: str = ",") -> list[dict[str, str]]:
    """A UTF-8 CSV file's rows as dicts; a missing file, non-UTF-8 text, no header, a missing ``required``
    column, unreadable CSV or a last row cut short (``check_last_row``) is a DataFormatError naming the file
    (and line / column where known).  ``delimiter`` separates the fields (``"\\t"`` for TSV)."""
    return [row for _, row in read_csv_records(path, required, delimiter)[1]]


def read_csv_records(path: Path, required: Sequence[str], delimiter: str = ",",
                     strip_header: bool = False) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header, [(the file line a record ends on, the record)]) with the checks of ``read_csv_rows``;
    ``strip_header``: column names lose surrounding spaces (as some exports write ``" role"``)."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (Excel) is not part of the first column
    except FileNotFoundError:
        raise DataFormatError(str(path), "file not found") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataFormatError(str(path), f"not UTF-8 text (byte {exc.start})", row=line) from None
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)  # csv line rules, not str.splitlines
    if reader.fieldnames is None:
        raise DataFormatError(str(path), "file is empty (no header)")
    header = [h.strip() for h in reader.fieldnames] if strip_header else list(reader.fieldnames)
    reader.fieldnames = header
    missing = [c for c in required if c not in header]
    if missing:
        raise DataFormatError(str(path), f"missing column(s) {missing}; found {header}", row=1, field=missing[0])
    records, last_line = [], reader.line_num  # the lines read before the last record began
    try:
        while True:
            before = reader.line_num
            row = next(reader, None)
            if row is None:
                break
            records.append((reader.line_num, row))
            last_line = before
    except csv.Error as exc:  # e.g. a field longer than the csv module allows
        raise DataFormatError(str(path), f"unreadable CSV ({exc})", row=reader.line_num + 1) from None
    if records:
        check_last_row(path, text, header, last_line, reader.line_num, len(records) + 1, delimiter)
    return header, records


def check_last_row(path: Path, text: str, header: list[str], first: int, end: int, record: int,
                   delimiter: str = ",") -> None:
    """Refuse a CSV that ends inside its last row: a file cut short (an interrupted copy or download, a
    full disk) must not have its partial last row read as a real decision.

    The signals: a quoted value never closed (the csv module would read the rest of the file into it),
    or no line end after the last record *and* fewer fields than the header or an empty last field.
    A complete last row without a final line end is accepted: a value cut inside its last field cannot
    be told from a whole one, and is the loaders' to judge (a checksum catches it in a registered data
    set).  ``first``/``end``: the csv module's ``line_num`` before and after the last record (an unclosed
    quote runs to the end of the file); ``record``: its number with the header as 1, as the loaders
    number rows."""
    ended = text.endswith(("\n", "\r"))
    tail = "".join(io.StringIO(text, newline="").readlines()[first:end])  # the csv module's own line splitting
    fields = next((r for r in csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter) if r), [""])
    if tail.count('"') % 2:  # quotes come in pairs in a complete record
        why, at = "a quoted value never closed", header[min(len(fields), len(header)) - 1]
    elif ended:
        return
    elif len(fields) < len(header):
        why, at = f"{len(fields)} of {len(header)} fields", header[len(fields) - 1]
    elif fields[len(header) - 1] == "":
        why, at = "its last field empty", header[-1]
    else:
        return
    raise DataFormatError(str(path), f"the file ends inside this row ({why}): it looks cut short; restore the "
                                     "complete file (a registered data set: `gamereplay data fetch NAME`), or "
                                     "delete the partial row to use the rows before it", row=record, field=at)
