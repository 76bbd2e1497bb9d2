"""Prompt formats: how a variant's text is wrapped for a model, and what goes in the system turn.

- ``plain``: a document — the system text (if any), the body, then the answer stub.
  For base models.
- ``chat``: the model's own chat template (system turn if any, the body as the user
  turn, the assistant turn opened), then the answer stub. For aligned models.
- ``auto``: ``chat`` for aligned models, ``plain`` otherwise.

Cross-controls: ``format: plain`` on an aligned model, and ``format: chat`` with
``chat_template_from: <partner model>`` on a base model, which renders the partner's
chat template as text and tokenises it with the base model's own tokenizer.

The system turn (an llm predictor's ``system:`` setting) — the model is told only what
a config says:

- ``none`` (the default): no system turn. Some chat templates write a system turn of
  their own when given none (SmolLM2's: "You are a helpful AI assistant named SmolLM,
  trained by Hugging Face"); that turn is cut out, and a template whose addition cannot
  be cut out is an error that quotes it.
- ``template``: whatever the chat template does when given no system message (its own
  default text, if it has one). Plain format has no template: no system paragraph.
- any other text: the system turn (chat), or a first paragraph (plain).

A prompt variant's ``system`` text (``persona``) counts as ``system: <that text>``; a
predictor that sets ``system:`` and uses such a variant is an error, so what the model
is told is said in one place.

Why ``none`` by default: the replicated comparison of base and aligned models should
differ in the weights and the turn markup, not in an instruction nobody chose — and a
template's default text is a property of one model's packaging (SmolLM2 and Qwen2.5
have one, most templates have none), not of alignment. ``system: template`` is the
"as shipped" control.
"""

from __future__ import annotations

from dataclasses import dataclass

FORMATS = ("auto", "plain", "chat")
SYSTEM_POLICIES = ("none", "template")


class FormatError(ValueError):
    pass


def choose_format(fmt: str, kind: str) -> str:
    if fmt not in FORMATS:
        raise FormatError(f"unknown prompt format {fmt!r}; choose from {FORMATS}")
    if fmt == "auto":
        return "chat" if kind == "aligned" else "plain"
    return fmt


@dataclass(frozen=True)
class System:
    """A predictor's resolved system-turn policy: ``none``, ``template`` or ``text`` (with its text)."""

    policy: str = "none"
    text: str = ""
    source: str = "default"  # "default", "predictor" or "prompt variant <name>": where it was said


def resolve_system(setting: str | None, variant_system: str, variant_name: str) -> System:
    """The one rule: the predictor's ``system:`` (default ``none``) or the variant's text, never both."""
    if setting is not None and not isinstance(setting, str):
        raise FormatError(f"system: {setting!r} is not text; use none, template or the system text itself")
    if setting is not None and variant_system:
        raise FormatError(f"system: {setting!r} is set, and prompt variant {variant_name!r} has a system text of "
                          "its own; say what the model is told in one place: drop system:, or use a variant "
                          "without one")
    if variant_system:
        return System("text", variant_system, f"prompt variant {variant_name}")
    if setting is None:
        return System()
    if not setting.strip():
        raise FormatError("system: is empty; write system: none for no system turn")
    if setting in SYSTEM_POLICIES:
        return System(setting, source="predictor")
    if setting.strip().lower() in SYSTEM_POLICIES:  # "None" from a YAML file is text, and surely not meant as such
        raise FormatError(f"system: {setting!r}: write {setting.strip().lower()!r} (lower case) for the policy")
    return System("text", setting, "predictor")


_PROBE_SYSTEM, _PROBE_USER = "\u27e6system-probe\u27e7", "\u27e6user-probe\u27e7"


def _chat(tt, system: str | None, user: str) -> str:
    messages = ([{"role": "system", "content": system}] if system is not None else []) + \
        [{"role": "user", "content": user}]
    return tt.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


