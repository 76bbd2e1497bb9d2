"""The scoring engine: every distinct token prefix runs through the model exactly once.

A straightforward scorer runs each decision's prompt separately, so the game's
rules and the shared history are paid for again at every decision (cost grows
with the square of the game's length), and it computes the language-model head
over the whole vocabulary at every position.  This engine

1. collects every sequence whose next-token distribution must be read (each
   prompt, and each prompt + the first tokens of a multi-token option),
2. merges them into a token trie (``trie.build_trie``) — identical prefixes (the
   rules, the early rounds many people played alike, a trajectory's own earlier
   history) become shared nodes — verified token by token, never assumed from the text,
3. plans the passes (``trie.plan``): nodes whose subtree is too big for one pass (the
   trunk) run first and keep their keys and values; the rest are packed into chunks of
   at most ``max_nodes`` nodes that attend to the stored trunk above them, so no node
   is computed twice; consecutive chunks share a pass as one sequence (``packed``), so
   no padding token runs,
4. runs each pass with tree attention (``tree_attention``): every node attends
   exactly to its ancestors (position ids = depth; sliding-window layers get the
   windowed rule), through a dense mask cut into row blocks that gather only the keys
   they see, or a sparse FlexAttention block mask,
5. runs the last decoder block past its key and value projections only at the read
   nodes (``read_rows``: elsewhere it only supplies keys and values), and applies the
   language-model head only there — or, with ``need_mass=False``, only at the option
   tokens' rows.

On a CPU the decoder's linear layers run through oneDNN with weights packed once
(``packed_linear``) and freed activations stay paged in (``cpu_memory``).

The result equals a separate forward pass per prompt up to floating-point
round-off.  Because it relies on the model calling transformers' attention
interface, the engine checks itself against the straightforward path on the first
requests of every run and falls back to that path (with a warning) if they disagree.
"""

from __future__ import annotations

import warnings
from contextlib import nullcontext
from typing import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from predictors.llm.cpu_memory import keep_freed_memory
from predictors.llm.hidden import LayerTap
from predictors.llm.packed_linear import packed_linears, worth_packing
from predictors.llm.read_rows import ReadRows
from predictors.llm.scorer import (ScoreRequest, ScoreResult, Scorer, apply_softcap, check_requests,
                                   results_from_sums, softcap, with_hidden)
from predictors.llm.tree_attention import PassLayout, TreeAttention
from predictors.llm.trie import Plan, Unit, build_trie, plan


def sparse_available(device: torch.device) -> bool:
    """FlexAttention block masks pay off where torch.compile makes fused kernels: CUDA."""
    try:
        import torch.nn.attention.flex_attention  # noqa: F401
    except ImportError:
        return False
    return device.type == "cuda"


# (on CUDA, sparse) -> nodes per pass.  On 2 CPU cores with SmolLM2, 400 decisions, dense row
# blocks of 64 queries: 512 nodes 40.6 s, 1024 39.1 s, 2048 39.9 s (before row blocks: 512 nodes
# 37-42 s, 1536 45 s, masked cells 13% / 33% of the attention work).
DEFAULT_NODES = {(False, False): 1024, (False, True): 512, (True, False): 2048, (True, True): 8192}
# on CUDA -> queries per dense row block (tree_attention._row_blocks): small blocks skip more
# masked cells, large ones launch fewer kernels.  CPU: 64 measured (40.6 s vs 42.2 s at 128); CUDA:
# 256 unmeasured (no GPU yet: benchmarks/gpu_check.py).
BLOCK_ROWS = {False: 64, True: 256}


def packed(units: list[Unit]) -> Unit:
    """Several chunks as one sequence of a pass: no padding rows, their stored prefixes merged.

    The ancestor rule is on pre-order ids, so nodes of different chunks never see each
    other; one row instead of a padded (chunks x longest) batch runs only real tokens.
    """
    if len(units) == 1:
        return units[0]
    # the plan's chunks are consecutive pre-order ranges, so their nodes stay increasing when joined
    return Unit(np.concatenate([u.nodes for u in units]), np.unique(np.concatenate([u.prefix for u in units])),
                reads=[r for u in units for r in u.reads])


