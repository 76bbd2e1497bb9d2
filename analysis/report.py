"""`gamereplay report RUN_DIR`: one self-contained HTML page (figures embedded) and a Markdown summary.

Reads what a run left — ``predictions.parquet``, ``decisions.jsonl`` and the
``config.yaml`` manifest (model pairs, analysis thresholds) — and puts the
study's comparisons side by side: metrics per family, equilibrium vs learning vs LLMs
(held-out NLL per participant by kind of model, round 1 vs later rounds, round by round;
``analysis.model_comparison``), base-vs-aligned pairs
(scatter, win counts with p-values, the filter sensitivity grid, round 1 vs later
rounds), normative bias, r by round and calibration.  Nothing is recomputed from
models; every number comes from the predictions table, so a report can be rebuilt
at any time from a finished (or partly finished) run.

Every run gets a report of what it has: a run without ``pairs:`` (the quickstart) or
without a ``normative`` predictor gets a line saying what those panels need instead of
the panels, and a figure with nothing to draw says why in its place.  Correlations
carry participant-bootstrap intervals (:mod:`analysis.intervals`).
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analysis import report_figures as figs
from analysis.metrics import metrics_table
from analysis.intervals import r_table

HEADLINE = ["family", "predictor", "n", "n_participants", "r_within", "r_within_ci_low", "r_within_ci_high",
            "pearson_r", "r_ci_low", "r_ci_high", "accuracy", "log_loss_eps", "log_loss_eps_ci_low",
            "log_loss_eps_ci_high", "log_loss", "n_clipped", "brier", "mean_mass", "r_note"]
SECONDARY_BOOT = 1000  # resamples for the per-round, calibration and normative-bias intervals (many small groups)


@dataclass
class ReportData:
    """Everything the report shows, as plain tables (also what the Markdown summary is made of)."""

    run_dir: Path
    config: dict[str, Any]
    headline: pd.DataFrame
    metrics: pd.DataFrame
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    wins: pd.DataFrame = field(default_factory=pd.DataFrame)
    wins_unfiltered: pd.DataFrame = field(default_factory=pd.DataFrame)
    grid: pd.DataFrame = field(default_factory=pd.DataFrame)
    rounds: pd.DataFrame = field(default_factory=pd.DataFrame)
    bias: pd.DataFrame = field(default_factory=pd.DataFrame)
    closer: pd.DataFrame = field(default_factory=pd.DataFrame)
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    ceiling: pd.DataFrame = field(default_factory=pd.DataFrame)
    round_r: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: held-out NLL by family × phase × predictor, and by round (``analysis.model_comparison``)
    models: pd.DataFrame = field(default_factory=pd.DataFrame)
    model_rounds: pd.DataFrame = field(default_factory=pd.DataFrame)
    fitted: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: history interventions (``analysis.interventions``): effects over all rounds and by round, pairs' DiD
    interventions: pd.DataFrame = field(default_factory=pd.DataFrame)
    intervention_rounds: pd.DataFrame = field(default_factory=pd.DataFrame)
    did: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: counterfactual play (``simulate:``): people vs simulated players, by round and in total
    simulation: pd.DataFrame = field(default_factory=pd.DataFrame)
    simulation_totals: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: linear probes against the models' outputs, per family × model × layer (``analysis.probes``)
    probes: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    #: why a section has no panels (section name -> one line), e.g. pairs without ``pairs:`` in the config
    missing: dict[str, str] = field(default_factory=dict)


def load_run(run_dir: str | Path) -> tuple[pd.DataFrame, list, dict[str, Any]]:
    """(predictions, decisions, manifest) of a run directory, with a clear error when it is not one."""
    run = Path(run_dir)
    path = run / "predictions.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{run}: no predictions.parquet — is this a run directory of `gamereplay run`?")
    from predictors.table import upgrade

    predictions = upgrade(pd.read_parquet(path))
    manifest = yaml.safe_load((run / "config.yaml").read_text()) if (run / "config.yaml").exists() else {}
    decisions = []
    if (run / "decisions.jsonl").exists():
        from envs.records import read_decisions

        decisions = read_decisions(run / "decisions.jsonl")
    return predictions, decisions, manifest or {}


def _pair_specs(manifest: dict[str, Any], present: set[str], data: ReportData) -> list:
    """The configured pairs whose two predictors both have predictions; notes or a section line for the rest."""
    from analysis.pairs import Pair

    configured = manifest.get("pairs") or []
    specs = [Pair(base=p["base"], aligned=p["aligned"], label=p.get("label", ""), provider=p.get("provider", ""),
                  matched=bool(p.get("matched", True)))
             for p in configured if p["base"] in present and p["aligned"] in present]
    if not configured:
        data.missing["pairs"] = ("Pair panels (base vs aligned scatter, win counts, filter sensitivity, round 1 vs "
                                 "later rounds) need `pairs:` in the run config — a list of `{base: NAME, aligned: "
                                 "NAME}` predictor names. This run has none.")
    elif not specs:
        data.missing["pairs"] = (f"None of the {len(configured)} configured pair(s) has predictions for both models "
                                 "in this run (a predictor failed or has not run yet), so there are no pair panels.")
    elif len(specs) < len(configured):
        data.notes.append(f"{len(configured) - len(specs)} configured pair(s) lack predictions (a predictor failed "
                          "or has not run yet) and are left out.")
    if any(not p.matched for p in specs):
        data.notes.append("Pairs marked unmatched (different providers or sizes) are shown for illustration; "
                          "the study's design would exclude them.")
    return specs


def analyse(run_dir: str | Path) -> ReportData:
    """Compute every table the report shows."""
    from analysis import calibration, ceiling, interventions, model_comparison, normative_bias, pairs as pairs_mod

    predictions, decisions, manifest = load_run(run_dir)
    settings = {"mass_threshold": 0.8, "r_threshold": 0.3, "bootstrap": 5000, "seed": 0,
                **(manifest.get("analysis") or {})}
    n_boot, seed = int(settings["bootstrap"]), int(settings["seed"])
    small_boot = min(n_boot, SECONDARY_BOOT)
    by_round = metrics_table(predictions, by=("family",)).assign(game="all")
    per_family = by_round[(by_round["round"] == "all") & (by_round["family"] != "all")]
    headline = per_family.drop(columns=["pearson_r", "n"]).merge(
        r_table(predictions, ("family", "predictor"), n_boot, seed), on=["family", "predictor"], how="left")
    data = ReportData(Path(run_dir), manifest, headline[HEADLINE].reset_index(drop=True), by_round, settings=settings)
    data.round_r = r_table(predictions, ("family", "predictor", "round"), small_boot, seed)
    kinds = model_comparison.categories(manifest)
    data.models = model_comparison.comparison(predictions, decisions, kinds, n_boot, seed)
    data.model_rounds = model_comparison.round_nll(predictions, decisions, kinds, small_boot, seed)
    data.fitted = model_comparison.fitted_parameters(manifest)
    which = interventions.interventions_of(manifest, set(predictions["predictor"]))
    if which.empty:
        data.missing["interventions"] = (
            "The history-interventions panel compares a predictor on changed histories with itself on the real "
            "ones: give a predictor `intervention: [none, no-history, last-1, shuffle, opponent-flip]` in the run "
            "config (envs/interventions.py lists them). This run has none.")
    else:
        data.interventions = interventions.effects(predictions, which, decisions, ("family",), n_boot, seed)
        data.intervention_rounds = interventions.effects(predictions, which, decisions, ("family", "round"),
                                                         small_boot, seed)
    present = set(predictions["predictor"])
    pair_specs = _pair_specs(manifest, present, data)
    if pair_specs:
        table = pairs_mod.pair_table(predictions, pair_specs, by=("family",), n_boot=n_boot, seed=seed)
        table = pairs_mod.apply_filters(table, settings["mass_threshold"], settings["r_threshold"])
        data.pairs = table
        data.wins = pairs_mod.win_summary(table, n_boot=n_boot, seed=seed)
        data.wins_unfiltered = pairs_mod.win_summary(pairs_mod.apply_filters(table, -1.0, -1.0), n_boot=n_boot,
                                                     seed=seed)
        data.grid = pairs_mod.sensitivity_grid(table)
        if not which.empty:
            data.did = interventions.difference_of_differences(predictions, which, pair_specs, decisions,
                                                               ("family",), n_boot, seed)
        rounds = pairs_mod.round_breakdown(predictions, pair_specs, n_boot=small_boot, seed=seed)
        data.rounds = rounds[rounds["split"] == "first vs later"].drop(columns=["split"])
    if "normative" in present:
        data.bias = normative_bias.normative_bias(predictions, normative="normative", n_boot=small_boot, seed=seed)
        if pair_specs:
            data.closer = normative_bias.closer_to_normative(data.bias, pair_specs)
    else:
        data.missing["normative"] = ("The normative-bias panel compares each predictor with a predictor named "
                                     "`normative` (`type: normative` in the run config). This run has none.")
    run = Path(run_dir)
    if (run / "simulation_by_round.csv").exists():
        data.simulation = pd.read_csv(run / "simulation_by_round.csv")
        data.simulation_totals = pd.read_csv(run / "simulation_totals.csv")
    else:
        data.missing["simulation"] = (
            "Counterfactual play puts a predictor in the human's seat against the opponent people faced: add "
            "`simulate: {predictors: [NAME, ...]}` to the run config. This run has none.")
    from analysis.probes import probe_table

    data.probes = probe_table(predictions, decisions, manifest, small_boot, seed)
    if data.probes.empty:
        data.missing["probes"] = (
            "Probes read how people play from a model's hidden states at each decision: add `type: probe` with "
            "`model:` and `layers: [0.25, 0.5, 0.75, 1.0]` (and `control: shuffled` / `random-init` beside it) to "
            "the run config (configs/probes.yaml). This run has none.")
    data.calibration = calibration.reliability(predictions, bins=10, n_boot=small_boot, seed=seed)
    if predictions["is_rate"].any():
        data.ceiling = ceiling.ceiling_table(predictions, decisions)
    return data


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _merge_ci(df: pd.DataFrame, value: str, lo: str, hi: str) -> pd.DataFrame:
    """``value``, ``lo`` and ``hi`` as one text column ``value [95% CI]`` — a number is never shown without
    its interval, and a reader does not have to pair three columns by eye."""
    if df.empty or value not in df:
        return df

    def cell(v: float, a: float, b: float) -> str:
        if not np.isfinite(v):
            return "–"
        return f"{v:.3f} [{a:.2f}, {b:.2f}]" if np.isfinite(a) and np.isfinite(b) else f"{v:.3f} [–]"

    out = df.copy()
    out[value] = [cell(v, a, b) for v, a, b in zip(out[value].astype(float), out[lo].astype(float),
                                                     out[hi].astype(float))]
    return out.drop(columns=[lo, hi]).rename(columns={value: f"{value} [95% CI]"})


def headline_display(data: ReportData) -> pd.DataFrame:
    """The metrics table as shown: each r and the smoothed log-loss with its interval in one cell, headers that
    say which r is which (``analysis.metrics``); why r is missing, where it is."""
    out = _merge_ci(data.headline, "r_within", "r_within_ci_low", "r_within_ci_high")
    out = _merge_ci(out, "pearson_r", "r_ci_low", "r_ci_high")
    out = _merge_ci(out, "log_loss_eps", "log_loss_eps_ci_low", "log_loss_eps_ci_high")
    out = out.rename(columns={"r_within [95% CI]": "r within game & round [95% CI]",
                              "pearson_r [95% CI]": "r pooled over games [95% CI]",
                              "log_loss_eps [95% CI]": "log-loss, ε = 0.01 [95% CI]",
                              "log_loss": "log-loss (clip 1e-6)", "n_clipped": "at the clip"})
    if "r_note" in out:
        out = out.rename(columns={"r_note": "why no r / no interval"}) if out["r_note"].astype(bool).any() \
            else out.drop(columns=["r_note"])
    return out


def bias_display(data: ReportData) -> pd.DataFrame:
    """The normative-bias table as shown: each correlation with its interval in one cell."""
    from analysis.normative_bias import CORRELATIONS

    out = data.bias
    for c in CORRELATIONS:
        if f"{c}_ci_low" in out:
            out = _merge_ci(out, c, f"{c}_ci_low", f"{c}_ci_high")
    return out


def _table_html(df: pd.DataFrame, caption: str = "") -> str:
    if df is None or df.empty:
        return f"<p class='empty'>{html.escape(caption or 'nothing to show')}: no rows.</p>"
    return "<div class='scroll'>" + df.to_html(index=False, float_format=lambda x: f"{x:.3f}", na_rep="–", border=0,
                                               classes="t", escape=True) + "</div>"


def _md_table(df: pd.DataFrame) -> str:
    if df is None or df.empty:
        return "(no rows)\n"
    cols = list(df.columns)

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "–" if pd.isna(v) else f"{v:.3f}"
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


FIGURES = [
    ("fig-r", "Pearson r of each predictor with people and its 95% participant-bootstrap interval",
     lambda d: figs.r_forest(d.headline)),
    ("fig-models", "Held-out negative log-likelihood per choice of every predictor, averaged over participants, with "
                   "95% participant-bootstrap intervals; colour: kind of model; round 1 (no history yet), rounds 2+ "
                   "and all rounds",
     lambda d: figs.nll_forest(d.models)),
    ("fig-model-rounds", "NLL per choice round by round (95% participant-bootstrap bands): where each kind of model "
                         "describes people and where it fails",
     lambda d: figs.nll_by_round(d.model_rounds)),
    ("fig-interventions", "What each predictor loses under each history intervention, round by round: Δr and ΔNLL "
                          "per choice against its unmodified prompt (95% participant-bootstrap bands)",
     lambda d: figs.intervention_effects(d.intervention_rounds)),
    ("fig-simulation", "People (black) and each predictor's simulated players, round by round: the share choosing "
                       "the affirmative action, repeating the opponent's previous move, and choosing as the "
                       "opponent did (95% intervals, resampling people and players)",
     lambda d: figs.simulation_curves(d.simulation)),
    ("fig-pairs", "Base vs aligned r, one point per pair (below the diagonal: the base model describes people "
                  "better); the segment across each point is the 95% interval of the difference",
     lambda d: figs.pair_scatter(d.pairs)),
    ("fig-rounds", "Pearson r by round for each predictor, with 95% participant-bootstrap bands",
     lambda d: figs.r_by_round(d.round_r)),
    ("fig-normative", "Normative bias: each predictor's correlation with the normative prediction (95% intervals); "
                      "dashed: the normative prediction's own r with people",
     lambda d: figs.normative_bias_bars(d.bias)),
    ("fig-sensitivity", "Filter sensitivity: base:aligned wins over mass and r thresholds",
     lambda d: figs.sensitivity_heatmaps(d.grid)),
    ("fig-probes", "Linear probes: r with people of a logistic regression on each layer's hidden state at the "
                   "decision (cross-fitted over participants), against relative depth, with 95% participant-"
                   "bootstrap intervals; dash-dot: the model's own output; dashed: the same probe on a randomly "
                   "initialised model; dotted: on shuffled labels; grey: feature-logit on the history features",
     lambda d: figs.layer_curves(d.probes)),
    ("fig-calibration", "Calibration (reliability curves; bars: 95% interval of the observed rate)",
     lambda d: figs.calibration_curves(d.calibration)),
]


def _figure(fid: str, data: ReportData) -> str:
    """One figure as an embedded PNG, or — when it has nothing to draw — a line saying why."""
    caption, make = next((c, m) for f, c, m in FIGURES if f == fid)
    try:
        png = _png(make(data))
    except figs.NothingToShow as why:
        return (f"<figure id='{fid}' class='empty'><p class='empty'>Not drawn: {html.escape(str(why))}.</p>"
                f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    return (f"<figure id='{fid}'><img alt='{html.escape(caption)}' src='data:image/png;base64,{png}'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _missing(data: ReportData, section: str) -> str:
    return f"<p class='empty'>{html.escape(data.missing[section])}</p>"


def _pairs_html(data: ReportData) -> str:
    if "pairs" in data.missing:
        return _missing(data, "pairs")
    return (_figure("fig-pairs", data) + "<h3>Per pair</h3>" + _table_html(data.pairs, "pairs")
            + f"<h3>Win counts and tests (pairs kept: both models' mass ≥ {data.settings['mass_threshold']:g}, "
              f"not both r < {data.settings['r_threshold']:g})</h3>" + _table_html(data.wins, "wins")
            + "<h3>Win counts without filters</h3>" + _table_html(data.wins_unfiltered, "wins")
            + "<h3>Round 1 vs later rounds</h3>" + _table_html(data.rounds, "rounds")
            + _figure("fig-sensitivity", data))


def _models_html(data: ReportData) -> str:
    from analysis.model_comparison import display, fitted_display

    intro = ("<p>Held-out negative log-likelihood per choice (lower is better): for each participant, the mean of "
             "−log q(what they did) over their decisions, q = 0.99 p + 0.01/k (a trembling hand, so a pure "
             "prediction stays finite), averaged over participants; every fitted model was fitted on other "
             "participants only. A model that scores only some decisions (cognitive hierarchy and level-k model "
             "one-shot play: round 1) is compared where it scored; its other cells read –. Uniform chance is "
             "log 2 = 0.693 on two actions.</p>")
    fitted = ("<h3>Fitted parameters across the cross-fitting folds</h3><p>Each fold's parameters were fitted on "
              "the other folds' participants; a wide range means the data pin a parameter down poorly.</p>"
              + _table_html(fitted_display(data.fitted), "fitted parameters")) if not data.fitted.empty else ""
    return intro + _table_html(display(data.models), "model comparison") + _figure("fig-models", data) \
        + _figure("fig-model-rounds", data) + fitted


def interventions_display(data: ReportData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The interventions' effects and the pairs' difference of differences as shown: each change with its
    interval in one cell."""
    eff = _merge_ci(_merge_ci(data.interventions, "delta_r", "delta_r_ci_low", "delta_r_ci_high"),
                    "delta_nll", "delta_nll_ci_low", "delta_nll_ci_high")
    did = _merge_ci(_merge_ci(data.did, "did_nll", "did_nll_ci_low", "did_nll_ci_high"),
                    "did_r", "did_r_ci_low", "did_r_ci_high")
    return eff, did


