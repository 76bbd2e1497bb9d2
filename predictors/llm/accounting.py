"""FLOP accounting for scoring paths: what was executed, what was useful, and the structural limit.

Counts follow the usual dense-transformer estimate (Kaplan et al. 2020, "Scaling laws
for neural language models", sec. 2.1): 2 x non-embedding parameters per token, 2 x
hidden x vocabulary per row of the language-model head, and 4 x (heads x head
dimension) per attention cell and layer (scores and weighted sum).

- *executed*: every token run, every head row computed, every attention cell of the
  (dense or block-sparse) mask — masked cells and padding included;
- *useful*: the same tokens, the head only at the rows that are read, and only the
  cells a token actually attends (its ancestors, within a sliding window);
- *structural limit*: the useful work of running each distinct trie node once — no
  scorer can do less and stay exact — timed at the machine's measured matmul rate.
  In the last decoder block a node nobody reads is needed only for its keys and
  values, so there the limit counts only the read nodes' query and output
  projections, MLP and attention (``Shape.tail``, ``read_rows``); a scorer that skips
  them (the engine) reports the rows it skipped as ``stats["tail_skipped"]``.

Needs only torch and the scorer's request types, so ``benchmarks/gpu_check.py`` can
use it on a machine with nothing but torch and transformers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from predictors.llm import packed_linear
from predictors.llm.read_rows import tail_params
from predictors.llm.scorer import ScoreRequest, layer_windows
from predictors.llm.trie import build_trie


@dataclass(frozen=True)
class Shape:
    body: int  # non-embedding parameters
    hidden: int
    vocab: int
    attention_width: int  # heads x head dimension, per layer
    windows: tuple[int | None, ...]  # per layer
    tail: int = 0  # weights of the last block only read rows need (read_rows.tail_params)


def shape_of(model) -> Shape:
    emb = {id(p) for m in (model.get_input_embeddings(), model.get_output_embeddings()) for p in m.parameters()}
    body = sum(p.numel() for p in model.parameters() if id(p) not in emb)
    cfg = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    return Shape(body, cfg.hidden_size, cfg.vocab_size, cfg.num_attention_heads * head_dim,
                 tuple(layer_windows(model)), tail_params(model))


def gflop(stats: dict, shape: Shape) -> tuple[float, float]:
    """(executed, useful) GFLOP from a scorer's ``stats``."""
    body = 2 * shape.body * stats["tokens"] - 2 * shape.tail * stats.get("tail_skipped", 0)
    executed = (body + 2 * shape.hidden * shape.vocab * stats["head_rows"]
                + 4 * shape.attention_width * stats["attention_cells"])
    useful = (body + 2 * shape.hidden * shape.vocab * stats["reads"]
              + 4 * shape.attention_width * stats["useful_cells"])
    return executed / 1e9, useful / 1e9


def read_sequences(requests: Sequence[ScoreRequest]) -> list[tuple[int, ...]]:
    """Every sequence whose next-token distribution is read (prompt, prompt + option prefixes)."""
    return [tuple(r.prompt_ids) + tuple(o[:j]) for r in requests for o in r.options for j in range(len(o))]


def structural_limit(requests: Sequence[ScoreRequest], shape: Shape) -> dict:
    """The useful work of running each distinct node of the requests' trie once."""
    trie = build_trie(read_sequences(requests))
    seen = trie.depth + 1
    read_seen = seen[np.array(sorted(trie.reads.values()), dtype=np.int64)]

    def cells_at(depths, w):
        return int(np.minimum(depths, w).sum()) if w else int(depths.sum())

    # every node in every block but the last; there only the read nodes (when the block allows it)
    last = read_seen if shape.tail else seen
    cells = sum(cells_at(seen, w) for w in shape.windows[:-1]) + cells_at(last, shape.windows[-1])
    stats = {"tokens": trie.size, "reads": len(trie.reads), "head_rows": len(trie.reads),
             "attention_cells": cells, "useful_cells": cells,
             "tail_skipped": trie.size - len(trie.reads) if shape.tail else 0}
    return {"nodes": trie.size, "reads": len(trie.reads), "gflop": gflop(stats, shape)[1]}


def causal_cells(n: int, window: int | None) -> int:
    """Attention cells of one causal forward over ``n`` tokens in one layer (within ``window``)."""
    if window is None or window >= n:
        return n * (n + 1) // 2
    return window * (window + 1) // 2 + (n - window) * window


def harness_work(requests: Sequence[ScoreRequest], shape: Shape) -> dict:
    """Estimated work of lm-evaluation-harness 0.4's ``HFLM.loglikelihood`` on these requests.

    The harness is not instrumented, so this counts what it computes by construction:
    one causal forward per distinct input — the context and the continuation without
    its last token; requests whose inputs are equal (one-token options of one prompt)
    share it through its logits cache — with the language-model head over the whole
    vocabulary at every position.  Set beside its measured time, it gives the rate at
    which the harness ran its work, so a speed-up over it splits into work not done
    (shared prefixes, the head only where read) and work done faster.
    """
    inputs = {tuple(r.prompt_ids) + tuple(o[:-1]) for r in requests for o in r.options}
    tokens = sum(len(s) for s in inputs)
    cells = sum(causal_cells(len(s), w) for s in inputs for w in shape.windows)
    stats = {"tokens": tokens, "head_rows": tokens, "reads": tokens, "attention_cells": cells, "useful_cells": cells}
    return {"inputs": len(inputs), "tokens": tokens, "gflop": gflop(stats, shape)[0]}


def matmul_peak(device: str | torch.device, dtype: torch.dtype, n: int = 2048, reps: int = 10) -> float:
    """The machine's dense matmul rate (GFLOP/s) at this dtype, measured now: the faster of torch's
    ``matmul`` and, on a CPU, oneDNN with a packed weight (``packed_linear``, what the engine uses there)."""
    device = str(device)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    ways = [lambda: a @ b]
    if device == "cpu" and dtype == torch.float32 and packed_linear.available():
        w = torch.ops.mkldnn._reorder_linear_weight(b, batch_size=n)
        ways.append(lambda: torch.ops.mkldnn._linear_pointwise(a, w, None, "none", [], ""))
    best = 0.0
    for way in ways:
        for _ in range(2):
            way()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(reps):
            way()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = max(best, 2 * n**3 * reps / (time.perf_counter() - t) / 1e9)
    return best
