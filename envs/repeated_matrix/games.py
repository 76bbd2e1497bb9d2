"""The 2x2 stage games of the repeated-games experiment (Akata et al., 2025).

Actions are ordered ("J", "F"), as the options were labelled to participants.
Payoffs are (human, other) — the human sits in the row seat.  Each game is an
``envs.stage_game.StageGame``.
"""

from __future__ import annotations

from typing import Any, Mapping

from envs.stage_game import StageGame

ACTIONS: tuple[str, str] = ("J", "F")

PRISONERS_DILEMMA = StageGame(row=((8, 0), (10, 5)), col=((8, 10), (0, 5)), actions=ACTIONS,
                              name="PD", title="Prisoner's Dilemma")
BATTLE_OF_THE_SEXES = StageGame(row=((7, 0), (0, 10)), col=((10, 0), (0, 7)), actions=ACTIONS,
                                name="BoS", title="Battle of the Sexes")
GAMES: dict[str, StageGame] = {g.name: g for g in (PRISONERS_DILEMMA, BATTLE_OF_THE_SEXES)}


def game_from_params(params: Mapping[str, Any]) -> StageGame:
    """Rebuild a game from a trajectory's plain ``params`` (so saved records reload)."""
    name = str(params.get("game", ""))
    return StageGame.from_params(params, title=GAMES[name].title if name in GAMES else name)
