"""Figures: metrics by round, one line per predictor, one panel per game."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def plot_by_round(table: pd.DataFrame, path: str | Path, metrics: tuple[str, ...] = ("pearson_r", "accuracy")) -> Path:
    """Save a PNG grid: rows = metrics, columns = games; x = round, one line per predictor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = table[(table["round"] != "all") & (table["game"] != "all")].copy()
    t["round_no"] = t["round"].astype(int)
    games = sorted(t["game"].unique())
    fig, axes = plt.subplots(len(metrics), max(1, len(games)), figsize=(5 * max(1, len(games)), 3.4 * len(metrics)),
                             squeeze=False, sharex=True)
    for i, metric in enumerate(metrics):
        for j, game in enumerate(games):
            ax = axes[i][j]
            for pred, g in t[t["game"] == game].groupby("predictor"):
                g = g.sort_values("round_no")
                ax.plot(g["round_no"], g[metric], marker="o", ms=3, label=pred)
            ax.set_title(f"{game}: {metric}")
            ax.set_xlabel("round")
            ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_by_variable(table: pd.DataFrame, name: str, path: str | Path) -> Path:
    """Save a PNG: Pearson r (with its participant-bootstrap interval) by the value of ``name``, one panel per
    family, one line per predictor — from ``analysis.variables.metrics_by_variable``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = sorted(table["family"].unique())
    fig, axes = plt.subplots(1, max(1, len(families)), figsize=(5.5 * max(1, len(families)), 3.8), squeeze=False)
    for ax, family in zip(axes[0], families):
        sub = table[table["family"] == family]
        values = sorted(sub[name].dropna().unique(), key=lambda v: (isinstance(v, str), v))
        pos = {v: i for i, v in enumerate(values)}
        for k, (pred, g) in enumerate(sub.groupby("predictor")):
            g = g[g[name].isin(values)]
            x = g[name].map(pos).to_numpy(float) + (k - 0.5 * sub["predictor"].nunique()) * 0.04
            r = g["pearson_r"].to_numpy(float)
            err = [r - g["r_ci_low"].to_numpy(float), g["r_ci_high"].to_numpy(float) - r]
            ax.errorbar(x, r, yerr=err, marker="o", ms=3, capsize=2, label=pred)
        ax.set_xticks(range(len(values)), [str(v) for v in values], rotation=45 if len(values) > 6 else 0)
        ax.set_title(f"{family}: Pearson r by {name} (95% CI, participants resampled)", fontsize=9)
        ax.set_xlabel(name)
        ax.axhline(0, color="grey", lw=0.5)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
