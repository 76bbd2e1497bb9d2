"""How a choices13k problem is told to a language model.

Both gambles are described in words, every outcome with its chance, e.g.
"Gamble A: a 95% chance to win $26 and a 5% chance to lose $1".  Under
ambiguity people saw B's outcomes but not their probabilities, so the prompt
lists B's outcomes and says their probabilities are unknown — it never shows
them.  There is no history: each problem is one choice (for the feedback
condition the rules say that outcomes are shown after each choice, but the
outcomes people saw are not in the data).
"""

from __future__ import annotations

from envs.lotteries.gambles import Gamble, problem_gambles
from envs.records import DecisionPoint


def money(x: float) -> str:
    """'$26', '$86.50'."""
    x = abs(x)
    return f"${x:.0f}" if float(x).is_integer() else f"${x:.2f}"


def outcome_text(x: float) -> str:
    """'win $26', 'lose $1', 'win $0'."""
    return f"lose {money(x)}" if x < 0 else f"win {money(x)}"


def percent(p: float) -> str:
    """'95%', '12.5%', '0.25%' (rounded to 4 decimals of a percent, so float noise disappears)."""
    return f"{round(100.0 * p, 4):g}%"


def chance(p: float) -> str:
    """'a 95% chance', 'an 18.75% chance' (the article follows how the number is read)."""
    pc = percent(p)
    whole = pc.split(".")[0].rstrip("%")
    article = "an" if whole.startswith("8") or whole in ("11", "18") else "a"
    return f"{article} {pc} chance"


def _join(parts: list[str], word: str = "and") -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" {word} " + parts[-1]


def gamble_text(g: Gamble, probabilities_known: bool = True) -> str:
    """One gamble in words: every outcome with its chance, or — when the chances are unknown — just the outcomes."""
    m = g.merged()
    if not probabilities_known:
        xs = sorted(m.amounts())
        if len(xs) == 1:
            return f"{outcome_text(xs[0])} for sure"
        return _join([outcome_text(x) for x in xs], "or") + ", with unknown probabilities"
    if len(m.outcomes) == 1:
        return f"{outcome_text(m.outcomes[0][1])} for sure"
    return _join([f"{chance(p)} to {outcome_text(x)}" for p, x in m.outcomes])


def rules_text(dp: DecisionPoint) -> str:
    a, b = problem_gambles(dp.params)
    amb = bool(dp.params.get("Amb"))
    lines = ["You are choosing between two gambles. The gamble you choose is played once and you receive "
             "its outcome."]
    if dp.params.get("Feedback"):
        lines.append("You make this choice several times; after each choice you see the outcome of the gamble "
                     "you chose and of the gamble you did not choose.")
    lines.append(f"Gamble A: {gamble_text(a)}.")
    lines.append(f"Gamble B: {gamble_text(b, probabilities_known=not amb)}.")
    if amb:
        lines.append("The probabilities of Gamble B's outcomes are not known to you.")
    return "\n".join(lines)


def question_text(dp: DecisionPoint) -> str:
    a, b = dp.legal_actions
    return (f"Q: Which gamble do you choose, Gamble {a} or Gamble {b}? "
            f'Answer with a JSON object: {{"decision": "{a}"}} or {{"decision": "{b}"}}.')


def render(dp: DecisionPoint) -> dict[str, str]:
    """The decision in words, as named parts a prompt template puts together.

    ``rules``: the two gambles; ``history``: empty (one choice per problem); ``question``:
    which gamble, answered as JSON; ``options``: the option names.
    """
    a, b = dp.legal_actions
    return {"rules": rules_text(dp), "history": "", "question": question_text(dp),
            "round": str(dp.round), "options": f"Gamble {a} or Gamble {b}"}


def option_text(action: str) -> str:
    """What the model writes after the answer stub to choose ``action``: "A" or "B"."""
    return action
