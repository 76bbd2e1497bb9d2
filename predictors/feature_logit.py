"""A descriptive baseline: logistic regression of the human's choice on the decision's features.

Each game family names the numbers that plausibly drive a decision
(``Family.features``: the share offered, the price relative to one's value, the
seller's track record ...).  This predictor fits P(affirmative action) as a
logistic function of them, separately per family, and never on the person being
predicted: participants are split into ``folds`` groups and each group is
predicted by a model fitted on the others (grouped cross-fitting).  With more
than two actions (negotiation's reject / outside option), the non-affirmative
probability is split in the proportions other participants chose them.

Fitting is an L2-penalised maximum-likelihood problem solved by scipy's L-BFGS on
standardised features — a few parameters per family, so this is instant.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import optimize
from scipy.special import expit

from envs.records import DecisionPoint
from envs.registry import get_family
from predictors.base import Prediction, Predictor


@dataclass(frozen=True)
class LogitModel:
    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # intercept first
    others: dict  # non-affirmative action -> share among non-affirmative choices

    def p(self, x: np.ndarray) -> float:
        z = (x - self.mean) / self.scale
        return float(expit(self.weights[0] + z @ self.weights[1:]))


def fit_logit(x: np.ndarray, y: np.ndarray, l2: float,
              weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, scale, weights) of a penalised logistic regression; the intercept is not penalised.

    ``y`` may be fractional (a share of people) with ``weight`` the number of people behind it: the
    binomial likelihood of k = y * n choices out of n is the weighted logistic loss used here."""
    w8 = np.ones(len(y)) if weight is None else np.asarray(weight, float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    z = np.column_stack([np.ones(len(x)), (x - mean) / scale])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        eta = z @ w
        nll = float(np.sum(w8 * (np.logaddexp(0.0, eta) - y * eta))) + 0.5 * l2 * float(w[1:] @ w[1:])
        grad = z.T @ (w8 * (expit(eta) - y))
        grad[1:] += l2 * w[1:]
        return nll, grad

    res = optimize.minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B")
    return mean, scale, res.x


def fold_of(participant: str, folds: int) -> int:
    """A participant's fold: stable across runs and machines (not Python's salted hash)."""
    return int(hashlib.sha256(participant.encode()).hexdigest(), 16) % folds


class FeatureLogit(Predictor):
    """Grouped cross-fitted logistic regression on the family's decision features."""

    name = "feature-logit"
    category = "descriptive"

    def __init__(self, folds: int = 10, l2: float = 1.0, name: str | None = None):
        if folds < 2:
            raise ValueError("feature-logit needs at least 2 folds (a person is never in their own training set)")
        self.folds, self.l2 = int(folds), float(l2)
        self.name = name or self.name
        self._models: dict[tuple[str, int], LogitModel] = {}

    @staticmethod
    def _features(dp: DecisionPoint) -> dict[str, float]:
        fam = get_family(dp.family)
        if not fam.provides("features"):
            raise ValueError(f"game family {dp.family!r} defines no decision features for feature-logit")
        return fam.features(dp)

    def validate(self, decisions: Sequence[DecisionPoint]) -> None:
        for fam in {dp.family: dp for dp in decisions}.values():
            self._features(fam)

    def fit(self, decisions: Sequence[DecisionPoint]) -> None:
        self._models = {}
        by_family: dict[str, list[DecisionPoint]] = {}
        for dp in decisions:
            by_family.setdefault(dp.family, []).append(dp)
        for family, dps in by_family.items():
            feats = [self._features(dp) for dp in dps]
            names = tuple(sorted(feats[0]))
            x = np.array([[f[n] for n in names] for f in feats], float)
            # aggregate data: fit the observed share, weighted by how many people it stands for
            y = np.array([dp.human_rate if dp.human_rate is not None else dp.human_action == dp.affirmative
                          for dp in dps], float)
            n = np.array([dp.n_people if dp.human_rate is not None and dp.n_people else 1 for dp in dps], float)
            fold = np.array([fold_of(dp.participant_id, self.folds) for dp in dps])
            for k in range(self.folds):
                train = fold != k
                if not train.any():
                    continue
                mean, scale, w = fit_logit(x[train], y[train], self.l2, n[train])
                others = Counter(dp.human_action for dp, t in zip(dps, train) if t and dp.human_action != dp.affirmative)
                self._models[(family, k)] = LogitModel(names, mean, scale, w, dict(others))

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        out = []
        for dp in batch:
            k = fold_of(dp.participant_id, self.folds)
            model = self._models.get((dp.family, k))
            if model is None:
                raise RuntimeError(f"feature-logit was not fitted on family {dp.family!r}; call fit first")
            f = self._features(dp)
            p = model.p(np.array([f[n] for n in model.names], float))
            rest = [a for a in dp.legal_actions if a != dp.affirmative]
            counts = {a: model.others.get(a, 0) + 1.0 for a in rest}  # Laplace: every option stays possible
            z = sum(counts.values())
            probs = {dp.affirmative: p, **{a: (1 - p) * c / z for a, c in counts.items()}}
            out.append(Prediction(dp.decision_id, probs, {"fold": k}))
        return out

    def describe(self) -> dict:
        return {**super().describe(), "folds": self.folds, "l2": self.l2}
