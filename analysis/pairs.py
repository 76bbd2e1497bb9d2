"""Base vs aligned model pairs: which one describes people better, and how sure we are.

The study's question is comparative: for two models of the same provider that differ
only by alignment (a base model and its instruction-tuned / RLHF partner), does the
base or the aligned model's p(affirmative) correlate better (Pearson r) with what
people did?  This module builds that comparison in four steps:

1. ``pair_table``: per pair × group, both r's on the *same* decisions, their
   difference ``diff = r_base - r_aligned`` and a paired bootstrap CI of the
   difference.  The bootstrap resamples participants (not decisions) because one
   person's decisions are not independent; both models see the same resample, so the
   CI reflects the paired design.
2. ``apply_filters``: the paper's exclusions — a model that puts little probability
   mass on the decision tokens is not really answering, and a pair where neither
   model tracks people at all says nothing about which tracks them better.
3. ``win_summary``: wins per group and overall with a one-sided exact binomial test
   and a one-sided Wilcoxon signed-rank test in the observed direction.
4. ``sensitivity_grid``: the same counts over a grid of both thresholds, so that a
   result cannot hinge on one arbitrary cut-off.

``round_breakdown`` and ``param_breakdown`` repeat the comparison split by round and by
game parameter.  Rate rows (aggregate data, ``is_rate``) are correlated with
``human_rate``, exactly as in :func:`analysis.metrics.summarise`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.bootstrap import participant_weights, pearson, percentile_ci, seeded_rng, weighted_r
from envs.records import DecisionPoint

PAIR_COLUMNS = ["pair", "base", "aligned", "provider", "matched"]
STAT_COLUMNS = ["n", "n_participants", "r_base", "r_aligned", "diff", "diff_ci_low", "diff_ci_high",
                "mass_base", "mass_aligned", "winner"]
FILTER_COLUMNS = ["kept", "drop_reason"]
SUMMARY_COLUMNS = ["pairs", "kept", "unmatched_kept", "base_wins", "aligned_wins", "ties", "direction",
                   "p_binomial", "p_wilcoxon", "wilcoxon_note", "mean_diff", "mean_diff_ci_low",
                   "mean_diff_ci_high", "base_win_share", "base_win_share_ci_low", "base_win_share_ci_high"]
GRID_COLUMNS = ["mass_threshold", "r_threshold", "kept", "base_wins", "aligned_wins", "ties", "direction",
                "p_binomial"]
TIE_TOL = 1e-12


@dataclass(frozen=True)
class Pair:
    """A base model and its aligned partner, by predictor name in the predictions table.

    ``matched=False`` marks a pair the paper's design would exclude (different
    providers or sizes): useful for trying the pipeline, but not evidence.
    """

    base: str
    aligned: str
    label: str = ""
    provider: str = ""
    matched: bool = True

    @property
    def name(self) -> str:
        return self.label or f"{self.base} vs {self.aligned}"


# --------------------------------------------------------------------------- helpers

def human_target(df: pd.DataFrame) -> np.ndarray:
    """What the predictions are scored against: the rate for aggregate rows, else the 0/1 choice."""
    col = "human_rate" if "human_rate" in df else "human_affirmative"
    return df[col].to_numpy(float)


def _winner(r_base: float, r_aligned: float) -> str | None:
    if not (np.isfinite(r_base) and np.isfinite(r_aligned)):
        return None
    d = r_base - r_aligned
    return "tie" if abs(d) <= TIE_TOL else ("base" if d > 0 else "aligned")


def _paired(predictions: pd.DataFrame, pair: Pair, by: Sequence[str]) -> pd.DataFrame:
    """Base and aligned rows side by side on the decisions both predicted."""
    names = set(predictions["predictor"].unique())
    missing = [p for p in (pair.base, pair.aligned) if p not in names]
    if missing:
        raise ValueError(f"pair {pair.name!r}: predictor(s) {missing} not in the predictions table")
    keep = ["decision_id", "participant_id", *dict.fromkeys(by)]
    keep = list(dict.fromkeys(keep))
    b = predictions[predictions["predictor"] == pair.base]
    a = predictions[predictions["predictor"] == pair.aligned]
    left = b[keep].copy()
    left["y"] = human_target(b)
    left["p_base"] = b["p_affirmative"].to_numpy(float)
    left["m_base"] = b["mass"].to_numpy(float)
    right = pd.DataFrame({"decision_id": a["decision_id"].to_numpy(),
                          "p_aligned": a["p_affirmative"].to_numpy(float),
                          "m_aligned": a["mass"].to_numpy(float)})
    return left.merge(right, on="decision_id", how="inner", validate="one_to_one")


def _nanmean(x: np.ndarray) -> float:
    return float(np.nanmean(x)) if np.isfinite(x).any() else np.nan


def _compare(g: pd.DataFrame, n_boot: int, rng: np.random.Generator, ci: float) -> dict[str, Any]:
    """Both r's, their difference and its participant-bootstrap CI on one group of paired rows."""
    y, pb, pa = g["y"].to_numpy(float), g["p_base"].to_numpy(float), g["p_aligned"].to_numpy(float)
    codes, uniq = pd.factorize(g["participant_id"])
    r_b, r_a = pearson(pb, y), pearson(pa, y)
    lo = hi = np.nan
    if n_boot > 0 and np.isfinite(r_b) and np.isfinite(r_a):
        diffs = [weighted_r(w, pb, y) - weighted_r(w, pa, y) for w in participant_weights(codes, n_boot, rng)]
        lo, hi = percentile_ci(np.concatenate(diffs), ci)
    return {"n": int(len(g)), "n_participants": int(len(uniq)), "r_base": r_b, "r_aligned": r_a,
            "diff": r_b - r_a, "diff_ci_low": lo, "diff_ci_high": hi,
            "mass_base": _nanmean(g["m_base"].to_numpy(float)),
            "mass_aligned": _nanmean(g["m_aligned"].to_numpy(float)), "winner": _winner(r_b, r_a)}


