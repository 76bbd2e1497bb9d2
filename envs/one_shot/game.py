"""The one-shot 2x2 game of games2p2k: how its eight numbers become a bimatrix, and the human's view.

**Matrix mapping (an assumption).**  ``row_form_matrix`` holds eight numbers such
as ``[21 10 24 17  2 19  6  4]``.  We read them as the game in *row form*: the
row player's and the column player's payoffs cell by cell, cells in row-major
order::

    (r11, c11, r12, c12, r21, c21, r22, c22)

so ``row = [[r11, r12], [r21, r22]]`` and ``col = [[c11, c12], [c21, c22]]``,
where cell ``ij`` is "row player plays strategy i, column player plays j".  This
is the natural reading of the column name, not something the data states: check
it against the codebook of Zhu, Peterson, Enke & Griffiths before trusting any
result.  The mapping lives in ``bimatrix_from_row_form`` alone, so changing it is
a one-line edit (and ``tests/test_games2p2k.py`` pins it by hand).

**Role (the human's view).**  ``role`` says which player the people answering
were.  A column-role decision is the same game seen from the other side: the
human's own view puts the human in the row seat, i.e. ``row' = col.T`` (the
human's payoffs, rows = the human's strategies) and ``col' = row.T``.  Every
prompt, equilibrium and feature uses this view.  ``human_view`` is the one place
that does it.

**Labels.**  The human's two strategies are labelled ``X`` and ``Y`` (``X`` =
the first strategy: "up" for a row-role respondent, "left" for a column-role
one), the other player's ``A`` and ``B``.  Neutral letters, because the
counterbalanced presentation lists ``Y`` first: labels stay attached to
strategies, only the order of listing changes (``listing_order``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from envs.stage_game import StageGame

HUMAN_LABELS: tuple[str, str] = ("X", "Y")
OTHER_LABELS: tuple[str, str] = ("A", "B")
ROW, COL = "row", "col"
ROLES = (ROW, COL)
PRESENTATIONS = ("original", "swapped")

_ROW_SPELLINGS = {"row", "r", "rowplayer", "p1", "player1"}
_COL_SPELLINGS = {"col", "column", "c", "colplayer", "columnplayer", "p2", "player2"}


class MatrixFormatError(ValueError):
    """A ``row_form_matrix`` cell that is not eight finite numbers."""


def parse_numbers(text: str) -> list[float]:
    """The numbers of a numpy-printed (``[21 10  2]``) or comma-separated vector, in order."""
    inner = text.strip().strip("[]()").strip()
    parts = [p for p in re.split(r"[\s,;]+", inner) if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise MatrixFormatError(f"{text!r} is not a list of numbers") from None
    if not all(np.isfinite(values)):
        raise MatrixFormatError(f"{text!r} contains a non-finite number")
    return values


def bimatrix_from_row_form(numbers: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """(row player's payoffs, column player's payoffs) from the eight row-form numbers.

    THE ASSUMED MAPPING: (r11, c11, r12, c12, r21, c21, r22, c22).  Change it here only.
    """
    if len(numbers) != 8:
        raise MatrixFormatError(f"expected 8 numbers, got {len(numbers)}")
    a = np.asarray(numbers, float).reshape(2, 2, 2)  # [row strategy, column strategy, (row payoff, col payoff)]
    return a[:, :, 0], a[:, :, 1]


def normalise_role(value: str) -> str | None:
    """'row' or 'col' for the usual spellings ('Row', 'row player', 'Column', 'col_player', ...); else None."""
    key = re.sub(r"[^a-z0-9]", "", value.strip().lower())
    if key in _ROW_SPELLINGS or key.startswith("row"):
        return ROW
    if key in _COL_SPELLINGS or key.startswith("col"):
        return COL
    return None


def human_view(row: np.ndarray, col: np.ndarray, role: str) -> tuple[np.ndarray, np.ndarray]:
    """The game from the respondent's side: (their payoffs, the other's payoffs), rows = their strategies."""
    if role == ROW:
        return np.array(row, float), np.array(col, float)
    if role == COL:
        return np.array(col, float).T.copy(), np.array(row, float).T.copy()
    raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")


def listing_order(presentation: str) -> tuple[int, int]:
    """Indices of the human's strategies in the order the prompt lists them."""
    if presentation == "original":
        return (0, 1)
    if presentation == "swapped":
        return (1, 0)
    raise ValueError(f"unknown presentation {presentation!r}; expected one of {PRESENTATIONS}")


def labelled(row, col) -> StageGame:
    """A 2x2 game from the human's side with this data set's labels (X, Y for the human; A, B for the other)."""
    return StageGame(np.asarray(row, float), np.asarray(col, float), HUMAN_LABELS, OTHER_LABELS)


#: A Prisoner's Dilemma (X = cooperate, Y = defect) — the environment's default game for live play and tests.
PRISONERS_DILEMMA = labelled([[3.0, 0.0], [5.0, 1.0]], [[3.0, 5.0], [0.0, 1.0]])
