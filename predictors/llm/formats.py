"""Prompt formats: how a family's decision text is wrapped for a model.

- ``plain``: the text as a document followed by the answer stub — for base models.
- ``chat``: the text as the user's turn of the model's own chat template, then the
  answer stub as the start of the assistant's reply — for aligned models.
- ``auto``: ``chat`` for aligned models, ``plain`` otherwise.

The default answer stub is a partial JSON object, ``{"decision": "``, so the next
token is the decision itself.
"""

from __future__ import annotations

FORMATS = ("auto", "plain", "chat")
DEFAULT_STUB = '{"decision": "'


class FormatError(ValueError):
    pass


def choose_format(fmt: str, kind: str) -> str:
    if fmt not in FORMATS:
        raise FormatError(f"unknown prompt format {fmt!r}; choose from {FORMATS}")
    if fmt == "auto":
        return "chat" if kind == "aligned" else "plain"
    return fmt


def render(body: str, fmt: str, tokenizer, stub: str = DEFAULT_STUB) -> tuple[str, bool]:
    """(prompt text, whether the tokenizer should add its special tokens when encoding it)."""
    if fmt == "plain":
        return f"{body}\nA: {stub}", True
    if fmt == "chat":
        if not getattr(tokenizer, "chat_template", None):
            raise FormatError("format 'chat' needs a tokenizer with a chat template; this model has none "
                              "(use format: plain)")
        text = tokenizer.apply_chat_template([{"role": "user", "content": body}], tokenize=False,
                                             add_generation_prompt=True)
        return text + stub, False  # the template already holds any BOS token
    raise FormatError(f"unknown prompt format {fmt!r}")
