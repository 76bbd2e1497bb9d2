"""`gamereplay report`: the page is self-contained, every figure is present and loads in a real browser, and
every run gets a report — with or without pairs, for every shipped config — whose numbers carry intervals."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import report_figures as figs
from analysis.calibration import reliability
from analysis.ceiling import split_half_ceiling
from analysis.normative_bias import INTERVAL_COLUMNS, closer_to_normative, normative_bias
from analysis.pairs import Pair
from analysis.report import FIGURES, analyse, write_report
from analysis.intervals import r_table
from envs.records import DecisionPoint, write_decisions
from predictors.base import Prediction
from predictors.table import to_frame, to_rows
from sim.cli import main

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "configs").glob("*.yaml"))
CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="headless Chromium not installed (apt-get install chromium)")


def _decisions(rng: np.random.Generator) -> list[DecisionPoint]:
    """Two families, 30 people, 5 rounds each; the affirmative action grows likelier with the round."""
    dps = []
    for fam, actions in (("fam_a", ("accept", "reject")), ("fam_b", ("J", "F"))):
        for person in range(30):
            for rnd in range(1, 6):
                act = actions[0] if rng.random() < 0.4 + 0.08 * rnd else actions[1]
                dps.append(DecisionPoint(f"{fam}/{person}/r{rnd}", f"{fam}/{person}", fam, "g", str(person), "p",
                                         rnd, actions, act, actions[0], {"stakes": 100 * (person % 3 + 1)}, ()))
    return dps


def _write_run(run: Path, dps: list[DecisionPoint], signals: dict[str, np.ndarray], config: dict) -> Path:
    """A run directory as `gamereplay run` leaves it, with p(affirmative) = ``signals[name]`` per predictor."""
    rows = []
    for name, p in signals.items():
        preds = [Prediction(dp.decision_id, {dp.legal_actions[0]: float(q), dp.legal_actions[1]: float(1 - q)},
                            {"mass": 0.9} if name in ("base", "aligned") else {})
                 for dp, q in zip(dps, np.clip(p, 0, 1))]
        rows += to_rows(name, dps, preds)
    to_frame(rows).to_parquet(run / "predictions.parquet", index=False)
    write_decisions(dps, run / "decisions.jsonl")
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    return run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A small run the test builds: two families, a base/aligned pair both also under a history intervention,
    the normative rule, and counterfactual play (people and one predictor's players, built by the test)."""
    rng = np.random.default_rng(0)
    dps = _decisions(rng)
    y = np.array([dp.human_action == dp.affirmative for dp in dps], float)
    signals = {"base": 0.6 * y + 0.4 * rng.random(len(dps)), "aligned": 0.2 * y + 0.8 * rng.random(len(dps)),
               "normative": (rng.random(len(dps)) < 0.5).astype(float)}
    signals.update({f"{m}@no-history": 0.5 * signals[m] + 0.25 for m in ("base", "aligned")})
    probes = []  # linear probes of the base model at two layers, with both controls: stronger than its output
    for layer, block in ((0.5, 2), (1.0, 4)):
        for control, signal in (("none", 0.8 * y + 0.2 * rng.random(len(dps))),
                                ("random-init", 0.5 * y + 0.5 * rng.random(len(dps))),
                                ("shuffled", rng.random(len(dps)))):
            name = f"probe:base:{layer}" + ("" if control == "none" else f":{control}")
            signals[name] = signal
            probes.append({"name": name, "class": "Probe", "category": "probe", "model": "base", "layer": layer,
                           "block": block, "depth": 4, "control": control})
    run = _write_run(tmp_path_factory.mktemp("run"), dps, signals, {
        "name": "synthetic", "description": "built by the test",
        "pairs": [{"base": "base", "aligned": "aligned", "label": "synthetic pair", "matched": False}],
        "analysis": {"bootstrap": 200},
        "resolved": {"predictors": [{"name": f"{m}@no-history", "base_predictor": m, "intervention": "no-history"}
                                    for m in ("base", "aligned")] + probes}})
    _write_simulation(run, rng)
    return run


