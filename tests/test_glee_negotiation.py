"""GLEE negotiation: the rules and environment (PettingZoo tests, live play), the loader on the real copy and
on malformed logs, the prompt, and the outside-option rule against hand computation."""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from pettingzoo.test import api_test, seed_test

from envs.glee.env import GleeEnv
from envs.glee.files import GameFileError
from envs.glee.loader import load_family
from envs.glee.negotiation import FORMAT, NegotiationRules, normative, prompt
from envs.glee.negotiation.log import params_from_config, parse_row
from envs.glee.rules import IllegalMove
from envs.live import play
from envs.quality import DataQualityWarning
from envs.records import DecisionPoint, Event
from envs.replay import replay, replay_all
from tests.conftest import by_trajectory, replayed_rewards, write_game

RULES = NegotiationRules()
# the test's own reading of the logged labels (independent of envs.glee.negotiation.log)
LABELS = {"AcceptOffer": "accept", "RejectOffer": "reject", "SellToJhon": "outside", "BuyFromJhon": "outside",
          "DealWithJhon": "outside"}


def make_env(t):
    return GleeEnv.from_trajectory(t, FORMAT.rules)


def _load(root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return load_family(FORMAT, root)


# -- environment -------------------------------------------------------------------------------------------------
def test_pettingzoo_api():
    api_test(GleeEnv(NegotiationRules()), num_cycles=60)


def test_pettingzoo_seed():
    seed_test(lambda: GleeEnv(NegotiationRules()), num_cycles=60)


def test_action_mask_offers_on_the_proposer_turn_and_answers_on_the_responder_turn():
    env = GleeEnv(NegotiationRules(), {"product_price_order": 100})
    env.reset(seed=0)
    assert env.agent_selection == "player_1"
    mask = env.observe("player_1")["action_mask"]
    legal = {RULES.actions[i] for i in np.flatnonzero(mask)}
    assert legal == {f"offer_{p}" for p in range(5, 201, 5)}
    assert not env.observe("player_2")["action_mask"].any()
    env.step(RULES.actions.index("offer_150"))  # the seller asks 150% of 100
    assert env.agent_selection == "player_2"
    legal = {RULES.actions[i] for i in np.flatnonzero(env.observe("player_2")["action_mask"])}
    assert legal == {"accept", "reject", "outside"}
    assert env.state.price == pytest.approx(150.0)
    obs = env.observe("player_2")["observation"]
    assert obs.shape == (RULES.obs_size,) and obs[2] == 1.0 and obs[3] == pytest.approx(1.5)


def test_rules_reject_illegal_moves_with_a_kind():
    s = RULES.start({**RULES.default_params})
    with pytest.raises(IllegalMove) as e:
        RULES.apply(s, Event(1, "", "offer", data={"seat": "player_2", "price": 10.0}))
    assert e.value.kind == "out_of_turn"
    with pytest.raises(IllegalMove) as e:
        RULES.apply(s, Event(1, "", "offer", data={"seat": "player_1", "price": float("nan")}))
    assert e.value.kind == "bad_offer"
    RULES.apply(s, Event(1, "", "offer", data={"seat": "player_1", "price": 9000.0}))
    with pytest.raises(IllegalMove) as e:
        RULES.apply(s, Event(1, "", "maybe", data={"seat": "player_2"}))
    assert e.value.kind == "unexpected_move"
    assert RULES.decision(s, "player_2") == (("accept", "reject", "outside"), "accept")
    assert RULES.decision(s, "player_1") is None
    gained = RULES.apply(s, Event(1, "", "accept", data={"seat": "player_2"}))
    # seller's value 1.0 * 10000, buyer's 1.2 * 10000: a deal at 9000
    assert gained == {"player_1": pytest.approx(-1000.0), "player_2": pytest.approx(3000.0)}
    assert len(s.events) == 2 and s.finished
    with pytest.raises(IllegalMove) as e:
        RULES.apply(s, Event(2, "", "offer", data={"seat": "player_2", "price": 1.0}))
    assert e.value.kind == "after_end"


def test_alternating_proposer_outside_option_and_round_limit():
    s = RULES.start({**RULES.default_params, "max_rounds": 2})
    RULES.apply(s, Event(1, "", "offer", data={"seat": "player_1", "price": 12000.0}))
    assert RULES.apply(s, Event(1, "", "reject", data={"seat": "player_2"})) == {}
    assert s.round == 2 and RULES.to_move(s) == "player_2"  # the one who rejected proposes
    RULES.apply(s, Event(2, "", "offer", data={"seat": "player_2", "price": 9000.0}))
    assert RULES.apply(s, Event(2, "", "reject", data={"seat": "player_1"})) == {}
    assert s.finished and s.outcome == "no deal"  # rejection in the last round ends it
    s = RULES.start({**RULES.default_params})
    RULES.apply(s, Event(1, "", "offer", data={"seat": "player_1", "price": 12000.0}))
    assert RULES.apply(s, Event(1, "", "outside", data={"seat": "player_2"})) == {}
    assert s.finished and "John" in s.outcome


def _random_policy(rng):
    return lambda obs, info: int(rng.choice(np.flatnonzero(obs["action_mask"])))


@pytest.mark.parametrize("seed", range(6))
def test_live_play_with_masked_random_agents_ends_and_replays(seed):
    env = GleeEnv(NegotiationRules(), {"max_rounds": 4, "human_seat": "player_2" if seed % 2 else "player_1"})
    rng = np.random.default_rng(seed)
    log = play(env, {"player_1": _random_policy(rng), "player_2": _random_policy(rng)}, seed=seed)
    assert env.state.finished and 2 <= len(log) == len(env.state.events) <= 8
    t = env.to_trajectory(f"live/{seed}")
    dps = replay(t, lambda tr: GleeEnv.from_trajectory(tr, NegotiationRules()))
    human = t.params["human_seat"]
    answers = [e.action for e in t.events if e.data["seat"] == human and e.action != "offer"]
    assert [dp.human_action for dp in dps] == answers
    # replaying the live log reaches the same end
    env2 = GleeEnv.from_trajectory(t, NegotiationRules())
    env2.reset(options={"trajectory": t})
    for agent in env2.agent_iter():
        _, _, term, trunc, _ = env2.last(observe=False)
        env2.step(None if term or trunc else env2.logged_action(agent))
    assert env2.state.events == env.state.events and env2.state.outcome == env.state.outcome


def test_live_outside_option_carries_the_role_label():
    s = RULES.start({**RULES.default_params})
    RULES.apply(s, RULES.from_action(s, "offer_100"))
    RULES.apply(s, RULES.from_action(s, "reject"))
    RULES.apply(s, RULES.from_action(s, "offer_90"))
    move = RULES.from_action(s, "outside")
    assert move.data == {"seat": "player_1", "label": "SellToJhon"}


# -- the real copy ------------------------------------------------------------------------------------------------
def _human_rows(folder: Path) -> list[str]:
    """Independent reading: the human seat's answer rows (non-empty decision), labels as logged."""
    cfg = json.loads((folder / "config.json").read_text())
    seat = "player_1" if cfg["player_1_type"] == "otree" else "player_2"
    human = cfg[f"{seat}_args"]["public_name"]
    with open(folder / "game.csv", newline="", encoding="utf-8") as fh:
        return [r["decision"] for r in csv.DictReader(fh) if r["player"] == human and r["decision"].strip()]


@pytest.fixture(scope="module")
def neg_root(glee_root):
    if not (glee_root / "human_vs_llm" / "negotiation").is_dir():
        pytest.skip("GLEE negotiation logs not found")
    return glee_root


@pytest.fixture(scope="module")
def real(neg_root):
    trajectories, report = _load(neg_root)
    return trajectories, report, replay_all(trajectories, make_env, progress=False)


def test_real_copy_counts_match_an_independent_count(real, neg_root):
    trajectories, report, decisions = real
    base = neg_root / "human_vs_llm" / "negotiation"
    csvs = {p.parent for p in base.rglob("game.csv")}
    cfgs = {p.parent for p in base.rglob("config.json")}
    both = csvs & cfgs
    expected = sum(len(_human_rows(f)) for f in both)
    assert report.decisions == expected == len(decisions) > 0
    assert report.stats["human accept/reject/outside decisions"] == expected
    assert report.stats["games with game.csv"] == len(csvs)
    assert report.stats["games with config.json"] == len(cfgs)
    assert report.stats["games with both"] == len(trajectories) == len(both)
    assert report.stats.get("games skipped: no_game_csv", 0) == len(cfgs - csvs)
    seats = [json.loads((f / "config.json").read_text())["player_1_type"] == "otree" for f in both]
    assert sum(t.params["human_seat"] == "player_1" for t in trajectories) == sum(seats)
    assert "1,182" in str(report.stats.values())


def test_replay_yields_each_human_answer_with_its_normalised_label(real):
    trajectories, _, decisions = real
    by_traj = by_trajectory(decisions)
    for t in trajectories:
        logged = _human_rows(Path(t.source).parent)
        dps = by_traj.get(t.trajectory_id, [])
        assert [dp.human_action for dp in dps] == [LABELS[x] for x in logged]
        answers = [e for e in t.events if e.data["seat"] == t.params["human_seat"] and e.action != "offer"]
        assert [e.data["label"] for e in answers] == logged  # the logged label is kept
    for dp in decisions:
        assert dp.legal_actions == ("accept", "reject", "outside") and dp.affirmative == "accept"


def test_no_decision_point_sees_a_future_event(real):
    trajectories, _, decisions = real
    by_traj = by_trajectory(decisions)
    for t in trajectories:
        human = t.params["human_seat"]
        answer_at = [i for i, e in enumerate(t.events) if e.data["seat"] == human and e.action != "offer"]
        for dp, i in zip(by_traj.get(t.trajectory_id, []), answer_at, strict=True):
            assert dp.history == t.events[:i]  # exactly the past, up to the offer being answered
            last = dp.history[-1]
            assert last.action == "offer" and last.round == dp.round and last.data["seat"] != human
            assert all(e.data["row"] < t.events[i].data["row"] for e in dp.history)


def test_replayed_rewards_are_the_surplus_of_the_deal(real):
    trajectories, _, _ = real
    t = next(t for t in trajectories if t.meta["outcome"].startswith("deal") and len(t.events) > 2)
    total = replayed_rewards(make_env(t), t)
    price = [e for e in t.events if e.action == "offer"][-1].data["price"]
    order = t.params["product_price_order"]
    assert total["player_1"] == pytest.approx(price - t.params["seller_value"] * order)
    assert total["player_2"] == pytest.approx(t.params["buyer_value"] * order - price)


def test_prompt_shows_what_the_person_knew(real):
    _, _, decisions = real
    complete = next(dp for dp in decisions if dp.params["complete_information"])
    incomplete = next(dp for dp in decisions if not dp.params["complete_information"])
    for dp in (complete, incomplete):
        parts = prompt.render(dp)
        assert set(parts) == {"rules", "history", "question", "round", "options"}
        me = dp.params["human_seat"]
        own = dp.params["seller_value" if me == "player_1" else "buyer_value"] * dp.params["product_price_order"]
        theirs = dp.params["buyer_value" if me == "player_1" else "seller_value"] * dp.params["product_price_order"]
        assert f"worth ${own:,.0f} to you" in parts["rules"]
        assert (f"${theirs:,.0f} to" in parts["rules"]) == (dp.params["complete_information"] or own == theirs)
        assert (f"{int(dp.params['max_rounds'])} rounds" in parts["rules"]) == (dp.params["max_rounds"] <= 20)
        assert f"${dp.history[-1].data['price']:,.0f}" in parts["question"]
        for e in dp.history:
            if e.action == "offer" and e.data.get("message") is not None:
                assert f'"{e.data["message"]}"' in parts["history"]  # quoted exactly as typed
        for a in dp.legal_actions:
            assert f'{{"decision": "{prompt.option_text(a)}"}}' in parts["question"]
    assert "do not know" in prompt.render(incomplete)["rules"]
    assert "do not know" not in prompt.render(complete)["rules"]


def test_option_text_is_role_free():
    assert [prompt.option_text(a) for a in ("accept", "reject", "outside")] == \
        ["AcceptOffer", "RejectOffer", "DealWithJohn"]


# -- parsing ------------------------------------------------------------------------------------------------------
CONFIG = {"name": "negotiation_test", "player_1_type": "otree_LLM", "player_2_type": "otree",
          "player_1_args": {"public_name": "Alice"}, "player_2_args": {"public_name": "Bob"},
          "game_args": {"seller_value": 1.0, "buyer_value": 1.2, "product_price_order": 100, "max_rounds": 10,
                        "messages_allowed": True, "complete_information": False}}
SELLER_HUMAN = {**CONFIG, "player_1_type": "otree", "player_2_type": "otree_LLM"}
HEADER = "message,product_price,player,round,decision\n"


def test_params_from_config_names_a_missing_field():
    p = params_from_config(CONFIG)
    assert p["max_rounds"] == 10 and p["product_price_order"] == 100.0 and p["complete_information"] is False
    ga = {k: v for k, v in CONFIG["game_args"].items() if k != "buyer_value"}
    with pytest.raises(GameFileError) as e:
        params_from_config({**CONFIG, "game_args": ga})
    assert e.value.field == "buyer_value" and e.value.kind == "missing_parameter"
    with pytest.raises(GameFileError) as e:
        params_from_config({**CONFIG, "game_args": {**CONFIG["game_args"], "messages_allowed": "sometimes"}})
    assert e.value.field == "messages_allowed"


def test_parse_row_keeps_messages_and_labels_as_logged():
    seats = {"Alice": "player_1", "Bob": "player_2"}
    offer = parse_row({"message": "1200000", "product_price": "1000.0", "player": "Alice", "round": "1",
                       "decision": ""}, 2, seats, {})
    assert offer.action == "offer" and offer.data["price"] == 1000.0 and offer.data["message"] == "1200000"
    for label, action in LABELS.items():
        move = parse_row({"message": "", "product_price": "", "player": "Bob", "round": "1", "decision": label},
                         3, seats, {})
        assert move.action == action and move.data["label"] == label
    with pytest.raises(GameFileError) as e:
        parse_row({"message": "", "product_price": "", "player": "Bob", "round": "1", "decision": "Later"},
                  3, seats, {})
    assert (e.value.kind, e.value.row, e.value.field) == ("unknown_decision", 3, "decision")


def test_malformed_games_are_cut_flagged_or_skipped_with_file_row_and_field(tmp_path):
    write_game(tmp_path, "negotiation", "AAA1", HEADER + '"hi\nthere 🙂",120.0,Alice,1,\n,,Bob,1,RejectOffer\n'
               "x,110.0,Alice,2,\n", CONFIG)  # round 2 is Bob's to propose
    write_game(tmp_path, "negotiation", "BBB2", HEADER + "x,120.0,Alice,1,\n,,Bob,1,MaybeLater\n", CONFIG)
    write_game(tmp_path, "negotiation", "CCC3", HEADER + "x,120.0,Alice,1,\n,,Bob,1,RejectOffer\n"
               "y,abc,Bob,2,\n", CONFIG)
    write_game(tmp_path, "negotiation", "DDD4", HEADER + "x,120.0,Alice,1,\n,,Bob,1,AcceptOffer\n", None)
    write_game(tmp_path, "negotiation", "EEE5", HEADER.encode() + b"\xff\xfe,120.0,Alice,1,\n", CONFIG)
    no_rounds = {**CONFIG, "game_args": {k: v for k, v in CONFIG["game_args"].items() if k != "max_rounds"}}
    write_game(tmp_path, "negotiation", "FFF6", HEADER + "x,120.0,Alice,1,\n", no_rounds)
    write_game(tmp_path, "negotiation", "GGG7", HEADER + "1200000,120.0,Alice,1,\n,,Bob,1,RejectOffer\n"
               ",0.0,Bob,2,\n,,Alice,2,BuyFromJhon\n", SELLER_HUMAN)  # price 0; the seller answers the buyer's label
    trajectories, report = _load(tmp_path)
    issues = {(i.trajectory_id.split("/")[-1], i.kind): i for i in report.issues}

    def where(game, kind):
        i = issues[(game, kind)]
        return Path(i.path).name, i.row, i.field, i.outcome

    # rows are CSV records as a spreadsheet counts them: the two-line message is still one row
    assert where("AAA1", "out_of_turn") == ("game.csv", 4, "player", "flagged")
    assert where("BBB2", "unknown_decision") == ("game.csv", 3, "decision", "flagged")
    assert where("CCC3", "bad_number") == ("game.csv", 4, "product_price", "flagged")
    assert where("DDD4", "no_config") == ("config.json", None, None, "skipped")  # the missing file
    assert where("EEE5", "not_utf8")[::3] == ("game.csv", "skipped")
    assert where("FFF6", "missing_parameter") == ("config.json", None, "max_rounds", "skipped")
    assert where("GGG7", "non_positive_price") == ("game.csv", 4, "product_price", "flagged")
    assert where("GGG7", "outside_label_role") == ("game.csv", 5, "decision", "flagged")
    assert ("GGG7", "unfinished") not in issues and ("AAA1", "unfinished") in issues
    kept = {t.participant_id: t for t in trajectories}
    assert set(kept) == {"AAA1", "BBB2", "CCC3", "GGG7"}
    assert [e.action for e in kept["AAA1"].events] == ["offer", "reject"]  # cut before the bad row
    assert kept["AAA1"].events[0].data["message"] == "hi\nthere 🙂"
    assert kept["GGG7"].events[0].data["message"] == "1200000"
    assert [e.action for e in kept["BBB2"].events] == ["offer"]
    assert report.decisions == 3
    dps = replay_all(trajectories, make_env, progress=False)
    assert [(dp.participant_id, dp.human_action) for dp in dps] == \
        [("AAA1", "reject"), ("CCC3", "reject"), ("GGG7", "outside")]
    assert "outside_label_role@r2" in dps[-1].flags


# -- the normative rule --------------------------------------------------------------------------------------------
def _dp(seat: str, price: float, round_: int, max_rounds: int = 10, **game) -> DecisionPoint:
    params = {"seller_value": 1.0, "buyer_value": 1.2, "product_price_order": 100.0, "max_rounds": max_rounds,
              "complete_information": True, "messages_allowed": False, "human_seat": seat,
              "names": {"player_1": "Alice", "player_2": "Bob"}, **game}
    proposer = "player_2" if seat == "player_1" else "player_1"
    offer = Event(round_, "opponent", "offer", data={"seat": proposer, "price": price, "message": None})
    return DecisionPoint("d", "t", "glee_negotiation", "negotiation", "p", seat, round_,
                         ("accept", "reject", "outside"), "accept", "accept", params, (offer,))


@pytest.mark.parametrize("seat,price,round_,max_rounds,choice,surplus", [
    ("player_1", 100.0, 2, 10, "accept", 0.0),  # seller: price equals own value 1.0 * 100 -> tie accepts
    ("player_1", 130.0, 2, 10, "accept", 30.0),
    ("player_1", 99.0, 2, 10, "reject", -1.0),  # below own value, rounds remain: counter
    ("player_1", 99.0, 10, 10, "outside", -1.0),  # last round: John
    ("player_2", 119.0, 1, 10, "accept", 1.0),  # buyer: own value 1.2 * 100 = 120
    ("player_2", 120.0, 3, 10, "accept", 0.0),
    ("player_2", 121.0, 1, 10, "reject", -1.0),
    ("player_2", 121.0, 3, 3, "outside", -1.0),
])
def test_rule_by_hand(seat, price, round_, max_rounds, choice, surplus):
    probs, diag = normative.rule(_dp(seat, price, round_, max_rounds))
    assert probs == {a: float(a == choice) for a in ("accept", "reject", "outside")}
    assert diag["surplus"] == pytest.approx(surplus) and diag["price"] == price
    assert diag["own_value"] == pytest.approx(100.0 if seat == "player_1" else 120.0)


def test_features_by_hand():
    f = normative.features(_dp("player_2", 90.0, 3, 3, complete_information=False, messages_allowed=True))
    assert f == {"surplus_share": pytest.approx(0.25), "round": 3.0, "last_round": 1.0, "is_seller": 0.0,
                 "complete_information": 0.0, "messages_allowed": 1.0}
    assert normative.features(_dp("player_1", 80.0, 2))["surplus_share"] == pytest.approx(-0.2)