def _interventions_html(data: ReportData) -> str:
    if "interventions" in data.missing:
        return _missing(data, "interventions")
    eff, did = interventions_display(data)
    intro = ("<p>Each predictor on changed histories against itself on the real ones, on the same decisions: "
             "Δr = r(modified) − r(unmodified) with people, ΔNLL = NLL(modified) − NLL(unmodified) per choice "
             "(positive: it needed what was taken away); intervals resample participants, p: Wilcoxon "
             "signed-rank over participants.</p>")
    pairs = ""
    if not did.empty:
        pairs = ("<h3>Base vs aligned: does the base model lose more? (difference of differences)</h3><p>DiD = "
                 "Δ(base) − Δ(aligned); did_nll &gt; 0 or did_r &lt; 0: the base model loses more.</p>"
                 + _table_html(did, "difference of differences"))
    elif "pairs" not in data.missing:
        pairs = "<p class='empty'>No pair has both of its models under the same intervention.</p>"
    return intro + _table_html(eff, "interventions") + _figure("fig-interventions", data) + pairs


def simulation_display(data: ReportData) -> pd.DataFrame:
    """Each game's totals as shown: people and every predictor's players, the difference with its interval."""
    t = _merge_ci(data.simulation_totals, "mean_total", "total_ci_low", "total_ci_high")
    return _merge_ci(t, "diff", "diff_ci_low", "diff_ci_high")


