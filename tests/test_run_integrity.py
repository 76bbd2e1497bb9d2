"""A run verifies the data it reads and never passes partial data off as complete.

- a registered data set whose files differ from the published ones is refused (one line: the file,
  and how to proceed) unless ``--allow-modified-data``, which the manifest records;
- a GitHub-folder data set without its saved listing (the partial development copy of GLEE) runs,
  says so once, and is recorded as "unverified" with every file's SHA-256; with a listing, a file
  that differs, is missing or is not published is refused;
- local data is hashed and recorded; every file is hashed once per run;
- a file cut inside its last row, data with no decision, and a run that scored nothing each end in
  one clear line and a non-zero exit, and the summary names only files that exist.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

from sim import cli, dataset_base, verify
from sim.datasets import DATASETS
from sim.exit_codes import ExitCode
from sim.github_tree import TreeEntry
from sim.store import RunStore

AKATA = DATASETS["akata2025_repeated_games"]
GLEE = DATASETS["glee"]


def _config(tmp_path: Path, family="repeated_matrix", predictors=({"type": "uniform"},), **data) -> Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(yaml.safe_dump({"name": "integrity", "data": {"family": family, **data},
                                 "predictors": list(predictors)}))
    return p


@pytest.fixture
def akata_copy(akata_dir, tmp_path) -> Path:
    """A writable data directory holding a verified copy of the repeated-games data set."""
    data = tmp_path / "data"
    shutil.copytree(akata_dir, data / AKATA.name)
    for p in (data / AKATA.name).iterdir():
        p.chmod(0o644)
    return data


def _run(tmp_path, data: Path, *extra: str, cfg: Path | None = None) -> int:
    return cli.main(["run", str(cfg or _config(tmp_path)), "--out", str(tmp_path / "run"), "--limit", "2",
                     "--data-dir", str(data), "--quiet", *extra])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- registered data verified when it is used -----------------------------------------------------------
def test_a_modified_data_set_is_refused_before_anything_is_written(tmp_path, akata_copy, capsys):
    csv_file = akata_copy / AKATA.name / "repgames.csv"
    csv_file.write_bytes(csv_file.read_bytes().replace(b"1,PD,0,10", b"1,PD,1,10", 1))
    assert _run(tmp_path, akata_copy) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "repgames.csv: checksum mismatch" in err
    assert f"gamereplay data fetch {AKATA.name}" in err and "--allow-modified-data" in err
    assert not (tmp_path / "run").exists()


def test_allow_modified_data_runs_and_the_manifest_records_it(tmp_path, akata_copy, capsys):
    csv_file = akata_copy / AKATA.name / "repgames.csv"
    csv_file.write_bytes(csv_file.read_bytes().replace(b"1,PD,0,10", b"1,PD,1,10", 1))
    assert _run(tmp_path, akata_copy, "--allow-modified-data") == ExitCode.OK
    assert "running anyway (--allow-modified-data)" in capsys.readouterr().out
    manifest = RunStore(tmp_path / "run").read_manifest()
    record = manifest["data"][AKATA.name]
    assert manifest["allow_modified_data"] is True and record["state"] == "modified"
    assert record["files"]["repgames.csv"] == {"state": "checksum mismatch", "sha256": _sha256(csv_file)}


def test_a_verified_run_records_every_file(tmp_path, akata_copy):
    assert _run(tmp_path, akata_copy) == ExitCode.OK
    manifest = RunStore(tmp_path / "run").read_manifest()
    record = manifest["data"][AKATA.name]
    assert record["state"] == "verified" and manifest["allow_modified_data"] is False
    assert record["files"] == {f.name: {"state": "ok", "sha256": f.sha256} for f in AKATA.files}
    assert manifest["data_checksums"] == {"repeated_matrix": record["sha256"]}


def test_local_data_is_hashed_and_recorded(tmp_path, akata_copy):
    folder = akata_copy / AKATA.name
    assert _run(tmp_path, tmp_path / "nowhere", cfg=_config(tmp_path, path=str(folder))) == ExitCode.OK
    record = RunStore(tmp_path / "run").read_manifest()["data"][f"local:{folder}"]
    assert record["state"] == "local"
    assert record["files"]["repgames.csv"] == {"state": "local", "sha256": _sha256(folder / "repgames.csv")}


def test_glee_without_its_listing_runs_unverified_and_reads_each_file_once(tmp_path, data_root, glee_root,
                                                                           monkeypatch, capsys):
    """The shared partial GLEE copy has no upstream listing: the run says so once for its two families,
    records each file's SHA-256, and hashes each file once (the manifest's checksums reuse the hashes)."""
    reads: dict[Path, int] = {}
    real = dataset_base.file_digests

    def counting(path, kinds=()):
        reads[Path(path)] = reads.get(Path(path), 0) + 1
        return real(path, kinds)

    monkeypatch.setattr(dataset_base, "file_digests", counting)
    monkeypatch.setattr(verify, "file_digests", counting)
    cfg = _config(tmp_path, family=["glee_bargaining", "glee_negotiation"])
    assert _run(tmp_path, data_root, cfg=cfg) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.count("not checked against upstream") == 1
    record = RunStore(tmp_path / "run").read_manifest()["data"]["glee"]
    local = GLEE.local_files(data_root)
    assert record["state"] == "unverified" and sorted(record["files"]) == sorted(local)
    assert {st["state"] for st in record["files"].values()} == {"unverified"}
    assert len(reads) == len(local) and set(reads.values()) == {1}, "a data file was hashed more than once"


def _glee_with_listing(glee_root: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """A data directory with two negotiation games of the local copy and a listing of exactly them."""
    games = sorted(p.parent for p in (glee_root / "human_vs_llm" / "negotiation").rglob("config.json")
                   if (p.parent / "game.csv").is_file())[:2]
    data = tmp_path / "glee_data"
    entries = []
    for game in games:
        for name in ("game.csv", "config.json"):
            rel = (game / name).relative_to(glee_root / "human_vs_llm").as_posix()
            dest = data / "glee" / "human_vs_llm" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes((game / name).read_bytes())
            entries.append(TreeEntry(rel, dataset_base.git_blob_sha(dest.read_bytes()), dest.stat().st_size))
    GLEE._write_listing(data / "glee", "0" * 40, entries)
    return data, [f"human_vs_llm/{e.rel}" for e in entries]


def test_glee_with_its_listing_is_verified_and_a_changed_or_extra_file_refused(tmp_path, glee_root):
    data, rels = _glee_with_listing(glee_root, tmp_path)
    record = verify.verify_dataset("glee", data)
    assert record.state == "verified" and sorted(c.rel for c in record.files) == sorted(rels)
    changed = data / "glee" / rels[0]
    changed.write_bytes(changed.read_bytes() + b"\n")
    with pytest.raises(verify.ModifiedDataError, match=f"{rels[0]}: checksum mismatch.*gamereplay data fetch glee"):
        verify.verify_dataset("glee", data)
    changed.write_bytes(changed.read_bytes()[:-1])
    extra = data / "glee" / "human_vs_llm" / "negotiation" / "0" / "0" / "0" / "000EXTRA" / "game.csv"
    extra.parent.mkdir(parents=True)
    extra.write_bytes(changed.read_bytes())
    with pytest.raises(verify.ModifiedDataError, match="000EXTRA/game.csv: not in the upstream listing.*remove"):
        verify.verify_dataset("glee", data)
    (data / "glee" / rels[1]).unlink()
    allowed = verify.verify_dataset("glee", data, allow_modified=True)
    assert allowed.state == "modified" and {c.state for c in allowed.problems} == {
        "missing", "not in the upstream listing"}


# -- no silent partial data ---------------------------------------------------------------------------
def test_a_row_cut_short_is_bad_data_naming_file_and_row(tmp_path, akata_copy, capsys):
    csv_file = akata_copy / AKATA.name / "repgames.csv"
    text = csv_file.read_text()
    csv_file.write_text(text + "103,PD,0,10,Promp")
    assert _run(tmp_path, akata_copy, "--allow-modified-data") == ExitCode.BAD_INPUT
    err = capsys.readouterr().err.strip()
    rows = text.count("\n") + 1  # the header is row 1, the cut row comes after every line
    assert "\n" not in err and err.startswith("gamereplay: bad data:")
    assert f"repgames.csv, row {rows}, field 'opponent'" in err and "cut short" in err


def test_a_header_only_file_ends_in_one_line_and_claims_no_results(tmp_path, akata_copy, capsys):
    csv_file = akata_copy / AKATA.name / "repgames.csv"
    csv_file.write_text(csv_file.read_text().splitlines()[0] + "\n")
    assert _run(tmp_path, akata_copy, "--allow-modified-data") == ExitCode.BAD_INPUT
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "\n" not in err and "repeated_matrix has no decision to score" in err and "data_report.txt" in err
    assert "results in" not in captured.out
    run = tmp_path / "run"
    assert (run / "data_report.txt").exists()
    assert not any((run / n).exists() for n in ("predictions.parquet", "metrics.csv", "metrics_by_round.png"))


def test_a_selection_that_keeps_nothing_ends_in_one_line(tmp_path, akata_copy, capsys):
    assert _run(tmp_path, akata_copy, cfg=_config(tmp_path, games=["chess"])) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "keeps no decision to score" in err and "chess" in err
    assert not (tmp_path / "run" / "predictions.parquet").exists()


def test_a_run_that_scored_nothing_exits_1_and_lists_no_results(tmp_path, akata_copy, monkeypatch, capsys):
    from predictors.baselines import Uniform

    def boom(self, batch):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(Uniform, "predict", boom)
    assert _run(tmp_path, akata_copy) == ExitCode.PREDICTOR_FAILED
    captured = capsys.readouterr()
    assert "nothing was scored: 1 predictor(s) failed" in captured.err and "results in" not in captured.out
    assert "simulated failure" in (tmp_path / "run" / "errors.txt").read_text()
    assert cli.main(["report", str(tmp_path / "run")]) == ExitCode.BAD_INPUT
    assert "the run scored nothing" in capsys.readouterr().err
