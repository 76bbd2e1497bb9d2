"""Noise ceiling: the best correlation any predictor could reach on aggregate data.

When each problem was answered by n people, the observed rate is itself noisy, so even
the true choice probabilities would not correlate perfectly with it.  With only the
rate and n known (no individual responses), the split-half reliability is simulated:
per problem, two halves of floor(n/2) and ceil(n/2) people choose independently at the
observed rate, the half-rates are correlated across problems, and the correlation is
Spearman–Brown corrected to the full sample (r_full = 2 r / (1 + r)).

Assumptions, to keep in mind when quoting the number: choices are independent
Bernoulli draws at the observed rate (no clustering of people or order effects), and
the observed rates stand in for the true ones.  Because the observed rates already
carry sampling noise, their spread across problems overstates the true spread a little,
so the ceiling is slightly optimistic when n is small.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from envs.records import DecisionPoint

CEILING_COLUMNS = ["n_problems", "mean_n_people", "ceiling", "ci_low", "ci_high", "half_r", "valid_draws"]


def _rowwise_r(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r of each row of ``a`` with the same row of ``b``; NaN for a constant row."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (a * b).sum(axis=1) / den, np.nan)


def split_half_ceiling(rates: Sequence[float], n_people: Sequence[int], draws: int = 1000, seed: int = 0,
                       ci: float = 0.95) -> dict[str, float]:
    """Simulated split-half reliability of the observed rates, Spearman–Brown corrected.

    Problems answered by fewer than 2 people cannot be split and are left out.
    Returns ``ceiling`` (mean corrected r over draws), ``ci_low``/``ci_high``
    (percentile interval over draws), ``half_r`` (mean uncorrected half-vs-half r),
    ``n_problems``, ``mean_n_people`` and ``valid_draws`` (draws where neither half
    was constant and the halves did not correlate at exactly -1).
    """
    rates = np.asarray(rates, float)
    n = np.asarray(n_people, float)
    if rates.shape != n.shape:
        raise ValueError("rates and n_people must have the same length")
    ok = np.isfinite(rates) & np.isfinite(n) & (n >= 2)
    rates, n = rates[ok], n[ok].astype(int)
    out = {"n_problems": int(len(rates)), "mean_n_people": float(n.mean()) if len(n) else np.nan,
           "ceiling": np.nan, "ci_low": np.nan, "ci_high": np.nan, "half_r": np.nan, "valid_draws": 0}
    if len(rates) < 3 or np.ptp(rates) == 0:
        return out
    rng = np.random.default_rng(seed)
    n1, n2 = n // 2, n - n // 2
    h1 = rng.binomial(n1, rates, size=(draws, len(rates))) / n1
    h2 = rng.binomial(n2, rates, size=(draws, len(rates))) / n2
    r = _rowwise_r(h1, h2)
    r = r[np.isfinite(r) & (r > -1)]  # r = -1 (possible with a handful of problems) has no Spearman–Brown value
    if len(r) == 0:
        return out
    full = 2 * r / (1 + r)
    a = (1 - ci) / 2
    lo, hi = np.percentile(full, [100 * a, 100 * (1 - a)])
    out.update(ceiling=float(full.mean()), ci_low=float(lo), ci_high=float(hi), half_r=float(r.mean()),
               valid_draws=int(len(r)))
    return out


def _n_people_by_id(predictions: pd.DataFrame,
                    decisions: Sequence[DecisionPoint] | str | Path | None) -> pd.Series:
    if decisions is not None:
        if isinstance(decisions, (str, Path)):
            from envs.records import read_decisions

            decisions = read_decisions(decisions)
        return pd.Series({dp.decision_id: dp.n_people for dp in decisions}, dtype=float)
    if "n_people" in predictions:
        return predictions.drop_duplicates("decision_id").set_index("decision_id")["n_people"].astype(float)
    raise ValueError("n_people is not in the predictions table: "
                     "pass decisions (DecisionPoints or a decisions.jsonl path)")


def ceiling_table(predictions: pd.DataFrame, decisions: Sequence[DecisionPoint] | str | Path | None = None,
                  by: Sequence[str] = ("family",), draws: int = 1000, seed: int = 0,
                  ci: float = 0.95) -> pd.DataFrame:
    """:func:`split_half_ceiling` per group on the aggregate (``is_rate``) rows, one value per decision.

    The predictions table repeats each decision once per predictor; only the human side
    matters here, so each decision_id counts once.  ``n_people`` comes from a
    ``n_people`` column if the table has one, else from ``decisions``.  Families without
    rate rows do not appear.

    Columns: *by, n_problems, mean_n_people, ceiling, ci_low, ci_high, half_r, valid_draws.
    """
    by = list(by)
    if "is_rate" not in predictions:
        return pd.DataFrame(columns=[*by, *CEILING_COLUMNS])
    rows_ = predictions[predictions["is_rate"].astype(bool)].drop_duplicates("decision_id")
    if rows_.empty:
        return pd.DataFrame(columns=[*by, *CEILING_COLUMNS])
    n_people = _n_people_by_id(rows_, decisions)
    rows_ = rows_.assign(_n=rows_["decision_id"].map(n_people).to_numpy(float))
    out = []
    groups = rows_.groupby(by, sort=True) if by else [((), rows_)]
    for keys, g in groups:
        keys = keys if isinstance(keys, tuple) else (keys,)
        res = split_half_ceiling(g["human_rate"].to_numpy(float), g["_n"].to_numpy(float), draws, seed, ci)
        out.append({**dict(zip(by, keys)), **res})
    return pd.DataFrame(out, columns=[*by, *CEILING_COLUMNS])
