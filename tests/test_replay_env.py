"""Every replay environment on the shared base (``envs.replay_env``): PettingZoo's API and seed tests on the raw
and the wrapped environment, and live games that become trajectories replaying into the same moves."""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import pytest
from pettingzoo.test import api_test, seed_test

import envs.glee.bargaining as bargaining
import envs.glee.negotiation as negotiation
import envs.glee.persuasion as persuasion
import envs.lotteries as lotteries
import envs.one_shot as one_shot
import envs.repeated_matrix as repeated_matrix
from envs.glee.env import GleeEnv
from envs.live import play
from envs.one_shot.game import labelled
from envs.records import HUMAN, Trajectory
from envs.registry import get_family
from envs.replay import replay
from envs.replay_env import ReplayEnv

A_GAMBLE, B_GAMBLE = ((1.0, 5.0),), ((0.5, 0.0), (0.5, 20.0))
ASYMMETRIC = labelled([[21.0, 24], [2, 6]], [[10.0, 17], [19, 4]])

#: family of the live game -> (its package's PettingZoo constructor pair, arguments of a short live game)
LIVE: dict[str, tuple[object, tuple, dict]] = {
    "repeated_matrix": (repeated_matrix, (), {"game": "BoS", "n_rounds": 4}),
    "games2p2k": (one_shot, (ASYMMETRIC,), {}),
    "choices13k": (lotteries, (A_GAMBLE, B_GAMBLE), {}),
    "choices13k_feedback": (lotteries, (A_GAMBLE, B_GAMBLE), {"feedback": True}),
    "glee_bargaining": (bargaining, ({"max_rounds": 6, "human_seat": "player_2"},), {}),
    "glee_persuasion": (persuasion, ({"total_rounds": 5},), {}),
    "glee_negotiation": (negotiation, ({"max_rounds": 4, "human_seat": "player_2"},), {}),
}


def constructor(family: str, wrapped: bool) -> Callable[[], object]:
    package, args, kwargs = LIVE[family]
    make = package.env if wrapped else package.raw_env
    return lambda: make(*args, **kwargs)


def random_policies(env, rng: np.random.Generator) -> dict:
    """A random legal move for every seat: masked where the observation carries an action mask."""
    def policy(n: int):
        def choose(obs, info) -> int:
            if isinstance(obs, dict):
                return int(rng.choice(np.flatnonzero(obs["action_mask"])))
            return int(rng.integers(n))
        return choose
    return {a: policy(env.action_space(a).n) for a in env.possible_agents}


def moves(t: Trajectory, payoffs: bool = True) -> list[tuple]:
    return [(e.round, e.actor, e.action) + ((e.payoff,) if payoffs else ()) for e in t.events]


def replayed(t: Trajectory) -> Trajectory:
    """Step a fresh environment of ``t``'s family through every logged move, then log that game again."""
    env = get_family(t.family).make_env(t)
    env.reset(options={"trajectory": t})
    for agent in env.agent_iter():
        _, _, terminated, truncated, _ = env.last(observe=False)
        if terminated or truncated:
            env.step(None)
            continue
        env.step(env.logged_action(agent))
    return env.to_trajectory("again")


@pytest.mark.filterwarnings("ignore:We recommend agents to be named")  # the lottery's one seat is "chooser"
@pytest.mark.parametrize("wrapped", [False, True], ids=["raw", "wrapped"])
@pytest.mark.parametrize("family", list(LIVE))
def test_pettingzoo_api_and_seed(family, wrapped):
    make = constructor(family, wrapped)
    env = make()
    assert isinstance(env.unwrapped, ReplayEnv) and (env is env.unwrapped) != wrapped
    api_test(env, num_cycles=40)
    seed_test(make, num_cycles=40)


