"""The rows of a YAML family's data: one file, every data file of a folder, or a glob; CSV, TSV or JSON lines.

Each row keeps its file and line (the header is line 1 of a CSV) so that every issue the
loader finds names them.  Values are text, as in a CSV, whatever the format: the loader
parses numbers itself and reports what it cannot parse.  A file cut short (no line end after a
partial last row or line) is a ``DataFormatError``, never a row.  CSV and TSV go through
``envs.quality.read_csv_rows``; a CSV's delimiter, unless ``data.delimiter`` gives it, is
the one of ``, ; | tab`` that its header line uses most.
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from envs.quality import DataFormatError, read_csv_rows

EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
SNIFFED = (",", ";", "\t", "|")


@dataclass(frozen=True)
class Row:
    file: str
    line: int
    values: dict[str, str]

    def get(self, column: str | None) -> str:
        """The stripped value of ``column`` ("" when missing or no column)."""
        return (self.values.get(column) or "").strip() if column else ""


def data_files(pattern: str, root: Path) -> list[Path]:
    """The files ``data.path`` names, relative to ``root``: a file, a folder's data files, or a glob."""
    path = Path(pattern).expanduser()
    path = path if path.is_absolute() else root / path
    if any(ch in pattern for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
        if not files:
            raise DataFormatError(str(path), "no file matches this pattern", field="data.path")
        return files
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)
        if not files:
            raise DataFormatError(str(path), f"no data file ({', '.join(EXTENSIONS)}) in this folder",
                                  field="data.path")
        return files
    if not path.exists():
        raise DataFormatError(str(path), "file not found", field="data.path")
    return [path]


def file_format(path: Path, declared: str | None) -> str:
    if declared:
        return declared
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise DataFormatError(str(path), f"cannot tell the format from the extension {path.suffix!r}; "
                                         "set data.format (csv, tsv or jsonl)", field="data.format")
    return fmt


def sniff_delimiter(path: Path) -> str:
    """The delimiter the header line uses most (``,`` when it uses none)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            header = fh.readline()
    except OSError:
        return ","  # read_csv_rows reports the unreadable file
    counts = {d: header.count(d) for d in SNIFFED}
    best = max(SNIFFED, key=lambda d: counts[d])
    return best if counts[best] else ","


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _jsonl(path: Path, required: Sequence[str]) -> list[Row]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFormatError(str(path), "file not found") from None
    except UnicodeDecodeError as exc:
        raise DataFormatError(str(path), f"not UTF-8 text (byte {exc.start})") from None
    rows, seen = [], set()
    lines = text.splitlines()
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            if i == len(lines) and not text.endswith(("\n", "\r")):  # a cut file, not a bad line
                raise DataFormatError(str(path), f"the file ends inside this line ({exc.msg}, and no line end): it "
                                                 "looks cut short; restore the complete file, or delete the partial "
                                                 "line to use the lines before it", row=i) from None
            raise DataFormatError(str(path), f"not a JSON object: {exc.msg}", row=i) from None
        if not isinstance(obj, dict):
            raise DataFormatError(str(path), f"expected a JSON object per line, got {type(obj).__name__}", row=i)
        seen.update(obj)
        rows.append(Row(str(path), i, {str(k): _text(v) for k, v in obj.items()}))
    if not rows:
        raise DataFormatError(str(path), "file has no rows")
    missing = [c for c in required if c not in seen]
    if missing:
        raise DataFormatError(str(path), f"no row has the column(s) {missing}; found {sorted(seen)}",
                              field=missing[0])
    return rows


def read_rows(files: Sequence[Path], declared_format: str | None, delimiter: str | None,
              required: Sequence[str]) -> list[Row]:
    """Every row of ``files``, in file order; a missing file or column is a ``DataFormatError``."""
    rows: list[Row] = []
    for path in files:
        fmt = file_format(path, declared_format)
        if fmt == "jsonl":
            rows += _jsonl(path, required)
            continue
        delim = delimiter or ("\t" if fmt == "tsv" else sniff_delimiter(path))
        for i, values in enumerate(read_csv_rows(path, required, delimiter=delim), start=2):
            rows.append(Row(str(path), i, {k: v for k, v in values.items() if k is not None}))
    return rows
