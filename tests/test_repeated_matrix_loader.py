"""The repeated-games parser on the real log, and on broken logs the tests write."""

import csv
import shutil
import warnings

import pandas as pd
import pytest

from envs.quality import DataFormatError, DataQualityWarning
from envs.records import HUMAN, OPPONENT
from envs.repeated_matrix import GAMES, load_trajectories


def test_every_row_of_the_real_log_becomes_a_human_event(akata, akata_dir):
    trajs, report = akata
    raw = pd.read_csv(akata_dir / "repgames.csv")
    assert report.decisions == len(raw)
    assert sum(len([e for e in t.events if e.actor == HUMAN]) for t in trajs) == len(raw)
    assert len(trajs) == raw.groupby(["id", "game"]).ngroups
    assert not report.skipped


def test_opponent_moves_reproduce_the_logged_scores(akata):
    for t in akata[0]:
        game = GAMES[t.game]
        humans = [e for e in t.events if e.actor == HUMAN]
        others = [e for e in t.events if e.actor == OPPONENT]
        for h, o in zip(humans, others):
            if f"impossible_score@r{h.round}" in t.flags:
                continue
            assert game.payoff(h.action, o.action)[0] == h.payoff


def test_impossible_scores_are_flagged_with_participant_and_round(akata, akata_dir):
    """Recompute from the CSV which (participant, game, round) scores no payoff cell allows."""
    raw = pd.read_csv(akata_dir / "repgames.csv")
    raw["round"] = raw.groupby(["id", "game"]).cumcount() + 1
    expected = set()
    for r in raw.itertuples():
        game = GAMES[r.game]
        action = "J" if r.action == 1 else "F"
        if r.score not in [game.payoff(action, b)[0] for b in game.actions]:
            expected.add((str(r.id), r.game, r.round))
    trajs, report = akata
    found = {(t.participant_id, t.game, int(f.split("@r")[1])) for t in trajs for f in t.flags
             if f.startswith("impossible_score")}
    assert expected and found == expected
    issues = [i for i in report.issues if i.kind == "impossible_score"]
    assert len(issues) == len(expected)
    assert all(i.outcome == "flagged" and i.field == "score" and i.row for i in issues)


def test_lookup_agreement_is_reported(akata):
    stat = akata[1].stats["opponent moves agreeing with the GPT-4 lookup table"]
    agree, total = map(int, stat.split()[0].split("/"))
    assert 0 < agree <= total <= 3900


def _copy_dataset(akata_dir, tmp_path, rows):
    for f in akata_dir.glob("*.json"):
        shutil.copy(f, tmp_path / f.name)
    with open(tmp_path / "repgames.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "game", "action", "score", "opponent", "guess", "coordination"])
        w.writerows(rows)
    return tmp_path


def _block(pid, game="PD", actions="1111111111", score=8):
    return [[pid, game, a, score, "Base", "", ""] for a in actions]


def test_missing_column_names_file_and_field(akata_dir, tmp_path):
    _copy_dataset(akata_dir, tmp_path, _block(1))
    text = (tmp_path / "repgames.csv").read_text().replace("score", "points", 1)
    (tmp_path / "repgames.csv").write_text(text)
    with pytest.raises(DataFormatError, match=r"repgames.csv, row 1, field 'score'"):
        load_trajectories(tmp_path)


def test_bad_action_skips_only_that_game_and_names_the_row(akata_dir, tmp_path):
    rows = _block(1) + _block(2)
    rows[13][2] = "7"  # participant 2, round 4: file row 15 (header is row 1)
    _copy_dataset(akata_dir, tmp_path, rows)
    with pytest.warns(DataQualityWarning, match="row 15, field 'action'"):
        trajs, report = load_trajectories(tmp_path)
    assert [t.participant_id for t in trajs] == ["1"]
    assert [(i.row, i.field, i.outcome) for i in report.skipped] == [(15, "action", "skipped")]


def test_impossible_score_is_kept_and_flagged(akata_dir, tmp_path):
    rows = _block(1)
    rows[2][3] = 3  # no PD cell pays 3
    _copy_dataset(akata_dir, tmp_path, rows)
    with pytest.warns(DataQualityWarning, match="impossible"):
        trajs, _ = load_trajectories(tmp_path)
    assert trajs[0].flags == ("impossible_score@r3",)
    assert len([e for e in trajs[0].events if e.actor == HUMAN]) == 10


def test_non_utf8_file_is_a_clear_error(akata_dir, tmp_path):
    _copy_dataset(akata_dir, tmp_path, _block(1))
    with open(tmp_path / "repgames.csv", "ab") as fh:
        fh.write(b"2,PD,1,8,Base,\xff\xfe,\n")
    with pytest.raises(DataFormatError, match=r"repgames.csv, row 12: not UTF-8"):
        load_trajectories(tmp_path)


def test_short_game_is_flagged_not_dropped(akata_dir, tmp_path):
    _copy_dataset(akata_dir, tmp_path, _block(1, actions="11111"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        trajs, report = load_trajectories(tmp_path)
    assert trajs[0].flags == ("rounds=5",)
    assert report.flagged[0].kind == "wrong_round_count"