def _pair_cols(pair: Pair) -> dict[str, Any]:
    return {"pair": pair.name, "base": pair.base, "aligned": pair.aligned, "provider": pair.provider,
            "matched": pair.matched}


# --------------------------------------------------------------------------- the pair table

def pair_table(predictions: pd.DataFrame, pairs: Iterable[Pair], by: Sequence[str] = ("family",),
               n_boot: int = 5000, seed: int = 0, ci: float = 0.95) -> pd.DataFrame:
    """One row per pair × group: r of each model with people, ``diff = r_base - r_aligned`` and its CI.

    The CI is a paired percentile bootstrap over participants within the group (both
    models on the same resample; draws where an r is undefined are skipped, and the CI
    is NaN when most are).  ``winner`` is ``"base"``, ``"aligned"``, ``"tie"``, or None
    when either r is undefined (a constant prediction).  ``n_boot=0`` skips the CI.

    Columns: pair, base, aligned, provider, matched, *by, n, n_participants, r_base,
    r_aligned, diff, diff_ci_low, diff_ci_high, mass_base, mass_aligned, winner.
    """
    by = list(by)
    rows = []
    for pair in pairs:
        paired = _paired(predictions, pair, by)
        groups = paired.groupby(by, sort=True, dropna=False) if by else [((), paired)]
        for keys, g in groups:
            keys = keys if isinstance(keys, tuple) else (keys,)
            rng = seeded_rng(seed, pair.base, pair.aligned, *keys)
            rows.append({**_pair_cols(pair), **dict(zip(by, keys)), **_compare(g, n_boot, rng, ci)})
    return pd.DataFrame(rows, columns=[*PAIR_COLUMNS, *by, *STAT_COLUMNS])


def group_columns(table: pd.DataFrame) -> list[str]:
    """The grouping columns of a pair table: whatever is not a pair, statistic or filter column."""
    known = set(PAIR_COLUMNS) | set(STAT_COLUMNS) | set(FILTER_COLUMNS)
    return [c for c in table.columns if c not in known]


