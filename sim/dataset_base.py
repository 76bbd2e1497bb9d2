"""What every kind of data set shares: the error, the result types, the verified atomic write, and the
check of files on disk against their published checksums (``check_files``: each file read once, its
SHA-256 kept so that a run can record what it read).

Every file a data set lands on disk goes through ``write_verified``: the bytes go to a
temporary file beside the destination and only take the real name (``os.replace``)
once their checksum matches, so an interrupted or corrupt download never leaves a
file that looks complete.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from tqdm.auto import tqdm

CHUNK = 1 << 16


class DatasetError(RuntimeError):
    """A data set is missing, unknown or failed to download; the message says what to do."""


@dataclass(frozen=True)
class FetchSummary:
    """What a fetch did, so the CLI can say it (a failed fetch raises ``PartialFetchError`` instead)."""

    folder: Path
    downloaded: int
    present: int
    failed: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.downloaded} downloaded, {self.present} already present"
        return text + (f", {len(self.failed)} failed" if self.failed else "")


class PartialFetchError(DatasetError):
    """Some files failed; the ones that verified are kept and ``summary`` says how many."""

    def __init__(self, message: str, summary: FetchSummary):
        super().__init__(message)
        self.summary = summary


@dataclass(frozen=True)
class DataSummary:
    """One data set's state for ``gamereplay data list``: present / incomplete / missing, plus detail lines."""

    state: str
    lines: tuple[str, ...] = field(default=())


class DataSource(Protocol):
    """The interface the registry, CLI and runner rely on, whatever the kind of data set."""

    name: str
    description: str
    licence: str
    citation: str

    def folder(self, data_dir: str | os.PathLike | None = None) -> Path: ...
    def status(self, data_dir: str | os.PathLike | None = None) -> dict[str, str]: ...
    def summary(self, data_dir: str | os.PathLike | None = None) -> DataSummary: ...
    def require(self, data_dir: str | os.PathLike | None = None) -> Path: ...
    def fetch(self, data_dir: str | os.PathLike | None = None, base_url: str | None = None, force: bool = False,
              timeout: float = 60.0, *, from_clone: str | os.PathLike | None = None) -> FetchSummary: ...
    def expected(self, data_dir: str | os.PathLike | None = None) -> list["Expected"] | None: ...
    def local_files(self, data_dir: str | os.PathLike | None = None) -> list[str]: ...


@dataclass(frozen=True)
class Expected:
    """One file a data set should hold: its path below the data set's folder and its published checksum.

    ``kind`` is "sha256", "md5" or "git blob sha"; ``size`` (bytes) where the source gives it."""

    rel: str
    kind: str
    digest: str
    size: int | None = None


@dataclass(frozen=True)
class FileCheck:
    """What one file of a data set is: ``state`` 'ok', 'missing', 'checksum mismatch', 'not in the upstream
    listing' (a file the loaders would read that the source does not publish) or 'unverified' (no listing to
    check against); ``sha256`` of the bytes found (None when missing), so one read both checks and records."""

    rel: str
    state: str
    sha256: str | None


def file_digests(path: Path, kinds: Iterable[str] = ()) -> dict[str, str]:
    """The file's SHA-256 and the digests ``kinds`` names ("md5", "git blob sha"), all from one read."""
    hashers = {"sha256": hashlib.sha256()}
    for kind in kinds:
        if kind not in hashers:
            hashers[kind] = (Checksum.git_blob("", path.stat().st_size).new_hasher() if kind == "git blob sha"
                             else hashlib.new(kind))
    for chunk in read_chunks(path):
        for h in hashers.values():
            h.update(chunk)
    return {kind: h.hexdigest() for kind, h in hashers.items()}


def check_file(folder: Path, e: Expected) -> FileCheck:
    """``folder / e.rel`` against ``e`` (size, then digest), with the SHA-256 of what is there."""
    path = folder / e.rel
    if not path.is_file():
        return FileCheck(e.rel, "missing", None)
    found = file_digests(path, [e.kind])
    same = (e.size is None or path.stat().st_size == e.size) and found[e.kind] == e.digest.lower()
    return FileCheck(e.rel, "ok" if same else "checksum mismatch", found["sha256"])


