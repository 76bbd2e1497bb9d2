"""The scoring engine: every distinct token prefix runs through the model once.

A straightforward scorer runs each decision's prompt separately, so the game's
rules and the shared history are paid for again at every decision (cost grows
with the square of the game's length), and it computes the language-model head
over the whole vocabulary at every position.  This engine

1. collects every sequence whose next-token distribution must be read (each
   prompt, and each prompt + the first tokens of a multi-token option),
2. merges them into a token trie — identical prefixes (the rules, the early
   rounds many people played alike, a trajectory's own earlier history) become
   shared nodes — verified token by token, never assumed from the text,
3. cuts the trie (in lexicographic order) into chunks of at most ``max_nodes``
   nodes and runs each chunk as one packed sequence in which every node attends
   exactly to its ancestors (a tree attention mask, with position ids = depth;
   sliding-window layers get the windowed version of the same mask),
4. applies the language-model head only at the read nodes — or, with
   ``need_mass=False``, only at the option tokens' rows.

The result equals a separate forward pass per prompt up to floating-point
round-off.  Because it relies on the model honouring a custom 4D attention mask,
the engine checks itself against the straightforward path on the first requests
of every run and falls back to that path (with a warning) if they disagree.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from predictors.llm.scorer import (ScoreRequest, ScoreResult, Scorer, apply_softcap, check_requests,
                                   results_from_sums, softcap)


def _lcp(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


@dataclass
class Chunk:
    """One packed trie fragment: node tokens, depths (positions), parents, and where to read."""

    tokens: np.ndarray
    depth: np.ndarray
    parent: np.ndarray
    reads: list[tuple[int, tuple[int, ...]]]  # (node index, sequence it ends)

    @property
    def size(self) -> int:
        return len(self.tokens)

    def ancestors(self) -> np.ndarray:
        """Boolean N x N matrix: row i marks node i and all its ancestors."""
        n = self.size
        anc = np.zeros((n, n), dtype=bool)
        for i in range(n):
            p = self.parent[i]
            if p >= 0:
                anc[i] = anc[p]
            anc[i, i] = True
        return anc


def build_chunks(sequences: Sequence[tuple[int, ...]], max_nodes: int = 1024) -> list[Chunk]:
    """Pack sorted distinct sequences into trie chunks of at most ``max_nodes`` nodes each.

    In lexicographic order, the nodes a sequence adds to the trie of the ones before it
    are exactly those past its longest common prefix with its predecessor.
    """
    seqs = sorted(set(sequences))
    chunks: list[Chunk] = []
    tokens: list[int] = []
    depth: list[int] = []
    parent: list[int] = []
    reads: list[tuple[int, tuple[int, ...]]] = []
    path: list[int] = []
    prev: tuple[int, ...] = ()

    def flush() -> None:
        if tokens:
            chunks.append(Chunk(np.array(tokens), np.array(depth), np.array(parent), list(reads)))
        tokens.clear(), depth.clear(), parent.clear(), reads.clear(), path.clear()

    for seq in seqs:
        if not seq:
            raise ValueError("cannot score an empty sequence")
        shared = _lcp(prev, seq) if tokens else 0
        if tokens and len(tokens) + len(seq) - shared > max_nodes:
            flush()
            shared = 0
        del path[shared:]
        for t in seq[shared:]:
            parent.append(path[-1] if path else -1)
            depth.append(len(path))
            tokens.append(t)
            path.append(len(tokens) - 1)
        reads.append((path[-1], seq))
        prev = seq
    flush()
    return chunks


def _window(model) -> tuple[list[str] | None, int | None]:
    cfg = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    window = getattr(cfg, "sliding_window", None)
    if getattr(cfg, "use_sliding_window", True) is False:
        window = None
    return getattr(cfg, "layer_types", None), window


class TrieEngine:
    """Exact option scoring with shared prefixes; same interface as ``Scorer``."""

    def __init__(self, model, device: str | torch.device = "cpu", max_nodes: int = 1536,
                 batch_nodes: int = 4096, pad_id: int = 0, need_mass: bool = True, progress: bool = True,
                 self_check: bool = True):
        self.model, self.device = model, torch.device(device)
        self.max_nodes, self.batch_nodes, self.pad_id = max_nodes, batch_nodes, pad_id
        self.need_mass, self.progress, self.self_check = need_mass, progress, self_check
        self.fallback: str | None = None
        self.stats = {"tokens": 0, "chunks": 0, "sequences": 0, "head_rows": 0, "attention_cells": 0}
        self._layer_types, self._window = _window(model)

    # -- the packed forward pass ------------------------------------------------------------
    def _masks(self, anc: torch.Tensor, depth: torch.Tensor):
        """The attention mask(s) for a batch: (B, 1, N, N) booleans, or a dict per layer type."""
        full = anc[:, None]
        if self._window is None:
            return full
        dist = depth[:, :, None] - depth[:, None, :]
        sliding = full & (dist < self._window)[:, None]
        if self._layer_types:
            return {t: (sliding if t == "sliding_attention" else full) for t in set(self._layer_types)}
        return sliding

    @torch.inference_mode()
    def _run(self, chunks: list[Chunk], targets: dict, read_lp: dict, full: bool = True) -> None:
        width = max(c.size for c in chunks)
        b = len(chunks)
        ids = torch.full((b, width), self.pad_id, dtype=torch.long)
        pos = torch.zeros((b, width), dtype=torch.long)
        anc = torch.zeros((b, width, width), dtype=torch.bool)
        anc[:, torch.arange(width), torch.arange(width)] = True  # padding attends to itself only
        rows, cols, seqs = [], [], []
        for k, c in enumerate(chunks):
            n = c.size
            ids[k, :n] = torch.from_numpy(c.tokens)
            pos[k, :n] = torch.from_numpy(c.depth)
            anc[k, :n, :n] = torch.from_numpy(c.ancestors())
            for node, seq in c.reads:
                rows.append(k)
                cols.append(node)
                seqs.append(seq)
        dev = self.device
        body = getattr(self.model, self.model.base_model_prefix)
        hidden = body(input_ids=ids.to(dev), position_ids=pos.to(dev),
                      attention_mask=self._masks(anc.to(dev), pos.to(dev))).last_hidden_state
        h = hidden[torch.tensor(rows, device=dev), torch.tensor(cols, device=dev)]
        head = self.model.get_output_embeddings()
        cap = softcap(self.model)
        if full:
            logits = apply_softcap(head(h).float(), cap)
            lp = torch.log_softmax(logits, dim=-1)
            for j, seq in enumerate(seqs):  # keep only the option tokens' values, not whole rows
                toks = sorted(targets[seq])
                for t, v in zip(toks, lp[j, toks].tolist()):
                    read_lp[(seq, t)] = v
        else:  # only the option rows of the head: logits, normalised over the options later
            for j, seq in enumerate(seqs):
                toks = sorted(targets[seq])
                w = head.weight[toks].float()
                logit = w @ h[j].float()
                if getattr(head, "bias", None) is not None:
                    logit = logit + head.bias[toks].float()
                logit = apply_softcap(logit, cap)
                for t, v in zip(toks, logit.tolist()):
                    read_lp[(seq, t)] = v
        self.stats["tokens"] += int(sum(c.size for c in chunks))
        self.stats["head_rows"] += len(seqs)
        self.stats["attention_cells"] += b * width * width
        self.stats["chunks"] += len(chunks)

    # -- public -----------------------------------------------------------------------------
    def _reads(self, requests: Sequence[ScoreRequest]) -> list[tuple[int, int, tuple[int, ...], int]]:
        check_requests(requests)
        out = []
        for i, r in enumerate(requests):
            for k, opt in enumerate(r.options):
                for j, t in enumerate(opt):
                    out.append((i, k, tuple(r.prompt_ids) + tuple(opt[:j]), t))
        return out

    def _score(self, requests: Sequence[ScoreRequest], desc: str) -> list[ScoreResult]:
        reads = self._reads(requests)
        # Option-rows-only scoring is exact for the normalised distribution only when every
        # option is one token (one softmax); otherwise each position needs its own normaliser.
        full = self.need_mass or any(len(o) > 1 for r in requests for o in r.options)
        chunks = sorted(build_chunks([s for _, _, s, _ in reads], self.max_nodes), key=lambda c: c.size)
        self.stats["sequences"] += len({s for _, _, s, _ in reads})
        read_lp: dict = {}
        targets: dict = {}
        for _, _, seq, t in reads:
            targets.setdefault(seq, set()).add(t)
        waiting: dict = {}  # sequence -> requests that read it; a request is done when all its reads are
        left = [0] * len(requests)
        for i, _, seq, _ in reads:
            waiting.setdefault(seq, []).append(i)
            left[i] += 1
        bar = tqdm(total=len(requests), desc=desc, unit="decision", disable=not self.progress)
        start = 0
        while start < len(chunks):
            batch = [chunks[start]]
            while (start + len(batch) < len(chunks)
                   and chunks[start + len(batch)].size * (len(batch) + 1) <= self.batch_nodes):
                batch.append(chunks[start + len(batch)])
            try:
                self._run(batch, targets, read_lp, full)
            except torch.cuda.OutOfMemoryError:
                if self.batch_nodes <= chunks[start].size:
                    raise
                torch.cuda.empty_cache()
                self.batch_nodes = max(chunks[start].size, self.batch_nodes // 2)
                continue
            start += len(batch)
            finished = 0
            for c in batch:
                for _, seq in c.reads:
                    for i in waiting[seq]:
                        left[i] -= 1
                        finished += left[i] == 0
            bar.update(finished)
        bar.close()
        sums = [[0.0] * len(r.options) for r in requests]
        for i, k, seq, t in reads:
            sums[i][k] += read_lp[(seq, t)]
        return results_from_sums(sums, full)

    def _check(self, requests: Sequence[ScoreRequest]) -> bool:
        """Compare the engine with the straightforward path on the shortest, a middle and the longest request."""
        order = sorted(range(len(requests)), key=lambda i: len(requests[i].prompt_ids))
        sample = [requests[i] for i in sorted({order[0], order[len(order) // 2], order[-1]})]
        ref = Scorer(self.model, self.device, forward_batch=1, pad_id=self.pad_id, progress=False).score(sample)
        got = self._score(sample, "self-check")
        return all(max(abs(a - b) for a, b in zip(g.probs, r.probs)) < 1e-3 for g, r in zip(got, ref))

    def score(self, requests: Sequence[ScoreRequest], desc: str = "score") -> list[ScoreResult]:
        if self.self_check and self.fallback is None and requests:
            self.self_check = False
            try:
                ok = self._check(requests)
                why = "results differ from separate forward passes"
            except (TypeError, ValueError, RuntimeError) as exc:  # the model rejects packed masks
                ok, why = False, f"{type(exc).__name__}: {exc}"
            if not ok:
                self.fallback = why
                warnings.warn(f"prefix-sharing engine disabled for this model ({why}); "
                              "scoring each prompt separately", RuntimeWarning, stacklevel=2)
        if self.fallback is not None:
            return Scorer(self.model, self.device, forward_batch=8, pad_id=self.pad_id,
                          progress=self.progress).score(requests, desc)
        return self._score(requests, desc)
