"""A data set stored in an OSF project: the project's files listed through the OSF API, each verified.

OSF (osf.io) serves a project's files through its JSON:API: ``<api>/nodes/<node>/files/<storage>/``
lists a folder — ``data[]`` items with ``attributes.name``, ``.kind`` ("file" or "folder"),
``.size``, ``.extra.hashes.sha256`` / ``.md5`` and ``links.download``; a folder's listing is at
``relationships.files.links.related.href``; a long listing continues at the top-level
``links.next``.  ``OsfDataset`` walks that (every page, every sub-folder), keeps the files whose
name matches ``pattern`` (``*.csv`` by default), and downloads each through
``sim.dataset_base.download``: a temporary file renamed into place only once its SHA-256 (or MD5
where OSF gives no SHA-256) matches the listing, so nothing unverified lands.  The listing is saved
beside the data (``LISTING.osf.tsv``), so ``status`` works offline and a re-run fetches only what
is missing or differs.  Upstream path ``a/b.csv`` lands as ``<data_dir>/<name>/a/b.csv``.

``base_url`` (the CLI's ``--base-url``) replaces the API root ``https://api.osf.io/v2`` — a mirror
or a test server answering the same listings; download links are taken from the listing as given.
"""

from __future__ import annotations

import filecmp
import fnmatch
import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sim.datadir import resolve_data_dir
from sim.dataset_base import (CHUNK, Checksum, DataSummary, DatasetError, Expected, FetchSummary, PartialFetchError,
                              check_file, check_files, clean_partials, download, listing_rows, read_chunks,
                              write_listing, write_verified)
from sim.github_tree import _run_jobs, _safe_rel

OSF_API = "https://api.osf.io/v2"
LISTING_NAME = "LISTING.osf.tsv"
_HASHERS = {"sha256": hashlib.sha256, "md5": hashlib.md5}
_MAX_DEPTH = 32
_MAX_PAGES = 10_000


@dataclass(frozen=True)
class OsfFile:
    """One upstream file: its path below the storage root, where to get it, and its checksum."""

    rel: str
    url: str
    hash_kind: str  # "sha256" or "md5"
    digest: str
    size: int | None

    def checksum(self) -> Checksum:
        return Checksum(self.hash_kind, self.digest, _HASHERS[self.hash_kind])

    def expect(self) -> Expected:
        return Expected(self.rel, self.hash_kind, self.digest, self.size)


