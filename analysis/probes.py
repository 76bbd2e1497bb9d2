"""Probes against outputs: is what a model knows about people larger than what it says?

For each family, model and layer of a run's probes (``predictors.probe``) one row:
the probe's r with people and its held-out NLL per participant, the model's own
token-probability predictions (the ``llm`` predictor named like the probe's model),
the gap probe − output (a paired participant bootstrap, ``analysis.pairs``: a gap
well above zero is knowledge the output does not show — "suppressed, not
removed"), the probe's edge over the same probe on a randomly initialised model
(``over_random_r``, paired likewise: what the trained weights add to what the prompt
text alone lets a probe read), and the controls beside it: the same probe on shuffled labels (its
floor), on a randomly initialised model of the same architecture (what any
representation of the prompt allows), and ``feature-logit`` on the family's own
history features (what the visible history alone explains).  Every r and NLL carries a
participant-bootstrap interval; ``layer_curves`` draws them against relative depth.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.intervals import r_table
from analysis.likelihood import nll_ranking, with_n_people
from analysis.pairs import Pair, pair_table

COLUMNS = ["family", "model", "role", "layer", "block", "depth", "relative_depth", "n", "n_participants",
           "probe_r", "probe_r_ci_low", "probe_r_ci_high", "probe_nll", "probe_nll_ci_low", "probe_nll_ci_high",
           "output_r", "output_r_ci_low", "output_r_ci_high", "output_nll", "output_nll_ci_low", "output_nll_ci_high",
           "gap_r", "gap_r_ci_low", "gap_r_ci_high", "over_random_r", "over_random_r_ci_low", "over_random_r_ci_high",
           "shuffled_r", "shuffled_r_ci_low", "shuffled_r_ci_high",
           "random_init_r", "random_init_r_ci_low", "random_init_r_ci_high",
           "feature_logit_r", "feature_logit_r_ci_low", "feature_logit_r_ci_high"]


def probes_of(manifest: Mapping[str, Any], present: set[str]) -> pd.DataFrame:
    """The run's probes with predictions: name, model, layer, block, depth, control (from ``config.yaml``)."""
    described = ((manifest or {}).get("resolved") or {}).get("predictors") or []
    rows = [{"name": d["name"], "model": d.get("model"), "layer": d.get("layer"), "block": d.get("block"),
             "depth": d.get("depth"), "control": d.get("control", "none")}
            for d in described if isinstance(d, dict) and d.get("class") == "Probe" and d.get("name") in present]
    return pd.DataFrame(rows, columns=["name", "model", "layer", "block", "depth", "control"])


def _roles(manifest: Mapping[str, Any]) -> dict[str, str]:
    """Model name -> "base" / "aligned" (with "unmatched" where the pair is), from ``pairs:``."""
    out = {}
    for p in (manifest or {}).get("pairs") or []:
        tag = "" if p.get("matched", True) else " (unmatched pair)"
        out[p["base"]], out[p["aligned"]] = "base" + tag, "aligned" + tag
    return out


def probe_table(predictions: pd.DataFrame, decisions: Sequence[Any], manifest: Mapping[str, Any],
                n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per family × model × layer of the run's probes (columns ``COLUMNS``); empty without probes."""
    present = set(predictions["predictor"])
    probes = probes_of(manifest, present)
    main = probes[probes["control"] == "none"]
    if main.empty:
        return pd.DataFrame(columns=COLUMNS)
    wanted = set(probes["name"]) | set(main["model"]) | {"feature-logit"}
    sub = predictions[predictions["predictor"].isin(wanted)]
    r = r_table(sub, ("family", "predictor"), n_boot, seed).set_index(["family", "predictor"])
    nll = nll_ranking(with_n_people(sub, decisions), ("family",), n_boot=n_boot, seed=seed
                      ).set_index(["family", "predictor"])
    control = {(row.model, row.layer, row.control): row.name for row in probes.itertuples()}

    def paired(against) -> pd.DataFrame | None:
        """probe r − another predictor's r on the same decisions, with a paired participant-bootstrap CI."""
        pairs = [Pair(base=row.name, aligned=against(row)) for row in main.itertuples() if against(row) in present]
        table = pair_table(sub, pairs, by=("family",), n_boot=n_boot, seed=seed) if pairs else pd.DataFrame()
        return table.set_index(["family", "base"]) if len(table) else None

    gap = paired(lambda row: row.model)  # against the model's own output
    over = paired(lambda row: control.get((row.model, row.layer, "random-init")))  # against a random model
    roles = _roles(manifest)

    def cell(prefix: str, table: pd.DataFrame | None, family: str, name: str | None,
             cols: tuple[str, str, str]) -> dict[str, float]:
        """``prefix``, ``prefix_ci_low``, ``prefix_ci_high`` from ``table``'s (family, name) row, NaN without one."""
        have = table is not None and name is not None and (family, name) in table.index
        return {key: table.loc[(family, name), col] if have else np.nan
                for key, col in zip((prefix, f"{prefix}_ci_low", f"{prefix}_ci_high"), cols)}

    def rcols(prefix: str, family: str, name: str | None) -> dict[str, float]:
        return cell(prefix, r, family, name, ("pearson_r", "r_ci_low", "r_ci_high"))

    def ncols(prefix: str, family: str, name: str | None) -> dict[str, float]:
        return cell(prefix, nll, family, name, ("nll_mean", "nll_ci_low", "nll_ci_high"))

    def dcols(prefix: str, table: pd.DataFrame | None, family: str, name: str) -> dict[str, float]:
        return cell(prefix, table, family, name, ("diff", "diff_ci_low", "diff_ci_high"))

    rows = []
    for row in main.itertuples():
        for family in sorted(predictions.loc[predictions["predictor"] == row.name, "family"].unique()):
            rel = row.block / row.depth if row.block and row.depth else (
                row.layer if isinstance(row.layer, float) else np.nan)  # a run whose probes ran elsewhere (Ray)
            rows.append({"family": family, "model": row.model, "role": roles.get(row.model, ""), "layer": row.layer,
                         "block": row.block, "depth": row.depth, "relative_depth": rel,
                         "n": int(r.loc[(family, row.name), "n"]),
                         "n_participants": int(r.loc[(family, row.name), "n_participants"]),
                         **rcols("probe_r", family, row.name), **ncols("probe_nll", family, row.name),
                         **rcols("output_r", family, row.model), **ncols("output_nll", family, row.model),
                         **dcols("gap_r", gap, family, row.name), **dcols("over_random_r", over, family, row.name),
                         **rcols("shuffled_r", family, control.get((row.model, row.layer, "shuffled"))),
                         **rcols("random_init_r", family, control.get((row.model, row.layer, "random-init"))),
                         **rcols("feature_logit_r", family, "feature-logit")})
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.sort_values(["family", "model", "relative_depth"], kind="stable").reset_index(drop=True)
