"""FLOP accounting: the counts the scoring benchmarks report, checked by hand on small cases."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from predictors.llm.accounting import causal_cells, gflop, harness_work, shape_of, structural_limit
from predictors.llm.engine import TrieEngine
from predictors.llm.scorer import ScoreRequest


def _model():
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64)
    return LlamaForCausalLM(cfg).eval()


@pytest.mark.parametrize("n,window", [(1, None), (5, None), (5, 2), (5, 5), (5, 9), (7, 3)])
def test_causal_cells_count_each_query_s_visible_keys(n, window):
    seen = [min(i + 1, window or n) for i in range(n)]
    assert causal_cells(n, window) == sum(seen)


def test_the_engine_does_exactly_the_structural_limit_of_useful_work():
    model = _model()
    shape = shape_of(model)
    reqs = [ScoreRequest((1, 2, 3, 4), ((5,), (6,))), ScoreRequest((1, 2, 3, 7, 8), ((5,), (6, 9))),
            ScoreRequest((1, 2), ((3,), (4,)))]
    engine = TrieEngine(model, "cpu", max_nodes=3, batch_nodes=4, progress=False, self_check=False,
                        attention="dense")
    engine.score(reqs)
    executed, useful = gflop(engine.stats, shape)
    limit = structural_limit(reqs, shape)
    assert useful == pytest.approx(limit["gflop"])
    assert executed >= useful
    # the trie by hand: 1-2-3-4 and 1-2-3-7-8-6 (the option prefix 6 is read too); 1-2 is on the path
    assert limit["nodes"] == engine.stats["tokens"] == 7


def test_harness_work_is_one_forward_per_distinct_input_with_the_head_everywhere():
    model = _model()
    shape = shape_of(model)
    reqs = [ScoreRequest((1, 2, 3), ((5,), (6,))),  # one input (1 2 3) for both one-token options
            ScoreRequest((1, 2, 3), ((5,), (6,))),  # the same request again: shared through the cache
            ScoreRequest((1, 2), ((3,), (4, 9)))]  # inputs (1 2) and (1 2 4)
    work = harness_work(reqs, shape)
    lengths = [3, 2, 3]
    assert work["inputs"] == 3 and work["tokens"] == sum(lengths)
    cells = sum(n * (n + 1) // 2 for n in lengths) * len(shape.windows)
    by_hand = (2 * shape.body * 8 + 2 * shape.hidden * shape.vocab * 8 + 4 * shape.attention_width * cells) / 1e9
    assert work["gflop"] == pytest.approx(by_hand)
