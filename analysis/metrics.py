"""How well predictions describe what people did, overall and round by round.

For every group of decisions:

- ``accuracy``: share of decisions where the most likely action is the one the
  human took; ties count 1/k (the expected accuracy of breaking the tie at random),
  so the uniform predictor scores exactly chance.
- ``pearson_r``: Pearson correlation between p(affirmative action) and the human's
  0/1 choice over *all* decisions of the group (NaN when either side is constant:
  its variance is below 1e-12 of its mean square, the rule of ``weighted_r``).
  Over a group that spans several games or rounds it mixes the contrast *between*
  cells into the score: an equilibrium that predicts one number per game has no r
  inside any game, yet gets r = .14 in round 10 of the repeated games only because
  people cooperate more in one game than in the other.
- ``r_within``: the mean of the Pearson r's inside each (family, game, round) cell
  of the group, weighted by the cell's decisions — how well a predictor tells apart
  people who face the same situation.  Cells without an r (a prediction constant in
  the cell, or everyone choosing alike) are skipped and counted: ``r_within_cells``
  cells had an r, ``r_within_skipped`` did not.  Weighting by decisions because a
  cell of 3 decisions has an r of mostly noise (its standard error is about
  1/sqrt(n)), and equal-sized cells — the repeated games — weigh equally anyway; not
  Fisher-z averaging, because cells with |r| = 1 (the leave-one-out population rate,
  by construction) have an infinite z.  For one cell it equals ``pearson_r``.
- ``log_loss``: mean -log p(human's action), with p clipped to [``EPS``, 1] — a
  pure-strategy prediction has infinite log-loss, so this figure is set by the clip;
  ``n_clipped`` counts the decisions at the clip.
- ``log_loss_eps``: the log-loss of every prediction mixed with ``TREMBLE`` = 0.01 of
  the uniform distribution over the decision's actions (a trembling hand), which
  needs no clip: an equilibrium's score then does not depend on an arbitrary constant.
- ``brier``: mean squared error of p(affirmative) against the 0/1 choice.
- ``mean_mass``: mean decision-token probability mass (LLM predictors only).

Aggregate data (``is_rate``: a problem answered by many people, with the share
``human_rate`` who took the affirmative action) is scored against that rate: r is
between p(affirmative) and the rate, Brier is ``(p - rate)^2``, log-loss is the
cross-entropy ``-(rate log p + (1 - rate) log(1 - p))``, and accuracy counts the
most likely action against the majority choice.  For one person's decision the
rate is 0 or 1 and every formula reduces to the one above.

``metrics_table`` adds a participant-bootstrap interval (``<metric>_ci_low``,
``<metric>_ci_high``) to every metric in ``CI_METRICS``: participants are resampled,
all of a drawn person's decisions come along (``analysis.bootstrap``).  A point
estimate is the same statistic under unit weights (``_statistics``), so estimate
and interval cannot drift apart; every statistic is computed from per-participant
sums (``_sums``), so 1,000 resamples of a group cost one small matrix product.
"""

from __future__ import annotations

import json
import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from analysis.bootstrap import participant_weights, seeded_rng

METRICS = ["n", "accuracy", "pearson_r", "r_within", "r_within_cells", "r_within_skipped", "log_loss", "n_clipped",
           "log_loss_eps", "brier", "mean_mass", "human_rate", "predicted_rate"]
#: metrics that get a participant-bootstrap interval in ``metrics_table``
CI_METRICS = ["pearson_r", "r_within", "accuracy", "log_loss", "log_loss_eps", "brier", "mean_mass", "human_rate"]
CI_COLUMNS = [f"{m}_ci_{side}" for m in CI_METRICS for side in ("low", "high")]
EPS = 1e-6  # the clip of ``log_loss``
TREMBLE = 0.01  # share of the uniform distribution mixed into every prediction for ``log_loss_eps``
CELL = ("family", "game", "round")  # the columns that define a cell of ``r_within``
N_BOOT = 1000  # participant resamples per interval
_JOIN_LIMIT = 4_000_000  # numbers in one resample matrix or product (32 MB): more are done in slices of draws
_DENSE_LIMIT = 500_000  # participants × cells up to which a group's sums may be dense (24 MB a predictor)
_SMALL = 20_000  # participants × cells below which they are dense anyway (sparse bookkeeping costs more)
_SMALL_PRODUCT = 2_000_000  # multiply-adds below which a resample product skips BLAS (see ``_product``)
_MEANS = ["accuracy", "log_loss", "log_loss_eps", "brier", "human_rate"]  # plain means of a per-decision score