def _simulation_html(data: ReportData) -> str:
    if "simulation" in data.missing:
        return _missing(data, "simulation")
    later = data.simulation[(data.simulation["source"] != "people") & data.simulation["diff"].notna()]
    summary = later.groupby(["game", "stat", "source"])["diff"].mean().unstack("stat").reset_index() \
        if not later.empty else pd.DataFrame()
    return ("<p>Each predictor played every selected person's games in their seat, against the opponent they "
            "faced; totals are each player's payoff over the game (diff: players − people, with an interval from "
            "resampling both; p: Mann–Whitney U and Kolmogorov–Smirnov). Per-round differences with intervals "
            "are in <code>simulation_by_round.csv</code>.</p>" + _table_html(simulation_display(data), "totals")
            + "<h3>Mean difference from people over rounds (players − people)</h3>"
            + _table_html(summary, "differences") + _figure("fig-simulation", data))


def probes_display(data: ReportData) -> pd.DataFrame:
    """The probe table as the report prints it: every r and NLL with its interval in one cell."""
    t = data.probes.copy()
    for col in ("probe_r", "probe_nll", "output_r", "output_nll", "gap_r", "over_random_r", "shuffled_r",
                "random_init_r", "feature_logit_r"):
        t = _merge_ci(t, col, f"{col}_ci_low", f"{col}_ci_high")
    return t.drop(columns=["relative_depth"])


