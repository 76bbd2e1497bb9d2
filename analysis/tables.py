"""The tables ``gamereplay run`` prints: metrics by round per family, and by each ``group_by`` variable.

Every rate and correlation is printed with its participant-bootstrap interval in
one compact cell, ``0.374 [0.34, 0.41]``: with 20 participants most round-to-round
wiggles are noise, and a reader should see that without a second table.  Two
correlations are shown, and the headers say which is which (``analysis.metrics``):
``r_within``, the mean r inside each game of a round (the honest one: it is not
moved by games that differ in their average choice), and ``pearson_r`` over all
games pooled.  The plain log-loss of a pure-strategy prediction is set by its clip,
so the tremble-smoothed ``log_loss_eps`` is the round-by-round one, and the clipped
figure is printed once with the number of decisions at the clip.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.metrics import EPS, N_BOOT, TREMBLE, metrics_table, round_pivot


def ci_cell(value: float, low: float, high: float) -> str:
    """``0.374 [0.34, 0.41]``; ``n/a`` for no value and ``[n/a]`` for no interval (e.g. one participant).
    ASCII only: a console that is not UTF-8 prints it too."""
    if not np.isfinite(value):
        return "n/a"
    return f"{value:.3f} " + (f"[{low:.2f}, {high:.2f}]" if np.isfinite(low) and np.isfinite(high) else "[n/a]")


NOT_SCORED = "-"  # a round the predictor did not score (a one-shot model in rounds 2+: ``Predictor.applies_to``)


def ci_pivot(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rounds × predictors of a ``metrics_table``, each cell the metric with its interval (``ci_cell``), or
    ``NOT_SCORED`` where the predictor has no decision in that round."""
    value, low, high, n = (round_pivot(table, c) for c in (metric, f"{metric}_ci_low", f"{metric}_ci_high", "n"))
    cells = [[ci_cell(*v[:3]) if v[3] > 0 else NOT_SCORED for v in zip(*row)]
             for row in zip(value.to_numpy(float), low.to_numpy(float), high.to_numpy(float), n.to_numpy(float))]
    return pd.DataFrame(cells, index=value.index, columns=value.columns)


def _block(title: str, body: pd.DataFrame) -> str:
    return f"{title}\n{body.to_string()}"


def _correlation_blocks(family: str, pooled: pd.DataFrame, ci: str) -> list[str]:
    """r_within with how many cells had an r, then the pooled r — one block when they are the same numbers."""
    within, plain = round_pivot(pooled, "r_within"), round_pivot(pooled, "pearson_r")
    same = np.allclose(within.to_numpy(float), plain.to_numpy(float), equal_nan=True, rtol=0, atol=1e-9)
    if same:
        return [_block(f"{family}: pearson_r by round (one game per round: equal to r_within) {ci}",
                       ci_pivot(pooled, "pearson_r"))]
    with_r = round_pivot(pooled, "r_within_cells")
    total = with_r + round_pivot(pooled, "r_within_skipped")
    cells = pd.DataFrame([[f"{int(a)}/{int(b)}" if np.isfinite(b) else NOT_SCORED for a, b in zip(*row)]
                          for row in zip(with_r.to_numpy(float), total.to_numpy(float))],
                         index=with_r.index, columns=with_r.columns)
    t = pd.concat([ci_pivot(pooled, "r_within"), cells.loc[["all"]].rename(index={"all": "cells with r"})])
    return [
        _block(f"{family}: r_within by round: mean r within each (game, round) cell, weighted by decisions; "
               f"cells without r skipped {ci}", t),
        _block(f"{family}: pearson_r by round, all games pooled (includes the differences between games and, in "
               f"'all', rounds) {ci}", ci_pivot(pooled, "pearson_r")),
    ]


def _clip_block(family: str, pooled: pd.DataFrame) -> str:
    """The clipped log-loss over all rounds and the number of decisions at the clip, which set it."""
    rows = pooled[pooled["round"] == "all"].set_index("predictor")
    t = pd.DataFrame({"log_loss": rows["log_loss"].map(lambda v: f"{v:.3f}"),
                      "decisions at the clip": [f"{c} of {n}" for c, n in zip(rows["n_clipped"], rows["n"])]}).T
    return _block(f"{family}: log_loss with p clipped at {EPS:g}, all rounds (a pure-strategy prediction's figure "
                  "is set by the clip)", t.rename_axis(columns=None))


def format_tables(predictions: pd.DataFrame, n_boot: int = N_BOOT, seed: int = 0, ci: float = 0.95) -> str:
    """The per-round tables the CLI prints: rounds × predictors for each metric, one block per family and
    metric (families differ in rounds and in the number of actions, so pooling them would mislead)."""
    if predictions.empty:
        return "(no predictions)"
    label = f"[{ci:.0%} CI]"
    parts = [f"[lo, hi]: {ci:.0%} interval, {n_boot} resamples of participants. n/a: no r (the prediction is "
             f"constant where r is taken, or people all chose alike). {NOT_SCORED}: not scored (the predictor is not "
             "a model of those decisions, e.g. a one-shot model in rounds 2+)."]
    for family, sub in predictions.groupby("family", sort=True):
        pooled = metrics_table(sub, by=(), n_boot=n_boot, seed=seed, ci=ci)  # rounds pooled over games, once
        parts += _correlation_blocks(family, pooled, label)
        parts.append(_block(f"{family}: accuracy by round {label}", ci_pivot(pooled, "accuracy")))
        parts.append(_block(f"{family}: log_loss_eps by round: every prediction mixed with eps = {TREMBLE:g} of "
                            f"uniform, so no clip is needed {label}", ci_pivot(pooled, "log_loss_eps")))
        parts.append(_clip_block(family, pooled))
        if round_pivot(pooled, "mean_mass").notna().any().any():
            parts.append(_block(f"{family}: mean_mass by round {label}", ci_pivot(pooled, "mean_mass")))
    return "\n\n".join(parts)


def format_variable_tables(by_variable: dict[str, pd.DataFrame]) -> str:
    """Pearson r with its participant-bootstrap interval per value of each ``group_by`` variable, per family."""
    from analysis.variables import variable_pivot

    parts = []
    for name, table in by_variable.items():
        for family, sub in table.groupby("family", sort=True):
            parts.append(f"{family}: rate of the affirmative action by {name} "
                         f"(people [95% CI, participants resampled], predicted)\n" + variable_pivot(sub, name, "rate")
                         .to_string())
            parts.append(f"{family}: pearson_r [95% CI] by {name}\n" + variable_pivot(sub, name).to_string())
    return "\n\n".join(parts)
