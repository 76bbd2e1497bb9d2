"""Rows of human decisions -> trajectories, with a data-quality report (a YAML family's ``load``).

One trajectory per *instance* (``data.columns.instance``: one person's play of one game),
rows in round order (the ``round`` column, else file order).  Each row gives the human's
event (action, logged payoff, the row's context in ``data["context"]``) and the opponent's:

1. the ``opponent_action`` column, when it names an opponent action;
2. else, with a stage game, the one opponent action consistent with the human's action and
   logged payoff (or the opponent's only action);
3. else the declared ``opponent`` policy (lookup table or function);
4. else none: the round's opponent move is ``None`` and flagged ``no_opponent_move``.

What the loader cannot use goes into the ``LoadReport`` with file, row and field, and the
record is flagged (``<kind>@r<round>`` in ``Trajectory.flags``) or skipped:

================================  =================================================  ==================
kind                              what                                               outcome
================================  =================================================  ==================
missing_value                     an empty participant, instance, game, action or    instance skipped
                                  context value (an empty payoff is only flagged)
unknown_action                    an action label ``actions`` does not list          instance skipped
unknown_game                      a ``game.by`` value ``game.games`` does not list   instance skipped
bad_payoffs                       payoff expressions that fail on the row's values   instance skipped
game_changed                      the game column changes within an instance         instance skipped
bad_round                         a round that is not a whole number >= 1            instance skipped
duplicate_round                   a second row for one round                         row skipped, flagged
missing_round                     a gap in the rounds: the rows after it             rows skipped, flagged
extra_round                       a row beyond ``data.rounds``                       row skipped
wrong_round_count                 fewer rows than ``data.rounds``: ``rounds=N``      flagged
non_contiguous                    an instance's rows lie apart in the file           reported
bad_payoff                        a payoff that is not a number                      flagged
impossible_<payoff column>        a payoff no opponent action gives                  flagged
ambiguous_<payoff column>         a payoff several opponent actions give             flagged
unknown_opponent_action           an opponent label ``opponent_actions`` lacks       flagged
no_opponent_move                  no way to know the opponent's move                 flagged
================================  =================================================  ==================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from envs.quality import LoadIssue, LoadReport
from envs.records import HUMAN, OPPONENT, Event, Trajectory
from envs.tabular.errors import FamilySpecError
from envs.tabular.games import StageGames, UnknownGame
from envs.tabular.opponent import OpponentPolicy
from envs.tabular.rows import Row
from envs.tabular.scope import decision_scope, row_scope
from envs.tabular.spec import Spec

INT = re.compile(r"^[+-]?\d+$")
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
AGREEMENT = "opponent moves agreeing with the opponent policy"
ROLE = "row player"  # the human's seat: the rows of the stage game


def parse_value(text: str) -> Any:
    """A data value as a number when it reads as one (``"3"`` -> 3, ``"0.5"`` -> 0.5), else the text."""
    if INT.match(text):
        return int(text)
    if NUMBER.match(text):
        return float(text)
    return text


@dataclass
class _Parsed:
    """One row, read."""

    row: Row
    round: int
    action: str
    context: dict[str, Any]
    payoff: float | None
    opponent: str | None  # from the opponent_action column


class _Skip(Exception):
    """The instance cannot be used; the issue is already in the report."""


class InstanceReader:
    """Turns the rows of one instance into a trajectory (or skips it, saying why)."""

    def __init__(self, spec: Spec, games: StageGames, opponent: OpponentPolicy | None, report: LoadReport):
        self.spec, self.games, self.opponent, self.report = spec, games, opponent, report
        self.cols = spec.data.columns
        self.labels = {lab: a.name for a in spec.actions for lab in a.labels}
        self.other_labels = {lab: a.name for a in spec.opponent_actions for lab in a.labels}
        self.agree = self.total = 0

    # -- reporting ---------------------------------------------------------------------------------
    def _issue(self, row: Row, fld: str | None, kind: str, msg: str, outcome: str) -> None:
        self.report.add(LoadIssue(row.file, row.line, fld, kind, msg, outcome, self.tid))

    def _skip(self, row: Row, fld: str | None, kind: str, msg: str) -> _Skip:
        self._issue(row, fld, kind, f"{msg}; instance {self.tid} skipped", "skipped")
        return _Skip()

    def _flag(self, row: Row, fld: str | None, kind: str, msg: str, rnd: int) -> None:
        self.flags.append(f"{kind}@r{rnd}")
        self._issue(row, fld, kind, msg, "flagged")

    # -- one instance ------------------------------------------------------------------------------
    def read(self, key: tuple[str, ...], block: list[Row]) -> Trajectory | None:
        self.tid = "/".join([self.spec.name, *key])
        self.flags: list[str] = []
        try:
            return self._read(key, block)
        except _Skip:
            return None

    def _read(self, key: tuple[str, ...], block: list[Row]) -> Trajectory:
        cols, first = self.cols, block[0]
        for col, value in zip(cols.instance, key):
            if not value:
                raise self._skip(first, col, "missing_value", f"empty {col}")
        participant = first.get(cols.participant)
        game = first.get(cols.game) if cols.game else self.spec.name
        if cols.game:
            if not game:
                raise self._skip(first, cols.game, "missing_value", f"empty {cols.game}")
            changed = next((r for r in block if r.get(cols.game) != game), None)
            if changed is not None:
                raise self._skip(changed, cols.game, "game_changed",
                                 f"{cols.game} changes from {game!r} to {changed.get(cols.game)!r} within an instance")
        parsed = self._rounds([self._row(pos, row, game) for pos, row in enumerate(block, start=1)])
        n_rounds = self.spec.data.rounds or len(parsed)
        for p in [p for p in parsed if p.round > n_rounds]:
            self._issue(p.row, cols.round or cols.participant, "extra_round",
                        f"round {p.round} is beyond the game's {n_rounds} rounds: not replayed", "skipped")
        parsed = [p for p in parsed if p.round <= n_rounds]
        if len(parsed) < n_rounds:
            self.flags.insert(0, f"rounds={len(parsed)}")
            self._issue(first, cols.round or cols.participant, "wrong_round_count",
                        f"{len(parsed)} rounds, expected {n_rounds}", "flagged")
        events: list[Event] = []
        for p in parsed:
            events += self._events(p, game, n_rounds, participant, events)
        return Trajectory(trajectory_id=self.tid, family=self.spec.name, game=game, participant_id=participant,
                          role=ROLE, params={**parsed[0].context, "n_rounds": n_rounds},
                          events=tuple(events), flags=tuple(self.flags),
                          source=f"{first.file}:{parsed[0].row.line}-{parsed[-1].row.line}")

    def _row(self, pos: int, row: Row, game: str) -> _Parsed:
        cols = self.cols
        rnd = pos
        if cols.round:
            text = row.get(cols.round)
            value = parse_value(text)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int) or value < 1:
                raise self._skip(row, cols.round, "bad_round", f"round {text!r} is not a whole number >= 1")
            rnd = value
        label = row.get(cols.action)
        if not label:
            raise self._skip(row, cols.action, "missing_value", f"no action in round {rnd}")
        if label not in self.labels:
            raise self._skip(row, cols.action, "unknown_action",
                             f"action {label!r} is none of the labels {sorted(self.labels)} (round {rnd})")
        context = {}
        for c in cols.context:
            text = row.get(c)
            if not text:
                raise self._skip(row, c, "missing_value", f"no {c} in round {rnd}")
            context[c] = parse_value(text)
        if self.games.defined:
            try:
                self.games.select(game, context)
            except UnknownGame as exc:
                raise self._skip(row, self.spec.games.by, "unknown_game", str(exc.args[0])) from None
        payoff = None
        if cols.payoff and row.get(cols.payoff):
            value = parse_value(row.get(cols.payoff))
            payoff = float(value) if isinstance(value, (int, float)) else None
        other = self.other_labels.get(row.get(cols.opponent_action)) if cols.opponent_action else None
        return _Parsed(row, rnd, self.labels[label], context, payoff, other)

    def _rounds(self, parsed: list[_Parsed]) -> list[_Parsed]:
        """Rows in round order, duplicates and rows after a gap left out (and reported)."""
        parsed = sorted(parsed, key=lambda p: p.round)
        out: list[_Parsed] = []
        for p in parsed:
            if out and p.round == out[-1].round:
                self._flag(p.row, self.cols.round, "duplicate_round",
                           f"a second row for round {p.round}: the first is kept", p.round)
                continue
            expected = out[-1].round + 1 if out else 1
            if p.round != expected:
                if f"missing_round@r{expected}" not in self.flags:
                    self.flags.append(f"missing_round@r{expected}")
                self._issue(p.row, self.cols.round, "missing_round",
                            f"round {expected} is missing: round {p.round} and later are not replayed", "skipped")
                continue
            out.append(p)
        return out

    def _events(self, p: _Parsed, game: str, n_rounds: int, participant: str,
                past: Sequence[Event]) -> tuple[Event, Event]:
        cols, row, rnd = self.cols, p.row, p.round
        if cols.payoff and p.payoff is None:
            text = row.get(cols.payoff)
            self._flag(row, cols.payoff, "bad_payoff" if text else "missing_value",
                       f"payoff {text!r} is not a number (round {rnd})" if text else f"no payoff in round {rnd}", rnd)
        if cols.opponent_action and p.opponent is None and row.get(cols.opponent_action):
            self._flag(row, cols.opponent_action, "unknown_opponent_action",
                       f"opponent action {row.get(cols.opponent_action)!r} is none of the labels "
                       f"{sorted(self.other_labels)} (round {rnd})", rnd)
        stage = None
        if self.games.defined:
            try:
                stage = self.games.stage(row_scope(self.games, game, rnd, n_rounds, participant, p.context))
            except FamilySpecError as exc:
                raise self._skip(row, cols.payoff, "bad_payoffs", f"payoffs cannot be evaluated: {exc}") from None
        expected = None
        if self.opponent is not None:
            scope = decision_scope(self.spec, self.games, game, rnd, n_rounds, participant, p.context, past)
            expected = self.opponent.move(scope, f"{row.file}, row {row.line}")
        other, source = p.opponent, "column" if p.opponent is not None else None
        if stage is not None and other is not None and p.payoff is not None \
                and stage.payoff(p.action, other)[0] != p.payoff:
            self._flag(row, cols.payoff, f"impossible_{cols.payoff}",
                       f"payoff {p.payoff:g} is impossible after {p.action} against {other} (round {rnd})", rnd)
        if other is None and stage is not None:
            candidates = (stage.other_actions_consistent(p.action, p.payoff) if p.payoff is not None
                          else list(stage.other_actions))
            if len(candidates) == 1:
                other, source = candidates[0], "payoff" if p.payoff is not None else "only_action"
            elif p.payoff is not None:
                kind = "impossible" if not candidates else "ambiguous"
                fallback = f"; opponent move taken from the {self.opponent.description} ({expected})" \
                    if self.opponent is not None and expected is not None else ""
                self._flag(row, cols.payoff, f"{kind}_{cols.payoff}",
                           f"payoff {p.payoff:g} after {p.action} is {kind}: "
                           f"{len(candidates)} opponent actions give it (round {rnd}){fallback}", rnd)
        elif other is None and len(self.spec.opponent_actions) == 1:
            other, source = self.spec.opponent_actions[0].name, "only_action"
        if other is None and expected is not None:
            other, source = expected, "policy"
        elif other is not None and expected is not None:
            self.total += 1
            self.agree += int(other == expected)
        if other is None:
            self._flag(row, cols.opponent_action or cols.payoff or cols.action, "no_opponent_move",
                       f"the opponent's move in round {rnd} is not logged and cannot be inferred", rnd)
        pay = stage.payoff(p.action, other) if stage is not None and other is not None else None
        human_data: dict[str, Any] = {"row": row.line, "context": dict(p.context)}
        if pay is not None:
            human_data["expected_payoff"] = pay[0]
        other_data: dict[str, Any] = {"inferred_from": source}
        if self.opponent is not None:
            other_data["policy_move"] = expected
        return (Event(rnd, HUMAN, p.action, payoff=p.payoff, data=human_data),
                Event(rnd, OPPONENT, other, payoff=None if pay is None else pay[1], data=other_data))


def group_instances(spec: Spec, rows: Sequence[Row], report: LoadReport) -> dict[tuple[str, ...], list[Row]]:
    """Rows by instance, in order of first appearance (apart rows reported when file order is round order)."""
    blocks: dict[tuple[str, ...], list[Row]] = {}
    last: dict[tuple[str, ...], Row] = {}
    previous: Row | None = None
    cols = spec.data.columns
    for row in rows:
        key = tuple(row.get(c) for c in cols.instance)
        if key in blocks and not cols.round and last[key] is not previous:
            report.add(LoadIssue(row.file, row.line, cols.instance[0], "non_contiguous",
                                 f"rows of instance {'/'.join(key)} are not contiguous; round order assumed "
                                 "to follow file order", "flagged", "/".join([spec.name, *key])))
        blocks.setdefault(key, []).append(row)
        last[key] = previous = row
    return blocks


def load_rows(spec: Spec, games: StageGames, rows: Sequence[Row], opponent: OpponentPolicy | None,
              report: LoadReport) -> list[Trajectory]:
    """Trajectories of ``rows`` (all files of the family); the report counts what was kept."""
    reader = InstanceReader(spec, games, opponent, report)
    trajectories = [t for key, block in group_instances(spec, rows, report).items()
                    if (t := reader.read(key, block)) is not None]
    report.trajectories += len(trajectories)
    report.decisions += sum(1 for t in trajectories for e in t.events if e.actor == HUMAN)
    if opponent is not None:
        report.stats[AGREEMENT] = (f"{reader.agree}/{reader.total} ({100.0 * reader.agree / reader.total:.1f}%)"
                                   if reader.total else "n/a")
    return trajectories
