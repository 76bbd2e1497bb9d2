"""Hidden states at the decision position: the residual stream of chosen layers where the answer is read.

A linear probe on these (``predictors.probe``) asks whether a model *knows* how
people play even where its output does not say so (Alain & Bengio 2016,
"Understanding intermediate layers using linear classifier probes"; Hewitt &
Liang 2019, "Designing and interpreting probes with control tasks").  Both
scorers read them from the forward pass that scores the options, so they cost no
extra pass: forward hooks on the chosen decoder blocks keep only the rows of the
prompts' last tokens (the position whose next-token distribution gives the
option probabilities), in float16.

Layer numbering: layer ``l`` (1 ... n) is the output of decoder block ``l`` — the
residual stream after it, before the final norm; a float in (0, 1) is a relative
depth, resolved to ``round(f * n)`` (at least 1), so one config speaks of models of
different depths alike.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

import numpy as np
import torch

#: relative depths read when a config asks for hidden states without naming layers
DEFAULT_DEPTHS = (0.25, 0.5, 0.75, 1.0)


def decoder_blocks(model) -> Sequence[torch.nn.Module]:
    """The model's decoder blocks, in order (the ``layers`` list of its body)."""
    body = getattr(model, model.base_model_prefix, model)
    for obj in (body, getattr(body, "language_model", None)):
        layers = getattr(obj, "layers", None)
        if layers is not None:
            return list(layers)
    raise ValueError(f"cannot find the decoder blocks of {type(model).__name__} (no .layers on its body)")


def resolve_layers(layers: Sequence[float | int] | None, depth: int) -> list[int]:
    """Block numbers 1 ... ``depth`` for ``layers`` (ints as they are, floats in (0, 1] as relative depths)."""
    out = []
    for x in DEFAULT_DEPTHS if layers is None else layers:
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise ValueError(f"a layer is a block number or a relative depth in (0, 1], not {x!r}")
        if isinstance(x, float):
            if not 0 < x <= 1:
                raise ValueError(f"relative depth {x} is not in (0, 1]")
            n = max(1, round(x * depth))
        else:
            n = int(x)
            if not 1 <= n <= depth:
                raise ValueError(f"layer {n} is not one of the model's blocks 1 ... {depth}")
        out.append(n)
    return sorted(set(out))


class LayerTap:
    """Forward hooks that keep chosen blocks' outputs at chosen (row, column) positions of a pass."""

    def __init__(self, model, layers: Sequence[int]):
        self.blocks = decoder_blocks(model)
        self.layers = list(layers)
        for n in self.layers:
            if not 1 <= n <= len(self.blocks):
                raise ValueError(f"layer {n} is not one of the model's blocks 1 ... {len(self.blocks)}")

    @contextmanager
    def reading(self, rows: torch.Tensor, cols: torch.Tensor) -> Iterator[dict[int, torch.Tensor]]:
        """While open, each forward pass keeps the chosen blocks' outputs at (rows, cols) in the yielded
        dict (block -> (len(rows), hidden) float16 on the CPU); ``stack`` turns it into one array."""
        kept: dict[int, torch.Tensor] = {}

        def hook(n):
            def keep(module, args, output):
                h = output[0] if isinstance(output, tuple) else output
                kept[n] = h[rows, cols].to(torch.float16).cpu()
            return keep

        handles = [self.blocks[n - 1].register_forward_hook(hook(n)) for n in self.layers]
        try:
            yield kept
        finally:
            for h in handles:
                h.remove()

    def stack(self, kept: dict[int, torch.Tensor]) -> np.ndarray:
        """(positions, layers, hidden) float16: the kept outputs in ``self.layers`` order."""
        return torch.stack([kept[n] for n in self.layers], dim=1).numpy()
