"""How a one-shot 2x2 decision is told to a language model.

Always from the respondent's side (they choose between Option X and Option Y,
the other player between Option A and Option B) and with every payoff of both
players, one sentence per cell.  The respondent's options are listed in the
decision's presentation order: "swapped" lists Y before X everywhere (the
choice sentence, the payoff sentences, the question), so comparing the two
presentations measures position bias; the labels stay on the same strategies.
"""

from __future__ import annotations

from envs.one_shot.game import listing_order
from envs.stage_game import StageGame
from envs.records import DecisionPoint


def _points(x: float) -> str:
    return f"{x:g} point" + ("" if x == 1 else "s")


def listed_actions(dp: DecisionPoint) -> tuple[str, str]:
    """The respondent's options in the order this presentation lists them."""
    actions = tuple(dp.params["actions"])
    i, j = listing_order(str(dp.params.get("presentation", "original")))
    return actions[i], actions[j]


def rules_text(dp: DecisionPoint) -> str:
    view = StageGame.from_params(dict(dp.params))
    first, second = listed_actions(dp)
    a, b = view.other_actions
    lines = ["You are playing a game with another player. Each of you makes one choice, at the same time and "
             "without knowing the other's choice. The game is played only once.",
             f"You choose between Option {first} and Option {second}. "
             f"The other player chooses between Option {a} and Option {b}.",
             "The points are as follows:"]
    for mine in (first, second):
        for theirs in view.other_actions:
            me, other = view.payoff(mine, theirs)
            lines.append(f"If you choose Option {mine} and the other player chooses Option {theirs}, "
                         f"then you win {_points(me)} and the other player wins {_points(other)}.")
    return "\n".join(lines)


def question_text(dp: DecisionPoint) -> str:
    first, second = listed_actions(dp)
    return (f"Q: Which Option do you choose, Option {first} or Option {second}? "
            f'Answer with a JSON object: {{"decision": "{first}"}} or {{"decision": "{second}"}}.')


def render(dp: DecisionPoint) -> dict[str, str]:
    """The decision in words, as named parts a prompt template puts together.

    ``rules``: the game and every payoff; ``history``: empty (nothing happened
    before a one-shot game); ``question``: the choice to make, JSON answer;
    ``round``: "1"; ``options``: the options in presentation order.
    """
    first, second = listed_actions(dp)
    return {"rules": rules_text(dp), "history": "", "question": question_text(dp), "round": str(dp.round),
            "options": f"Option {first} or Option {second}"}


def option_text(action: str) -> str:
    """What the model writes after the answer stub to choose ``action``."""
    return action