# --------------------------------------------------------------------------- filters

def apply_filters(table: pd.DataFrame, mass_threshold: float = 0.8, r_threshold: float = 0.3,
                  require_matched: bool = False) -> pd.DataFrame:
    """Add ``kept`` and ``drop_reason`` (``"; "``-joined, empty when kept) to a pair table.

    Dropped: either model's mean decision-token mass below ``mass_threshold`` (NaN
    mass means a non-LLM predictor and never drops); both r's below ``r_threshold``
    (neither model tracks people, so the comparison is noise); an undefined r (no
    winner); with ``require_matched``, pairs marked ``matched=False``.
    """
    out = table.drop(columns=[c for c in FILTER_COLUMNS if c in table]).copy()
    rb, ra = out["r_base"].to_numpy(float), out["r_aligned"].to_numpy(float)
    mb, ma = out["mass_base"].to_numpy(float), out["mass_aligned"].to_numpy(float)
    reasons: list[list[str]] = [[] for _ in range(len(out))]
    for i in range(len(out)):
        if mb[i] < mass_threshold:
            reasons[i].append(f"base mass {mb[i]:.3f} < {mass_threshold:g}")
        if ma[i] < mass_threshold:
            reasons[i].append(f"aligned mass {ma[i]:.3f} < {mass_threshold:g}")
        if not (np.isfinite(rb[i]) and np.isfinite(ra[i])):
            reasons[i].append("r undefined")
        elif rb[i] < r_threshold and ra[i] < r_threshold:
            reasons[i].append(f"both r < {r_threshold:g}")
        if require_matched and not bool(out["matched"].iloc[i]):
            reasons[i].append("unmatched pair")
    out["kept"] = [not r for r in reasons]
    out["drop_reason"] = ["; ".join(r) for r in reasons]
    return out


# --------------------------------------------------------------------------- wins and tests

def _summarise_wins(t: pd.DataFrame, n_boot: int, rng: np.random.Generator, ci: float) -> dict[str, Any]:
    kept = t[t["kept"].astype(bool) & t["winner"].notna()]
    w = kept["winner"].to_numpy(object)
    nb, na, nt = int((w == "base").sum()), int((w == "aligned").sum()), int((w == "tie").sum())
    direction = "base" if nb > na else ("aligned" if na > nb else "none")
    n_dec = nb + na
    if n_dec == 0:
        p_bin = np.nan
    elif direction == "none":  # no observed direction: the two-sided test (p = 1 for an exact split)
        p_bin = float(stats.binomtest(nb, n_dec, 0.5, alternative="two-sided").pvalue)
    else:
        p_bin = float(stats.binomtest(nb, n_dec, 0.5, alternative="greater" if direction == "base" else "less").pvalue)
    diffs = kept["diff"].to_numpy(float)
    nonzero = int((np.abs(diffs) > TIE_TOL).sum())
    p_wil, note = np.nan, ""
    if nonzero < 2:
        note = f"wilcoxon needs >= 2 non-zero diffs (have {nonzero})"
    else:
        alt = {"base": "greater", "aligned": "less", "none": "two-sided"}[direction]
        p_wil = float(stats.wilcoxon(diffs, alternative=alt).pvalue)
        if direction == "none":
            note = "no observed direction: two-sided"
    md_lo = md_hi = sh_lo = sh_hi = np.nan
    if n_boot > 0 and len(diffs):
        idx = rng.integers(0, len(diffs), size=(n_boot, len(diffs)))
        md_lo, md_hi = percentile_ci(diffs[idx].mean(axis=1), ci)
    if n_boot > 0 and n_dec:
        base_won = (w[(w == "base") | (w == "aligned")] == "base").astype(float)
        idx = rng.integers(0, n_dec, size=(n_boot, n_dec))
        sh_lo, sh_hi = percentile_ci(base_won[idx].mean(axis=1), ci)
    return {"pairs": int(len(t)), "kept": int(len(kept)),
            "unmatched_kept": int((~kept["matched"].astype(bool)).sum()),
            "base_wins": nb, "aligned_wins": na, "ties": nt, "direction": direction,
            "p_binomial": p_bin, "p_wilcoxon": p_wil, "wilcoxon_note": note,
            "mean_diff": float(diffs.mean()) if len(diffs) else np.nan,
            "mean_diff_ci_low": md_lo, "mean_diff_ci_high": md_hi,
            "base_win_share": nb / n_dec if n_dec else np.nan,
            "base_win_share_ci_low": sh_lo, "base_win_share_ci_high": sh_hi}


