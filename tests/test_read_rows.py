"""The last block at the read rows only: the same probabilities and hidden states, less work, counted."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

from predictors.llm.accounting import gflop, shape_of, structural_limit
from predictors.llm.engine import TrieEngine
from predictors.llm.read_rows import tail_parts, tail_params
from predictors.llm.scorer import ScoreRequest


def _llama():
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=3,
                      num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64)
    return LlamaForCausalLM(cfg).eval()


REQUESTS = [ScoreRequest((1, 2, 3, 4, 9, 9, 9), ((5,), (6,))), ScoreRequest((1, 2, 3, 7, 8), ((5,), (6, 9))),
            ScoreRequest((1, 2), ((3,), (4,))), ScoreRequest((1, 2, 3, 4, 9, 9, 9, 2, 2), ((5,), (6,)))]


@pytest.mark.parametrize("max_nodes", [3, 64])
def test_skipping_unread_rows_changes_no_number_and_counts_the_work_it_saved(max_nodes):
    model = _llama()
    runs = {}
    for on in (True, False):
        engine = TrieEngine(model, "cpu", max_nodes=max_nodes, batch_nodes=8, progress=False, self_check=False,
                            attention="dense", hidden_layers=[3], read_rows_only=on)
        runs[on] = (engine.score(REQUESTS), engine.stats)
    (got, on_stats), (ref, off_stats) = runs[True], runs[False]
    for a, b in zip(got, ref):
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-6)
        np.testing.assert_allclose(a.hidden.astype(np.float32), b.hidden.astype(np.float32), atol=1e-3)  # last block
    assert on_stats["tokens"] == off_stats["tokens"]
    assert on_stats["tail_skipped"] == on_stats["tokens"] - on_stats["reads"] > 0
    assert off_stats["tail_skipped"] == 0
    shape = shape_of(model)
    assert shape.tail == sum(p.numel() for p in tail_parts(model)[0].parameters()) * 2 + sum(
        p.numel() for p in model.model.layers[-1].mlp.parameters())  # q and o are square here
    (ex_on, use_on), (ex_off, use_off) = gflop(on_stats, shape), gflop(off_stats, shape)
    assert ex_on < ex_off and use_on < use_off
    assert use_on == pytest.approx(structural_limit(REQUESTS, shape)["gflop"])


def test_a_block_of_another_shape_runs_every_row_and_the_limit_says_so():
    torch.manual_seed(0)
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_embd=16, n_layer=2, n_head=2, n_positions=64)).eval()
    assert tail_parts(gpt2) == [] and tail_params(gpt2) == 0
    llama = _llama()
    shape = shape_of(llama)
    full = structural_limit(REQUESTS, shape.__class__(**{**shape.__dict__, "tail": 0}))
    assert structural_limit(REQUESTS, shape)["gflop"] < full["gflop"]
