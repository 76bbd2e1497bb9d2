"""One value type for every matrix game: the stage game a human decision is taken in.

A ``StageGame`` is a two-player normal-form game seen from the human's side: the human
chooses a row (``actions``), the other player a column (``other_actions``); ``row`` holds
the human's payoffs and ``col`` the other's.  The repeated games' stage games, the one-shot
2x2 games of games2p2k and the games of YAML families are all ``StageGame``s, so the
equilibrium predictors (``nash``, ``normative``, ``qre``) read any of them the same way:
through ``Family.stage_game(decision)``, never through dictionary keys.

Like nashpy's ``Game`` (which it wraps: ``StageGame.nashpy``) it is a plain value with
methods that call pure algorithm modules (``envs.equilibria``).  ``to_params`` /
``from_params`` turn it into plain JSON-able values for trajectories and decision points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import nashpy as nash
import numpy as np

from envs import equilibria


def _matrix(values: Any, what: str) -> np.ndarray:
    try:
        m = np.array(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: payoffs must be numbers, got {values!r}") from None
    if m.ndim != 2 or 0 in m.shape:
        raise ValueError(f"{what}: expected a matrix (rows = the human's actions), got shape {m.shape}")
    if not np.isfinite(m).all():
        raise ValueError(f"{what}: payoffs must be finite numbers")
    m.setflags(write=False)
    return m


@dataclass(frozen=True, eq=False)
class StageGame:
    """A bimatrix game from the human's side (rows = the human's actions)."""

    row: np.ndarray
    col: np.ndarray
    actions: tuple[str, ...]
    other_actions: tuple[str, ...] = ()
    name: str = ""
    title: str = ""
    _key: tuple = field(init=False, repr=False)

    def __post_init__(self) -> None:
        row, col = _matrix(self.row, "row payoffs"), _matrix(self.col, "column payoffs")
        if row.shape != col.shape:
            raise ValueError(f"row payoffs {row.shape} and column payoffs {col.shape} differ in shape")
        actions = tuple(str(a) for a in self.actions)
        other = tuple(str(a) for a in self.other_actions) or actions
        if len(actions) != row.shape[0] or len(set(actions)) != len(actions):
            raise ValueError(f"{len(actions)} distinct human actions needed for {row.shape[0]} rows, got {actions}")
        if len(other) != row.shape[1] or len(set(other)) != len(other):
            raise ValueError(f"{row.shape[1]} distinct other-player actions needed, got {other}")
        object.__setattr__(self, "row", row)
        object.__setattr__(self, "col", col)
        object.__setattr__(self, "actions", actions)
        object.__setattr__(self, "other_actions", other)
        object.__setattr__(self, "title", self.title or self.name)
        object.__setattr__(self, "_key", (equilibria.as_key(row), equilibria.as_key(col), actions, other))

    # -- value semantics -----------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, StageGame) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    @property
    def key(self) -> tuple:
        """A hashable identity of the payoffs and labels (names and titles aside)."""
        return self._key

    # -- the game ------------------------------------------------------------------------------
    @property
    def nashpy(self) -> nash.Game:
        """The same game as a ``nashpy.Game`` (row player = the human)."""
        return nash.Game(self.row, self.col)

    def matrices(self) -> tuple[np.ndarray, np.ndarray]:
        return self.row, self.col

    def payoff(self, action: str, other_action: str) -> tuple[float, float]:
        """(the human's payoff, the other's payoff) when the human plays ``action`` and the other ``other_action``."""
        i, j = self.actions.index(action), self.other_actions.index(other_action)
        return float(self.row[i, j]), float(self.col[i, j])

    def other_actions_consistent(self, action: str, payoff: float) -> list[str]:
        """The other player's actions that give the human exactly ``payoff`` after ``action``."""
        i = self.actions.index(action)
        return [b for j, b in enumerate(self.other_actions) if self.row[i, j] == payoff]

    def transposed(self) -> "StageGame":
        """The game from the other player's side."""
        return StageGame(self.col.T, self.row.T, self.other_actions, self.actions, self.name, self.title)

    # -- equilibria (envs.equilibria) -----------------------------------------------------------
    def equilibria(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """The extreme Nash equilibria as (human's strategy, other's strategy): all equilibria when the game
        is nondegenerate, else the end points of its segments (``components``)."""
        return equilibria.equilibria(self.row, self.col)

    def components(self) -> tuple[equilibria.Component, ...]:
        """The connected components of the equilibrium set, exactly (one point each when nondegenerate)."""
        return equilibria.solve(self.row, self.col).components

    def is_degenerate(self) -> bool:
        """Whether some mixed strategy with support size k has more than k pure best responses."""
        return equilibria.solve(self.row, self.col).degenerate

    def selected(self, selection: str = "mixed") -> equilibria.Selection:
        """The human's equilibrium strategy under ``selection``, exactly, with the clause that chose it."""
        return equilibria.select(self.row, self.col, selection)

    def equilibrium(self, selection: str = "mixed") -> dict[str, float]:
        """The human's equilibrium strategy under ``selection`` (``envs.equilibria.SELECTIONS``), by action."""
        return self._by_action(self.selected(selection).strategy)

    def equilibrium_notes(self, selection: str = "mixed") -> dict[str, Any]:
        """What a prediction from ``equilibrium(selection)`` should say about it (JSON-able): the number of
        extreme equilibria and of components, degeneracy, the clause that chose it, and whether equilibria
        tied (``payoff_dominant``; then ``tied`` lists the human's strategies in them)."""
        solution, chosen = equilibria.solve(self.row, self.col), self.selected(selection)
        notes: dict[str, Any] = {"n_equilibria": len(solution.equilibria), "n_components": len(solution.components),
                                 "degenerate": solution.degenerate, "selected_by": chosen.rule, "tie": chosen.tie}
        if chosen.tie:
            notes["tied"] = [self._by_action(s) for s in chosen.tied]
        return notes

    def n_pure_equilibria(self) -> int:
        return equilibria.solve(self.row, self.col).n_pure()

    def _by_action(self, strategy) -> dict[str, float]:
        return {a: float(p) for a, p in zip(self.actions, strategy)}

    # -- plain values --------------------------------------------------------------------------
    def to_params(self) -> dict[str, Any]:
        """Plain values (JSON-able) that ``from_params`` turns back into this game."""
        out: dict[str, Any] = {"row_payoffs": self.row.tolist(), "col_payoffs": self.col.tolist(),
                               "actions": list(self.actions), "other_actions": list(self.other_actions)}
        if self.name:
            out["game"] = self.name
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, Any], title: str = "") -> "StageGame":
        actions = tuple(params["actions"])
        return cls(np.array(params["row_payoffs"], float), np.array(params["col_payoffs"], float), actions,
                   tuple(params.get("other_actions") or actions), str(params.get("game", "")), title)

    @classmethod
    def from_cells(cls, cells: Mapping[str, Mapping[str, Sequence[float]]], name: str = "",
                   title: str = "") -> "StageGame":
        """From ``{human action: {other action: [human payoff, other payoff]}}`` (the YAML shape)."""
        actions = tuple(cells)
        other = tuple(next(iter(cells.values())))
        row = [[float(cells[a][b][0]) for b in other] for a in actions]
        col = [[float(cells[a][b][1]) for b in other] for a in actions]
        return cls(np.array(row), np.array(col), actions, other, name, title)
