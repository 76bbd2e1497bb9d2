"""Parser for the repeated-games human log (Akata et al., 2025; github.com/eliaka/repeatedgames).

``repgames.csv`` has one row per human decision, in play order: for each
participant and game there are 10 consecutive rows (rounds 1..10).  Columns:
id, game (PD/BoS), action (1 = "J", 0 = "F"), score (the participant's points
that round), opponent (Base/Prompted GPT-4 strategy), guess, coordination.

The log has no column for the opponent's move: it is implied by the human's
action and score under the payoff matrix.  A few rows have a score that no
opponent move can produce; those are flagged (participant id and round), and the
opponent's move is taken from the GPT-4 lookup table that generated it.
The lookup tables map the participant's own earlier choices (e.g. "JJF") to
the opponent's next choice; every inferred move is cross-checked against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from envs.lookup import read_lookup_table
from envs.quality import LoadIssue, LoadReport, read_csv_rows
from envs.records import HUMAN, OPPONENT, Event, Trajectory
from envs.repeated_matrix.games import GAMES

FAMILY = "repeated_matrix"
DATASET = "akata2025_repeated_games"
CSV_NAME = "repgames.csv"
REQUIRED_COLUMNS = ("id", "game", "action", "score", "opponent")
ACTION_CODES = {"1": "J", "0": "F"}
LOOKUP_FILES = {
    ("PD", "Base"): "pd_gpt4_lookup.json",
    ("BoS", "Base"): "bos_gpt4_lookup.json",
    ("PD", "Prompted"): "pd_variation_predict_gpt4_lookup.json",
    ("BoS", "Prompted"): "bos_variation_predict_gpt4_lookup.json",
}


@dataclass(frozen=True)
class LookupStrategy:
    """A fixed GPT-4 strategy: the participant's past choices -> the opponent's next choice."""

    name: str
    table: dict[str, str]

    def next_move(self, human_history: str) -> str:
        return self.table[human_history]


def load_lookups(folder: Path) -> dict[tuple[str, str], LookupStrategy]:
    """Read the four lookup tables; a missing or malformed one is a DataFormatError."""
    moves = tuple(ACTION_CODES.values())
    return {(game, opponent): LookupStrategy(name=f"{game}-{opponent}",
                                             table=read_lookup_table(folder / fname, moves, key_moves=moves))
            for (game, opponent), fname in LOOKUP_FILES.items()}


def _read_rows(path: Path) -> list[dict[str, str]]:
    """The csv rows; a missing file, non-UTF-8 text or a missing column is a DataFormatError."""
    return read_csv_rows(path, REQUIRED_COLUMNS)


def load_trajectories(folder: str | Path, report: LoadReport | None = None,
                      n_rounds: int = 10) -> tuple[list[Trajectory], LoadReport]:
    """Parse the data-set folder into one trajectory per participant and game."""
    folder = Path(folder)
    path = folder / CSV_NAME
    report = report or LoadReport(family=FAMILY)
    report.files.append(str(path))
    rows = _read_rows(path)
    lookups = load_lookups(folder)

    # Group consecutive rows by (id, game), keeping file row numbers (header = row 1).
    blocks: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = {}
    order: dict[str, list[str]] = {}
    for i, row in enumerate(rows, start=2):
        key = ((row.get("id") or "").strip(), (row.get("game") or "").strip())
        if key in blocks and blocks[key][-1][0] != i - 1:
            report.add(LoadIssue(str(path), i, "id", "non_contiguous",
                                 f"rows of participant {key[0]} game {key[1]} are not contiguous; "
                                 "round order assumed to follow file order", "flagged"))
        blocks.setdefault(key, []).append((i, row))
        order.setdefault(key[0], [])
        if key[1] not in order[key[0]]:
            order[key[0]].append(key[1])

    trajectories: list[Trajectory] = []
    agree = total = 0
    for (pid, game_name), block in blocks.items():
        tid = f"{FAMILY}/{pid}/{game_name}"
        traj, a, t = _parse_block(path, tid, pid, game_name, block, lookups, report, n_rounds,
                                  block_index=order[pid].index(game_name) + 1)
        agree, total = agree + a, total + t
        if traj is not None:
            trajectories.append(traj)
    report.trajectories += len(trajectories)
    report.decisions += sum(len([e for e in t.events if e.actor == HUMAN]) for t in trajectories)
    report.stats["opponent moves agreeing with the GPT-4 lookup table"] = (
        f"{agree}/{total} ({100.0 * agree / total:.1f}%)" if total else "n/a")
    return trajectories, report


def _skip(report: LoadReport, path: Path, row: int, fld: str, kind: str, msg: str, tid: str):
    report.add(LoadIssue(str(path), row, fld, kind, msg, "skipped", tid))
    return None, 0, 0


def _parse_block(path, tid, pid, game_name, block, lookups, report, n_rounds, block_index):
    first_row = block[0][0]
    if not pid:
        return _skip(report, path, first_row, "id", "missing_id", "empty participant id", tid)
    if game_name not in GAMES:
        return _skip(report, path, first_row, "game", "unknown_game",
                     f"unknown game {game_name!r} (expected one of {sorted(GAMES)})", tid)
    game = GAMES[game_name]
    opponent = (block[0][1].get("opponent") or "").strip()
    if (game_name, opponent) not in lookups:
        return _skip(report, path, first_row, "opponent", "unknown_opponent",
                     f"unknown opponent {opponent!r} (expected Base or Prompted)", tid)
    lookup = lookups[(game_name, opponent)]
    flags: list[str] = []
    if len(block) != n_rounds:
        flags.append(f"rounds={len(block)}")
        report.add(LoadIssue(str(path), first_row, "id", "wrong_round_count",
                             f"participant {pid} game {game_name} has {len(block)} rounds, expected {n_rounds}",
                             "flagged", tid))
    for rowno, _ in block[n_rounds:]:  # the environment plays n_rounds: rows beyond them cannot be replayed
        report.add(LoadIssue(str(path), rowno, "id", "extra_round",
                             f"participant {pid} game {game_name}: a row beyond the game's {n_rounds} rounds "
                             "is not replayed", "skipped", tid))
    block = block[:n_rounds]
    events: list[Event] = []
    human_hist = ""
    agree = total = 0
    for rnd, (rowno, row) in enumerate(block, start=1):
        code = (row.get("action") or "").strip()
        if code not in ACTION_CODES:
            return _skip(report, path, rowno, "action", "bad_action",
                         f"action {code!r} is not 0 or 1 (participant {pid}, round {rnd})", tid)
        action = ACTION_CODES[code]
        try:
            score = float(row.get("score") or "")
        except ValueError:
            return _skip(report, path, rowno, "score", "bad_score",
                         f"score {row.get('score')!r} is not a number (participant {pid}, round {rnd})", tid)
        if (row.get("opponent") or "").strip() != opponent:
            flags.append(f"opponent_changed@r{rnd}")
            report.add(LoadIssue(str(path), rowno, "opponent", "opponent_changed",
                                 f"opponent changes within participant {pid}'s {game_name} game", "flagged", tid))
        expected = lookup.table.get(human_hist)
        candidates = game.other_actions_consistent(action, score)
        if len(candidates) == 1:
            other, inferred_from = candidates[0], "score"
            if expected is not None:
                total += 1
                agree += int(expected == other)
        else:
            other, inferred_from = expected, "lookup"
            flags.append(f"impossible_score@r{rnd}")
            report.add(LoadIssue(str(path), rowno, "score", "impossible_score",
                                 f"participant {pid}, {game_name} round {rnd}: score {score:g} is impossible "
                                 f"after choosing {action}; opponent move taken from the lookup table ({other})",
                                 "flagged", tid))
        if other is None:
            return _skip(report, path, rowno, "score", "unknown_opponent_move",
                         f"participant {pid}, round {rnd}: opponent move cannot be determined", tid)
        h_pay, o_pay = game.payoff(action, other)
        events.append(Event(rnd, HUMAN, action, payoff=score,
                            data={"row": rowno, "expected_payoff": h_pay}))
        events.append(Event(rnd, OPPONENT, other, payoff=o_pay,
                            data={"inferred_from": inferred_from, "lookup_move": expected}))
        human_hist += action
    params = {**game.to_params(), "n_rounds": n_rounds, "opponent": opponent, "block": block_index}
    meta = {"guess": block[0][1].get("guess"), "coordination": [r.get("coordination") for _, r in block]}
    traj = Trajectory(trajectory_id=tid, family=FAMILY, game=game_name, participant_id=pid, role="row player",
                      params=params, events=tuple(events), flags=tuple(flags),
                      source=f"{path}:{first_row}-{block[-1][0]}", meta=meta)
    return traj, agree, total