class TrieEngine:
    """Exact option scoring with shared prefixes; same interface as ``Scorer``.

    ``attention``: "dense" (a full mask, fastest on a CPU), "sparse" (FlexAttention
    block masks: no N x N tensor, blocks without an ancestor pair skipped; needs
    torch.compile) or "auto" (sparse on CUDA, dense elsewhere).  ``max_nodes``: nodes
    per pass (default by device and attention, ``DEFAULT_NODES``): smaller passes
    compute fewer masked cells, larger ones keep the matrix units busy;
    ``batch_nodes``: consecutive chunks are packed into one sequence of up to this many
    nodes per pass (``packed``: no padding rows).  ``packed_weights``: run the decoder's
    linear layers through oneDNN with weights packed once (``packed_linear``; default: on
    a CPU when available and affordable).  ``read_rows_only``: the last block's query,
    attention, output projection and MLP only at the read nodes (``read_rows``; on when
    the block has that shape).
    """

    def __init__(self, model, device: str | torch.device = "cpu", max_nodes: int | None = None,
                 batch_nodes: int = 4096, pad_id: int = 0, need_mass: bool = True, progress: bool = True,
                 self_check: bool = True, attention: str = "auto", hidden_layers: Sequence[int] | None = None,
                 packed_weights: bool | None = None, read_rows_only: bool = True):
        if attention not in ("auto", "dense", "sparse"):
            raise ValueError(f"attention must be auto, dense or sparse, not {attention!r}")
        self.model, self.device = model, torch.device(device)
        if self.device.type == "cpu":
            keep_freed_memory()  # activations stay paged in between layers (cpu_memory)
        self.need_mass, self.progress, self.self_check = need_mass, progress, self_check
        self.sparse = attention == "sparse" or (attention == "auto" and sparse_available(self.device))
        if max_nodes is None:  # measured: benchmarks/scoring.py (CPU), benchmarks/gpu_check.py (CUDA)
            max_nodes = DEFAULT_NODES[(self.device.type == "cuda", self.sparse)]
        self.max_nodes, self.batch_nodes, self.pad_id = max_nodes, batch_nodes, pad_id
        self.fallback: str | None = None
        self.hidden_layers = list(hidden_layers) if hidden_layers else None
        self.tap = LayerTap(model, self.hidden_layers) if self.hidden_layers else None
        self._prompts: set[tuple[int, ...]] = set()  # sequences whose hidden states are kept (each prompt)
        self._hidden: dict[tuple[int, ...], np.ndarray] = {}
        if packed_weights is None:
            packed_weights = worth_packing(model, self.device)
        self.linears = packed_linears(model) if packed_weights else None  # oneDNN on a CPU (packed_linear)
        self.tail = ReadRows(model) if read_rows_only else None
        if self.tail is not None and not self.tail.parts:
            self.tail = None
        self.tree = TreeAttention(model, sparse=self.sparse, block_rows=BLOCK_ROWS[self.device.type == "cuda"])
        self.stats = {"tokens": 0, "nodes": 0, "chunks": 0, "sequences": 0, "head_rows": 0, "reads": 0,
                      "attention_cells": 0, "useful_cells": 0, "tail_skipped": 0}

    # -- one packed forward pass ------------------------------------------------------------
    def _layout(self, unit: Unit, plan_: Plan, cols: list[int]) -> tuple[torch.Tensor, torch.Tensor, PassLayout]:
        """One unit as a batch of one sequence: its nodes, after the stored prefix keys they see.

        ``cols``: the positions of its read nodes (the last layer's rows when ``read_rows_only``).
        """
        trie, dev = plan_.trie, self.device
        nodes, prefix = unit.nodes, unit.prefix
        keys = np.concatenate([prefix, nodes])

        def t(x):
            return torch.from_numpy(np.ascontiguousarray(x)[None]).to(dev)

        read_rows = (torch.tensor(sorted(set(cols)), dtype=torch.long, device=dev)
                     if self.tail is not None else None)

        lay = PassLayout(q_id=t(nodes), q_depth=t(trie.depth[nodes]), k_id=t(keys), k_end=t(trie.end[keys]),
                         k_depth=t(trie.depth[keys]),
                         prefix_slots=t(np.searchsorted(plan_.trunk, prefix)) if len(prefix) else None,
                         store_slots=(torch.from_numpy(np.searchsorted(plan_.trunk, nodes)).to(dev)
                                      if unit.store else None), read_rows=read_rows)
        return t(trie.tokens[nodes]), lay.q_depth, lay

    @torch.inference_mode()
    def _run(self, unit: Unit, plan_: Plan, targets: dict, read_lp: dict, full: bool = True) -> None:
        seqs = [seq for _, seq in unit.reads]
        # a unit's nodes are increasing: a read node's column is a binary search
        cols = [int(c) for c in np.searchsorted(unit.nodes, [node for node, _ in unit.reads])]
        rows = [0] * len(cols)
        ids, pos, layout = self._layout(unit, plan_, cols)
        dev = self.device
        body = getattr(self.model, self.model.base_model_prefix)
        unused = torch.ones((1, 1, 1, 1), dtype=torch.bool, device=dev)  # the tree rule replaces any mask
        before = dict(self.tree.stats)
        # the contexts nest: the read-rows wrappers call the packed forwards inside them
        with self.tree.active(layout), (self.linears.active() if self.linears else nullcontext()), \
                (self.tail.only(layout.read_rows) if self.tail else nullcontext()):
            if self.tap is None:
                hidden = body(input_ids=ids, position_ids=pos, attention_mask=unused).last_hidden_state
            else:  # the residual stream at the prompts' last tokens, from this same pass
                at = [j for j, seq in enumerate(seqs) if seq in self._prompts]
                where = (torch.tensor([rows[j] for j in at], dtype=torch.long, device=dev),
                         torch.tensor([cols[j] for j in at], dtype=torch.long, device=dev))
                with self.tap.reading(*where) as kept:
                    hidden = body(input_ids=ids, position_ids=pos, attention_mask=unused).last_hidden_state
                if at:
                    self._hidden.update(zip((seqs[j] for j in at), self.tap.stack(kept)))
        if seqs:
            self._head(hidden[torch.tensor(rows, device=dev), torch.tensor(cols, device=dev)], seqs,
                       targets, read_lp, full)
        self.stats["tokens"] += unit.size
        if self.tail is not None:
            self.stats["tail_skipped"] += unit.size - len(layout.read_rows)
        self.stats["head_rows"] += len(seqs)
        self.stats["reads"] += len(seqs)
        self.stats["chunks"] += 1
        for key in ("attention_cells", "useful_cells"):
            self.stats[key] += self.tree.stats[key] - before[key]

    def _head(self, h: torch.Tensor, seqs: list, targets: dict, read_lp: dict, full: bool) -> None:
        head = self.model.get_output_embeddings()
        cap = softcap(self.model)
        if full:
            logits = apply_softcap(head(h).float(), cap)
            lp = torch.log_softmax(logits, dim=-1)
            for j, seq in enumerate(seqs):  # keep only the option tokens' values, not whole rows
                toks = sorted(targets[seq])
                for t, v in zip(toks, lp[j, toks].tolist()):
                    read_lp[(seq, t)] = v
            return
        for j, seq in enumerate(seqs):  # only the option rows of the head: logits, normalised later
            toks = sorted(targets[seq])
            logit = head.weight[toks].float() @ h[j].float()
            if getattr(head, "bias", None) is not None:
                logit = logit + head.bias[toks].float()
            for t, v in zip(toks, apply_softcap(logit, cap).tolist()):
                read_lp[(seq, t)] = v

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
        plan_ = plan(build_trie([s for _, _, s, _ in reads]), self.max_nodes)
        self._prompts = {tuple(r.prompt_ids) for r in requests} if self.tap is not None else set()
        self.stats["sequences"] += len(plan_.trie.reads)
        self.stats["nodes"] += plan_.trie.size
        self.tree.reset(len(plan_.trunk))
        trunk = [u for u in plan_.units if u.store]
        chunks = [u for u in plan_.units if not u.store]  # in pre-order: neighbours share prefixes
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

        def done(batch: list[Unit]) -> None:
            finished = 0
            for u in batch:
                for _, seq in u.reads:
                    for i in waiting[seq]:
                        left[i] -= 1
                        finished += left[i] == 0
            bar.update(finished)

        for u in trunk:  # in pre-order: each piece's outside ancestors are already stored
            self._run(u, plan_, targets, read_lp, full)
            done([u])
        start = 0
        while start < len(chunks):
            batch = [chunks[start]]
            size = chunks[start].size
            while start + len(batch) < len(chunks) and size + chunks[start + len(batch)].size <= self.batch_nodes:
                size += chunks[start + len(batch)].size
                batch.append(chunks[start + len(batch)])
            try:
                self._run(packed(batch), plan_, targets, read_lp, full)
            except torch.cuda.OutOfMemoryError:
                if len(batch) == 1:
                    raise
                torch.cuda.empty_cache()
                self.batch_nodes = max(chunks[start].size, self.batch_nodes // 2)
                continue
            start += len(batch)
            done(batch)
        bar.close()
        self.tree.reset(0)
        sums = [[0.0] * len(r.options) for r in requests]
        for i, k, seq, t in reads:
            sums[i][k] += read_lp[(seq, t)]
        results = results_from_sums(sums, full)
        if self.tap is not None:
            results = with_hidden(results, [self._hidden[tuple(r.prompt_ids)] for r in requests])
            self._hidden, self._prompts = {}, set()
        return results

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
            return Scorer(self.model, self.device, forward_batch=8, pad_id=self.pad_id, progress=self.progress,
                          hidden_layers=self.hidden_layers).score(requests, desc)
        return self._score(requests, desc)
