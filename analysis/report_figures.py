"""The report's figures, each a function of plain tables returning a matplotlib Figure.

Kept apart from the HTML so a user can call any of them on their own tables
(e.g. in a notebook) and so the report module only assembles.

Two rules every figure here follows.  A correlation or a rate is drawn with its
participant-bootstrap interval when the table has one (``*_ci_low`` / ``*_ci_high``
columns).  And nothing is drawn empty: a figure with no data at all raises
:class:`NothingToShow` with the reason (the report prints it in the figure's place),
and a panel with nothing to draw says why inside the panel — e.g. a constant
predictor has no correlation with people, which a blank axis would hide.
"""

from __future__ import annotations

import math
import textwrap
from collections import Counter
from typing import Iterable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


class NothingToShow(ValueError):
    """A figure has no data to draw; the message says why, for the reader."""


def _grid(n: int, width: float = 4.2, height: float = 3.6, cols: int = 3) -> tuple[Figure, list]:
    cols = max(1, min(cols, n))
    rows = max(1, math.ceil(n / cols))
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(max(1, n))]
    return fig, axes


def _say(ax: Axes, why: str, width: int = 42) -> None:
    """Write why a panel is empty in the panel itself (no frame, no ticks), instead of leaving bare axes."""
    text = "\n".join(textwrap.fill(line, width) for line in why.splitlines())
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9, color="0.3", transform=ax.transAxes)
    ax.set_axis_off()


def _unless_all_empty(empty: dict[str, str], panels: int) -> None:
    """Raise :class:`NothingToShow` when every panel of a figure only says why it is empty
    (``empty``: panel title -> reason): one line on the page beats a grid of blank panels."""
    if panels and len(empty) == panels:
        raise NothingToShow("; ".join(f"{title}: {why}" for title, why in empty.items()).replace("\n", " "))


def _aside(ax: Axes, x: float, y: float, text: str, **kw) -> None:
    """A grey remark inside a panel (e.g. why one predictor has no point), readable over grid lines."""
    ax.text(x, y, text, **{"fontsize": 7, "color": "0.35", **kw},
            bbox={"fc": "white", "ec": "none", "pad": 1, "alpha": 0.8})


def _colours(names: Iterable[str]) -> dict[str, tuple]:
    """One colour per predictor, the same in every panel of a figure."""
    from matplotlib import colormaps

    names = sorted(set(names))
    cmap = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


def _has_ci(table: pd.DataFrame, prefix: str) -> bool:
    return f"{prefix}_ci_low" in table and f"{prefix}_ci_high" in table


