"""Game families as data (envs.tabular): a YAML file and a table of decisions give a whole family.

Two made-up families: the repeated stag hunt shipped in tests/data (an opponent column, a
payoff column, rounds in a ``period`` column), and a responder game built here (accept or
reject an ``offer`` out of a ``stake``, a new offer each round, payoffs as expressions, an
opponent with the single action ``propose``).  Expected values are read from the CSV rows
with the csv module or derived from the payoffs written in the test, never from the code
under test.  Every error case must be one line naming the file and the key, row or field.
"""

from __future__ import annotations

import csv
import json
import shutil
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import yaml
from pettingzoo.test import api_test, seed_test

import envs.tabular
from envs.live import play
from envs.quality import DataFormatError, DataQualityWarning
from envs.records import HUMAN, OPPONENT
from envs.registry import load_family_file
from envs.replay import replay, replay_all
from envs.tabular import FamilySpecError, TabularEnv, env, load_family_yaml
from envs.tabular import spec as spec_mod
from predictors.registry import build

DATA = Path(__file__).resolve().parent / "data"
STAG_PAYOFFS = {("stag", "stag"): (10, 10), ("stag", "hare"): (0, 8), ("hare", "stag"): (8, 0),
                ("hare", "hare"): (8, 8)}
LABELS = {"S": "stag", "H": "hare"}


