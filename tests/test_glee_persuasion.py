"""GLEE persuasion: the environment (PettingZoo tests, live play), the loader on the real copy and on
malformed logs, what a buyer's decision point may see, the prompt, and the normative buyers against
hand computation."""

from __future__ import annotations

import csv
import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from pettingzoo.test import api_test, seed_test

from envs.glee.env import GleeEnv
from envs.glee.rules import IllegalMove
from envs.glee.loader import load_family
from envs.glee.persuasion import FORMAT, PersuasionRules, normative, prompt
from envs.live import play
from envs.quality import DataQualityWarning
from envs.records import DecisionPoint, Event, Trajectory
from envs.replay import replay, replay_all
from tests.conftest import by_trajectory, replayed_rewards, write_game


def _load(root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return load_family(FORMAT, root)


def make_env(t: Trajectory) -> GleeEnv:
    return GleeEnv.from_trajectory(t, FORMAT.rules)


@pytest.fixture(scope="module")
def real(glee_root):
    trajectories, report = _load(glee_root)
    return trajectories, report, replay_all(trajectories, make_env, progress=False)


# -- environment -------------------------------------------------------------------------------------

@pytest.mark.parametrize("params", [{}, {"message_type": "text", "myopic": True},
                                    {"buyer_knows_p": False, "seller_knows_values": False}])
def test_pettingzoo_api(params):
    api_test(GleeEnv(PersuasionRules(), params), num_cycles=100)


def test_pettingzoo_seed():
    seed_test(lambda: GleeEnv(PersuasionRules()), num_cycles=100)


def _live(params: dict, seed: int) -> tuple[GleeEnv, list, Trajectory]:
    env = GleeEnv(PersuasionRules(), params)
    rng = np.random.default_rng(seed)

    def policy(obs, info):
        return int(rng.choice(np.flatnonzero(obs["action_mask"])))

    log = play(env, {"player_1": policy, "player_2": policy}, seed=seed)
    s = env.state
    t = Trajectory(trajectory_id=f"live/{seed}", family=FORMAT.family, game=FORMAT.game, participant_id="live",
                   role="buyer", params=dict(s.params), events=tuple(s.events), source="live")
    return env, log, t


@pytest.mark.parametrize("params", [{"human_seat": "player_2"},
                                    {"human_seat": "player_2", "message_type": "text", "p": 0.5}])
def test_live_play_finishes_twenty_rounds_and_replays(params):
    env, log, t = _live(params, seed=7)
    s = env.state
    assert s.finished and s.round == 20 and len(s.events) == 60 and len(log) == 40
    assert [e.data["seat"] for e in s.events] == ["nature", "player_1", "player_2"] * 20
    buys = [e for e in s.events if e.data["seat"] == "player_2"]
    qualities = [e.data["quality"] for e in s.events if e.data["seat"] == "nature"]
    assert {e.action for e in buys} == {"yes", "no"}  # a random buyer does both in 20 rounds
    # the buyer's reward is worth - price per purchase, the seller's the price
    price, v = s.params["price"], s.params["v"]
    expected = sum((v * price if q == "high" else 0.0) - price for e, q in zip(buys, qualities) if e.action == "yes")
    assert sum(r for a, _, r in log if a == "player_2") == pytest.approx(expected)
    totals = replayed_rewards(make_env(t), t)
    assert totals["player_2"] == pytest.approx(expected)
    assert totals["player_1"] == pytest.approx(price * sum(e.action == "yes" for e in buys))
    seller_moves = [e for e in s.events if e.data["seat"] == "player_1"]
    if params.get("message_type") == "text":
        assert all(e.action == "message" and e.data["message"] for e in seller_moves)
    else:
        assert all(e.data["signal"] == {"recommend": "yes", "discourage": "no"}[e.action] for e in seller_moves)
    dps = replay(t, make_env)
    assert [dp.human_action for dp in dps] == [e.action for e in buys]
    assert [dp.round for dp in dps] == list(range(1, 21))


def test_live_play_draws_quality_from_the_prior():
    high = 0
    for seed in range(30):
        env, _, _ = _live({"p": 0.8}, seed=seed)
        high += sum(e.data.get("quality") == "high" for e in env.state.events)
    assert 0.7 < high / 600 < 0.9


def test_illegal_moves_are_refused():
    rules = PersuasionRules()
    s = rules.start(rules.default_params)
    with pytest.raises(IllegalMove) as err:
        rules.apply(s, Event(1, "", "yes", data={"seat": "player_2"}))
    assert err.value.kind == "out_of_turn"
    rules.apply(s, Event(1, "", "quality", data={"seat": "nature", "quality": "high", "worth": 20000.0}))
    with pytest.raises(IllegalMove) as err:
        rules.apply(s, Event(1, "", "shout", data={"seat": "player_1"}))
    assert err.value.kind == "unexpected_move"
    with pytest.raises(IllegalMove) as err:
        rules.apply(s, Event(1, "", "recommend", data={"seat": "player_1", "signal": "no"}))
    assert err.value.kind == "bad_signal"
    assert len(s.events) == 1  # refused moves leave no trace


def test_buyer_observation_hides_the_quality_the_seller_sees():
    env = GleeEnv(PersuasionRules(), {"p": 1.0})  # every product is high quality
    env.reset(seed=0)
    seller_obs = env.observe("player_1")["observation"]
    buyer_obs = env.observe("player_2")["observation"]
    assert seller_obs[9] == 1.0 and buyer_obs[9] == -1.0
    assert list(env.observe("player_1")["action_mask"]) == [0, 0, 1, 1]
    env.step(PersuasionRules.actions.index("recommend"))
    assert env.observe("player_2")["observation"][10] == 1.0
    assert list(env.observe("player_2")["action_mask"]) == [1, 1, 0, 0]


# -- the real copy ---------------------------------------------------------------------------------

def _folders(glee_root: Path) -> list[Path]:
    return sorted(p.parent for p in (glee_root / "human_vs_llm" / "persuasion").rglob("game.csv"))


def _human_buyer_rows(folder: Path) -> list[tuple[int, str]]:
    """Independent count: (CSV record number, decision) of the human buyer's rows, straight from the files."""
    cfg = json.loads((folder / "config.json").read_text())
    if cfg["player_2_type"] != "otree":
        return []
    buyer = cfg["player_2_args"]["public_name"]
    with open(folder / "game.csv", newline="", encoding="utf-8") as fh:
        return [(i, r["decision"]) for i, r in enumerate(csv.DictReader(fh), start=2) if r["player"] == buyer]


def test_real_copy_counts_match_an_independent_count(real, glee_root):
    trajectories, report, decisions = real
    with_cfg = [f for f in _folders(glee_root) if (f / "config.json").exists()]
    expected = sum(len(_human_buyer_rows(f)) for f in with_cfg)
    assert report.decisions == expected == len(decisions) > 0
    assert report.stats["human buyer yes/no decisions"] == expected
    assert len(trajectories) == report.stats["games usable"] == len(with_cfg)
    no_cfg = len(_folders(glee_root)) - len(with_cfg)
    assert report.stats.get("games skipped: no_config", 0) == no_cfg
    human_buyer = sum(json.loads((f / "config.json").read_text())["player_2_type"] == "otree" for f in with_cfg)
    assert report.stats["games with a human buyer (scored)"] == human_buyer
    assert report.stats["games with a human seller (not scored)"] == len(with_cfg) - human_buyer
    for t in trajectories:
        if not t.flags:
            assert len(t.events) == 3 * t.params["total_rounds"]


def test_replay_follows_the_log_and_never_shows_the_present_quality_or_the_future(real):
    trajectories, _, decisions = real
    by_traj = by_trajectory(decisions)
    for t in trajectories:
        logged = _human_buyer_rows(Path(t.source).parent)
        dps = by_traj.get(t.trajectory_id, [])
        assert [dp.human_action for dp in dps] == [d for _, d in logged]
        for dp, (row, _) in zip(dps, logged):
            assert dp.legal_actions == ("yes", "no") and dp.affirmative == "yes"
            assert all(e.data["row"] < row for e in dp.history)  # nothing logged after the decision
            assert not any(e.data["seat"] == "nature" and e.round == dp.round for e in dp.history)
            seller = dp.history[-1]  # this round's pitch is the last thing the buyer saw
            assert seller.data["seat"] == "player_1" and seller.round == dp.round
            # every past round's quality is visible to a buyer who kept one seller
            if not dp.params["myopic"]:
                assert sum(e.data["seat"] == "nature" for e in dp.history) == dp.round - 1


def test_messages_are_kept_exactly_and_shown_in_the_prompt(real):
    trajectories, _, decisions = real
    text = next(dp for dp in decisions if dp.params["message_type"] == "text" and dp.round > 2
                and dp.history[-1].data["message"])
    parts = prompt.render(text)
    assert set(parts) == {"rules", "history", "question", "round", "options"}
    assert '"' + text.history[-1].data["message"] + '"' in parts["question"]
    assert parts["question"].endswith('{"decision": "yes"} or {"decision": "no"}.')
    earlier = [e for e in text.history if e.round < text.round and e.data["seat"] == "player_1"]
    assert all(e.data["message"] in parts["history"] for e in earlier if e.data["message"])
    price = f"${text.params['price']:,.0f}"
    assert price in parts["rules"] and f"${text.params['v'] * text.params['price']:,.0f}" in parts["rules"]
    assert "You do not know" not in parts["rules"]
    blind = dataclasses.replace(text, params={**text.params, "buyer_knows_p": False})
    assert "You do not know what share of the products are high quality" in prompt.render(blind)["rules"]
    # what the CSV holds, byte for byte (a message with a line break or a quote, where the copy has one)
    rows = {}
    for t in trajectories:
        with open(t.source, newline="", encoding="utf-8") as fh:
            rows.update({(t.source, i): r for i, r in enumerate(csv.DictReader(fh), start=2)})
        for e in t.events:
            if e.action == "message" and e.data["message"] is not None:
                assert e.data["message"] == rows[(t.source, e.data["row"])]["message"]
    binary = next((dp for dp in decisions if dp.params["message_type"] == "binary"), None)
    if binary is not None:
        sig = binary.history[-1].data["signal"]
        assert ("does not recommend" in prompt.render(binary)["question"]) == (sig == "no")


def test_normative_rules_run_on_every_real_decision(real):
    _, _, decisions = real
    for dp in decisions:
        for variant in normative.RULES:
            probs, diag = normative.rule(dp, variant)
            assert set(probs) == {"yes", "no"} and sum(probs.values()) == pytest.approx(1.0)
            assert 0.0 <= diag["posterior"] <= 1.0
        f = normative.features(dp)
        assert all(np.isfinite(list(f.values())))
        if dp.params["message_type"] == "text":
            assert f["signal"] == 0.5


# -- malformed logs ---------------------------------------------------------------------------------

def _config(human: str = "player_2", **game_args) -> dict:
    other = "player_1" if human == "player_2" else "player_2"
    ga = {"p": 0.5, "v": 2.0, "c": 0, "product_price": 100, "is_seller_know_cv": True,
          "seller_message_type": "text", "is_myopic": False, "total_rounds": 3, "is_buyer_know_p": True,
          "allow_buyer_message": False, **game_args}
    return {"name": "persuasion_test", f"{human}_type": "otree", f"{other}_type": "otree_LLM",
            "player_1_args": {"public_name": "Alice"}, "player_2_args": {"public_name": "Bob"}, "game_args": ga}


HEADER = "round_quality,product_worth,player,round,message,decision\n"
MESSAGE = 'Great "deal" 🙂\nreally, 10,000 reasons'


def test_malformed_games_are_cut_flagged_or_skipped_with_row_and_field(tmp_path):
    quoted = '"' + MESSAGE.replace('"', '""') + '"'
    write_game(tmp_path, "persuasion", "AAA1", HEADER + f"high-quality,200.0,Nature,1,,\n,,Alice,1,{quoted},\n"
               ",,Bob,1,,yes\nlow-quality,0,Nature,2,,\n,,Bob,2,,no\n", _config())  # Bob before Alice
    write_game(tmp_path, "persuasion", "BBB2", HEADER + "high-quality,5.0,Nature,1,,\n,,Alice,1,buy!,\n"
               ",,Bob,1,,maybe\n", _config())  # worth is not v x price; unknown decision
    write_game(tmp_path, "persuasion", "CCC3", HEADER.encode() + b"high-quality,200.0,Nature,1,,\n"
               b",,Alice,1,\xff\xfe,\n", _config())
    write_game(tmp_path, "persuasion", "DDD4", HEADER + "high-quality,200.0,Nature,1,,\n", None)
    cfg = _config()
    del cfg["game_args"]["p"]
    write_game(tmp_path, "persuasion", "EEE5", HEADER + "high-quality,200.0,Nature,1,,\n", cfg)
    write_game(tmp_path, "persuasion", "FFF6", HEADER + "low-quality,0.0,Nature,1,,\n,,Alice,1,,\n,,Bob,1,,no\n"
               "medium-quality,0.0,Nature,2,,\n", _config(seller_message_type="binary"))  # no signal; bad label
    write_game(tmp_path, "persuasion", "GGG7", HEADER + "high-quality,200.0,Nature,1,,\n,,Alice,1,,yes\n"
               ",,Bob,1,,yes\n", _config(human="player_1", seller_message_type="binary"))  # human seller
    trajectories, report = _load(tmp_path)
    issues = {(i.trajectory_id.split("/")[-1], i.kind): i for i in report.issues}
    out_of_turn = issues[("AAA1", "out_of_turn")]
    assert (out_of_turn.row, out_of_turn.field, out_of_turn.outcome) == (6, "player", "flagged")
    assert out_of_turn.path.endswith("AAA1/game.csv")
    mismatch = issues[("BBB2", "worth_mismatch")]
    assert (mismatch.row, mismatch.field, mismatch.outcome) == (2, "product_worth", "flagged")
    unknown = issues[("BBB2", "unknown_decision")]
    assert (unknown.row, unknown.field) == (4, "decision") and "maybe" in unknown.message
    assert issues[("CCC3", "not_utf8")].outcome == "skipped"
    assert issues[("CCC3", "not_utf8")].path.endswith("CCC3/game.csv")
    assert issues[("DDD4", "no_config")].outcome == "skipped"
    missing = issues[("EEE5", "missing_parameter")]
    assert (missing.field, missing.outcome) == ("p", "skipped") and missing.path.endswith("config.json")
    no_signal = issues[("FFF6", "missing_signal")]
    assert (no_signal.row, no_signal.field, no_signal.outcome) == (3, "decision", "flagged")
    bad_quality = issues[("FFF6", "unknown_quality")]
    assert (bad_quality.row, bad_quality.field) == (5, "round_quality")
    assert issues[("AAA1", "unfinished")].outcome == "flagged"
    kept = {t.participant_id: t for t in trajectories}
    assert set(kept) == {"AAA1", "BBB2", "FFF6", "GGG7"}
    assert [e.action for e in kept["AAA1"].events] == ["quality", "message", "yes", "quality"]
    assert kept["AAA1"].events[1].data["message"] == MESSAGE  # kept exactly as typed
    assert "worth_mismatch@r1" in kept["BBB2"].flags
    dps = replay_all(trajectories, make_env, progress=False)
    assert [(dp.participant_id, dp.human_action) for dp in dps] == [("AAA1", "yes"), ("FFF6", "no")]
    assert report.decisions == 2 and report.stats["games with a human seller (not scored)"] == 1
    assert MESSAGE in prompt.render(dps[0])["question"]


# -- normative rules by hand ------------------------------------------------------------------------

def _params(**kw) -> dict:
    base = {"p": 0.5, "v": 1.25, "c": 0.0, "price": 100.0, "total_rounds": 20, "message_type": "binary",
            "myopic": False, "seller_knows_values": True, "buyer_knows_p": True, "buyer_messages": False,
            "human_seat": "player_2"}
    return {**base, **kw}


def _dp(params: dict, past: list[tuple[str, str | None, str]], current: str | None,
        action: str = "yes") -> DecisionPoint:
    """A buyer's decision after ``past`` rounds of (quality, signal or None for text, buyer's choice)."""
    events = []
    for r, (q, sig, choice) in enumerate(past, start=1):
        events += [Event(r, "nature", "quality", data={"seat": "nature", "quality": q}),
                   Event(r, "opponent", "message" if sig is None else "recommend" if sig == "yes" else "discourage",
                         data={"seat": "player_1", "signal": sig, "message": None if sig else "hi"}),
                   Event(r, "human", choice, data={"seat": "player_2"})]
    r = len(past) + 1
    events.append(Event(r, "opponent", "message" if current is None else
                        "recommend" if current == "yes" else "discourage",
                        data={"seat": "player_1", "signal": current, "message": None if current else "trust me"}))
    return DecisionPoint(decision_id=f"hand/r{r}", trajectory_id="hand", family=FORMAT.family, game="persuasion",
                         participant_id="hand", role="buyer", round=r, legal_actions=("yes", "no"),
                         human_action=action, affirmative="yes", params=params, history=tuple(events))


def _buys(dp, variant="bayesian") -> bool:
    probs, _ = normative.rule(dp, variant)
    assert probs["yes"] + probs["no"] == 1.0
    return probs["yes"] == 1.0


def test_babbling_buyer_compares_the_prior_value_with_the_price():
    for mtype, sig in (("text", None), ("binary", "yes")):
        assert not _buys(_dp(_params(p=0.5, v=1.25, message_type=mtype), [], sig), "babbling")  # 0.625 < 1
        assert _buys(_dp(_params(p=0.8, v=1.25, message_type=mtype), [], sig), "babbling")  # 1.0: a tie buys
        assert _buys(_dp(_params(p=0.333333333, v=3.0, message_type=mtype), [], sig), "babbling")  # 1/3 * 3
    # without a track record a signal says nothing, so the Bayesian buyer is the babbling buyer
    assert not _buys(_dp(_params(p=0.5, v=1.25), [], "yes"))
    _, diag = normative.rule(_dp(_params(p=0.5, v=1.25), [], "yes"))
    assert diag["posterior"] == pytest.approx(0.5)


TRUTHFUL = [("high", "yes", "yes"), ("low", "no", "no")] * 5
ALWAYS_YES = [("high", "yes", "yes"), ("low", "yes", "yes")] * 5


def test_bayesian_buyer_follows_a_seller_who_always_told_the_truth():
    yes_dp, no_dp = _dp(_params(), TRUTHFUL, "yes"), _dp(_params(), TRUTHFUL, "no")
    assert _buys(yes_dp) and not _buys(no_dp)
    # P(yes|high) = (1+5)/(2+5) = 6/7, P(yes|low) = 1/7; prior 1/2 -> posterior 6/7 after "yes", 1/7 after "no"
    assert normative.rule(yes_dp)[1]["posterior"] == pytest.approx(6 / 7)
    assert normative.rule(no_dp)[1]["posterior"] == pytest.approx(1 / 7)
    assert normative.rule(yes_dp)[1]["p_yes_given_high"] == pytest.approx(6 / 7)
    assert not _buys(yes_dp, "babbling") and not _buys(no_dp, "babbling")
    assert _buys(yes_dp, "obedient") and not _buys(no_dp, "obedient")


def test_bayesian_buyer_ignores_a_seller_who_always_says_yes():
    dp = _dp(_params(), ALWAYS_YES, "yes")
    assert normative.rule(dp)[1]["posterior"] == pytest.approx(0.5)  # 6/7 on both qualities: no information
    assert not _buys(dp) and _buys(dp, "obedient")


def test_text_messages_are_treated_as_uninformative_and_obedient_falls_back():
    past = [("high", None, "yes"), ("low", None, "no")] * 5
    dp = _dp(_params(p=0.8, message_type="text"), past, None)
    probs, diag = normative.rule(dp)
    assert probs["yes"] == 1.0 and diag["posterior"] == pytest.approx(0.8) and "uninformative" in diag["note"]
    probs_o, diag_o = normative.rule(dp, "obedient")
    assert probs_o == probs and diag_o["variant"] == "obedient" and "fell back to bayesian" in diag_o["note"]
    with pytest.raises(ValueError):
        normative.rule(dp, "clairvoyant")


def test_a_buyer_who_does_not_know_p_learns_it_from_revealed_qualities():
    past = [("high", None, "yes")] * 6 + [("low", None, "no")] * 2
    dp = _dp(_params(p=0.1, v=1.25, message_type="text", buyer_knows_p=False), past, None)
    _, diag = normative.rule(dp, "babbling")
    assert diag["prior"] == pytest.approx(7 / 10) and diag["prior_source"].startswith("learned")
    assert not _buys(dp, "babbling")  # 0.7 * 1.25 = 0.875 < 1 (the true p is never used)
    dp2 = _dp(_params(p=0.1, v=1.25, message_type="text", buyer_knows_p=False), [("high", None, "yes")] * 8, None)
    assert _buys(dp2, "babbling")  # (1+8)/(2+8) * 1.25 = 1.125


def test_features_describe_the_decision():
    f = normative.features(_dp(_params(), TRUTHFUL, "yes"))
    assert f["signal"] == 1.0 and f["prior_value_ratio"] == pytest.approx(0.625)
    assert f["posterior_value_ratio"] == pytest.approx(6 / 7 * 1.25)
    assert f["past_high_share"] == pytest.approx(6 / 7)  # 5 of 5 recommended products were high
    assert f["previous_buy"] == 0.0 and f["last_quality_high"] == 0.0
    assert f["round_fraction"] == pytest.approx(11 / 20)
    first = normative.features(_dp(_params(message_type="text"), [], None))
    assert first["signal"] == 0.5 and first["previous_buy"] == 0.5


def test_myopic_buyer_sees_only_the_sales_record():
    env, _, t = _live({"human_seat": "player_2", "myopic": True, "message_type": "binary"}, seed=11)
    dps = replay(t, make_env)
    assert len(dps) == 20
    events = env.state.events
    sold = {e.round for e in events if e.data["seat"] == "player_2" and e.action == "yes"}
    for dp in dps:
        past_seller = [e for e in dp.history if e.data["seat"] == "player_1" and e.round < dp.round]
        assert past_seller == []  # earlier pitches went to other buyers
        assert {e.round for e in dp.history if e.data["seat"] == "nature"} == {r for r in sold if r < dp.round}
        _, diag = normative.rule(dp)
        assert diag["posterior"] == pytest.approx(dp.params["p"])  # no track record: the prior rule
        history = prompt.render(dp)["history"]
        n_sold = len([r for r in sold if r < dp.round])
        assert ("no products have been sold yet" in history) == (n_sold == 0)
        if n_sold:
            assert f"{n_sold} of the {dp.round - 1} earlier buyers" in history
        assert "Round" not in history