def _probes_html(data: ReportData) -> str:
    if "probes" in data.missing:
        return _missing(data, "probes")
    intro = ("<p>A probe is a logistic regression from one layer's hidden state at the decision to what the person "
             "did, fitted on other participants only. Probe r well above the output's r (gap > 0) means the model "
             "holds knowledge of how people play that its answer does not show; read it against the controls: "
             "shuffled labels (the probe's floor), a randomly initialised model of the same architecture (what any "
             "representation of the prompt allows) and feature-logit (what the visible history alone explains). "
             "Only the edge over the random model (over_random_r) is knowledge the training put there; a probe "
             "no better than on a random model reads the prompt, not the model.</p>")
    return intro + _table_html(probes_display(data), "probes") + _figure("fig-probes", data)


def _normative_html(data: ReportData) -> str:
    if "normative" in data.missing:
        return _missing(data, "normative")
    closer = ("<h3>Is the aligned model closer to the normative prediction?</h3>" + _table_html(data.closer, "pairs")
              if "pairs" not in data.missing else "")
    return _figure("fig-normative", data) + _table_html(bias_display(data), "normative bias") + closer


STYLE = ("body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}"
         "table.t{border-collapse:collapse;font-size:13px;margin:.5em 0 1.5em}"
         "table.t td,table.t th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}"
         "table.t th{background:#f4f4f4}table.t td{white-space:nowrap}figure{margin:1em 0}img{max-width:100%}"
         ".note{background:#fff6d6;padding:.5em 1em;border-left:4px solid #e0b000}.scroll{overflow-x:auto}"
         "p.empty{color:#555;font-style:italic;background:#f4f4f4;padding:.5em 1em}")


