"""`gamereplay report RUN_DIR`: one self-contained HTML page (figures embedded) and a Markdown summary.

Reads what a run left — ``predictions.parquet``, ``decisions.jsonl`` and the
``config.yaml`` manifest (model pairs, analysis thresholds) — and puts the
study's comparisons side by side: metrics per family, base-vs-aligned pairs
(scatter, win counts with p-values, the filter sensitivity grid, round 1 vs later
rounds), normative bias, r by round and calibration.  Nothing is recomputed from
models; every number comes from the predictions table, so a report can be rebuilt
at any time from a finished (or partly finished) run.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from analysis import report_figures as figs
from analysis.metrics import metrics_table

HEADLINE = ["n", "pearson_r", "accuracy", "log_loss", "brier", "mean_mass"]


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
    notes: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


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


def analyse(run_dir: str | Path) -> ReportData:
    """Compute every table the report shows."""
    from analysis import calibration, ceiling, normative_bias, pairs as pairs_mod

    predictions, decisions, manifest = load_run(run_dir)
    settings = {"mass_threshold": 0.8, "r_threshold": 0.3, "bootstrap": 5000, "seed": 0,
                **(manifest.get("analysis") or {})}
    per_family = metrics_table(predictions, by=("family",))
    headline = per_family[(per_family["round"] == "all") & (per_family["family"] != "all")][
        ["family", "predictor", *HEADLINE]].reset_index(drop=True)
    by_round = metrics_table(predictions, by=("family",)).assign(game="all")
    data = ReportData(Path(run_dir), manifest, headline, by_round, settings=settings)
    present = set(predictions["predictor"])
    pair_specs = [pairs_mod.Pair(base=p["base"], aligned=p["aligned"], label=p.get("label", ""),
                                 provider=p.get("provider", ""), matched=bool(p.get("matched", True)))
                  for p in manifest.get("pairs") or [] if p["base"] in present and p["aligned"] in present]
    missing = [p for p in manifest.get("pairs") or [] if p["base"] not in present or p["aligned"] not in present]
    if missing:
        data.notes.append(f"{len(missing)} configured pair(s) lack predictions (a predictor failed or has not "
                          "run yet) and are left out.")
    if pair_specs:
        n_boot, seed = int(settings["bootstrap"]), int(settings["seed"])
        table = pairs_mod.pair_table(predictions, pair_specs, by=("family",), n_boot=n_boot, seed=seed)
        table = pairs_mod.apply_filters(table, settings["mass_threshold"], settings["r_threshold"])
        data.pairs = table
        data.wins = pairs_mod.win_summary(table, n_boot=n_boot, seed=seed)
        data.wins_unfiltered = pairs_mod.win_summary(pairs_mod.apply_filters(table, -1.0, -1.0), n_boot=n_boot,
                                                     seed=seed)
        data.grid = pairs_mod.sensitivity_grid(table)
        rounds = pairs_mod.round_breakdown(predictions, pair_specs, n_boot=min(n_boot, 1000), seed=seed)
        data.rounds = rounds[rounds["split"] == "first vs later"].drop(columns=["split"])
        if any(not p.matched for p in pair_specs):
            data.notes.append("Pairs marked unmatched (different providers or sizes) are shown for illustration; "
                              "the study's design would exclude them.")
    else:
        data.notes.append("No base/aligned pairs configured (`pairs:` in the run config): pair panels are empty.")
    if "normative" in present:
        data.bias = normative_bias.normative_bias(predictions, normative="normative")
        if pair_specs:
            data.closer = normative_bias.closer_to_normative(data.bias, pair_specs)
    else:
        data.notes.append("No `normative` predictor in this run: the normative-bias panel is empty.")
    data.calibration = calibration.reliability(predictions, bins=10)
    if predictions["is_rate"].any():
        data.ceiling = ceiling.ceiling_table(predictions, decisions)
    return data


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


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
    ("fig-pairs", "Base vs aligned r, one point per pair (below the diagonal: the base model describes people "
                  "better)", lambda d: figs.pair_scatter(d.pairs)),
    ("fig-rounds", "Pearson r by round for each model", lambda d: figs.r_by_round(d.metrics)),
    ("fig-normative", "Normative bias: each predictor's correlation with the normative prediction",
     lambda d: figs.normative_bias_bars(d.bias)),
    ("fig-sensitivity", "Filter sensitivity: base:aligned wins over mass and r thresholds",
     lambda d: figs.sensitivity_heatmaps(d.grid)),
    ("fig-calibration", "Calibration (reliability curves)", lambda d: figs.calibration_curves(d.calibration)),
]


def render_html(data: ReportData) -> str:
    """The self-contained page: CSS inline, every figure a base64 PNG."""
    cfg = data.config
    title = f"gamereplay report — {cfg.get('name', data.run_dir.name)}"
    images = {fid: _png(make(data)) for fid, _, make in FIGURES}
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}"
             "table.t{border-collapse:collapse;font-size:13px;margin:.5em 0 1.5em}"
             "table.t td,table.t th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}"
             "table.t th{background:#f4f4f4}figure{margin:1em 0}img{max-width:100%}"
             ".note{background:#fff6d6;padding:.5em 1em;border-left:4px solid #e0b000}.scroll{overflow-x:auto}"
             "</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p>{html.escape(str(cfg.get('description', '')))}</p>",
             f"<p>Run directory: <code>{html.escape(str(data.run_dir))}</code>; families: "
             f"{html.escape(', '.join(sorted(data.headline['family'].unique())))}.</p>"]
    parts += [f"<p class='note'>{html.escape(n)}</p>" for n in data.notes]
    sections = [
        ("Metrics per family", _table_html(data.headline, "metrics")
         + ("<h3>Noise ceiling of the human rates</h3>" + _table_html(data.ceiling) if not data.ceiling.empty else "")),
        ("Base vs aligned pairs", _figure("fig-pairs", images) + "<h3>Per pair</h3>" + _table_html(data.pairs, "pairs")
         + f"<h3>Win counts and tests (pairs kept: both models' mass ≥ {data.settings['mass_threshold']:g}, "
           f"not both r < {data.settings['r_threshold']:g})</h3>" + _table_html(data.wins, "wins")
         + "<h3>Win counts without filters</h3>" + _table_html(data.wins_unfiltered, "wins")
         + "<h3>Round 1 vs later rounds</h3>" + _table_html(data.rounds, "rounds")
         + _figure("fig-sensitivity", images)),
        ("Normative bias", _figure("fig-normative", images) + _table_html(data.bias, "normative bias")
         + "<h3>Is the aligned model closer to the normative prediction?</h3>" + _table_html(data.closer, "pairs")),
        ("Round by round", _figure("fig-rounds", images)),
        ("Calibration", _figure("fig-calibration", images)),
    ]
    for head, body in sections:
        parts.append(f"<h2>{html.escape(head)}</h2>{body}")
    parts.append("<script>window.addEventListener('load',function(){var imgs=document.images,ok=0;"
                 "for(var i=0;i<imgs.length;i++){if(imgs[i].complete&&imgs[i].naturalWidth>0)ok++;}"
                 "document.body.setAttribute('data-figures-loaded',ok+'/'+imgs.length);});</script>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _figure(fid: str, images: dict[str, str]) -> str:
    caption = next(c for f, c, _ in FIGURES if f == fid)
    return (f"<figure id='{fid}'><img alt='{html.escape(caption)}' src='data:image/png;base64,{images[fid]}'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def render_markdown(data: ReportData) -> str:
    """The headline numbers as Markdown: metrics per family, pairs, win counts, normative bias."""
    out = [f"# gamereplay report — {data.config.get('name', data.run_dir.name)}", ""]
    out += [f"> {n}" for n in data.notes] + [""]
    out += ["## Metrics per family", "", _md_table(data.headline)]
    if not data.ceiling.empty:
        out += ["## Noise ceiling", "", _md_table(data.ceiling)]
    out += ["## Base vs aligned pairs", "", _md_table(data.pairs), "## Win counts (filtered)", "", _md_table(data.wins),
            "## Win counts (no filters)", "", _md_table(data.wins_unfiltered),
            "## Normative bias", "", _md_table(data.bias)]
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
        {k: getattr(data, k).to_dict(orient="records") for k in ("headline", "pairs", "wins", "bias")},
        default=str, indent=1))
    return html_path, md_path