def _write_simulation(run: Path, rng: np.random.Generator) -> None:
    """``simulation_by_round.csv`` / ``simulation_totals.csv`` of 20 people and 20 players of 5 rounds."""
    from analysis.simulated import compare
    from envs.records import Event, Trajectory

    def trajectories(p_j: float, who: str) -> list:
        out = []
        for i in range(20):
            ev = []
            for r in range(1, 6):
                me, other = ("J" if rng.random() < p_j else "F"), ("J" if rng.random() < 0.5 else "F")
                ev += [Event(r, "human", me, 3.0 if me == other else 1.0), Event(r, "opponent", other, 1.0)]
            out.append(Trajectory(f"{who}{i}", "fam_b", "g", f"{who}{i}", "p", {}, tuple(ev)))
        return out

    by_round, totals = compare(trajectories(0.6, "p"), {"base": trajectories(0.3, "s")}, {"g": "J"}, n_boot=100)
    by_round.to_csv(run / "simulation_by_round.csv", index=False)
    totals.to_csv(run / "simulation_totals.csv", index=False)


@pytest.fixture(scope="module")
def run_without_pairs(tmp_path_factory):
    """What the quickstart leaves: no `pairs:`, no normative predictor, and a constant predictor (no r)."""
    rng = np.random.default_rng(1)
    dps = _decisions(rng)
    y = np.array([dp.human_action == dp.affirmative for dp in dps], float)
    signals = {"tracker": 0.5 * y + 0.5 * rng.random(len(dps)), "uniform": np.full(len(dps), 0.5)}
    return _write_run(tmp_path_factory.mktemp("nopairs"), dps, signals,
                      {"name": "no-pairs", "description": "like the quickstart", "analysis": {"bootstrap": 200}})


def _figures_on_page(page: str) -> dict[str, str]:
    """Figure id -> 'img' (a valid embedded PNG) or the reason printed where it was not drawn."""
    found = {}
    for fid, body in re.findall(r"<figure id='([^']+)'[^>]*>(.*?)</figure>", page, flags=re.S):
        m = re.search(r"src='data:image/png;base64,([^']+)'", body)
        if m:
            assert base64.b64decode(m.group(1))[:8] == b"\x89PNG\r\n\x1a\n", fid
            found[fid] = "img"
        else:
            why = re.search(r"Not drawn: (.+?)</p>", body)
            assert why and why.group(1).strip(". "), f"figure {fid} is neither drawn nor explained"
            found[fid] = why.group(1)
    return found


