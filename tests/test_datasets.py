"""Data location and the checksummed download, against a real HTTP server on 127.0.0.1."""

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from sim import datasets
from sim.datadir import ENV_VAR, default_cache_dir, resolve_data_dir

AKATA = datasets.DATASETS["akata2025_repeated_games"]


def test_data_dir_resolution_order(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "cli") == tmp_path / "cli"
    assert resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv(ENV_VAR)
    assert resolve_data_dir() == default_cache_dir()


@pytest.fixture
def mirror(akata_dir, tmp_path):
    """A directory laid out like the upstream repository, served over HTTP."""
    root = tmp_path / "mirror"
    for f in AKATA.files:
        dest = root / f.remote_path
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(akata_dir / f.name, dest)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_fetch_downloads_and_verifies(mirror, tmp_path):
    _, url = mirror
    target = tmp_path / "data"
    folder = datasets.fetch(AKATA.name, target, base_url=url)
    assert folder == target / AKATA.name
    assert datasets.status(AKATA.name, target) == {f.name: "ok" for f in AKATA.files}
    assert datasets.require(AKATA.name, target) == folder
    assert not list(folder.glob("*.part"))


def test_corrupt_download_writes_nothing(mirror, tmp_path):
    root, url = mirror
    csv_file = root / AKATA.files[0].remote_path
    csv_file.write_bytes(csv_file.read_bytes().replace(b"PD", b"BoS", 1))
    target = tmp_path / "data"
    with pytest.raises(datasets.DatasetError, match="checksum mismatch"):
        datasets.fetch(AKATA.name, target, base_url=url)
    assert not (target / AKATA.name / "repgames.csv").exists()
    assert not [p for p in (target / AKATA.name).iterdir() if p.name.startswith(".")]


def test_unreachable_source_is_a_clear_error(tmp_path):
    with pytest.raises(datasets.DatasetError, match="could not download"):
        datasets.fetch(AKATA.name, tmp_path, base_url="http://127.0.0.1:9", timeout=2)


def test_missing_data_says_what_to_do(tmp_path):
    with pytest.raises(datasets.DatasetError, match="gamereplay data fetch akata2025_repeated_games"):
        datasets.require(AKATA.name, tmp_path)


def test_checksums_match_the_local_copy(akata_dir):
    for f in AKATA.files:
        assert datasets.sha256_of(Path(akata_dir) / f.name) == f.sha256


def test_data_check_states_the_checksums(data_root, tmp_path):
    import shutil

    from sim.datacheck import check

    assert "checksums: verified (5 files)" in check("akata2025_repeated_games", data_root)
    copy = tmp_path / "akata2025_repeated_games"
    shutil.copytree(data_root / "akata2025_repeated_games", copy)
    (copy / "repgames.csv").chmod(0o644)
    with open(copy / "repgames.csv", "a", encoding="utf-8") as fh:
        fh.write("999,PD,1,8,Base,LLM,0\n")
    report = check("akata2025_repeated_games", tmp_path)
    assert "checksums: modified (5 files; 1 differ from the source: repgames.csv)" in report