@pytest.mark.parametrize("wrapped", [False, True], ids=["raw", "wrapped"])
@pytest.mark.parametrize("family", list(LIVE))
@pytest.mark.parametrize("seed", [0, 1])
def test_live_game_replays_into_the_same_moves(family, wrapped, seed):
    env = constructor(family, wrapped)()
    log = play(env, random_policies(env, np.random.default_rng(seed)), seed=seed)
    t = env.to_trajectory(f"live/{seed}", participant_id="me")
    assert (t.family, t.participant_id, t.source) == (family, "me", "live")
    assert any(e.actor == HUMAN for e in t.events) and log
    if not family.startswith("glee"):  # one move per step, in play order (GLEE logs messages and chance moves too)
        labels = {a: env.unwrapped.action_labels(a) for a in env.possible_agents}
        assert [e.action for e in t.events] == [labels[agent][action] for agent, action, _ in log]
    with_payoffs = "choices13k" not in family  # a chosen gamble's outcome is drawn again on replay
    assert moves(replayed(t), with_payoffs) == moves(t, with_payoffs)
    decisions = replay(t, get_family(t.family).make_env)
    assert decisions
    for dp in decisions:
        assert dp.trajectory_id == t.trajectory_id and dp.decision_id == f"{t.trajectory_id}/r{dp.round}"
        assert any(e.actor == HUMAN and e.round == dp.round and e.action == dp.human_action for e in t.events)
        assert all(e.round <= dp.round for e in dp.history)
    if not family.startswith("glee"):  # every human move is a decision in a matrix game and a lottery
        assert [dp.human_action for dp in decisions] == [e.action for e in t.events if e.actor == HUMAN]


def test_decision_points_carry_the_flags_of_their_round():
    env = repeated_matrix.raw_env("PD", n_rounds=3)
    play(env, {a: (lambda obs, info: 0) for a in env.possible_agents}, seed=0)
    t = dataclasses.replace(env.to_trajectory("flagged"), flags=("odd@r1", "odd@r3", "whole"))
    dps = replay(t, get_family("repeated_matrix").make_env)
    assert [dp.decision_id for dp in dps] == ["flagged/r1", "flagged/r2", "flagged/r3"]
    assert [dp.flags for dp in dps] == [("odd@r1", "whole"), ("whole",), ("odd@r3", "whole")]
    assert [len(dp.history) for dp in dps] == [0, 2, 4]


def test_an_action_outside_the_space_is_refused_and_changes_nothing():
    env = repeated_matrix.raw_env("PD", n_rounds=2)
    env.reset(seed=0)
    env.step(1)
    with pytest.raises(ValueError, match="opponent: illegal action 2 .*0=J, 1=F"):
        env.step(2)
    assert env.agent_selection == "opponent" and env.history == []
    wrapped = repeated_matrix.env(game="PD", n_rounds=2)
    wrapped.reset(seed=0)
    with pytest.raises(AssertionError):  # PettingZoo's AssertOutOfBoundsWrapper
        wrapped.step(2)


def test_binding_a_trajectory_of_another_shape_is_refused():
    short = repeated_matrix.raw_env("PD", n_rounds=2)
    play(short, {a: (lambda obs, info: 1) for a in short.possible_agents}, seed=0)
    with pytest.raises(ValueError, match="two-rounds: .* 2 rounds"):
        repeated_matrix.raw_env("PD", n_rounds=3).reset(options={"trajectory": short.to_trajectory("two-rounds")})


def test_replay_needs_a_bound_trajectory():
    env = lotteries.raw_env()
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="no trajectory bound"):
        env.logged_action("chooser")


@pytest.mark.parametrize("package", [bargaining, persuasion, negotiation])
def test_each_glee_family_has_its_constructor_pair(package):
    family = package.FORMAT.family
    raw, wrapped = package.raw_env(), package.env()
    assert isinstance(raw, GleeEnv) and isinstance(wrapped.unwrapped, GleeEnv) and wrapped is not wrapped.unwrapped
    assert raw.rules.family == wrapped.unwrapped.rules.family == family
    assert raw.metadata["name"] == f"{family}_v0"
    assert package.raw_env({"human_seat": "player_2"}).params["human_seat"] == "player_2"