def _load_in_chromium(html_path: Path) -> tuple[int, int]:
    """(figures loaded, images on the page) as the page's own load script counts them in headless Chromium."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom",
           html_path.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'data-figures-loaded="(\d+)/(\d+)"', dom)
    assert m, "the page's load script did not run"
    return int(m.group(1)), int(m.group(2))


def test_report_is_self_contained_with_every_figure(run_dir):
    html_path, md_path = write_report(run_dir)
    page = html_path.read_text()
    assert _figures_on_page(page) == {fid: "img" for fid, _, _ in FIGURES}
    assert "http://" not in page and "https://" not in page  # nothing fetched from elsewhere
    assert "unmatched" in page.lower()
    md = md_path.read_text()
    assert "## Metrics per family" in md and "synthetic" in md and "| base |" in md.replace("|base|", "| base |")


@needs_chromium
def test_page_loads_in_headless_chromium_with_all_figures(run_dir, tmp_path):
    html_path, _ = write_report(run_dir, tmp_path)
    assert _load_in_chromium(html_path) == (len(FIGURES), len(FIGURES))


def test_report_cli(run_dir, tmp_path, capsys):
    assert main(["report", str(run_dir), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.html").exists() and "report.html" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "nothing-here")]) == 2


# --------------------------------------------------------------------------- a run without pairs


def test_run_without_pairs_gets_a_report_of_what_it_has(run_without_pairs, tmp_path):
    html_path, md_path = write_report(run_without_pairs, tmp_path)
    page, md = html_path.read_text(), md_path.read_text()
    figures = _figures_on_page(page)
    assert {fid for fid, kind in figures.items() if kind == "img"} == {"fig-r", "fig-models", "fig-model-rounds",
                                                                       "fig-rounds", "fig-calibration"}
    assert "fig-pairs" not in figures and "fig-sensitivity" not in figures  # a line instead of empty panels
    for text in (page, md):
        assert "need `pairs:` in the run config" in text
        assert "predictor named `normative`" in text
    # the constant predictor's row says why it has no r instead of showing a blank
    row = re.search(r"<tr>\s*<td>fam_a</td>\s*<td>uniform</td>(.*?)</tr>", page, flags=re.S)
    assert row and "constant prediction" in row.group(1)
    assert re.search(r"\| fam_a \| tracker \| 150 \| 30 \| 0\.\d{3} \[0\.\d\d, 0\.\d\d\] \|", md)


def test_metrics_carry_participant_intervals(run_without_pairs):
    data = analyse(run_without_pairs)
    h = data.headline.set_index(["family", "predictor"])
    tracker = h.loc[("fam_a", "tracker")]
    assert tracker["n_participants"] == 30
    assert tracker["r_ci_low"] < tracker["pearson_r"] < tracker["r_ci_high"]
    assert np.isnan(h.loc[("fam_a", "uniform"), "pearson_r"])
    assert h.loc[("fam_a", "uniform"), "r_note"] == "constant prediction"
    rounds = data.round_r[data.round_r["predictor"] == "tracker"]
    assert sorted(rounds["round"].unique()) == [1, 2, 3, 4, 5]
    ok = rounds.dropna(subset=["r_ci_low"])
    assert len(ok) >= 8 and ((ok["r_ci_low"] <= ok["pearson_r"]) & (ok["pearson_r"] <= ok["r_ci_high"])).all()
    cal = data.calibration[(data.calibration["predictor"] == "tracker") & (data.calibration["n"] >= 20)]
    assert len(cal) and ((cal["observed_ci_low"] <= cal["observed_rate"])
                         & (cal["observed_rate"] <= cal["observed_ci_high"])).all()


def _copies_of_one_person(k: int) -> pd.DataFrame:
    """k participants who made exactly the same 6 decisions with the same predictions."""
    p = np.array([0.1, 0.3, 0.5, 0.6, 0.8, 0.9])
    y = np.array([0, 0, 1, 0, 1, 1], float)
    return pd.DataFrame({"family": "f", "predictor": "m", "participant_id": np.repeat(np.arange(k), 6),
                         "p_affirmative": np.tile(p, k), "human_rate": np.tile(y, k),
                         "human_affirmative": np.tile(y, k), "decision_id": np.arange(6 * k)})


def test_intervals_resample_people_not_decisions():
    """Identical people: every participant resample is the same data set, so the interval collapses onto the
    estimate (a resample of decisions would not)."""
    t = r_table(_copies_of_one_person(20), ("family", "predictor"), n_boot=300, seed=0).iloc[0]
    assert t["r_ci_low"] == pytest.approx(t["pearson_r"]) and t["r_ci_high"] == pytest.approx(t["pearson_r"])
    assert t["n_participants"] == 20 and t["r_note"] == ""
    rel = reliability(_copies_of_one_person(20), bins=5, n_boot=300)
    full = rel[rel["n"] > 0]
    assert np.allclose(full["observed_ci_low"], full["observed_rate"])
    assert np.allclose(full["observed_ci_high"], full["observed_rate"])
    rel_rows = reliability(_copies_of_one_person(20), bins=5)  # without n_boot: the documented columns only
    assert "observed_ci_low" not in rel_rows


def test_r_table_says_why_r_is_missing():
    df = _copies_of_one_person(10)
    const = df.assign(p_affirmative=0.5)
    alike = df.assign(human_rate=1.0)
    assert r_table(const, ("predictor",), 100).iloc[0]["r_note"] == "constant prediction"
    assert r_table(alike, ("predictor",), 100).iloc[0]["r_note"] == "people all chose alike"
    assert r_table(df.iloc[:1], ("predictor",), 100).iloc[0]["r_note"] == "fewer than 2 decisions"
    assert np.isnan(r_table(const, ("predictor",), 100).iloc[0]["r_ci_low"])


def test_normative_intervals_are_not_taken_for_groups(run_dir):
    preds = pd.read_parquet(run_dir / "predictions.parquet")
    bias = normative_bias(preds, n_boot=100)
    assert set(INTERVAL_COLUMNS) <= set(bias.columns)
    finite = bias.dropna(subset=["r_with_normative_ci_low"])
    assert ((finite["r_with_normative_ci_low"] <= finite["r_with_normative"])
            & (finite["r_with_normative"] <= finite["r_with_normative_ci_high"])).all()
    closer = closer_to_normative(bias, [Pair("base", "aligned")])
    assert list(closer["family"]) == ["fam_a", "fam_b"]  # one row per family, the CI columns are not groups


def test_empty_figures_say_why():
    with pytest.raises(figs.NothingToShow, match="pairs:"):
        figs.pair_scatter(pd.DataFrame())
    with pytest.raises(figs.NothingToShow, match="normative"):
        figs.normative_bias_bars(pd.DataFrame())
    constant = pd.DataFrame({"family": "f", "predictor": "uniform", "round": [1, 2], "pearson_r": np.nan,
                             "r_ci_low": np.nan, "r_ci_high": np.nan, "r_note": "constant prediction"})
    with pytest.raises(figs.NothingToShow, match="constant prediction: uniform"):
        figs.r_by_round(constant)
    fig = figs.r_by_round(pd.concat([constant, constant.assign(family="g", predictor="m", pearson_r=[0.2, 0.3],
                                                               r_ci_low=0.0, r_ci_high=0.5, r_note="")]))
    said = [t.get_text().replace("\n", " ") for ax in fig.axes for t in ax.texts]
    assert any("constant prediction: uniform" in t for t in said)  # the empty panel says why, the other draws
    assert any(line.get_label() == "m" for ax in fig.axes for line in ax.lines)


def test_ceiling_of_a_handful_of_problems_is_never_infinite():
    """Three problems: some simulated halves correlate at exactly -1, which Spearman–Brown cannot correct."""
    res = split_half_ceiling([0.2, 0.5, 0.8], [4, 4, 4], draws=500, seed=0)
    assert all(np.isfinite(res[k]) for k in ("ceiling", "ci_low", "ci_high"))


# --------------------------------------------------------------------------- every shipped config


def _cheap_config(path: Path, data_root: Path, out: Path) -> Path | None:
    """A copy of a shipped config that runs in seconds: each LLM replaced by a cheap predictor under the
    LLM's name (so `pairs:` still resolve: base -> population-rate, aligned -> normative, which differ),
    at most two pairs, only families whose data is on this machine; None when none is."""
    from envs.registry import get_family
    from sim.datasets import DatasetError, family_folder

    raw = yaml.safe_load(path.read_text())
    fams = raw["data"]["family"] if isinstance(raw["data"]["family"], list) else [raw["data"]["family"]]
    here = []
    for fam in fams:
        try:
            family_folder(get_family(fam), data_root)
            here.append(fam)
        except DatasetError:
            pass
    if not here:
        return None
    raw["data"]["family"] = here
    if isinstance(raw["data"].get("participants"), dict):
        raw["data"]["participants"] = {k: v for k, v in raw["data"]["participants"].items() if k in here}
    pairs = (raw.get("pairs") or [])[:2]
    aligned = {p["aligned"] for p in pairs}
    in_pairs = aligned | {p["base"] for p in pairs}
    preds = []
    for i, p in enumerate(raw["predictors"]):
        if p["type"] == "probe":
            continue  # a probe runs its model (tests/test_probe.py); here its section says what it needs
        if p["type"] != "llm":
            preds.append(p)
            continue
        name = p.get("name") or p["model"]
        if pairs and name not in in_pairs:
            continue
        stand_in = {"type": "normative", "epsilon": 0.1} if name in aligned or (not pairs and i % 2) \
            else {"type": "population-rate"}
        preds.append({**stand_in, "name": name})
    raw.update(predictors=preds, analysis={**(raw.get("analysis") or {}), "bootstrap": 100})
    if pairs:
        raw["pairs"] = pairs
    cfg = out / path.name
    cfg.write_text(yaml.safe_dump(raw))
    return cfg


@pytest.mark.parametrize("config", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_config_gets_a_report(config, data_root, tmp_path):
    cheap = _cheap_config(config, data_root, tmp_path)
    if cheap is None:
        pytest.skip(f"no data for any family of {config.name} here")
    run = tmp_path / "run"
    assert main(["run", str(cheap), "--out", str(run), "--limit", "2", "--quiet", "--data-dir", str(data_root)]) == 0
    html_path, md_path = write_report(run)
    page = html_path.read_text()
    figures = _figures_on_page(page)
    assert figures["fig-r"] == figures["fig-models"] == "img" and {"fig-rounds", "fig-calibration"} <= set(figures)
    has_pairs = bool(yaml.safe_load(cheap.read_text()).get("pairs"))
    assert ("fig-pairs" in figures) == has_pairs
    assert has_pairs or "need `pairs:` in the run config" in page
    assert not re.search(r">-?inf<|>nan<", page, flags=re.I)  # no raw non-numbers in a table
    if CHROMIUM:
        loaded, total = _load_in_chromium(html_path)
        assert loaded == total == sum(kind == "img" for kind in figures.values())
