"""The main install needs no compiler: pygambit (QRE) is the ``[qre]`` extra, and ``type: qre``
without it fails with one line naming the extra — when the config is built, before data or models load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]


def _requirement_names(reqs: list[str]) -> set[str]:
    return {Requirement(r).name.lower() for r in reqs}


def test_pygambit_is_an_extra_that_the_test_suite_installs():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert "pygambit" not in _requirement_names(project["dependencies"])  # no C++ build in the first command
    assert "pygambit" in _requirement_names(extras["qre"])
    assert "pygambit" in _requirement_names(extras["dev"])  # the suite (and so .ci/run) keeps testing QRE


@pytest.fixture
def no_pygambit(monkeypatch):
    """As if pygambit were not installed: ``find_spec`` answers None and ``import pygambit`` fails."""
    monkeypatch.setitem(sys.modules, "pygambit", None)


def test_building_a_qre_predictor_without_pygambit_names_the_extra(no_pygambit):
    from predictors.registry import build

    with pytest.raises(ValueError, match=r"pip install 'gamereplay\[qre\]'") as err:
        build("qre", folds=5)
    assert "\n" not in str(err.value)


def test_tracing_a_qre_without_pygambit_names_the_extra(no_pygambit):
    from predictors.qre import qre_path

    row = np.array([[7.25, 0.5], [3.0, 1.75]])  # a game no other test traces: nothing cached
    with pytest.raises(ValueError, match=r"gamereplay\[qre\]"):
        qre_path(row, row.T, [0.3])


def test_a_qre_run_without_pygambit_fails_in_one_line_before_reading_data(no_pygambit, tmp_path, capsys):
    from sim import cli

    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"name": "q", "data": {"family": "repeated_matrix"},
                                   "predictors": [{"type": "uniform"}, {"type": "qre"}]}))
    empty = tmp_path / "no-data"  # were data read first, this would fail with a data-set error instead
    empty.mkdir()
    code = cli.main(["run", str(cfg), "--out", str(tmp_path / "run"), "--data-dir", str(empty), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "\n" not in err and "predictors[1] (qre)" in err and "pip install 'gamereplay[qre]'" in err
    assert not (tmp_path / "run").exists()


def test_the_common_path_does_not_import_pygambit():
    """Building a config's predictors (a qre one included) must not import pygambit: only tracing does."""
    code = ("import sys\n"
            "from sim import cli, config, runner\n"
            "from predictors.registry import build\n"
            "for t in ('uniform', 'nash', 'qre'):\n"
            "    try:\n"
            "        build(t)\n"
            "    except ValueError:\n"  # qre where pygambit is not installed
            "        pass\n"
            "assert 'pygambit' not in sys.modules, 'pygambit was imported'\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
