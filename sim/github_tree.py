"""A data set that is a folder of a GitHub repository: thousands of small files, no pinned checksums.

The file list comes from the GitHub REST API (git trees); each file is then downloaded from
raw.githubusercontent.com and checked against its git blob id from that listing, so what lands
on disk is byte for byte what the repository holds.  The listing is saved beside the data
(``LISTING.upstream.tsv``) so ``status`` can say what is complete without the network, and a
re-run downloads only what is missing or differs.  Upstream folder ``<subdir>`` lands as
``<data_dir>/<name>/<last part of subdir>/...``.

Unauthenticated API calls are limited to 60 an hour; a fetch makes a handful (one per part of
``subdir`` plus one, more only if GitHub truncates the listing).  ``$GITHUB_TOKEN`` raises the limit.
"""

from __future__ import annotations

import filecmp
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

from tqdm.auto import tqdm

from sim.datadir import resolve_data_dir
from sim.dataset_base import (Checksum, DataSummary, DatasetError, Expected, FetchSummary, PartialFetchError,
                              check_file, check_files, clean_partials, download, listing_rows, read_chunks,
                              write_listing, write_verified)

GITHUB_API = "https://api.github.com"
GITHUB_RAW = "https://raw.githubusercontent.com"
LISTING_NAME = "LISTING.upstream.tsv"
TOKEN_ENV = "GITHUB_TOKEN"
_SHA = re.compile(r"[0-9a-f]{40}")
_MAX_DEPTH = 64  # a folder nested deeper than this is a broken or hostile listing


@dataclass(frozen=True)
class TreeEntry:
    """One upstream file: its path below ``subdir`` (POSIX), git blob id and size in bytes."""

    rel: str
    sha: str
    size: int


def api_headers(api_base: str) -> dict[str, str]:
    """Headers for the trees API; the token goes to GitHub's own API only, never to a mirror."""
    headers = {"Accept": "application/vnd.github+json", "User-Agent": "gamereplay"}
    token = os.environ.get(TOKEN_ENV)
    if token and api_base.rstrip("/") == GITHUB_API:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _safe_rel(path: str) -> bool:
    """A listing path that stays inside the destination folder and fits a TSV line."""
    parts = path.split("/")
    return bool(path) and all(p not in ("", ".", "..") for p in parts) and not any(c in path for c in "\\\t\n\r\0")


def _run_jobs(jobs: list[tuple[str, Callable[[], None]]], workers: int, progress: bool,
              desc: str) -> tuple[int, list[tuple[str, str]]]:
    """Run every job, collecting DatasetErrors by label instead of stopping; (number done, failures)."""
    done, failures = 0, []
    if not jobs:
        return done, failures
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        futures = {pool.submit(action): label for label, action in jobs}
        with tqdm(total=len(jobs), unit="file", desc=desc, disable=not progress) as bar:
            for fut in as_completed(futures):
                try:
                    fut.result()
                    done += 1
                except DatasetError as exc:
                    failures.append((futures[fut], " ".join(str(exc).split())))
                bar.update(1)
    finally:  # on Ctrl-C: drop what has not started, let running ones finish (they clean up after themselves)
        pool.shutdown(wait=True, cancel_futures=True)
    return done, sorted(failures)


