"""History interventions (``envs.interventions``, ``predictors.intervened``): each changes exactly what it says in
the rendered prompt of real decisions and nothing else; the config sweeps and checks them; a sweep resumes."""

from __future__ import annotations

import re
import warnings
import sys
import textwrap
from dataclasses import replace

import pandas as pd
import pytest
import yaml

from envs.interventions import InterventionError, parse
from envs.records import HUMAN, OPPONENT
from envs.registry import get_family
from predictors.baselines import Reciprocity, Uniform
from predictors.intervened import Intervened
from predictors.table import predict_table
from sim.cli import main
from sim.config import ConfigError, load

MATRIX = get_family("repeated_matrix")
LINE = re.compile(r"In round (\d+), you chose Option (\w) and the other player chose Option (\w)\. "
                  r"Thus, you won (.+?) and the other player won (.+?)\.")


@pytest.fixture(scope="module")
def later(akata_decisions):
    """Real decisions with at least three past rounds, from both games (every 7th, for speed)."""
    chosen = [dp for dp in akata_decisions if dp.round >= 4][::7]
    assert {dp.game for dp in chosen} == {"PD", "BoS"}
    return chosen


def lines(dp) -> list[str]:
    return MATRIX.prompt(dp)["history"].splitlines()


def _same_but_history(dp, new) -> None:
    """Nothing but the history changed: the decision, and every prompt part but ``history``."""
    assert replace(new, history=dp.history) == dp
    before, after = MATRIX.prompt(dp), MATRIX.prompt(new)
    assert {k: v for k, v in before.items() if k != "history"} == {k: v for k, v in after.items() if k != "history"}
    assert [e for e in new.history if e.round >= dp.round] == [e for e in dp.history if e.round >= dp.round]


@pytest.mark.parametrize("spec", ["none", "no-history", "last-2", "shuffle", "shuffle-7", "opponent-flip",
                                  "opponent-all-J", "hide-payoffs", "hide-own-moves"])
def test_nothing_but_the_history_changes(later, spec):
    iv = parse(spec)
    for dp in later:
        _same_but_history(dp, iv.apply(dp))


def test_none_no_history_and_last_k(later):
    for dp in later:
        assert lines(parse("none").apply(dp)) == lines(dp) and len(lines(dp)) == dp.round - 1
        assert MATRIX.prompt(parse("no-history").apply(dp))["history"] == ""
        assert lines(parse("last-2").apply(dp)) == lines(dp)[-2:]
        assert lines(parse({"last": 0}).apply(dp)) == []


def test_shuffle_keeps_every_round_under_the_same_numbers_in_another_order(later):
    moved = 0
    for dp in later:
        new = lines(parse("shuffle-3").apply(dp))
        old = [LINE.fullmatch(x).groups() for x in lines(dp)]
        got = [LINE.fullmatch(x).groups() for x in new]
        assert [g[0] for g in got] == [o[0] for o in old]  # round numbers 1..t-1, in order
        assert sorted(g[1:] for g in got) == sorted(o[1:] for o in old)  # the same rounds, moved
        assert new == lines(parse({"shuffle": 3}).apply(dp))  # seeded: the same every time
        moved += new != lines(dp)
    assert moved > len(later) / 2


def test_opponent_moves_replaced_and_payoffs_told_for_the_new_moves(later):
    for dp in later:
        game = MATRIX.stage_game(dp)
        for spec, expect in (("opponent-flip", lambda o: "F" if o == "J" else "J"), ("opponent-all-J", lambda o: "J")):
            for old, new in zip(lines(dp), lines(parse(spec).apply(dp))):
                r, me, other, *_ = LINE.fullmatch(old).groups()
                r2, me2, other2, won, they_won = LINE.fullmatch(new).groups()
                assert (r2, me2, other2) == (r, me, expect(other))
                mine, theirs = game.row[game.actions.index(me), game.other_actions.index(other2)], \
                    game.col[game.actions.index(me), game.other_actions.index(other2)]
                assert (won, they_won) == (f"{mine:g} point" + "s" * int(mine != 1),
                                           f"{theirs:g} point" + "s" * int(theirs != 1))


