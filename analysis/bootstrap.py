"""Participant bootstrap: intervals that respect that one person makes many decisions.

Decisions of one person are not independent, so every interval gamereplay reports
resamples *participants* with replacement (all of a drawn person's decisions come
along) rather than decisions.  A resample is a row of integer weights over the
decisions, so a statistic of many resamples is one matrix product
(``weighted_r``), ``CHUNK`` resamples at a time to bound memory.
"""

from __future__ import annotations

import zlib
from typing import Any, Iterator

import numpy as np
import pandas as pd
from scipy import stats

CHUNK = 256  # bootstrap draws per matrix product: bounds memory at CHUNK × rows


def seeded_rng(seed: int, *keys: Any) -> np.random.Generator:
    """A generator fixed by the seed and the names involved, not by the order of the work."""
    return np.random.default_rng([seed, zlib.crc32("|".join(map(str, keys)).encode())])


def participant_weights(codes: np.ndarray, n_boot: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Weight matrices (draws × decisions), ``CHUNK`` draws at a time, for ``n_boot`` participant resamples;
    ``codes`` numbers each decision's participant 0..k-1 (``pandas.factorize``)."""
    codes = np.asarray(codes)
    k = int(codes.max()) + 1 if len(codes) else 0
    for start in range(0, n_boot, CHUNK):
        m = min(CHUNK, n_boot - start)
        counts = rng.multinomial(k, np.full(k, 1.0 / k), size=m)  # participants drawn with replacement
        yield counts[:, codes].astype(float)


def weighted_r(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r under each row of integer weights ``w`` (draws × rows) — a resample with duplicates.

    Centring on the first element keeps a constant column exactly zero, so a
    resample where one side is constant gives NaN, like ``pearson``.
    """
    xc = x - x[0]
    yc = y - y[0]
    sw = w.sum(axis=1)
    mx, my = w @ xc / sw, w @ yc / sw
    exx, eyy = w @ (xc * xc) / sw, w @ (yc * yc) / sw
    vx = exx - mx * mx
    vy = eyy - my * my
    cov = w @ (xc * yc) / sw - mx * my
    ok = (vx > 1e-12 * exx) & (vy > 1e-12 * eyy) & (vx > 0) & (vy > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(vx * vy)
    return np.where(ok, np.clip(r, -1.0, 1.0), np.nan)


def percentile_ci(draws: np.ndarray, ci: float, min_valid: float = 0.5) -> tuple[float, float]:
    """Percentile interval of the finite draws; NaN when most draws are undefined."""
    draws = np.asarray(draws, float)
    fin = draws[np.isfinite(draws)]
    if len(draws) == 0 or len(fin) < max(1, min_valid * len(draws)):
        return np.nan, np.nan
    a = (1 - ci) / 2
    lo, hi = np.percentile(fin, [100 * a, 100 * (1 - a)])
    return float(lo), float(hi)


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r, NaN when either side is constant or there are fewer than 2 rows (as in metrics)."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return np.nan
    return float(stats.pearsonr(x, y).statistic)


def r_interval(p: np.ndarray, y: np.ndarray, participants: Any, n_boot: int, rng: np.random.Generator,
               ci: float = 0.95) -> tuple[float, float]:
    """Participant-bootstrap percentile interval of Pearson r between predictions ``p`` and targets ``y``."""
    if n_boot <= 0 or not np.isfinite(pearson(p, y)):
        return np.nan, np.nan
    codes, _ = pd.factorize(pd.Series(list(participants)))
    p, y = np.asarray(p, float), np.asarray(y, float)
    return percentile_ci(np.concatenate([weighted_r(w, p, y) for w in participant_weights(codes, n_boot, rng)]), ci)


def mean_interval(y: np.ndarray, participants: Any, n_boot: int, rng: np.random.Generator,
                  ci: float = 0.95) -> tuple[float, float]:
    """Participant-bootstrap percentile interval of the mean of ``y`` (e.g. a choice rate)."""
    y = np.asarray(y, float)
    if n_boot <= 0 or len(y) == 0:
        return np.nan, np.nan
    codes, _ = pd.factorize(pd.Series(list(participants)))
    draws = [w @ y / w.sum(axis=1) for w in participant_weights(codes, n_boot, rng)]
    return percentile_ci(np.concatenate(draws), ci)
