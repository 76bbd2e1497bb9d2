"""The results store: a run directory whose predictions are parquet shards, written atomically.

A run's work is cut into *shards*: for each predictor (its name stands for model
+ prompt variant + settings) and each game family, the run's decisions of that
family in run order, ``shard_size`` at a time.  Each shard is written as
``shards/<predictor>/<family>/<index>.parquet`` through a temporary file and a
rename, so a shard on disk is always complete.  Re-running the same command after
a crash or Ctrl-C computes only the shards that are missing, and the final
predictions table is assembled from the shards in a fixed order — identical to
an uninterrupted run's.

``manifest.json`` records what the results belong to: the config's hash, each
predictor's spec hash, the decisions' hash (data + selection), package versions,
the project's git revision and what was read of the data (``sim.verify``: per
source its state and every file's SHA-256).  A run directory whose manifest
disagrees with the current config or decisions (data changed in place) is
refused unless the caller allows the change; then only the shards of predictors
whose spec (or the decisions) changed are discarded and everything else is kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from envs.records import DecisionPoint

MANIFEST = "manifest.json"
SHARDS = "shards"


class StoreError(RuntimeError):
    """The run directory holds results of another config (or is damaged); the message says what to do."""


def digest(obj: Any) -> str:
    """A stable hash of plain data (sorted-key JSON)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def git_revision(path: Path | None = None) -> str:
    """The project's git commit (with '+dirty' for uncommitted changes), or 'unknown' outside a checkout."""
    where = path or Path(__file__).resolve().parents[1]
    try:
        rev = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@dataclass(frozen=True)
class Shard:
    """One unit of work: a predictor's predictions for a slice of one family's decisions."""

    predictor: str
    family: str
    index: int
    decision_ids: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.predictor}/{self.family}/{self.index:05d}"


def plan(predictor: str, decisions: Sequence[DecisionPoint], shard_size: int) -> list[Shard]:
    """The shards of one predictor: per family (in order of first appearance), ``shard_size`` decisions each."""
    by_family: dict[str, list[str]] = {}
    for dp in decisions:
        by_family.setdefault(dp.family, []).append(dp.decision_id)
    out = []
    for family, ids in by_family.items():
        for i in range(0, len(ids), shard_size):
            out.append(Shard(predictor, family, i // shard_size, tuple(ids[i: i + shard_size])))
    return out


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


class RunStore:
    """Shards and manifest of one run directory; see the module docstring."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    # -- manifest --------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    def read_manifest(self) -> dict[str, Any] | None:
        if not self.manifest_path.exists():
            return None
        try:
            return json.loads(self.manifest_path.read_text())
        except json.JSONDecodeError as exc:
            raise StoreError(f"{self.manifest_path}: damaged manifest ({exc.msg}); use a new --out directory") from None

    def open(self, manifest: Mapping[str, Any], allow_change: bool = False) -> list[str]:
        """Bind this directory to ``manifest``; returns the predictors whose old shards were discarded.

        ``manifest`` must hold ``config_hash``, ``decisions_hash`` and ``predictor_hashes`` (name -> hash)."""
        self.root.mkdir(parents=True, exist_ok=True)
        old = self.read_manifest()
        dropped: list[str] = []
        same_data = old is None or old.get("decisions_hash") == manifest["decisions_hash"]
        if old is not None and (old.get("config_hash") != manifest["config_hash"] or not same_data):
            if not allow_change and old.get("config_hash") != manifest["config_hash"]:
                raise StoreError(
                    f"{self.root} holds results of another config (config hash {old.get('config_hash')} here, "
                    f"{manifest['config_hash']} now); use a new --out directory, or --allow-config-change to keep "
                    "the shards of unchanged predictors and recompute the rest")
            if not allow_change:  # same ids, other content: a shard that "has" its decisions would be reused
                raise StoreError(
                    f"{self.root} holds results of other decisions (the data changed: decisions hash "
                    f"{old.get('decisions_hash')} here, {manifest['decisions_hash']} now); use a new --out "
                    "directory, or --allow-config-change to recompute every predictor on the data as it is now")
            old_preds = old.get("predictor_hashes", {})
            for name in sorted(set(old_preds) | set(self._predictor_dirs())):
                if not same_data or old_preds.get(name) != manifest["predictor_hashes"].get(name):
                    self.discard(name)
                    dropped.append(name)
        self._write_json(self.manifest_path, dict(manifest))
        return dropped

    def update_manifest(self, **fields: Any) -> None:
        current = self.read_manifest() or {}
        self._write_json(self.manifest_path, {**current, **fields})

    # -- shards ----------------------------------------------------------------------------------
    def _predictor_dirs(self) -> list[str]:
        base = self.root / SHARDS
        return [p.name for p in base.iterdir() if p.is_dir()] if base.exists() else []

    def path(self, shard: Shard) -> Path:
        return self.root / SHARDS / _safe(shard.predictor) / _safe(shard.family) / f"{shard.index:05d}.parquet"

    def has(self, shard: Shard) -> bool:
        """A shard is done when its file exists and holds exactly its decisions (a shard plan that changed
        — other data, another shard size — does not pass)."""
        p = self.path(shard)
        if not p.exists():
            return False
        try:
            ids = pd.read_parquet(p, columns=["decision_id"])["decision_id"].tolist()
        except Exception:  # a damaged file is recomputed, never trusted
            return False
        return tuple(ids) == shard.decision_ids

    def write(self, shard: Shard, rows: pd.DataFrame) -> Path:
        """Write a shard atomically: temporary file in the same folder, then rename."""
        ids = tuple(rows["decision_id"])
        if ids != shard.decision_ids:
            raise ValueError(f"shard {shard.key}: rows do not match the shard's decisions")
        dest = self.path(shard)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        os.close(fd)
        try:
            rows.to_parquet(tmp, index=False)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return dest

    def read(self, shard: Shard) -> pd.DataFrame:
        return pd.read_parquet(self.path(shard))

    def discard(self, predictor: str) -> None:
        shutil.rmtree(self.root / SHARDS / _safe(predictor), ignore_errors=True)

    def assemble(self, shards: Iterable[Shard]) -> pd.DataFrame:
        """The predictions table from the shards that exist, in the order given (missing ones skipped)."""
        frames = [self.read(s) for s in shards if self.path(s).exists()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def clean_temporaries(self) -> int:
        """Remove temporary files a killed writer left behind; returns how many."""
        n = 0
        for p in (self.root / SHARDS).rglob(".*.tmp") if (self.root / SHARDS).exists() else ():
            p.unlink()
            n += 1
        return n

    @staticmethod
    def _write_json(path: Path, data: Mapping[str, Any]) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True, default=str))
        tmp.replace(path)
