"""Small text helpers the GLEE prompts share: money, percentages, messages as logged."""

from __future__ import annotations

NO_MESSAGE = ("", "nan", "None")


def money(x: float) -> str:
    """$9,000 or $12.50: how the games showed amounts."""
    return f"${x:,.0f}" if float(x).is_integer() else f"${x:,.2f}"


def percent(x: float) -> str:
    """0.05 -> '5%', 1/3 -> '33.33%'."""
    v = round(100 * x, 2)
    return f"{v:g}%"


def message_or_none(raw: str | None) -> str | None:
    """The logged message as typed, or None where the log marks 'no message' ('', 'nan', 'None')."""
    if raw is None or raw.strip() in NO_MESSAGE:
        return None
    return raw


def quoted(message: str) -> str:
    """A free-text message shown as a quotation, kept exactly as typed (emoji, quotes, line breaks)."""
    return '"' + message + '"'