def test_hiding_leaves_out_exactly_the_payoffs_or_the_own_moves(later):
    for dp in later:
        old = lines(dp)
        assert lines(parse("hide-payoffs").apply(dp)) == [x[: x.index(" Thus,")] for x in old]
        assert lines(parse("hide-own-moves").apply(dp)) == [re.sub(r"you chose Option \w and ", "", x) for x in old]
        # the events keep their values: only the prompt leaves them out
        assert [(e.action, e.payoff) for e in parse("hide-own-moves").apply(dp).history] == \
            [(e.action, e.payoff) for e in dp.history]


def test_a_user_function_by_import_path(tmp_path, monkeypatch, later):
    (tmp_path / "my_interventions.py").write_text(textwrap.dedent('''
        from dataclasses import replace
        def drop_opponent(dp):
            """The opponent's past moves removed."""
            return replace(dp, history=tuple(e for e in dp.history if e.actor != "opponent"))
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    iv = parse({"function": "my_interventions:drop_opponent", "name": "solo"})
    assert iv.name == "fn-solo" and iv.description == "The opponent's past moves removed."
    assert parse("my_interventions:drop_opponent").name == "fn-drop_opponent"
    dp = later[0]
    assert all(e.actor == HUMAN for e in iv.apply(dp).history if e.round < dp.round)
    sys.modules.pop("my_interventions", None)


@pytest.mark.parametrize("spec, message", [
    ("no-such", "unknown intervention 'no-such'"), ("last-x", "unknown intervention"), ({"last": -1}, ">= 0"),
    ({"shuffle": "a"}, "integer seed"), ({"last": 1, "shuffle": 2}, "one key"), ("nowhere:fn", "cannot import"),
    ({"function": "os:getcwd", "name": "a b"}, "letters, digits"), (3, "a name or a mapping")])
def test_a_bad_spec_is_one_line(spec, message):
    with pytest.raises(InterventionError, match=message) as exc:
        parse(spec)
    assert "\n" not in str(exc.value)


def test_where_an_intervention_cannot_apply_it_says_so(akata_decisions, later):
    bargaining = get_family("glee_bargaining")
    for spec in ("shuffle", "opponent-flip", "hide-payoffs", "hide-own-moves"):
        with pytest.raises(InterventionError, match="glee_bargaining"):
            parse(spec).check(bargaining)
    parse("no-history").check(bargaining)
    parse("last-3").check(bargaining)
    with pytest.raises(InterventionError, match="'C' is not one of the other player's actions"):
        parse("opponent-all-C").check(MATRIX, later[0])
    with pytest.raises(InterventionError, match="does not read prompts"):
        Intervened(Reciprocity(), "hide-payoffs")


def test_predictions_are_keyed_by_the_original_decisions(akata_decisions):
    dps = [dp for dp in akata_decisions if dp.participant_id in {"1", "2", "3", "4"}]
    plain = predict_table(Reciprocity(), dps)
    all_j = predict_table(Intervened(Reciprocity(), "opponent-all-J"), dps)
    assert list(all_j["decision_id"]) == list(plain["decision_id"])
    assert list(all_j["human_action"]) == list(plain["human_action"])
    assert set(all_j["predictor"]) == {"reciprocity@opponent-all-J"}
    # the same as fitting and predicting on decisions changed by hand, and not the same as the unmodified
    by_hand = predict_table(Reciprocity(), [parse("opponent-all-J").apply(dp) for dp in dps])
    assert list(all_j["p_affirmative"]) == list(by_hand["p_affirmative"])
    assert (all_j["p_affirmative"] != plain["p_affirmative"]).mean() > 0.3
    assert predict_table(Intervened(Uniform(), "shuffle"), dps)["p_affirmative"].eq(0.5).all()


def _config(tmp_path, predictors, family="repeated_matrix"):
    path = tmp_path / "iv.yaml"
    path.write_text(yaml.safe_dump({"name": "iv", "data": {"family": family, "participants": 4},
                                    "predictors": predictors}))
    return path


def test_a_list_sweeps_and_names_each_and_a_bad_one_is_a_config_error(tmp_path):
    cfg = load(_config(tmp_path, [{"type": "reciprocity", "intervention": ["none", "no-history", {"last": 1}]}]))
    assert [p["intervention"] for p in cfg.predictors] == ["none", "no-history", {"last": 1}]
    for bad, message in (("no-such", r"predictors\[0\]\.intervention\[1\]: unknown intervention"),
                         ([], "an empty list")):
        with pytest.raises(ConfigError, match=message):
            load(_config(tmp_path, [{"type": "reciprocity", "intervention": ["none", bad] if bad else bad}]))
    with pytest.raises(ConfigError, match="two predictors are called 'reciprocity@no-history'"):
        load(_config(tmp_path, [{"type": "reciprocity", "intervention": ["no-history", "no-history"]}]))
    with pytest.raises(ConfigError, match=r"intervention: intervention opponent-flip: family glee_bargaining"):
        load(_config(tmp_path, [{"type": "uniform", "intervention": "opponent-flip"}], family="glee_bargaining"))


def test_a_sweep_runs_resumes_and_a_refused_one_exits_2(tmp_path, data_root, capsys):
    cfg = _config(tmp_path, [{"type": "reciprocity", "intervention": ["none", "no-history", "opponent-all-F"]}])
    run = tmp_path / "run"
    args = ["run", str(cfg), "--out", str(run), "--quiet", "--data-dir", str(data_root)]
    assert main(args) == 0
    first = pd.read_parquet(run / "predictions.parquet")
    assert set(first["predictor"]) == {"reciprocity", "reciprocity@no-history", "reciprocity@opponent-all-F"}
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr().out
    assert all(f"{name}: 1 of 1 shard(s) already in" in out for name in set(first["predictor"]))
    pd.testing.assert_frame_equal(pd.read_parquet(run / "predictions.parquet"), first)
    described = yaml.safe_load((run / "config.yaml").read_text())["resolved"]["predictors"]
    assert {d["name"]: d.get("intervention") for d in described} == {
        "reciprocity": "none", "reciprocity@no-history": "no-history",
        "reciprocity@opponent-all-F": "opponent-all-F"}
    bad = _config(tmp_path, [{"type": "reciprocity", "intervention": "hide-payoffs"}])
    assert main(["run", str(bad), "--out", str(tmp_path / "bad"), "--quiet", "--data-dir", str(data_root)]) == 2
    assert "does not read prompts" in capsys.readouterr().err


def test_glee_bargaining_keeps_the_offer_being_answered(glee_root):
    """In GLEE the current round's events are the decision (the offer on the table): dropping or trimming the
    history keeps them, and the question is unchanged."""
    from envs.glee.loader import load_family
    from envs.replay import replay_all
    from tests.test_glee_bargaining import FORMAT

    family = get_family("glee_bargaining")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trajectories = load_family(FORMAT, glee_root)[0][:40]
    later = [dp for dp in replay_all(trajectories, family.make_env, progress=False) if dp.round >= 3]
    assert later
    for dp in later:
        before = family.prompt(dp)
        for spec in ("no-history", "last-1"):
            new = parse(spec).apply(dp)
            after = family.prompt(new)
            assert {k: v for k, v in after.items() if k != "history"} == \
                {k: v for k, v in before.items() if k != "history"}
            assert [e for e in new.history if e.round == dp.round] == [e for e in dp.history if e.round == dp.round]
            assert after["history"].splitlines() == before["history"].splitlines()[-len(after["history"].splitlines()):]
        assert len(family.prompt(parse("no-history").apply(dp))["history"]) < len(before["history"])


def test_every_listed_spelling_parses():
    from envs.interventions import NAMES

    filled = {"last-K": "last-2", "shuffle[-SEED]": "shuffle-1", "opponent-all-A": "opponent-all-J",
              "pkg.mod:function": "os.path:basename"}
    assert [parse(filled.get(n, n)).name for n in NAMES] == [
        "none", "no-history", "last-2", "shuffle-1", "opponent-flip", "opponent-all-J", "hide-payoffs",
        "hide-own-moves", "fn-basename"]
