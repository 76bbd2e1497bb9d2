"""The data-set registry: what each data set is, where it comes from, and how to fetch it.

Three kinds of data set share one interface (``status``, ``summary``, ``require``, ``fetch``;
see ``sim.dataset_base.DataSource``):

- ``Dataset`` (here): a few pinned files, each checked against a SHA-256 written below;
- ``OsfDataset`` (``sim.osf``): the matching files of an OSF project, checked against the
  SHA-256 (or MD5) the OSF API lists;
- ``GitTreeDataset`` (``sim.github_tree``): every wanted file of a folder of a GitHub
  repository, checked against the git blob ids of the upstream tree.

Every file, whatever the kind, is written to a temporary name, verified, and only then renamed into
place (``sim.dataset_base.write_verified``), so an interrupted or corrupted download never
leaves a file that looks complete.  Each kind also says what it should hold (``expected``: path and
published checksum) and what the loaders read (``local_files``); ``status`` and a run's check of the
data it uses (``sim.verify``) both compare the two through ``sim.dataset_base.check_files``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sim.datadir import resolve_data_dir
from sim.dataset_base import (Checksum, DataSummary, DatasetError, Expected, FetchSummary, PartialFetchError,
                              check_file, check_files, download, read_chunks, sha256_of, write_verified)
from sim.github_tree import GitTreeDataset
from sim.osf import OsfDataset

__all__ = ["DATASETS", "DataSummary", "Dataset", "DatasetError", "FetchSummary", "GitTreeDataset", "OsfDataset",
           "PartialFetchError", "RemoteFile", "AnyDataset", "family_folder", "fetch", "get_dataset", "require", "sha256_of", "status", "summary"]


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set: its name in the folder, its path under the source, its checksum."""

    name: str
    remote_path: str
    sha256: str


@dataclass(frozen=True)
class Dataset:
    """A data set of a few pinned files, each with a SHA-256 fixed in this module."""

    name: str
    base_url: str
    files: tuple[RemoteFile, ...]
    description: str
    licence: str
    citation: str

    def url(self, f: RemoteFile, base_url: str | None = None) -> str:
        return (base_url or self.base_url).rstrip("/") + "/" + f.remote_path

    def folder(self, data_dir: str | os.PathLike | None = None) -> Path:
        return resolve_data_dir(data_dir) / self.name

    def expected(self, data_dir: str | os.PathLike | None = None) -> list[Expected]:
        """The pinned files with their SHA-256 (the same wherever the data directory is)."""
        return [Expected(f.name, "sha256", f.sha256) for f in self.files]

    def local_files(self, data_dir: str | os.PathLike | None = None) -> list[str]:
        """The files the loaders read: the pinned ones that are there."""
        folder = self.folder(data_dir)
        return [f.name for f in self.files if (folder / f.name).is_file()]

    def status(self, data_dir: str | os.PathLike | None = None) -> dict[str, str]:
        """Each file's state in the data directory: 'ok', 'missing' or 'checksum mismatch'."""
        return {c.rel: c.state for c in check_files(self.folder(data_dir), self.expected(data_dir))}

    def summary(self, data_dir: str | os.PathLike | None = None) -> DataSummary:
        st = self.status(data_dir)
        state = "present" if all(v == "ok" for v in st.values()) else (
            "missing" if all(v == "missing" for v in st.values()) else "incomplete")
        return DataSummary(state, tuple(f"{f}: {v}" for f, v in st.items() if v != "ok"))

    def require(self, data_dir: str | os.PathLike | None = None) -> Path:
        """The folder of the data set, or a DatasetError that tells the user how to get it."""
        folder = self.folder(data_dir)
        missing = [f.name for f in self.files if not (folder / f.name).exists()]
        if missing:
            raise DatasetError(f"data set {self.name!r} not found in {folder} (missing {', '.join(missing)}); "
                               f"run `gamereplay data fetch {self.name}` or point --data-dir / $GAMEREPLAY_DATA "
                               "at a folder that contains it")
        return folder

    def fetch(self, data_dir: str | os.PathLike | None = None, base_url: str | None = None, force: bool = False,
              timeout: float = 60.0, *, from_clone: str | os.PathLike | None = None) -> FetchSummary:
        """Download (or copy from a clone of the source repository) every file not already present and verified.

        Stops at the first failure: the files are few, and each one that verified stays.
        """
        folder = self.folder(data_dir)
        downloaded = present = 0
        for f in self.files:
            dest = folder / f.name
            if not force and check_file(folder, Expected(f.name, "sha256", f.sha256)).state == "ok":
                present += 1
                continue
            if from_clone is None:
                download(self.url(f, base_url), dest, Checksum.sha256(f.sha256), timeout, byte_progress=True)
            else:
                src = Path(from_clone) / f.remote_path
                try:
                    write_verified(dest, read_chunks(src), Checksum.sha256(f.sha256), str(src))
                except OSError as exc:
                    raise DatasetError(f"could not copy {src}: {exc}; nothing was written") from None
            downloaded += 1
        return FetchSummary(folder, downloaded, present)


