"""Equilibrium vs learning vs LLMs: every predictor's held-out likelihood of what people did, by kind of model.

The behavioural-economics question about an LLM that predicts people is how it compares with the models the
field built for that job — equilibrium (Nash, QRE), bounded rationality (cognitive hierarchy, level-k; Camerer,
Ho & Chong, 2004), learning (EWA and its special cases; Camerer & Ho, 1999) — and the cognitive-modelling
community compares such models by held-out negative log-likelihood per participant (as Binz et al., 2025, do
for Centaur).  This module puts them in one table per family:

- each predictor's ``category`` (``Predictor.category``, read from the run's ``config.yaml``: what its
  ``describe()`` said), so the table and figures group and colour by kind of model;
- the NLL per choice, averaged over participants, with a participant-bootstrap interval
  (``analysis.likelihood.nll_ranking``), split by **phase**: round 1 (no history yet: where one-shot models
  such as cognitive hierarchy apply, and where learning models only have their initial attractions), rounds
  2+ (where history is everything) and all rounds.  A family with a single round has only "all rounds";
- which decisions each predictor scored: a one-shot model scores round 1 only, so its "all rounds" figure
  would be a round-1 figure under another name; the display leaves it out (``coverage`` < 1) and the reader
  compares it in the round-1 column, where everybody scored the same decisions;
- the NLL round by round (``round_nll``), for the curves that show where each kind of model starts to fail.

Every number is a function of the predictions table, so the panel can be rebuilt from any finished run.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.likelihood import nll_ranking, with_n_people
from analysis.metrics import N_BOOT
from predictors.base import CATEGORIES

ROUND_1, LATER, ALL = "round 1", "rounds 2+", "all rounds"
PHASES = (ROUND_1, LATER, ALL)
COLUMNS = ["family", "phase", "predictor", "category", "n_participants", "n", "coverage", "nll_mean", "nll_ci_low",
           "nll_ci_high"]


def categories(manifest: Mapping[str, Any]) -> dict[str, str]:
    """Predictor name -> category, from a run's ``config.yaml`` (``resolved.predictors``: each predictor's
    ``describe()``); for a run written before ``describe()`` named it, the built-in class's category, else
    "other"."""
    described = ((manifest or {}).get("resolved") or {}).get("predictors") or []
    return {d["name"]: d.get("category") or _category_of_class(d.get("class", ""))
            for d in described if isinstance(d, dict) and "name" in d}


def _category_of_class(name: str) -> str:
    """The category of a built-in predictor class by its name (for runs written before ``describe()`` said)."""
    from predictors.registry import predictor_types

    for cls, _ in predictor_types().values():
        if not isinstance(cls, str) and cls.__name__ == name:
            return getattr(cls, "category", "other")
    return "language model" if name == "LLMPredictor" else "other"


def category_order(category: str) -> int:
    """Position of a category in ``CATEGORIES`` (unknown ones last): the order tables and legends list them."""
    return CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)


def _phased(predictions: pd.DataFrame) -> pd.DataFrame:
    """The predictions with a ``phase`` column, each row once per phase it belongs to: round 1 and all rounds,
    or rounds 2+ and all rounds; a family whose decisions are all in one round gets "all rounds" only."""
    rounds = pd.to_numeric(predictions["round"], errors="coerce")
    multi = predictions.assign(_r=rounds).groupby("family")["_r"].transform("max") > 1
    parts = [predictions.assign(phase=ALL)]
    parts.append(predictions[multi & (rounds == 1)].assign(phase=ROUND_1))
    parts.append(predictions[multi & (rounds > 1)].assign(phase=LATER))
    return pd.concat(parts, ignore_index=True)


def comparison(predictions: pd.DataFrame, decisions: Sequence[Any] = (), kinds: Mapping[str, str] | None = None,
               n_boot: int = N_BOOT, seed: int = 0, ci: float = 0.95) -> pd.DataFrame:
    """One row per family × phase × predictor (``COLUMNS``): NLL per choice averaged over participants with its
    participant-bootstrap interval, ``n`` decisions scored and ``coverage`` = n / the decisions of that family
    and phase that any predictor scored.  ``decisions`` supply ``n_people`` for aggregate rows (binomial NLL);
    ``kinds``: predictor -> category (``categories``), "other" where missing."""
    if predictions.empty:
        return pd.DataFrame(columns=COLUMNS)
    table = _phased(with_n_people(predictions, decisions))
    ranked = nll_ranking(table, ("family", "phase"), n_boot=n_boot, seed=seed, ci=ci)
    scored = table.groupby(["family", "phase"])["decision_id"].nunique().rename("_all")
    ranked = ranked.join(scored, on=["family", "phase"])
    ranked["coverage"] = ranked["n"] / ranked["_all"]
    ranked["category"] = ranked["predictor"].map(lambda p: (kinds or {}).get(p, "other"))
    return ranked[COLUMNS].reset_index(drop=True)


def round_nll(predictions: pd.DataFrame, decisions: Sequence[Any] = (), kinds: Mapping[str, str] | None = None,
              n_boot: int = N_BOOT, seed: int = 0, ci: float = 0.95) -> pd.DataFrame:
    """NLL per choice per family × round × predictor with participant-bootstrap intervals (the curves), for
    families with more than one round; ``category`` as in ``comparison``."""
    rounds = pd.to_numeric(predictions["round"], errors="coerce") if len(predictions) else pd.Series(dtype=float)
    if predictions.empty or not (rounds > 1).any():
        return pd.DataFrame(columns=["family", "round", "predictor", "category", "n_participants", "n", "nll_mean",
                                     "nll_ci_low", "nll_ci_high"])
    multi = predictions.assign(_r=rounds).groupby("family")["_r"].transform("max") > 1
    table = with_n_people(predictions[multi].assign(round=rounds[multi].astype(int)), decisions)
    out = nll_ranking(table, ("family", "round"), n_boot=n_boot, seed=seed, ci=ci)
    out["category"] = out["predictor"].map(lambda p: (kinds or {}).get(p, "other"))
    return out[["family", "round", "predictor", "category", "n_participants", "n", "nll_mean", "nll_ci_low",
                "nll_ci_high"]].reset_index(drop=True)


def display(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison as the report shows it: one row per family × predictor, kinds of model in ``CATEGORIES``
    order and best first within a kind, one ``NLL [95% CI]`` cell per phase; a phase the predictor did not
    score in full reads "–" (with ``scored`` saying which decisions it did score)."""
    if table.empty:
        return pd.DataFrame()
    phases = [p for p in PHASES if p in set(table["phase"])]

    def cell(row: pd.Series) -> str:
        if row["coverage"] < 1 - 1e-9 or not np.isfinite(row["nll_mean"]):
            return "–"
        lo, hi = row["nll_ci_low"], row["nll_ci_high"]
        return f"{row['nll_mean']:.3f} [{lo:.3f}, {hi:.3f}]" if np.isfinite(lo) and np.isfinite(hi) \
            else f"{row['nll_mean']:.3f} [–]"

    rows = []
    for (family, pred), g in table.groupby(["family", "predictor"], sort=False):
        by_phase = {r["phase"]: r for _, r in g.iterrows()}
        full = by_phase.get(ALL)
        scored = int(full["n"]) if full is not None else 0
        whole = int(round(full["n"] / full["coverage"])) if full is not None and full["coverage"] > 0 else scored
        only = [p for p in (ROUND_1, LATER) if p in by_phase and by_phase[p]["coverage"] >= 1 - 1e-9]
        where = "" if scored == whole else f" ({' and '.join(only) or 'part'} only)"
        row = {"family": family, "category": g["category"].iloc[0], "predictor": pred,
               "people": int(full["n_participants"]) if full is not None else 0,
               "scored": f"{scored:,} of {whole:,}{where}"}
        row.update({f"NLL {p} [95% CI]": cell(by_phase[p]) if p in by_phase else "–" for p in phases})
        key = next((by_phase[p]["nll_mean"] for p in (ALL, ROUND_1, LATER)
                    if p in by_phase and by_phase[p]["coverage"] >= 1 - 1e-9), np.inf)
        rows.append((family, category_order(row["category"]), key, pred, row))
    rows.sort(key=lambda r: r[:4])
    return pd.DataFrame([r[-1] for r in rows]).reset_index(drop=True)