def _err(value: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Error-bar lengths (2 × n) from an interval; 0 where the interval is undefined."""
    below, above = np.asarray(value, float) - np.asarray(lo, float), np.asarray(hi, float) - np.asarray(value, float)
    return np.nan_to_num(np.clip(np.vstack([below, above]), 0, None), nan=0.0)


def _handles(axes: Iterable[Axes]) -> dict[str, object]:
    """Label -> handle over all ``axes``, each label once (panels share colours), in first-drawn order."""
    handles: dict[str, object] = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    return handles


def _side_legend(fig: Figure, axes: Iterable[Axes]) -> None:
    """One legend to the right of the panels, in drawing order (grouped lines stay together)."""
    handles = _handles(axes)
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="outside right upper", fontsize=7)


def _legend(fig: Figure, axes: list, ncols: int = 4) -> None:
    """One legend for the whole figure (panels share colours), predictors in name order."""
    handles = _handles(axes)
    if handles:
        labels = sorted(handles)
        per_column = 0.065 * max(map(len, labels)) + 0.5  # inches one entry needs at fontsize 7
        fits = max(1, int(fig.get_figwidth() // per_column))  # long model names must not run off the page
        fig.legend([handles[k] for k in labels], labels, loc="outside lower center", fontsize=7,
                   ncols=min(ncols, len(labels), fits))


def r_forest(table: pd.DataFrame) -> Figure:
    """Pearson r of each predictor with people and its 95 % participant-bootstrap interval, one panel
    per family; a predictor without r (e.g. constant) is named with the reason instead of a point."""
    if table.empty:
        raise NothingToShow("no predictions in this run")
    fams = sorted(table["family"].unique())
    n_pred = table.groupby("family")["predictor"].nunique().max()
    fig, axes = _grid(len(fams), height=max(2.5, 0.3 * n_pred + 1.2))
    for ax, fam in zip(axes, fams):
        sub = table[table["family"] == fam].sort_values("predictor", ascending=False).reset_index(drop=True)
        r = sub["pearson_r"].to_numpy(float)
        ok = np.isfinite(r)
        if _has_ci(sub, "r"):
            ax.errorbar(r[ok], np.flatnonzero(ok), xerr=_err(r, sub["r_ci_low"], sub["r_ci_high"])[:, ok],
                        fmt="o", ms=4, color="C0", ecolor="C0", capsize=2)
        else:
            ax.plot(r[ok], np.flatnonzero(ok), "o", ms=4, color="C0")
        for i in np.flatnonzero(~ok):
            why = sub["r_note"].iloc[i] if "r_note" in sub else ""
            _aside(ax, -0.95, i, f"no r: {why or 'undefined'}", va="center")
        ax.axvline(0, color="grey", lw=0.6)
        ax.set_yticks(range(len(sub)), sub["predictor"], fontsize=7)
        ax.set_ylim(-0.7, len(sub) - 0.3)
        ax.set_xlim(-1, 1)
        ax.set_title(fam, fontsize=10)
        ax.set_xlabel("Pearson r with people (95 % CI)")
        ax.grid(alpha=0.3, axis="x")
    return fig


def pair_scatter(pairs: pd.DataFrame) -> Figure:
    """Base r (x) against aligned r (y), one point per pair, one panel per family; below the diagonal
    the base model describes people better.  The segment through a point, perpendicular to the diagonal,
    is the 95 % interval of r_base - r_aligned: it crosses the diagonal when the difference could be 0.
    Unmatched pairs are hollow and labelled."""
    if pairs.empty:
        raise NothingToShow("no base/aligned pairs: pair panels need `pairs:` in the run config")
    groups = sorted(pairs["family"].unique())
    fig, axes = _grid(len(groups))
    empty: dict[str, str] = {}
    for ax, fam in zip(axes, groups):
        sub = pairs[pairs["family"] == fam]
        xy = sub[["r_base", "r_aligned"]].to_numpy(float)
        drawn = np.isfinite(xy).all(axis=1)
        ax.set_title(fam, fontsize=10)
        if not drawn.any():
            empty[fam] = "no pair has r for both models\n(a constant prediction, or too few decisions)"
            _say(ax, empty[fam])
            continue
        ax.plot([-1, 1], [-1, 1], color="grey", lw=0.8, ls="--")
        shown = [xy[drawn]]  # every plotted coordinate, for the axis limits
        for (_, row), ok in zip(sub.iterrows(), drawn):
            if not ok:
                continue
            x, y = row["r_base"], row["r_aligned"]
            lo, hi = row.get("diff_ci_low", np.nan), row.get("diff_ci_high", np.nan)
            if np.isfinite(lo) and np.isfinite(hi):
                t = (np.array([lo, hi]) - (x - y)) / 2  # moving (x, y) by (t, -t) changes the difference by 2t
                ax.plot(x + t, y - t, color="C0", lw=1.2, alpha=0.7)
                shown.append(np.column_stack([x + t, y - t]))
            matched = bool(row.get("matched", True))
            ax.scatter(x, y, s=40, facecolors="C0" if matched else "none", edgecolors="C0", zorder=3)
            if not matched:
                ax.annotate("unmatched", (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points")
        lim = min(1.05, max(0.2, float(np.abs(np.concatenate(shown)).max()) * 1.1))
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xlabel("r of base model")
        ax.set_ylabel("r of aligned model")
        ax.grid(alpha=0.3)
        if (~drawn).any():
            _aside(ax, 0.02, 0.02, f"{int((~drawn).sum())} pair(s) without r not drawn", transform=ax.transAxes)
    _unless_all_empty(empty, len(groups))
    return fig


def r_by_round(rounds: pd.DataFrame, predictors: list[str] | None = None) -> Figure:
    """Pearson r per round for each predictor with its 95 % participant-bootstrap band, one panel per family
    (rounds pooled over games).  ``rounds`` has family, predictor, round, pearson_r and optionally
    r_ci_low, r_ci_high, r_note (:func:`analysis.intervals.r_table`); predictors with no r in any
    round are named under the panel with the reason."""
    t = rounds[rounds["round"].astype(str) != "all"].copy()
    if predictors:
        t = t[t["predictor"].isin(predictors)]
    if t.empty:
        raise NothingToShow("no decisions with a round number")
    t["round_no"] = t["round"].astype(int)
    fams = sorted(t["family"].unique())
    colours = _colours(t["predictor"])
    fig, axes = _grid(len(fams))
    empty: dict[str, str] = {}
    for ax, fam in zip(axes, fams):
        sub = t[t["family"] == fam]
        ax.set_title(fam, fontsize=10)
        silent: dict[str, list[str]] = {}  # reason -> predictors without r in any round
        for pred, g in sub.groupby("predictor", sort=True):
            g = g.sort_values("round_no")
            r = g["pearson_r"].to_numpy(float)
            if not np.isfinite(r).any():
                notes = Counter(g["r_note"]) if "r_note" in g else Counter()
                silent.setdefault(notes.most_common(1)[0][0] if notes else "undefined", []).append(pred)
                continue
            x, c = g["round_no"].to_numpy(), colours[pred]
            ax.plot(x, r, marker="o", ms=3, color=c, label=pred)
            if _has_ci(g, "r"):
                lo, hi = g["r_ci_low"].to_numpy(float), g["r_ci_high"].to_numpy(float)
                if len(x) > 1:
                    ax.fill_between(x, lo, hi, color=c, alpha=0.15, lw=0)
                else:
                    ax.errorbar(x, r, yerr=_err(r, lo, hi), fmt="none", ecolor=c, capsize=3)
        why = "; ".join(f"{reason}: {', '.join(preds)}" for reason, preds in silent.items())
        if sum(map(len, silent.values())) == sub["predictor"].nunique():
            empty[fam] = f"no predictor has r in any round ({why})"
            _say(ax, empty[fam])
            continue
        if silent:
            _aside(ax, 0.02, 0.02, textwrap.fill(f"no r — {why}", 70), transform=ax.transAxes)
        ax.axhline(0, color="grey", lw=0.6)
        drawn_rounds = sorted(sub.loc[np.isfinite(sub["pearson_r"].to_numpy(float)), "round_no"].unique())
        ax.set_xlim(drawn_rounds[0] - 0.5, drawn_rounds[-1] + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_xlabel("round")
        ax.set_ylabel("Pearson r (95 % CI band)")
        ax.grid(alpha=0.3)
    _unless_all_empty(empty, len(fams))
    _legend(fig, axes)
    return fig


def normative_bias_bars(bias: pd.DataFrame) -> Figure:
    """Per family, each predictor's correlation with the normative prediction (with its 95 % interval);
    the dashed line and shaded band are the normative prediction's own r with people and its interval."""
    if bias.empty:
        raise NothingToShow("no `normative` predictor in this run, so nothing to compare with")
    fams = sorted(bias["family"].unique())
    n_pred = bias.groupby("family")["predictor"].nunique().max()
    fig, axes = _grid(len(fams), height=max(2.5, 0.3 * n_pred + 1.2))
    empty: dict[str, str] = {}
    for ax, fam in zip(axes, fams):
        sub = bias[bias["family"] == fam].sort_values("predictor", ascending=False).reset_index(drop=True)
        r = sub["r_with_normative"].to_numpy(float)
        ok = np.isfinite(r)
        ax.set_title(fam, fontsize=10)
        if not ok.any():
            empty[fam] = ("no predictor has r with the normative prediction\n(the normative rule is constant "
                          "here, or too few decisions)")
            _say(ax, empty[fam])
            continue
        xerr = _err(r, sub["r_with_normative_ci_low"], sub["r_with_normative_ci_high"]) \
            if _has_ci(sub, "r_with_normative") else None
        ax.barh(np.flatnonzero(ok), r[ok], color="C1", xerr=None if xerr is None else xerr[:, ok],
                error_kw={"lw": 0.8, "capsize": 2})
        for i in np.flatnonzero(~ok):
            _aside(ax, -0.95, i, "no r: constant prediction", va="center")
        human = float(sub["human_r_with_normative"].iloc[0])
        if np.isfinite(human):
            ax.axvline(human, color="C3", ls="--", label="normative vs people")
            if _has_ci(sub, "human_r_with_normative"):
                lo, hi = sub["human_r_with_normative_ci_low"].iloc[0], sub["human_r_with_normative_ci_high"].iloc[0]
                if np.isfinite(lo) and np.isfinite(hi):
                    ax.axvspan(lo, hi, color="C3", alpha=0.12, lw=0)
            ax.legend(fontsize=7, loc="best")
        ax.axvline(0, color="grey", lw=0.6)
        ax.set_yticks(range(len(sub)), sub["predictor"], fontsize=7)
        ax.set_ylim(-0.7, len(sub) - 0.3)
        ax.set_xlim(-1, 1)
        ax.set_xlabel("r with the normative prediction (95 % CI)")
    _unless_all_empty(empty, len(fams))
    return fig


def sensitivity_heatmaps(grid: pd.DataFrame) -> Figure:
    """Base-model win share over the filter grid (mass threshold × r threshold), one map per family;
    each cell says base wins : aligned wins among the pairs kept."""
    if grid.empty:
        raise NothingToShow("no base/aligned pairs: the filter grid needs `pairs:` in the run config")
    fams = sorted(grid["group"].unique())
    fig, axes = _grid(len(fams))
    empty: dict[str, str] = {}
    for ax, fam in zip(axes, fams):
        sub = grid[grid["group"] == fam]
        ax.set_title(fam, fontsize=10)
        if not (sub["base_wins"] + sub["aligned_wins"]).any():
            empty[fam] = (f"no pair won at any threshold\n(at most {int(sub['kept'].max())} pair(s) kept; the rest "
                          "have no r, too little mass, or both r below the threshold)")
            _say(ax, empty[fam])
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
        fig.colorbar(im, ax=ax, shrink=0.8, label="base win share")
    _unless_all_empty(empty, len(fams))
    return fig


def calibration_curves(rel: pd.DataFrame) -> Figure:
    """Reliability curves: mean predicted p(affirmative) against the observed rate, per family, with the
    observed rate's 95 % participant-bootstrap interval when ``rel`` has one (observed_ci_low/high)."""
    rel = rel[rel["n"] > 0]
    if rel.empty:
        raise NothingToShow("no predictions in this run")
    fams = sorted(rel["family"].unique())
    colours = _colours(rel["predictor"])
    fig, axes = _grid(len(fams))
    for ax, fam in zip(axes, fams):
        ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=0.8)
        for pred, g in rel[rel["family"] == fam].groupby("predictor", sort=True):
            x, y, c = g["mean_predicted"].to_numpy(float), g["observed_rate"].to_numpy(float), colours[pred]
            ax.plot(x, y, marker="o", ms=3, color=c, label=pred)
            if _has_ci(g, "observed"):
                ax.errorbar(x, y, yerr=_err(y, g["observed_ci_low"], g["observed_ci_high"]), fmt="none", ecolor=c,
                            alpha=0.6, capsize=2)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title(fam, fontsize=10)
        ax.set_xlabel("predicted p(affirmative)")
        ax.set_ylabel("observed rate (95 % CI)")
        ax.grid(alpha=0.3)
    _legend(fig, axes)
    return fig


