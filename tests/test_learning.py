"""EWA learning models (predictors/learning): special cases, parameter recovery, no leakage, no look-ahead."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import numpy as np
import pytest

from envs.records import Event
from envs.repeated_matrix.games import GAMES
from predictors.learning import (EWAPredictor, FictitiousPlayPredictor, Histories, ReinforcementPredictor,
                                 SelfTuningEWAPredictor, ewa_attractions, ewa_path, log_choice_probs,
                                 self_tuning_path)
from predictors.learning.data import encode, past_rounds
from predictors.registry import build


def _by_game(decisions):
    groups = defaultdict(list)
    for dp in decisions:
        groups[dp.game].append(dp)
    return groups


# -- (a) the special cases are EWA at their parameter values, on the real decisions ----------------

def test_ewa_at_delta0_kappa1_is_cumulative_reinforcement(akata_decisions):
    """A_j(t) = φ A_j(t-1) + I(j = s(t)) π(j, s_-i(t)), written out decision by decision."""
    phi = 0.7
    for name, dps in _by_game(akata_decisions).items():
        game, enc = GAMES[name], encode(GAMES[name], dps)
        a0 = np.tile([1.5, -0.5], (len(enc.hist.length), 1))
        got = ewa_path(enc.hist, a0, phi, delta=0.0, kappa=1.0)[enc.seq, enc.at]
        assert len(enc.hist.length) == len(dps) // 10  # one history per person and game serves all rounds
        for i, dp in enumerate(dps):
            a = np.array([1.5, -0.5])
            for own, other in past_rounds(dp):
                a = phi * a + np.array([game.payoff(own, other)[0] if j == own else 0.0 for j in game.actions])
            assert got[i] == pytest.approx(a, abs=1e-12)


def test_ewa_at_delta1_kappa0_is_weighted_fictitious_play(akata_decisions):
    """Beliefs w_b(t) = φ w_b(t-1) + I(b = s_-i(t)); A_j = expected payoff of j under w / Σw, when A(0)
    are the expected payoffs of the prior belief w(0) (weight N(0) = Σ w(0))."""
    phi, prior = 0.6, np.array([1.2, 0.8])
    for name, dps in _by_game(akata_decisions).items():
        game, enc = GAMES[name], encode(GAMES[name], dps)
        a0 = np.tile(game.row @ prior / prior.sum(), (len(enc.hist.length), 1))
        got = ewa_path(enc.hist, a0, phi, delta=1.0, kappa=0.0, n0=prior.sum())[enc.seq, enc.at]
        for i, dp in enumerate(dps):
            w = prior.copy()
            for _, other in past_rounds(dp):
                w = phi * w + (np.array(game.other_actions) == other)
            assert got[i] == pytest.approx(game.row @ w / w.sum(), abs=1e-12)


def test_self_tuning_ewa_follows_its_equations(akata_decisions):
    """Surprise S = Σ_k (h_k - r_k)², φ = 1 - S/2, δ_j = [π_j ≥ received], κ = 0, written per decision."""
    for name, dps in _by_game(akata_decisions).items():
        game, enc = GAMES[name], encode(GAMES[name], dps)
        a0 = np.tile([0.3, -0.2], (len(enc.hist.length), 1))
        got = self_tuning_path(enc.hist, a0)[0][enc.seq, enc.at]
        for i, dp in enumerate(dps[:400]):
            a, n, seen = np.array([0.3, -0.2]), 1.0, []
            for own, other in past_rounds(dp):
                seen.append(other)
                h = np.array([seen.count(b) / len(seen) for b in game.other_actions])
                r = np.array([b == other for b in game.other_actions], float)
                phi = 1 - 0.5 * np.sum((h - r) ** 2)
                pi = np.array([game.payoff(j, other)[0] for j in game.actions])
                got_pay = game.payoff(own, other)[0]
                weight = np.array([1.0 if (pi[x] >= got_pay or j == own) else 0.0
                                   for x, j in enumerate(game.actions)])
                a, n = (phi * n * a + weight * pi) / (phi * n + 1), phi * n + 1
            assert got[i] == pytest.approx(a, abs=1e-12)


def test_special_case_predictors_equal_ewa_at_their_values(akata_decisions):
    dps = akata_decisions
    values = {"phi": 0.8, "lam": 0.25}
    for cls, preset in ((ReinforcementPredictor, {"delta": 0.0, "kappa": 1.0}),
                        (FictitiousPlayPredictor, {"delta": 1.0, "kappa": 0.0})):
        special, ewa = cls(folds=3, fixed=values), EWAPredictor(folds=3, fixed={**values, **preset})
        special.fit(dps)
        ewa.fit(dps)
        for a, b in zip(special.predict(dps), ewa.predict(dps)):
            assert a.probs == pytest.approx(b.probs, abs=1e-12)
    with pytest.raises(ValueError, match="cannot fix"):
        ReinforcementPredictor(fixed={"delta": 0.5})


def test_types_are_registered():
    for name, cls in (("ewa", EWAPredictor), ("reinforcement", ReinforcementPredictor),
                      ("fictitious-play", FictitiousPlayPredictor), ("self-tuning-ewa", SelfTuningEWAPredictor)):
        assert type(build(name, folds=4)) is cls
    assert SelfTuningEWAPredictor().free == ("lam",)


# -- (b) parameter recovery on simulated choices against the logged opponents ----------------------

def _simulate(decisions, theta, share, reps, seed):
    """Choices drawn from EWA at ``theta`` (A_j(0) = log share_j / λ) against each real trajectory's logged
    opponent moves, ``reps`` simulated people per trajectory; returns their decision points."""
    rng = np.random.default_rng(seed)
    trajectories = defaultdict(list)
    for dp in decisions:
        trajectories[dp.trajectory_id].append(dp)
    by_game = defaultdict(list)
    for dps in trajectories.values():
        by_game[dps[0].game].append(sorted(dps, key=lambda d: d.round))
    out = []
    for name, trajs in by_game.items():
        game, trajs = GAMES[name], [t for t in trajs for _ in range(reps)]
        rounds = len(trajs[0])
        assert all(len(t) == rounds for t in trajs)
        other = np.array([[game.other_actions.index(b) for _, b in past_rounds(t[-1])] for t in trajs])
        own = np.zeros((len(trajs), rounds), int)
        for r in range(rounds):
            hist = Histories(game.row, own[:, :-1], other, np.full(len(trajs), r))
            a = ewa_attractions(hist, np.tile(np.log(share) / theta["lam"], (len(trajs), 1)),
                                theta["phi"], theta["delta"], theta["kappa"])
            p_first = np.exp(log_choice_probs(a, theta["lam"]))[:, 0]
            own[:, r] = (rng.random(len(trajs)) >= p_first).astype(int)
        for i, traj in enumerate(trajs):
            rep = f"~{i % reps}"
            acts = [game.actions[j] for j in own[i]]
            for r, dp in enumerate(traj):
                moves = [(acts[q], game.other_actions[other[i, q]]) for q in range(r)]
                history = tuple(e for q, (a, b) in enumerate(moves, 1)
                                for e in (Event(q, "human", a), Event(q, "opponent", b)))
                out.append(replace(dp, decision_id=dp.decision_id + rep, trajectory_id=dp.trajectory_id + rep,
                                   participant_id=dp.participant_id + rep, human_action=acts[r], history=history))
    return out


TRUTHS = {  # κ trades off against λ in 10-round histories: it is recovered only roughly
    ReinforcementPredictor: ({"phi": 0.8, "delta": 0.0, "kappa": 1.0, "lam": 0.3}, {"phi": 0.05, "lam": 0.05}),
    EWAPredictor: ({"phi": 0.8, "delta": 0.5, "kappa": 0.5, "lam": 0.3},
                   {"phi": 0.05, "delta": 0.1, "kappa": 0.35, "lam": 0.1}),
}


@pytest.mark.parametrize("cls", list(TRUTHS))
def test_fit_recovers_simulated_parameters(akata_decisions, cls):
    truth, tolerance = TRUTHS[cls]
    sims = _simulate(akata_decisions, truth, share=np.array([0.6, 0.4]), reps=3, seed=1)
    assert len(sims) == 3 * len(akata_decisions)
    model = cls(folds=2, starts=2)
    model.fit(sims)
    for k in (0, 1):
        got = model.fitted[("repeated_matrix", k)]
        for p in model.free:
            assert abs(got[p] - truth[p]) <= tolerance[p], (k, p, got)
    # a model from other parameters fits the simulated people worse than the truth does
    wrong = cls(folds=2, fixed={p: (0.3 if p == "phi" else truth[p]) for p in model.free})
    wrong.fit(sims)
    assert wrong.fitted[("repeated_matrix", 0)]["train_nll"] > model.fitted[("repeated_matrix", 0)]["train_nll"] + 10


# -- (c) nobody's parameters are fitted on their own choices --------------------------------------

def test_own_choices_never_move_own_parameters(akata_decisions):
    target = akata_decisions[0]

    def flip(a):
        return "F" if a == "J" else "J"

    flipped = [replace(dp, human_action=flip(dp.human_action),
                       history=tuple(replace(e, action=flip(e.action)) if e.actor == "human" else e
                                     for e in dp.history))
               if dp.participant_id == target.participant_id else dp for dp in akata_decisions]
    before, after = ReinforcementPredictor(folds=3, starts=1), ReinforcementPredictor(folds=3, starts=1)
    before.fit(akata_decisions)
    after.fit(flipped)
    mine = [i for i, dp in enumerate(akata_decisions) if dp.participant_id == target.participant_id]
    p0 = before.predict([akata_decisions[i] for i in mine])
    p1 = after.predict([flipped[i] for i in mine])
    for a, b in zip(p0, p1):
        assert a.diagnostics == b.diagnostics  # same fold, same fitted φ and λ
    k = p0[0].diagnostics["fold"]
    assert all(before.shares[key] == pytest.approx(after.shares[key]) for key in before.shares if key[2] == k)
    other = next(f for f in range(3) if f != k)  # ... while other folds, which trained on this person, move
    assert before.fitted[("repeated_matrix", other)] != after.fitted[("repeated_matrix", other)]


# -- (d) the prediction for round t uses nothing from rounds >= t ----------------------------------

@pytest.mark.parametrize("cls", [EWAPredictor, SelfTuningEWAPredictor])
def test_prediction_uses_only_the_past(akata_decisions, cls):
    model = cls(folds=2, starts=1, fixed={"lam": 0.2}) if cls is SelfTuningEWAPredictor else \
        cls(folds=2, fixed={"phi": 0.7, "delta": 0.4, "kappa": 0.5, "lam": 0.2})
    model.fit(akata_decisions)
    last = [dp for dp in akata_decisions if dp.round == 10][:40]
    by_id = {dp.decision_id: dp for dp in akata_decisions}
    for dp in last:
        for t in (1, 4, 7):
            real = next(d for d in by_id.values() if d.trajectory_id == dp.trajectory_id and d.round == t)
            # the round-10 record cut back to rounds < t, with a different own choice at t: same prediction
            cut = replace(dp, round=t, human_action="J" if real.human_action == "F" else "F",
                          history=tuple(e for e in dp.history if e.round < t), decision_id=f"{dp.decision_id}@{t}")
            alone, cutp = model.predict([real])[0], model.predict([cut])[0]
            assert alone.probs == pytest.approx(cutp.probs, abs=1e-12)
    # and predicting next to other (later) decisions of the same people changes nothing
    together = model.predict(akata_decisions[:200])
    for dp, p in zip(akata_decisions[:200:17], together[::17]):
        assert model.predict([dp])[0].probs == pytest.approx(p.probs, abs=1e-12)
    # the model does respond to the past: different histories, different predictions
    assert len({round(p.probs["J"], 9) for p in together}) > 20


def test_a_resumed_run_keeps_the_fitted_values_per_fold(tmp_path, data_root):
    """All shards kept: nothing is fitted again, and config.yaml still records the first run's fits."""
    import yaml

    from sim.cli import main

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"name": "resume", "data": {"family": "repeated_matrix", "participants": 5},
                                   "predictors": [{"type": "reinforcement", "folds": 3, "starts": 1},
                                                  {"type": "uniform"}]}))
    run = tmp_path / "run"

    def fitted() -> dict:
        described = yaml.safe_load((run / "config.yaml").read_text())["resolved"]["predictors"]
        return next(d for d in described if d["name"] == "reinforcement")["fitted"]

    args = ["run", str(cfg), "--out", str(run), "--quiet", "--data-dir", str(data_root)]
    assert main(args) == 0
    first = fitted()
    assert set(first["repeated_matrix"]) == {0, 1, 2}
    assert main(args) == 0
    assert fitted() == first
