"""The plain records every game family shares: trajectories and decision points.

A *trajectory* is one person's play of one game instance (parameters + ordered
events), straight from a human log.  A *decision point* is the state a human
acted in: everything the person could see at that moment, the legal actions and
the action they actually took — and nothing from the future.  Predictors only
ever receive decision points, so a predictor cannot peek at later rounds.

Both are frozen dataclasses of plain Python values, so any stage's output can
be saved (``to_dict``), inspected and reloaded (``from_dict``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

HUMAN = "human"
OPPONENT = "opponent"
NATURE = "nature"
#: ``Event.data`` key: the event's fields a prompt must not show ("payoff", "action"), set by a history
#: intervention (``envs.interventions``: hide-payoffs, hide-own-moves); the values themselves stay
HIDDEN = "hidden"


@dataclass(frozen=True)
class Event:
    """One thing that happened in a game: a move, an offer, a message, a payoff."""

    round: int
    actor: str  # HUMAN, OPPONENT or NATURE
    action: str | None
    payoff: float | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


def hidden(event: Event, field: str) -> bool:
    """Whether a prompt must leave ``field`` ("payoff" or "action") of ``event`` out (``HIDDEN``)."""
    return field in (event.data or {}).get(HIDDEN, ())


@dataclass(frozen=True)
class Trajectory:
    """One person's play of one game instance, as logged.

    ``flags`` carries data-quality findings (e.g. ``"impossible_score@r3"``) so
    that flawed records stay visible instead of silently vanishing.
    ``source`` names the file and rows the record came from.
    """

    trajectory_id: str
    family: str
    game: str
    participant_id: str
    role: str
    params: Mapping[str, Any]
    events: tuple[Event, ...]
    flags: tuple[str, ...] = ()
    source: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)  # known only after play; never shown to predictors

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Trajectory":
        d = dict(d)
        d["events"] = tuple(Event(**e) for e in d["events"])
        d["flags"] = tuple(d.get("flags", ()))
        return cls(**d)


@dataclass(frozen=True)
class DecisionPoint:
    """The state a human acted in, and what they did.

    ``history`` holds only events that happened before this decision.
    ``affirmative`` names the action that binary metrics treat as 1
    (e.g. "J" in the repeated games, "accept" in bargaining).

    Aggregate data (one problem shown to many people, e.g. choices13k) sets
    ``human_rate`` — the share of people who took the affirmative action — and
    ``n_people``; ``human_action`` is then the majority choice, and metrics
    compare predictions with the rate rather than with one person's choice.
    """

    decision_id: str
    trajectory_id: str
    family: str
    game: str
    participant_id: str
    role: str
    round: int
    legal_actions: tuple[str, ...]
    human_action: str
    affirmative: str
    params: Mapping[str, Any]
    history: tuple[Event, ...]
    flags: tuple[str, ...] = ()
    human_rate: float | None = None
    n_people: int | None = None

    def __post_init__(self) -> None:
        if self.human_rate is not None and not 0.0 <= self.human_rate <= 1.0:
            raise ValueError(f"{self.decision_id}: human rate {self.human_rate} is not in [0, 1]")
        if self.human_action not in self.legal_actions:
            raise ValueError(
                f"{self.decision_id}: human action {self.human_action!r} is not one of "
                f"the legal actions {self.legal_actions}"
            )
        if any(e.round > self.round for e in self.history):
            raise ValueError(f"{self.decision_id}: history contains a future event")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "DecisionPoint":
        d = dict(d)
        d["history"] = tuple(Event(**e) for e in d["history"])
        d["legal_actions"] = tuple(d["legal_actions"])
        d["flags"] = tuple(d.get("flags", ()))
        return cls(**d)


def write_decisions(decisions: Iterable[DecisionPoint], path: str | Path) -> None:
    """Save decision points as JSON lines (``DecisionPoint.to_dict`` per line)."""
    with open(path, "w", encoding="utf-8") as fh:
        for dp in decisions:
            fh.write(json.dumps(dp.to_dict(), default=str) + "\n")


def read_decisions(path: str | Path) -> list[DecisionPoint]:
    """Decision points saved by ``write_decisions`` (a run's ``decisions.jsonl``)."""
    with open(path, encoding="utf-8") as fh:
        return [DecisionPoint.from_dict(json.loads(line)) for line in fh if line.strip()]