AnyDataset = Dataset | GitTreeDataset | OsfDataset

_AKATA_LOOKUPS = "human_experiment/experiment/lookups/"
DATASETS: dict[str, AnyDataset] = {
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
    "glee": GitTreeDataset(
        name="glee",
        repo="eilamshapira/GLEE",
        ref="main",
        subdir="Data/human_vs_llm",
        file_names=("game.csv", "config.json"),
        description='GLEE human-vs-LLM bargaining, persuasion and negotiation logs (Shapira et al., "GLEE: A '
                    'Unified Framework and Benchmark for Language-based Economic Environments")',
        licence="see github.com/eilamshapira/GLEE",
        citation='Shapira et al., "GLEE: A Unified Framework and Benchmark for Language-based Economic '
                 'Environments"',
    ),
    "choices13k": Dataset(
        name="choices13k",
        base_url="https://raw.githubusercontent.com/jcpeterson/choices13k/main",
        files=(
            RemoteFile("c13k_selections.csv", "c13k_selections.csv",
                       "e21941718b83fd97a5997545489a66ce27bec3b3f62700a0774fb5f997fea5c7"),
            RemoteFile("c13k_problems.json", "c13k_problems.json",
                       "c6bdb0ae7e0d0ca127b649b4996a7a49b3d0c4c43e5f9a851677fe4527276632"),
        ),
        description="13,006 choices between two gambles, each answered by 15-33 people (median 16): 14,568 "
                    "rates of choosing gamble B (2,380 without feedback, 12,188 with feedback)",
        licence="no licence file upstream; cite Peterson et al. (2021)",
        citation="Peterson, Bourgin, Agrawal, Reichman & Griffiths (2021), Using large-scale experiments and "
                 "machine learning to discover theories of human decision-making, Science 372:1209-1214",
    ),
    "games2p2k": OsfDataset(
        name="games2p2k",
        node="xrvaw",
        description="2,416 one-shot two-player 2x2 games over the 12 Robinson-Goforth topologies, ~93,000 "
                    "decisions aggregated per game and role: rates of choosing the first strategy",
        licence="see osf.io/xrvaw",
        citation="Zhu, Peterson, Enke & Griffiths, Capturing the complexity of human strategic decision-making "
                 "with machine learning",
    ),
}


def get_dataset(name: str) -> AnyDataset:
    if name not in DATASETS:
        raise DatasetError(f"unknown data set {name!r}; known: {', '.join(sorted(DATASETS))}")
    return DATASETS[name]


def status(name: str, data_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """Each file's state in the data directory: 'ok', 'missing' or 'checksum mismatch'.

    For a GitHub-folder data set the files are those of the saved upstream listing; without one,
    the local files are listed as 'unverified'.
    """
    return get_dataset(name).status(data_dir)


def summary(name: str, data_dir: str | os.PathLike | None = None) -> DataSummary:
    """present / incomplete / missing, with the lines ``gamereplay data list`` prints under it."""
    return get_dataset(name).summary(data_dir)


def family_folder(family, data_dir: str | os.PathLike | None = None,
                  path: str | os.PathLike | None = None) -> Path:
    """Where ``family`` (an ``envs.family.Family``) reads its human log: an explicit local ``path`` (a run's
    ``data.path``), else its registered data set in the data directory, else the file or folder the family
    itself names (``Family.source``, e.g. a YAML family's ``data.path``)."""
    if path is not None:
        p = Path(path).expanduser()
        if not p.exists():
            raise DatasetError(f"data.path {p} does not exist (family {family.name!r})")
        return p
    if family.dataset:
        return require(family.dataset, data_dir)
    if family.source is not None:
        if not Path(family.source).exists():
            raise DatasetError(f"family {family.name!r} reads {family.source}, which does not exist")
        return Path(family.source)
    raise DatasetError(f"family {family.name!r} names no data set and no local file: set data.path in the run config")


def require(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The folder of a data set, or a DatasetError that tells the user how to get it."""
    return get_dataset(name).require(data_dir)


def fetch(name: str, data_dir: str | os.PathLike | None = None, base_url: str | None = None,
          force: bool = False, timeout: float = 60.0, *, from_clone: str | os.PathLike | None = None) -> Path:
    """Download a data set into the data directory; files already present and verified are kept.

    Returns the data set's folder; ``get_dataset(name).fetch(...)`` returns the counts as well.
    """
    return get_dataset(name).fetch(data_dir, base_url, force, timeout, from_clone=from_clone).folder
