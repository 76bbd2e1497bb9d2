import pytest

from envs.records import HUMAN, OPPONENT, DecisionPoint, Event, Trajectory


def _dp(**kw):
    base = dict(decision_id="d", trajectory_id="t", family="f", game="g", participant_id="p", role="r",
                round=2, legal_actions=("J", "F"), human_action="J", affirmative="J", params={},
                history=(Event(1, HUMAN, "J", 8.0), Event(1, OPPONENT, "F", 10.0)))
    base.update(kw)
    return DecisionPoint(**base)


def test_decision_point_rejects_an_action_that_is_not_legal():
    with pytest.raises(ValueError, match="not one of the legal actions"):
        _dp(human_action="X")


def test_decision_point_rejects_future_events():
    with pytest.raises(ValueError, match="future"):
        _dp(history=(Event(3, OPPONENT, "F"),))


def test_records_round_trip_through_plain_dicts():
    dp = _dp(flags=("impossible_score@r2",))
    assert DecisionPoint.from_dict(dp.to_dict()) == dp
    t = Trajectory("t", "f", "g", "p", "r", {"a": 1}, (Event(1, HUMAN, "J", 1.0, {"row": 2}),), ("x",), "src")
    assert Trajectory.from_dict(t.to_dict()) == t
