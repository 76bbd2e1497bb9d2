"""Lookup-table strategies read from JSON: the human's past moves -> the other seat's next move.

A table is a JSON object whose keys are the human's earlier moves' names, concatenated
(``"JJF"``; ``""`` before the first round), and whose values are the next move's name.
Both the repeated matrix games (Akata et al.'s GPT-4 strategies) and YAML families with
an ``opponent.lookup`` read them with ``read_lookup_table``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable

from envs.quality import DataFormatError


def read_lookup_table(path: Path, moves: Iterable[str], key_moves: Iterable[str] | None = None,
                      field: str | None = None) -> dict[str, str]:
    """The table in ``path``, its values among ``moves``.

    ``key_moves``: the names a key may concatenate (``None``: keys are not checked).  ``field``: the
    setting that named the file, for the message when it is missing.  A missing file, invalid JSON, a
    JSON value other than an object, or a bad key or value is a ``DataFormatError`` naming the file."""
    moves = tuple(moves)
    key_moves = None if key_moves is None else tuple(key_moves)
    if not path.exists():
        raise DataFormatError(str(path), "lookup table not found", field=field)
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFormatError(str(path), f"not valid JSON: {exc}") from None
    keys = "past moves" if key_moves is None else f"past moves ({'/'.join(key_moves)}, concatenated)"
    rule = f"a JSON object from {keys} to a move ({', '.join(sorted(moves))})"
    if not isinstance(table, dict):
        raise DataFormatError(str(path), f"expected {rule}, found {type(table).__name__}")
    history = None if key_moves is None else re.compile(
        "(?:" + "|".join(map(re.escape, sorted(key_moves, key=len, reverse=True))) + ")*")
    bad = [k for k, v in table.items() if v not in moves or (history is not None and not history.fullmatch(k))]
    if bad:
        raise DataFormatError(str(path), f"expected {rule}; bad entries: {[(k, table[k]) for k in bad[:3]]}")
    return table
