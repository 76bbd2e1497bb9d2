"""Negative log-likelihood per participant: the one score every predictor (LLMs included) can be ranked by.

Correlations say whether a predictor orders decisions right; the likelihood says how much probability it put on
what people actually did, so it rewards calibration and punishes confident mistakes.  It is summed over a
participant's decisions because a person — not a decision — is the independent unit (``analysis.bootstrap``).

Per decision (``decision_nll``):

- ``nll``: ``-log q(human's action)`` with ``q = (1 - eps) p + eps / k`` — ``eps`` = ``analysis.metrics.TREMBLE``
  (0.01) of the uniform over the decision's ``k`` actions (a trembling hand).  This is the headline figure: a
  pure-strategy prediction (an equilibrium) stays finite and its score does not hinge on an arbitrary clip.
  With ``eps = TREMBLE`` it equals ``log_loss_eps`` of ``analysis.metrics`` (the tests hold them equal).
- ``nll_raw``: ``-log p`` with p clipped to [``EPS``, 1] (1e-6), the ``log_loss`` of ``analysis.metrics``: the
  unsmoothed figure, set by the clip wherever a prediction is pure and wrong.

Aggregate rows (``is_rate``: one problem, ``n_people`` answers, a share ``human_rate`` affirmative) are scored by
the binomial likelihood of the observed count ``k = human_rate × n_people`` out of ``n_people``:
``-[k log q + (n - k) log(1 - q) + log C(n, k)]``, the binomial coefficient by ``gammaln`` so that a rate rounded
in the source (k not quite an integer) still gets a finite, continuous value; for integer k it is exactly
``-scipy.stats.binom.logpmf``.  The coefficient is included (``binom_coef=True``) so the figure is a true NLL of
the counts; it does not depend on the predictor, so it cancels in every difference (``paired_nll``) and in the
order of a ranking.  ``n_people`` comes from a column of that name (``with_n_people`` adds it from the decision
points; the predictions table itself does not carry it).  Where it is missing the row counts as one observation
(``n_people = 1``, as ``predictors.qre`` does) and its NLL is the cross-entropy ``-(y log q + (1 - y) log(1 - q))``
of ``analysis.metrics`` — no coefficient, since with a fractional k there is no count to take it of.  For one
person's decision (n = 1, k = 0 or 1) every formula reduces to ``-log q(human's action)``.

``participant_nll`` sums these per predictor × participant (× ``by`` groups): ``n`` decision rows, ``n_obs``
choices (``n_people`` summed; equal to ``n`` for individual data), ``nll_sum`` and ``nll_mean = nll_sum / n_obs``
(per choice, so one aggregate row of 1,000 people does not read as a thousand times worse than a person's
decision), and the same for ``nll_raw``.  ``nll_ranking`` averages the per-participant means over participants
(each person weighs equally) with a participant-bootstrap interval; ``paired_nll`` compares two predictors on
the decisions both scored, participant by participant (mean difference, bootstrap CI, Wilcoxon signed-rank p).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import gammaln

from analysis.bootstrap import participant_weights, percentile_ci, seeded_rng
from analysis.metrics import EPS, N_BOOT, TREMBLE

NLL_COLUMNS = ["n", "n_obs", "nll_sum", "nll_mean", "nll_raw_sum", "nll_raw_mean"]
RANK_COLUMNS = ["rank", "predictor", "n_participants", "n", "nll_mean", "nll_ci_low", "nll_ci_high", "nll_raw_mean"]
PAIR_COLUMNS = ["a", "b", "n_participants", "n", "nll_a", "nll_b", "diff", "diff_ci_low", "diff_ci_high",
                "p_wilcoxon", "better"]


def with_n_people(table: pd.DataFrame, decisions: Iterable[Any]) -> pd.DataFrame:
    """``table`` with an ``n_people`` column from the decision points (``DecisionPoint.n_people`` by
    ``decision_id``; NaN where unknown or for individual decisions): what the binomial likelihood needs."""
    counts = {dp.decision_id: dp.n_people for dp in decisions if dp.n_people}
    out = table.copy()
    out["n_people"] = out["decision_id"].map(counts).astype(float)
    return out


def decision_nll(table: pd.DataFrame, eps: float = TREMBLE, binom_coef: bool = True) -> pd.DataFrame:
    """Per row of a predictions table: ``n_obs`` (choices it stands for), ``nll`` (tremble ``eps``) and
    ``nll_raw`` (clipped at ``EPS``) — see the module docstring for the formulas and the aggregate rows."""
    p = table["p_affirmative"].to_numpy(float)
    p_h = table["p_human"].to_numpy(float)
    y = (table["human_rate"] if "human_rate" in table else table["human_affirmative"]).to_numpy(float)
    is_rate = table["is_rate"].to_numpy(bool) if "is_rate" in table else np.zeros(len(table), bool)
    k = table["probs"].map(lambda s: len(json.loads(s))).to_numpy(float) if "probs" in table else np.full(len(p), 2.0)
    n_people = table["n_people"].to_numpy(float) if "n_people" in table else np.full(len(p), np.nan)
    known = is_rate & np.isfinite(n_people) & (n_people > 0)
    n = np.where(known, n_people, 1.0)
    coef = gammaln(n + 1) - gammaln(n * y + 1) - gammaln(n * (1 - y) + 1)
    coef = np.where(known & binom_coef, coef, 0.0)

    def nll(q_aff: np.ndarray, q_not: np.ndarray, q_human: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = -n * (np.where(y > 0, y * np.log(q_aff), 0.0) + np.where(y < 1, (1 - y) * np.log(q_not), 0.0))
            return np.where(is_rate, rate - coef, -np.log(q_human))

    return pd.DataFrame({
        "n_obs": n,
        "nll": nll((1 - eps) * p + eps / k, (1 - eps) * (1 - p) + eps / k, (1 - eps) * p_h + eps / k),
        "nll_raw": nll(np.clip(p, EPS, 1.0), np.clip(1 - p, EPS, 1.0), np.clip(p_h, EPS, 1.0)),
    }, index=table.index)


def participant_nll(table: pd.DataFrame, by: Sequence[str] = ("family",), eps: float = TREMBLE,
                    binom_coef: bool = True) -> pd.DataFrame:
    """One row per predictor × ``by`` group × participant: ``NLL_COLUMNS`` (sums and per-choice means).
    ``by=("family", "round")`` gives it per round; sorted by predictor, group and participant, so the order of
    the input rows does not matter."""
    keys = ["predictor", *by, "participant_id"]
    scored = pd.concat([table[keys], decision_nll(table, eps, binom_coef)], axis=1)
    scored["one"] = 1
    out = scored.groupby(keys, sort=True, dropna=False).agg(
        n=("one", "sum"), n_obs=("n_obs", "sum"), nll_sum=("nll", "sum"), nll_raw_sum=("nll_raw", "sum"))
    out["nll_mean"] = out["nll_sum"] / out["n_obs"]
    out["nll_raw_mean"] = out["nll_raw_sum"] / out["n_obs"]
    return out.reset_index()[[*keys, *NLL_COLUMNS]]


def _boot_means(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Participant-bootstrap draws (draws × columns) of the column means of ``values`` (participants × columns),
    every column under the same resamples; NaN cells (a predictor that did not score that person) are left out
    of their column's mean."""
    ok = np.isfinite(values)
    v = np.where(ok, values, 0.0)
    draws = [(w @ v) / (w @ ok) for w in participant_weights(np.arange(len(values)), n_boot, rng)]
    return np.vstack(draws) if draws else np.empty((0, values.shape[1]))


