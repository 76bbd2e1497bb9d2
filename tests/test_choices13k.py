"""choices13k: loader counts against the csv, rates, prompt, normative rules, bad files, predictors, metrics."""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import warnings
from pathlib import Path

import pytest
from pettingzoo.test import api_test, seed_test

from analysis.metrics import summarise
from envs.live import play
from envs.lotteries import FAMILY, FEEDBACK_FAMILY, LotteryEnv, env, load_trajectories, normative, prompt
from envs.lotteries.loader import CSV_NAME, JSON_NAME
from envs.quality import DataFormatError, DataQualityWarning
from envs.records import DecisionPoint
from envs.registry import get_family
from envs.replay import replay, replay_all
from predictors.feature_logit import FeatureLogit
from predictors.normative import NormativePredictor
from sim import datasets
from predictors.table import to_frame, to_rows


@pytest.fixture(scope="module")
def c13k_dir(data_root: Path) -> Path:
    folder = data_root / "choices13k"
    if not (folder / CSV_NAME).exists() or not (folder / JSON_NAME).exists():
        pytest.skip("choices13k data not found: run `gamereplay data fetch choices13k`")
    return folder


@pytest.fixture(scope="module")
def csv_rows(c13k_dir: Path) -> list[dict[str, str]]:
    with open(c13k_dir / CSV_NAME, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _load(folder: Path, feedback: bool = False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return load_trajectories(folder, feedback=feedback)


@pytest.fixture(scope="module")
def loaded(c13k_dir: Path):
    return {fb: _load(c13k_dir, fb) for fb in (False, True)}


@pytest.fixture(scope="module")
def decisions(loaded) -> list[DecisionPoint]:
    return replay_all(loaded[False][0], get_family(FAMILY).make_env, progress=False)


def _dp(a, b, amb: bool = False, rate: float | None = None) -> DecisionPoint:
    """A hand-built decision (no data needed)."""
    params = {"A": [list(o) for o in a], "B": [list(o) for o in b], "Amb": amb, "Corr": 0, "Feedback": False}
    human = "B" if rate is None or rate >= 0.5 else "A"
    return DecisionPoint("t/r1", "t", FAMILY, "risk", "t", "chooser", 1, ("A", "B"), human, "B", params, (),
                         human_rate=rate, n_people=None if rate is None else 10)


# -- environment -------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:We recommend agents to be named")  # the one seat is "chooser", by design
def test_pettingzoo_api():
    api_test(LotteryEnv(), num_cycles=10)
    api_test(LotteryEnv(((1.0, 3.0),), ((0.5, 0.0), (0.5, 8.0)), amb=True, corr=1), num_cycles=10)


def test_pettingzoo_seed():
    seed_test(lambda: env(), num_cycles=10)


def test_replay_gives_one_decision_per_problem(loaded, decisions):
    trajectories, report = loaded[False]
    assert len(decisions) == len(trajectories) == report.decisions
    assert all(dp.history == () and dp.round == 1 and dp.legal_actions == ("A", "B") for dp in decisions)
    assert all(dp.participant_id == str(dp.params["problem"]) for dp in decisions)


def test_live_choice_replays_into_a_decision():
    e = LotteryEnv(((1.0, 5.0),), ((0.5, 0.0), (0.5, 20.0)))
    log = play(e, {"chooser": lambda obs, info: 1}, seed=3)
    assert log[0][0] == "chooser" and log[0][1] == 1 and log[0][2] in (0.0, 20.0)
    t = e.to_trajectory("live/0")
    (dp,) = replay(t, LotteryEnv.from_trajectory)
    assert dp.human_action == "B" and dp.human_rate is None


def test_ambiguous_observation_hides_b_probabilities():
    e = LotteryEnv(((1.0, 3.0),), ((0.25, 0.0), (0.75, 8.0)), amb=True)
    e.reset(seed=0)
    obs = e.observe("chooser")
    assert list(obs[:2]) == [1.0, 3.0]
    b = obs[20:24]
    assert list(b) == [-1.0, 0.0, -1.0, 8.0]


# -- loader ------------------------------------------------------------------------------------
def test_loader_counts_match_the_csv(loaded, csv_rows):
    no_fb = [r for r in csv_rows if r["Feedback"] == "False"]
    fb = [r for r in csv_rows if r["Feedback"] == "True"]
    assert len(no_fb) + len(fb) == len(csv_rows)
    for flag, rows in ((False, no_fb), (True, fb)):
        trajectories, report = loaded[flag]
        assert not report.skipped, [str(i) for i in report.skipped[:3]]
        assert report.trajectories == len(trajectories) == len(rows)
        assert {t.participant_id for t in trajectories} == {r["Problem"] for r in rows}
        assert {t.family for t in trajectories} == {FEEDBACK_FAMILY if flag else FAMILY}
    problems = {t.participant_id for fl in (False, True) for t in loaded[fl][0]}
    assert problems == {r["Problem"] for r in csv_rows}


def test_decision_rate_is_brate(decisions, csv_rows):
    by_problem = {r["Problem"]: r for r in csv_rows if r["Feedback"] == "False"}
    for dp in decisions:
        row = by_problem[dp.participant_id]
        assert dp.human_rate == float(row["bRate"])
        assert dp.n_people == int(row["n"])
        assert dp.human_action == ("B" if float(row["bRate"]) >= 0.5 else "A")
        assert dp.params["Amb"] == (row["Amb"] == "True")


def test_registry_loads_both_families(c13k_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        a, _ = get_family(FAMILY).load(c13k_dir)
        b, _ = get_family(FEEDBACK_FAMILY).load(c13k_dir)
    assert a and b and all(not t.params["Feedback"] for t in a) and all(t.params["Feedback"] for t in b)


# -- prompt ------------------------------------------------------------------------------------
def _mentions(text: str, x: float) -> bool:
    verb = "lose" if x < 0 else "win"
    return re.search(rf"{verb} {re.escape(prompt.money(x))}(?!\.?\d)", text) is not None


def test_prompt_mentions_every_outcome_and_hides_ambiguous_probabilities(decisions):
    assert any(dp.params["Amb"] for dp in decisions) and not all(dp.params["Amb"] for dp in decisions)
    for dp in decisions:
        parts = prompt.render(dp)
        assert parts["history"] == ""
        assert '{"decision": "A"}' in parts["question"] and '{"decision": "B"}' in parts["question"]
        line_a, line_b = (next(ln for ln in parts["rules"].splitlines() if ln.startswith(f"Gamble {s}:"))
                          for s in "AB")
        for side, line in (("A", line_a), ("B", line_b)):
            for p, x in dp.params[side]:
                if p > 0:
                    assert _mentions(line, x), (dp.decision_id, side, x, line)
        if dp.params["Amb"]:
            assert "%" not in line_b and "unknown" in line_b
        else:
            assert "%" in line_b or "for sure" in line_b


def test_prompt_wording():
    dp = _dp([[0.95, 26.0], [0.050000000000000044, -1.0]], [[0.8, 3.0], [0.2, 86.5]])
    rules = prompt.render(dp)["rules"]
    assert "Gamble A: a 95% chance to win $26 and a 5% chance to lose $1." in rules
    assert "Gamble B: an 80% chance to win $3 and a 20% chance to win $86.50." in rules
    assert prompt.option_text("B") == "B"


# -- normative rules ---------------------------------------------------------------------------
def test_ev_rule_on_hand_computed_problems():
    # A: .95*26 + .05*(-1) = 24.65; B: .95*21 + .05*23 = 21.1 -> A
    probs, diag = normative.rule(_dp([[0.95, 26], [0.05, -1]], [[0.95, 21], [0.05, 23]]))
    assert probs == {"A": 1.0, "B": 0.0}
    assert diag["value_a"] == pytest.approx(24.65) and diag["value_b"] == pytest.approx(21.1)
    # a sure 10 against 50-50 of 0 or 20: equal expected values -> 1/2 each
    assert normative.rule(_dp([[1.0, 10]], [[0.5, 0], [0.5, 20]]))[0] == {"A": 0.5, "B": 0.5}
    # B = 25% -$36, 75% $45 has EV 24.75 < 26 -> A
    assert normative.rule(_dp([[1.0, 26]], [[0.25, -36], [0.75, 45]]))[0]["A"] == 1.0


def test_ambiguity_uses_equal_probabilities():
    # true EV of B is 10 < 30, but with B's probabilities unknown both outcomes count 1/2: 50 > 30
    a, b = [[1.0, 30]], [[0.9, 0], [0.1, 100]]
    assert normative.rule(_dp(a, b))[0]["B"] == 0.0
    probs, diag = normative.rule(_dp(a, b, amb=True))
    assert probs["B"] == 1.0 and diag["value_b"] == pytest.approx(50.0)


def test_cara_prefers_the_safer_gamble_where_ev_prefers_the_riskier():
    dp = _dp([[1.0, 50]], [[0.5, 110], [0.5, 0]])  # EV(B) = 55 > 50
    assert normative.rule(dp, "ev")[0]["B"] == 1.0
    probs, diag = normative.rule(dp, "cara")
    a = normative.CARA_A
    assert probs["A"] == 1.0
    assert diag["value_b"] == pytest.approx(-math.log(0.5 * math.exp(-110 * a) + 0.5) / a)
    with pytest.raises(ValueError, match="unknown"):
        normative.rule(dp, "prospect")


def test_features_are_finite_numbers(decisions):
    for dp in decisions[:300]:
        f = normative.features(dp)
        assert all(math.isfinite(v) for v in f.values())
    f = normative.features(_dp([[0.5, 10], [0.5, -10]], [[1.0, 1]]))
    assert f["ev_diff"] == pytest.approx(1.0) and f["sd_a"] == pytest.approx(10.0) and f["p_loss_a"] == 0.5


# -- malformed files ---------------------------------------------------------------------------
HEADER = "Problem,Feedback,n,Block,Ha,pHa,La,Hb,pHb,Lb,LotShapeB,LotNumB,Amb,Corr,bRate,bRate_std"
GOOD_ROW = "{p},False,{n},1,26,0.95,-1,23,0.05,21,0,1,False,0,{rate},0.3"
GOOD_ENTRY = {"A": [[0.95, 26.0], [0.05, -1.0]], "B": [[0.95, 21.0], [0.05, 23.0]]}


def _write(folder: Path, rows: list[str], entries: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CSV_NAME).write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    (folder / JSON_NAME).write_text(json.dumps(entries), encoding="utf-8")
    return folder


def test_bad_rows_become_load_issues(tmp_path):
    rows = [GOOD_ROW.format(p=1, n=15, rate=0.4),
            GOOD_ROW.format(p=2, n=15, rate=1.3),  # rate outside [0, 1]
            GOOD_ROW.format(p=3, n=0, rate=0.5),  # n not positive
            GOOD_ROW.format(p=4, n=2.5, rate=0.5),  # n not an integer
            GOOD_ROW.format(p=5, n=15, rate=0.5),  # entry missing from the json
            GOOD_ROW.format(p=6, n=15, rate=0.5),  # B's probabilities sum to 0.9
            GOOD_ROW.format(p=7, n=15, rate=0.5),  # json entry is another problem
            GOOD_ROW.format(p=1, n=15, rate=0.5)]  # problem 1 again
    entries = {str(i): GOOD_ENTRY for i in range(8) if i != 4}
    entries["5"] = {"A": GOOD_ENTRY["A"], "B": [[0.85, 21.0], [0.05, 23.0]]}
    entries["6"] = {"A": [[0.5, 26.0], [0.5, -1.0]], "B": GOOD_ENTRY["B"]}
    folder = _write(tmp_path / "c13k", rows, entries)
    with pytest.warns(DataQualityWarning):
        trajectories, report = load_trajectories(folder)
    assert [t.participant_id for t in trajectories] == ["1"]
    csv_path, json_path = str(folder / CSV_NAME), str(folder / JSON_NAME)
    got = {(i.path, i.row, i.field, i.kind) for i in report.issues}
    assert got == {(csv_path, 3, "bRate", "bad_rate"), (csv_path, 4, "n", "bad_count"),
                   (csv_path, 5, "n", "bad_count"), (json_path, 6, "4", "missing_problem"),
                   (json_path, 7, "5/B", "probabilities_not_one"), (json_path, 8, "6/A", "json_mismatch"),
                   (csv_path, 9, "Problem", "duplicate_problem")}
    assert all(i.outcome == "skipped" for i in report.issues)


def test_minor_flaws_are_flagged_and_kept(tmp_path):
    row = GOOD_ROW.format(p=1, n=15, rate=0.5).replace(",0,0.5,0.3", ",2,0.5,oops")
    folder = _write(tmp_path / "c13k", [row], {"0": GOOD_ENTRY})
    with pytest.warns(DataQualityWarning):
        trajectories, report = load_trajectories(folder)
    assert len(trajectories) == 1 and set(trajectories[0].flags) == {"bad_corr", "bad_value"}
    assert {(i.field, i.outcome) for i in report.issues} == {("Corr", "flagged"), ("bRate_std", "flagged")}


def test_structural_problems_name_the_file(tmp_path):
    folder = _write(tmp_path / "missing_json", [GOOD_ROW.format(p=1, n=15, rate=0.5)], {})
    (folder / JSON_NAME).unlink()
    with pytest.raises(DataFormatError, match=re.escape(JSON_NAME)):
        load_trajectories(folder)
    with pytest.raises(DataFormatError, match=CSV_NAME):
        load_trajectories(tmp_path / "nowhere")
    folder = _write(tmp_path / "no_column", [], {})
    (folder / CSV_NAME).write_text(HEADER.replace(",bRate,", ",rate,") + "\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="bRate") as exc:
        load_trajectories(folder)
    assert exc.value.field == "bRate" and exc.value.path.endswith(CSV_NAME)
    folder = _write(tmp_path / "latin1", [GOOD_ROW.format(p=1, n=15, rate=0.5)], {"0": GOOD_ENTRY})
    (folder / CSV_NAME).write_bytes((HEADER + "\n1,False,15,1,26,0.95,-1,23,0.05,21,0,1,False,0,0.5,\xe9\n")
                                    .encode("latin-1"))
    with pytest.raises(DataFormatError, match="not UTF-8"):
        load_trajectories(folder)
    (folder / CSV_NAME).write_text(HEADER + "\n", encoding="utf-8")
    (folder / JSON_NAME).write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(DataFormatError, match=JSON_NAME):
        load_trajectories(folder)


def test_real_rows_survive_a_copy(c13k_dir, tmp_path):
    """The loader reads a copy of the real files the same way (no dependence on the folder's name)."""
    folder = tmp_path / "copy"
    folder.mkdir()
    for name in (CSV_NAME, JSON_NAME):
        shutil.copy(c13k_dir / name, folder / name)
    trajectories, report = _load(folder)
    assert report.trajectories == len(trajectories) > 0


# -- data set registry ------------------------------------------------------------------------
def test_checksums_match_the_local_copy(c13k_dir):
    ds = datasets.DATASETS["choices13k"]
    assert ds.folder(c13k_dir.parent) == c13k_dir
    for f in ds.files:
        assert datasets.sha256_of(c13k_dir / f.name) == f.sha256
    assert datasets.status("choices13k", c13k_dir.parent) == {f.name: "ok" for f in ds.files}
    assert {get_family(FAMILY).dataset, get_family(FEEDBACK_FAMILY).dataset} == {"choices13k"}


# -- predictors and metrics --------------------------------------------------------------------
def test_normative_predictor_and_metrics_on_rates(decisions):
    preds = NormativePredictor().predict(decisions)
    df = to_frame(to_rows("normative", decisions, preds))
    assert df["is_rate"].all()
    m = summarise(df)
    assert m["n"] == len(decisions) and math.isfinite(m["pearson_r"]) and m["pearson_r"] > 0
    assert math.isfinite(m["log_loss"]) and 0 <= m["accuracy"] <= 1
    cara = NormativePredictor(variant="cara", epsilon=0.1).predict(decisions)
    assert all(abs(sum(p.probs.values()) - 1) < 1e-9 for p in cara)
    assert math.isfinite(summarise(to_frame(to_rows("cara", decisions, cara)))["pearson_r"])


def test_feature_logit_runs_on_problems(decisions):
    model = FeatureLogit(folds=5)
    model.validate(decisions)
    model.fit(decisions)
    preds = model.predict(decisions)
    m = summarise(to_frame(to_rows("feature-logit", decisions, preds)))
    assert math.isfinite(m["pearson_r"]) and m["pearson_r"] > 0