@dataclass(frozen=True)
class TemplateSystem:
    """What a chat template does about the system turn, learned once by rendering two probe conversations."""

    takes_system: bool  # a system message shows in its output
    default: str | None = None  # the text it adds when given no system message (None: adds nothing)
    cut: tuple[str, str] | None = None  # (text before the added turn, the added turn): how to remove it


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _probe(tt) -> TemplateSystem:
    """Compare the template's output without and with a system message.  Without one, the output is
    ``head + added + user turn``; with one, ``head + opener + S + closer + user turn``.  The system
    opener is the user turn's opener with the role renamed (true of every common template); knowing it
    separates ``head`` from the added turn, which is then cut out verbatim."""
    bare = _chat(tt, None, _PROBE_USER)
    try:
        framed = _chat(tt, _PROBE_SYSTEM, _PROBE_USER)
    except Exception:  # a template that refuses a system role (raise_exception): it adds no system turn either
        return TemplateSystem(False)
    if _PROBE_SYSTEM not in framed:
        return TemplateSystem(False)
    p = _common_prefix(bare, framed)
    s = min(_common_prefix(bare[::-1], framed[::-1]), len(bare) - p, len(framed) - p)
    added = bare[p:len(bare) - s]
    if not added:
        return TemplateSystem(True)
    i = framed.index(_PROBE_SYSTEM)
    before, after = framed[:i], framed[i + len(_PROBE_SYSTEM):]
    between = after[:after.index(_PROBE_USER)]
    for k in range(len(between)):
        opener = between[k:]
        if "user" not in opener.lower():
            break
        sys_opener = opener.replace("user", "system").replace("User", "System").replace("USER", "SYSTEM")
        if not before.endswith(sys_opener):
            continue
        head = before[:len(before) - len(sys_opener)]
        start, end = len(head) + len(sys_opener), len(bare) - len(after)
        if bare.startswith(head + sys_opener) and bare.endswith(after) and start <= end:
            return TemplateSystem(True, bare[start:end], (head, bare[len(head):end + k]))
    return TemplateSystem(True, added, None)


_PROBED: dict[tuple[str, str], TemplateSystem] = {}


def template_system(tt) -> TemplateSystem:
    """``_probe`` once per template (the output depends on the template and the special tokens it may use)."""
    key = (repr(tt.chat_template), repr(getattr(tt, "special_tokens_map", None)))
    if key not in _PROBED:
        _PROBED[key] = _probe(tt)
    return _PROBED[key]


def _without_system(tt, body: str) -> str:
    info = template_system(tt)
    text = _chat(tt, None, body)
    if info.default is None:
        return text
    unremovable = (f"system: none, but this chat template adds text of its own when given no system message "
                   f"({info.default.strip()!r}) that cannot be cut out; write system: template to keep it, "
                   "or system: <text> to replace it")
    if info.cut is None:
        raise FormatError(unremovable)
    head, turn = info.cut
    if not text.startswith(head + turn):  # the addition depends on the conversation
        raise FormatError(unremovable)
    return head + text[len(head) + len(turn):]


def render_chat(body: str, system: System, tt) -> str:
    """The chat template's text for one user turn, with the system turn ``system`` asks for."""
    if system.policy == "template":
        return _chat(tt, None, body)
    if system.policy == "none":
        return _without_system(tt, body)
    if not template_system(tt).takes_system:
        raise FormatError("this chat template has no system turn (it refuses or drops a system message); "
                          "use format: plain, or put the text in the prompt variant's template")
    return _chat(tt, system.text, body)


def render(body: str, system: System, fmt: str, tokenizer, stub: str, template_tokenizer=None) -> tuple[str, bool]:
    """(prompt text, whether the tokenizer should add its special tokens when encoding it)."""
    if fmt == "plain":
        head = f"{system.text}\n\n" if system.policy == "text" else ""
        return f"{head}{body}\n\n{stub}", True
    if fmt == "chat":
        tt = template_tokenizer or tokenizer
        if not getattr(tt, "chat_template", None):
            raise FormatError("format 'chat' needs a chat template; this model has none (use format: plain, "
                              "or chat_template_from: <a model with one>)")
        return render_chat(body, system, tt) + stub, False  # the template already holds any BOS token
    raise FormatError(f"unknown prompt format {fmt!r}")
