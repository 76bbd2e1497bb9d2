"""The base of repeated two-seat games whose moves are simultaneous, modelled on PettingZoo's ``aec_rps``.

Seats ``human`` and ``opponent`` move in turn within a round (AEC: human, then opponent),
but neither sees the other's move until the round ends; then the pending moves settle into
a round, with payoffs from the round's stage game, and after ``n_rounds`` rounds every agent
is truncated.  ``infos`` of each seat carry the round being played.  Actions are ``Discrete``:
the index of the seat's move in ``action_labels``.  Observation of each seat: the history as
a vector of length ``2 * n_rounds``, per past round (own move, other's move), coded
0 = not played (or unknown), i + 1 = action i.

A subclass writes its game: ``action_labels``, ``payoffs`` (the stage game's, or ``None``
where unknown), ``title``, ``affirmative`` and ``to_trajectory`` (via ``round_events``).
``envs.repeated_matrix.env`` (Akata et al.'s repeated PD / BoS) and ``envs.tabular.env``
(YAML families) are the two.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
from gymnasium import spaces

from envs.records import HUMAN, OPPONENT, DecisionPoint, Event
from envs.replay_env import ReplayEnv

SEATS = (HUMAN, OPPONENT)


class SimultaneousRoundsEnv(ReplayEnv):
    """Two seats moving simultaneously for ``n_rounds`` rounds (see the module docstring)."""

    def __init__(self, n_rounds: int, n_actions: tuple[int, int], observation_spaces: Mapping[str, spaces.Space],
                 params: Mapping[str, Any], render_mode: str | None = None):
        self.n_rounds = n_rounds
        super().__init__(SEATS, observation_spaces, {s: spaces.Discrete(n) for s, n in zip(SEATS, n_actions)},
                         params, render_mode)
        self.history: list[tuple[str, str | None]] = []  # (human move, opponent move) per finished round
        self._pending: dict[str, str | None] = {}

    # -- the game (subclasses) -------------------------------------------------------------------
    def payoffs(self, rnd: int, human: str, opponent: str | None) -> tuple[float, float] | None:
        """The (human, opponent) payoffs of these moves in round ``rnd`` (``None``: not known)."""
        raise NotImplementedError

    def title(self) -> str:
        """The game's title, for ``render``."""
        raise NotImplementedError

    @property
    def affirmative(self) -> str:
        """The human's affirmative action (a decision point's ``affirmative``)."""
        raise NotImplementedError

    # -- state ----------------------------------------------------------------------------------
    def _start(self) -> None:
        self.infos = {a: {"round": 1} for a in self.agents}
        self.history = []
        self._pending = {}

    @property
    def round(self) -> int:
        """The round being played now (1-based)."""
        return len(self.history) + 1

    # -- core AEC loop ---------------------------------------------------------------------------
    def observe(self, agent: str) -> np.ndarray:
        obs = np.zeros(2 * self.n_rounds, dtype=np.int64)
        for r, moves in enumerate(self.history):
            mine, theirs = (0 if m is None else self.action_labels(s).index(m) + 1 for s, m in zip(SEATS, moves))
            obs[2 * r], obs[2 * r + 1] = (mine, theirs) if agent == HUMAN else (theirs, mine)
        return obs

    def _play(self, agent: str, move: int | None) -> bool:
        self._pending[agent] = None if move is None else self.action_labels(agent)[move]
        settled = self._selector.is_last()
        if settled:
            h, o = self._pending[HUMAN], self._pending[OPPONENT]
            self.rewards[HUMAN], self.rewards[OPPONENT] = self.payoffs(self.round, h, o) or (0.0, 0.0)
            self.history.append((h, o))
            self._pending = {}
            done = len(self.history) >= self.n_rounds
            for a in self.agents:
                self.truncations[a] = done
                self.infos[a] = {"round": self.round if not done else self.n_rounds}
        self.agent_selection = self._selector.next()
        return settled

    def render(self) -> str:
        title = self.title()
        if not self.history:
            return f"{title}: no rounds played yet"
        n = len(self.history)
        h, o = self.history[-1]
        pay = self.payoffs(n, h, o)
        if pay is None:
            return f"{title} round {n}: human {h}, opponent {o or 'unknown'}"
        return f"{title} round {n}: human {h} ({pay[0]:g}), opponent {o} ({pay[1]:g})"

    # -- replay ----------------------------------------------------------------------------------
    def logged_action(self, agent: str) -> int | None:
        """The move the bound trajectory says ``agent`` made in the current round, as an action index
        (``LookupError``: the log has no such round)."""
        return self.action_labels(agent).index(self.logged_event(agent, self.round).action)

    def is_scored_decision(self, agent: str) -> bool:
        """Every human move is a scored decision."""
        return agent == HUMAN

    def decision_point(self, action: int | None = None) -> DecisionPoint:
        """The human's current decision, with only the rounds already played as history."""
        r = self.round
        return self.make_decision_point(r, self.action_labels(HUMAN), self.logged_event(HUMAN, r).action,
                                        self.affirmative, [e for e in self.bound().events if e.round < r])

    # -- live play -------------------------------------------------------------------------------
    def round_events(self, human_data: Callable[[int], Mapping[str, Any]] | None = None) -> list[Event]:
        """The rounds played so far as log events (both moves, with payoffs where known);
        ``human_data(rnd)``: the ``data`` of the human's event of round ``rnd``."""
        events = []
        for r, (h, o) in enumerate(self.history, start=1):
            ph, po = self.payoffs(r, h, o) or (None, None)
            events += [Event(r, HUMAN, h, payoff=ph, data=human_data(r) if human_data else {}),
                       Event(r, OPPONENT, o, payoff=po)]
        return events
