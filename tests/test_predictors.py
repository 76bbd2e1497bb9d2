"""Equilibrium and descriptive baselines."""

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from predictors.baselines import PopulationRate, Reciprocity, Uniform
from predictors.nash import NashPredictor, select_equilibrium
from envs.registry import get_family
from envs.repeated_matrix import GAMES


def _mixed_row_strategy(row, col):
    """The row player's mixed equilibrium of a 2x2 game: make the column player indifferent."""
    (a, b), (c, d) = col
    p = Fraction(int(d - c), int((a - b) - (c - d)))  # p*a + (1-p)*c == p*b + (1-p)*d
    return float(p)


def test_nash_prisoners_dilemma_is_mutual_defection():
    row, col = GAMES["PD"].matrices()
    assert np.allclose(select_equilibrium(row, col, "mixed"), [0, 1])


def test_nash_battle_of_the_sexes_mixed_equilibrium():
    g = GAMES["BoS"]
    row, col = g.matrices()
    assert np.isclose(select_equilibrium(row, col, "mixed")[0], _mixed_row_strategy(g.row, g.col))
    # payoff-dominant selection picks a pure equilibrium instead: both sum to 17, a tie broken by the
    # human's own payoff (10 in (F, F) against 7 in (J, J)), not by the order equilibria are listed in
    assert select_equilibrium(row, col, "payoff_dominant").tolist() == [0.0, 1.0]


def test_nash_and_normative_report_the_battle_of_the_sexes_tie(akata_decisions):
    bos = [dp for dp in akata_decisions if dp.game == "BoS"][:5]
    pd = [dp for dp in akata_decisions if dp.game == "PD"][:5]
    family = get_family("repeated_matrix")
    for dp, pred in zip(bos, NashPredictor("payoff_dominant").predict(bos)):
        _, notes = family.normative(dp, "payoff_dominant")
        for diag in (pred.diagnostics, notes):
            assert diag["tie"] is True and diag["n_equilibria"] == 3 and diag["degenerate"] is False
            assert sorted(d["J"] for d in diag["tied"]) == [0.0, 1.0]
        assert pred.probs == pytest.approx({"J": 0.0, "F": 1.0})
    for dp, pred in zip(bos + pd, NashPredictor("mixed").predict(bos + pd)):
        assert pred.diagnostics["tie"] is False and "tied" not in pred.diagnostics
        assert pred.diagnostics["n_components"] == (3 if dp.game == "BoS" else 1)


def test_nash_predictor_rejects_unknown_selection():
    with pytest.raises(ValueError, match="selection"):
        NashPredictor("best")


def test_nash_predictor_on_real_decisions(akata_decisions):
    preds = NashPredictor().predict(akata_decisions[:40])
    for dp, p in zip(akata_decisions, preds):
        assert p.probs["J"] == pytest.approx(0.0 if dp.game == "PD" else 7 / 17)


def test_population_rate_never_uses_the_person_it_predicts(akata_decisions):
    pr = PopulationRate()
    pr.fit(akata_decisions)
    target = akata_decisions[0]
    before = pr.predict([target])[0].probs
    # flip every decision of this participant: their own prediction must not move
    flipped = [replace(dp, human_action="F" if dp.human_action == "J" else "J")
               if dp.participant_id == target.participant_id else dp for dp in akata_decisions]
    pr.fit(flipped)
    assert pr.predict([target])[0].probs == pytest.approx(before)
    # ... while other people's predictions do move
    other = next(dp for dp in akata_decisions if dp.participant_id != target.participant_id
                 and dp.game == target.game and dp.round == target.round)
    pr2 = PopulationRate()
    pr2.fit(akata_decisions)
    assert pr.predict([other])[0].probs != pytest.approx(pr2.predict([other])[0].probs)


def test_reciprocity_copies_the_last_opponent_move(akata_decisions):
    rc = Reciprocity()
    rc.fit(akata_decisions)
    for dp, p in zip(akata_decisions[:100], rc.predict(akata_decisions[:100])):
        if dp.round == 1:
            assert p.diagnostics["rule"] == "population"
            continue
        last = [e.action for e in dp.history if e.actor == "opponent"][-1]
        assert max(p.probs, key=p.probs.get) == last  # people copy more often than not
        assert 0.5 < p.probs[last] < 1


def test_uniform(akata_decisions):
    assert all(p.probs == {"J": 0.5, "F": 0.5} for p in Uniform().predict(akata_decisions[:5]))
