"""Counterfactual play (``sim.counterfactual``, ``analysis.simulated``): reproducible, one predict call per round,
the logged person against the logged opponent gives back the log, the GPT-4 opponent follows its tables, and a
run's ``simulate:`` section writes, reuses and reports it."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.simulated import compare, per_round
from envs.quality import DataQualityWarning
from envs.records import HUMAN, OPPONENT, Event, Trajectory
from envs.registry import get_family
from envs.repeated_matrix.loader import load_lookups
from envs.replay import replay_all
from predictors.base import Prediction, Predictor
from predictors.baselines import Reciprocity
from sim.cli import main
from sim.config import ConfigError, load
from sim.counterfactual import SimulationError, read_simulated, simulate

MATRIX = get_family("repeated_matrix")


@pytest.fixture(scope="module")
def people(akata_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return MATRIX.load(akata_dir)[0]


def moves(t: Trajectory, actor: str) -> list[str]:
    return [e.action for e in sorted(t.events, key=lambda e: e.round) if e.actor == actor]


class Logged(Predictor):
    """Puts probability 1 on what the template person did in that round; records its batch sizes."""

    name = "logged"

    def __init__(self, people):
        self.log = {t.trajectory_id: moves(t, HUMAN) for t in people}
        self.batches: list[int] = []

    def predict(self, batch):
        self.batches.append(len(batch))
        out = []
        for dp in batch:
            did = self.log[dp.trajectory_id.split("~")[0]][dp.round - 1]
            assert all(e.round < dp.round for e in dp.history)  # a player sees only its past
            out.append(Prediction(dp.decision_id, {a: float(a == did) for a in dp.legal_actions}))
        return out


def test_the_logged_person_against_the_logged_opponent_gives_back_the_log(people):
    pred = Logged(people)
    played = simulate(pred, MATRIX, people, opponent="logged", progress=False)
    assert len(played) == len(people) and pred.batches == [len(people)] * 10  # one call per round, all players
    for t, s in zip(people, played):
        assert moves(s, HUMAN) == moves(t, HUMAN) and moves(s, OPPONENT) == moves(t, OPPONENT)
        assert (s.params, s.game, s.flags, s.meta["template"]) == (t.params, t.game, ("simulated",), t.trajectory_id)
    # the played games replay like logs, with the played moves as the decisions
    dps = replay_all(played, MATRIX.make_env, progress=False)
    assert len(dps) == 3900 and [dp.human_action for dp in dps] == [a for t in played for a in moves(t, HUMAN)]


def test_the_gpt4_opponent_follows_its_lookup_table_and_play_is_seeded(people, akata_dir, akata_decisions):
    pred = Reciprocity()
    pred.fit(akata_decisions)
    chosen = people[:60]
    a = simulate(pred, MATRIX, chosen, akata_dir, seed=1, progress=False)
    tables = load_lookups(akata_dir)
    for s in a:
        own, theirs = moves(s, HUMAN), moves(s, OPPONENT)
        table = tables[(s.game, s.params["opponent"])]
        assert theirs == [table.next_move("".join(own[:r])) for r in range(len(own))]
        pay = [e.payoff for e in s.events if e.actor == HUMAN]
        game = MATRIX.stage_game(replay_all([s], MATRIX.make_env, progress=False)[0])
        assert pay == [game.payoff(x, y)[0] for x, y in zip(own, theirs)]
    again = simulate(pred, MATRIX, chosen, akata_dir, seed=1, progress=False)
    assert [t.to_dict() for t in again] == [t.to_dict() for t in a]
    other = simulate(pred, MATRIX, chosen, akata_dir, seed=2, progress=False)
    assert [moves(t, HUMAN) for t in other] != [moves(t, HUMAN) for t in a]
    # a player's draws do not depend on who else plays: the same player alone draws the same moves
    alone = simulate(pred, MATRIX, chosen[5:6], akata_dir, seed=1, progress=False)
    assert moves(alone[0], HUMAN) == moves(a[5], HUMAN)
    two = simulate(pred, MATRIX, chosen[:2], akata_dir, seed=1, copies=2, progress=False)
    assert [t.participant_id for t in two] == [f"{t.participant_id}~reciprocity#{k}" for t in chosen[:2]
                                               for k in range(2)]


def test_what_cannot_be_played_says_so(people):
    with pytest.raises(SimulationError, match="declares no opponent policy"):
        simulate(Reciprocity(), get_family("glee_bargaining"), people[:1], progress=False)
    with pytest.raises(SimulationError, match="opponent must be one of"):
        simulate(Reciprocity(), MATRIX, people[:1], opponent="nobody", progress=False)
    broken = Trajectory("x", "repeated_matrix", "PD", "x", "row player", dict(people[0].params),
                        tuple(e for e in people[0].events if e.round != 2))
    with pytest.raises(SimulationError, match="not 1..n"):
        simulate(Reciprocity(), MATRIX, [broken], progress=False)


def test_the_statistics_by_hand():
    ev = [Event(1, HUMAN, "J", 8.0), Event(1, OPPONENT, "J", 8.0), Event(2, HUMAN, "F", 10.0),
          Event(2, OPPONENT, "J", 0.0), Event(3, HUMAN, "J", 0.0), Event(3, OPPONENT, "F", 10.0)]
    t = Trajectory("t", "fam", "PD", "p", "row", {}, tuple(ev))
    table = per_round([t], {"PD": "J"})
    assert list(table["affirmative"]) == [1, 0, 1]
    assert np.isnan(table["reciprocation"][0]) and list(table["reciprocation"][1:]) == [0, 1]  # J->F no, J->J yes
    assert list(table["coordination"]) == [1, 0, 0]
    u = Trajectory("u", "fam", "PD", "q", "row", {}, tuple(Event(e.round, e.actor, "F", 5.0) for e in ev))
    by_round, totals = compare([t], {"all-F": [u]}, {"PD": "J"}, n_boot=50)
    row = by_round[(by_round["round"] == 1) & (by_round["stat"] == "affirmative")].set_index("source")
    assert row.loc["all-F", "diff"] == -1.0 and row.loc["people", "rate"] == 1.0
    tot = totals.set_index("source")
    assert tot.loc["people", "mean_total"] == 18.0 and tot.loc["all-F", "diff"] == 15.0 - 18.0


def _config(tmp_path, simulate, family="repeated_matrix"):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "data": {"family": family, "participants": 6},
                                    "predictors": [{"type": "reciprocity"}, {"type": "uniform"}, {"type": "nash"}],
                                    "simulate": simulate, "analysis": {"bootstrap": 100}}))
    return path


def test_the_simulate_section_is_checked(tmp_path):
    assert load(_config(tmp_path, {"predictors": ["reciprocity"]})).simulate == {
        "predictors": ["reciprocity"], "opponent": "policy", "seed": 0, "copies": 1}
    for bad, message in (({"predictors": ["nobody"]}, "no predictor is called 'nobody'"),
                         ({"predictors": ["uniform"], "copies": 0}, "simulate.copies"),
                         ({"predictors": ["uniform"], "opponent": "x"}, "simulate.opponent"),
                         ({"predictors": ["uniform"], "rounds": 3}, "simulate.'rounds': unknown key"),
                         ({"players": 3}, "simulate.'players': unknown key")):
        with pytest.raises(ConfigError, match=message):
            load(_config(tmp_path, bad))
    with pytest.raises(ConfigError, match="family glee_bargaining declares no opponent policy"):
        load(_config(tmp_path, {"predictors": ["uniform"]}, family="glee_bargaining"))


def test_a_run_plays_reuses_and_reports(tmp_path, data_root, capsys):
    from analysis.report import analyse, render_html
    from tests.test_report import _figures_on_page

    cfg = _config(tmp_path, {"predictors": ["reciprocity", "nash"], "seed": 3})  # config names: nash is nash-mixed
    run = tmp_path / "run"
    args = ["run", str(cfg), "--out", str(run), "--quiet", "--data-dir", str(data_root)]
    assert main(args) == 0
    header, played = read_simulated(run / "simulated" / "reciprocity.jsonl")
    assert header["seed"] == 3 and len(played) == 12  # 6 people × 2 games
    totals = pd.read_csv(run / "simulation_totals.csv")
    assert set(totals["source"]) == {"people", "reciprocity", "nash-mixed"}
    capsys.readouterr()
    assert main(args) == 0
    assert "reciprocity: its simulated play is in" in capsys.readouterr().out
    assert [t.to_dict() for t in read_simulated(run / "simulated" / "reciprocity.jsonl")[1]] == \
        [t.to_dict() for t in played]
    assert _figures_on_page(render_html(analyse(run)))["fig-simulation"] == "img"


def test_a_family_that_cannot_be_played_is_one_line_after_the_scores_are_saved(tmp_path, data_root, capsys):
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump({"name": "g", "data": {"family": "glee_bargaining", "participants": 3},
                                    "predictors": [{"type": "uniform"}],
                                    "simulate": {"predictors": ["uniform"], "opponent": "logged"}}))
    run = tmp_path / "run"
    assert main(["run", str(path), "--out", str(run), "--quiet", "--data-dir", str(data_root)]) == 2
    err = capsys.readouterr().err
    assert "simulate:" in err and "cannot be played round by round" in err and len(err.strip().splitlines()) == 1
    assert (run / "predictions.parquet").exists()
