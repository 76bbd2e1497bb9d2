"""GLEE bargaining: the environment (PettingZoo tests, live play), the loader on the real copy and on
malformed logs, the prompt, and the subgame-perfect acceptance rule against hand computation."""

from __future__ import annotations

import csv
import json
import warnings

import numpy as np
import pytest
from pettingzoo.test import api_test, seed_test

from envs.glee.bargaining import FORMAT, BargainingRules, normative
from envs.glee.env import GleeEnv
from envs.glee.loader import load_family
from envs.live import play
from envs.quality import DataQualityWarning
from envs.registry import get_family
from envs.replay import replay, replay_all
from tests.conftest import by_trajectory, replayed_rewards, write_game

FAMILY = get_family("glee_bargaining")


def _load(root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return load_family(FORMAT, root)


@pytest.fixture(scope="module")
def real(glee_root):
    trajectories, report = _load(glee_root)
    return trajectories, report, replay_all(trajectories, FAMILY.make_env, progress=False)


def test_pettingzoo_api():
    api_test(GleeEnv(BargainingRules()), num_cycles=60)


def test_pettingzoo_seed():
    seed_test(lambda: GleeEnv(BargainingRules()), num_cycles=60)


def _human_responses(folder):
    """Independent count: rows where the human seat answered an offer (accept/reject)."""
    cfg = json.loads((folder / "config.json").read_text())
    human = cfg["player_1_args"]["public_name"] if cfg["player_1_type"] == "otree" else \
        cfg["player_2_args"]["public_name"]
    with open(folder / "game.csv", newline="", encoding="utf-8") as fh:
        return [r["decision"] for r in csv.DictReader(fh) if r["player"] == human and r["decision"] != "None"]


def test_real_copy_counts_match_an_independent_count(real, glee_root):
    trajectories, report, decisions = real
    folders = [p.parent for p in (glee_root / "human_vs_llm" / "bargaining").rglob("game.csv")
               if (p.parent / "config.json").exists()]
    expected = sum(len(_human_responses(f)) for f in folders)
    assert report.decisions == expected == len(decisions) > 0
    assert len(trajectories) == len(folders)
    no_csv = sum(1 for p in (glee_root / "human_vs_llm" / "bargaining").rglob("config.json")
                 if not (p.parent / "game.csv").exists())
    assert report.stats.get("games skipped: no_game_csv", 0) == no_csv


def test_replay_follows_the_log_and_never_shows_the_future(real, glee_root):
    trajectories, _, decisions = real
    by_traj = by_trajectory(decisions)
    for t in trajectories:
        logged = _human_responses(__import__("pathlib").Path(t.source).parent)
        assert [dp.human_action for dp in by_traj.get(t.trajectory_id, [])] == logged
    for dp in decisions:
        assert dp.legal_actions == ("accept", "reject") and dp.affirmative == "accept"
        assert all(e.round <= dp.round for e in dp.history)
        last = dp.history[-1]  # the offer being answered, made by the other seat this round
        assert last.action == "offer" and last.round == dp.round and last.data["seat"] != dp.params["human_seat"]


def test_replayed_rewards_are_the_discounted_deal(real):
    trajectories, _, _ = real
    t = next(t for t in trajectories if t.meta["outcome"].startswith("deal") and not t.flags
             and any(e.round > 1 for e in t.events))
    total = replayed_rewards(FAMILY.make_env(t), t)
    offer = [e for e in t.events if e.action == "offer"][-1]
    r = offer.round
    for seat, d in (("player_1", t.params["delta_1"]), ("player_2", t.params["delta_2"])):
        assert total[seat] == pytest.approx(offer.data["gains"][seat] * d ** (r - 1))


def test_live_play_with_masked_random_agents_replays():
    env = GleeEnv(BargainingRules(), {"max_rounds": 6, "human_seat": "player_2"})
    rng = np.random.default_rng(3)

    def policy(obs, info):
        return int(rng.choice(np.flatnonzero(obs["action_mask"])))

    log = play(env, {"player_1": policy, "player_2": policy}, seed=3)
    assert env.state.finished and len(log) == len(env.state.events)
    t = env.to_trajectory("live/0")
    dps = replay(t, lambda tr: GleeEnv.from_trajectory(tr, BargainingRules()))
    player2_answers = [e.action for e in env.state.events if e.data["seat"] == "player_2" and e.action != "offer"]
    assert [dp.human_action for dp in dps] == player2_answers


def test_threshold_by_backward_induction_by_hand():
    p = {"money": 100.0, "delta_1": 0.5, "delta_2": 0.5, "max_rounds": 2, "complete_information": True}
    # round 2: player_2 proposes and keeps all; so in round 1 player_2 accepts >= 0.5 * 100
    assert normative.acceptance_threshold(p, "player_2", 1) == pytest.approx(50.0)
    assert normative.acceptance_threshold(p, "player_1", 2) == 0.0  # last round: anything beats nothing
    p3 = {**p, "max_rounds": 3, "delta_1": 0.8}
    # y(3)=100 (player_1); round 2 player_1 accepts >= 0.8*100=80, so y(2)=20; round 1 player_2 needs 0.5*20
    assert normative.acceptance_threshold(p3, "player_2", 1) == pytest.approx(10.0)


def test_long_horizon_matches_rubinstein():
    d1, d2 = 0.9, 0.8
    p = {"money": 1.0, "delta_1": d1, "delta_2": d2, "max_rounds": 99, "complete_information": True}
    first_share = (1 - d2) / (1 - d1 * d2)
    assert normative.acceptance_threshold(p, "player_2", 1) == pytest.approx(1 - first_share, abs=1e-4)


def test_incomplete_information_uses_the_responders_own_delta():
    base = {"money": 1.0, "delta_1": 0.9, "delta_2": 0.8, "max_rounds": 99}
    incomplete = normative.acceptance_threshold({**base, "complete_information": False}, "player_2", 1)
    symmetric = normative.acceptance_threshold({**base, "delta_1": 0.8, "complete_information": True}, "player_2", 1)
    assert incomplete == pytest.approx(symmetric)


def test_prompt_shows_what_the_person_knew(real):
    _, _, decisions = real
    complete = next(dp for dp in decisions if dp.params["complete_information"]
                    and dp.params["delta_1"] != dp.params["delta_2"])
    incomplete = next(dp for dp in decisions if not dp.params["complete_information"])
    for dp in (complete, incomplete):
        parts = FAMILY.prompt(dp)
        assert f"${dp.params['money']:,.0f}" in parts["rules"]
        offer = dp.history[-1]
        assert f"${offer.data['gains'][dp.params['human_seat']]:,.0f}" in parts["question"]
        if offer.data.get("message"):
            assert offer.data["message"] in parts["history"]
    assert "You do not know how inflation affects" in FAMILY.prompt(incomplete)["rules"]
    assert "You do not know" not in FAMILY.prompt(complete)["rules"]


GOOD_CONFIG = {"name": "bargaining_test", "player_1_type": "otree_LLM", "player_2_type": "otree",
               "player_1_args": {"public_name": "Alice", "delta": 0.9}, "player_2_args": {"public_name": "Bob", "delta": 0.9},
               "game_args": {"money_to_divide": 100, "max_rounds": 5, "complete_information": True,
                             "messages_allowed": True}}
HEADER = "alice_gain,bob_gain,message,player,round,decision\n"


def test_malformed_games_are_cut_flagged_or_skipped_with_row_and_field(tmp_path):
    write_game(tmp_path, "bargaining", "AAA1", HEADER + '60.0,40.0,"hi\nthere 🙂",Alice,1,None\n'
               ",,None,Bob,1,reject\n55.0,45.0,x,Alice,2,None\n", GOOD_CONFIG)  # round 2 is Bob's to propose
    write_game(tmp_path, "bargaining", "BBB2", HEADER + "70.0,20.0,x,Alice,1,None\n,,None,Bob,1,maybe\n",
               GOOD_CONFIG)  # offer sums to 90; unknown decision
    write_game(tmp_path, "bargaining", "CCC3", HEADER.encode() + b"60,40,\xff\xfe,Alice,1,None\n", GOOD_CONFIG)
    write_game(tmp_path, "bargaining", "DDD4", HEADER + "60.0,40.0,x,Alice,1,None\n,,None,Bob,1,accept\n", None)
    write_game(tmp_path, "bargaining", "EEE5", HEADER + "sixty,40.0,x,Alice,1,None\n", GOOD_CONFIG)
    trajectories, report = _load(tmp_path)
    issues = {(i.trajectory_id.split("/")[-1], i.kind): i for i in report.issues}
    out_of_turn = issues[("AAA1", "out_of_turn")]
    assert out_of_turn.row == 4 and out_of_turn.field == "player" and out_of_turn.path.endswith("game.csv")
    assert issues[("BBB2", "offer_sum")].outcome == "flagged"
    unknown = issues[("BBB2", "unknown_decision")]
    assert unknown.row == 3 and unknown.field == "decision"
    assert issues[("CCC3", "not_utf8")].outcome == "skipped"
    assert issues[("DDD4", "no_config")].outcome == "skipped"
    bad_number = issues[("EEE5", "bad_number")]
    assert bad_number.row == 2 and bad_number.field == "alice_gain"
    kept = {t.participant_id: t for t in trajectories}
    assert set(kept) == {"AAA1", "BBB2"}  # EEE5 has no usable move: skipped as no_moves
    assert issues[("EEE5", "no_moves")].outcome == "skipped"
    assert [e.action for e in kept["AAA1"].events] == ["offer", "reject"]  # cut before the bad row
    assert kept["AAA1"].events[0].data["message"] == "hi\nthere 🙂"  # kept exactly as typed
    dps = replay_all(trajectories, FAMILY.make_env, progress=False)
    assert [dp.human_action for dp in dps] == ["reject"]
