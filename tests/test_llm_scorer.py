"""The scorer against the straightforward full-logits computation, on tiny models built here."""

import math

import numpy as np

import pytest
import torch
from transformers import Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig, LlamaForCausalLM

from predictors.llm.scorer import ScoreRequest, Scorer


def _llama():
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128)
    return LlamaForCausalLM(cfg).eval()


def _gemma():
    torch.manual_seed(0)
    cfg = Gemma3TextConfig(vocab_size=101, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=1, head_dim=8, sliding_window=8,
                           max_position_embeddings=128, final_logit_softcapping=5.0)
    return Gemma3ForCausalLM(cfg).eval()


def _requests(vocab, seed=1):
    g = torch.Generator().manual_seed(seed)
    reqs = []
    for n in (5, 17, 9, 30, 12, 3):
        prompt = tuple(torch.randint(1, vocab, (n,), generator=g).tolist())
        if n % 2:  # single-token options
            options = ((7,), (11,), (13,))
        else:  # multi-token options sharing a first token
            options = ((7, 8), (7, 9, 10), (12,))
        reqs.append(ScoreRequest(prompt, options))
    return reqs


@torch.inference_mode()
def _reference(model, req):
    """One forward pass per option over prompt + option, full logits, no padding."""
    out = []
    for opt in req.options:
        ids = torch.tensor([req.prompt_ids + opt])
        lp = torch.log_softmax(model(input_ids=ids).logits[0].float(), -1)
        n = len(req.prompt_ids)
        out.append(sum(float(lp[n - 1 + i, t]) for i, t in enumerate(opt)))
    return out


@pytest.mark.parametrize("build", [_llama, _gemma], ids=["llama", "gemma3-softcap"])
@pytest.mark.parametrize("forward_batch", [1, 4])
def test_scorer_equals_full_forward(build, forward_batch):
    model = build()
    reqs = _requests(model.config.vocab_size)
    got = Scorer(model, "cpu", forward_batch=forward_batch, progress=False).score(reqs)
    for req, res in zip(reqs, got):
        ref = _reference(model, req)
        assert res.logprobs == pytest.approx(ref, abs=1e-4)
        z = sum(math.exp(x) for x in ref)
        assert res.probs == pytest.approx([math.exp(x) / z for x in ref], abs=1e-5)
        assert res.mass == pytest.approx(z, rel=1e-4)
        assert sum(res.probs) == pytest.approx(1.0)


def test_scorer_rejects_empty_inputs():
    model = _llama()
    with pytest.raises(ValueError, match="empty prompt"):
        Scorer(model, progress=False).score([ScoreRequest((), ((1,),))])
    with pytest.raises(ValueError, match="no tokens"):
        Scorer(model, progress=False).score([ScoreRequest((1, 2), ((),))])


@pytest.mark.parametrize("build", [_llama, _gemma], ids=["llama", "gemma3-sliding-softcap"])
@pytest.mark.parametrize("max_nodes", [8, 40, 4096])
@pytest.mark.parametrize("attention", ["dense", "sparse"])
def test_trie_engine_equals_full_forward(build, max_nodes, attention):
    """Shared prefixes, sliding windows (window 8 < prompt length) and chunking change nothing."""
    from predictors.llm.engine import TrieEngine

    model = build()
    reqs = _requests(model.config.vocab_size)
    long = reqs[3]
    reqs += [ScoreRequest(long.prompt_ids[:20], long.options),  # a prefix of another prompt
             ScoreRequest(long.prompt_ids[:20] + (5, 6, 7), reqs[1].options),  # a branch off it
             reqs[0]]  # a duplicate
    engine = TrieEngine(model, "cpu", max_nodes=max_nodes, batch_nodes=100, progress=False, self_check=False,
                        attention=attention)
    got = engine.score(reqs)
    for req, res in zip(reqs, got):
        ref = _reference(model, req)
        assert res.logprobs == pytest.approx(ref, abs=1e-4)
        assert res.mass == pytest.approx(sum(math.exp(x) for x in ref), rel=1e-4)
    distinct = {s[:k] for req in reqs for o in req.options for j in range(len(o))
                for s in [req.prompt_ids + o[:j]] for k in range(1, len(s) + 1)}
    assert engine.stats["tokens"] == engine.stats["nodes"] == len(distinct)  # each distinct prefix ran once
    assert 0 < engine.stats["useful_cells"] <= engine.stats["attention_cells"]


def test_trie_engine_option_rows_only():
    from predictors.llm.engine import TrieEngine

    model = _llama()
    reqs = [r for r in _requests(model.config.vocab_size) if all(len(o) == 1 for o in r.options)]
    got = TrieEngine(model, need_mass=False, progress=False, self_check=False).score(reqs)
    for req, res in zip(reqs, got):
        ref = _reference(model, req)
        z = sum(math.exp(x) for x in ref)
        assert res.probs == pytest.approx([math.exp(x) / z for x in ref], abs=1e-5)
        assert math.isnan(res.mass)