def quietly(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return fn(*args)


def stag_doc() -> dict:
    return yaml.safe_load((DATA / "stag_hunt.yaml").read_text())


def write_family(folder: Path, doc: dict, csv_text: str | None = None, name: str = "stag.yaml") -> Path:
    """A YAML family file in ``folder`` (with the stag hunt CSV beside it, or ``csv_text``)."""
    target = folder / doc["data"]["path"]
    if csv_text is None:
        shutil.copy(DATA / "stag_hunt.csv", target)
    else:
        target.write_text(csv_text)
    path = folder / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def csv_rows() -> list[dict[str, str]]:
    with open(DATA / "stag_hunt.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def stag():
    return load_family_file(DATA / "stag_hunt.yaml")


@pytest.fixture(scope="module")
def stag_loaded(stag):
    return quietly(stag.load)


@pytest.fixture(scope="module")
def stag_decisions(stag, stag_loaded):
    return replay_all(stag_loaded[0], stag.make_env, progress=False)


# -- the stag hunt: load, replay -----------------------------------------------------------------------
def test_load_gives_one_trajectory_per_instance(stag_loaded):
    trajectories, report = stag_loaded
    rows = csv_rows()
    instances = list(dict.fromkeys((r["subject"], r["pair"]) for r in rows))
    assert [t.trajectory_id for t in trajectories] == ["/".join(["stag_hunt_tiny", *k]) for k in instances]
    assert report.trajectories == len(instances) and report.decisions == len(rows)
    assert report.issues == [] and all(not t.flags for t in trajectories)
    assert {t.participant_id for t in trajectories} == {r["subject"] for r in rows}
    assert {t.game for t in trajectories} == {"stag_hunt_tiny"}  # no game column: the family's name


def test_replay_follows_the_period_column_not_the_file_order(stag_loaded, stag_decisions):
    assert len(stag_decisions) == stag_loaded[1].decisions
    by_subject: dict[str, list] = {}
    for r in sorted(csv_rows(), key=lambda r: int(r["period"])):
        by_subject.setdefault(r["subject"], []).append(r)
    for dp in stag_decisions:
        row = by_subject[dp.participant_id][dp.round - 1]
        assert int(row["period"]) == dp.round
        assert dp.human_action == LABELS[row["choice"]]
        assert dp.legal_actions == ("stag", "hare") and dp.affirmative == "stag"
        assert len(dp.history) == 2 * (dp.round - 1)
        for e in dp.history:
            past = by_subject[dp.participant_id][e.round - 1]
            if e.actor == HUMAN:
                assert (e.action, e.payoff) == (LABELS[past["choice"]], float(past["score"]))
            else:
                assert e.action == LABELS[past["other"]]
                assert e.payoff == STAG_PAYOFFS[(LABELS[past["choice"]], e.action)][1]


def test_prompt_parts_render(stag, stag_decisions):
    dp = next(d for d in stag_decisions if d.round == 3)
    parts = stag.prompt(dp)
    assert set(parts) == {"rules", "history", "question", "round", "options"}
    assert parts["rules"].startswith("You play a stag hunt with the same partner for 4 rounds.")
    for (a, b), (p, q) in STAG_PAYOFFS.items():
        assert f"If you hunt {a.title()} and your partner hunts {b.title()}, you get {p} and your partner {q}." \
            in parts["rules"]
    assert not parts["rules"].endswith("\n")
    lines = parts["history"].split("\n")
    assert len(lines) == 2 and lines[0].startswith("Round 1: you hunted ")
    assert parts["question"] == "Round 3 of 4: do you hunt Stag or Hare?"
    assert parts["options"] == "Stag or Hare" and parts["round"] == "3"
    assert stag.prompt(next(d for d in stag_decisions if d.round == 1))["history"] == ""
    assert stag.option_text("stag") == "Stag"


def _mixed_equilibrium_p_stag() -> float:
    """The human's stag probability that leaves the partner indifferent (the stag hunt's mixed equilibrium):
    p u(s,s) + (1-p) u(h,s) = p u(s,h) + (1-p) u(h,h), with u the partner's payoff (human's move first)."""
    u = {k: v[1] for k, v in STAG_PAYOFFS.items()}
    ss, hs, sh, hh = u[("stag", "stag")], u[("hare", "stag")], u[("stag", "hare")], u[("hare", "hare")]
    return (hh - hs) / (ss - hs - sh + hh)


def test_nash_and_normative(stag, stag_decisions):
    game = stag.stage_game(stag_decisions[0])
    assert {(a, b): game.payoff(a, b) for a, b in STAG_PAYOFFS} == STAG_PAYOFFS
    p = _mixed_equilibrium_p_stag()
    for type_name in ("nash", "normative"):
        predictor = build(type_name)
        predictor.validate(stag_decisions)
        for pred in predictor.predict(stag_decisions):
            assert pred.probs["stag"] == pytest.approx(p) and pred.probs["hare"] == pytest.approx(1 - p)
    dominant = build("nash", selection="payoff_dominant").predict(stag_decisions[:1])[0]
    assert dominant.probs["stag"] == pytest.approx(1.0)  # (stag, stag) pays both the most


def test_features_and_feature_logit(stag, stag_decisions):
    for dp in stag_decisions:
        f = stag.features(dp)
        assert set(f) == {"other_last", "own_share", "round_share"}
        assert all(np.isfinite(v) for v in f.values())
        assert f["round_share"] == dp.round / 4
        own = [e.action for e in dp.history if e.actor == HUMAN]
        assert f["own_share"] == (own.count("stag") / len(own) if own else 0.5)
    predictor = build("feature-logit", folds=2)
    predictor.fit(stag_decisions)
    assert all(abs(sum(p.probs.values()) - 1) < 1e-9 for p in predictor.predict(stag_decisions))


def test_cell_and_variables(stag, stag_decisions):
    dp = stag_decisions[0]
    assert stag.cell(dp) == (dp.game, dp.round)
    assert stag.variables(dp)["title"] == "Stag hunt" and stag.variables(dp)["round"] == dp.round


# -- the environment ---------------------------------------------------------------------------------
def test_pettingzoo_api_and_seed(stag):
    api_test(env(family=stag), num_cycles=40)
    api_test(TabularEnv(stag), num_cycles=40)
    seed_test(partial(env, family=stag), num_cycles=40)


def test_replayed_rewards_follow_the_stage_game(stag, stag_loaded):
    t = stag_loaded[0][0]
    e = stag.make_env(t)
    e.reset(options={"trajectory": t})
    total = {HUMAN: 0.0, OPPONENT: 0.0}
    for agent in e.agent_iter():
        _, reward, term, trunc, _ = e.last()
        total[agent] += reward
        e.step(None if term or trunc else e.logged_action(agent))
    assert total[HUMAN] == sum(float(r["score"]) for r in csv_rows() if (r["subject"], r["pair"]) == ("1", "A"))


def test_live_play_becomes_a_replayable_trajectory(stag):
    e = env(family=stag)
    always_stag = lambda obs, info: 0  # noqa: E731
    copy_partner = lambda obs, info: max(0, int(obs[np.flatnonzero(obs)[-1]]) - 1) if obs.any() else 1  # noqa: E731
    play(e, {HUMAN: copy_partner, OPPONENT: always_stag}, seed=3)
    t = e.unwrapped.to_trajectory("live/0")
    points = replay(t, stag.make_env)
    assert [dp.human_action for dp in points] == ["hare", "stag", "stag", "stag"]
    assert [ev.payoff for ev in t.events if ev.actor == HUMAN] == [8.0, 10.0, 10.0, 10.0]


# -- a responder game with an offer per round --------------------------------------------------------
RESPONDER_ROWS = [  # participant, trial, offer, stake, response
    ("p1", 1, 5, 10, "A"), ("p1", 2, 1, 10, "R"), ("p1", 3, 3, 10, "A"),
    ("p2", 1, 2, 10, "R"), ("p2", 2, 4, 8, "A"), ("p2", 3, 0.5, 4, "A"),
]


def responder_doc() -> dict:
    return {
        "name": "responder", "description": "Accept or reject an offer (made-up example data)",
        "data": {"path": "responder.csv", "rounds": 3,
                 "columns": {"participant": "participant", "round": "trial", "action": "response",
                             "context": ["offer", "stake"]}},
        "actions": {"accept": {"label": "A", "affirmative": True}, "reject": {"label": "R"}},
        "opponent_actions": {"propose": {}},
        "game": {"payoffs": {"accept": {"propose": ["offer", "stake - offer"]}, "reject": {"propose": [0, 0]}}},
        "prompt": {"rules": "Someone splits {{ stake | num }} points and offers you {{ offer | num }}.",
                   "history_line": "Round {{ round }}: offered {{ offer | num }} of {{ stake | num }}, "
                                   "you chose to {{ action.name }} and got {{ payoff | num }}.",
                   "question": "Do you accept or reject?"},
        "features": ["offer", "stake", "round"],
    }


@pytest.fixture(scope="module")
def responder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("responder")
    text = "participant,trial,offer,stake,response\n" + "".join(f"{p},{t},{o},{s},{r}\n"
                                                               for p, t, o, s, r in RESPONDER_ROWS)
    return load_family_yaml(write_family(folder, responder_doc(), text, "responder.yaml"))


@pytest.fixture(scope="module")
def responder_decisions(responder):
    from envs.registry import register_family

    register_family(responder, replace=True)
    trajectories, report = quietly(responder.load)
    assert report.issues == []
    points = replay_all(trajectories, responder.make_env, progress=False)
    assert len(points) == report.decisions == len(RESPONDER_ROWS)
    return points


def test_responder_decisions_carry_their_own_rows_offer(responder, responder_decisions):
    for dp, (p, t, offer, stake, response) in zip(responder_decisions, RESPONDER_ROWS):
        assert (dp.participant_id, dp.round) == (p, t)
        assert dp.params["offer"] == offer and dp.params["stake"] == stake
        assert dp.human_action == {"A": "accept", "R": "reject"}[response]
        game = responder.stage_game(dp)
        assert game.payoff("accept", "propose") == (offer, stake - offer)
        assert game.payoff("reject", "propose") == (0, 0)
        assert responder.prompt(dp)["rules"] == f"Someone splits {stake:g} points and offers you {offer:g}."
        assert responder.features(dp) == {"offer": offer, "stake": stake, "round": t}
        assert all(e.action == "propose" for e in dp.history if e.actor == OPPONENT)


def test_responder_history_uses_each_rounds_own_payoffs(responder, responder_decisions):
    dp = responder_decisions[2]  # p1, round 3
    gains = [o if r == "A" else 0 for p, _, o, _, r in RESPONDER_ROWS[:2]]
    assert responder.prompt(dp)["history"] == (
        f"Round 1: offered 5 of 10, you chose to accept and got {gains[0]:g}.\n"
        f"Round 2: offered 1 of 10, you chose to reject and got {gains[1]:g}.")


def test_responder_nash_accepts_every_positive_offer(responder_decisions):
    for pred in build("nash").predict(responder_decisions):
        assert pred.probs["accept"] == pytest.approx(1.0)  # offer > 0 beats 0: accepting dominates


def test_responder_environment(responder):
    api_test(env(family=responder, context={"offer": 3, "stake": 10}), num_cycles=20)
    message = r"responder.yaml: game.payoffs.accept.propose\[0\]: 'offer' is undefined"
    with pytest.raises(FamilySpecError, match=message):  # its payoffs need an offer and a stake
        TabularEnv(responder)


# -- formats -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["tsv", "semicolon", "jsonl"])
def test_the_same_table_in_other_formats(tmp_path, fmt, stag_decisions):
    rows = csv_rows()
    if fmt == "jsonl":
        text = "".join(json.dumps({k: (int(v) if v.isdigit() else v) for k, v in r.items()}) + "\n" for r in rows)
    else:
        sep = "\t" if fmt == "tsv" else ";"
        text = sep.join(rows[0]) + "\n" + "".join(sep.join(r.values()) + "\n" for r in rows)
    doc = stag_doc()
    doc["data"]["path"] = "stag." + ("csv" if fmt == "semicolon" else fmt)
    fam = load_family_yaml(write_family(tmp_path, doc, text))
    trajectories, report = quietly(fam.load)
    assert report.issues == []
    key = lambda dp: (dp.decision_id, dp.human_action, [(e.actor, e.action, e.payoff) for e in dp.history])  # noqa
    assert [key(dp) for dp in replay_all(trajectories, fam.make_env, progress=False)] == \
        [key(dp) for dp in stag_decisions]


# -- errors in the YAML file: one line naming the file and the key -----------------------------------
def _spec_error(tmp_path, doc) -> str:
    with pytest.raises(FamilySpecError) as info:
        load_family_yaml(write_family(tmp_path, doc))
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(tmp_path / "stag.yaml") + ": ")
    return message[len(str(tmp_path / "stag.yaml")) + 2:]


def _edit(fn):
    doc = stag_doc()
    fn(doc)
    return doc


SPEC_ERRORS = {
    "undefined name": (lambda d: d["prompt"].update(rules="Offered {{ ofer }}."),
                       "prompt.rules: 'ofer' is undefined"),
    "undefined name in a loop": (lambda d: d["prompt"].update(history_line="{{ payof }}"),
                                 "prompt.history_line: 'payof' is undefined"),
    "template syntax": (lambda d: d["prompt"].update(question="{% for a in actions %}"),
                        "prompt.question: Unexpected end of template"),
    "unknown top key": (lambda d: d.update(colour="red"), "colour: unknown key; allowed: name, description"),
    "unknown nested key": (lambda d: d["data"]["columns"].update(partcipant="x"),
                           "data.columns.partcipant: unknown key; allowed: participant"),
    "missing key": (lambda d: d["data"]["columns"].pop("action"), "data.columns.action: required key is missing"),
    "label twice": (lambda d: d["actions"]["hare"].update(label="S"),
                    "actions.hare.label: label 'S' is also a label of 'stag'"),
    "payoffs miss a pair": (lambda d: d["game"]["payoffs"]["hare"].pop("stag"),
                            "game.payoffs.hare.stag: missing: payoffs must cover every pair"),
    "unknown action in payoffs": (lambda d: d["game"]["payoffs"]["stag"].update(rabbit=[1, 1]),
                                  "game.payoffs.stag.rabbit: unknown key; allowed: stag, hare"),
    "no affirmative": (lambda d: d["actions"]["stag"].pop("affirmative"),
                       "actions: exactly one action must be marked 'affirmative: true'"),
    "two affirmatives": (lambda d: d["actions"]["hare"].update(affirmative=True),
                         "actions: exactly one action must be marked 'affirmative: true'"),
    "bad name": (lambda d: d.update(name="stag hunt"), "name: 'stag hunt': use letters, digits, _ and - only"),
    "undefined feature name": (lambda d: d["features"].update(bad="log(rnd)"), "features.bad: 'rnd' is undefined"),
    "payoff expression": (lambda d: d["game"]["payoffs"]["stag"].update(stag=["offer", 10]),
                          "game.payoffs.stag.stag[0]: 'offer' is undefined"),
    "reserved context name": (lambda d: d["data"]["columns"].update(context=["round"]),
                              "data.columns.context: 'round' is a built-in name"),
    "policy not importable": (lambda d: d.update(opponent={"policy": "no_such_module:move"}),
                              "opponent.policy: cannot import 'no_such_module:move'"),
    "lookup and policy": (lambda d: d.update(opponent={"policy": "json:dumps", "lookup": {"file": "x.json"}}),
                          "opponent: give either 'lookup' or 'policy'"),
    "prompt writes history itself": (lambda d: d["prompt"].update(history="x"),
                                     "prompt.history: the family writes the part 'history' itself"),
    "bad rounds": (lambda d: d["data"].update(rounds=0), "data.rounds: expected a whole number of rounds >= 1"),
}


@pytest.mark.parametrize("case", sorted(SPEC_ERRORS))
def test_spec_errors_name_file_and_key(tmp_path, case):
    edit, expected = SPEC_ERRORS[case]
    assert _spec_error(tmp_path, _edit(edit)).startswith(expected)


def test_duplicate_yaml_key_is_refused(tmp_path):
    path = write_family(tmp_path, stag_doc())
    path.write_text(path.read_text() + "name: again\n")
    with pytest.raises(FamilySpecError, match=r"stag.yaml: not valid YAML: key 'name' appears twice \(line \d+\)"):
        load_family_yaml(path)


def test_a_template_error_only_data_shows_comes_at_the_first_render(tmp_path):
    doc = _edit(lambda d: d["prompt"].update(rules="{{ actions[0].colour }}"))
    fam = load_family_yaml(write_family(tmp_path, doc))  # 'actions' exists: the file itself is fine
    dp = replay(quietly(fam.load)[0][0], fam.make_env)[0]
    with pytest.raises(FamilySpecError) as info:
        fam.prompt(dp)
    assert str(info.value).startswith(f"{tmp_path / 'stag.yaml'}: prompt.rules: ")
    assert "colour" in str(info.value) and dp.decision_id in str(info.value) and "\n" not in str(info.value)


def test_the_module_docstring_documents_every_key():
    doc = envs.tabular.__doc__
    for key in (*spec_mod.TOP_KEYS, *spec_mod.DATA_KEYS, *spec_mod.COLUMN_KEYS, "label", "text", "affirmative",
                "payoffs", "title", "by", "games", "lookup", "file", "key", "policy", "rules", "history_line",
                "question", "options", "cell"):
        assert f" {key}:" in doc, key


# -- errors in the data: DataFormatError for the structure, LoadIssue for rows -----------------------
def test_missing_file_and_missing_column(tmp_path):
    doc = stag_doc()
    path = write_family(tmp_path, doc)
    (tmp_path / "stag_hunt.csv").unlink()
    with pytest.raises(DataFormatError, match=r"stag_hunt.csv, field 'data.path': file not found"):
        load_family_yaml(path).load()
    doc["data"]["columns"]["payoff"] = "points"
    fam = load_family_yaml(write_family(tmp_path, doc))
    with pytest.raises(DataFormatError) as info:
        fam.load()
    assert "stag_hunt.csv, row 1, field 'points': missing column(s) ['points']" in str(info.value)
    assert "\n" not in str(info.value)


def _flawed(tmp_path, edit_rows, edit_doc=None):
    """Load the stag hunt with its CSV rows changed by ``edit_rows`` (a list of dicts, header kept)."""
    rows = csv_rows()
    rows = edit_rows(rows) or rows
    header = list(csv_rows()[0])
    text = ",".join(header) + "\n" + "".join(",".join(r.get(h, "") for h in header) + "\n" for r in rows)
    doc = stag_doc()
    doc["name"] = "stag_flawed"
    if edit_doc:
        edit_doc(doc)
    fam = load_family_yaml(write_family(tmp_path, doc, text))
    trajectories, report = quietly(fam.load)
    return fam, trajectories, report


def _issue(report, kind):
    found = [i for i in report.issues if i.kind == kind]
    assert found, f"no {kind} issue in {report.issues}"
    assert "\n" not in str(found[0])
    return found[0]


@pytest.mark.parametrize("value,kind", [("X", "unknown_action"), ("", "missing_value")])
def test_an_unreadable_action_skips_the_instance(tmp_path, value, kind):
    fam, trajectories, report = _flawed(tmp_path, lambda rows: rows[1].update(choice=value))
    issue = _issue(report, kind)
    assert (issue.row, issue.field, issue.outcome) == (3, "choice", "skipped")  # header is row 1
    assert issue.path.endswith("stag_hunt.csv") and str(issue).startswith(f"{issue.path}, row 3, field 'choice': ")
    assert [t.trajectory_id for t in trajectories] == ["stag_flawed/2/A", "stag_flawed/3/B", "stag_flawed/4/B"]


def test_bad_round_skips_and_bad_payoff_flags(tmp_path):
    def edit(rows):
        rows[4]["period"] = "first"
        rows[1]["score"] = "ten"

    fam, trajectories, report = _flawed(tmp_path, edit)
    bad_round = _issue(report, "bad_round")
    assert (bad_round.row, bad_round.field, bad_round.outcome) == (6, "period", "skipped")
    bad_payoff = _issue(report, "bad_payoff")
    assert (bad_payoff.row, bad_payoff.field, bad_payoff.outcome) == (3, "score", "flagged")
    t = next(t for t in trajectories if t.trajectory_id == "stag_flawed/1/A")
    assert t.flags == ("bad_payoff@r2",)
    points = replay(t, fam.make_env)
    assert [dp.flags for dp in points] == [(), ("bad_payoff@r2",), (), ()]
    assert len(trajectories) == 3


def test_impossible_payoff_is_flagged(tmp_path):
    fam, trajectories, report = _flawed(tmp_path, lambda rows: rows[0].update(score="7"))
    issue = _issue(report, "impossible_score")
    assert (issue.row, issue.field, issue.outcome) == (2, "score", "flagged")
    assert trajectories[0].flags == ("impossible_score@r1",)


def test_duplicate_round_and_round_counts(tmp_path):
    def edit(rows):
        rows[1]["period"] = "1"  # subject 1 has period 1 twice and no period 2
        del rows[15]  # subject 4 ends after 3 rounds
        return rows + [dict(rows[4], period="5")]  # subject 2 has a fifth round

    fam, trajectories, report = _flawed(tmp_path, edit)
    by_id = {t.trajectory_id: t for t in trajectories}
    assert by_id["stag_flawed/1/A"].flags == ("rounds=1", "duplicate_round@r1", "missing_round@r2")
    assert _issue(report, "duplicate_round").row == 3
    assert by_id["stag_flawed/4/B"].flags == ("rounds=3",)
    extra = _issue(report, "extra_round")
    assert (extra.row, extra.outcome) == (17, "skipped")  # 15 rows left after the header, then the extra one
    decisions = replay_all(trajectories, fam.make_env, progress=False)
    assert len(decisions) == report.decisions == 1 + 4 + 4 + 3


def test_inferred_opponent_and_unknown_opponent_moves(tmp_path):
    """Without an opponent column the move is inferred from the score; where the score cannot tell
    (a hare hunter gets 8 either way) the round has no opponent move, flagged, and replay goes on."""
    def no_other(doc):
        doc["data"]["columns"].pop("opponent_action")

    fam, trajectories, report = _flawed(tmp_path, lambda rows: None, no_other)
    rows = sorted(csv_rows(), key=lambda r: (r["subject"], int(r["period"])))
    for t in trajectories:
        mine = [r for r in rows if r["subject"] == t.participant_id]
        others = [e for e in t.events if e.actor == OPPONENT]
        for r, e in zip(mine, others):
            if r["choice"] == "S":
                assert e.action == LABELS[r["other"]] and e.data["inferred_from"] == "payoff"
            else:
                assert e.action is None and f"ambiguous_score@r{r['period']}" in t.flags
                assert f"no_opponent_move@r{r['period']}" in t.flags
    decisions = replay_all(trajectories, fam.make_env, progress=False)
    assert len(decisions) == report.decisions == len(rows)
    dp = next(d for d in decisions if d.participant_id == "1" and d.round == 4)
    assert "your partner unknown" in fam.prompt(dp)["history"]


def test_lookup_opponent_fills_the_moves_the_log_lacks(tmp_path):
    """A tit-for-tat lookup table (the partner copies the human's last move, stag first)."""
    table = {"": "stag"}
    for n in range(1, 4):
        for k in range(2 ** n):
            moves = ["stag" if (k >> i) & 1 else "hare" for i in range(n)]
            table["".join(moves)] = moves[-1]
    (tmp_path / "stag_flawed_lookup.json").write_text(json.dumps(table))  # {{ game }}: the family name

    def edit(doc):
        doc["data"]["columns"].pop("opponent_action")
        doc["opponent"] = {"lookup": {"file": "{{ game }}_lookup.json"}}

    fam, trajectories, report = _flawed(tmp_path, lambda rows: None, edit)
    for t in trajectories:
        own = [e.action for e in t.events if e.actor == HUMAN]
        for e in (e for e in t.events if e.actor == OPPONENT):
            if e.data["inferred_from"] == "policy":
                assert e.action == table["".join(own[: e.round - 1])]
    assert not any("no_opponent_move" in f for t in trajectories for f in t.flags)
    assert any(e.data["inferred_from"] == "policy" for t in trajectories for e in t.events if e.actor == OPPONENT)
    assert "opponent moves agreeing with the opponent policy" in report.stats
    # live play against the same table
    e = TabularEnv(fam)
    play(e, {HUMAN: lambda obs, info: 1, OPPONENT: e.opponent_policy()}, seed=0)
    assert [o for _, o in e.history] == ["stag", "hare", "hare", "hare"]


# -- the family as the runner and the registry see it ------------------------------------------------
def test_source_and_another_path_to_read(tmp_path, stag, stag_loaded):
    assert stag.dataset is None and stag.source == DATA / "stag_hunt.csv"
    assert [t.trajectory_id for t in quietly(stag.load, stag.source)[0]] == \
        [t.trajectory_id for t in stag_loaded[0]]
    other = tmp_path / "subjects_1_and_2.csv"  # a run's data.path: the same columns, fewer people
    with open(DATA / "stag_hunt.csv") as fh:
        lines = fh.read().splitlines()
    other.write_text("\n".join(lines[:9]) + "\n")
    assert [t.participant_id for t in quietly(stag.load, other)[0]] == ["1", "2"]


def test_a_glob_reads_every_match_and_its_folder_is_the_source(tmp_path):
    rows = csv_rows()
    header = ",".join(rows[0])
    for part, chunk in (("a", rows[:8]), ("b", rows[8:])):
        (tmp_path / f"hunt_{part}.csv").write_text(header + "\n" + "".join(",".join(r.values()) + "\n"
                                                                          for r in chunk))
    doc = stag_doc()
    doc["data"]["path"] = "hunt_*.csv"
    path = tmp_path / "stag.yaml"
    path.write_text(yaml.safe_dump(doc))
    fam = load_family_yaml(path)
    assert fam.source == tmp_path
    trajectories, report = quietly(fam.load, fam.source)
    assert len(report.files) == 2 and report.decisions == len(rows)


def test_pickles_as_its_yaml_file_and_registers_once(stag):
    import pickle

    copy = pickle.loads(pickle.dumps(stag))
    assert copy.spec_path == stag.spec_path and copy.name == stag.name
    assert load_family_file(DATA / "stag_hunt.yaml").spec_path == stag.spec_path  # a re-load is no conflict


def test_a_missing_lookup_table_names_the_file(tmp_path):
    def edit(doc):
        doc["data"]["columns"].pop("opponent_action")
        doc["opponent"] = {"lookup": {"file": "{{ game }}_lookup.json"}}

    with pytest.raises(DataFormatError, match=r"stag_flawed_lookup.json, field 'opponent.lookup.file': "
                                              r"lookup table not found"):
        _flawed(tmp_path, lambda rows: None, edit)


POLICY_MODULE = """
def tit_for_tat(scope):
    return scope["own_moves"][-1] if scope["own_moves"] else "stag"

def rabbit(scope):
    return "rabbit"
"""


def test_a_python_policy_opponent(tmp_path, monkeypatch):
    (tmp_path / "hunt_policies.py").write_text(POLICY_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))

    def edit(policy):
        def apply(doc):
            doc["data"]["columns"].pop("opponent_action")
            doc["opponent"] = {"policy": f"hunt_policies:{policy}"}
        return apply

    fam, trajectories, report = _flawed(tmp_path, lambda rows: None, edit("tit_for_tat"))
    for t in trajectories:
        own = [e.action for e in t.events if e.actor == HUMAN]
        for e in (e for e in t.events if e.actor == OPPONENT and e.data["inferred_from"] == "policy"):
            assert e.action == (own[e.round - 2] if e.round > 1 else "stag")
    assert report.decisions == len(csv_rows())
    with pytest.raises(FamilySpecError, match=r"stag.yaml: opponent.policy: hunt_policies:rabbit returned "
                                              r"'rabbit', not one of \['hare', 'stag'\]"):
        _flawed(tmp_path, lambda rows: None, edit("rabbit"))
