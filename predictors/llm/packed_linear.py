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
is untouched.

Gated MLPs (``down(act(gate(x)) * up(x))``: Llama, Qwen, Mistral, Gemma) run as two
fused oneDNN calls and the down projection: the activation is a post-op of the gate
projection and the product a binary post-op of the up projection, so neither the
activation nor the product makes a pass over memory of its own.  Measured on the same
machine, SmolLM2's MLP on 4,096 rows: 102-111 ms fused vs 128-143 ms as three packed
linears with torch's SiLU and product between them.  A block's MLP is fused only when
its activation is one oneDNN has (``FUSED_ACTIVATIONS``) and the fused forward
reproduces the module's own on a test input, so an MLP of another shape keeps the
per-linear path.  The packed copy costs as much memory as those weights again, so
``worth_packing`` declines models whose decoder weights exceed ``MAX_BYTES``.
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager
from typing import Iterator

import torch

from predictors.llm.hidden import decoder_blocks

# activation class name -> oneDNN post-op (name, scalars, algorithm)
FUSED_ACTIVATIONS = {"SiLU": ("swish", [], ""), "SiLUActivation": ("swish", [], ""),
                     "GELUTanh": ("gelu", [], "tanh"), "PytorchGELUTanh": ("gelu", [], "tanh"),
                     "GELUActivation": ("gelu", [], "none")}
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


def _gated_parts(mlp: torch.nn.Module) -> tuple | None:
    """(gate, up, down, oneDNN post-op) of a gated MLP whose activation oneDNN fuses, else None."""
    parts = [getattr(mlp, name, None) for name in ("gate_proj", "up_proj", "down_proj")]
    if not all(isinstance(m, torch.nn.Linear) for m in parts):
        return None
    act = getattr(mlp, "act_fn", None)
    post = FUSED_ACTIVATIONS.get(type(act).__name__)
    if isinstance(act, torch.nn.GELU):
        post = ("gelu", [], act.approximate)
    return (*parts, post) if post else None


class PackedLinears:
    """The decoder's ``nn.Linear`` modules with oneDNN-packed weights, switched on per pass."""

    def __init__(self, model):
        self.modules = _linears(model)
        with torch.no_grad():
            self.packed = [torch.ops.mkldnn._reorder_linear_weight(m.weight.detach(), batch_size=BATCH_HINT)
                           for m in self.modules]
        weights = {id(m): w for m, w in zip(self.modules, self.packed)}
        self.mlps: list[tuple[torch.nn.Module, object]] = []  # (MLP module, its fused forward)
        for block in decoder_blocks(model):
            mlp = getattr(block, "mlp", None)
            parts = _gated_parts(mlp) if mlp is not None else None
            if parts is None:
                continue
            gate, up, down, post = parts
            forward = self._gated(gate, up, down, weights, post)
            if self._agrees(mlp, forward, gate.in_features):
                self.mlps.append((mlp, forward))

    @staticmethod
    def _gated(gate, up, down, weights: dict, post: tuple):
        """down(act(gate(x)) * up(x)) as oneDNN calls: the activation and the product are post-ops."""
        wg, wu, wd = weights[id(gate)], weights[id(up)], weights[id(down)]
        op = torch.ops.mkldnn._linear_pointwise

        def forward(x: torch.Tensor) -> torch.Tensor:
            flat = x.reshape(-1, x.shape[-1])
            act = op(flat, wg, gate.bias, *post)
            both = op.binary(flat, act, wu, up.bias, "mul")
            return op(both, wd, down.bias, "none", [], "").reshape(*x.shape[:-1], down.out_features)
        return forward

    @staticmethod
    def _agrees(mlp: torch.nn.Module, forward, width: int) -> bool:
        """The fused forward gives the module's own output on a test input (else it is not this MLP)."""
        weight = next(mlp.parameters())
        x = torch.randn(8, width, generator=torch.Generator().manual_seed(0), dtype=weight.dtype)
        with torch.no_grad():
            ref, got = mlp(x), forward(x)
        return bool(torch.allclose(got, ref, rtol=1e-4, atol=1e-5 * float(ref.abs().max()) + 1e-6))

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
        for mlp, forward in self.mlps:
            mlp.forward = forward
        try:
            yield
        finally:
            for m in [*self.modules, *(mlp for mlp, _ in self.mlps)]:
                m.__dict__.pop("forward", None)