def test_trie_is_preorder_and_the_plan_runs_every_node_once():
    from predictors.llm.trie import build_trie, plan

    seqs = [(1, 2, 3, 4), (1, 2, 3, 5), (1, 2, 6), (7,), (1, 2, 3, 4)]
    trie = build_trie(seqs)
    assert trie.size == 7  # 1-2-3-4, 5, 6, 7
    anc = trie.ancestors([trie.reads[(1, 2, 3, 5)], trie.reads[(7,)]])
    assert anc[0].sum() == 4 and anc[1].sum() == 1
    for j in range(trie.size):  # the interval rule agrees with walking up the parents
        i, up = j, set()
        while i >= 0:
            up.add(i)
            i = trie.parent[i]
        assert set(np.nonzero(trie.ancestors([j])[0])[0]) == up
    for limit in (1, 2, 3, 4, 100):
        p = plan(trie, max_nodes=limit)
        ran = np.concatenate([u.nodes for u in p.units])
        assert sorted(ran) == list(range(trie.size))  # every node exactly once
        assert all(u.size <= limit for u in p.units)
        done: set[int] = set()
        for u in p.units:  # what a unit attends to outside itself is stored trunk, computed earlier
            inside = set(u.nodes.tolist())
            for node in u.nodes:
                j = trie.parent[node]
                while j >= 0 and j not in inside:
                    assert j in set(u.prefix.tolist()) and j in done and j in set(p.trunk.tolist())
                    j = trie.parent[j]
            done |= inside if u.store else set()
        assert sorted(n for u in p.units for n, _ in u.reads) == sorted(trie.reads.values())


def test_engine_falls_back_when_the_model_ignores_the_tree_mask(monkeypatch):
    from predictors.llm import engine as engine_mod
    from predictors.llm.tree_attention import TreeAttention, _inner_attention

    model = _llama()
    reqs = _requests(model.config.vocab_size)
    eng = engine_mod.TrieEngine(model, progress=False)

    def plain_causal(self, module, query, key, value, **kwargs):  # as if the model built its own mask
        return _inner_attention(module, "sdpa")(module, query, key, value, None, **kwargs)

    monkeypatch.setattr(TreeAttention, "attend", plain_causal)
    with pytest.warns(RuntimeWarning, match="engine disabled"):
        got = eng.score(reqs)
    assert eng.fallback
    for req, res in zip(reqs, got):
        assert res.logprobs == pytest.approx(_reference(model, req), abs=1e-4)


@pytest.mark.parametrize("build", [_llama, _gemma], ids=["llama", "gemma3-sliding-softcap"])
@pytest.mark.parametrize("attention", ["dense", "sparse"])
def test_hidden_states_equal_a_plain_forward_pass(build, attention):
    """The residual stream at each prompt's last token, from the scoring pass itself: the trie engine
    (shared prefixes, chunks, tree attention) and the straightforward scorer both give what
    transformers' own ``output_hidden_states`` gives for the prompt alone."""
    from predictors.llm.engine import TrieEngine

    model = build()
    reqs = _requests(model.config.vocab_size)
    reqs.append(ScoreRequest(reqs[3].prompt_ids[:20], reqs[3].options))  # a prompt inside another prompt
    layers = [1, 2]
    engine = TrieEngine(model, "cpu", max_nodes=8, batch_nodes=40, progress=False, self_check=False,
                        attention=attention, hidden_layers=layers)
    simple = Scorer(model, "cpu", forward_batch=3, progress=False, hidden_layers=layers)
    for got in (engine.score(reqs), simple.score(reqs)):
        for req, res in zip(reqs, got):
            with torch.inference_mode():
                states = model(input_ids=torch.tensor([req.prompt_ids]), output_hidden_states=True).hidden_states
            assert res.hidden.shape == (2, model.config.hidden_size) and res.hidden.dtype == np.float16
            # hidden_states[1] is block 1's output (the last entry has the final norm applied: block 2 is
            # checked engine against scorer below)
            np.testing.assert_allclose(res.hidden[0].astype(np.float32), states[1][0, -1].numpy(), rtol=2e-3,
                                       atol=2e-3)
        assert not np.array_equal(got[0].hidden, got[1].hidden)  # distinct prompts, distinct states
    eng, ref = engine.score(reqs), simple.score(reqs)
    for a, b in zip(eng, ref):
        np.testing.assert_allclose(a.hidden.astype(np.float32), b.hidden.astype(np.float32), rtol=2e-3, atol=2e-3)


def test_the_engine_keeps_freed_memory_on_glibc():
    """The CPU engine sets glibc's malloc thresholds (cpu_memory) once; elsewhere it is a no-op."""
    import platform

    from predictors.llm.cpu_memory import keep_freed_memory

    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert keep_freed_memory() is glibc
    assert keep_freed_memory() is glibc  # idempotent
