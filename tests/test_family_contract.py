"""The contract every game family meets — run over every registered family, so a new one is tested for free.

Families: the built-in ones (``envs.registry``), every YAML family shipped in ``configs/families/``, the
example plugin's family (``examples/``) and any family an installed package registers through the
``gamereplay.families`` entry point.  For each: PettingZoo's ``api_test`` and ``seed_test`` on its
environment; every loaded trajectory replays and the decisions counted equal the loader's (the data check's)
count; no decision point holds a later event; prompts render under every built-in wording variant in both
formats; normative and equilibrium probabilities sum to 1 over the legal actions; features are finite.
A family whose data is not on this machine is skipped (its own tests build data of its shape).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest
from pettingzoo.test import api_test, seed_test

from envs.quality import DataQualityWarning
from envs.records import HUMAN
from envs.registry import families, load_family_file
from envs.replay import replay_all

REPO = Path(__file__).resolve().parents[1]
YAML_FAMILIES = sorted((REPO / "configs" / "families").glob("*.yaml")) + sorted(
    p for p in (REPO / "examples").glob("*/*/*.yaml") if "configs" not in p.parts)
SAMPLE = 40  # decisions per family for the per-decision checks (all of them are replayed)
YAML = {load_family_file(path).name: path for path in YAML_FAMILIES}
NAMES = sorted(families())


@pytest.fixture(scope="module")
def loaded(request, data_root, tmp_path_factory):
    """name -> (family, trajectories, report, decisions), loaded once per family."""
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            cache[name] = _load(name, data_root, tmp_path_factory)
        return cache[name]

    return get


def _load(name, data_root, tmp_path_factory):
    from sim.datasets import DatasetError, family_folder

    fam = families()[name]
    if name == "games2p2k" and not (data_root / "games2p2k").exists():
        from test_games2p2k import csv_text, good_rows  # the loader tests' file of the same shape

        folder = tmp_path_factory.mktemp("games2p2k")
        (folder / "games2p2k_main.csv").write_text(csv_text(good_rows()))
    else:
        try:
            folder = family_folder(fam, data_root)
        except DatasetError as exc:
            pytest.skip(f"{name}: no data here ({exc})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        trajectories, report = fam.load(folder)
        decisions = replay_all(trajectories, fam.make_env, progress=False)
    assert trajectories, f"{name}: the loader kept no trajectory"
    return fam, trajectories, report, decisions


def _sample(decisions):
    step = max(1, len(decisions) // SAMPLE)
    return decisions[::step][:SAMPLE]


@pytest.mark.parametrize("name", NAMES)
def test_environment_passes_pettingzoo_api_and_seed_tests(name, loaded):
    fam, trajectories, _, _ = loaded(name)
    t = trajectories[0]
    api_test(fam.make_env(t), num_cycles=10)
    seed_test(lambda: fam.make_env(t), num_cycles=10)


@pytest.mark.parametrize("name", NAMES)
def test_every_trajectory_replays_into_the_counted_decisions(name, loaded):
    fam, trajectories, report, decisions = loaded(name)
    assert len(decisions) == report.decisions > 0
    assert len({dp.decision_id for dp in decisions}) == len(decisions)
    assert {dp.family for dp in decisions} == {fam.name}
    assert {dp.trajectory_id for dp in decisions} <= {t.trajectory_id for t in trajectories}


@pytest.mark.parametrize("name", NAMES)
def test_no_decision_point_holds_a_later_event(name, loaded):
    _, trajectories, _, decisions = loaded(name)
    by_id = {t.trajectory_id: t for t in trajectories}
    used: dict[str, set[int]] = {}
    for dp in decisions:
        events = list(by_id[dp.trajectory_id].events)
        taken = used.setdefault(dp.trajectory_id, set())
        # the logged human move this decision stands for: the first unused one of its round and action
        own = next(i for i, e in enumerate(events) if i not in taken and e.actor == HUMAN and e.round == dp.round
                   and e.action == dp.human_action)
        taken.add(own)
        for e in dp.history:
            assert e.round <= dp.round
            positions = [i for i, f in enumerate(events) if f == e]
            assert positions and min(positions) < own, f"{dp.decision_id}: {e} is not an earlier logged event"


@pytest.mark.parametrize("name", NAMES)
def test_prompts_render_under_every_variant_and_format(name, loaded, chat_tokenizer):
    from predictors.llm import formats, variants

    fam, _, _, decisions = loaded(name)
    if not fam.provides("prompt"):
        pytest.skip(f"{name} has no prompt")
    for variant in map(variants.load_variant, variants.builtin_names()):
        system = formats.resolve_system(None, variant.system, variant.name)
        for dp in _sample(decisions):
            body = variant.body(fam.prompt(dp))
            assert body.strip() and "{" + "rules}" not in body
            for fmt in ("plain", "chat"):
                text, _ = formats.render(body, system, fmt, chat_tokenizer, variant.stub)
                assert text.endswith(variant.stub) and body in text
    assert all(fam.option_text(a).strip() for a in decisions[0].legal_actions)


@pytest.mark.parametrize("name", NAMES)
def test_normative_and_equilibrium_probabilities_sum_to_one(name, loaded):
    from envs.equilibria import SELECTIONS
    from predictors.nash import NashPredictor

    fam, _, _, decisions = loaded(name)
    if not fam.provides("normative"):
        pytest.skip(f"{name} has no normative rule")
    sample = _sample(decisions)
    for variant in (None, *fam.normative_variants):
        for dp in sample:
            probs, _ = fam.normative(dp, variant)
            assert set(probs) <= set(dp.legal_actions)
            assert sum(probs.values()) == pytest.approx(1.0) and min(probs.values()) >= 0
    if fam.provides("stage_game"):
        for selection in SELECTIONS:  # Prediction itself refuses probabilities that do not sum to 1
            assert len(NashPredictor(selection).predict(sample)) == len(sample)


@pytest.mark.parametrize("name", NAMES)
def test_features_are_finite_and_named_alike(name, loaded):
    fam, _, _, decisions = loaded(name)
    if not fam.provides("features"):
        pytest.skip(f"{name} has no features")
    sample = _sample(decisions)
    names = set(fam.features(sample[0]))
    for dp in sample:
        f = fam.features(dp)
        assert set(f) == names and all(math.isfinite(float(v)) for v in f.values())


@pytest.mark.parametrize("name", NAMES)
def test_cells_and_variables_are_plain_values(name, loaded):
    fam, _, _, decisions = loaded(name)
    for dp in _sample(decisions):
        hash(fam.cell(dp))
        v = fam.variables(dp)
        assert {"round", "game"} <= set(v)
        assert all(isinstance(x, (str, int, float, bool)) or x is None for x in v.values())


def test_shipped_yaml_families_are_among_the_tested(data_root):
    assert set(YAML) <= set(NAMES)