def render_html(data: ReportData) -> str:
    """The self-contained page: CSS inline, every figure a base64 PNG (or a line saying why it is not drawn)."""
    cfg = data.config
    title = f"gamereplay report — {cfg.get('name', data.run_dir.name)}"
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p>{html.escape(str(cfg.get('description', '')))}</p>",
             f"<p>Run directory: <code>{html.escape(str(data.run_dir))}</code>; families: "
             f"{html.escape(', '.join(sorted(data.headline['family'].unique())))}. Intervals are 95% percentile "
             f"intervals over {int(data.settings['bootstrap'])} resamples of participants (at most "
             f"{SECONDARY_BOOT} for the round, calibration and normative-bias panels).</p>"]
    parts += [f"<p class='note'>{html.escape(n)}</p>" for n in data.notes]
    sections = [
        ("Metrics per family", _table_html(headline_display(data), "metrics") + _figure("fig-r", data)
         + ("<h3>Noise ceiling of the human rates</h3>" + _table_html(data.ceiling) if not data.ceiling.empty else "")),
        ("Equilibrium vs learning vs LLMs", _models_html(data)),
        ("History interventions", _interventions_html(data)),
        ("Counterfactual play: people vs simulated players", _simulation_html(data)),
        ("Base vs aligned pairs", _pairs_html(data)),
        ("Normative bias", _normative_html(data)),
        ("Linear probes: knowledge inside vs output", _probes_html(data)),
        ("Round by round", _figure("fig-rounds", data)),
        ("Calibration", _figure("fig-calibration", data)),
    ]
    for head, body in sections:
        parts.append(f"<h2>{html.escape(head)}</h2>{body}")
    parts.append("<script>window.addEventListener('load',function(){var imgs=document.images,ok=0;"
                 "for(var i=0;i<imgs.length;i++){if(imgs[i].complete&&imgs[i].naturalWidth>0)ok++;}"
                 "document.body.setAttribute('data-figures-loaded',ok+'/'+imgs.length);});</script>")
    parts.append("</body></html>")
    return "\n".join(parts)