def win_summary(table: pd.DataFrame, n_boot: int = 5000, seed: int = 0, ci: float = 0.95) -> pd.DataFrame:
    """Wins per group and overall (group columns ``"all"``), with one-sided tests in the observed direction.

    Counts only kept rows with a winner (``apply_filters`` first; without a ``kept``
    column every row counts).  ``direction`` is the side with more wins (``"none"``
    on an exact split, where both tests are two-sided).  ``p_binomial``: exact
    binomial test of base wins among decisive pairs (ties excluded) against 1/2.
    ``p_wilcoxon``: Wilcoxon signed-rank test of the kept ``diff`` values (zero
    diffs dropped), NaN with ``wilcoxon_note`` when fewer than 2 are non-zero.
    ``mean_diff`` and ``base_win_share`` (base wins / decisive pairs) carry percentile
    bootstrap CIs over pairs.  The "all" row pools every pair × group row.

    Columns: *group columns, pairs, kept, unmatched_kept, base_wins, aligned_wins, ties,
    direction, p_binomial, p_wilcoxon, wilcoxon_note, mean_diff, mean_diff_ci_low,
    mean_diff_ci_high, base_win_share, base_win_share_ci_low, base_win_share_ci_high.
    """
    t = table if "kept" in table else table.assign(kept=True)
    gcols = group_columns(t)
    rows = []
    if gcols:
        for keys, g in t.groupby(gcols, sort=True, dropna=False):
            keys = keys if isinstance(keys, tuple) else (keys,)
            rows.append({**dict(zip(gcols, keys)), **_summarise_wins(g, n_boot, seeded_rng(seed, *keys), ci)})
    rows.append({**{c: "all" for c in gcols}, **_summarise_wins(t, n_boot, seeded_rng(seed, "all"), ci)})
    return pd.DataFrame(rows, columns=[*gcols, *SUMMARY_COLUMNS])


def sensitivity_grid(table: pd.DataFrame, masses: Sequence[float] = (0.5, 0.6, 0.7, 0.8, 0.9),
                     rs: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5),
                     require_matched: bool = False) -> pd.DataFrame:
    """Wins and the binomial p over the full grid of mass × r thresholds, per group and "all".

    ``group`` is the group columns' values joined by " / " (the family name for the
    default ``by=("family",)``), ``"all"`` for the pooled rows.

    Columns: group, mass_threshold, r_threshold, kept, base_wins, aligned_wins, ties,
    direction, p_binomial.
    """
    gcols = group_columns(table)
    parts = []
    for m in masses:
        for r in rs:
            s = win_summary(apply_filters(table, m, r, require_matched), n_boot=0)
            group = (s[gcols].astype(str).agg(" / ".join, axis=1).where(s[gcols[0]] != "all", "all")
                     if gcols else pd.Series("all", index=s.index))
            parts.append(s.assign(group=group, mass_threshold=float(m), r_threshold=float(r)))
    return pd.concat(parts, ignore_index=True)[["group", *GRID_COLUMNS]]


# --------------------------------------------------------------------------- breakdowns