FITTED_COLUMNS = ["family", "predictor", "parameter", "folds", "median", "min", "max", "at_upper_bound"]


def fitted_parameters(manifest: Mapping[str, Any]) -> pd.DataFrame:
    """Each fitted model's parameters across its cross-fitting folds (``FITTED_COLUMNS``), from a run's
    ``config.yaml``: ``describe()``'s ``fitted`` ({family: {fold: {parameter: value}}}, learning models and
    cognitive hierarchy / level-k) or ``fitted_lambda`` ({family: {fold: λ}}, qre).  Numbers only (level-k's
    share vectors, the training likelihood and the values a special case fixes, ``fixed``, are left out); ``at_upper_bound``: in how many folds the
    optimiser ended at the parameter's upper bound, where the model reports it."""
    described = ((manifest or {}).get("resolved") or {}).get("predictors") or []
    rows = []
    for d in described:
        if not isinstance(d, dict):
            continue
        fitted = d.get("fitted") or {f: {k: {"lambda": v} for k, v in folds.items()}
                                     for f, folds in (d.get("fitted_lambda") or {}).items()}
        for family, folds in (fitted or {}).items():
            values: dict[str, list[float]] = {}
            bound: dict[str, int] = {}
            for fit in (folds or {}).values():
                for key, v in (fit or {}).items():
                    if isinstance(v, (int, float)) and not isinstance(v, bool) and not key.startswith("train") \
                            and key not in (d.get("fixed") or {}):  # a special case's fixed values are not fits
                        values.setdefault(key, []).append(float(v))
                for key in (fit or {}).get("at_upper_bound") or []:
                    bound[key] = bound.get(key, 0) + 1
            reports_bound = any("at_upper_bound" in (fit or {}) for fit in (folds or {}).values())
            for key, v in values.items():
                rows.append({"family": family, "predictor": d["name"], "parameter": key, "folds": len(v),
                             "median": float(np.median(v)), "min": min(v), "max": max(v),
                             "at_upper_bound": bound.get(key, 0) if reports_bound else np.nan})
    out = pd.DataFrame(rows, columns=FITTED_COLUMNS)
    out["at_upper_bound"] = out["at_upper_bound"].astype("Int64")  # a count, or <NA> where not reported
    return out


def fitted_display(fitted: pd.DataFrame) -> pd.DataFrame:
    """``fitted_parameters`` as the report shows it: "3 of 10" folds at the upper bound, "–" where not reported."""
    out = fitted.copy()
    out["at_upper_bound"] = ["–" if pd.isna(v) else f"{int(v)} of {int(n)}"
                             for v, n in zip(out["at_upper_bound"], out["folds"])]
    return out.rename(columns={"at_upper_bound": "folds at upper bound"})
