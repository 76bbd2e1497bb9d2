"""What a GLEE game family must say about its rules, so one environment class can run them all.

A ``Rules`` object is the game's state machine (in the spirit of OpenSpiel's
game/state split): who moves next, what is legal, what a move does to the state
and the payoffs.  The AEC environment (``envs.glee.env``), the loaders (which
check every logged move against the rules and flag what breaks them) and live
play all go through it, so a log can never replay into a state the game forbids.

Moves are ``Event`` records (``envs.records``): ``action`` is a label such as
``"offer"``, ``"accept"``, ``"reject"``, ``"outside"``, ``"yes"``, ``"no"`` and
``data`` holds the rest (``seat``, amounts, the message, the log row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from envs.records import HUMAN, NATURE, OPPONENT, Event

NATURE_SEAT = "nature"


class IllegalMove(ValueError):
    """A move the rules do not allow now; ``kind`` names the anomaly for data reports."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass
class GameState:
    """The state every family shares; families subclass it for their own fields."""

    params: dict[str, Any]
    round: int = 1
    events: list[Event] = field(default_factory=list)
    finished: bool = False
    outcome: str = ""

    def actor(self, seat: str) -> str:
        """Which records actor (human / opponent / nature) plays ``seat`` in this game."""
        if seat == NATURE_SEAT:
            return NATURE
        return HUMAN if seat == self.params.get("human_seat", "player_1") else OPPONENT


class Rules:
    """Base class of a family's rules; see the module docstring."""

    family: str = ""
    #: discrete action names for live play (the environment's ``Discrete`` action space)
    actions: tuple[str, ...] = ()
    #: length of the numeric observation vector
    obs_size: int = 0
    #: parameters of a live game when none are given
    default_params: Mapping[str, Any] = {}

    def start(self, params: Mapping[str, Any]) -> GameState:
        return GameState(params=dict(params))

    def to_move(self, s: GameState) -> str | None:
        """The seat to move ('player_1', 'player_2', 'nature'), or None when the game is over."""
        raise NotImplementedError

    def legal(self, s: GameState) -> tuple[str, ...]:
        """Names (from ``actions``) legal for the seat to move."""
        raise NotImplementedError

    def from_action(self, s: GameState, name: str) -> Event:
        """The move a discrete live-play action stands for."""
        raise NotImplementedError

    def nature(self, s: GameState, rng: np.random.Generator) -> Event:
        """Nature's move in live play (only families with chance moves)."""
        raise NotImplementedError(f"{self.family} has no chance moves")

    def apply(self, s: GameState, move: Event) -> dict[str, float]:
        """Check and play ``move``; returns each seat's reward from this move. Raises IllegalMove."""
        raise NotImplementedError

    def observe(self, s: GameState, seat: str) -> np.ndarray:
        raise NotImplementedError

    def decision(self, s: GameState, seat: str) -> tuple[tuple[str, ...], str] | None:
        """(legal decision labels, affirmative label) when ``seat`` now faces a scored binary-style
        decision (accept/reject, buy/pass); None for moves that are not scored (offers, messages)."""
        raise NotImplementedError

    def visible(self, s: GameState, event: Event, seat: str) -> bool:
        """Whether ``seat`` saw ``event`` by now (e.g. a product's quality is hidden until the round ends)."""
        return True

    # helpers shared by families -------------------------------------------------------------
    @staticmethod
    def expect(s: GameState, move: Event, seat: str, allowed: tuple[str, ...]) -> None:
        if s.finished:
            raise IllegalMove("after_end", f"a {move.action!r} move after the game ended ({s.outcome})")
        got = move.data.get("seat")
        if got != seat:
            raise IllegalMove("out_of_turn", f"{got} moved ({move.action!r}) where {seat} was to move")
        if move.action not in allowed:
            raise IllegalMove("unexpected_move", f"{seat} played {move.action!r}; expected one of {allowed}")

    @staticmethod
    def record(s: GameState, move: Event) -> None:
        s.events.append(Event(s.round, s.actor(move.data["seat"]), move.action, move.payoff, dict(move.data)))


def other(seat: str) -> str:
    return "player_2" if seat == "player_1" else "player_1"