def nll_ranking(table: pd.DataFrame, by: Sequence[str] = ("family",), eps: float = TREMBLE, n_boot: int = N_BOOT,
                seed: int = 0, ci: float = 0.95, binom_coef: bool = True) -> pd.DataFrame:
    """Per ``by`` group: predictors ranked by ``nll_mean``, the mean over participants of each person's NLL per
    choice (lower is better), with a participant-bootstrap percentile interval.

    All predictors of a group share the same resamples (drawn once from the group's participants, seeded by
    ``seed`` and the group), so their intervals move together.  A predictor that scored only some of the
    people is averaged over those; use ``paired_nll`` to compare two on exactly the same people."""
    per = participant_nll(table, by, eps, binom_coef)
    rows = []
    for keys, g in (per.groupby(list(by), sort=True, dropna=False) if by else [((), per)]):
        keys = keys if isinstance(keys, tuple) else (keys,)
        wide = g.pivot(index="participant_id", columns="predictor", values="nll_mean")  # sorted both ways
        people = wide.index.to_numpy()
        draws = _boot_means(wide.to_numpy(float), n_boot if len(people) >= 2 else 0,
                            seeded_rng(seed, "nll", *keys, *people))
        for j, pred in enumerate(wide.columns):
            mine = g[g["predictor"] == pred]
            low, high = percentile_ci(draws[:, j], ci) if len(draws) else (np.nan, np.nan)
            rows.append({**dict(zip(by, keys)), "predictor": pred, "n_participants": len(mine),
                         "n": int(mine["n"].sum()), "nll_mean": float(mine["nll_mean"].mean()),
                         "nll_ci_low": low, "nll_ci_high": high, "nll_raw_mean": float(mine["nll_raw_mean"].mean())})
    out = pd.DataFrame(rows, columns=[*by, *RANK_COLUMNS])
    out = out.sort_values([*by, "nll_mean", "predictor"], kind="stable").reset_index(drop=True)
    out["rank"] = out.groupby(list(by), dropna=False).cumcount() + 1 if by else np.arange(1, len(out) + 1)
    return out


