"""Fetching GLEE (a folder of a GitHub repository) against a real HTTP server on 127.0.0.1.

The server is a mirror laid out like both GitHub hosts: git-tree JSON under ``repos/<repo>/git/trees/``
(the API) and the files under ``<repo>/<ref>/<path>`` (raw.githubusercontent.com).  The files are a few
real games from the local copy, served with CRLF line endings as upstream has them.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import threading
from pathlib import Path

import pytest

from sim import cli, datasets
from sim.dataset_base import PartialFetchError, git_blob_sha
from sim.github_tree import GITHUB_API, LISTING_NAME, TOKEN_ENV, api_headers

GLEE = datasets.DATASETS["glee"]
REPO = "eilamshapira/GLEE"
FAMILIES = ("bargaining", "negotiation", "persuasion")


def blob_sha(data: bytes) -> str:  # written out here, not imported, so the test checks the implementation
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def fake_tree_sha(path: str) -> str:
    return hashlib.sha1(b"tree:" + path.encode()).hexdigest()


@pytest.fixture(autouse=True)
def _no_token(monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)


@pytest.fixture(scope="module")
def games(data_root) -> dict[str, bytes]:
    """{path below human_vs_llm: upstream bytes} for two complete games per family, with CRLF endings."""
    src = data_root / "glee" / "human_vs_llm"
    if not src.is_dir():
        pytest.skip("local GLEE copy not found under the data root")
    out = {}
    for fam in FAMILIES:
        picked = [d for d in sorted((src / fam).glob("*/*/*/*"))
                  if (d / "game.csv").is_file() and (d / "config.json").is_file()][:2]
        assert len(picked) == 2, fam
        for d in picked:
            for name in ("game.csv", "config.json"):
                data = (d / name).read_bytes()
                out[(d / name).relative_to(src).as_posix()] = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return out


class Mirror:
    """Files plus the tree JSON GitHub would answer for them; ``requests`` records every GET path."""

    def __init__(self, root: Path, games: dict[str, bytes], truncated: set[str]):
        self.root, self.games, self.requests = root, games, []
        blobs = {f"Data/human_vs_llm/{rel}": data for rel, data in games.items()}
        first_game = next(iter(games)).rsplit("/", 1)[0]
        blobs[f"Data/human_vs_llm/{first_game}/transcript.txt"] = b"not wanted\r\n"  # the folder has other files
        blobs["Data/README.md"] = b"data\r\n"
        blobs["README.md"] = b"GLEE\r\n"
        for path, data in blobs.items():
            self.raw_path(path).parent.mkdir(parents=True, exist_ok=True)
            self.raw_path(path).write_bytes(data)
        dirs = {""} | {"/".join(p.split("/")[:i]) for p in blobs for i in range(1, p.count("/") + 1)}
        flat = {"", "Data"} | truncated  # answered with their direct children only
        for d in dirs:
            below = [p for p in sorted(dirs - {d}) if self._under(p, d)]
            kids = [("tree", p) for p in below] + [("blob", p) for p in sorted(blobs) if self._under(p, d)]
            if d in flat:
                kids = [(t, p) for t, p in kids if "/" not in self._rel(p, d)]
            tree = [{"path": self._rel(p, d), "mode": "040000" if t == "tree" else "100644", "type": t,
                     "sha": fake_tree_sha(p) if t == "tree" else blob_sha(blobs[p]),
                     **({"size": len(blobs[p])} if t == "blob" else {})} for t, p in kids]
            body = json.dumps({"sha": fake_tree_sha(d), "tree": tree, "truncated": d in truncated})
            for name in ([fake_tree_sha(d), "main"] if d == "" else [fake_tree_sha(d)]):
                api = root / "repos" / REPO / "git" / "trees" / name
                api.parent.mkdir(parents=True, exist_ok=True)
                api.write_text(body)

    @staticmethod
    def _under(p: str, d: str) -> bool:
        return p.startswith(d + "/") if d else True

    @staticmethod
    def _rel(p: str, d: str) -> str:
        return p[len(d) + 1:] if d else p

    def raw_path(self, repo_path: str) -> Path:
        return self.root / REPO / "main" / repo_path

    def raw_requests(self) -> list[str]:
        return sorted(r for r in self.requests if r.startswith(f"/{REPO}/"))

    def api_requests(self) -> list[str]:
        return [r for r in self.requests if r.startswith("/repos/")]


def _serve(handler_cls, request):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    request.addfinalizer(server.shutdown)
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def serve(tmp_path, request, games):
    """serve(truncated=set()) -> (Mirror, base URL)."""
    made: list[Mirror] = []

    def make(truncated: set[str] = frozenset()) -> tuple[Mirror, str]:
        mirror = Mirror(tmp_path / f"mirror{len(made)}", games, set(truncated))
        made.append(mirror)

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                mirror.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        return mirror, _serve(functools.partial(Handler, directory=str(mirror.root)), request)
    return make


def _local(target: Path, rel: str) -> Path:
    return target / "glee" / "human_vs_llm" / rel


def _wanted_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_git_blob_sha_is_gits():
    assert git_blob_sha(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"  # `git hash-object`


def test_full_fetch_lands_files_byte_identical(serve, games, tmp_path):
    mirror, url = serve()
    target = tmp_path / "data"
    done = GLEE.fetch(target, base_url=url, progress=False)
    assert (done.folder, done.downloaded, done.present, done.failed) == (target / "glee", len(games), 0, ())
    assert _wanted_files(target / "glee" / "human_vs_llm") == sorted(games)  # no transcript.txt, no README
    for rel, data in games.items():
        assert _local(target, rel).read_bytes() == data
    assert {(e.rel, e.sha, e.size) for e in GLEE.read_listing(target)} == {
        (rel, blob_sha(data), len(data)) for rel, data in games.items()}
    assert not list((target / "glee").rglob("*.part"))
    assert len(mirror.api_requests()) == 3  # trees/main, trees/<Data>, trees/<human_vs_llm>?recursive=1
    assert mirror.api_requests()[-1].endswith(fake_tree_sha("Data/human_vs_llm") + "?recursive=1")
    assert datasets.status("glee", target) == {f"human_vs_llm/{rel}": "ok" for rel in games}
    summary = datasets.summary("glee", target)
    assert summary.state == "present"
    assert summary.lines == tuple(f"{fam}: 4 of 4 files ok (game.csv 2/2, config.json 2/2)" for fam in FAMILIES)


def test_second_fetch_downloads_nothing(serve, games, tmp_path):
    mirror, url = serve()
    GLEE.fetch(tmp_path, base_url=url, progress=False)
    mirror.requests.clear()
    done = GLEE.fetch(tmp_path, base_url=url, progress=False)
    assert (done.downloaded, done.present) == (0, len(games))
    assert mirror.raw_requests() == []
    forced = GLEE.fetch(tmp_path, base_url=url, force=True, progress=False)
    assert (forced.downloaded, forced.present) == (len(games), 0)


def test_refetch_restores_exactly_the_missing_and_wrong_files(serve, games, tmp_path):
    mirror, url = serve()
    GLEE.fetch(tmp_path, base_url=url, progress=False)
    gone, wrong = sorted(games)[0], sorted(games)[3]
    _local(tmp_path, gone).unlink()
    _local(tmp_path, wrong).write_bytes(games[wrong].replace(b"\r\n", b"\n"))  # an LF copy differs from upstream
    st = datasets.status("glee", tmp_path)
    assert st[f"human_vs_llm/{gone}"] == "missing" and st[f"human_vs_llm/{wrong}"] == "checksum mismatch"
    assert sum(v == "ok" for v in st.values()) == len(games) - 2
    summary = datasets.summary("glee", tmp_path)
    assert summary.state == "incomplete" and any("1 missing, 1 differ from upstream" in x for x in summary.lines)
    mirror.requests.clear()
    done = GLEE.fetch(tmp_path, base_url=url, progress=False)
    assert (done.downloaded, done.present) == (2, len(games) - 2)
    assert mirror.raw_requests() == sorted(f"/{REPO}/main/Data/human_vs_llm/{r}" for r in (gone, wrong))
    assert _local(tmp_path, gone).read_bytes() == games[gone]
    assert _local(tmp_path, wrong).read_bytes() == games[wrong]
    assert datasets.summary("glee", tmp_path).state == "present"


def test_served_bytes_that_do_not_match_the_tree_are_refused(serve, games, tmp_path):
    mirror, url = serve()
    bad = sorted(games)[1]
    mirror.raw_path(f"Data/human_vs_llm/{bad}").write_bytes(games[bad] + b"tampered\r\n")
    with pytest.raises(PartialFetchError) as err:
        GLEE.fetch(tmp_path, base_url=url, progress=False)
    msg = str(err.value)
    assert isinstance(err.value, datasets.DatasetError) and "\n" not in msg
    assert f"1 of {len(games)} files failed" in msg and bad in msg and "checksum mismatch" in msg
    assert err.value.summary.downloaded == len(games) - 1 and err.value.summary.failed == (f"human_vs_llm/{bad}",)
    assert not _local(tmp_path, bad).exists()
    for rel in games:
        if rel != bad:
            assert _local(tmp_path, rel).read_bytes() == games[rel]
    assert not [p for p in (tmp_path / "glee").rglob(".*") if p.is_file()]
    mirror.raw_path(f"Data/human_vs_llm/{bad}").write_bytes(games[bad])  # upstream fixed: the re-run gets just it
    assert GLEE.fetch(tmp_path, base_url=url, progress=False).downloaded == 1


def test_truncated_listing_is_walked_one_subtree_at_a_time(serve, games, tmp_path):
    mirror, url = serve({"Data/human_vs_llm", "Data/human_vs_llm/bargaining"})
    done = GLEE.fetch(tmp_path, base_url=url, progress=False)
    assert done.downloaded == len(games)
    for rel, data in games.items():
        assert _local(tmp_path, rel).read_bytes() == data
    asked = mirror.api_requests()
    for fam in FAMILIES:  # the truncated folder made it ask for each family's tree
        assert any(fake_tree_sha(f"Data/human_vs_llm/{fam}") in a for a in asked)
    bargaining_child = "Data/human_vs_llm/bargaining/" + next(r for r in games if r.startswith("bargaining/")).split("/")[1]
    assert any(fake_tree_sha(bargaining_child) in a for a in asked)  # and, truncated again, one level further


def test_unreachable_server_is_a_clear_error(tmp_path):
    with pytest.raises(datasets.DatasetError, match=r"could not list eilamshapira/GLEE@main:Data/human_vs_llm"):
        GLEE.fetch(tmp_path, base_url="http://127.0.0.1:9", timeout=2, progress=False)
    assert not (tmp_path / "glee").exists()


def test_rate_limit_says_what_to_do(tmp_path, request):
    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(403)
            self.end_headers()
            self.wfile.write(b'{"message": "API rate limit exceeded"}')

        def log_message(self, *args):
            pass

    with pytest.raises(datasets.DatasetError, match=r"HTTP 403.*60 requests per hour.*GITHUB_TOKEN"):
        GLEE.fetch(tmp_path, base_url=_serve(Refuse, request), timeout=5, progress=False)


def test_token_goes_to_github_only(monkeypatch):
    assert "Authorization" not in api_headers(GITHUB_API)
    monkeypatch.setenv(TOKEN_ENV, "tok")
    assert api_headers(GITHUB_API)["Authorization"] == "Bearer tok"
    assert "Authorization" not in api_headers("http://127.0.0.1:8000")


def test_from_clone_copies_bytes_as_they_are(serve, games, tmp_path):
    mirror, _ = serve()
    clone = mirror.root / REPO / "main"  # the raw layout is a checkout of the repository
    lf = sorted(games)[2]
    (clone / "Data" / "human_vs_llm" / lf).write_bytes(games[lf].replace(b"\r\n", b"\n"))  # a checkout with LF
    target = tmp_path / "data"
    done = datasets.get_dataset("glee").fetch(target, from_clone=clone, progress=False)
    assert (done.downloaded, done.present) == (len(games), 0)
    assert _wanted_files(target / "glee" / "human_vs_llm") == sorted(games)
    for rel in games:
        assert _local(target, rel).read_bytes() == (clone / "Data" / "human_vs_llm" / rel).read_bytes()
    assert mirror.requests == [] and not (target / "glee" / LISTING_NAME).exists()
    assert GLEE.fetch(target, from_clone=clone, progress=False).present == len(games)
    assert datasets.fetch("glee", target, from_clone=clone) == target / "glee"
    with pytest.raises(datasets.DatasetError, match="--from-clone"):
        GLEE.fetch(target, from_clone=tmp_path / "not-a-clone", progress=False)


def test_require_before_and_after(serve, tmp_path, data_root):
    with pytest.raises(datasets.DatasetError, match="run `gamereplay data fetch glee` or point --data-dir"):
        datasets.require("glee", tmp_path)
    _, url = serve()
    datasets.fetch("glee", tmp_path, base_url=url)
    assert datasets.require("glee", tmp_path) == tmp_path / "glee"
    assert datasets.require("glee", data_root) == data_root / "glee"


def test_summary_of_a_copy_without_listing(data_root):
    root = data_root / "glee" / "human_vs_llm"
    summary = datasets.summary("glee", data_root)
    assert summary.state == "present"
    for fam in FAMILIES:
        n_game, n_cfg = (len(list((root / fam).rglob(n))) for n in ("game.csv", "config.json"))
        assert f"{fam}: {n_game} game.csv, {n_cfg} config.json" in summary.lines
    assert "not checked against upstream" in summary.lines[-1]


def test_cli_fetch_and_list(serve, games, tmp_path, capsys):
    _, url = serve()
    data = str(tmp_path / "data")
    assert cli.main(["data", "fetch", "glee", "--base-url", url, "--data-dir", data]) == 0
    assert f"{len(games)} downloaded, 0 already present" in capsys.readouterr().out
    assert cli.main(["data", "list", "--data-dir", data]) == 0
    out = capsys.readouterr().out
    assert "  glee: present" in out and "    persuasion: 4 of 4 files ok" in out
    assert "  akata2025_repeated_games: missing" in out
    assert cli.main(["data", "fetch", "glee", "--base-url", "http://127.0.0.1:9", "--data-dir", data]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gamereplay: could not list") and "\n" not in err


def test_akata_from_clone_is_verified(akata_dir, tmp_path):
    akata = datasets.DATASETS["akata2025_repeated_games"]
    clone = tmp_path / "clone"
    for f in akata.files:
        (clone / f.remote_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(akata_dir / f.name, clone / f.remote_path)
    done = akata.fetch(tmp_path / "data", from_clone=clone)
    assert (done.downloaded, done.present) == (len(akata.files), 0)
    assert set(datasets.status(akata.name, tmp_path / "data").values()) == {"ok"}
    (clone / akata.files[1].remote_path).write_bytes(b"{}")
    with pytest.raises(datasets.DatasetError, match="checksum mismatch"):
        akata.fetch(tmp_path / "data2", from_clone=clone)
    assert not (tmp_path / "data2" / akata.name / akata.files[1].name).exists()
