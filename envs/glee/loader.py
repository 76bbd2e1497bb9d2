"""The loader every GLEE family shares: folders -> checked trajectories + a data report.

For each game folder it reads config.json (parameters, human seat) and game.csv
(the moves), turns each row into a move with the family's ``LogFormat`` and plays
it through the family's ``Rules``.  What cannot be used is counted, with a reason:

- skipped games: no game.csv, no config.json (the human seat and the parameters
  are unknown), unreadable files, no moves at all;
- flagged moves: a row the rules reject (out of turn, unknown decision label,
  a move after the game ended) cuts the game there — the decisions before it are
  kept — and family anomalies (e.g. an offer that does not add up to the stakes)
  are flagged on the move and kept.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from tqdm.auto import tqdm

from envs.glee import files
from envs.glee.files import GameFileError, GameFolder
from envs.glee.rules import IllegalMove, Rules
from envs.quality import LoadIssue, LoadReport
from envs.records import HUMAN, Event, Trajectory

Anomaly = tuple[str, str, str]  # (kind, field, message)


@dataclass(frozen=True)
class LogFormat:
    """How one family's logs read: columns, parameters from config.json, one move per row."""

    family: str  # registry name, e.g. "glee_bargaining"
    folder: str  # folder under human_vs_llm/, e.g. "bargaining"
    game: str  # the ``game`` label of its decisions
    columns: tuple[str, ...]
    rules: Rules
    roles: Mapping[str, str]  # seat -> role name shown to people ("seller", ...)
    params: Callable[[dict[str, Any]], dict[str, Any]]  # config -> game parameters (GameFileError if unusable)
    parse_row: Callable[[dict[str, str], int, Mapping[str, str], dict[str, Any]], Event]
    anomalies: Callable[[Event, dict[str, Any]], list[Anomaly]] = lambda move, params: []
    published_decisions: int | None = None  # the study's count on the complete upstream data
    scored_label: str = "decisions"
    extra_stats: Callable[[list[Trajectory]], dict[str, Any]] = field(default=lambda ts: {})


def load_family(fmt: LogFormat, root: str | Path, report: LoadReport | None = None,
                progress: bool = False) -> tuple[list[Trajectory], LoadReport]:
    """Every usable game of one family under ``root`` (the ``glee`` data folder)."""
    report = report or LoadReport(family=fmt.family)
    folders = files.discover(Path(root), fmt.folder)
    found = Counter()
    skipped = Counter()
    trajectories: list[Trajectory] = []
    decisions = 0
    for g in tqdm(folders, desc=fmt.family, unit="game", disable=not progress):
        found["game folders found"] += 1
        has_csv, has_cfg = g.csv_path.exists(), g.config_path.exists()
        found["games with game.csv"] += has_csv
        found["games with config.json"] += has_cfg
        found["games with both"] += has_csv and has_cfg
        try:
            traj, n = _load_game(fmt, g, has_csv, has_cfg, report)
        except GameFileError as exc:
            path = g.csv_path if exc.kind in ("not_utf8", "empty_game", "bad_header", "bad_row", "bad_csv",
                                              "no_game_csv", "no_moves") else g.config_path
            report.add(LoadIssue(str(path), exc.row, exc.field, exc.kind, f"game {g.game_id}: {exc}", "skipped",
                                 f"{fmt.family}/{g.game_id}"), warn=exc.kind not in ("no_config", "no_game_csv"))
            skipped[exc.kind] += 1
            continue
        trajectories.append(traj)
        decisions += n
    report.files.extend(str(g.csv_path) for g in folders if g.csv_path.exists())
    report.trajectories += len(trajectories)
    report.decisions += decisions
    report.stats.update(found)
    report.stats["games usable"] = len(trajectories)
    report.stats.update({f"games skipped: {k}": v for k, v in sorted(skipped.items())})
    report.stats[f"human {fmt.scored_label}"] = decisions
    if fmt.published_decisions is not None:
        report.stats[f"human {fmt.scored_label} in the complete upstream data (published)"] = \
            f"{fmt.published_decisions:,}"
    report.stats.update(fmt.extra_stats(trajectories))
    return trajectories, report


def _load_game(fmt: LogFormat, g: GameFolder, has_csv: bool, has_cfg: bool,
               report: LoadReport) -> tuple[Trajectory, int]:
    if not has_csv:
        raise GameFileError("no_game_csv", "config.json without game.csv: no moves to replay")
    if not has_cfg:
        raise GameFileError("no_config", "game.csv without config.json: the human seat and the game's "
                                         "parameters are unknown")
    config = files.read_config(g.config_path)
    seat = files.human_seat(config)
    names = files.public_names(config)
    params = {**fmt.params(config), "human_seat": seat, "config_name": str(config.get("name", "")),
              "game_id": g.game_id, "names": names}
    rows = files.read_rows(g.csv_path, fmt.columns)
    if not rows:
        raise GameFileError("no_moves", "game.csv has a header but no moves", row=2)
    tid = f"{fmt.family}/{g.game_id}"
    by_name = {v: k for k, v in names.items()}
    state = fmt.rules.start(params)
    events: list[Event] = []
    flags: list[str] = []
    n_decisions = 0

    def flag(kind: str, row: int, fld: str | None, msg: str, outcome: str = "flagged") -> None:
        flags.append(f"{kind}@r{state.round}")
        report.add(LoadIssue(str(g.csv_path), row, fld, kind, f"game {g.game_id}: {msg}", outcome, tid))

    for rowno, row in rows:
        try:
            move = fmt.parse_row(row, rowno, by_name, params)
        except GameFileError as exc:
            flag(exc.kind, rowno, exc.field, f"{exc}; the game is cut here", "flagged")
            break
        mover = fmt.rules.to_move(state)
        if mover is not None and move.round != state.round:
            flag("round_mismatch", rowno, "round", f"row says round {move.round} where the game is in round "
                                                   f"{state.round}; the game's own count is kept")
        scored = (mover is not None and state.actor(mover) == HUMAN and mover == move.data.get("seat")
                  and fmt.rules.decision(state, mover) is not None)
        try:
            fmt.rules.apply(state, move)
        except IllegalMove as exc:
            flag(exc.kind, rowno, "player" if exc.kind == "out_of_turn" else "decision",
                 f"{exc}; the game is cut here")
            break
        for kind, fld, msg in fmt.anomalies(move, params):
            flag(kind, rowno, fld, msg)
        events.append(state.events[-1])
        n_decisions += scored
    if not events:
        raise GameFileError("no_moves", "no usable move in game.csv", row=rows[0][0])
    if not state.finished:
        flag("unfinished", rows[-1][0], None, f"the log ends in round {state.round} before the game is over")
    traj = Trajectory(trajectory_id=tid, family=fmt.family, game=fmt.game, participant_id=g.game_id,
                      role=f"{fmt.roles[seat]} ({names[seat]}, {seat})", params=params, events=tuple(events),
                      flags=tuple(flags), source=str(g.csv_path), meta={"outcome": state.outcome})
    return traj, n_decisions
