"""Figures: metrics by round, one line per predictor, one panel per game."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


#: what a panel of ``plot_by_round`` shows, where the bare column name would not say it
ROUND_LABELS = {"pearson_r": "Pearson r within the (game, round) cell", "r_within": "Pearson r within the cell",
                "log_loss_eps": "log-loss, ε-smoothed"}


def _band(ax, x: np.ndarray, low: np.ndarray, high: np.ndarray, color) -> None:
    """A shaded interval around a line; nothing where the interval does not exist (NaN)."""
    ok = np.isfinite(low) & np.isfinite(high)
    if ok.any():
        ax.fill_between(x, np.where(ok, low, np.nan), np.where(ok, high, np.nan), color=color, alpha=0.15, lw=0)


def plot_by_round(table: pd.DataFrame, path: str | Path, metrics: tuple[str, ...] = ("pearson_r", "accuracy")) -> Path:
    """Save a PNG grid from a ``metrics_table``: rows = metrics, columns = games; x = round, one line per predictor
    with its participant-bootstrap band (``<metric>_ci_low``/``_ci_high``, where the table has them).

    Each point is one (game, round) cell, so r there is the within-cell r: no between-game contrast, and no
    point where a prediction is constant in the cell (an equilibrium)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = table[(table["round"] != "all") & (table["game"] != "all")].copy()
    t["round_no"] = t["round"].astype(int)
    t["panel"] = (t["family"].astype(str) + ": " + t["game"].astype(str)) if "family" in t \
        and t["family"].nunique() > 1 else t["game"].astype(str)
    panels = sorted(t["panel"].unique())
    fig, axes = plt.subplots(len(metrics), max(1, len(panels)), figsize=(5 * max(1, len(panels)), 3.4 * len(metrics)),
                             squeeze=False, sharex=True)
    colors = {p: f"C{i % 10}" for i, p in enumerate(sorted(t["predictor"].unique()))}
    for i, metric in enumerate(metrics):
        for j, panel in enumerate(panels):
            ax = axes[i][j]
            for pred, g in t[t["panel"] == panel].groupby("predictor"):
                g = g.sort_values("round_no")
                x = g["round_no"].to_numpy(float)
                ax.plot(x, g[metric].to_numpy(float), marker="o", ms=3, color=colors[pred], label=pred)
                if f"{metric}_ci_low" in g:
                    _band(ax, x, g[f"{metric}_ci_low"].to_numpy(float), g[f"{metric}_ci_high"].to_numpy(float),
                          colors[pred])
            ax.set_title(f"{panel}: {ROUND_LABELS.get(metric, metric)}", fontsize=9)
            ax.set_xlabel("round")
            ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle("bands: 95% CI, participants resampled; no point where r is undefined (a prediction constant in "
                 "the cell, or people all alike)", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_by_variable(table: pd.DataFrame, name: str, path: str | Path) -> Path:
    """Save a PNG from ``analysis.variables.metrics_by_variable``: per family (columns), the rate of the
    affirmative action by the value of ``name`` — people with their participant-bootstrap interval, each
    predictor's mean prediction — and below it each predictor's Pearson r with its interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = sorted(table["family"].unique())
    n = max(1, len(families))
    fig, axes = plt.subplots(2, n, figsize=(5.5 * n, 7.2), squeeze=False, sharex="col")
    for col, family in enumerate(families):
        sub = table[table["family"] == family]
        values = sorted(sub[name].dropna().unique(), key=lambda v: (isinstance(v, str), v))
        pos = {v: i for i, v in enumerate(values)}
        people = sub.drop_duplicates(name)
        people = people[people[name].isin(values)]
        x = people[name].map(pos).to_numpy(float)
        rate = people["human_rate"].to_numpy(float)
        err = np.clip([rate - people["human_rate_ci_low"].to_numpy(float),
                       people["human_rate_ci_high"].to_numpy(float) - rate], 0, None)
        top, bottom = axes[0][col], axes[1][col]
        top.errorbar(x, rate, yerr=err, color="black", marker="s", ms=4, capsize=3, lw=2, label="people (95% CI)")
        n_pred = sub["predictor"].nunique()
        for k, (pred, g) in enumerate(sub.groupby("predictor")):
            g = g[g[name].isin(values)]
            xs = g[name].map(pos).to_numpy(float)
            top.plot(xs, g["predicted_rate"], marker="o", ms=3, label=pred)
            r = g["pearson_r"].to_numpy(float)
            # a percentile interval need not contain r itself (skewed draws): bars are drawn from r outwards
            rerr = np.clip([r - g["r_ci_low"].to_numpy(float), g["r_ci_high"].to_numpy(float) - r], 0, None)
            bottom.errorbar(xs + (k - 0.5 * n_pred) * 0.04, r, yerr=rerr, marker="o", ms=3, capsize=2, label=pred)
        top.set_title(f"{family}: affirmative rate by {name}", fontsize=9)
        top.set_ylim(-0.02, 1.02)
        bottom.set_title(f"Pearson r by {name} (95% CI, participants resampled; none where a prediction is "
                         "constant)", fontsize=8)
        bottom.axhline(0, color="grey", lw=0.5)
        bottom.set_xticks(range(len(values)), [str(v) for v in values], rotation=45 if len(values) > 6 else 0)
        bottom.set_xlabel(name)
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
