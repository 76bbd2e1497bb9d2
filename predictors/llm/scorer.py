"""Score decision options by their log-probability after a prompt, in batched forward passes.

Each option is scored by the log-probability of its full continuation (the sum
over its tokens); when every option is a single token, one forward pass over
the prompt scores them all.  The transformer body runs over every position, but
the language-model head (a 50k–260k-row matrix) only at the positions that are
read.  Batches are right-padded and sorted by length so padding stays small;
on CUDA an out-of-memory error halves the batch and retries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from predictors.llm.hidden import LayerTap


@dataclass(frozen=True)
class ScoreRequest:
    prompt_ids: tuple[int, ...]
    options: tuple[tuple[int, ...], ...]  # the continuation tokens of each option


@dataclass(frozen=True)
class ScoreResult:
    logprobs: tuple[float, ...]  # log P(option continuation | prompt)
    probs: tuple[float, ...]  # normalised over the options
    mass: float  # sum of P(option continuation | prompt): how much the model "chose" an option at all
    #: (layers, hidden) float16 residual stream at the prompt's last token, when the scorer was asked for it
    hidden: np.ndarray | None = None


def with_hidden(results: list[ScoreResult], hidden: Sequence[np.ndarray | None]) -> list[ScoreResult]:
    """The results with each request's hidden states attached (``predictors.llm.hidden``)."""
    return [replace(r, hidden=h) for r, h in zip(results, hidden)]


@dataclass(frozen=True)
class _Item:
    request: int
    ids: tuple[int, ...]
    positions: tuple[int, ...]  # where the next-token distribution is read
    targets: tuple[tuple[tuple[int, int], ...], ...]  # per position: (option index, token id)


def check_requests(requests: Sequence[ScoreRequest]) -> None:
    """Every request needs a prompt and options of at least one token."""
    for i, r in enumerate(requests):
        if not r.prompt_ids:
            raise ValueError(f"request {i}: empty prompt")
        if any(len(o) == 0 for o in r.options):
            raise ValueError(f"request {i}: an option has no tokens")


def results_from_sums(sums: Sequence[Sequence[float]], full: bool = True) -> list[ScoreResult]:
    """ScoreResults from each request's per-option scores.

    ``full``: the scores are log-probabilities (so the mass is their exp-sum); otherwise
    they are logits comparable only among the options, and the mass is unknown (NaN).
    """
    results = []
    for s in sums:
        m = max(s)
        z = sum(math.exp(x - m) for x in s)
        lps = tuple(s) if full else tuple(x - m - math.log(z) for x in s)
        mass = sum(math.exp(x) for x in s) if full else math.nan
        results.append(ScoreResult(lps, tuple(math.exp(x - m) / z for x in s), mass))
    return results


def _items(requests: Sequence[ScoreRequest]) -> list[_Item]:
    check_requests(requests)
    items = []
    for i, r in enumerate(requests):
        n = len(r.prompt_ids)
        if all(len(o) == 1 for o in r.options):
            items.append(_Item(i, r.prompt_ids, (n - 1,), (tuple((k, o[0]) for k, o in enumerate(r.options)),)))
            continue
        for k, o in enumerate(r.options):
            items.append(_Item(i, r.prompt_ids + o[:-1], tuple(range(n - 1, n - 1 + len(o))),
                               tuple(((k, t),) for t in o)))
    return items


def softcap(model) -> float | None:
    """The model's final-logit soft-capping value (Gemma), if any."""
    cfg = model.config
    cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    return getattr(cfg, "final_logit_softcapping", None)


def layer_windows(model) -> list[int | None]:
    """Each layer's attention window (None: the whole prefix), for counting useful attention cells."""
    cfg = model.config
    cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    window = getattr(cfg, "sliding_window", None)
    if getattr(cfg, "use_sliding_window", True) is False:
        window = None
    types = getattr(cfg, "layer_types", None) or ["sliding_attention" if window else "full_attention"] * \
        cfg.num_hidden_layers
    return [window if t == "sliding_attention" else None for t in types]


def causal_cells(length: int, window: int | None) -> int:
    """Attention cells a causal sequence of ``length`` tokens needs: each token sees itself and
    what precedes it (at most ``window`` tokens on a sliding layer)."""
    if window is None or window >= length:
        return length * (length + 1) // 2
    return window * (window + 1) // 2 + (length - window) * window


