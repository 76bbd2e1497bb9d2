"""The data-set registry: what each data set is, where it comes from, and how to fetch it.

Each data set is a folder under the data directory holding files downloaded
from a public source.  ``fetch`` downloads every file to a temporary name,
checks its SHA-256 and only then renames it into place, so an interrupted or
corrupted download never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from sim.datadir import resolve_data_dir


class DatasetError(RuntimeError):
    """A data set is missing, unknown or failed to download; the message says what to do."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set: its name in the folder, its path under the source, its checksum."""

    name: str
    remote_path: str
    sha256: str


@dataclass(frozen=True)
class Dataset:
    name: str
    base_url: str
    files: tuple[RemoteFile, ...]
    description: str
    licence: str
    citation: str

    def url(self, f: RemoteFile, base_url: str | None = None) -> str:
        return (base_url or self.base_url).rstrip("/") + "/" + f.remote_path


_AKATA_LOOKUPS = "human_experiment/experiment/lookups/"
DATASETS: dict[str, Dataset] = {
    "akata2025_repeated_games": Dataset(
        name="akata2025_repeated_games",
        base_url="https://raw.githubusercontent.com/eliaka/repeatedgames/main",
        files=(
            RemoteFile("repgames.csv", "human_experiment/analysis/repgames.csv",
                       "f3c3d46a2e34f85f950bfdffd0d04d6c6fc748268c14e5700646e44b2d42d11a"),
            RemoteFile("pd_gpt4_lookup.json", _AKATA_LOOKUPS + "pd_gpt4_lookup.json",
                       "78a4395d7fa73e31d845610d10087ea17882801968047f1bee5288a4ee3c0b5b"),
            RemoteFile("bos_gpt4_lookup.json", _AKATA_LOOKUPS + "bos_gpt4_lookup.json",
                       "a3c6f3853e51d80cf58fe141b89c4056214147328bbce3b34beebe992fdd48ce"),
            RemoteFile("pd_variation_predict_gpt4_lookup.json",
                       _AKATA_LOOKUPS + "pd_variation_predict_gpt4_lookup.json",
                       "4855c0d90d9497626cbc2def79931ec864bc4b15edc4fde259526736fc4829c3"),
            RemoteFile("bos_variation_predict_gpt4_lookup.json",
                       _AKATA_LOOKUPS + "bos_variation_predict_gpt4_lookup.json",
                       "72a99d031f5400ee9f6ff7c673d8f853c9757a5a173807a9d2f4d59b8cf4b968"),
        ),
        description="195 people x 10 rounds of repeated Prisoner's Dilemma and Battle of the Sexes "
                    "against fixed GPT-4 strategies (3,900 decisions)",
        licence="MIT",
        citation="Akata et al. (2025), Playing repeated games with large language models, Nature Human Behaviour",
    ),
}


def get_dataset(name: str) -> Dataset:
    if name not in DATASETS:
        raise DatasetError(f"unknown data set {name!r}; known: {', '.join(sorted(DATASETS))}")
    return DATASETS[name]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def status(name: str, data_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """Each file's state in the data directory: 'ok', 'missing' or 'checksum mismatch'."""
    ds = get_dataset(name)
    folder = resolve_data_dir(data_dir) / ds.name
    out = {}
    for f in ds.files:
        p = folder / f.name
        out[f.name] = "missing" if not p.exists() else ("ok" if sha256_of(p) == f.sha256 else "checksum mismatch")
    return out


def require(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The folder of a data set, or a DatasetError that tells the user how to get it."""
    ds = get_dataset(name)
    folder = resolve_data_dir(data_dir) / ds.name
    missing = [f.name for f in ds.files if not (folder / f.name).exists()]
    if missing:
        raise DatasetError(f"data set {name!r} not found in {folder} (missing {', '.join(missing)}); "
                           f"run `gamereplay data fetch {name}` or point --data-dir / $GAMEREPLAY_DATA "
                           "at a folder that contains it")
    return folder


def _download(url: str, dest: Path, expected_sha256: str, timeout: float) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, leave=False) as bar:
                for chunk in iter(lambda: resp.read(1 << 16), b""):
                    out.write(chunk)
                    h.update(chunk)
                    bar.update(len(chunk))
        if h.hexdigest() != expected_sha256:
            raise DatasetError(f"{url}: checksum mismatch (got sha256 {h.hexdigest()[:16]}..., expected "
                               f"{expected_sha256[:16]}...); the upstream file changed or the download is "
                               "corrupt — nothing was written")
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DatasetError(f"could not download {url}: {exc}; nothing was written") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def fetch(name: str, data_dir: str | os.PathLike | None = None, base_url: str | None = None,
          force: bool = False, timeout: float = 60.0) -> Path:
    """Download a data set into the data directory; files already present and verified are kept."""
    ds = get_dataset(name)
    folder = resolve_data_dir(data_dir) / ds.name
    for f in ds.files:
        dest = folder / f.name
        if dest.exists() and not force and sha256_of(dest) == f.sha256:
            continue
        _download(ds.url(f, base_url), dest, f.sha256, timeout)
    return folder