#: one colour per kind of model (``predictors.base.CATEGORIES``), the same in every figure that groups by kind
CATEGORY_COLOURS = {"baseline": "0.45", "descriptive": "tab:green", "equilibrium": "tab:blue",
                    "bounded rationality": "tab:purple", "learning": "tab:orange", "language model": "tab:red",
                    "probe": "tab:pink", "other": "tab:brown"}
_STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ("-", "v"), ("--", "P")]


def _category_legend(fig: Figure, present: Iterable[str]) -> None:
    from matplotlib.lines import Line2D

    from analysis.model_comparison import category_order

    kinds = sorted(set(present), key=category_order)
    handles = [Line2D([], [], color=CATEGORY_COLOURS.get(k, "tab:brown"), marker="o", ls="", label=k) for k in kinds]
    fig.legend(handles=handles, loc="outside lower center", fontsize=8, ncols=len(kinds) or 1)


def _focus(means: dict[str, float], factor: float = 2.0) -> tuple[float | None, list[str]]:
    """An upper axis limit that keeps the bulk of the predictors readable, and the predictors beyond it: those
    whose NLL is more than ``factor`` times the median of all (a pure equilibrium prediction's NLL can be
    three times everybody else's and flatten every other difference).  ``(None, [])`` when nobody is that far."""
    values = np.array([v for v in means.values() if np.isfinite(v)])
    if len(values) < 3:
        return None, []
    far = sorted(k for k, v in means.items() if np.isfinite(v) and v > factor * np.median(values))
    rest = [v for k, v in means.items() if k not in far and np.isfinite(v)]
    return (None, []) if not far or not rest else (1.15 * max(rest), far)


