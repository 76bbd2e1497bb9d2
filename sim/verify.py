"""Data verified when it is used: a run checks every file its game families read, once, before scoring.

``gamereplay data list`` says whether a data set matches its source; a run must not rely on someone
having looked.  Before anything is loaded, ``verify_sources`` reads each file a run's families will
read exactly once (a data set shared by several families, e.g. GLEE's three, is read once), and:

- a registered data set (``sim.datasets``) is checked against its published checksums — the pinned
  SHA-256 of a ``Dataset``, the git blob ids of a ``GitTreeDataset``'s saved upstream listing, the
  hashes of an ``OsfDataset``'s saved OSF listing.  A file that differs, one that is missing, or one
  the loaders would read that the source does not publish is refused with one line naming the file
  and saying how to proceed (fetch again, or ``--allow-modified-data``, which the manifest records);
- a registered data set without a saved listing (a GitHub-folder or OSF data set copied by hand,
  e.g. a partial development copy of GLEE) cannot be checked: the run goes on, says so once, and
  records the state "unverified" with every file's SHA-256;
- local data (a run's ``data.path`` or a YAML family's own ``data.path``) has nothing to be checked
  against: every file is hashed and recorded.

The records go into the run's ``manifest.json`` (``data``: per source its state, folder, SHA-256 over
the files and each file's SHA-256 and state), so what a run read can be compared with any copy later.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from sim import datasets
from sim.dataset_base import DatasetError, FileCheck, check_files, file_digests

#: how many problem files a refusal names before "and N more"
SHOWN = 2


class ModifiedDataError(DatasetError):
    """A registered data set differs from its source and ``--allow-modified-data`` was not given."""


class NoDecisionsError(DatasetError):
    """The data (or the selection of it) holds no decision to score."""


@dataclass(frozen=True)
class DataRecord:
    """What a run read from one source: a registered data set (``name`` = its name) or local data
    (``name`` = "local"), the state of each file, and whether modified data was allowed."""

    name: str
    folder: Path
    files: tuple[FileCheck, ...]
    allow_modified: bool = False

    @property
    def local(self) -> bool:
        return self.name == "local"

    @property
    def problems(self) -> list[FileCheck]:
        """Files that differ from the source: mismatched, missing, or not published by it."""
        return [c for c in self.files if c.state not in ("ok", "unverified", "local")]

    @property
    def state(self) -> str:
        """'local', 'verified', 'unverified' (no listing to check against) or 'modified'."""
        if self.local:
            return "local"
        if self.problems:
            return "modified"
        return "unverified" if any(c.state == "unverified" for c in self.files) else "verified"

    def sha256(self) -> str:
        """One digest over every file's relative path and SHA-256 (sorted): equal for equal copies."""
        h = hashlib.sha256()
        for c in sorted(self.files, key=lambda c: c.rel):
            h.update(f"{c.rel}\0{c.sha256 or 'missing'}\n".encode())
        return h.hexdigest()

    def to_manifest(self) -> dict:
        return {"state": self.state, "folder": str(self.folder), "sha256": self.sha256(),
                "allow_modified_data": self.allow_modified,
                "files": {c.rel: {"state": c.state, "sha256": c.sha256} for c in self.files}}

    def note(self) -> str | None:
        """The one line a run prints about this source, or None when there is nothing to say."""
        if self.state == "unverified":
            return (f"data set {self.name}: {len(self.files)} files not checked against upstream (no saved "
                    f"upstream listing in {self.folder}; `gamereplay data fetch {self.name}` saves one); their "
                    "SHA-256 are recorded in manifest.json")
        if self.state == "modified":
            return (f"data set {self.name}: {_problems(self.problems)} — running anyway (--allow-modified-data); "
                    "recorded in manifest.json")
        return None


def _problems(problems: list[FileCheck]) -> str:
    shown = "; ".join(f"{c.rel}: {c.state}" for c in problems[:SHOWN])
    return shown + (f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else "")


def _refusal(name: str, folder: Path, problems: list[FileCheck]) -> str:
    """One line: which file, what is wrong, how to proceed."""
    fetchable = any(c.state in ("checksum mismatch", "missing") for c in problems)
    extra = any(c.state == "not in the upstream listing" for c in problems)
    ways = []
    if fetchable:
        ways.append(f"run `gamereplay data fetch {name}` to restore the published files")
    if extra:
        ways.append("remove the files the source does not publish")
    ways.append("or pass --allow-modified-data to run on this copy anyway (recorded in the run's manifest)")
    return (f"data set {name!r} in {folder} differs from its source: {_problems(problems)}; "
            + ", ".join(ways))


def verify_dataset(name: str, data_dir: str | os.PathLike | None = None, allow_modified: bool = False) -> DataRecord:
    """Check a registered data set file by file (each read once); refuse a modified copy unless allowed."""
    ds = datasets.get_dataset(name)
    folder = ds.folder(data_dir)
    record = DataRecord(name, folder, tuple(check_files(folder, ds.expected(data_dir),
                                                                 ds.local_files(data_dir))), allow_modified)
    if record.problems and not allow_modified:
        raise ModifiedDataError(_refusal(name, folder, record.problems))
    return record


def hash_local(path: str | os.PathLike) -> DataRecord:
    """Local data: the file, or every file below the folder (hidden ones aside), hashed and recorded."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in
                                                              p.relative_to(path).parts))
    base = path.parent if path.is_file() else path
    return DataRecord("local", path, tuple(FileCheck(p.relative_to(base).as_posix(), "local",
                                                     file_digests(p)["sha256"]) for p in files))


def verify_sources(families: Iterable, folders: dict[str, Path], data_dir: str | os.PathLike | None,
                   local: str | os.PathLike | None, allow_modified: bool = False) -> dict[str, DataRecord]:
    """family name -> the record of the source it reads; each source checked (and each file read) once.

    ``folders``: where each family reads (``sim.datasets.family_folder``); ``local``: the run's ``data.path``."""
    by_source: dict[tuple[str, str], DataRecord] = {}
    out = {}
    for fam in families:
        if local is None and fam.dataset:
            key = (fam.dataset, "")
            if key not in by_source:
                by_source[key] = verify_dataset(fam.dataset, data_dir, allow_modified)
        else:
            key = ("local", str(folders[fam.name]))
            if key not in by_source:
                by_source[key] = hash_local(folders[fam.name])
        out[fam.name] = by_source[key]
    return out


def manifest_entry(records: dict[str, DataRecord]) -> dict:
    """The ``data`` entry of a run's manifest: per source (data set name, or ``local:<path>``) its record."""
    return {(r.name if not r.local else f"local:{r.folder}"): r.to_manifest() for r in records.values()}


def require_decisions(empty: list, selected: int, selection: str, report_path: Path) -> None:
    """Stop a run with nothing to score: ``empty`` lists (family, folder, ``LoadReport``) of families whose data
    yields no decision (a header-only file, every record skipped); ``selected`` counts the decisions kept."""
    if empty:
        parts = []
        for name, folder, report in empty:
            where = ", ".join(report.files) or str(folder)
            parts.append(f"{name} has no decision to score in {where} ({report.trajectories} games read, "
                         f"{len(report.skipped)} records skipped)")
        raise NoDecisionsError("; ".join(parts) + f"; see {report_path} — fix the data, or leave the family "
                               "out of the config")
    if not selected:
        raise NoDecisionsError(f"the selection ({selection}) keeps no decision to score; see {report_path}")
