"""Tree attention for the scoring engine: a packed trie fragment attends to its ancestors only.

Registered with transformers' ``AttentionInterface`` under ``gamereplay_tree`` and
switched on only for the engine's own forward passes (``TreeAttention.active``), so
the model's projections, rotary embeddings and norms are the model's own; only
which keys a query sees changes:

- the keys are the pass's own nodes, preceded by stored keys and values of trunk
  nodes computed in an earlier pass (``Unit.prefix``); a pass that computes trunk
  nodes stores theirs (``Unit.store``), so no prefix is ever computed twice;
- query node i sees key node j iff ``j <= i < end[j]`` in the trie's pre-order
  numbering (ancestor or self), and, on a sliding-window layer, iff also
  ``depth[i] - depth[j] < window``.

Two ways to apply that rule:

- ``dense``: the rule built by one broadcast comparison, cut into blocks of
  ``block_rows`` consecutive queries, each with only the key columns one of its
  queries sees (in pre-order those are few: the block's root-paths); each block's
  additive mask (in the model's dtype) goes to the model's own attention function
  (SDPA or eager; eager keeps Gemma-2's attention-logit soft-capping), so the masked
  cells left are those inside a block's gathered columns;
- ``sparse``: the same rule as a FlexAttention ``mask_mod`` turned into a block mask,
  so blocks with no ancestor pair are skipped and no N x N tensor exists.  Needs
  ``torch.compile`` (a GPU, or a C++ compiler on a CPU).

In the last layer, when the pass names its read rows (``PassLayout.read_rows``), only
those rows' queries run: the other nodes' outputs from that layer are never read
(``read_rows``).

The counts of executed and useful attention cells (summed over layers) are kept in
``stats`` for honest FLOP accounting in ``benchmarks/scoring.py``.
"""

from __future__ import annotations

import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import torch

from predictors.llm.scorer import layer_windows

NAME = "gamereplay_tree"
_ACTIVE: list["TreeAttention"] = []  # the pass being run (a stack of one)


@dataclass
class PassLayout:
    """Per-pass tensors (on the model's device) the mask rule needs; a pass is one packed sequence.

    q_id, q_depth: (1, N) pre-order ids and depths of the pass's nodes.
    k_id, k_end, k_depth: (1, P + N) for the keys: stored prefix nodes, then the pass's nodes.
    prefix_slots: (1, P) rows of the store.
    """

    q_id: torch.Tensor
    q_depth: torch.Tensor
    k_id: torch.Tensor
    k_end: torch.Tensor
    k_depth: torch.Tensor
    prefix_slots: torch.Tensor | None
    store_slots: torch.Tensor | None  # rows of the store this pass writes (batch of one), or None
    read_rows: torch.Tensor | None = None  # when set, the last layer's queries run at these rows only (read_rows)


def _inner_attention(module: torch.nn.Module, implementation: str) -> Callable:
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    if implementation in ALL_ATTENTION_FUNCTIONS and implementation != NAME:
        return ALL_ATTENTION_FUNCTIONS[implementation]
    return sys.modules[type(module).__module__].eager_attention_forward


_COMPILED: list[Callable] = []