def nll_forest(table: pd.DataFrame) -> Figure:
    """Held-out NLL per choice of every predictor with its 95 % participant-bootstrap interval, one row of
    panels per family and one panel per phase (round 1, rounds 2+, all rounds), coloured by kind of model,
    best at the top.  ``table``: :func:`analysis.model_comparison.comparison`; a predictor that did not score
    all of a phase's decisions (a one-shot model in rounds 2+) is left out of that panel and named under it;
    one far worse than the rest (``_focus``) is named at the panel's edge with its value instead of a point."""
    from analysis.model_comparison import PHASES

    if table.empty:
        raise NothingToShow("no predictions in this run")
    fams = sorted(table["family"].unique())
    phases = [p for p in PHASES if p in set(table["phase"])]
    n_pred = table.groupby(["family", "phase"])["predictor"].nunique().max()
    fig, axes = _grid(len(fams) * len(phases), width=4.0, height=max(2.6, 0.28 * n_pred + 1.3), cols=len(phases))
    for i, fam in enumerate(fams):
        for j, phase in enumerate(phases):
            ax = axes[i * len(phases) + j]
            sub = table[(table["family"] == fam) & (table["phase"] == phase)]
            ax.set_title(f"{fam}: {phase}", fontsize=10)
            if sub.empty:
                _say(ax, f"no decisions in {phase}")
                continue
            full = sub[sub["coverage"] >= 1 - 1e-9].sort_values("nll_mean", ascending=False).reset_index(drop=True)
            part = sorted(set(sub["predictor"]) - set(full["predictor"]))
            top, far = _focus(dict(zip(full["predictor"], full["nll_mean"])))
            for k, row in full.iterrows():
                c = CATEGORY_COLOURS.get(row["category"], "tab:brown")
                if row["predictor"] in far:
                    _aside(ax, top, k, f"{row['nll_mean']:.2f} [{row['nll_ci_low']:.2f}, {row['nll_ci_high']:.2f}] →",
                           ha="right", va="center", color=c)
                    continue
                ax.errorbar([row["nll_mean"]], [k], xerr=_err([row["nll_mean"]], [row["nll_ci_low"]],
                                                              [row["nll_ci_high"]]), fmt="o", ms=4, color=c,
                            ecolor=c, capsize=2)
            if top is not None:
                ax.set_xlim(right=top)
            ax.set_yticks(np.arange(len(full)), full["predictor"], fontsize=7)
            ax.set_ylim(-0.7, max(len(full), 1) - 0.3)
            if part:
                _aside(ax, 0.98, 0.98, textwrap.fill(f"scored only part of {phase}: {', '.join(part)}", 30),
                       transform=ax.transAxes, ha="right", va="top")
            ax.set_xlabel("NLL per choice (95 % CI; lower is better)", fontsize=8)
            ax.grid(alpha=0.3, axis="x")
    _category_legend(fig, table["category"])
    return fig


