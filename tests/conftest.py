"""Shared fixtures: the real data directory and small helpers."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from envs.quality import DataQualityWarning

REPO = Path(__file__).resolve().parents[1]


def _data_root() -> Path | None:
    for cand in (os.environ.get("GAMEREPLAY_DATA"), REPO.parent / "shared" / "data"):
        if cand and (Path(cand) / "akata2025_repeated_games" / "repgames.csv").exists():
            return Path(cand)
    return None


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = _data_root()
    if root is None:
        pytest.skip("real data not found: set GAMEREPLAY_DATA or run `gamereplay data fetch`")
    return root


@pytest.fixture(scope="session")
def akata_dir(data_root: Path) -> Path:
    return data_root / "akata2025_repeated_games"


@pytest.fixture(scope="session")
def akata(akata_dir: Path):
    """(trajectories, report) of the real repeated-games data."""
    from envs.repeated_matrix import load_trajectories

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return load_trajectories(akata_dir)


@pytest.fixture(scope="session")
def akata_decisions(akata):
    from envs.registry import get_family
    from envs.replay import replay_all

    return replay_all(akata[0], get_family("repeated_matrix").make_env, progress=False)
