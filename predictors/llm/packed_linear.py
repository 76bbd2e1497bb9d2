"""The decoder's linear layers through oneDNN with pre-packed weights, on a CPU.

PyTorch's ``nn.Linear`` on an x86 CPU calls the BLAS (MKL) ``sgemm``, which repacks
the weight matrix into its blocked layout on every call.  oneDNN (bundled with
PyTorch as ``torch.ops.mkldnn``, what inductor's CPU ``freezing`` uses) can pack a
weight once and reuse it.  Measured on the 2-core AMD EPYC (AVX-512) machine these
benchmarks run on, float32, 4,096 rows: the decoder's shapes of SmolLM2
(576 x 1,536, 1,536 x 576, 576 x 576, 576 x 192) ran at 171-193 GFLOP/s through
``F.linear`` and 216-223 GFLOP/s packed; in the engine's profile on 400 decisions
the linear layers took 21.1 s instead of 25.2 s.  Results agree with ``F.linear`` up
to float32 round-off (the sums are ordered differently).

``PackedLinears(model)`` packs every ``nn.Linear`` inside the decoder blocks once
(the embeddings and the language-model head are left alone) and, while
``active()``, routes those modules through the packed weights; outside it the model
is untouched.  The packed copy costs as much memory as those weights again, so
``worth_packing`` declines models whose decoder weights exceed ``MAX_BYTES``.
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager
from typing import Iterator

import torch

from predictors.llm.hidden import decoder_blocks

MAX_BYTES = 4 << 30  # a second copy of more decoder weights than this is not worth the memory
BATCH_HINT = 4096  # rows the packing is tuned for (the engine's default pass size); any row count works


def available() -> bool:
    """oneDNN's packed linear is in this torch build."""
    ops = getattr(torch.ops, "mkldnn", None)
    try:
        return (torch.backends.mkldnn.is_available() and ops is not None
                and hasattr(ops, "_reorder_linear_weight") and hasattr(ops, "_linear_pointwise"))
    except (AttributeError, RuntimeError):
        return False


def _linears(model) -> list[torch.nn.Linear]:
    return [m for block in decoder_blocks(model) for m in block.modules() if isinstance(m, torch.nn.Linear)]


def worth_packing(model, device: torch.device) -> bool:
    """A CPU, float32 decoder weights, oneDNN present and a second copy affordable."""
    if device.type != "cpu" or not available():
        return False
    try:
        linears = _linears(model)
    except ValueError:
        return False
    if not linears or any(m.weight.dtype != torch.float32 for m in linears):
        return False
    return sum(m.weight.numel() * 4 for m in linears) <= MAX_BYTES


_PACKED: "weakref.WeakKeyDictionary[torch.nn.Module, PackedLinears]" = weakref.WeakKeyDictionary()


def packed_linears(model) -> "PackedLinears":
    """The packed weights of this model, made once however many scorers use them."""
    if model not in _PACKED:
        _PACKED[model] = PackedLinears(model)
    return _PACKED[model]


class PackedLinears:
    """The decoder's ``nn.Linear`` modules with oneDNN-packed weights, switched on per pass."""

    def __init__(self, model):
        self.modules = _linears(model)
        with torch.no_grad():
            self.packed = [torch.ops.mkldnn._reorder_linear_weight(m.weight.detach(), batch_size=BATCH_HINT)
                           for m in self.modules]

    @staticmethod
    def _forward(weight: torch.Tensor, bias: torch.Tensor | None, out_features: int):
        def forward(x: torch.Tensor) -> torch.Tensor:
            y = torch.ops.mkldnn._linear_pointwise(x.reshape(-1, x.shape[-1]), weight, bias, "none", [], "")
            return y.reshape(*x.shape[:-1], out_features)
        return forward

    @contextmanager
    def active(self) -> Iterator[None]:
        """While open, the decoder's linear layers use the packed weights (instance-level ``forward``)."""
        for m, w in zip(self.modules, self.packed):
            m.forward = self._forward(w, m.bias, m.out_features)
        try:
            yield
        finally:
            for m in self.modules:
                m.__dict__.pop("forward", None)
