"""People vs simulated players (``sim.counterfactual``): do predictors, left to play, behave like people?

Three statistics per round, each a share of players (Akata et al., 2025, read their repeated games this way):

- ``affirmative``: the share choosing the family's affirmative action (in the repeated games J: to cooperate
  in the Prisoner's Dilemma);
- ``reciprocation``: the share repeating the opponent's previous move (rounds 2+; tit-for-tat's signature);
- ``coordination``: the share choosing the same option as the opponent in the same round (what the Battle
  of the Sexes rewards);

and per player the ``total`` payoff over the game.  Each is compared with people's per game (and round):
the simulated value minus the human one with a percentile interval from resampling people and simulated
players independently (one trajectory per person and game, so resampling trajectories within a game is
resampling people), and for the totals a two-sample Mann–Whitney U and Kolmogorov–Smirnov test.
"""

from __future__ import annotations

import zlib
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.bootstrap import percentile_ci
from analysis.metrics import N_BOOT
from envs.records import HUMAN, OPPONENT, Trajectory

STATS = ("affirmative", "reciprocation", "coordination")
PEOPLE = "people"
ROUND_COLUMNS = ["family", "game", "round", "stat", "source", "n", "rate", "rate_ci_low", "rate_ci_high", "diff",
                 "diff_ci_low", "diff_ci_high"]
TOTAL_COLUMNS = ["family", "game", "source", "n", "mean_total", "total_ci_low", "total_ci_high", "diff",
                 "diff_ci_low", "diff_ci_high", "p_mannwhitney", "p_ks"]


def per_round(trajectories: Sequence[Trajectory], affirmative: Mapping[str, str]) -> pd.DataFrame:
    """One row per trajectory × round: the three statistics as 0/1 (``reciprocation`` NaN in round 1) and the
    person's payoff; ``affirmative``: game -> its affirmative action."""
    rows = []
    for t in trajectories:
        moves: dict[int, dict[str, object]] = {}
        for e in t.events:
            if e.actor in (HUMAN, OPPONENT):
                moves.setdefault(e.round, {})[e.actor] = e
        previous = None
        for r in sorted(moves):
            h, o = moves[r].get(HUMAN), moves[r].get(OPPONENT)
            if h is None or o is None:
                continue
            rows.append({"family": t.family, "game": t.game, "trajectory_id": t.trajectory_id, "round": r,
                         "affirmative": float(h.action == affirmative.get(t.game)),
                         "reciprocation": np.nan if previous is None else float(h.action == previous),
                         "coordination": float(h.action == o.action),
                         "payoff": np.nan if h.payoff is None else float(h.payoff)})
            previous = o.action
    return pd.DataFrame(rows, columns=["family", "game", "trajectory_id", "round", *STATS, "payoff"])


def _draws(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap draws of the mean of ``values`` (one per player), resampling players."""
    if n_boot <= 0 or len(values) == 0:
        return np.empty(0)
    return values[rng.integers(0, len(values), size=(n_boot, len(values)))].mean(axis=1)


def _rng(seed: int, *keys) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32("|".join(map(str, keys)).encode())])


def compare(people: Sequence[Trajectory], simulated: Mapping[str, Sequence[Trajectory]],
            affirmative: Mapping[str, str], n_boot: int = N_BOOT, seed: int = 0,
            ci: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(by round, totals): ``ROUND_COLUMNS`` per family × game × round × statistic × source (people first, then
    each simulating predictor, with its difference from people), and ``TOTAL_COLUMNS`` per family × game ×
    source.  See the module docstring."""
    tables = {PEOPLE: per_round(people, affirmative),
              **{name: per_round(t, affirmative) for name, t in simulated.items()}}
    rows, totals = [], []
    keys = tables[PEOPLE][["family", "game"]].drop_duplicates().itertuples(index=False)
    for family, game in sorted(keys):
        mine = {s: t[(t["family"] == family) & (t["game"] == game)] for s, t in tables.items()}
        for r in sorted(mine[PEOPLE]["round"].unique()):
            for stat in STATS:
                base_v = mine[PEOPLE].loc[mine[PEOPLE]["round"] == r, stat].dropna().to_numpy(float)
                if len(base_v) == 0:
                    continue
                base_d = _draws(base_v, n_boot, _rng(seed, family, game, r, stat, PEOPLE))
                for source, t in mine.items():
                    v = t.loc[t["round"] == r, stat].dropna().to_numpy(float)
                    if len(v) == 0:
                        continue
                    d = base_d if source == PEOPLE else _draws(v, n_boot, _rng(seed, family, game, r, stat, source))
                    lo, hi = percentile_ci(d, ci) if len(d) else (np.nan, np.nan)
                    diff = dlo = dhi = np.nan
                    if source != PEOPLE:
                        diff = float(v.mean() - base_v.mean())
                        dlo, dhi = percentile_ci(d - base_d, ci) if len(d) else (np.nan, np.nan)
                    rows.append({"family": family, "game": game, "round": int(r), "stat": stat, "source": source,
                                 "n": len(v), "rate": float(v.mean()), "rate_ci_low": lo, "rate_ci_high": hi,
                                 "diff": diff, "diff_ci_low": dlo, "diff_ci_high": dhi})
        sums = {s: t.groupby("trajectory_id")["payoff"].sum(min_count=1).dropna().to_numpy(float)
                for s, t in mine.items()}
        base_d = _draws(sums[PEOPLE], n_boot, _rng(seed, family, game, "total", PEOPLE))
        for source, v in sums.items():
            if len(v) == 0:
                continue
            d = base_d if source == PEOPLE else _draws(v, n_boot, _rng(seed, family, game, "total", source))
            lo, hi = percentile_ci(d, ci) if len(d) else (np.nan, np.nan)
            row = {"family": family, "game": game, "source": source, "n": len(v), "mean_total": float(v.mean()),
                   "total_ci_low": lo, "total_ci_high": hi, "diff": np.nan, "diff_ci_low": np.nan,
                   "diff_ci_high": np.nan, "p_mannwhitney": np.nan, "p_ks": np.nan}
            if source != PEOPLE and len(sums[PEOPLE]):
                dlo, dhi = percentile_ci(d - base_d, ci) if len(d) else (np.nan, np.nan)
                row.update(diff=float(v.mean() - sums[PEOPLE].mean()), diff_ci_low=dlo, diff_ci_high=dhi,
                           p_mannwhitney=float(stats.mannwhitneyu(v, sums[PEOPLE]).pvalue),
                           p_ks=float(stats.ks_2samp(v, sums[PEOPLE]).pvalue))
            totals.append(row)
    return pd.DataFrame(rows, columns=ROUND_COLUMNS), pd.DataFrame(totals, columns=TOTAL_COLUMNS)
