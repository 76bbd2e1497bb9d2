"""What a template or an expression of a YAML family sees for one decision (its *scope*).

The same scope serves the prompt parts, the features, a policy opponent and the loader
(which asks the opponent's policy for a move the log lacks), so the names mean the same
everywhere:

- the row: ``game``, ``title``, ``round``, ``n_rounds``, ``participant`` and every context
  column (the values of the decision's own row);
- ``actions`` / ``opponent_actions`` (objects with ``.name``, ``.text``, ``.label``),
  ``affirmative`` (its name), ``payoffs`` (``((a, b), (p, q))`` per pair, with a game);
- ``history``: one entry per past round with ``round``, ``action``, ``opponent_action``
  (action objects, the latter ``None`` when unknown), ``payoff`` and ``opponent_payoff``
  (the stage game's when there is one and both moves are known, else the logged payoff /
  ``None``), ``logged_payoff`` and that round's context columns; ``own_moves`` /
  ``opponent_moves``: the past moves' names (unknown opponent moves left out).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from envs.records import HUMAN, OPPONENT, Event
from envs.tabular.games import StageGames
from envs.tabular.spec import Option, Spec


def row_scope(games: StageGames, game: str, round: int, n_rounds: int, participant: str,
              context: Mapping[str, Any]) -> dict[str, Any]:
    """The names of one row: payoff expressions, the lookup file name and the baseline cell read these."""
    return {**context, "game": game, "title": games.title(game, context), "round": int(round),
            "n_rounds": int(n_rounds), "participant": participant}


def _by_name(options: Sequence[Option]) -> dict[str, Option]:
    return {o.name: o for o in options}


def history_rounds(spec: Spec, games: StageGames, game: str, n_rounds: int, participant: str,
                   history: Sequence[Event]) -> list[dict[str, Any]]:
    """The past rounds of a decision as template values, oldest first."""
    mine, theirs = _by_name(spec.actions), _by_name(spec.opponent_actions)
    rounds: dict[int, dict[str, Event]] = {}
    for e in history:
        if e.actor in (HUMAN, OPPONENT):
            rounds.setdefault(e.round, {})[e.actor] = e
    out = []
    for r in sorted(rounds):
        h, o = rounds[r].get(HUMAN), rounds[r].get(OPPONENT)
        if h is None:
            continue
        context = dict(h.data.get("context", {}))
        a = mine[h.action]
        b = theirs.get(o.action) if o is not None and o.action is not None else None
        payoff, other = h.payoff, (o.payoff if o is not None else None)
        if games.defined and b is not None:
            row = row_scope(games, game, r, n_rounds, participant, context)
            payoff, other = games.stage(row, f"round {r}").payoff(a.name, b.name)
        out.append({**context, "round": r, "action": a, "opponent_action": b, "payoff": payoff,
                    "opponent_payoff": other, "logged_payoff": h.payoff})
    return out


def decision_scope(spec: Spec, games: StageGames, game: str, round: int, n_rounds: int, participant: str,
                   context: Mapping[str, Any], history: Sequence[Event]) -> dict[str, Any]:
    """Every name a prompt part, a feature or a policy can use for this decision (see the module docstring)."""
    scope = row_scope(games, game, round, n_rounds, participant, context)
    past = history_rounds(spec, games, game, n_rounds, participant, history)
    scope.update(actions=list(spec.actions), opponent_actions=list(spec.opponent_actions),
                 affirmative=spec.affirmative.name, history=past,
                 own_moves=[h["action"].name for h in past],
                 opponent_moves=[h["opponent_action"].name for h in past if h["opponent_action"] is not None])
    if games.defined:
        stage = games.stage(scope, f"round {round}")
        scope["payoffs"] = [((a, b), stage.payoff(a.name, b.name)) for a in spec.actions
                            for b in spec.opponent_actions]
    return scope