def paired_nll(table: pd.DataFrame, a: str, b: str, by: Sequence[str] = ("family",), eps: float = TREMBLE,
               n_boot: int = N_BOOT, seed: int = 0, ci: float = 0.95) -> pd.DataFrame:
    """``a`` against ``b`` per ``by`` group, on the decisions both predicted, participant by participant:
    ``diff`` = mean over participants of (a's NLL per choice - b's), negative where ``a`` is better; its
    participant-bootstrap percentile interval; the two-sided Wilcoxon signed-rank p of the per-participant
    differences (scipy; zero differences dropped, NaN when all are zero or fewer than 2 people); ``better`` names
    the predictor with the lower NLL when the interval excludes 0, else ``"neither"``.  The binomial coefficient of
    aggregate rows is the same for both and cancels, so there is no ``binom_coef`` here."""
    shared = set(table.loc[table["predictor"] == a, "decision_id"]) & set(table.loc[table["predictor"] == b,
                                                                                    "decision_id"])
    both = table[table["predictor"].isin([a, b]) & table["decision_id"].isin(shared)]
    per = participant_nll(both, by, eps)
    rows = []
    for keys, g in (per.groupby(list(by), sort=True, dropna=False) if by else [((), per)]):
        keys = keys if isinstance(keys, tuple) else (keys,)
        wide = g.pivot(index="participant_id", columns="predictor", values="nll_mean")
        d = (wide[a] - wide[b]).to_numpy(float)
        people = wide.index.to_numpy()
        draws = _boot_means(d[:, None], n_boot if len(d) >= 2 else 0, seeded_rng(seed, "nll-pair", *keys, *people))
        low, high = percentile_ci(draws[:, 0], ci) if len(draws) else (np.nan, np.nan)
        p = np.nan
        if len(d) >= 2 and np.any(d != 0):
            p = float(stats.wilcoxon(d, zero_method="wilcox").pvalue)
        better = "neither" if not (high < 0 or low > 0) else (a if high < 0 else b)
        rows.append({**dict(zip(by, keys)), "a": a, "b": b, "n_participants": len(d),
                     "n": int(g.loc[g["predictor"] == a, "n"].sum()), "nll_a": float(wide[a].mean()),
                     "nll_b": float(wide[b].mean()), "diff": float(d.mean()), "diff_ci_low": low,
                     "diff_ci_high": high, "p_wilcoxon": p, "better": better})
    return pd.DataFrame(rows, columns=[*by, *PAIR_COLUMNS])


def format_nll_tables(table: pd.DataFrame, eps: float = TREMBLE, n_boot: int = N_BOOT, seed: int = 0,
                      ci: float = 0.95, binom_coef: bool = True) -> str:
    """The NLL ranking per family as compact text blocks (cells like ``0.612 [0.60, 0.63]``, ``analysis.tables``),
    best predictor first: what the CLI prints after the metric tables."""
    from analysis.tables import ci_cell

    if table.empty:
        return "(no predictions)"
    ranking = nll_ranking(table, ("family",), eps, n_boot, seed, ci, binom_coef)
    label = f"[{ci:.0%} CI]"
    parts = [f"NLL: negative log-likelihood per choice, averaged over participants (lower is better); eps = {eps:g} "
             f"of uniform mixed into every prediction; raw: p clipped at {EPS:g}. [lo, hi]: {ci:.0%} interval, "
             f"{n_boot} resamples of participants."]
    if "is_rate" in table and table["is_rate"].any():
        coef = (", including -log C(n, k): the same for every predictor, it puts uniform below log 2 = 0.693"
                if binom_coef else ", without log C(n, k)")
        parts[0] += f" Aggregate rows: binomial NLL of the counts{coef}."
    for family, g in ranking.groupby("family", sort=True):
        body = pd.DataFrame({
            "predictor": g["predictor"].to_numpy(),
            f"nll {label}": [ci_cell(v, lo, hi) for v, lo, hi in zip(g["nll_mean"], g["nll_ci_low"],
                                                                         g["nll_ci_high"])],
            "nll_raw": g["nll_raw_mean"].map(lambda v: f"{v:.3f}").to_numpy(),
            "participants": g["n_participants"].to_numpy(),
            "decisions": g["n"].to_numpy()}, index=pd.Index(g["rank"].to_numpy(), name="rank"))
        parts.append(f"{family}: predictors ranked by NLL per choice {label}\n{body.to_string()}")
    return "\n\n".join(parts)
