"""The report's figures, each a function of plain tables returning a matplotlib Figure.

Kept apart from the HTML so a user can call any of them on their own tables
(e.g. in a notebook) and so the report module only assembles.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def _grid(n: int, width: float = 4.2, height: float = 3.6, cols: int = 3) -> tuple[Figure, list]:
    cols = max(1, min(cols, n))
    rows = max(1, math.ceil(n / cols))
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(max(1, n))]
    return fig, axes


def pair_scatter(pairs: pd.DataFrame) -> Figure:
    """Base r (x) against aligned r (y), one point per pair, one panel per family; below the diagonal
    the base model describes people better.  Unmatched pairs are hollow and labelled."""
    groups = sorted(pairs["family"].unique()) if len(pairs) else ["(no pairs)"]
    fig, axes = _grid(len(groups))
    for ax, fam in zip(axes, groups):
        sub = pairs[pairs["family"] == fam]
        ax.plot([-1, 1], [-1, 1], color="grey", lw=0.8, ls="--")
        for _, row in sub.iterrows():
            matched = bool(row.get("matched", True))
            ax.scatter(row["r_base"], row["r_aligned"], s=40, facecolors="C0" if matched else "none",
                       edgecolors="C0", zorder=3)
            if not matched:
                ax.annotate("unmatched", (row["r_base"], row["r_aligned"]), fontsize=7, xytext=(4, 4),
                            textcoords="offset points")
        finite = sub[["r_base", "r_aligned"]].to_numpy(float)
        finite = finite[np.isfinite(finite)]
        lim = max(0.2, float(np.abs(finite).max()) * 1.15) if finite.size else 1.0
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_title(fam, fontsize=10)
        ax.set_xlabel("r of base model")
        ax.set_ylabel("r of aligned model")
        ax.grid(alpha=0.3)
    return fig


def r_by_round(metrics: pd.DataFrame, predictors: list[str] | None = None) -> Figure:
    """Pearson r per round for each model, one panel per family (rounds pooled over games)."""
    t = metrics[(metrics["round"] != "all") & (metrics["game"] == "all")].copy()
    if predictors:
        t = t[t["predictor"].isin(predictors)]
    fams = sorted(t["family"].unique()) if len(t) else ["(no rounds)"]
    fig, axes = _grid(len(fams))
    for ax, fam in zip(axes, fams):
        sub = t[t["family"] == fam]
        for pred, g in sub.groupby("predictor"):
            g = g.assign(round_no=g["round"].astype(int)).sort_values("round_no")
            ax.plot(g["round_no"], g["pearson_r"], marker="o", ms=3, label=pred)
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_title(fam, fontsize=10)
        ax.set_xlabel("round")
        ax.set_ylabel("Pearson r")
        ax.grid(alpha=0.3)
    if len(t):
        axes[0].legend(fontsize=7)
    return fig


def normative_bias_bars(bias: pd.DataFrame) -> Figure:
    """Per family, each predictor's correlation with the normative prediction; humans' r for reference."""
    fams = sorted(bias["family"].unique()) if len(bias) else ["(no normative predictor)"]
    fig, axes = _grid(len(fams))
    for ax, fam in zip(axes, fams):
        sub = bias[bias["family"] == fam].sort_values("predictor")
        ax.barh(sub["predictor"], sub["r_with_normative"].fillna(0.0), color="C1")
        if len(sub) and "human_r_with_normative" in sub:
            ax.axvline(float(sub["human_r_with_normative"].iloc[0]), color="C3", ls="--", label="humans")
            ax.legend(fontsize=7)
        ax.set_xlim(-1, 1)
        ax.set_title(fam, fontsize=10)
        ax.set_xlabel("r with the normative prediction")
        ax.tick_params(axis="y", labelsize=7)
    return fig


def sensitivity_heatmaps(grid: pd.DataFrame) -> Figure:
    """Base-model win share over the filter grid (mass threshold × r threshold), one map per family;
    each cell says base wins : aligned wins among the pairs kept."""
    fams = sorted(grid["group"].unique()) if len(grid) else ["(no pairs)"]
    fig, axes = _grid(len(fams))
    for ax, fam in zip(axes, fams):
        sub = grid[grid["group"] == fam]
        if sub.empty:
            continue
        masses = sorted(sub["mass_threshold"].unique())
        rs = sorted(sub["r_threshold"].unique())
        share = np.full((len(masses), len(rs)), np.nan)
        for _, row in sub.iterrows():
            i, j = masses.index(row["mass_threshold"]), rs.index(row["r_threshold"])
            decided = row["base_wins"] + row["aligned_wins"]
            share[i, j] = row["base_wins"] / decided if decided else np.nan
            dark = decided and abs(share[i, j] - 0.5) > 0.3
            ax.text(j, i, f"{int(row['base_wins'])}:{int(row['aligned_wins'])}", ha="center", va="center",
                    fontsize=8, color="white" if dark else "black")
        im = ax.imshow(share, vmin=0, vmax=1, cmap="RdBu", origin="lower")
        ax.set_xticks(range(len(rs)), [f"{r:g}" for r in rs])
        ax.set_yticks(range(len(masses)), [f"{m:g}" for m in masses])
        ax.set_xlabel("r threshold (drop if both below)")
        ax.set_ylabel("mass threshold")
        ax.set_title(fam, fontsize=10)
        fig.colorbar(im, ax=ax, shrink=0.8, label="base win share")
    return fig


def calibration_curves(rel: pd.DataFrame) -> Figure:
    """Reliability curves: mean predicted p(affirmative) against the observed rate, per family."""
    fams = sorted(rel["family"].unique()) if len(rel) else ["(no predictions)"]
    fig, axes = _grid(len(fams))
    for ax, fam in zip(axes, fams):
        ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=0.8)
        for pred, g in rel[rel["family"] == fam].groupby("predictor"):
            g = g[g["n"] > 0]
            ax.plot(g["mean_predicted"], g["observed_rate"], marker="o", ms=3, label=pred)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title(fam, fontsize=10)
        ax.set_xlabel("predicted p(affirmative)")
        ax.set_ylabel("observed rate")
        ax.grid(alpha=0.3)
    if len(rel):
        axes[0].legend(fontsize=7)
    return fig
