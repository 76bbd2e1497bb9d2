"""The LLM predictor: P(action) from next-token probabilities over the decision tokens.

For each decision the family renders the game in words; the format wraps it
(plain text for base models, the chat template for aligned ones) and appends an
answer stub; one forward pass reads the probability of each option's tokens.
Probabilities are normalised over the options, and the un-normalised total —
the *mass* the model put on any valid answer — is kept as a diagnostic, so an
analysis can drop models that mostly wanted to say something else.

What the model is told is recorded, not assumed: the system-turn policy (``system:``,
see ``predictors.llm.formats``) and the first prompt of each game family, exactly as
tokenised, are in ``describe()`` and in the file ``write_prompts`` writes.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from envs.records import DecisionPoint
from envs.registry import get_family
from predictors.base import Prediction, Predictor
from predictors.llm import formats, models, variants
from predictors.llm.engine import TrieEngine
from predictors.llm.hidden import decoder_blocks, resolve_layers
from predictors.llm.scorer import ScoreRequest, Scorer

ENGINES = ("trie", "simple")
ATTENTIONS = ("auto", "dense", "sparse")


def _prompted_family(dp: DecisionPoint):
    family = get_family(dp.family)
    if not family.provides("prompt"):
        raise ValueError(f"game family {dp.family!r} has no prompt renderer")
    return family


class TokenisationWarning(UserWarning):
    """Options share their first token, or an option does not tokenise apart from the prompt."""


def pick_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class LLMPredictor(Predictor):
    """Scores decisions with a causal language model (loaded lazily, on first use).

    ``system``: ``none`` (default), ``template`` or a text — what the system turn says (see
    ``predictors.llm.formats``).

    ``engine="trie"`` (default) shares every common token prefix between prompts
    (see ``predictors.llm.engine``); ``engine="simple"`` runs each prompt on its own
    (``forward_batch`` prompts per forward pass) — the reference path.
    """

    #: decisions per ``predict`` call (``Predictor.batch_size``): the more, the more prefixes the trie shares
    batch_size = 100_000
    category = "language model"
    reads_prompt = True

    def __init__(self, model: str, kind: str | None = None, format: str = "auto", prompt=None,
                 system: str | None = None, chat_template_from: str | None = None, engine: str = "trie",
                 forward_batch: int = 8, max_nodes: int | None = None, batch_tokens: int = 4096, device: str = "auto",
                 name: str | None = None, progress: bool = True, attention: str = "auto", weights: str = "pretrained"):
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; choose from {ENGINES}")
        if attention not in ATTENTIONS:
            raise ValueError(f"unknown attention {attention!r}; choose from {ATTENTIONS}")
        if weights not in models.WEIGHTS:
            raise ValueError(f"unknown weights {weights!r}; choose from {models.WEIGHTS}")
        self.engine, self.max_nodes, self.batch_tokens, self.attention = engine, max_nodes, batch_tokens, attention
        self.weights = weights
        self.source = models.resolve(model, kind)  # fails now, before any weights load, if the spec is bad
        self.format = formats.choose_format(format, self.source.kind)
        self.variant = variants.load_variant(prompt)
        self.system = formats.resolve_system(system, self.variant.system, self.variant.name)
        self.template_source = models.resolve(chat_template_from) if chat_template_from else None
        if self.template_source is not None and self.format != "chat":
            raise formats.FormatError("chat_template_from needs format: chat")
        self.forward_batch, self.device_request = forward_batch, device
        self._template_tok = None
        self._adds_bos: bool | None = None
        self.name = name or model
        self.progress = progress
        self._tok = self._model = self._scorer = None
        self.device: str | None = None
        self._first: dict[str, tuple[str, str]] = {}  # family -> (decision id, first prompt as tokenised)

    def load_tokenizer(self) -> None:
        """The tokenizer(s) without the weights: enough to render and encode prompts (``write_prompts``)."""
        if self._tok is None:
            self._tok = models.load_tokenizer(self.source)
        if self.template_source is not None and self._template_tok is None:
            self._template_tok = models.load_tokenizer(self.template_source)

    def load(self) -> None:
        if self._model is not None:
            return
        import torch

        self.device = pick_device(self.device_request)
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        self._tok, self._model = models.load(self.source, dtype=dtype, device=self.device,
                                             random_init=self.weights == "random")
        self.load_tokenizer()
        self._scorer = self._make_scorer()

    def _make_scorer(self, hidden_layers: Sequence[int] | None = None):
        pad = self._tok.pad_token_id if self._tok.pad_token_id is not None else 0
        if self.engine == "trie":
            return TrieEngine(self._model, self.device, self.max_nodes, self.batch_tokens, pad,
                              progress=self.progress, attention=self.attention, hidden_layers=hidden_layers)
        return Scorer(self._model, self.device, self.forward_batch, pad, self.progress, hidden_layers=hidden_layers)

    def validate(self, decisions: Sequence[DecisionPoint]) -> None:
        """Render the prompt body of one decision per family: template errors surface before loading; a
        Hugging Face id that is neither cached nor reachable fails now too (``models.check_available``)."""
        for src in (self.source, self.template_source):
            if src is not None:
                models.check_available(src)
        seen = set()
        for dp in decisions:
            if dp.family not in seen:
                seen.add(dp.family)
                self.variant.body(_prompted_family(dp).prompt(dp))

    def _ids(self, text: str, special: bool) -> list[int]:
        """Token ids; a chat-formatted text gets the model's BOS if its tokenizer uses one and the
        template did not write it (a borrowed template, in a cross-control, knows another BOS)."""
        ids = self._tok(text, add_special_tokens=special)["input_ids"]
        bos = self._tok.bos_token_id
        if not special and bos is not None and (not ids or ids[0] != bos):
            if self._adds_bos is None:
                self._adds_bos = self._tok("x", add_special_tokens=True)["input_ids"][:1] == [bos]
            if self._adds_bos:
                ids = [bos] + ids
        return ids

    def _as_tokenised(self, text: str, ids: list[int]) -> str:
        """``text`` with the special tokens the encoder added around it (a BOS) written out, so that
        tokenising the result without adding special tokens gives exactly ``ids``."""
        own = self._tok(text, add_special_tokens=False)["input_ids"]
        for start in range(len(ids) - len(own) + 1):
            if ids[start:start + len(own)] == own:
                return self._tok.decode(ids[:start]) + text + self._tok.decode(ids[start + len(own):])
        return self._tok.decode(ids)  # not reached with the tokenizers we know; the decoded ids then

    def _render(self, dp: DecisionPoint):
        """(family, prompt text, whether the tokenizer adds special tokens, what precedes each option)."""
        family = _prompted_family(dp)
        body = self.variant.body(family.prompt(dp))
        # A stub ending in spaces ("Answer: Option ") would leave a lone space token that BPE
        # tokenizers never produce before a word: the spaces go with the option instead (" J").
        stub = self.variant.stub.rstrip(" ")
        lead = self.variant.stub[len(stub):]
        text, special = formats.render(body, self.system, self.format, self._tok, stub, self._template_tok)
        return family, text, special, lead

    def prompt_strings(self, dp: DecisionPoint) -> tuple[str, list[str]]:
        """The prompt as tokenised (special tokens written out) and each option's continuation text:
        what a string-based tool (lm-evaluation-harness's ``loglikelihood``) is given."""
        self.load_tokenizer()
        family, text, special, lead = self._render(dp)
        return (self._as_tokenised(text, self._ids(text, special)),
                [lead + family.option_text(a) for a in dp.legal_actions])

    def encode(self, dp: DecisionPoint) -> tuple[ScoreRequest, dict[str, Any]]:
        """Token ids of the prompt and of each option's continuation, with tokenisation checks."""
        family, text, special, lead = self._render(dp)
        prompt_ids = self._ids(text, special)
        if dp.family not in self._first:
            self._first[dp.family] = (dp.decision_id, self._as_tokenised(text, prompt_ids))
        options, notes = [], []
        for a in dp.legal_actions:
            option = lead + family.option_text(a)
            full = self._ids(text + option, special)
            if full[: len(prompt_ids)] == prompt_ids and len(full) > len(prompt_ids):
                cont = full[len(prompt_ids):]
            else:  # the option merges with the end of the prompt: score its own tokens instead
                cont = self._tok(option, add_special_tokens=False)["input_ids"]
                notes.append(f"option {a!r} does not tokenise separately from the prompt")
            options.append(tuple(cont))
        firsts = [o[0] for o in options]
        if len(set(firsts)) < len(firsts):
            notes.append("options share their first token")
        diag = {"n_prompt_tokens": len(prompt_ids), "option_tokens": [len(o) for o in options]}
        if notes:
            diag["tokenisation"] = "; ".join(notes)
        return ScoreRequest(tuple(prompt_ids), tuple(options)), diag

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        return [p for p, _ in self._predict(batch, self._scorer)]

    def _predict(self, batch: Sequence[DecisionPoint], scorer=None) -> list[tuple[Prediction, Any]]:
        """(prediction, the scorer's hidden states or None) per decision."""
        self.load()
        scorer = scorer or self._scorer
        encoded = [self.encode(dp) for dp in batch]
        notes = Counter(d["tokenisation"] for _, d in encoded if "tokenisation" in d)
        for note, n in notes.items():  # said once per kind, and kept per decision in the diagnostics
            warnings.warn(f"{self.name}: {note} ({n} of {len(batch)} decisions)", TokenisationWarning, stacklevel=2)
        results = scorer.score([r for r, _ in encoded], desc=self.name)
        out = []
        for dp, (_, diag), res in zip(batch, encoded, results):
            probs = dict(zip(dp.legal_actions, res.probs))
            out.append((Prediction(dp.decision_id, probs,
                                   {**diag, "mass": res.mass,
                                    "logprobs": dict(zip(dp.legal_actions, res.logprobs))}), res.hidden))
        return out

    def depth(self) -> int:
        """The number of decoder blocks (loads the model)."""
        self.load()
        return len(decoder_blocks(self._model))

    def hidden_states(self, decisions: Sequence[DecisionPoint], layers: Sequence[float | int] | None = None
                      ) -> tuple[list[int], "np.ndarray", list[Prediction]]:
        """(block numbers, (decisions, layers, hidden) float16 residual stream at each prompt's last token,
        the predictions) — read from the same forward pass that scores the options (``predictors.llm.hidden``;
        ``layers``: block numbers or relative depths, default ``hidden.DEFAULT_DEPTHS``)."""
        import numpy as np

        resolved = resolve_layers(layers, self.depth())
        pairs = self._predict(decisions, self._make_scorer(resolved))
        return resolved, np.stack([h for _, h in pairs]), [p for p, _ in pairs]

    def first_prompts(self, decisions: Sequence[DecisionPoint] = ()) -> dict[str, tuple[str, str]]:
        """Family -> (decision id, prompt exactly as tokenised) of the first prompt of each family scored
        here; a family of ``decisions`` not scored in this process (a resumed run, Ray workers) gets its
        first decision there rendered now, with the tokenizer alone."""
        todo: dict[str, DecisionPoint] = {}
        for dp in decisions:
            if dp.family not in self._first:
                todo.setdefault(dp.family, dp)
        if todo:
            self.load_tokenizer()
            for dp in todo.values():
                self.encode(dp)
        return dict(self._first)

    def write_prompts(self, folder: str | Path, decisions: Sequence[DecisionPoint] = ()) -> Path | None:
        """Write ``<folder>/<name>.txt``: each family's first prompt (see ``first_prompts``) under a
        ``=====`` line, followed by one newline; None (and no file) when there is no prompt to show."""
        prompts = self.first_prompts(decisions)
        if not prompts:
            return None
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        s = self.system
        told = f"{s.policy} ({s.source})" if s.policy != "text" else f"{s.text!r} ({s.source})"
        lines = [f"# What {self.name} was told: the first prompt of each game family, exactly as tokenised "
                 "(special tokens written out).",
                 f"# model {self.source.spec}, format {self.format}, system: {told}", ""]
        for family, (decision_id, text) in prompts.items():
            lines += [f"===== {family}: decision {decision_id} =====", text]
        path = folder / (re.sub(r"[^\w.+-]", "_", self.name) + ".txt")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def _system_record(self) -> dict[str, Any]:
        """The policy, its text, where it was set, and the chat template's own default (once the tokenizer
        is loaded): the text ``system: template`` would add, and ``none`` removes."""
        tt = self._template_tok or self._tok
        default = (formats.template_system(tt).default
                   if self.format == "chat" and getattr(tt, "chat_template", None) else None)
        return {"policy": self.system.policy, "text": self.system.text or None, "source": self.system.source,
                "template_default": default}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "model": self.source.spec, "hf_id": self.source.hf_id,
                "kind": self.source.kind, "format": self.format, "system": self._system_record(),
                "chat_template_from": self.template_source.spec if self.template_source else None,
                "prompt": {"name": self.variant.name, "source": self.variant.source, "template": self.variant.template,
                           "system": self.variant.system, "stub": self.variant.stub},
                "weights": self.weights, "engine": self.engine, "forward_batch": self.forward_batch,
                "max_nodes": self.max_nodes, "batch_tokens": self.batch_tokens, "attention": self.attention,
                "engine_fallback": getattr(self._scorer, "fallback", None),
                "device": self.device or self.device_request,
                "first_prompt": next(iter(self._first.values()))[1] if self._first else None}
