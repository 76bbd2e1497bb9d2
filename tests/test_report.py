"""`gamereplay report`: the page is self-contained, every figure is present and loads in a real browser."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess

import numpy as np
import pytest
import yaml

from analysis.report import FIGURES, write_report
from envs.records import DecisionPoint
from predictors.base import Prediction
from sim.cli import main
from predictors.table import to_frame, to_rows
from envs.records import write_decisions


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A small run the test builds: two families, a base/aligned pair, the normative rule, a baseline."""
    rng = np.random.default_rng(0)
    run = tmp_path_factory.mktemp("run")
    dps = []
    for fam, actions in (("fam_a", ("accept", "reject")), ("fam_b", ("J", "F"))):
        for person in range(30):
            for rnd in range(1, 6):
                act = actions[0] if rng.random() < 0.4 + 0.08 * rnd else actions[1]
                dps.append(DecisionPoint(f"{fam}/{person}/r{rnd}", f"{fam}/{person}", fam, "g", str(person), "p",
                                         rnd, actions, act, actions[0], {"stakes": 100 * (person % 3 + 1)}, ()))
    rows = []
    y = np.array([dp.human_action == dp.affirmative for dp in dps], float)
    signals = {"base": 0.6 * y + 0.4 * rng.random(len(dps)), "aligned": 0.2 * y + 0.8 * rng.random(len(dps)),
               "normative": (rng.random(len(dps)) < 0.5).astype(float)}
    for name, p in signals.items():
        preds = [Prediction(dp.decision_id, {dp.legal_actions[0]: float(q), dp.legal_actions[1]: float(1 - q)},
                            {"mass": 0.9} if name != "normative" else {}) for dp, q in zip(dps, np.clip(p, 0, 1))]
        rows += to_rows(name, dps, preds)
    to_frame(rows).to_parquet(run / "predictions.parquet", index=False)
    write_decisions(dps, run / "decisions.jsonl")
    (run / "config.yaml").write_text(yaml.safe_dump({
        "name": "synthetic", "description": "built by the test",
        "pairs": [{"base": "base", "aligned": "aligned", "label": "synthetic pair", "matched": False}],
        "analysis": {"bootstrap": 200}}))
    return run


def test_report_is_self_contained_with_every_figure(run_dir):
    html_path, md_path = write_report(run_dir)
    page = html_path.read_text()
    for fid, _, _ in FIGURES:
        m = re.search(rf"<figure id='{fid}'><img alt='[^']*' src='data:image/png;base64,([^']+)'>", page)
        assert m, f"figure {fid} missing"
        assert base64.b64decode(m.group(1))[:8] == b"\x89PNG\r\n\x1a\n"
    assert "http://" not in page and "https://" not in page  # nothing fetched from elsewhere
    assert "unmatched" in page.lower()
    md = md_path.read_text()
    assert "## Metrics per family" in md and "synthetic" in md and "| base |" in md.replace("|base|", "| base |")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_page_loads_in_headless_chromium_with_all_figures(run_dir, tmp_path):
    html_path, _ = write_report(run_dir, tmp_path)
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom",
           html_path.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'data-figures-loaded="(\d+)/(\d+)"', dom)
    assert m, "the page's load script did not run"
    assert m.group(1) == m.group(2) == str(len(FIGURES))


def test_report_cli(run_dir, tmp_path, capsys):
    assert main(["report", str(run_dir), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.html").exists() and "report.html" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "nothing-here")]) == 2
