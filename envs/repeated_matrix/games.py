"""The 2x2 stage games of the repeated-games experiment (Akata et al., 2025).

Actions are ordered ("J", "F"), as the options were labelled to participants.
Payoffs are (human, other) — the human sits in the row seat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ACTIONS: tuple[str, str] = ("J", "F")


@dataclass(frozen=True)
class MatrixGame:
    """A two-player, two-action stage game; ``row`` is the human's payoff."""

    name: str
    title: str
    row: tuple[tuple[float, float], tuple[float, float]]
    col: tuple[tuple[float, float], tuple[float, float]]
    actions: tuple[str, str] = ACTIONS

    def payoff(self, human_action: str, other_action: str) -> tuple[float, float]:
        i, j = self.actions.index(human_action), self.actions.index(other_action)
        return self.row[i][j], self.col[i][j]

    def other_actions_consistent(self, human_action: str, human_score: float) -> list[str]:
        """Opponent moves that would give the human exactly ``human_score``."""
        i = self.actions.index(human_action)
        return [b for j, b in enumerate(self.actions) if self.row[i][j] == human_score]

    def matrices(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self.row, dtype=float), np.array(self.col, dtype=float)

    def to_params(self) -> dict:
        return {"game": self.name, "actions": list(self.actions),
                "row_payoffs": [list(r) for r in self.row], "col_payoffs": [list(r) for r in self.col]}


PRISONERS_DILEMMA = MatrixGame(
    name="PD", title="Prisoner's Dilemma",
    row=((8, 0), (10, 5)), col=((8, 10), (0, 5)),
)
BATTLE_OF_THE_SEXES = MatrixGame(
    name="BoS", title="Battle of the Sexes",
    row=((7, 0), (0, 10)), col=((10, 0), (0, 7)),
)
GAMES: dict[str, MatrixGame] = {g.name: g for g in (PRISONERS_DILEMMA, BATTLE_OF_THE_SEXES)}


def game_from_params(params: dict) -> MatrixGame:
    """Rebuild a game from a trajectory's plain ``params`` (so saved records reload)."""
    row = tuple(tuple(float(x) for x in r) for r in params["row_payoffs"])
    col = tuple(tuple(float(x) for x in r) for r in params["col_payoffs"])
    name = params["game"]
    title = GAMES[name].title if name in GAMES else name
    return MatrixGame(name=name, title=title, row=row, col=col, actions=tuple(params["actions"]))
