"""The last decoder block at the read rows only: elsewhere it is needed just for its keys and values.

A node's output from the last block is used only where the next-token distribution
is read; every other node enters the last block only as a key and value its
descendants attend to.  So in the last block, at the rows nobody reads, the query
projection, the attention, the output projection and the MLP are wasted work — for
SmolLM2 (30 blocks) 94% of the last block's weights, 3% of the whole forward.
``ReadRows.only(rows)`` runs those parts at the given rows and gives zeros elsewhere
(finite values that nothing reads); the key and value projections still run
everywhere, so stored keys and values are complete.  The attention itself skips the
unread rows in ``tree_attention`` (``PassLayout.read_rows``).

It applies to decoder blocks with ``self_attn.q_proj``, ``self_attn.o_proj`` and
``mlp`` (Llama, Mistral, Qwen, Gemma); a block of another shape keeps every row
(``ReadRows.parts`` is empty), and the engine's self-check would catch a block
that uses the skipped rows in a way this does not foresee.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch

from predictors.llm.hidden import decoder_blocks


def tail_parts(model) -> list[torch.nn.Module]:
    """The last block's query projection, output projection and MLP, or [] when it has another shape."""
    try:
        block = decoder_blocks(model)[-1]
    except ValueError:
        return []
    attn = getattr(block, "self_attn", None)
    parts = [getattr(attn, "q_proj", None), getattr(attn, "o_proj", None), getattr(block, "mlp", None)]
    return parts if all(isinstance(p, torch.nn.Module) for p in parts) else []


def tail_params(model) -> int:
    """Weights of the last block that only read rows need (0 when ``tail_parts`` finds none)."""
    return sum(p.numel() for m in tail_parts(model) for p in m.parameters())


class ReadRows:
    """Switches the last block's query projection, output projection and MLP to the read rows of a pass."""

    def __init__(self, model):
        self.parts = tail_parts(model)

    @staticmethod
    def _wrap(module: torch.nn.Module, rows: torch.Tensor):
        inner = module.forward  # the packed oneDNN forward when that is on
        width = getattr(module, "out_features", None)

        def forward(x: torch.Tensor) -> torch.Tensor:  # x: (batch, rows of the pass, features)
            out = x.new_zeros(*x.shape[:-1], width or x.shape[-1])
            if len(rows):
                out[:, rows] = inner(x[:, rows])
            return out
        return forward

    @contextmanager
    def only(self, rows: torch.Tensor) -> Iterator[None]:
        saved = []
        for m in self.parts:
            had = m.__dict__.get("forward")
            m.forward = self._wrap(m, rows)
            saved.append((m, had))
        try:
            yield
        finally:
            for m, had in saved:
                if had is None:
                    m.__dict__.pop("forward", None)
                else:
                    m.forward = had