def nll_by_round(rounds: pd.DataFrame) -> Figure:
    """Held-out NLL per choice round by round for each predictor, with 95 % participant-bootstrap bands, one
    panel per family with more than one round; colour = kind of model, line style = predictor within its kind.
    ``rounds``: :func:`analysis.model_comparison.round_nll`.  A model of round 1 alone is a single point; one
    far worse than the rest (``_focus``) is named in the panel with its range instead of squashing the others."""
    from analysis.model_comparison import category_order

    if rounds.empty:
        raise NothingToShow("no family in this run has more than one round")
    fams = sorted(rounds["family"].unique())
    fig, axes = _grid(len(fams), width=7.5, height=5.0, cols=1)
    for ax, fam in zip(axes, fams):
        sub = rounds[rounds["family"] == fam]
        seen: Counter = Counter()
        order = sorted(sub.groupby("predictor")["category"].first().items(),
                       key=lambda kv: (category_order(kv[1]), kv[0]))
        top, far = _focus(sub.groupby("predictor")["nll_mean"].mean().to_dict())
        for pred, kind in order:
            g = sub[sub["predictor"] == pred].sort_values("round")
            x, v = g["round"].to_numpy(int), g["nll_mean"].to_numpy(float)
            if pred in far:
                continue
            ls, marker = _STYLES[seen[kind] % len(_STYLES)]
            seen[kind] += 1
            lo, hi = g["nll_ci_low"].to_numpy(float), g["nll_ci_high"].to_numpy(float)
            c = CATEGORY_COLOURS.get(kind, "tab:brown")
            ax.plot(x, v, ls=ls, marker=marker, ms=3, lw=1, color=c, label=f"{kind}: {pred}")
            if len(x) > 1:
                ax.fill_between(x, lo, hi, color=c, alpha=0.08, lw=0)
            else:
                ax.errorbar(x, v, yerr=_err(v, lo, hi), fmt="none", ecolor=c, capsize=3)
        if far:
            span = sub[sub["predictor"].isin(far)].groupby("predictor")["nll_mean"].agg(["min", "max"])
            _aside(ax, 0.02, 0.97, "off the chart (far worse): " + "; ".join(
                f"{p} {r['min']:.2f}–{r['max']:.2f}" for p, r in span.iterrows()), transform=ax.transAxes, va="top")
            rest = sub[~sub["predictor"].isin(far)]
            ax.set_ylim(top=1.03 * np.nanmax(np.fmax(rest["nll_mean"].to_numpy(float),
                                                      rest["nll_ci_high"].to_numpy(float))))
        ax.set_title(fam, fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_xlabel("round")
        ax.set_ylabel("NLL per choice (95 % CI band)")
        ax.grid(alpha=0.3)
    _side_legend(fig, axes)
    return fig


def intervention_effects(rounds: pd.DataFrame) -> Figure:
    """Round by round, what each predictor loses under each history intervention: Δr (top row) and ΔNLL per
    choice (bottom row) against its unmodified prompt, with 95 % participant-bootstrap bands, one column per
    family; colour = intervention, line style = predictor.  ``rounds``: :func:`analysis.interventions.effects`
    with ``by=("family", "round")``.  Above zero in ΔNLL (below in Δr): the predictor needed what was taken."""
    if rounds.empty:
        raise NothingToShow("no predictor ran under a history intervention next to its unmodified self")
    fams = sorted(rounds["family"].unique())
    colours = _colours(rounds["intervention"])
    styles = {p: _STYLES[i % len(_STYLES)] for i, p in enumerate(sorted(rounds["original"].unique()))}
    fig = Figure(figsize=(6.0 * len(fams) + 2.5, 7.5), layout="constrained")
    axes = [[fig.add_subplot(2, len(fams), row * len(fams) + j + 1) for j in range(len(fams))] for row in range(2)]
    for j, fam in enumerate(fams):
        sub = rounds[rounds["family"] == fam]
        for row, (col, label) in enumerate((("delta_r", "Δr vs unmodified (95 % CI band)"),
                                            ("delta_nll", "ΔNLL per choice vs unmodified (95 % CI band)"))):
            ax = axes[row][j]
            for (orig, iv), g in sub.groupby(["original", "intervention"], sort=True):
                g = g.assign(r=pd.to_numeric(g["round"])).sort_values("r")
                x, v = g["r"].to_numpy(int), g[col].to_numpy(float)
                ls, marker = styles[orig]
                ax.plot(x, v, ls=ls, marker=marker, ms=3, lw=1, color=colours[iv], label=f"{orig} @ {iv}")
                lo, hi = g[f"{col}_ci_low"].to_numpy(float), g[f"{col}_ci_high"].to_numpy(float)
                if len(x) > 1:
                    ax.fill_between(x, lo, hi, color=colours[iv], alpha=0.08, lw=0)
            ax.axhline(0, color="grey", lw=0.8)
            ax.set_title(fam, fontsize=10)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
            ax.set_xlabel("round")
            ax.set_ylabel(label, fontsize=8)
            ax.grid(alpha=0.3)
    _side_legend(fig, axes[0])
    return fig


def simulation_curves(by_round: pd.DataFrame) -> Figure:
    """People (black, with a 95 % band) and each predictor's simulated players round by round: one row per
    statistic (affirmative, reciprocation, coordination), one column per family and game.  ``by_round``:
    :func:`analysis.simulated.compare`'s first table."""
    from analysis.simulated import PEOPLE, STATS

    if by_round.empty:
        raise NothingToShow("no predictor played (simulate: in the run config)")
    cols = sorted(by_round[["family", "game"]].drop_duplicates().itertuples(index=False))
    stats_here = [s for s in STATS if s in set(by_round["stat"])]
    colours = _colours(by_round.loc[by_round["source"] != PEOPLE, "source"])
    fig = Figure(figsize=(4.6 * len(cols) + 2.5, 3.2 * len(stats_here)), layout="constrained")
    for i, stat in enumerate(stats_here):
        for j, (family, game) in enumerate(cols):
            ax = fig.add_subplot(len(stats_here), len(cols), i * len(cols) + j + 1)
            sub = by_round[(by_round["family"] == family) & (by_round["game"] == game) & (by_round["stat"] == stat)]
            for source, g in sub.groupby("source", sort=True):
                g = g.sort_values("round")
                c = "black" if source == PEOPLE else colours[source]
                x, v = g["round"].to_numpy(int), g["rate"].to_numpy(float)
                ax.plot(x, v, marker="o", ms=3, lw=2 if source == PEOPLE else 1, color=c, label=source)
                ax.fill_between(x, g["rate_ci_low"].to_numpy(float), g["rate_ci_high"].to_numpy(float), color=c,
                                alpha=0.12 if source == PEOPLE else 0.06, lw=0)
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(f"{game} ({family}): {stat}", fontsize=9)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
            ax.set_xlabel("round", fontsize=8)
            ax.set_ylabel("share of players (95 % CI)", fontsize=8)
            ax.grid(alpha=0.3)
    _side_legend(fig, fig.axes)
    return fig


def layer_curves(table: pd.DataFrame) -> Figure:
    """Probe r with people against relative depth (block / blocks), one panel per family (``analysis.probes``):
    per model its probe (solid, with 95 % participant-bootstrap intervals), the same probe on a randomly
    initialised model (dashed) and on shuffled labels (dotted), and the model's own output r (a horizontal
    line in its colour); ``feature-logit`` on the family's history features in grey."""
    if table.empty:
        raise NothingToShow("no probes in this run (give a predictor `type: probe`)")
    families = sorted(table["family"].unique())
    fig, axes = _grid(len(families))
    colours = _colours(table["model"])
    for ax, family in zip(axes, families):
        t = table[table["family"] == family]
        for model, g in t.groupby("model", sort=True):
            g = g.sort_values("relative_depth")
            x, c = g["relative_depth"].to_numpy(float), colours[model]
            label = f"{model} ({g['role'].iloc[0]})" if g["role"].iloc[0] else model
            ax.errorbar(x, g["probe_r"], yerr=_err(g["probe_r"], g["probe_r_ci_low"], g["probe_r_ci_high"]),
                        color=c, marker="o", capsize=2, label=f"probe: {label}")
            for col, style, what in (("random_init_r", "--", "random-init model"), ("shuffled_r", ":", "shuffled")):
                if g[col].notna().any():
                    ax.errorbar(x, g[col], yerr=_err(g[col], g[f"{col}_ci_low"], g[f"{col}_ci_high"]), color=c,
                                linestyle=style, marker=".", capsize=1, alpha=0.7, label=f"probe, {what}: {model}")
            out = g["output_r"].dropna()
            if len(out):
                ax.axhline(out.iloc[0], color=c, linestyle="-.", linewidth=1, label=f"output: {model}")
        fl = t["feature_logit_r"].dropna()
        if len(fl):
            ax.axhspan(t["feature_logit_r_ci_low"].iloc[0], t["feature_logit_r_ci_high"].iloc[0], color="0.85",
                       zorder=0)
            ax.axhline(fl.iloc[0], color="0.4", linewidth=1, label="feature-logit (history features)")
        ax.axhline(0, color="0.7", linewidth=0.5)
        ax.set_title(family, fontsize=9)
        ax.set_xlabel("relative depth (block / blocks)")
        ax.set_ylabel("r with people")
        ax.set_xlim(0, 1.05)
    _side_legend(fig, axes)
    return fig
