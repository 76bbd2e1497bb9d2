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
