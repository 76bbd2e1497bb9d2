"""Write the study's run configs from the model table, deterministically.

    python configs/make_paper_pairs.py            # rewrites configs/paper_pairs*.yaml and configs/paper_pairs.md
    python configs/make_paper_pairs.py --out DIR  # writes them into DIR instead (the test compares the two)

The table, ``configs/paper_pairs_models.tsv``, is the 120 same-provider base/aligned pairs of
"Alignment Makes Language Models Normative, Not Descriptive" (/work/shared/reference/paper_pairs.tsv)
with every model name resolved to its Hugging Face id, and a ``source`` column saying how each
organisation was confirmed.  Edit the table (or the workload figures below), then run this script
and review the diff: the configs are never edited by hand.

Outputs:

- ``paper_pairs.yaml``: every pair, every model once, on all six families of the study;
- ``paper_pairs_small.yaml``: only the pairs whose models are under 2B parameters;
- ``paper_pairs.md``: the cost estimate behind both headers.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
TABLE = HERE / "paper_pairs_models.tsv"
COLUMNS = ["pair", "family", "base_model", "aligned_model", "size_b", "base_hf_id", "aligned_hf_id",
           "provider", "source"]
SMALL_BELOW_B = 2.0  # the small config: pairs whose size_b is below this (both models share the pair's size)

FAMILIES = ["repeated_matrix", "glee_bargaining", "glee_persuasion", "glee_negotiation", "choices13k", "games2p2k"]
FETCH = "gamereplay data fetch glee games2p2k choices13k akata2025_repeated_games"


@dataclass(frozen=True)
class Workload:
    """One data set's share of the work: scored decisions, distinct prompts and their mean length."""

    families: str
    decisions: int
    prompts: int
    tokens_per_prompt: int
    note: str

    @property
    def tokens(self) -> int:
        return self.prompts * self.tokens_per_prompt


# Local figures (README, data checks, measured prompt lengths).  Repeated games and GLEE score one
# prompt per decision; games2p2k's ~93,000 decisions share 2,416 games x 2 roles x 2 presentations
# = 9,664 prompts.  The token counts ignore the prefix sharing of the trie engine (histories repeat),
# so they are upper bounds for the repeated games and GLEE.
WORKLOADS = [
    Workload("repeated_matrix", 3_900, 3_900, 600, "195 people x 2 games x 10 rounds"),
    Workload("glee_bargaining", 1_788, 1_788, 300, "full upstream GLEE"),
    Workload("glee_persuasion", 3_180, 3_180, 1_000, "full upstream GLEE"),
    Workload("glee_negotiation", 1_182, 1_182, 420, "full upstream GLEE"),
    Workload("choices13k", 2_380, 2_380, 150, "no-feedback problems, the family default"),
    Workload("games2p2k", 93_000, 9_664, 250, "~93,000 decisions; 2,416 games x 2 roles x 2 presentations"),
]
PEAK_FLOPS = 1e15     # dense bf16 FLOP/s of an H100-class GPU (order of magnitude)
UTILISATION = 0.40    # assumed fraction of the peak a forward pass reaches
BYTES_PER_PARAM = 2   # bf16 weights


@dataclass(frozen=True)
class Model:
    name: str      # the paper's model name: the predictor's name
    hf_id: str
    kind: str      # "base" or "aligned"
    size_b: float


def read_table(path: Path = TABLE) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if not rows or list(rows[0]) != COLUMNS:
        raise ValueError(f"{path}: expected the columns {COLUMNS}")
    for row in rows:
        for side in ("base_hf_id", "aligned_hf_id"):
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*", row[side]):
                raise ValueError(f"{path}: pair {row['pair']}: {side} {row[side]!r} is not an org/name id")
    return rows


def small_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in rows if float(r["size_b"]) < SMALL_BELOW_B]


def models_of(rows: list[dict[str, str]]) -> list[Model]:
    """Every model once, in pair order (base before aligned); a model reused by another pair must agree."""
    seen: dict[str, Model] = {}
    for r in rows:
        for side, kind in (("base", "base"), ("aligned", "aligned")):
            m = Model(r[f"{side}_model"], r[f"{side}_hf_id"], kind, float(r["size_b"]))
            old = seen.setdefault(m.name, m)
            if old != m:
                raise ValueError(f"pair {r['pair']}: {m.name} disagrees with an earlier pair ({old} vs {m})")
    ids = [m.hf_id for m in seen.values()]
    if len(set(ids)) != len(ids):
        raise ValueError("two model names resolve to the same Hugging Face id")
    return list(seen.values())


