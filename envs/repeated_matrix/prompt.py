"""How a repeated 2x2 decision is told to a language model.

The wording follows the repeated-games experiment (Akata et al., 2025): the
options are "Option J" and "Option F", the rules list every payoff, and the
history is one sentence per finished round.  The family owns this text because
only it knows its game; predictors wrap it in a base-model (plain) or
aligned-model (chat) format.
"""

from __future__ import annotations

from envs.records import HUMAN, OPPONENT, DecisionPoint, hidden
from envs.repeated_matrix.games import game_from_params


def _points(x: float) -> str:
    return f"{x:g} point" + ("" if x == 1 else "s")


def rules_text(dp: DecisionPoint) -> str:
    game = game_from_params(dict(dp.params))
    a, b = game.actions
    n = int(dp.params.get("n_rounds", 10))
    lines = [f"You are playing a game repeatedly with another player. In this game, you can choose between "
             f"Option {a} and Option {b}. You will play {n} rounds in total with the same player. "
             "The rules of the game are as follows:"]
    for mine in game.actions:
        for theirs in game.actions:
            me, other = game.payoff(mine, theirs)
            lines.append(f"If you choose Option {mine} and the other player chooses Option {theirs}, "
                         f"then you win {_points(me)} and the other player wins {_points(other)}.")
    return "\n".join(lines)


def history_text(dp: DecisionPoint) -> str:
    """One sentence per finished round; a move or payoff marked hidden (``envs.records.hidden``, a history
    intervention) is left out: "In round 3, the other player chose Option J." """
    rounds: dict[int, dict[str, object]] = {}
    for e in dp.history:
        if e.actor in (HUMAN, OPPONENT):
            rounds.setdefault(e.round, {})[e.actor] = e
    lines = []
    for r in sorted(rounds):
        h, o = rounds[r].get(HUMAN), rounds[r].get(OPPONENT)
        if h is None or o is None:
            continue
        own = "" if hidden(h, "action") else f"you chose Option {h.action} and "
        line = f"In round {r}, {own}the other player chose Option {o.action}."
        if not (hidden(h, "payoff") or hidden(o, "payoff")):
            me, other = game_from_params(dict(dp.params)).payoff(h.action, o.action)
            line += f" Thus, you won {_points(me)} and the other player won {_points(other)}."
        lines.append(line)
    return "\n".join(lines)


def question_text(dp: DecisionPoint) -> str:
    a, b = dp.legal_actions
    return (f"You are currently playing round {dp.round}.\n"
            f"Q: Which Option do you choose, Option {a} or Option {b}? "
            f'Answer with a JSON object: {{"decision": "{a}"}} or {{"decision": "{b}"}}.')


def render(dp: DecisionPoint) -> dict[str, str]:
    """The decision in words, as named parts a prompt template puts together.

    ``rules``: the game and its payoffs; ``history``: one sentence per finished round
    (empty in round 1); ``question``: the round and the choice to make; ``options``:
    the option names, for templates that ask their own question.
    """
    a, b = dp.legal_actions
    return {"rules": rules_text(dp), "history": history_text(dp), "question": question_text(dp),
            "round": str(dp.round), "options": f"Option {a} or Option {b}"}


def option_text(action: str) -> str:
    """What the model writes after the answer stub to choose ``action``."""
    return action
