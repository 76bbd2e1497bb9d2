"""The README's "Use it from Python" example, as written there: load -> replay -> predict -> metrics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def readme_snippet() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Use it from Python"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs_and_scores_every_decision(data_root, monkeypatch, capsys):
    monkeypatch.setenv("GAMEREPLAY_DATA", str(data_root))
    scope: dict = {}
    exec(compile(readme_snippet(), "README.md", "exec"), scope)  # noqa: S102 - our own documentation
    table, decisions = scope["table"], scope["decisions"]
    assert len(table) == len(decisions) == 3900
    assert table["p_affirmative"].between(0, 1).all()
    out = capsys.readouterr().out
    assert "pearson_r" in out and "repeated_matrix" in out


def test_the_public_names_resolve():
    import analysis
    import envs
    import predictors
    import sim

    for module in (envs, predictors, analysis, sim):
        for name in module.__all__:
            assert getattr(module, name) is not None
        with pytest.raises(AttributeError):
            getattr(module, "no_such_name")


def test_the_readme_predictor_plugin_runs_from_a_config(data_root, tmp_path):
    """"Add a predictor" as written: the module, a config naming it under plugins:, a run."""
    from sim.cli import main

    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Add a predictor"):]
    (tmp_path / "my_predictors.py").write_text(re.search(r"```python\n(.*?)```", section, re.S).group(1))
    (tmp_path / "run.yaml").write_text("name: plugin\ndata: {family: repeated_matrix}\nplugins: [my_predictors.py]\n"
                                       "predictors:\n  - type: copy-last\n    stay: 0.8\n  - type: uniform\n")
    out = tmp_path / "run"
    assert main(["run", str(tmp_path / "run.yaml"), "--out", str(out), "--limit", "3", "--quiet",
                 "--data-dir", str(data_root)]) == 0
    import pandas as pd

    table = pd.read_parquet(out / "predictions.parquet")
    mine = table[table["predictor"] == "copy-last"]
    later = mine[mine["round"] > 1]
    assert len(mine) == 60 and set(later["p_top"].round(6)) == {0.8}  # 3 people x 2 games x 10 rounds
    assert (mine[mine["round"] == 1]["p_top"] == 0.5).all()
