"""Learning-model predictors: EWA and its special cases, cross-fitted by participant.

Each decision is predicted from that person's own earlier rounds (``dp.history``) in its stage
game, by the attractions of ``predictors.learning.ewa`` and a logit choice rule.  Types:

- ``ewa``: φ, δ, κ ∈ [0, 1] and λ ∈ [λ_min, λ_max] free (Camerer & Ho, 1999);
- ``reinforcement``: cumulative reinforcement, EWA at δ = 0, κ = 1 (φ, λ free);
- ``fictitious-play``: weighted fictitious play / belief learning, EWA at δ = 1, κ = 0 (φ, λ free);
- ``self-tuning-ewa``: φ(t), δ_j(t) from the history (Ho, Camerer & Chong, 2007); λ free.

Any parameter can be held at a value with ``fixed`` (``fixed: {kappa: 0}``); the special cases
are ``ewa`` with their ``fixed`` values, so they agree with ``ewa`` exactly there.

Initial attractions: A_j(0) = log(p_j) / λ with p_j the Laplace-smoothed share of action j among
the round-1 choices (decisions with no past round) of the *training* participants in the same
stage game, and N(0) = 1.  So round-1 predictions are those shares at every λ (a constant added
to all A_j(0) changes no later probability, as every update moves all A_j alike).

Fitting: per game family, participants are split into ``folds`` groups (``fold_of``); the
parameters for a group maximise the log-likelihood of everybody else's choices (L-BFGS-B with
numerical gradients within the bounds, from ``starts`` starting points: the centre of the box
and seeded uniform draws; the best end point wins).  Nobody is predicted by parameters fitted on
their own choices, and their round-1 shares come from other people too.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any, Mapping, Sequence

import numpy as np
from scipy import optimize

from envs.records import DecisionPoint
from predictors.base import Prediction, Predictor
from predictors.feature_logit import fold_of
from predictors.learning.data import Encoded, encode, game_of
from predictors.learning.ewa import Histories, ewa_path, log_choice_probs, self_tuning_path
from predictors.precision import default_lambda_max

LAMBDA_MIN = 1e-3
_UNIT = {"phi": (0.0, 1.0), "delta": (0.0, 1.0), "kappa": (0.0, 1.0)}


class EWAPredictor(Predictor):
    """Experience-weighted attraction learning, parameters cross-fitted per family by participant."""

    name = "ewa"
    category = "learning"
    params: tuple[str, ...] = ("phi", "delta", "kappa", "lam")
    preset: Mapping[str, float] = {}

    def __init__(self, folds: int = 10, starts: int = 4, lambda_max: float | None = None,
                 fixed: Mapping[str, float] | None = None, seed: int = 0, name: str | None = None):
        """``lambda_max``: upper bound of λ; by default 50 / the family's median spread of the human's
        payoffs (as ``qre``).  ``fixed``: parameters held at these values instead of fitted."""
        if folds < 2:
            raise ValueError(f"{self.name} needs at least 2 folds (a person is never in their own training set)")
        if starts < 1:
            raise ValueError("starts must be at least 1")
        fixed = dict(fixed or {})
        bad = set(fixed) - set(self.params) | set(fixed) & set(self.preset)
        if bad:
            raise ValueError(f"{self.name}: cannot fix {sorted(bad)} (free parameters: "
                             f"{[p for p in self.params if p not in self.preset]})")
        for p, v in fixed.items():
            lo, hi = _UNIT.get(p, (LAMBDA_MIN, np.inf))
            if not lo <= float(v) <= hi:
                raise ValueError(f"{self.name}: {p} = {v} is outside [{lo}, {hi}]")
        self.folds, self.starts, self.seed = int(folds), int(starts), int(seed)
        self.lambda_max = None if lambda_max is None else float(lambda_max)
        self.fixed = {**self.preset, **{p: float(v) for p, v in fixed.items()}}
        self.free = tuple(p for p in self.params if p not in self.fixed)
        self.name = name or self.name
        self.fitted: dict[tuple[str, int], dict[str, float]] = {}  # (family, fold) -> all parameters
        self.shares: dict[tuple[str, tuple, int], np.ndarray] = {}  # (family, game key, fold) -> round-1 shares
        self.fit_seconds = 0.0

    # -- the model ------------------------------------------------------------------------------
    def path(self, hist: Histories, a0: np.ndarray, theta: Mapping[str, float]) -> np.ndarray:
        """A(s) after the first s rounds of each history (n, T+1, k)."""
        return ewa_path(hist, a0, theta["phi"], theta["delta"], theta["kappa"])

    def log_probs(self, enc: Encoded, shares: np.ndarray, theta: Mapping[str, float]) -> np.ndarray:
        """log P(action) at each decision (n, k); A_j(0) = log(share_j) / λ."""
        a0 = np.broadcast_to(np.log(shares) / theta["lam"], (len(enc.hist.length), len(shares)))
        return log_choice_probs(self.path(enc.hist, a0, theta)[enc.seq, enc.at], theta["lam"], enc.legal)

    # -- fitting --------------------------------------------------------------------------------
    def validate(self, decisions: Sequence[DecisionPoint]) -> None:
        for dp in {dp.family: dp for dp in decisions}.values():
            game_of(dp)

    @staticmethod
    def _groups(decisions: Sequence[DecisionPoint]) -> dict[tuple[str, tuple], list[DecisionPoint]]:
        groups: dict[tuple[str, tuple], list[DecisionPoint]] = defaultdict(list)
        for dp in decisions:
            groups[(dp.family, game_of(dp).key)].append(dp)
        return groups

    def _lambda_max(self, encs: list[Encoded]) -> float:
        if self.lambda_max is not None:
            return self.lambda_max
        return default_lambda_max(e.game.row for e in encs)

    def fit(self, decisions: Sequence[DecisionPoint]) -> None:
        start = time.perf_counter()
        self.fitted, self.shares = {}, {}
        by_family: dict[str, list[tuple[tuple, Encoded, np.ndarray]]] = defaultdict(list)
        for (family, key), dps in self._groups(decisions).items():
            folds = np.array([fold_of(dp.participant_id, self.folds) for dp in dps])
            by_family[family].append((key, encode(game_of(dps[0]), dps), folds))
        for family, games in by_family.items():
            self._fit_family(family, games)
        self.fit_seconds = time.perf_counter() - start

    def _fit_family(self, family: str, games: list[tuple[tuple, Encoded, np.ndarray]]) -> None:
        hi = self._lambda_max([e for _, e, _ in games])
        bounds = [_UNIT.get(p, (LAMBDA_MIN, hi)) for p in self.free]
        rng = np.random.default_rng(self.seed)
        x0s = [np.array([(lo + h) / 2 if p != "lam" else min(0.2, h) for p, (lo, h) in zip(self.free, bounds)])]
        x0s += [np.array([rng.uniform(lo, h) for lo, h in bounds]) for _ in range(self.starts - 1)]
        for k in sorted({int(f) for _, _, folds in games for f in folds}):
            data = []
            for key, enc, folds in games:
                train = folds != k
                first = enc.choice[train & enc.first]
                k_actions = len(enc.game.actions)
                shares = (np.bincount(first, minlength=k_actions) + 1.0) / (len(first) + k_actions)  # Laplace
                self.shares[(family, key, k)] = shares
                if train.any():
                    data.append((enc, shares, train))
            if not data:
                continue  # nobody outside this fold: it cannot be predicted

            def nll(x: np.ndarray) -> float:
                theta = {**self.fixed, **dict(zip(self.free, x))}
                return -sum(float(np.sum(np.take_along_axis(self.log_probs(enc, sh, theta), enc.choice[:, None],
                                                            axis=1)[train, 0])) for enc, sh, train in data)

            if self.free:
                best = min((optimize.minimize(nll, x0, method="L-BFGS-B", bounds=bounds) for x0 in x0s),
                           key=lambda r: r.fun)
                values, fun = best.x, float(best.fun)
            else:
                values, fun = np.array([]), nll(np.array([]))
            self.fitted[(family, k)] = {**self.fixed, **{p: float(v) for p, v in zip(self.free, values)},
                                        "train_nll": fun}

    # -- prediction -----------------------------------------------------------------------------
    def theta(self, family: str, fold: int) -> dict[str, float]:
        fitted = self.fitted.get((family, fold))
        if fitted is None:
            raise RuntimeError(f"{self.name} has no parameters for family {family!r} fold {fold}: call fit first "
                               "(with participants outside this fold)")
        return {p: fitted[p] for p in self.params}

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        out: dict[str, Prediction] = {}
        by_group: dict[tuple[str, tuple, int], list[DecisionPoint]] = defaultdict(list)
        for (family, key), dps in self._groups(batch).items():
            for dp in dps:
                by_group[(family, key, fold_of(dp.participant_id, self.folds))].append(dp)
        for (family, key, k), dps in by_group.items():
            theta = self.theta(family, k)
            enc = encode(game_of(dps[0]), dps)
            probs = np.exp(self.log_probs(enc, self.shares[(family, key, k)], theta))
            for i, dp in enumerate(dps):
                p = {a: float(probs[i, enc.game.actions.index(a)]) for a in dp.legal_actions}
                z = sum(p.values())
                out[dp.decision_id] = Prediction(dp.decision_id, {a: v / z for a, v in p.items()},
                                                 {"fold": k, "model": self.name, **theta})
        return [out[dp.decision_id] for dp in batch]

    def describe(self) -> dict[str, Any]:
        fitted: dict[str, dict[int, dict[str, float]]] = {}
        for (family, k), values in sorted(self.fitted.items()):
            fitted.setdefault(family, {})[k] = dict(values)
        return {**super().describe(), "folds": self.folds, "starts": self.starts, "seed": self.seed,
                "lambda_max": self.lambda_max, "fixed": dict(self.fixed), "free": list(self.free),
                "fitted": fitted, "fit_seconds": round(self.fit_seconds, 3)}


class ReinforcementPredictor(EWAPredictor):
    """Cumulative reinforcement: EWA at δ = 0, κ = 1 (so N(t) = 1, A_j(t) = φ A_j(t-1) + I(j = s(t)) π)."""

    name = "reinforcement"
    preset = {"delta": 0.0, "kappa": 1.0}


class FictitiousPlayPredictor(EWAPredictor):
    """Weighted fictitious play (belief learning): EWA at δ = 1, κ = 0."""

    name = "fictitious-play"
    preset = {"delta": 1.0, "kappa": 0.0}


class SelfTuningEWAPredictor(EWAPredictor):
    """Self-tuning EWA (Ho, Camerer & Chong, 2007): φ(t) and δ_j(t) from the history, κ = 0, λ free."""

    name = "self-tuning-ewa"
    params = ("lam",)

    def path(self, hist: Histories, a0: np.ndarray, theta: Mapping[str, float]) -> np.ndarray:
        return self_tuning_path(hist, a0)[0]