@dataclass(frozen=True)
class GitTreeDataset:
    """Every file named in ``file_names`` below folder ``subdir`` of GitHub repository ``repo`` at ``ref``.

    The first of ``file_names`` marks a usable copy: ``require`` wants at least one of them.
    """

    name: str
    repo: str
    ref: str
    subdir: str
    file_names: tuple[str, ...]
    description: str
    licence: str
    citation: str
    api_base: str = GITHUB_API
    raw_base: str = GITHUB_RAW
    workers: int = 8

    # -- where things are -------------------------------------------------------------------------

    @property
    def local_name(self) -> str:
        return PurePosixPath(self.subdir).name

    def folder(self, data_dir: str | os.PathLike | None = None) -> Path:
        return resolve_data_dir(data_dir) / self.name

    def listing_path(self, data_dir: str | os.PathLike | None = None) -> Path:
        return self.folder(data_dir) / LISTING_NAME

    def raw_url(self, rel: str, base_url: str | None = None) -> str:
        base = (base_url or self.raw_base).rstrip("/")
        return f"{base}/{self.repo}/{self.ref}/{urllib.parse.quote(f'{self.subdir}/{rel}')}"

    def _local_files(self, root: Path) -> list[Path]:
        if not root.is_dir():
            return []
        return sorted(p for p in root.rglob("*") if p.name in self.file_names and p.is_file())

    # -- listing ----------------------------------------------------------------------------------

    def _get_tree(self, api: str, sha: str, recursive: bool, timeout: float) -> dict:
        url = f"{api}/repos/{self.repo}/git/trees/{urllib.parse.quote(sha)}" + ("?recursive=1" if recursive else "")
        where = f"{self.repo}@{self.ref}:{self.subdir}"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=api_headers(api)),
                                        timeout=timeout) as resp:
                data = json.load(resp)
        except urllib.error.HTTPError as exc:
            if exc.code in (403, 429) and "Authorization" in api_headers(api):
                raise DatasetError(
                    f"GitHub API refused {url} (HTTP {exc.code}) although ${TOKEN_ENV} is set: the token may be "
                    f"invalid or its hourly limit spent; wait, or use --from-clone PATH with a local clone of "
                    f"github.com/{self.repo}") from None
            if exc.code in (403, 429):
                raise DatasetError(
                    f"GitHub API refused {url} (HTTP {exc.code}): unauthenticated requests are limited to 60 "
                    f"requests per hour; set ${TOKEN_ENV} to a GitHub token, wait, or use --from-clone PATH "
                    f"with a local clone of github.com/{self.repo}") from None
            raise DatasetError(f"could not list {where}: {url} answered HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DatasetError(f"could not list {where} from {url}: {reason}; nothing was written") from None
        except ValueError:
            raise DatasetError(f"could not list {where}: {url} did not answer JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("tree"), list):
            raise DatasetError(f"could not list {where}: {url} did not answer a git tree")
        return data

    def _entries(self, api: str, sha: str, prefix: str, timeout: float, depth: int = 0) -> list[TreeEntry]:
        """Every blob below tree ``sha``; when GitHub truncates the recursive listing, one sub-tree at a time."""
        if depth > _MAX_DEPTH:
            raise DatasetError(f"could not list {self.repo}@{self.ref}: folders nest deeper than {_MAX_DEPTH}")
        listing = self._get_tree(api, sha, True, timeout)
        if listing.get("truncated"):
            listing = self._get_tree(api, sha, False, timeout)
            out = []
            for e in listing["tree"]:
                if e.get("type") == "tree":
                    out += self._entries(api, str(e.get("sha")), f"{prefix}{e.get('path')}/", timeout, depth + 1)
                elif e.get("type") == "blob":
                    out.append(self._entry(prefix, e))
            return out
        return [self._entry(prefix, e) for e in listing["tree"] if e.get("type") == "blob"]

    def _entry(self, prefix: str, e: dict) -> TreeEntry:
        rel, sha, size = f"{prefix}{e.get('path')}", e.get("sha"), e.get("size")
        if not (_safe_rel(rel) and isinstance(sha, str) and _SHA.fullmatch(sha) and isinstance(size, int)):
            raise DatasetError(f"could not list {self.repo}@{self.ref}: bad tree entry {json.dumps(e)[:200]}")
        return TreeEntry(rel, sha, size)

    def list_upstream(self, base_url: str | None = None, timeout: float = 60.0) -> tuple[str, list[TreeEntry]]:
        """(tree id of ``subdir``, the wanted files below it), from the trees API at ``base_url`` or GitHub's."""
        api = (base_url or self.api_base).rstrip("/")
        sha, walked = self.ref, []
        for part in PurePosixPath(self.subdir).parts:  # one non-recursive call per level: small answers
            listing = self._get_tree(api, sha, False, timeout)
            walked.append(part)
            sha = next((str(e.get("sha")) for e in listing["tree"]
                        if e.get("path") == part and e.get("type") == "tree"), None)
            if sha is None:
                raise DatasetError(f"github.com/{self.repo} at {self.ref} has no folder {'/'.join(walked)}")
        entries = self._entries(api, sha, "", timeout)
        wanted = [e for e in entries if PurePosixPath(e.rel).name in self.file_names]
        if not wanted:
            raise DatasetError(f"github.com/{self.repo} at {self.ref} has no {' or '.join(self.file_names)} "
                               f"below {self.subdir}")
        return sha, sorted(wanted, key=lambda e: e.rel)

    # -- the saved listing ------------------------------------------------------------------------

    def _write_listing(self, folder: Path, tree_sha: str, entries: list[TreeEntry]) -> None:
        write_listing(folder / LISTING_NAME,
                      f"github.com/{self.repo} {self.ref} {self.subdir} tree {tree_sha}; paths relative to this folder",
                      ["path", "blob_sha", "size"], ([f"{self.local_name}/{e.rel}", e.sha, e.size] for e in entries))

    def read_listing(self, data_dir: str | os.PathLike | None = None) -> list[TreeEntry] | None:
        """The upstream listing saved by the last fetch, or None if there is none."""
        path = self.listing_path(data_dir)
        if not path.is_file():
            return None
        out = []
        for n, fields in listing_rows(path):
            prefix = self.local_name + "/"
            if (len(fields) != 3 or not fields[0].startswith(prefix) or not _SHA.fullmatch(fields[1])
                    or not fields[2].isdigit() or not _safe_rel(fields[0])):
                raise DatasetError(f"{path}, line {n}: not a listing line; delete the file and run "
                                   f"`gamereplay data fetch {self.name}` again")
            out.append(TreeEntry(fields[0][len(prefix):], fields[1], int(fields[2])))
        return out

    # -- the data-set interface -------------------------------------------------------------------

    def _expect(self, e: TreeEntry) -> Expected:
        return Expected(f"{self.local_name}/{e.rel}", "git blob sha", e.sha, e.size)

    def expected(self, data_dir: str | os.PathLike | None = None) -> list[Expected] | None:
        """The files of the saved upstream listing with their git blob ids; None without a listing."""
        listing = self.read_listing(data_dir)
        return None if listing is None else [self._expect(e) for e in listing]

    def local_files(self, data_dir: str | os.PathLike | None = None) -> list[str]:
        """The files the loaders read (every ``file_names`` file below the folder), relative to the folder."""
        folder = self.folder(data_dir)
        return [p.relative_to(folder).as_posix() for p in self._local_files(folder / self.local_name)]

    def status(self, data_dir: str | os.PathLike | None = None) -> dict[str, str]:
        """Each file's state, by path below the data set's folder: 'ok', 'missing' or 'checksum mismatch'
        against the saved upstream listing; without a listing, each local file is 'unverified'."""
        expected = self.expected(data_dir)
        local = self.local_files(data_dir) if expected is None else ()
        return {c.rel: c.state for c in check_files(self.folder(data_dir), expected, local)}

    def summary(self, data_dir: str | os.PathLike | None = None) -> DataSummary:
        """present / incomplete / missing, with counts per top-level folder (per game family for GLEE)."""
        root = self.folder(data_dir) / self.local_name
        st = self.status(data_dir)
        if self.read_listing(data_dir) is None:
            counts: dict[str, Counter] = defaultdict(Counter)
            for path in st:
                parts = path.split("/")
                counts[parts[1]][parts[-1]] += 1
            lines = [f"{fam}: " + ", ".join(f"{c[n]} {n}" for n in self.file_names) for fam, c in sorted(counts.items())]
            has_marker = any(c[self.file_names[0]] for c in counts.values())
            state = "present" if has_marker else ("incomplete" if counts else "missing")
            if counts:
                lines.append(f"not checked against upstream (no {LISTING_NAME}; "
                             f"`gamereplay data fetch {self.name}` saves one)")
            return DataSummary(state, tuple(lines))
        per: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
        for path, v in st.items():
            parts = path.split("/")
            per[parts[1]][parts[-1]][v] += 1
        lines = []
        for fam, by_name in sorted(per.items()):
            ok = sum(c["ok"] for c in by_name.values())
            total = sum(sum(c.values()) for c in by_name.values())
            detail = ", ".join(f"{n} {by_name[n]['ok']}/{sum(by_name[n].values())}" for n in self.file_names
                               if n in by_name)
            line = f"{fam}: {ok} of {total} files ok ({detail})"
            missing = sum(c["missing"] for c in by_name.values())
            differ = sum(c["checksum mismatch"] for c in by_name.values())
            if missing or differ:
                line += f"; {missing} missing, {differ} differ from upstream"
            lines.append(line)
        values = list(st.values())
        state = ("present" if values and all(v == "ok" for v in values) else
                 "missing" if not self._local_files(root) else "incomplete")
        return DataSummary(state, tuple(lines))

    def require(self, data_dir: str | os.PathLike | None = None) -> Path:
        """The data set's folder if it holds at least one ``file_names[0]``, else a DatasetError saying what to do."""
        folder = self.folder(data_dir)
        root = folder / self.local_name
        if root.is_dir() and next(root.rglob(self.file_names[0]), None) is not None:
            return folder
        raise DatasetError(f"data set {self.name!r} not found in {folder} (no {self.file_names[0]} under "
                           f"{self.local_name}/); run `gamereplay data fetch {self.name}` or point --data-dir / "
                           "$GAMEREPLAY_DATA at a folder that contains it")

    def fetch(self, data_dir: str | os.PathLike | None = None, base_url: str | None = None, force: bool = False,
              timeout: float = 60.0, *, from_clone: str | os.PathLike | None = None,
              progress: bool = True) -> FetchSummary:
        """Download (or copy from a local clone) every wanted file that is not already there and verified.

        ``base_url`` replaces both the API and the raw-file host (a mirror laid out like both).  A file that
        fails is reported, not fatal: the others are still fetched, then one PartialFetchError lists the
        failures; running the same fetch again retries only those.
        """
        folder = self.folder(data_dir)
        root = folder / self.local_name
        if from_clone is not None:
            return self._copy_clone(Path(from_clone), folder, root, force, progress)
        tree_sha, entries = self.list_upstream(base_url, timeout)
        clean_partials(folder)
        self._write_listing(folder, tree_sha, entries)
        jobs, present = [], 0
        for e in entries:
            dest = root / e.rel
            if not force and check_file(folder, self._expect(e)).state == "ok":
                present += 1
                continue
            url = self.raw_url(e.rel, base_url)
            jobs.append((f"{self.local_name}/{e.rel}",
                         lambda url=url, dest=dest, e=e: download(url, dest, Checksum.git_blob(e.sha, e.size), timeout,
                                                                  {"User-Agent": "gamereplay"})))
        return self._finish(folder, jobs, present, progress)

    def _copy_clone(self, clone: Path, folder: Path, root: Path, force: bool, progress: bool) -> FetchSummary:
        """Copy the wanted files of a local clone byte for byte (its line endings are whatever its checkout made)."""
        src_root = clone / self.subdir
        sources = self._local_files(src_root)
        if not sources:
            raise DatasetError(f"{clone} has no {' or '.join(self.file_names)} under {self.subdir}/; --from-clone "
                               f"wants the folder of a clone of github.com/{self.repo}")
        clean_partials(folder)

        def copy(src: Path, dest: Path) -> None:
            try:
                write_verified(dest, read_chunks(src), None, str(src))
            except OSError as exc:
                raise DatasetError(f"could not copy {src}: {exc}; nothing was written") from None

        jobs, present = [], 0
        for src in sources:
            rel = src.relative_to(src_root).as_posix()
            dest = root / rel
            if not force and dest.is_file() and filecmp.cmp(src, dest, shallow=False):
                present += 1
                continue
            jobs.append((f"{self.local_name}/{rel}", lambda src=src, dest=dest: copy(src, dest)))
        return self._finish(folder, jobs, present, progress)

    def _finish(self, folder: Path, jobs: list[tuple[str, Callable[[], None]]], present: int,
                progress: bool) -> FetchSummary:
        done, failures = _run_jobs(jobs, self.workers, progress, self.name)
        summary = FetchSummary(folder, done, present, tuple(path for path, _ in failures))
        if failures:
            first = "; ".join(f"{path}: {msg}" for path, msg in failures[:3])
            raise PartialFetchError(
                f"{self.name}: {len(failures)} of {len(jobs)} files failed ({done} fetched and kept, {present} "
                f"already present); first: {first}; run `gamereplay data fetch {self.name}` again to retry only "
                "what is missing", summary)
        return summary
