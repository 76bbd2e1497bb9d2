"""Finding and reading GLEE game folders, tolerating everything a real copy contains.

The upstream layout (github.com/eilamshapira/GLEE, ``Data/human_vs_llm``) is
``human_vs_llm/<family>/<h>/<h>/<h>/<GAME_ID>/`` with ``game.csv`` (the dialogue,
one row per move) and, for some games, ``config.json`` (the game's parameters and
which seat the human held: player type ``"otree"``; the LLM is ``"otree_LLM"``).
A folder may hold either file alone; this module reports what it finds and leaves
the decision to skip to the loader.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUBDIR = "human_vs_llm"
HUMAN_TYPE = "otree"
SEATS = ("player_1", "player_2")


class GameFileError(ValueError):
    """One game's file cannot be used; carries the row and field for the load report."""

    def __init__(self, kind: str, message: str, row: int | None = None, field: str | None = None):
        super().__init__(message)
        self.kind, self.row, self.field = kind, row, field


@dataclass(frozen=True)
class GameFolder:
    """One game folder: its id and which of its two files exist."""

    family: str
    game_id: str
    folder: Path

    @property
    def csv_path(self) -> Path:
        return self.folder / "game.csv"

    @property
    def config_path(self) -> Path:
        return self.folder / "config.json"


def family_root(root: Path, family: str) -> Path:
    """``<root>/human_vs_llm/<family>``; ``root`` may also be the ``human_vs_llm`` folder itself."""
    root = Path(root)
    return (root if root.name == SUBDIR else root / SUBDIR) / family


def discover(root: Path, family: str) -> list[GameFolder]:
    """Every folder holding a game.csv or config.json, sorted by game id for a stable order."""
    base = family_root(root, family)
    folders = {p.parent for name in ("game.csv", "config.json") for p in base.rglob(name)}
    return sorted((GameFolder(family, f.name, f) for f in folders), key=lambda g: (g.game_id, str(g.folder)))


def read_config(path: Path) -> dict[str, Any]:
    """The parsed config.json, or a GameFileError saying what is wrong with it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise GameFileError("bad_config", f"config.json is not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise GameFileError("bad_config", f"config.json is not valid JSON ({exc.msg})", row=exc.lineno) from None
    if not isinstance(data, dict) or not isinstance(data.get("game_args"), dict):
        raise GameFileError("bad_config", "config.json has no 'game_args' mapping", field="game_args")
    return data


def human_seat(config: dict[str, Any]) -> str:
    """The seat whose player type is ``otree`` (a person); exactly one seat must be human."""
    humans = [s for s in SEATS if config.get(f"{s}_type") == HUMAN_TYPE]
    if len(humans) != 1:
        types = {s: config.get(f"{s}_type") for s in SEATS}
        raise GameFileError("unknown_human_seat", f"cannot tell the human seat from player types {types}",
                            field="player_1_type")
    return humans[0]


def public_names(config: dict[str, Any]) -> dict[str, str]:
    """Seat -> the name the log's ``player`` column uses (Alice / Bob unless configured otherwise)."""
    defaults = {"player_1": "Alice", "player_2": "Bob"}
    out = {}
    for s in SEATS:
        args = config.get(f"{s}_args") or {}
        out[s] = str(args.get("public_name") or defaults[s]) if isinstance(args, dict) else defaults[s]
    return out


def read_rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(record number, row) pairs; the header is record 1, so numbers match a spreadsheet's rows.

    Free-text messages may span lines, hold emoji or stray quotes: the csv module
    reads quoted multi-line fields as one record, and nothing is stripped or fixed.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GameFileError("not_utf8", f"game.csv is not UTF-8 (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise GameFileError("empty_game", "game.csv is empty")
        missing = [c for c in required if c not in header]
        if missing:
            raise GameFileError("bad_header", f"missing column(s) {missing}; found {header}", row=1, field=missing[0])
        rows = []
        for i, rec in enumerate(reader, start=2):
            if not any(x.strip() for x in rec):
                continue
            if len(rec) != len(header):
                raise GameFileError("bad_row", f"{len(rec)} fields where the header has {len(header)}", row=i)
            rows.append((i, dict(zip(header, rec))))
    except csv.Error as exc:
        raise GameFileError("bad_csv", f"unreadable CSV ({exc})", row=reader.line_num) from None
    return rows


def number(row: dict[str, str], field: str, rowno: int) -> float:
    """A numeric field ('9000.0', '1,000', '$100' all read as numbers), or a GameFileError naming it."""
    raw = (row.get(field) or "").strip().replace(",", "").replace("$", "")
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):  # 'nan', 'inf' and '1e400' parse as floats but are no amount or round
        raise GameFileError("bad_number", f"{field} {row.get(field)!r} is not a finite number", row=rowno,
                            field=field)
    return value


def config_number(value: Any, key: str, whole: bool = False) -> float:
    """A finite number from config.json's game_args (a JSON number or numeric text, never a boolean), or a
    GameFileError naming ``key``; with ``whole`` it must also be a whole number (a round count)."""
    try:
        out = math.nan if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        out = math.nan
    if not math.isfinite(out) or (whole and out != int(out)):
        raise GameFileError("bad_parameter", f"game_args.{key} is {value!r}, not a "
                                             f"{'whole' if whole else 'finite'} number", field=key)
    return out


def config_flag(value: Any, key: str) -> bool:
    """A switch from config.json's game_args: JSON booleans, 0/1 and 'true'/'false' text are read;
    anything else is a GameFileError naming ``key``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise GameFileError("bad_parameter", f"game_args.{key} is {value!r}, not true/false", field=key)

def round_number(row: dict[str, str], rowno: int) -> int:
    r = number(row, "round", rowno)
    if r != int(r) or r < 1:
        raise GameFileError("bad_round", f"round {row.get('round')!r} is not a positive integer", row=rowno,
                            field="round")
    return int(r)


def seat_and_round(row: dict[str, str], rowno: int, seats: dict[str, str]) -> tuple[str, int]:
    """The seat of the row's ``player`` (by public name) and its round, or a GameFileError naming the field."""
    name = (row.get("player") or "").strip()
    if name not in seats:
        raise GameFileError("unknown_player", f"player {name!r} is neither of {sorted(seats)}", rowno, "player")
    return seats[name], round_number(row, rowno)
