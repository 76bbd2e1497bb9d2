"""Prompt formats: how a variant's text is wrapped for a model.

- ``plain``: a document — the system text (if any), the body, then the answer stub.
  For base models.
- ``chat``: the model's own chat template (system turn if any, the body as the user
  turn, the assistant turn opened), then the answer stub. For aligned models.
- ``auto``: ``chat`` for aligned models, ``plain`` otherwise.

Cross-controls: ``format: plain`` on an aligned model, and ``format: chat`` with
``chat_template_from: <partner model>`` on a base model, which renders the partner's
chat template as text and tokenises it with the base model's own tokenizer.
"""

from __future__ import annotations

FORMATS = ("auto", "plain", "chat")


class FormatError(ValueError):
    pass


def choose_format(fmt: str, kind: str) -> str:
    if fmt not in FORMATS:
        raise FormatError(f"unknown prompt format {fmt!r}; choose from {FORMATS}")
    if fmt == "auto":
        return "chat" if kind == "aligned" else "plain"
    return fmt


def render(body: str, system: str, fmt: str, tokenizer, stub: str, template_tokenizer=None) -> tuple[str, bool]:
    """(prompt text, whether the tokenizer should add its special tokens when encoding it)."""
    if fmt == "plain":
        head = f"{system}\n\n" if system else ""
        return f"{head}{body}\n\n{stub}", True
    if fmt == "chat":
        tt = template_tokenizer or tokenizer
        if not getattr(tt, "chat_template", None):
            raise FormatError("format 'chat' needs a chat template; this model has none (use format: plain, "
                              "or chat_template_from: <a model with one>)")
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": body}]
        text = tt.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return text + stub, False  # the template already holds any BOS token
    raise FormatError(f"unknown prompt format {fmt!r}")
