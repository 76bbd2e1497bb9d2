"""The PettingZoo environment: upstream API tests, faithful replay, live play."""

import pytest
from pettingzoo.test import api_test, seed_test

from envs.live import play
from envs.records import HUMAN, OPPONENT
from envs.registry import get_family
from envs.replay import replay
from envs.repeated_matrix import RepeatedMatrixEnv, env, load_lookups, lookup_policy


@pytest.mark.parametrize("game", ["PD", "BoS"])
def test_pettingzoo_api(game):
    api_test(RepeatedMatrixEnv(game), num_cycles=30)


def test_pettingzoo_seed():
    seed_test(lambda: env(game="BoS"), num_cycles=30)


def test_replay_gives_one_decision_per_logged_human_move(akata, akata_decisions):
    assert len(akata_decisions) == akata[1].decisions
    by_traj = {}
    for dp in akata_decisions:
        by_traj.setdefault(dp.trajectory_id, []).append(dp)
    for t in akata[0][:50]:
        humans = [e for e in t.events if e.actor == HUMAN]
        dps = by_traj[t.trajectory_id]
        assert [dp.human_action for dp in dps] == [e.action for e in humans]
        assert [dp.round for dp in dps] == [e.round for e in humans]


def test_decision_points_see_exactly_the_past(akata_decisions):
    for dp in akata_decisions[:500]:
        assert all(e.round < dp.round for e in dp.history)
        assert len(dp.history) == 2 * (dp.round - 1)


def test_replay_environment_rewards_follow_the_payoff_matrix(akata):
    t = next(t for t in akata[0] if not t.flags)
    e = RepeatedMatrixEnv.from_trajectory(t)
    e.reset(options={"trajectory": t})
    total = {HUMAN: 0.0, OPPONENT: 0.0}
    for agent in e.agent_iter():
        _, reward, term, trunc, _ = e.last()
        total[agent] += reward
        e.step(None if term or trunc else e.logged_action(agent))
    assert total[HUMAN] == sum(ev.payoff for ev in t.events if ev.actor == HUMAN)


def test_live_play_against_the_gpt4_lookup_strategy(akata_dir):
    strategy = load_lookups(akata_dir)[("PD", "Base")]
    e = RepeatedMatrixEnv("PD")
    always_f = lambda obs, info: 1  # noqa: E731
    play(e, {HUMAN: always_f, OPPONENT: lookup_policy(strategy)}, seed=0)
    expected = [strategy.next_move("F" * r) for r in range(10)]
    assert [o for _, o in e.history] == expected
    # a live game is a trajectory like any other: it replays into 10 decisions
    t = e.to_trajectory("live/0")
    dps = replay(t, get_family("repeated_matrix").make_env)
    assert [dp.human_action for dp in dps] == ["F"] * 10


def test_observation_codes_history():
    e = RepeatedMatrixEnv("PD", n_rounds=3)
    e.reset()
    e.step(0)
    e.step(1)  # round 1: human J, opponent F
    assert list(e.observe(HUMAN)) == [1, 2, 0, 0, 0, 0]
    assert list(e.observe(OPPONENT)) == [2, 1, 0, 0, 0, 0]
    assert e.rewards == {HUMAN: 0.0, OPPONENT: 10.0}
