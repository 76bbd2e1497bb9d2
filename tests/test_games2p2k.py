"""games2p2k: one-shot 2x2 games — loader, the respondent's view, counterbalancing, environment, Nash, OSF download.

The real data (osf.io/xrvaw) is not on this machine: a fixture writes a CSV of the same shape
(numpy-printed ``row_form_matrix``, tuple-string ``topology``, both roles, a count column), and the
OSF download runs against a local http.server answering fake JSON:API listings.
"""

from __future__ import annotations

import csv
import hashlib
import http.server
import io
import json
import math
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from pettingzoo.test import api_test, seed_test

from analysis.metrics import summarise
from envs.live import play
from envs.one_shot import OneShotEnv, bimatrix_from_row_form, env, human_view, load_trajectories, normative, prompt
from analysis.counterbalance import counterbalance, split_decision_id
from envs.one_shot.game import labelled, parse_numbers
from envs.one_shot.loader import role_consistency
from envs.quality import DataFormatError, DataQualityWarning
from envs.records import HUMAN, OPPONENT
from envs.registry import get_family
from envs.replay import replay_all
from predictors.base import Prediction
from predictors.feature_logit import FeatureLogit
from predictors.nash import SELECTIONS, NashPredictor
from predictors.normative import NormativePredictor
from sim import cli, datasets
from sim.dataset_base import PartialFetchError
from sim.osf import LISTING_NAME
from predictors.table import to_frame, to_rows

G2 = datasets.DATASETS["games2p2k"]
HEADER = ["game_id", "unique_id", "role", "row_form_matrix", "topology", "up_choice", "n", "notes"]
PD = [3, 3, 0, 5, 5, 0, 1, 1]  # (r11, c11, r12, c12, r21, c21, r22, c22): cooperate = first, defect dominates
ASYM = [21, 10, 24, 17, 2, 19, 6, 4]  # the example of the brief: a game that is not symmetric
BOS = [3, 2, 0, 0, 0, 0, 2, 3]  # Battle of the Sexes: mixed equilibrium P(row plays first) = 3/5


def numpy_style(numbers) -> str:
    return str(np.array(numbers))  # "[21 10 24 17  2 19  6  4]": numpy's own spacing


def games() -> list[tuple[str, list[float], str]]:
    """(game id, eight numbers, topology) — three named games and nine with distinct random payoffs."""
    rng = np.random.default_rng(7)
    out = [("g0", PD, "('dilemma', 'dilemma')"), ("g1", ASYM, "('dilemma', 'hero')"),
           ("g2", BOS, "('hero', 'hero')")]
    for k in range(3, 12):
        out.append((f"g{k}", [int(x) for x in rng.permutation(np.arange(1, 41))[:8]], "('harmony', 'chicken')"))
    return out