def round_breakdown(predictions: pd.DataFrame, pairs: Iterable[Pair], n_boot: int = 1000, seed: int = 0,
                    by: Sequence[str] = ("family",), ci: float = 0.95) -> pd.DataFrame:
    """The pair comparison with a ``rounds`` column: "round 1" vs "later rounds", then each round alone.

    Whether alignment's effect differs once people have a history to react to is the
    multi-round question.  The per-round rows (``rounds`` = "1", "2", ...) overlap the
    grouped ones, so pass a subset (``split == "first vs later"`` or ``"per round"``)
    to ``win_summary``; ``split`` is a group column.

    Columns: as ``pair_table`` with *by, split, rounds as the group columns.
    """
    pairs = list(pairs)
    rnd = predictions["round"].astype(int)
    grouped = predictions.assign(split="first vs later",
                                 rounds=np.where(rnd == 1, "round 1", "later rounds"))
    per = predictions.assign(split="per round", rounds=rnd.astype(str))
    out = pd.concat([pair_table(grouped, pairs, by=[*by, "split", "rounds"], n_boot=n_boot, seed=seed, ci=ci),
                     pair_table(per, pairs, by=[*by, "split", "rounds"], n_boot=n_boot, seed=seed, ci=ci)],
                    ignore_index=True)
    order = {"round 1": 0, "later rounds": 1}
    key = out["rounds"].map(lambda s: order.get(s, 2 + int(s) if str(s).isdigit() else 10**6))
    return (out.assign(_k=key).sort_values([*PAIR_COLUMNS[:1], *by, "split", "_k"], kind="stable")
            .drop(columns="_k").reset_index(drop=True))


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, bool, int, float, np.integer, np.floating))


def param_values(decisions: Sequence[DecisionPoint] | str | Path,
                 param_names: Sequence[str] | None = None, min_values: int = 2,
                 max_values: int = 12) -> pd.DataFrame:
    """Long table (decision_id, family, param, value) of scalar game parameters worth splitting on.

    With ``param_names=None`` a parameter is chosen per family when it is scalar and has
    ``min_values``–``max_values`` distinct values there (ids and constants are useless
    splits).  Dict or list values are skipped.  ``value`` is text, so mixed types group.
    """
    if isinstance(decisions, (str, Path)):
        from envs.records import read_decisions

        decisions = read_decisions(decisions)
    rows = [(dp.decision_id, dp.family, k, v) for dp in decisions for k, v in dp.params.items() if _is_scalar(v)]
    long = pd.DataFrame(rows, columns=["decision_id", "family", "param", "raw"])
    long["value"] = long["raw"].map(str)
    long = long.drop(columns="raw")
    if param_names is not None:
        return long[long["param"].isin(list(param_names))].reset_index(drop=True)
    n_vals = long.groupby(["family", "param"])["value"].transform("nunique")
    return long[(n_vals >= min_values) & (n_vals <= max_values)].reset_index(drop=True)


def param_breakdown(predictions: pd.DataFrame, decisions: Sequence[DecisionPoint] | str | Path,
                    pairs: Iterable[Pair], param_names: Sequence[str] | None = None, n_boot: int = 1000,
                    seed: int = 0, by: Sequence[str] = ("family",), ci: float = 0.95) -> pd.DataFrame:
    """The pair comparison per value of each game parameter (parameters joined by decision_id).

    Does the base/aligned gap depend on the game's settings (e.g. complete vs
    incomplete information)?  Parameters are chosen as in :func:`param_values`.

    Columns: as ``pair_table`` with *by, param, value as the group columns.
    """
    pairs = list(pairs)
    vals = param_values(decisions, param_names)
    parts = []
    for param, v in vals.groupby("param", sort=True):
        sub = predictions.merge(v[["decision_id", "value"]], on="decision_id", how="inner").assign(param=param)
        if len(sub):
            parts.append(pair_table(sub, pairs, by=[*by, "param", "value"], n_boot=n_boot, seed=seed, ci=ci))
    if not parts:
        return pd.DataFrame(columns=[*PAIR_COLUMNS, *by, "param", "value", *STAT_COLUMNS])
    return pd.concat(parts, ignore_index=True)
