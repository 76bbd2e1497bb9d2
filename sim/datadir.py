"""Where data sets live on this machine.

Resolution order (first that is set wins):

1. an explicit directory (the CLI's ``--data-dir``),
2. the ``GAMEREPLAY_DATA`` environment variable,
3. a per-user cache directory (``platformdirs.user_cache_dir("gamereplay")/data``),
   which is where ``gamereplay data fetch`` downloads to by default.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "GAMEREPLAY_DATA"


def default_cache_dir() -> Path:
    """The per-user cache directory for downloaded data sets."""
    return Path(platformdirs.user_cache_dir("gamereplay")) / "data"


def resolve_data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data directory to read from (not necessarily existing yet)."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return default_cache_dir()


def data_dir_source(explicit: str | os.PathLike | None = None) -> str:
    """Why ``resolve_data_dir`` chose what it chose, for messages."""
    if explicit:
        return "--data-dir"
    if os.environ.get(ENV_VAR):
        return f"${ENV_VAR}"
    return "user cache"