def check_files(folder: Path, expected: list[Expected] | None, local: Iterable[str] = ()) -> list[FileCheck]:
    """Each ``expected`` file of ``folder`` checked, then each file of ``local`` (paths below ``folder``) that
    ``expected`` does not name: 'not in the upstream listing', or 'unverified' when there is no ``expected``
    (no listing).  Every file is read once."""
    out = [check_file(folder, e) for e in expected or ()]
    named = {e.rel for e in expected or ()}
    state = "unverified" if expected is None else "not in the upstream listing"
    return out + [FileCheck(rel, state, file_digests(folder / rel)["sha256"]) for rel in local if rel not in named]


@dataclass(frozen=True)
class Checksum:
    """An expected digest and how to compute it; ``kind`` names it in messages."""

    kind: str
    expected: str
    new_hasher: Callable[[], "hashlib._Hash"]

    @classmethod
    def sha256(cls, expected: str) -> "Checksum":
        return cls("sha256", expected, hashlib.sha256)

    @classmethod
    def git_blob(cls, expected: str, size: int) -> "Checksum":
        """Git's object id of a blob: SHA-1 over ``blob <size>\\0`` then the bytes (the size is known from the tree)."""
        def start() -> "hashlib._Hash":
            h = hashlib.sha1()
            h.update(b"blob %d\0" % size)
            return h
        return cls("git blob sha", expected, start)


def git_blob_sha(data: bytes) -> str:
    """The id git gives these bytes as a blob (what ``git hash-object`` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def sha256_of(path: Path) -> str:
    return file_digests(path)["sha256"]


def write_verified(dest: Path, chunks: Iterable[bytes], check: Checksum | None, label: str) -> None:
    """Write ``chunks`` to ``dest`` via a temporary file beside it; rename only if ``check`` passes.

    On a mismatch raises DatasetError naming ``label`` and leaves neither ``dest`` nor a temporary file.
    OSErrors (disk full, a failing read) propagate, also with nothing left behind.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        h = check.new_hasher() if check else None
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                if h is not None:
                    h.update(chunk)
        if check and h is not None and h.hexdigest() != check.expected:
            raise DatasetError(f"{label}: checksum mismatch (got {check.kind} {h.hexdigest()[:16]}..., expected "
                               f"{check.expected[:16]}...); the upstream file changed or the download is "
                               "corrupt — nothing was written")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        yield from iter(lambda: fh.read(CHUNK), b"")


def download(url: str, dest: Path, check: Checksum, timeout: float, headers: dict[str, str] | None = None,
             byte_progress: bool = False) -> None:
    """Download ``url`` to ``dest`` through ``write_verified``; any failure is a DatasetError naming the URL."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, leave=False,
                      disable=not byte_progress) as bar:
                def chunks() -> Iterator[bytes]:
                    for chunk in iter(lambda: resp.read(CHUNK), b""):
                        bar.update(len(chunk))
                        yield chunk
                write_verified(dest, chunks(), check, url)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DatasetError(f"could not download {url}: {exc}; nothing was written") from None


def clean_partials(folder: Path) -> None:
    """Remove temporary files a killed fetch left behind (an interrupted one removes its own)."""
    if folder.is_dir():
        for p in folder.rglob(".*.part"):
            p.unlink(missing_ok=True)


def write_listing(path: Path, comment: str, columns: list[str], rows: Iterable[list[object]]) -> None:
    """Save an upstream file listing as TSV (a ``#`` comment line, a header, one row per file), atomically."""
    lines = [f"# {comment}", "\t".join(columns)] + ["\t".join(str(v) for v in row) for row in rows]
    write_verified(path, [("\n".join(lines) + "\n").encode()], None, str(path))


def listing_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """The (line number, fields) of a listing written by ``write_listing``, comment and header skipped."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line and not line.startswith("#") and not line.startswith("path\t"):
            yield n, line.split("\t")