def _href(value) -> str | None:
    """A JSON:API link is either a URL string or an object with ``href``."""
    if isinstance(value, dict):
        value = value.get("href")
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class OsfDataset:
    """The files of OSF project ``node`` whose names match ``pattern``, verified against the API's hashes.

    ``require`` wants at least one matching file in the data set's folder.
    """

    name: str
    node: str
    description: str
    licence: str
    citation: str
    pattern: str = "*.csv"
    storage: str = "osfstorage"
    api_base: str = OSF_API
    workers: int = 2

    # -- where things are -------------------------------------------------------------------------

    def folder(self, data_dir: str | os.PathLike | None = None) -> Path:
        return resolve_data_dir(data_dir) / self.name

    def listing_path(self, data_dir: str | os.PathLike | None = None) -> Path:
        return self.folder(data_dir) / LISTING_NAME

    def listing_url(self, base_url: str | None = None) -> str:
        return f"{(base_url or self.api_base).rstrip('/')}/nodes/{self.node}/files/{self.storage}/"

    def _wanted(self, name: str) -> bool:
        return fnmatch.fnmatch(name.lower(), self.pattern.lower())

    def _local_files(self, folder: Path) -> list[Path]:
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.rglob("*") if p.is_file() and self._wanted(p.name)
                      and not p.name.startswith("."))

    # -- the upstream listing ---------------------------------------------------------------------

    def _get_json(self, url: str, timeout: float) -> dict:
        request = urllib.request.Request(url, headers={"Accept": "application/vnd.api+json, application/json",
                                                       "User-Agent": "gamereplay"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                data = json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise DatasetError(f"could not list osf.io/{self.node}: HTTP {exc.code} from {url}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise DatasetError(f"could not list osf.io/{self.node}: {url}: {exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise DatasetError(f"could not list osf.io/{self.node}: {url} did not answer JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise DatasetError(f"could not list osf.io/{self.node}: {url} did not answer a JSON:API file listing")
        return data

    def _entry(self, item: dict, prefix: str, page_url: str) -> OsfFile:
        attrs = item.get("attributes") or {}
        name = attrs.get("name")
        rel = f"{prefix}{name}"
        hashes = (attrs.get("extra") or {}).get("hashes") or {}
        kind = "sha256" if hashes.get("sha256") else "md5" if hashes.get("md5") else None
        link = _href((item.get("links") or {}).get("download"))
        size = attrs.get("size")
        if not (isinstance(name, str) and _safe_rel(rel)) or kind is None or link is None:
            what = ("no sha256 or md5" if kind is None else "no download link" if link is None else "a bad name")
            raise DatasetError(f"could not list osf.io/{self.node}: the listing gives {what} for "
                               f"{json.dumps(item)[:200]}; refusing to download a file that cannot be verified")
        digest = str(hashes[kind]).lower()
        return OsfFile(rel, urllib.parse.urljoin(page_url, link), kind, digest,
                       size if isinstance(size, int) else None)

    def _walk(self, url: str, prefix: str, timeout: float, seen: set[str], depth: int = 0) -> list[OsfFile]:
        """Every wanted file of the folder listed at ``url`` and below, following ``links.next``."""
        if depth > _MAX_DEPTH:
            raise DatasetError(f"could not list osf.io/{self.node}: folders nest deeper than {_MAX_DEPTH}")
        out: list[OsfFile] = []
        page: str | None = url
        while page is not None:
            if page in seen or len(seen) > _MAX_PAGES:
                raise DatasetError(f"could not list osf.io/{self.node}: the listing loops at {page}")
            seen.add(page)
            listing = self._get_json(page, timeout)
            for item in listing["data"]:
                attrs = (item or {}).get("attributes") or {}
                if attrs.get("kind") == "folder":
                    name = attrs.get("name")
                    href = _href((((item.get("relationships") or {}).get("files") or {}).get("links") or {})
                                 .get("related"))
                    if not (isinstance(name, str) and _safe_rel(f"{prefix}{name}")) or href is None:
                        raise DatasetError(f"could not list osf.io/{self.node}: bad folder entry "
                                           f"{json.dumps(item)[:200]}")
                    out += self._walk(urllib.parse.urljoin(page, href), f"{prefix}{name}/", timeout, seen, depth + 1)
                elif attrs.get("kind") == "file" and self._wanted(str(attrs.get("name", ""))):
                    out.append(self._entry(item, prefix, page))
            page = _href((listing.get("links") or {}).get("next"))
            page = urllib.parse.urljoin(url, page) if page else None
        return out

    def list_upstream(self, base_url: str | None = None, timeout: float = 60.0) -> list[OsfFile]:
        """The wanted files of the project, sorted by path, from the API at ``base_url`` or OSF's."""
        entries = self._walk(self.listing_url(base_url), "", timeout, set())
        if not entries:
            raise DatasetError(f"osf.io/{self.node} has no file matching {self.pattern!r}")
        rels = [e.rel for e in entries]
        if len(set(rels)) != len(rels):
            raise DatasetError(f"could not list osf.io/{self.node}: the listing names a file twice")
        return sorted(entries, key=lambda e: e.rel)

    # -- the saved listing ------------------------------------------------------------------------

    def _write_listing(self, folder: Path, entries: list[OsfFile]) -> None:
        write_listing(folder / LISTING_NAME,
                      f"osf.io/{self.node} {self.storage}, files matching {self.pattern}; paths relative to this folder",
                      ["path", "hash", "digest", "size", "url"],
                      ([e.rel, e.hash_kind, e.digest, "" if e.size is None else e.size, e.url] for e in entries))

    def read_listing(self, data_dir: str | os.PathLike | None = None) -> list[OsfFile] | None:
        """The upstream listing saved by the last fetch, or None if there is none."""
        path = self.listing_path(data_dir)
        if not path.is_file():
            return None
        out = []
        for n, f in listing_rows(path):
            if len(f) != 5 or not _safe_rel(f[0]) or f[1] not in _HASHERS or not (f[3] == "" or f[3].isdigit()):
                raise DatasetError(f"{path}, line {n}: not a listing line; delete the file and run "
                                   f"`gamereplay data fetch {self.name}` again")
            out.append(OsfFile(f[0], f[4], f[1], f[2], int(f[3]) if f[3] else None))
        return out

    # -- the data-set interface -------------------------------------------------------------------

    def expected(self, data_dir: str | os.PathLike | None = None) -> list[Expected] | None:
        """The files of the saved OSF listing with their checksums; None without a listing."""
        listing = self.read_listing(data_dir)
        return None if listing is None else [e.expect() for e in listing]

    def local_files(self, data_dir: str | os.PathLike | None = None) -> list[str]:
        """The files the loaders may read (every file matching ``pattern``), relative to the folder."""
        folder = self.folder(data_dir)
        return [p.relative_to(folder).as_posix() for p in self._local_files(folder)]

    def status(self, data_dir: str | os.PathLike | None = None) -> dict[str, str]:
        """Each file's state by path: 'ok', 'missing' or 'checksum mismatch' against the saved listing;
        without one, each local matching file is 'unverified'."""
        expected = self.expected(data_dir)
        local = self.local_files(data_dir) if expected is None else ()
        return {c.rel: c.state for c in check_files(self.folder(data_dir), expected, local)}

    def summary(self, data_dir: str | os.PathLike | None = None) -> DataSummary:
        st = self.status(data_dir)
        if self.read_listing(data_dir) is None:
            if not st:
                return DataSummary("missing")
            return DataSummary("present", (f"{len(st)} file(s) matching {self.pattern}, not checked against "
                                           f"upstream (no {LISTING_NAME}; `gamereplay data fetch {self.name}` "
                                           "saves one)",))
        ok = sum(v == "ok" for v in st.values())
        lines = [f"{ok} of {len(st)} files ok"] + [f"{p}: {v}" for p, v in st.items() if v != "ok"]
        state = ("present" if st and ok == len(st) else
                 "missing" if all(v == "missing" for v in st.values()) else "incomplete")
        return DataSummary(state, tuple(lines))

    def require(self, data_dir: str | os.PathLike | None = None) -> Path:
        """The data set's folder if it holds a file matching ``pattern``, else a DatasetError saying what to do."""
        folder = self.folder(data_dir)
        if self._local_files(folder):
            return folder
        raise DatasetError(f"data set {self.name!r} not found in {folder} (no {self.pattern} file); run "
                           f"`gamereplay data fetch {self.name}` or point --data-dir / $GAMEREPLAY_DATA at a "
                           "folder that contains it")

    def fetch(self, data_dir: str | os.PathLike | None = None, base_url: str | None = None, force: bool = False,
              timeout: float = 60.0, *, from_clone: str | os.PathLike | None = None,
              progress: bool = True) -> FetchSummary:
        """Download every listed file that is not already there and verified; a failed file is reported, not fatal.

        ``from_clone`` copies the matching files of a local folder instead (e.g. an unzipped OSF download),
        verified against the saved listing where it names the same path.  Running the same fetch again
        retries only what failed.
        """
        folder = self.folder(data_dir)
        if from_clone is not None:
            return self._copy_local(Path(from_clone), folder, force, progress, data_dir)
        entries = self.list_upstream(base_url, timeout)
        clean_partials(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._write_listing(folder, entries)
        jobs, present = [], 0
        for e in entries:
            dest = folder / e.rel
            if not force and check_file(folder, e.expect()).state == "ok":
                present += 1
                continue
            big = progress and (e.size or 0) > CHUNK * 128
            jobs.append((e.rel, lambda e=e, dest=dest, big=big: download(
                e.url, dest, e.checksum(), timeout, {"User-Agent": "gamereplay"}, byte_progress=big)))
        return self._finish(folder, jobs, present, progress)

    def _copy_local(self, source: Path, folder: Path, force: bool, progress: bool,
                    data_dir: str | os.PathLike | None) -> FetchSummary:
        files = self._local_files(source)
        if not files:
            raise DatasetError(f"{source} has no file matching {self.pattern}; --from-clone wants a folder "
                               f"holding the files of osf.io/{self.node}")
        known = {e.rel: e for e in self.read_listing(data_dir) or []}
        clean_partials(folder)

        def copy(src: Path, dest: Path, e: OsfFile | None) -> None:
            try:
                write_verified(dest, read_chunks(src), e.checksum() if e else None, str(src))
            except OSError as exc:
                raise DatasetError(f"could not copy {src}: {exc}; nothing was written") from None

        jobs, present = [], 0
        for src in files:
            rel = src.relative_to(source).as_posix()
            dest = folder / rel
            if not force and dest.is_file() and filecmp.cmp(src, dest, shallow=False):
                present += 1
                continue
            jobs.append((rel, lambda src=src, dest=dest, e=known.get(rel): copy(src, dest, e)))
        return self._finish(folder, jobs, present, progress)

    def _finish(self, folder: Path, jobs: list, present: int, progress: bool) -> FetchSummary:
        done, failures = _run_jobs(jobs, self.workers, progress, self.name)
        summary = FetchSummary(folder, done, present, tuple(path for path, _ in failures))
        if failures:
            first = "; ".join(f"{path}: {msg}" for path, msg in failures[:3])
            raise PartialFetchError(
                f"{self.name}: {len(failures)} of {len(jobs)} files failed ({done} fetched and kept, {present} "
                f"already present); first: {first}; run `gamereplay data fetch {self.name}` again to retry only "
                "what is missing", summary)
        return summary
