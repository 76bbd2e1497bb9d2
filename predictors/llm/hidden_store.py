"""Hidden states kept on disk, so that probes are refitted without running the model again.

One file per model and weights (trained or random) in the run directory,
``hidden/<model>-<weights>.npz``: the decision ids, a digest of each decision's
prompt tokens (a changed prompt — another prompt variant, an intervention, other
data — is never served stale states), the block numbers, the model's depth and a
(decisions, blocks, hidden) float16 array.  ``load_or_compute`` reads it when it
covers the decisions and blocks asked for, and otherwise runs the model once and
writes it (through a temporary file and a rename, like the results store).
Without a run directory the states live only in this process.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from envs.records import DecisionPoint
from predictors.llm.hidden import resolve_layers

FOLDER = "hidden"
_MEMO: dict[tuple, "HiddenStates"] = {}  # (file or model key) -> states, shared by the probes of one process


@dataclass
class HiddenStates:
    ids: list[str]
    keys: list[str]  # per decision: digest of its prompt tokens
    blocks: list[int]
    depth: int
    states: np.ndarray  # (decisions, blocks, hidden) float16
    seconds: float  # the scoring pass that produced them (options scored too)
    path: Path | None = None

    def block(self, layer: float | int) -> int:
        return resolve_layers([layer], self.depth)[0]

    def covers(self, keys: dict[str, str], blocks: Sequence[int]) -> bool:
        have = dict(zip(self.ids, self.keys))
        return set(blocks) <= set(self.blocks) and all(have.get(i) == k for i, k in keys.items())

    def layer(self, block: int, ids: Sequence[str]) -> np.ndarray:
        """(len(ids), hidden) float16: one block's states for these decisions, in this order."""
        row = {d: r for r, d in enumerate(self.ids)}
        return self.states[[row[d] for d in ids], self.blocks.index(block)]

    def describe(self) -> dict[str, Any]:
        return {"decisions": len(self.ids), "blocks": self.blocks, "depth": self.depth, "dtype": str(self.states.dtype),
                "megabytes": round(self.states.nbytes / 1e6, 2), "seconds": round(self.seconds, 1),
                "file": str(self.path) if self.path else None}


def prompt_key(ids: Sequence[int]) -> str:
    return hashlib.sha256(np.asarray(ids, dtype=np.int64).tobytes()).hexdigest()[:16]


def _file(run_dir: Path, llm) -> Path:
    stem = re.sub(r"[^\w.+-]", "_", f"{llm.source.spec}-{llm.weights}")
    return run_dir / FOLDER / f"{stem}.npz"


def _read(path: Path) -> HiddenStates | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            return HiddenStates(z["ids"].tolist(), z["keys"].tolist(), z["blocks"].tolist(), int(z["depth"]),
                                z["states"], float(z["seconds"]), path)
    except (OSError, KeyError, ValueError):  # missing or damaged: computed again, never trusted
        return None


def _write(hs: HiddenStates, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez(tmp, ids=np.array(hs.ids), keys=np.array(hs.keys), blocks=np.array(hs.blocks),
                 depth=np.array(hs.depth), states=hs.states, seconds=np.array(hs.seconds))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_or_compute(llm, decisions: Sequence[DecisionPoint], layers: Sequence[float | int] | None,
                    run_dir: Path | None) -> HiddenStates:
    """The hidden states of ``llm`` (an ``LLMPredictor``) at ``decisions`` for ``layers``: from the run
    directory (or this process) when they are there for exactly these prompts, else computed and kept."""
    llm.load_tokenizer()
    keys = {dp.decision_id: prompt_key(llm.encode(dp)[0].prompt_ids) for dp in decisions}
    path = _file(run_dir, llm) if run_dir is not None else None
    memo = (str(path),) if path else (llm.source.spec, llm.weights)
    hs = _MEMO.get(memo) or (_read(path) if path and path.exists() else None)
    if hs is not None and hs.covers(keys, resolve_layers(layers, hs.depth)):
        _MEMO[memo] = hs
        return hs
    t = time.perf_counter()
    blocks, states, _ = llm.hidden_states(decisions, layers)
    hs = HiddenStates([dp.decision_id for dp in decisions], [keys[dp.decision_id] for dp in decisions], blocks,
                      llm.depth(), states, time.perf_counter() - t, path)
    if path is not None:
        _write(hs, path)
    _MEMO[memo] = hs
    return hs