def decision_scores(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per decision, the terms the metrics average and group by — computed once per table, not once per group.

    Keys: ``accuracy`` (credit 1/k when the human's action is among k tied top actions), ``log_loss``,
    ``log_loss_eps``, ``brier`` (squared error), ``human_rate`` (the target y), ``p``, ``clipped``, ``mass``,
    ``cell`` (an integer code of the (family, game, round) cell) and ``participant`` (the id).
    """
    y = (df["human_rate"] if "human_rate" in df else df["human_affirmative"]).to_numpy(float)
    p = df["p_affirmative"].to_numpy(float)
    p_h = df["p_human"].to_numpy(float)
    is_rate = df["is_rate"].to_numpy(bool) if "is_rate" in df else np.zeros(len(df), bool)
    k = df["probs"].map(lambda s: len(json.loads(s))).to_numpy(float) if "probs" in df else np.full(len(df), 2.0)

    def cross_entropy(q_aff: np.ndarray, q_not: np.ndarray, q_human: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(is_rate, -(y * np.log(q_aff) + (1 - y) * np.log(q_not)), -np.log(q_human))

    in_top = np.isclose(p_h, df["p_top"].to_numpy(float), rtol=0, atol=1e-12)
    keys = [c for c in CELL if c in df]
    cell = df.groupby(keys, sort=False, dropna=False).ngroup().to_numpy() if keys else np.zeros(len(df), int)
    return {
        "accuracy": np.where(in_top, 1.0 / df["n_tied"].to_numpy(float), 0.0),
        "log_loss": cross_entropy(np.clip(p, EPS, 1.0), np.clip(1 - p, EPS, 1.0), np.clip(p_h, EPS, 1.0)),
        "log_loss_eps": cross_entropy((1 - TREMBLE) * p + TREMBLE / k, (1 - TREMBLE) * (1 - p) + TREMBLE / k,
                                      (1 - TREMBLE) * p_h + TREMBLE / k),
        "brier": (p - y) ** 2,
        "human_rate": y,
        "p": p,
        "clipped": np.where(is_rate, ((y > 0) & (p < EPS)) | ((y < 1) & (1 - p < EPS)), p_h < EPS),
        "mass": df["mass"].to_numpy(float),
        "cell": cell,
        "participant": df["participant_id"].to_numpy() if "participant_id" in df else np.arange(len(df)),
    }


_MOMENTS = 6  # n, Σx, Σy, Σx², Σy², Σxy of (p - p₀, y - y₀): what a Pearson r is made of
_HEAD = 1 + len(_MEANS) + 2  # the first columns of ``_sums``: decisions, the means' sums, mass count and sum


def _moments(xc: np.ndarray, yc: np.ndarray) -> list[np.ndarray]:
    """Per-decision terms of ``_MOMENTS`` of values centred on one of them (as ``weighted_r`` does): a constant
    side is then exactly zero, so its variance is 0 and r is NaN, not rounding noise."""
    return [np.ones_like(xc), xc, yc, xc * xc, yc * yc, xc * yc]


def _r(m: np.ndarray) -> np.ndarray:
    """Pearson r from ``_MOMENTS`` stacked on the last axis; NaN where a side is constant or nobody was drawn
    (the moments form of ``analysis.bootstrap.weighted_r``, which the tests hold it equal to)."""
    n, sx, sy, sxx, syy, sxy = np.moveaxis(m, -1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mx, my, exx, eyy = sx / n, sy / n, sxx / n, syy / n
        vx, vy = exx - mx * mx, eyy - my * my
        ok = (vx > 1e-12 * exx) & (vy > 1e-12 * eyy) & (vx > 0) & (vy > 0)
        r = (sxy / n - mx * my) / np.sqrt(vx * vy)
    return np.where(ok, np.clip(r, -1.0, 1.0), np.nan)


def _sums(s: dict[str, np.ndarray], codes: np.ndarray, k: int) -> tuple[np.ndarray | sparse.csr_array, int, int]:
    """(participants × columns sums, cells with an r, cells): every metric of a resample is a function of
    ``counts @ sums`` — one product of draws × participants by participants × columns, never a draws × decisions
    matrix.  Columns: ``_HEAD`` (decisions, the sums of ``_MEANS``, mass count and sum), then for each of the
    ``_MOMENTS`` the pooled r's and each cell's that has an r (centred on the cell's first decision).  A cell
    without one (a constant side) has none in any resample either, so it needs no columns: an equilibrium
    costs nothing here.  Sparse where dense would be large and mostly zeros (participants nested in many
    cells)."""
    _, first, cell = np.unique(s["cell"], return_index=True, return_inverse=True)  # first: each cell's first row
    cell = cell.ravel()
    x, y = s["p"], s["human_rate"]
    has_mass = np.isfinite(s["mass"])
    head = np.column_stack([np.bincount(codes, weights=v, minlength=k) for v in
                            [np.ones(len(codes)), *(s[m] for m in _MEANS), has_mass, np.where(has_mass, s["mass"], 0)]])
    pooled = _moments(x - x[0], y - y[0])
    terms = _moments(x - x[first][cell], y - y[first][cell])
    live = np.isfinite(_r(np.column_stack([np.bincount(cell, weights=v, minlength=len(first)) for v in terms])))
    keep = live[cell]
    width = 1 + int(live.sum())  # per moment: the pooled column, then the live cells
    col = np.concatenate([np.zeros(len(codes), int), np.cumsum(live)[cell[keep]]])  # pooled: column 0
    row = np.concatenate([codes, codes[keep]])
    values = [np.concatenate([u, v[keep]]) for u, v in zip(pooled, terms)]
    at = row * width + col
    if k * width <= _SMALL or (k * width <= _DENSE_LIMIT and len(np.unique(at)) > 0.25 * k * width):
        block = [np.bincount(at, weights=v, minlength=k * width).reshape(k, width) for v in values]
        return np.column_stack([head, *block]), width - 1, len(first)
    block = sparse.coo_array((np.concatenate(values), (np.tile(row, _MOMENTS),
                                                       np.concatenate([j * width + col for j in range(_MOMENTS)]))),
                             shape=(k, _MOMENTS * width))  # duplicates (a person's decisions in a cell) add up
    return sparse.hstack([sparse.csr_array(head), block], format="csr"), width - 1, len(first)


def _statistics(m: np.ndarray, n_cells: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every metric of ``CI_METRICS`` from ``weights @ sums`` (``_sums``, with ``n_cells`` cells' moments), one
    value per row (draw), and the number of cells with an r.  ``r_within`` weights each cell's r by its decisions
    and skips cells without one (in a resample: also a cell none of whose people was drawn)."""
    moments = m[:, _HEAD:].reshape(len(m), _MOMENTS, 1 + n_cells)
    r = _r(np.swapaxes(moments, 1, 2))  # draws × (pooled, cells...)
    ok = np.isfinite(r[:, 1:])
    n = moments[:, 0, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {name: m[:, 1 + i] / m[:, 0] for i, name in enumerate(_MEANS)}
        out["mean_mass"] = m[:, _HEAD - 1] / m[:, _HEAD - 2]  # NaN without an LLM's mass
        out["r_within"] = np.where(ok, r[:, 1:] * n, 0.0).sum(axis=1) / np.where(ok, n, 0.0).sum(axis=1)
    out["pearson_r"] = r[:, 0]
    return out, ok.sum(axis=1)


def _summary(s: dict[str, np.ndarray]) -> dict[str, float]:
    n = len(s["p"])
    if n == 0:
        return {m: (0 if m in ("n", "n_clipped", "r_within_cells", "r_within_skipped") else np.nan) for m in METRICS}
    sums, n_live, n_cells = _sums(s, np.zeros(n, int), 1)  # everyone as one participant of weight 1
    point, cells = _statistics(np.asarray(sums.todense() if sparse.issparse(sums) else sums), n_live)
    return {**{m: float(v[0]) for m, v in point.items()},
            "n": n,
            "r_within_cells": int(cells[0]),
            "r_within_skipped": n_cells - int(cells[0]),
            "n_clipped": int(s["clipped"].sum()),
            "predicted_rate": float(s["p"].mean())}


def summarise(df: pd.DataFrame) -> dict[str, float]:
    """All metrics (``METRICS``) for one group of prediction rows."""
    out = _summary(decision_scores(df))
    return {m: out[m] for m in METRICS}


def resamples(participants: np.ndarray, n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """(the sorted participant ids, participant-resample count matrices: draws × participants).

    Drawn once per group and shared by every predictor of the group: predictors are compared on the same
    resampled people, adding a predictor moves no other interval, and the draws are not repeated per
    predictor.  The draws come in ``CHUNK``s from ``participant_weights``; they are joined into one matrix
    where it stays under ``_JOIN_LIMIT`` numbers, so a group costs one matrix product (many small products
    are slow where BLAS threads wait for a busy core).  No draws with fewer than 2 participants: every
    resample of one person is that person, and the "interval" would look falsely certain.
    """
    ids = np.unique(np.asarray(participants))
    if n_boot <= 0 or len(ids) < 2:
        return ids, []
    chunks = list(participant_weights(np.arange(len(ids)), n_boot, rng))
    return ids, [np.vstack(chunks)] if n_boot * len(ids) <= _JOIN_LIMIT else chunks


def intervals(scores: list[dict[str, np.ndarray]], ids: np.ndarray, counts: list[np.ndarray], ci: float = 0.95
              ) -> list[dict[str, float]]:
    """Percentile intervals (``CI_COLUMNS``) for each of one group's predictors (their ``decision_scores``) under
    the resamples ``counts`` of the participants ``ids`` (``resamples``) — one matrix product per chunk for all
    of them.  NaN without resamples, for a predictor with one participant, and where most resamples leave a
    metric undefined."""
    nan = {c: np.nan for c in CI_COLUMNS}
    codes = [np.searchsorted(ids, s["participant"]) for s in scores]
    todo = [i for i, c in enumerate(codes) if counts and len(np.unique(c)) >= 2]
    if not todo:
        return [dict(nan) for _ in scores]
    blocks = [_sums(scores[i], codes[i], len(ids)) for i in todo]
    edges = np.cumsum([0, *(b.shape[1] for b, _, _ in blocks)])
    dense = all(isinstance(b, np.ndarray) for b, _, _ in blocks)
    stacked = np.hstack([b for b, _, _ in blocks]) if dense else sparse.hstack([b for b, _, _ in blocks], "csr")
    draws: list[list[dict[str, np.ndarray]]] = [[] for _ in todo]
    step = max(1, _JOIN_LIMIT // stacked.shape[1])  # draws per product: bounds its memory with many cells
    for c in (chunk[i:i + step] for chunk in counts for i in range(0, len(chunk), step)):
        product = _product(c, stacked) if dense else (stacked.T @ c.T).T  # sparse @ dense: a dense array
        for j, (_, n_live, _) in enumerate(blocks):
            draws[j].append(_statistics(product[:, edges[j]:edges[j + 1]], n_live)[0])
    low, high = _percentiles(np.column_stack([np.concatenate([d[m] for d in draws[j]])
                                              for j in range(len(todo)) for m in CI_METRICS]), ci)
    out = [dict(nan) for _ in scores]
    for j, i in enumerate(todo):
        for c, m in enumerate(CI_METRICS, start=j * len(CI_METRICS)):
            out[i][f"{m}_ci_low"], out[i][f"{m}_ci_high"] = float(low[c]), float(high[c])
    return out


def _product(counts: np.ndarray, sums: np.ndarray) -> np.ndarray:
    """``counts @ sums``; below ``_SMALL_PRODUCT`` multiply-adds without BLAS, whose threads cost ~10 ms a call
    on a busy 2-core machine (measured: 11 ms for 1000 × 17 by 17 × 80, 1.5 ms with einsum's own loop)."""
    if counts.shape[0] * counts.shape[1] * sums.shape[1] < _SMALL_PRODUCT:
        return np.einsum("ij,jk->ik", counts, sums, optimize=False)
    return counts @ sums


def _percentiles(draws: np.ndarray, ci: float, min_valid: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """``analysis.bootstrap.percentile_ci`` of every column of ``draws`` at once (the tests hold them equal):
    the percentile interval of the finite draws, NaN where most draws are undefined."""
    finite = np.isfinite(draws).sum(axis=0)
    a = (1 - ci) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: NaN, set below anyway
        low, high = np.nanpercentile(draws, [100 * a, 100 * (1 - a)], axis=0)
    bad = finite < max(1.0, min_valid * len(draws))
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def metrics_table(predictions: pd.DataFrame, by: Sequence[str] = ("family", "game"), n_boot: int = N_BOOT,
                  seed: int = 0, ci: float = 0.95) -> pd.DataFrame:
    """Metrics per predictor × group × round, plus an ``all`` round per group and an ``all`` group, each metric of
    ``CI_METRICS`` with its participant-bootstrap interval (``n_boot`` = 0: no intervals, NaN).

    The ``round`` column is a string so that the ``all`` rows sit in the same column.  Resamples are seeded by
    ``seed`` and the group's participants, not the predictor (see ``resamples``): rows of the same people — the
    rounds of a repeated game — are resampled alike, so a round that equals ``all`` has the same interval.
    """
    by = list(by)
    predictions = predictions.reset_index(drop=True)
    scores = decision_scores(predictions)
    levels = [([*by, "round"], {}), (by, {"round": "all"})]
    if by:  # with no grouping columns the rows above are already the pooled ones
        levels.append(([], {**{k: "all" for k in by}, "round": "all"}))
    rows = []
    people, ids, counts = None, np.array([]), []  # the last group's resamples: the next round has the same people
    for names, fixed in levels:
        groups = predictions.groupby(names, sort=True) if names else [((), predictions)]
        level = []
        for keys, g in groups:
            group = {**dict(zip(names, keys if isinstance(keys, tuple) else (keys,))), **fixed}
            idx = g.index.to_numpy()
            here = np.unique(scores["participant"][idx])
            if people is None or not np.array_equal(here, people):
                people = here
                ids, counts = resamples(people, n_boot, seeded_rng(seed, "metrics", *people))
            by_pred = g.groupby("predictor", sort=True).indices
            subsets = [{k: v[idx[rows]] for k, v in scores.items()} for rows in by_pred.values()]
            for pred, sub, ci_cols in zip(by_pred, subsets, intervals(subsets, ids, counts, ci)):
                level.append({"predictor": pred, **group, **_summary(sub), **ci_cols})
        rows += sorted(level, key=lambda r: r["predictor"])  # stable: groups stay sorted within a predictor
    out = pd.DataFrame(rows, columns=["predictor", *by, "round", *METRICS, *CI_COLUMNS])
    out["round"] = out["round"].astype(str)
    return out


def round_pivot(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rounds as rows (numeric order, then ``all``), predictors as columns, from a ``metrics_table``."""
    t = table.pivot(index="round", columns="predictor", values=metric)
    order = sorted((r for r in t.index if r != "all"), key=int) + ["all"]
    return t.loc[order].rename_axis(index="round", columns=None)


def pooled_round_table(predictions: pd.DataFrame, metric: str = "pearson_r", n_boot: int = 0) -> pd.DataFrame:
    """Rounds (pooled over games) as rows, predictors as columns, numbers only (``analysis.tables`` prints them
    with their intervals)."""
    return round_pivot(metrics_table(predictions, by=(), n_boot=n_boot), metric)
