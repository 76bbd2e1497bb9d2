"""The study as a config: configs/paper_pairs*.yaml against the paper's pair table and their generator."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from sim.config import load

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
TABLE = CONFIGS / "paper_pairs_models.tsv"
# the paper's own table, where this checkout has the shared reference folder next to or inside it
REFERENCES = [ROOT / "shared" / "reference" / "paper_pairs.tsv", ROOT.parent / "shared" / "reference" / "paper_pairs.tsv"]
GENERATED = ["paper_pairs.yaml", "paper_pairs_small.yaml", "paper_pairs.md"]
HF_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")
STUDY_FAMILIES = ["repeated_matrix", "glee_bargaining", "glee_persuasion", "glee_negotiation", "choices13k",
                  "games2p2k"]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _key(pair: dict) -> tuple[str, str]:
    return pair["base"], pair["aligned"]


@pytest.fixture(scope="module")
def table():
    return _rows(TABLE)


@pytest.fixture(scope="module")
def full():
    return load(CONFIGS / "paper_pairs.yaml")


@pytest.fixture(scope="module")
def small():
    return load(CONFIGS / "paper_pairs_small.yaml")


def _llms(cfg) -> dict[str, dict]:
    return {p["name"]: p for p in cfg.predictors if p["type"] == "llm"}


def test_table_is_the_papers_table(table):
    assert len(table) == 120
    assert [r["pair"] for r in table] == [str(i) for i in range(1, 121)]
    cols = ["pair", "family", "base_model", "aligned_model", "size_b"]
    for ref in (p for p in REFERENCES if p.exists()):
        assert [[r[c] for c in cols] for r in table] == [[r[c] for c in cols] for r in _rows(ref)]
    for r in table:
        assert r["source"].strip() and r["provider"].strip(), r["pair"]
        for side in ("base", "aligned"):
            assert HF_ID.fullmatch(r[f"{side}_hf_id"]), r


def test_both_configs_load_with_the_study_families_and_baselines(full, small):
    for cfg in (full, small):
        assert cfg.families == STUDY_FAMILIES
        types = [p["type"] for p in cfg.predictors]
        assert {"normative", "population-rate", "feature-logit"} <= set(types)
        assert next(p for p in cfg.predictors if p["type"] == "normative")["epsilon"] == 0.05
        assert cfg.analysis == {"mass_threshold": 0.8, "r_threshold": 0.3, "bootstrap": 5000}
        assert all(p["matched"] is True for p in cfg.pairs)


def test_every_pair_once_with_org_name_ids(full, table):
    llms = _llms(full)
    keys = Counter(_key(p) for p in full.pairs)
    assert len(full.pairs) == 120 and max(keys.values()) == 1
    by_key = {_key(p): p for p in full.pairs}
    for r in table:
        pair = by_key[(r["base_model"], r["aligned_model"])]
        assert pair["label"] == f"{r['pair']}: {r['base_model']} vs {r['aligned_model']}"
        assert pair["provider"] == r["family"]
        for side in ("base", "aligned"):
            spec = llms[pair[side]]
            assert HF_ID.fullmatch(spec["model"]), spec
            assert spec["model"] == r[f"{side}_hf_id"]
            assert spec["kind"] == side


def test_small_config_is_the_pairs_under_2b(small, table):
    want = [(r["base_model"], r["aligned_model"]) for r in table if float(r["size_b"]) < 2]
    assert [_key(p) for p in small.pairs] == want
    assert len(want) > 0
    used = {name for p in small.pairs for name in _key(p)}
    assert set(_llms(small)) == used  # only the models of those pairs


@pytest.mark.parametrize("config", ["paper_pairs.yaml", "paper_pairs_small.yaml"])
def test_no_model_listed_twice(config):
    cfg = load(CONFIGS / config)
    names = [p.get("name") or p.get("model") or p["type"] for p in cfg.predictors]
    ids = [p["model"] for p in cfg.predictors if p["type"] == "llm"]
    assert len(names) == len(set(names))
    assert len(ids) == len(set(ids))
    used = {name for p in cfg.pairs for name in _key(p)}
    assert set(_llms(cfg)) == used  # no model outside a pair


def test_generator_reproduces_the_committed_files(tmp_path):
    done = subprocess.run([sys.executable, str(CONFIGS / "make_paper_pairs.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (CONFIGS / name).read_bytes(), (
            f"configs/{name} is stale: run `python configs/make_paper_pairs.py`")


def test_predictors_build_without_weights(small):
    """Every spec instantiates (ids resolve as hub ids, nothing downloads); aligned models get their chat template."""
    from sim.runner import build_predictors

    llms = [p for p in build_predictors(small) if hasattr(p, "source")]
    assert len(llms) == len(_llms(small))
    for p in llms:
        assert p.source.hf_id == p.source.location == _llms(small)[p.name]["model"]
        assert p.format == ("chat" if p.source.kind == "aligned" else "plain")