def csv_text(rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    w.writerows(rows)
    return buf.getvalue()


def good_rows() -> list[list]:
    rows, uid = [], 0
    spellings = {"row": ["row", "Row", "row player"], "col": ["col", "Column", "col_player"]}
    for k, (gid, numbers, topo) in enumerate(games()):
        for role in ("row", "col"):
            rate = round(0.05 + 0.9 * ((k * 7 + (role == "col") * 3) % 10) / 9, 3)
            rows.append([gid, f"u{uid}", spellings[role][k % 3], numpy_style(numbers), topo, rate, 40 + k, "x"])
            uid += 1
    return rows


@pytest.fixture
def data_folder(tmp_path) -> Path:
    folder = tmp_path / "games2p2k"
    (folder / "raw").mkdir(parents=True)
    (folder / "games2p2k_main.csv").write_text(csv_text(good_rows()))
    (folder / "raw" / "trials.csv").write_text("subject,trial,choice\n1,1,0\n")  # lacks the columns
    return folder


def load(folder: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return load_trajectories(folder)


@pytest.fixture
def decisions(data_folder):
    trajectories, _ = load(data_folder)
    return replay_all(trajectories, get_family("games2p2k").make_env, progress=False)


def by_id(decisions):
    return {dp.decision_id: dp for dp in decisions}


def dp_of(decisions, game: str, role: str, presentation: str = "original"):
    return by_id(decisions)[f"games2p2k/{game}/{role}/{presentation}/r1"]


# -- the matrix and the respondent's view ---------------------------------------------------------

def test_row_form_mapping_by_hand():
    assert parse_numbers("[21 10 24 17  2 19  6  4]") == ASYM
    assert parse_numbers(numpy_style(PD)) == PD and numpy_style(PD).startswith("[3 3 0 5")
    assert parse_numbers("[ 1.5, 2 ,3 4 5 6 7 8 ]") == [1.5, 2, 3, 4, 5, 6, 7, 8]
    row, col = bimatrix_from_row_form(ASYM)
    assert row.tolist() == [[21, 24], [2, 6]]  # r11 r12 / r21 r22
    assert col.tolist() == [[10, 17], [19, 4]]  # c11 c12 / c21 c22


def test_column_role_view_is_transpose_and_swap():
    row, col = bimatrix_from_row_form(ASYM)
    mine, theirs = human_view(row, col, "col")
    assert mine.tolist() == [[10, 19], [17, 4]] and theirs.tolist() == [[21, 2], [24, 6]]
    assert [m.tolist() for m in human_view(row, col, "row")] == [row.tolist(), col.tolist()]
    # the respondent's payoff in each cell is unchanged: my strategy j against their i
    for i in range(2):
        for j in range(2):
            assert mine[j, i] == col[i, j] and theirs[j, i] == row[i, j]


def test_decisions_carry_the_respondents_view(decisions):
    row_dp, col_dp = dp_of(decisions, "g1", "row"), dp_of(decisions, "g1", "col")
    assert row_dp.params["row_payoffs"] == [[21, 24], [2, 6]] and row_dp.params["col_payoffs"] == [[10, 17], [19, 4]]
    assert col_dp.params["row_payoffs"] == [[10, 19], [17, 4]] and col_dp.params["col_payoffs"] == [[21, 2], [24, 6]]
    assert col_dp.params["actions"] == ["X", "Y"] and col_dp.legal_actions == ("X", "Y")
    assert col_dp.role == "col" and col_dp.params["role"] == "col"
    text = prompt.render(col_dp)["rules"]
    assert ("If you choose Option X and the other player chooses Option A, then you win 10 points and the other "
            "player wins 21 points.") in text
    assert "If you choose Option Y and the other player chooses Option B, then you win 4 points" in text


def test_role_consistency_tells_the_two_readings_apart():
    turned = [10, 21, 19, 2, 17, 24, 4, 6]  # ASYM from the column player's side, in row form
    got = role_consistency({"a": {"row": tuple(ASYM), "col": tuple(ASYM)},
                            "b": {"row": tuple(ASYM), "col": tuple(turned)},
                            "c": {"row": tuple(ASYM), "col": tuple(PD)}, "d": {"row": tuple(PD)}})
    assert got.startswith("3: 1 with the same matrix") and "1 with the column role's matrix already turned" in got
    assert got.endswith("1 with unrelated matrices")


# -- the loader ------------------------------------------------------------------------------------

def test_loader_reads_every_game_and_role_twice(data_folder):
    trajectories, report = load(data_folder)
    rows = good_rows()
    assert len(trajectories) == 2 * len(rows) == report.trajectories == report.decisions
    assert report.files == [str(data_folder / "games2p2k_main.csv")] and not report.issues
    assert report.stats["games"] == 12 and "12 row, 12 col" in report.stats["games x roles kept"]
    assert report.stats["games with both roles"].startswith("12: 12 with the same matrix for both roles")
    t = next(t for t in trajectories if t.trajectory_id == "games2p2k/g1/col/swapped")
    assert (t.game, t.participant_id, t.role, t.params["topology"]) == ("dilemma/hero", "g1", "col", "dilemma/hero")
    assert t.params["row_form_matrix"] == ASYM and t.params["unique_id"] == "u3"
    assert t.events[0].data["rate"] == rows[3][5] and t.events[0].data["n_people"] == 41
    assert "rate" not in t.params  # what people did is never in what predictors see


def test_decisions_are_rates_with_majority_action(decisions):
    rows = {(r[0], "row" if r[2].lower().startswith("row") else "col"): r for r in good_rows()}
    assert len(decisions) == 2 * len(rows)
    for dp in decisions:
        r = rows[(dp.participant_id, dp.role)]
        assert dp.human_rate == r[5] and dp.n_people == r[6] and dp.affirmative == "X" and dp.history == ()
        assert dp.human_action == ("X" if r[5] >= 0.5 else "Y") and dp.round == 1
        assert dp.family == "games2p2k" and not dp.flags


def test_loader_finds_the_main_csv_and_says_what_it_looked_at(tmp_path):
    folder = tmp_path / "g"
    folder.mkdir()
    (folder / "a.csv").write_text("game_id,role\n1,row\n")
    (folder / "b.csv").write_text("x,y\n")
    with pytest.raises(DataFormatError) as err:
        load_trajectories(folder)
    msg = str(err.value)
    assert "a.csv (lacks row_form_matrix, up_choice)" in msg and "b.csv (lacks game_id" in msg
    with pytest.raises(DataFormatError, match="no .csv file"):
        load_trajectories(tmp_path / "empty")


def test_missing_column_and_non_utf8_are_format_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("game_id,role,row_form_matrix\n1,row,[1 2 3 4 5 6 7 8]\n")
    with pytest.raises(DataFormatError) as err:
        load_trajectories(tmp_path, csv_path=bad)
    assert err.value.path == str(bad) and err.value.field == "up_choice"
    latin = tmp_path / "latin.csv"
    latin.write_bytes(csv_text([["g\xe9", "u", "row", "[1 2 3 4 5 6 7 8]", "('a', 'b')", 0.5, 3, ""]])
                      .encode("latin-1"))
    with pytest.raises(DataFormatError) as err:
        load_trajectories(tmp_path, csv_path=latin)
    assert err.value.path == str(latin) and err.value.row == 2 and "UTF-8" in str(err.value)


def test_malformed_rows_are_issues_with_file_row_and_field(tmp_path):
    ok = numpy_style(PD)
    rows = [["a", "u1", "row", ok, "('dilemma', 'dilemma')", 0.2, 30, ""],  # line 2: fine
            ["b", "u2", "row", "[1 2 x 4 5 6 7 8]", "('a', 'b')", 0.5, 30, ""],  # unparseable matrix
            ["c", "u3", "row", "[1 2 3 4 5 6 7]", "('a', 'b')", 0.5, 30, ""],  # 7 numbers
            ["d", "u4", "row", ok, "('a', 'b')", 1.3, 30, ""],  # rate outside [0, 1]
            ["e", "u5", "both", ok, "('a', 'b')", 0.5, 30, ""],  # unknown role
            ["f", "u1", "col", ok, "('a', 'b')", 0.5, 30, ""],  # duplicate unique_id
            ["a", "u7", "Row", ok, "('a', 'b')", 0.5, 30, ""],  # the same game and role again
            ["g", "u8", "col", ok, "dilemma hero", 0.5, "many", ""],  # kept, flagged twice
            ["h", "u9", "row", ok, "('a', 'b')", "", 30, ""]]  # no rate
    path = tmp_path / "main.csv"
    path.write_text(csv_text(rows))
    with pytest.warns(DataQualityWarning):
        trajectories, report = load_trajectories(tmp_path)
    got = {(i.row, i.field, i.kind, i.outcome) for i in report.issues}
    assert got == {(3, "row_form_matrix", "bad_matrix", "skipped"), (4, "row_form_matrix", "bad_matrix", "skipped"),
                   (5, "up_choice", "bad_rate", "skipped"), (6, "role", "unknown_role", "skipped"),
                   (7, "unique_id", "duplicate_unique_id", "skipped"), (8, "game_id", "duplicate_game_role", "skipped"),
                   (9, "n", "bad_count", "flagged"), (9, "topology", "bad_topology", "flagged"),
                   (10, "up_choice", "bad_rate", "skipped")}
    assert all(i.path == str(path) for i in report.issues)
    assert "expected 8 numbers, got 7" in next(i.message for i in report.issues if i.row == 4)
    assert sorted({t.participant_id for t in trajectories}) == ["a", "g"] and report.decisions == 4
    assert report.stats["games with both roles"].startswith("0: ")
    g = next(t for t in trajectories if t.participant_id == "g")
    assert set(g.flags) == {"bad_count", "bad_topology"} and g.game == "dilemma hero" and g.meta["n_people"] is None
    decisions = replay_all(trajectories, get_family("games2p2k").make_env, progress=False)
    assert [dp.n_people for dp in decisions if dp.participant_id == "g"] == [None, None]


# -- counterbalancing ------------------------------------------------------------------------------

def test_counterbalanced_pairs_differ_only_in_listing_order(decisions):
    ids = by_id(decisions)
    originals = [dp for dp in decisions if dp.params["presentation"] == "original"]
    assert len(originals) * 2 == len(decisions)
    for o in originals:
        s = ids[o.decision_id.replace("/original/", "/swapped/")]
        assert (s.human_rate, s.human_action, s.affirmative, s.legal_actions, s.participant_id, s.game) == \
               (o.human_rate, o.human_action, o.affirmative, o.legal_actions, o.participant_id, o.game)
        assert {k: v for k, v in s.params.items() if k != "presentation"} == \
               {k: v for k, v in o.params.items() if k != "presentation"}
        po, ps = prompt.render(o), prompt.render(s)
        assert "between Option X and Option Y" in po["rules"] and "between Option Y and Option X" in ps["rules"]
        assert po["options"] == "Option X or Option Y" and ps["options"] == "Option Y or Option X"
        assert '{"decision": "Y"} or {"decision": "X"}' in ps["question"]
        lines_o = [x for x in po["rules"].splitlines() if x.startswith("If you choose")]
        lines_s = [x for x in ps["rules"].splitlines() if x.startswith("If you choose")]
        assert lines_s == lines_o[2:] + lines_o[:2] and lines_s[0].startswith("If you choose Option Y")
        assert po["history"] == "" and po["round"] == "1"


def test_prompt_states_every_payoff_of_both_players(decisions):
    text = prompt.render(dp_of(decisions, "g0", "row"))["rules"]
    for mine, theirs, me, other in (("X", "A", 3, 3), ("X", "B", 0, 5), ("Y", "A", 5, 0), ("Y", "B", 1, 1)):
        point = lambda v: f"{v} point" + ("" if v == 1 else "s")  # noqa: E731
        assert (f"If you choose Option {mine} and the other player chooses Option {theirs}, then you win "
                f"{point(me)} and the other player wins {point(other)}.") in text
    assert prompt.option_text("Y") == "Y"


class FirstListedBias:
    """A fake predictor: P(X) = base, plus ``shift`` when X is listed first, minus it when listed second."""

    def __init__(self, shift: float):
        self.shift = shift

    def predict(self, batch):
        out = []
        for dp in batch:
            base = 0.3 + 0.4 * dp.human_rate
            p = base + (self.shift if dp.params["presentation"] == "original" else -self.shift)
            out.append(Prediction(dp.decision_id, {"X": p, "Y": 1 - p}))
        return out


def test_counterbalance_averages_presentations_and_measures_the_gap(decisions):
    rows = []
    for name, shift in (("biased", 0.1), ("fair", 0.0)):
        rows += to_rows(name, decisions, FirstListedBias(shift).predict(decisions))
    table = to_frame(rows)
    result = counterbalance(table[~table["decision_id"].eq("games2p2k/g5/row/swapped/r1")])
    bias = result.bias.set_index("predictor")
    assert bias.loc["biased", "gap"] == pytest.approx(0.2)
    assert bias.loc["biased", "first_listed_shift"] == pytest.approx(0.2)
    assert bias.loc["fair", "gap"] == pytest.approx(0.0) and bias.loc["fair", "max_gap"] == pytest.approx(0.0)
    assert bias.loc["biased", "pairs"] == 23  # g5/row lost its swapped presentation
    avg = result.averaged
    assert len(avg) == 2 * 24 and set(avg["n_presentations"]) == {1, 2}
    for _, r in avg[(avg["predictor"] == "biased") & (avg["n_presentations"] == 2)].iterrows():
        assert r["p_affirmative"] == pytest.approx(0.3 + 0.4 * r["human_rate"])
        assert json.loads(r["probs"])["Y"] == pytest.approx(1 - r["p_affirmative"])
        assert r["p_original"] - r["p_swapped"] == pytest.approx(0.2)
    lone = avg[(avg["predictor"] == "biased") & (avg["decision_id"] == "games2p2k/g5/row")].iloc[0]
    assert lone["n_presentations"] == 1 and lone["p_affirmative"] == pytest.approx(lone["p_original"])
    assert math.isnan(lone["p_swapped"])
    fair = avg[avg["predictor"] == "fair"]
    assert summarise(fair)["brier"] == pytest.approx(summarise(table[table["predictor"] == "fair"])["brier"])
    assert split_decision_id("games2p2k/g1/col/swapped/r1") == ("games2p2k/g1/col", "swapped")


# -- the environment -------------------------------------------------------------------------------

def test_pettingzoo_api():
    api_test(OneShotEnv(), num_cycles=10)
    api_test(OneShotEnv(labelled([[21.0, 24], [2, 6]], [[10.0, 17], [19, 4]])), num_cycles=10)


def test_pettingzoo_seed():
    seed_test(lambda: env(), num_cycles=10)


def test_replay_gives_one_decision_per_trajectory(data_folder):
    trajectories, report = load(data_folder)
    decisions = replay_all(trajectories, get_family("games2p2k").make_env, progress=False)
    assert [dp.trajectory_id for dp in decisions] == [t.trajectory_id for t in trajectories]
    assert len(decisions) == report.decisions


def test_environment_observations_and_live_play(data_folder):
    trajectories, _ = load(data_folder)
    t = next(t for t in trajectories if t.trajectory_id == "games2p2k/g1/col/original")
    e = OneShotEnv.from_trajectory(t)
    e.reset(seed=0)
    assert e.observe(HUMAN).tolist() == [10, 19, 17, 4, 21, 2, 24, 6]  # own payoffs, then the other's
    assert e.observe(OPPONENT).tolist() == [21, 24, 2, 6, 10, 17, 19, 4]  # the opponent sees the original game
    e.step(1)
    e.step(0)
    assert e.rewards == {HUMAN: 17.0, OPPONENT: 24.0} and all(e.terminations.values())
    assert e.infos[HUMAN]["moves"] == {HUMAN: "Y", OPPONENT: "A"} and e.render() == "human Y (17), opponent A (24)"
    log = play(e, {HUMAN: lambda obs, info: 1, OPPONENT: lambda obs, info: 0}, seed=0)
    assert log == [(HUMAN, 1, 0.0), (OPPONENT, 0, 24.0)] and not e.agents


# -- normative rule, the nash predictor, features --------------------------------------------------

def test_nash_rule_on_the_prisoners_dilemma_is_the_dominant_strategy(decisions):
    for role in ("row", "col"):
        for pres in ("original", "swapped"):
            probs, diag = normative.rule(dp_of(decisions, "g0", role, pres))
            assert probs == pytest.approx({"X": 0.0, "Y": 1.0}) and diag["n_equilibria"] == 1
    probs, diag = normative.rule(dp_of(decisions, "g2", "row"))
    assert probs["X"] == pytest.approx(3 / 5) and diag["n_equilibria"] == 3 and diag["n_pure_equilibria"] == 2
    probs, _ = normative.rule(dp_of(decisions, "g2", "col"))  # the column player mixes to make the row indifferent
    assert probs["X"] == pytest.approx(2 / 5)
    probs, _ = normative.rule(dp_of(decisions, "g2", "row"), variant="payoff_dominant")
    assert probs["X"] in (0.0, 1.0)
    assert normative.VARIANTS == SELECTIONS
    with pytest.raises(ValueError, match="unknown games2p2k normative variant"):
        normative.rule(dp_of(decisions, "g2", "row"), variant="bogus")


def test_nash_and_normative_predictors_run_unchanged(decisions):
    nash = {p.decision_id: p.probs for p in NashPredictor("mixed").predict(decisions)}
    norm = NormativePredictor().predict(decisions)
    assert len(norm) == len(decisions)
    for p in norm:
        assert p.probs == pytest.approx(nash[p.decision_id])
    assert nash["games2p2k/g0/col/swapped/r1"] == pytest.approx({"X": 0.0, "Y": 1.0})
    trembled = NormativePredictor(variant={"games2p2k": "average"}, epsilon=0.1).predict(decisions[:2])
    assert all(min(p.probs.values()) >= 0.05 - 1e-12 for p in trembled)


def test_features_and_feature_logit(decisions):
    f = normative.features(dp_of(decisions, "g0", "row"))
    assert f["own_dominant"] == -1.0 and f["other_dominant"] == -1.0 and f["reply_to_other_dominant"] == -1.0
    assert f["symmetric"] == 1.0 and f["nash_p"] == 0.0 and f["own_gain_vs_first"] == -2.0
    assert f["joint_gain_mean"] == pytest.approx(((3 + 3 + 0 + 5) - (5 + 0 + 1 + 1)) / 2)
    g = normative.features(dp_of(decisions, "g1", "col"))
    assert g["symmetric"] == 0.0 and g["own_gain_vs_first"] == -7.0 and g["own_gain_vs_second"] == 15.0
    assert all(math.isfinite(v) for dp in decisions for v in normative.features(dp).values())
    model = FeatureLogit(folds=3)
    model.fit(decisions)
    preds = model.predict(decisions)
    assert all(math.isclose(sum(p.probs.values()), 1.0) for p in preds)


def test_qre_runs_on_one_shot_games_from_each_roles_view(decisions):
    """QRE fits one λ on aggregate rates (n_people binomial choices) and predicts each role from its own view:
    with a huge λ it approaches the dominant strategy in the Prisoner's Dilemma, for both roles."""
    from predictors.qre import QREPredictor, qre_row_strategy

    pred = QREPredictor(folds=2)
    pred.validate(decisions)
    pred.fit(decisions)
    preds = {p.decision_id: p for p in pred.predict(decisions)}
    assert len(preds) == len(decisions)
    for dp in decisions:
        p = preds[dp.decision_id]
        strat = qre_row_strategy(dp.params["row_payoffs"], dp.params["col_payoffs"], p.diagnostics["lambda"])
        assert p.probs == pytest.approx(dict(zip(dp.params["actions"], strat)))
    for role in ("row", "col"):
        dp = dp_of(decisions, "g0", role)
        assert qre_row_strategy(dp.params["row_payoffs"], dp.params["col_payoffs"], 20.0)[1] > 0.99

def test_family_is_registered():
    fam = get_family("games2p2k")
    assert fam.dataset == "games2p2k" and fam.option_text("X") == "X"
    assert all(fam.provides(part) for part in ("prompt", "stage_game", "normative", "features"))


# -- the OSF download ------------------------------------------------------------------------------

class FakeOsf:
    """A JSON:API server like OSF's: a two-page root listing, a sub-folder, and the files' download links."""

    def __init__(self, files: dict[str, bytes], base: str):
        self.files = dict(files)  # served bytes by path below the storage root
        self.listed = dict(files)  # what the listing's hashes describe
        self.base, self.requests = base, []
        self.md5_only = {"raw/trials.csv"}
        self.no_hash: set[str] = set()

    def item(self, rel: str) -> dict:
        data = self.listed[rel]
        hashes = {"md5": hashlib.md5(data).hexdigest(),
                  "sha256": None if rel in self.md5_only else hashlib.sha256(data).hexdigest()}
        if rel in self.no_hash:
            hashes = {"md5": None, "sha256": None}
        return {"id": rel, "type": "files",
                "attributes": {"name": rel.rsplit("/", 1)[-1], "kind": "file", "size": len(data),
                               "materialized_path": "/" + rel, "extra": {"hashes": hashes}},
                "links": {"download": f"{self.base}/download/{rel}"}}

    def listing(self, path: str) -> dict | None:
        root = "/v2/nodes/xrvaw/files/osfstorage/"
        folder = {"id": "raw", "type": "files",
                  "attributes": {"name": "raw", "kind": "folder", "materialized_path": "/raw/"},
                  "relationships": {"files": {"links": {"related": {"href": f"{self.base}/v2/folders/raw/",
                                                                     "meta": {}}}}}}
        top = sorted(r for r in self.listed if "/" not in r)
        if path == root:
            return {"data": [folder] + [self.item(r) for r in top[:2]],
                    "links": {"first": None, "next": f"{self.base}{root}?page=2", "meta": {"total": 5}}}
        if path == root + "?page=2":
            return {"data": [self.item(r) for r in top[2:]], "links": {"next": None}}
        if path == "/v2/folders/raw/":
            return {"data": [self.item(r) for r in sorted(self.listed) if r.startswith("raw/")], "links": {}}
        return None

    def downloads(self) -> list[str]:
        return sorted(r[len("/download/"):] for r in self.requests if r.startswith("/download/"))


@pytest.fixture
def osf(request):
    """(FakeOsf, API base URL) serving the fixture CSV as the main file, plus others."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    fake = FakeOsf({"games2p2k_main.csv": csv_text(good_rows()).encode(),
                    "codebook.csv": b"column,meaning\nup_choice,share choosing up\n",
                    "README.md": b"not a csv\n",
                    "raw/trials.csv": b"subject,trial,choice\n1,1,0\n"}, base)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            fake.requests.append(self.path)
            listing = fake.listing(self.path)
            if listing is not None:
                body, ctype = json.dumps(listing).encode(), "application/vnd.api+json"
            elif self.path.startswith("/download/") and self.path[len("/download/"):] in fake.files:
                body, ctype = fake.files[self.path[len("/download/"):]], "application/octet-stream"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server.RequestHandlerClass = Handler
    threading.Thread(target=server.serve_forever, daemon=True).start()
    request.addfinalizer(server.shutdown)
    return fake, f"{base}/v2"


WANTED = ["codebook.csv", "games2p2k_main.csv", "raw/trials.csv"]


def test_osf_fetch_walks_pages_and_folders_and_verifies(osf, tmp_path):
    fake, url = osf
    with pytest.raises(datasets.DatasetError, match="run `gamereplay data fetch games2p2k`"):
        datasets.require("games2p2k", tmp_path)
    assert datasets.summary("games2p2k", tmp_path).state == "missing"
    done = G2.fetch(tmp_path, base_url=url, progress=False)
    assert (done.folder, done.downloaded, done.present, done.failed) == (tmp_path / "games2p2k", 3, 0, ())
    assert fake.downloads() == WANTED  # README.md is not a CSV: never fetched
    assert "/v2/nodes/xrvaw/files/osfstorage/?page=2" in fake.requests and "/v2/folders/raw/" in fake.requests
    for rel in WANTED:
        assert (tmp_path / "games2p2k" / rel).read_bytes() == fake.files[rel]
    assert {(e.rel, e.hash_kind) for e in G2.read_listing(tmp_path)} == {
        ("codebook.csv", "sha256"), ("games2p2k_main.csv", "sha256"), ("raw/trials.csv", "md5")}
    assert datasets.status("games2p2k", tmp_path) == {rel: "ok" for rel in WANTED}
    assert datasets.summary("games2p2k", tmp_path) == datasets.DataSummary("present", ("3 of 3 files ok",))
    assert datasets.require("games2p2k", tmp_path) == tmp_path / "games2p2k"
    trajectories, report = load(datasets.require("games2p2k", tmp_path))  # the loader finds the main CSV
    assert report.files == [str(tmp_path / "games2p2k" / "games2p2k_main.csv")] and len(trajectories) == 48


def test_osf_wrong_hash_is_refused_and_the_rerun_gets_only_it(osf, tmp_path):
    fake, url = osf
    fake.files["codebook.csv"] = b"tampered\n"
    with pytest.raises(PartialFetchError) as err:
        G2.fetch(tmp_path, base_url=url, progress=False)
    msg = str(err.value)
    assert "1 of 3 files failed" in msg and "codebook.csv" in msg and "checksum mismatch" in msg
    assert err.value.summary.failed == ("codebook.csv",) and err.value.summary.downloaded == 2
    folder = tmp_path / "games2p2k"
    assert not (folder / "codebook.csv").exists()
    assert not [p for p in folder.rglob(".*") if p.is_file()]  # no temporary file left
    assert datasets.status("games2p2k", tmp_path)["codebook.csv"] == "missing"
    assert datasets.summary("games2p2k", tmp_path).state == "incomplete"
    fake.files["codebook.csv"] = fake.listed["codebook.csv"]  # upstream fixed
    fake.requests.clear()
    done = G2.fetch(tmp_path, base_url=url, progress=False)
    assert (done.downloaded, done.present) == (1, 2) and fake.downloads() == ["codebook.csv"]


def test_osf_fetch_resumes_only_what_is_missing_or_differs(osf, tmp_path):
    fake, url = osf
    G2.fetch(tmp_path, base_url=url, progress=False)
    fake.requests.clear()
    assert (G2.fetch(tmp_path, base_url=url, progress=False).downloaded, fake.downloads()) == (0, [])
    folder = tmp_path / "games2p2k"
    (folder / "raw" / "trials.csv").unlink()
    (folder / "codebook.csv").write_bytes(b"column,meaning\nlocal edit\n")
    (folder / ".codebook.csv.abc.part").write_bytes(b"left by a killed fetch")
    st = datasets.status("games2p2k", tmp_path)
    assert st == {"codebook.csv": "checksum mismatch", "games2p2k_main.csv": "ok", "raw/trials.csv": "missing"}
    done = G2.fetch(tmp_path, base_url=url, progress=False)
    assert (done.downloaded, done.present) == (2, 1) and fake.downloads() == ["codebook.csv", "raw/trials.csv"]
    assert not (folder / ".codebook.csv.abc.part").exists()
    assert G2.fetch(tmp_path, base_url=url, force=True, progress=False).downloaded == 3


def test_osf_listing_without_a_hash_is_refused(osf, tmp_path):
    fake, url = osf
    fake.no_hash.add("codebook.csv")
    with pytest.raises(datasets.DatasetError, match="no sha256 or md5"):
        G2.fetch(tmp_path, base_url=url, progress=False)
    assert not (tmp_path / "games2p2k" / "games2p2k_main.csv").exists()


def test_osf_unreachable_is_a_clear_error(tmp_path):
    with pytest.raises(datasets.DatasetError, match="could not list osf.io/xrvaw"):
        G2.fetch(tmp_path, base_url="http://127.0.0.1:9", timeout=2, progress=False)


def test_osf_from_a_local_copy(osf, tmp_path):
    fake, url = osf
    G2.fetch(tmp_path / "a", base_url=url, progress=False)
    copy = G2.fetch(tmp_path / "b", from_clone=tmp_path / "a" / "games2p2k", progress=False)
    assert copy.downloaded == 3 and (tmp_path / "b" / "games2p2k" / "raw" / "trials.csv").is_file()
    assert datasets.summary("games2p2k", tmp_path / "b").state == "present"  # no listing: not checked
    with pytest.raises(datasets.DatasetError, match="has no file matching"):
        G2.fetch(tmp_path / "c", from_clone=tmp_path / "nothing", progress=False)


def test_cli_fetch_list_and_check(osf, tmp_path, capsys):
    _, url = osf
    data = str(tmp_path / "data")
    assert cli.main(["data", "fetch", "games2p2k", "--base-url", url, "--data-dir", data]) == 0
    assert "games2p2k: ok" in capsys.readouterr().out
    assert cli.main(["data", "list", "--data-dir", data]) == 0
    out = capsys.readouterr().out
    assert "  games2p2k: present" in out and "    3 of 3 files ok" in out
    assert cli.main(["data", "check", "games2p2k", "--data-dir", data]) == 0
    out = capsys.readouterr().out
    assert "== games2p2k" in out and "decisions replayed through the environment: 48" in out
    assert "replay and loader disagree" not in out
    assert LISTING_NAME == "LISTING.osf.tsv"


def test_a_file_cut_inside_its_last_row_is_refused_with_file_row_and_field(tmp_path):
    text = csv_text(good_rows())
    cut = text[: text.rstrip("\n").rfind(",", 0, len(text) - 12)]  # stop inside the last row, no line end
    folder = tmp_path / "games2p2k"
    folder.mkdir()
    (folder / "games2p2k_main.csv").write_text(cut)
    with pytest.raises(DataFormatError, match=r"games2p2k_main\.csv, row \d+, field '\w+': the file ends inside"):
        load(folder)