def apply_softcap(logits: torch.Tensor, cap: float | None) -> torch.Tensor:
    return torch.tanh(logits / cap) * cap if cap else logits


def read_logprobs(model, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                  rows: torch.Tensor, cols: torch.Tensor, full_logits: bool = False) -> torch.Tensor:
    """Log-softmax over the vocabulary at (row, col) positions, in float32.

    The head runs only at those positions unless ``full_logits`` (the model's own
    forward, logits everywhere — what a straightforward implementation does).
    """
    body = getattr(model, model.base_model_prefix, None)
    head = model.get_output_embeddings()
    if full_logits or body is None or head is None:
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[rows, cols].float()
    else:
        hidden = body(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits = apply_softcap(head(hidden[rows, cols]).float(), softcap(model))
    return torch.log_softmax(logits, dim=-1)


class Scorer:
    """Scores ScoreRequests with one causal LM."""

    def __init__(self, model, device: str | torch.device = "cpu", forward_batch: int = 8, pad_id: int = 0,
                 progress: bool = True, full_logits: bool = False, hidden_layers: Sequence[int] | None = None):
        self.model, self.device, self.forward_batch, self.pad_id = model, torch.device(device), forward_batch, pad_id
        self.progress, self.full_logits = progress, full_logits
        self.tap = LayerTap(model, hidden_layers) if hidden_layers else None
        self._hidden: dict[int, np.ndarray] = {}
        self.stats = {"tokens": 0, "head_rows": 0, "forwards": 0, "attention_cells": 0, "useful_cells": 0,
                      "reads": 0}
        self._windows = layer_windows(model)

    @torch.inference_mode()
    def _run(self, batch: list[_Item], out: list[list[float]]) -> None:
        width = max(len(it.ids) for it in batch)
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        rows, cols = [], []
        for b, it in enumerate(batch):
            ids[b, : len(it.ids)] = torch.tensor(it.ids)
            mask[b, : len(it.ids)] = 1
            rows += [b] * len(it.positions)
            cols += list(it.positions)
        args = (self.model, ids.to(self.device), mask.to(self.device), torch.tensor(rows, device=self.device),
                torch.tensor(cols, device=self.device), self.full_logits)
        if self.tap is None:
            lp = read_logprobs(*args).cpu()
        else:  # the prompt's last token is every item's first read position
            at = torch.arange(len(batch), device=self.device), torch.tensor([it.positions[0] for it in batch],
                                                                            device=self.device)
            with self.tap.reading(*at) as kept:
                lp = read_logprobs(*args).cpu()
            for it, h in zip(batch, self.tap.stack(kept)):
                self._hidden.setdefault(it.request, h)
        self.stats["tokens"] += int(mask.sum())
        self.stats["head_rows"] += int(mask.sum()) if self.full_logits else len(rows)
        self.stats["reads"] += len(rows)
        self.stats["forwards"] += 1
        self.stats["attention_cells"] += len(batch) * width * width * len(self._windows)
        self.stats["useful_cells"] += sum(causal_cells(len(it.ids), w) for it in batch for w in self._windows)
        j = 0
        for it in batch:
            for targets in it.targets:
                for k, tok in targets:
                    out[it.request][k] += float(lp[j, tok])
                j += 1

    def score(self, requests: Sequence[ScoreRequest], desc: str = "score") -> list[ScoreResult]:
        sums = [[0.0] * len(r.options) for r in requests]
        items = sorted(_items(requests), key=lambda it: len(it.ids))
        bar = tqdm(total=len(requests), desc=desc, unit="decision", disable=not self.progress)
        done_requests: set[int] = set()
        start = 0
        while start < len(items):
            batch = items[start: start + self.forward_batch]
            try:
                self._run(batch, sums)
            except torch.cuda.OutOfMemoryError:
                if self.forward_batch == 1:
                    raise
                torch.cuda.empty_cache()
                self.forward_batch = max(1, self.forward_batch // 2)  # _run adds nothing before it succeeds
                continue
            start += len(batch)
            new = {it.request for it in batch} - done_requests
            done_requests |= new
            bar.update(len(new))
        bar.close()
        results = results_from_sums(sums)
        if self.tap is not None:
            results = with_hidden(results, [self._hidden.pop(i) for i in range(len(requests))])
        return results
