"""Numbers describing a repeated-game decision, for descriptive baselines such as ``feature-logit``.

What the behavioural literature on repeated PD/BoS says matters: what the other
player did last round (reciprocity), what oneself did (inertia), how often the
other has played the affirmative option so far, the round, and which game it is.
Before round 2 there is no history; those features are 0.5 ("no information").
"""

from __future__ import annotations

import math

from envs.records import HUMAN, OPPONENT, DecisionPoint


def features(dp: DecisionPoint) -> dict[str, float]:
    own = [e.action for e in dp.history if e.actor == HUMAN]
    other = [e.action for e in dp.history if e.actor == OPPONENT]
    yes = dp.affirmative

    def last(moves: list[str]) -> float:
        return 0.5 if not moves else float(moves[-1] == yes)

    return {
        "other_last": last(other),
        "own_last": last(own),
        "other_share": sum(m == yes for m in other) / len(other) if other else 0.5,
        "log_round": math.log(dp.round),
        "is_pd": float(dp.game == "PD"),
    }