def _flex(module, query, key, value, block_mask, scaling):
    """FlexAttention with the tree block mask: compiled (fused, blocks skipped) on CUDA.

    On a CPU it runs torch's reference implementation, which is exact but computes
    every score (inductor's CPU kernel for this mask fails to compile in torch 2.13):
    it is there so the sparse path is tested everywhere, not for speed.
    """
    from torch.nn.attention.flex_attention import flex_attention

    if query.device.type == "cuda":
        if not _COMPILED:
            _COMPILED.append(torch.compile(flex_attention, dynamic=True))
        fn = _COMPILED[0]
    else:
        fn = flex_attention
    heads, kv_heads = query.shape[1], key.shape[1]
    if heads & (heads - 1):  # GQA in the kernel wants a power-of-two head count
        key = key.repeat_interleave(heads // kv_heads, dim=1)
        value = value.repeat_interleave(heads // kv_heads, dim=1)
    cap = getattr(module, "attn_logit_softcapping", None)

    def softcap(score, b, h, q, k):
        return torch.tanh(score / cap) * cap

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="flex_attention called without torch.compile")
        out = fn(query, key, value, score_mod=softcap if cap else None, block_mask=block_mask,
                 scale=scaling, enable_gqa=key.shape[1] != heads)
    return out.transpose(1, 2).contiguous(), None


def _grouped_sdpa(query, key, value, mask, scaling):
    """SDPA with grouped-query heads folded into query rows: no key/value copies per head.

    Query heads ``g * i ... g * i + g - 1`` share key/value head ``i`` (transformers'
    ``repeat_kv``); stacking them as ``g`` times the rows of one head gives the same
    scores without repeating the keys and values ``g`` times.  ``mask`` is already stacked
    the same way, (B, 1, g * N, keys) (``TreeAttention._row_blocks``).  Returns (B, N, H, D).
    """
    b, h, n, d = query.shape
    kv = key.shape[1]
    q = query.reshape(b, kv, h // kv * n, d)
    out = torch.nn.functional.scaled_dot_product_attention(q, key, value, attn_mask=mask, scale=scaling)
    return out.reshape(b, h, n, d).transpose(1, 2)


def _tree_attention_forward(module, query, key, value, attention_mask, **kwargs):
    """The attention function transformers calls; delegates to the active engine's rule."""
    return _ACTIVE[-1].attend(module, query, key, value, **kwargs)


def register() -> None:
    from transformers import AttentionInterface

    AttentionInterface.register(NAME, _tree_attention_forward)


class TreeAttention:
    """Owns the key/value store of trunk nodes and applies the ancestor rule in each pass."""

    def __init__(self, model, sparse: bool = False, block_rows: int = 64):
        register()
        self.model, self.sparse, self.block_rows = model, sparse, block_rows
        cfg = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
        self.config = cfg
        self.implementation = getattr(cfg, "_attn_implementation", None) or "eager"
        if getattr(cfg, "attn_logit_softcapping", None) and not sparse:
            self.implementation = "eager"  # SDPA cannot soft-cap attention logits
        self.windows = layer_windows(model)
        self.store: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # layer -> (keys, values) of the trunk
        self.trunk_size = 0
        self.layout: PassLayout | None = None
        self._masks: dict = {}
        self.stats = {"attention_cells": 0, "useful_cells": 0}

    def reset(self, trunk_size: int) -> None:
        self.store.clear()
        self.trunk_size = trunk_size

    @contextmanager
    def active(self, layout: PassLayout) -> Iterator[None]:
        configs = {id(c): c for c in (self.model.config, self.config)}.values()
        saved = [(c, c._attn_implementation) for c in configs]
        self.layout, self._masks = layout, {}
        _ACTIVE.append(self)
        try:
            for c, _ in saved:
                c._attn_implementation = NAME
            yield
        finally:
            for c, impl in saved:
                c._attn_implementation = impl
            _ACTIVE.pop()
            self.layout, self._masks = None, {}

    # -- the rule ---------------------------------------------------------------------------
    def _allowed(self, window: int | None) -> torch.Tensor:
        """Boolean (B, N, P + N): which key each query sees, by one broadcast comparison."""
        lay = self.layout
        ok = (lay.k_id[:, None, :] <= lay.q_id[:, :, None]) & (lay.q_id[:, :, None] < lay.k_end[:, None, :])
        if window is not None:
            ok &= (lay.q_depth[:, :, None] - lay.k_depth[:, None, :]) < window
        return ok

    def _mask(self, window: int | None, n_query: int, n_key: int, dtype: torch.dtype, groups: int = 1,
              rows: torch.Tensor | None = None):
        """The mask of this pass for one window, with the cells it executes and those that are useful.

        Useful cells: each node whose output is used sees all its ancestors and itself
        (depth + 1 of them), or the last ``window`` of them on a sliding layer.  Dense: a
        list of row blocks, each with the key columns some query of the block sees
        (``_row_blocks``); with ``rows``, only those queries (in that order).
        """
        if (window, rows is not None) in self._masks:
            return self._masks[window, rows is not None]
        lay = self.layout
        seen = lay.q_depth + 1 if window is None else torch.clamp(lay.q_depth + 1, max=window)
        useful = int(seen.sum() if rows is None else seen[:, rows].sum())
        if self.sparse:
            from torch.nn.attention.flex_attention import create_block_mask

            q_id, q_depth, k_id, k_end, k_depth = lay.q_id, lay.q_depth, lay.k_id, lay.k_end, lay.k_depth

            def mask_mod(b, h, qi, ki):
                ok = (k_id[b, ki] <= q_id[b, qi]) & (q_id[b, qi] < k_end[b, ki])
                if window is not None:
                    ok = ok & ((q_depth[b, qi] - k_depth[b, ki]) < window)
                return ok

            mask = create_block_mask(mask_mod, q_id.shape[0], None, n_query, n_key, device=q_id.device)
            blocks = int(mask.kv_num_blocks.sum())
            if mask.full_kv_num_blocks is not None:
                blocks += int(mask.full_kv_num_blocks.sum())
            executed = blocks * mask.BLOCK_SIZE[0] * mask.BLOCK_SIZE[1]
        else:
            ok = self._allowed(window)
            mask = self._row_blocks(ok if rows is None else ok[:, rows], dtype, groups)
            executed = sum(m.numel() for _, _, _, m in mask) // groups
        self._masks[window, rows is not None] = (mask, executed, useful)
        return self._masks[window, rows is not None]

    def _row_blocks(self, ok: torch.Tensor, dtype: torch.dtype, groups: int = 1) -> list:
        """Cut the dense rule into blocks of ``block_rows`` queries, each with only the keys it needs.

        In pre-order a node's ancestors come before it, and a pass's nodes see only
        their own root-paths, so a block of consecutive queries needs few of the key
        columns: computing only those (gathered, as an additive mask in the model's
        dtype) skips most masked cells without a fused sparse kernel.
        With ``groups`` > 1 each mask is stacked ``groups`` times along its rows, as
        ``_grouped_sdpa`` stacks the query heads that share a key/value head.
        Returns (first row, end row, key columns or None for all, mask) per block.
        """
        n_query, n_key = ok.shape[1], ok.shape[2]
        out = []
        for a in range(0, n_query, self.block_rows):
            b = min(a + self.block_rows, n_query)
            part = ok[:, a:b]
            cols = part.any(dim=1).any(dim=0).nonzero().squeeze(1)
            if len(cols) * 10 > n_key * 9:  # nearly all: no gather
                cols = None
            else:
                part = part[:, :, cols]
            mask = torch.zeros(part.shape, dtype=dtype, device=ok.device).masked_fill_(~part, torch.finfo(dtype).min)
            if groups > 1:
                mask = mask.repeat(1, groups, 1)
            out.append((a, b, cols, mask[:, None]))
        return out

    def attend(self, module, query, key, value, **kwargs):
        lay = self.layout
        layer = module.layer_idx
        if lay.store_slots is not None:  # a trunk pass keeps its nodes' keys and values
            if layer not in self.store:
                shape = (key.shape[1], self.trunk_size, key.shape[3])
                self.store[layer] = (key.new_zeros(shape), value.new_zeros(shape))
            k_store, v_store = self.store[layer]
            k_store[:, lay.store_slots] = key[0]
            v_store[:, lay.store_slots] = value[0]
        if lay.prefix_slots is not None and lay.prefix_slots.shape[1]:
            k_store, v_store = self.store[layer]
            # (H, B, P, D) -> (B, H, P, D), then the pass's own keys after them
            key = torch.cat([k_store[:, lay.prefix_slots].transpose(0, 1), key], dim=2)
            value = torch.cat([v_store[:, lay.prefix_slots].transpose(0, 1), value], dim=2)
        window = self.windows[layer]
        grouped = self.implementation == "sdpa" and not kwargs.get("dropout")
        groups = query.shape[1] // key.shape[1] if grouped else 1
        rows = lay.read_rows if layer == len(self.windows) - 1 else None  # the last layer: read rows only
        mask, executed, useful = self._mask(window, query.shape[2], key.shape[2], query.dtype, groups, rows)
        self.stats["attention_cells"] += executed
        self.stats["useful_cells"] += useful
        kwargs.pop("sliding_window", None)  # the mask already applies it
        if self.sparse:
            return _flex(module, query, key, value, mask, kwargs.get("scaling"))
        if rows is None:
            return self._dense(module, query, key, value, mask, grouped, **kwargs), None
        out = query.new_zeros(query.shape[0], query.shape[2], query.shape[1], query.shape[3])  # (B, N, H, D)
        out[:, rows] = self._dense(module, query[:, :, rows], key, value, mask, grouped, **kwargs)
        return out, None

    def _dense(self, module, query, key, value, mask: list, grouped: bool, **kwargs) -> torch.Tensor:
        """Attention by row blocks, each with its gathered key columns; returns (B, N, H, D)."""
        inner = _inner_attention(module, self.implementation)
        out = query.new_empty(query.shape[0], query.shape[2], query.shape[1], query.shape[3])  # (B, N, H, D)
        for a, b, cols, blk in mask:
            k, v = (key, value) if cols is None else (key.index_select(2, cols), value.index_select(2, cols))
            if grouped:
                out[:, a:b] = _grouped_sdpa(query[:, :, a:b], k, v, blk, kwargs.get("scaling"))
            else:
                out[:, a:b] = inner(module, query[:, :, a:b], k, v, blk, **kwargs)[0]
        return out