def _num(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def _sci(x: float) -> str:
    mantissa, exp = f"{x:.2e}".split("e")
    return f"{mantissa}e{int(exp)}"


def cost(models: list[Model]) -> dict:
    params_b = round(sum(m.size_b for m in models), 3)
    tokens = sum(w.tokens for w in WORKLOADS)
    decisions = sum(w.decisions for w in WORKLOADS)
    flops = 2 * params_b * 1e9 * tokens
    seconds = flops / (PEAK_FLOPS * UTILISATION)
    return {"models": len(models), "params_b": params_b, "tokens_per_model": tokens, "decisions": decisions,
            "evaluations": decisions * len(models), "tokens": tokens * len(models), "flops": flops,
            "gpu_hours": seconds / 3600, "weights_gb": params_b * BYTES_PER_PARAM,
            "largest": max(m.size_b for m in models)}


def cost_lines(models: list[Model]) -> list[str]:
    """The arithmetic, as plain lines (used in the YAML header and the Markdown note)."""
    c = cost(models)
    out = ["per model (upper bound: no prefix sharing):"]
    for w in WORKLOADS:
        out.append(f"  {w.families:<17} {_num(w.decisions):>7} decisions, {_num(w.prompts):>6} prompts x "
                   f"{_num(w.tokens_per_prompt):>5} tokens = {_num(w.tokens / 1e6, 2):>5} M tokens  ({w.note})")
    out += [f"  total             {_num(c['decisions']):>7} decisions, {_num(c['tokens_per_model'] / 1e6, 2)} M tokens",
            f"x {c['models']} models = {_num(c['evaluations'])} decision scores, "
            f"{_num(c['tokens'] / 1e9, 2)} B prompt tokens",
            f"forward FLOPs = 2 x params x tokens = 2 x {_num(c['params_b'], 2)} B (sum over the models) x "
            f"{_num(c['tokens_per_model'] / 1e6, 2)} M = {_sci(c['flops'])}",
            f"at {UTILISATION:.0%} of {_sci(PEAK_FLOPS)} bf16 FLOP/s (H100 class): "
            f"{_sci(c['flops'])} / {_sci(PEAK_FLOPS * UTILISATION)} = {_num(c['gpu_hours'], 1)} GPU-hours of compute",
            f"plus loading: {_num(c['weights_gb'])} GB of bf16 weights to download and load"]
    return out


def _scalar(value) -> str:
    """A YAML scalar: plain where that reads back as the same string, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    s = str(value)
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/+-]*", s) and yaml.safe_load(s) == s:
        return s
    return json.dumps(s, ensure_ascii=False)


def render_yaml(rows: list[dict[str, str]], small: bool) -> str:
    models = models_of(rows)
    c = cost(models)
    name = "paper_pairs_small" if small else "paper_pairs"
    scope = (f"the {len(rows)} pairs whose models are under {SMALL_BELOW_B:g}B parameters" if small
             else f"all {len(rows)} same-provider base/aligned pairs")
    lines = [
        "# GENERATED by configs/make_paper_pairs.py from configs/paper_pairs_models.tsv: edit the table",
        "# (or the script), run `python configs/make_paper_pairs.py`, and commit the result.",
        "#",
        "# The study of \"Alignment Makes Language Models Normative, Not Descriptive\" (Shapira,",
        "# Tennenholtz, Reichart; arXiv 2603.17218, Appendix A, Table 3):",
        f"# {scope} ({len(models)} distinct models,",
        f"# {_num(c['params_b'], 2)} B parameters in all), each model once, on every family of the study this",
        "# project replays, next to the normative, population-rate and feature-logit baselines.",
        "# Run: gamereplay run configs/" + name + ".yaml; then gamereplay report runs/<this run>",
        "# compares each pair.",
        "#",
        "# Needs GPUs and internet:",
        "# - weights from the Hugging Face hub (each id downloads on first use; the gated repos of",
        "#   meta-llama and google need an accepted licence and HF_TOKEN);",
        f"# - the data: {FETCH}",
        f"# - memory: the largest model has {c['largest']:g}B parameters = {_num(c['largest'] * BYTES_PER_PARAM, 1)} GB "
        "in bf16; the loader puts",
        "#   a whole model on one device, so that GPU must hold it (see configs/paper_pairs.md).",
        "#",
        "# Cost estimate (configs/paper_pairs.md has the same arithmetic):",
    ]
    lines += [f"#   {x}" for x in cost_lines(models)]
    lines += [
        f"name: {name}",
        "description: " + _scalar(f"Shapira et al. (arXiv 2603.17218): {scope}, on all study families"),
        "data:",
        f"  family: [{', '.join(FAMILIES)}]",
        "predictors:",
        "  - type: normative",
        "    epsilon: 0.05",
        "  - type: population-rate",
        "  - type: feature-logit",
    ]
    for m in models:
        lines += ["  - type: llm",
                  f"    name: {_scalar(m.name)}",
                  f"    model: {_scalar(m.hf_id)}",
                  f"    kind: {m.kind}   # {m.size_b:g}B"]
    lines.append("pairs:")
    for r in rows:
        lines += [f"  - base: {_scalar(r['base_model'])}",
                  f"    aligned: {_scalar(r['aligned_model'])}",
                  f"    label: {_scalar(r['pair'] + ': ' + r['base_model'] + ' vs ' + r['aligned_model'])}",
                  f"    provider: {_scalar(r['family'])}",
                  "    matched: true"]
    lines += ["analysis:",
              "  mass_threshold: 0.8",
              "  r_threshold: 0.3",
              "  bootstrap: 5000"]
    return "\n".join(lines) + "\n"


def render_md(rows: list[dict[str, str]]) -> str:
    full, small = models_of(rows), models_of(small_rows(rows))
    cf, cs = cost(full), cost(small)
    out = [
        "# The paper's pairs as run configs: cost estimate",
        "",
        "GENERATED by `configs/make_paper_pairs.py` from `configs/paper_pairs_models.tsv` (edit those, re-run).",
        "",
        "`configs/paper_pairs.yaml` runs the 120 same-provider base/aligned pairs of \"Alignment Makes",
        f"Language Models Normative, Not Descriptive\" ({cf['models']} distinct models) on "
        f"{', '.join(FAMILIES)};",
        f"`configs/paper_pairs_small.yaml` only the {len(small_rows(rows))} pairs under {SMALL_BELOW_B:g}B parameters "
        f"({cs['models']} models).",
        "Both need GPUs and internet: model weights come from the Hugging Face hub (gated `meta-llama/` and",
        f"`google/` repos need an accepted licence and `HF_TOKEN`), the data from `{FETCH}`.",
        "",
        "## Arithmetic",
        "",
        "Forward cost ≈ 2 × parameters × tokens FLOPs; an H100-class GPU at an assumed "
        f"{UTILISATION:.0%} of ~{_sci(PEAK_FLOPS)} bf16 FLOP/s.",
        "",
        "| data set | decisions | prompts | tokens / prompt | M tokens / model | note |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for w in WORKLOADS:
        out.append(f"| {w.families} | {_num(w.decisions)} | {_num(w.prompts)} | {_num(w.tokens_per_prompt)} | "
                   f"{_num(w.tokens / 1e6, 2)} | {w.note} |")
    out.append(f"| **total** | {_num(cf['decisions'])} | | | {_num(cf['tokens_per_model'] / 1e6, 2)} | |")
    out += ["", "| config | models | Σ parameters | decision scores | prompt tokens | FLOPs | GPU-hours | bf16 weights |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label, c in (("paper_pairs", cf), ("paper_pairs_small", cs)):
        out.append(f"| {label} | {c['models']} | {_num(c['params_b'], 2)} B | {_num(c['evaluations'])} | "
                   f"{_num(c['tokens'] / 1e9, 2)} B | {_sci(c['flops'])} | {_num(c['gpu_hours'], 1)} | "
                   f"{_num(c['weights_gb'])} GB |")
    out += ["", "In words, for the full config:", "", "```"] + cost_lines(full) + ["```", "",
            "For the small config:", "", "```"] + cost_lines(small) + ["```", ""]
    out += [
        "## Caveats",
        "",
        "- The token counts ignore the trie engine's prefix sharing, so the repeated games and GLEE cost",
        "  less than this; games2p2k is already counted per distinct prompt.",
        "- Parameter counts are the table's nominal `size_b`; the mixture-of-experts models",
        "  (Qwen1.5-MoE-A2.7B, listed at 14B; OLMoE-1B-7B, listed at 7B) run fewer active parameters per",
        "  token, so they are overestimated.",
        "- Compute is not the whole bill: downloading and loading the weights "
        f"({_num(cf['weights_gb'])} GB for the full config,",
        f"  {_num(cs['weights_gb'])} GB for the small one) and per-decision overhead dominate for models "
        "below a few billion parameters.",
        f"- Memory: the loader places a whole model on one device. Models of {cf['largest']:g}B parameters need "
        f"{_num(cf['largest'] * BYTES_PER_PARAM)} GB",
        "  in bf16 plus activations: the 67-72B models do not fit one 80 GB GPU (nor, at 72B, one 141 GB",
        "  GPU) without a sharding loader; 32-34B models need more than 64 GB.",
        "- Some repositories may need `trust_remote_code` (e.g. MiMo-7B ships its own configuration code),",
        "  which the loader does not pass; and an aligned model without a chat template fails `kind: aligned`",
        "  (format chat) until it is given `format: plain` or `chat_template_from`.",
        "",
    ]
    return "\n".join(out)


def outputs(table: Path = TABLE) -> dict[str, str]:
    rows = read_table(table)
    return {"paper_pairs.yaml": render_yaml(rows, small=False),
            "paper_pairs_small.yaml": render_yaml(small_rows(rows), small=True),
            "paper_pairs.md": render_md(rows)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", type=Path, default=TABLE, help="the model table (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=HERE, help="folder to write into (default: configs/)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in outputs(args.table).items():
        (args.out / name).write_text(text, encoding="utf-8", newline="\n")
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
