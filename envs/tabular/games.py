"""The stage game of one row of a YAML family: its matrix chosen by ``game.by``, its payoffs evaluated.

Payoff entries may be expressions over the row (``["offer", "stake - offer"]``), so the game
can differ from row to row; games are cached by the values their expressions read, so a
family whose payoffs are plain numbers builds each matrix once.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from envs.stage_game import StageGame
from envs.tabular.errors import FamilySpecError
from envs.tabular.spec import GameSpec, Spec


class UnknownGame(ValueError):
    """A row's ``game.by`` value names no listed game."""


class StageGames:
    """The stage games of a family (``Spec.games``), by row."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self._cache: dict[tuple, StageGame] = {}

    @property
    def defined(self) -> bool:
        return self.spec.games is not None

    def select(self, game: str, context: Mapping[str, Any]) -> tuple[str, GameSpec]:
        """(the matrix's name, its spec) for a row of game ``game`` with ``context``."""
        games = self.spec.games
        if games is None:
            raise UnknownGame("this family has no game section")
        if games.by is None:
            return game, games.games[""]
        value = game if games.by == self.spec.data.columns.game else context.get(games.by)
        key = _key(value)
        if key not in games.games:
            raise UnknownGame(f"{games.by} {value!r} names no game in game.games "
                              f"(listed: {', '.join(games.games)})")
        return key, games.games[key]

    def title(self, game: str, context: Mapping[str, Any]) -> str:
        """The title templates see: the listed game's ``title``, else its name."""
        if self.spec.games is None:
            return game
        name, gspec = self.select(game, context)
        return gspec.title or name or game

    def stage(self, row: Mapping[str, Any], where: str = "") -> StageGame:
        """The stage game of a row scope (``game``, ``round``, ``n_rounds``, ``participant``, context)."""
        name, gspec = self.select(row["game"], row)
        key = (name, *((n, _hashable(row.get(n))) for n in sorted(gspec.names)))
        game = self._cache.get(key)
        if game is None:
            game = self._cache[key] = self._build(name, gspec, row, where)
        return game

    def _build(self, name: str, gspec: GameSpec, row: Mapping[str, Any], where: str) -> StageGame:
        spec = self.spec
        cells = {}
        for (a, b), exprs in gspec.cells.items():
            values = []
            for i, expr in enumerate(exprs):
                v = expr(row, where)
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    prefix = f"game.games.{name}" if spec.games and spec.games.by else "game"
                    raise FamilySpecError(spec.file, f"{prefix}.payoffs.{a}.{b}[{i}]",
                                          f"gives {v!r}, not a finite number" + (f" (in {where})" if where else ""))
                values.append(float(v))
            cells.setdefault(a, {})[b] = values
        return StageGame.from_cells(cells, name=name, title=gspec.title or name)


def _key(value: Any) -> str:
    """A data value as a ``game.games`` key (numbers without a trailing .0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
