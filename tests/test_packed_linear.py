"""oneDNN packed linear layers: the same numbers as nn.Linear, only while switched on."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from predictors.llm import packed_linear
from predictors.llm.packed_linear import packed_linears, worth_packing

pytestmark = pytest.mark.skipif(not packed_linear.available(), reason="this torch build has no oneDNN")


def _model(bias: bool = False):
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=61, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                      attention_bias=bias, mlp_bias=bias)
    return LlamaForCausalLM(cfg).eval()


@pytest.mark.parametrize("bias", [False, True])
def test_packed_forward_equals_the_model_and_is_undone_on_exit(bias):
    model = _model(bias)
    ids = torch.randint(0, 61, (2, 13))
    with torch.no_grad():
        ref = model(ids).logits
        packs = packed_linears(model)
        assert len(packs.modules) == 2 * 7  # q k v o gate up down in each block; not the head
        assert all(m is not model.lm_head for m in packs.modules)
        with packs.active():
            assert all("forward" in m.__dict__ for m in packs.modules)
            got = model(ids).logits
        assert all("forward" not in m.__dict__ for m in packs.modules)
        again = model(ids).logits
    assert torch.allclose(got, ref, atol=1e-5, rtol=1e-5)
    assert torch.equal(again, ref)
    assert packed_linears(model) is packs  # packed once per model


def test_packing_only_where_it_pays():
    model = _model()
    assert worth_packing(model, torch.device("cpu"))
    assert not worth_packing(model, torch.device("meta"))
    assert not worth_packing(model.to(torch.bfloat16), torch.device("cpu"))


def _gemma():
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    cfg = Gemma3TextConfig(vocab_size=61, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=1, head_dim=8, sliding_window=8,
                           max_position_embeddings=64)
    return Gemma3ForCausalLM(cfg).eval()


@pytest.mark.parametrize("build", [_model, _gemma], ids=["llama-silu", "gemma3-gelu-tanh"])
def test_gated_mlps_run_fused_and_give_the_same_numbers(build):
    model = build()
    ids = torch.randint(0, 61, (2, 13))
    with torch.no_grad():
        ref = model(ids).logits
        packs = packed_linears(model)
        assert [mlp for mlp, _ in packs.mlps] == [block.mlp for block in model.model.layers]
        with packs.active():
            assert all("forward" in mlp.__dict__ for mlp, _ in packs.mlps)
            got = model(ids).logits
        assert all("forward" not in mlp.__dict__ for mlp, _ in packs.mlps)
    assert torch.allclose(got, ref, atol=1e-5, rtol=1e-5)


def test_an_mlp_of_another_shape_keeps_the_per_linear_path():
    """Named like a gated MLP but computing something else, or with an activation oneDNN does not fuse."""
    model = _model()
    first, second = (block.mlp for block in model.model.layers)
    first.__class__ = type("SumMLP", (type(first),), {
        "forward": lambda self, x: self.down_proj(self.act_fn(self.gate_proj(x)) + self.up_proj(x))})
    second.act_fn = torch.nn.Softsign()
    ids = torch.randint(0, 61, (2, 13))
    with torch.no_grad():
        ref = model(ids).logits
        packs = packed_linears(model)
        assert packs.mlps == []
        with packs.active():
            got = model(ids).logits
    assert torch.allclose(got, ref, atol=1e-5, rtol=1e-5)