def render_markdown(data: ReportData) -> str:
    """The headline numbers as Markdown: metrics per family, pairs, win counts, normative bias."""
    out = [f"# gamereplay report — {data.config.get('name', data.run_dir.name)}", ""]
    out += [f"> {n}" for n in data.notes] + [""]
    out += ["## Metrics per family", "", _md_table(headline_display(data))]
    from analysis.model_comparison import display, fitted_display

    out += ["## Equilibrium vs learning vs LLMs (held-out NLL per choice, 95% CI)", "", _md_table(display(data.models))]
    if not data.fitted.empty:
        out += ["### Fitted parameters across the cross-fitting folds", "", _md_table(fitted_display(data.fitted))]
    if not data.ceiling.empty:
        out += ["## Noise ceiling", "", _md_table(data.ceiling)]
    if "pairs" in data.missing:
        out += ["## Base vs aligned pairs", "", data.missing["pairs"], ""]
    else:
        out += ["## Base vs aligned pairs", "", _md_table(data.pairs), "## Win counts (filtered)", "",
                _md_table(data.wins), "## Win counts (no filters)", "", _md_table(data.wins_unfiltered)]
    out += ["## Normative bias", "", data.missing.get("normative") or _md_table(bias_display(data))]
    out += ["## Counterfactual play: people vs simulated players", "",
            data.missing.get("simulation") or _md_table(simulation_display(data))]
    out += ["## Linear probes: knowledge inside vs output", "",
            data.missing.get("probes") or _md_table(probes_display(data))]
    eff, did = interventions_display(data)
    out += ["## History interventions", "", data.missing.get("interventions") or _md_table(eff)]
    if not did.empty:
        out += ["### Base vs aligned: difference of differences", "", _md_table(did)]
    return "\n".join(out)


def write_report(run_dir: str | Path, out_dir: str | Path | None = None) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` (into the run directory unless ``out_dir`` is given)."""
    data = analyse(run_dir)
    out = Path(out_dir) if out_dir else Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    html_path, md_path = out / "report.html", out / "report.md"
    html_path.write_text(render_html(data), encoding="utf-8")
    md_path.write_text(render_markdown(data), encoding="utf-8")
    (out / "report_tables.json").write_text(json.dumps(
        {k: getattr(data, k).to_dict(orient="records")
         for k in ("headline", "models", "interventions", "intervention_rounds", "did", "pairs", "wins", "bias",
                  "probes")},
        default=str, indent=1))
    return html_path, md_path
