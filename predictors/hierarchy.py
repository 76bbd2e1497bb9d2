"""Cognitive hierarchy and level-k: people reason a few steps about what the other player does.

Both models build a ladder of *levels* for each player of a matrix game, from the human's side
(rows = the human's actions, payoffs ``R``; the other player's view is ``StageGame.transposed()``,
whose row payoffs are ``C^T``):

- level 0 plays uniformly at random;
- a level-k player (k ≥ 1) holds a belief ``b_k`` over the *other* player's levels 0..k-1 and
  quantal-best-responds to the mix it implies, with logit precision λ (1/payoff units)::

      σ_k(a) ∝ exp(λ · Σ_b R[a, b] · Σ_h b_k(h) σ'_h(b))

  (σ' = the other player's level strategies, built the same way on ``C^T``); λ → ∞ is the exact
  best response (ties split evenly), λ = 0 is uniform;
- the population's (the prediction's) mix is ``P(a) = Σ_k w_k σ_k(a)``.

The two models differ in the beliefs and the weights:

**Poisson cognitive hierarchy** (``type: cognitive-hierarchy``; Camerer, Ho & Chong, 2004, QJE 119,
861-898), quantal version (as in Wright & Leyton-Brown's "quantal cognitive hierarchy"): levels
are Poisson(τ) distributed, truncated at ``max_level`` = K (default 10) and renormalised,
``w_k = f(k) = (τ^k / k!) / Σ_{j≤K} τ^j / j!``; level k believes the others are the lower levels
in their true relative proportions, ``b_k(h) = f(h) / Σ_{j<k} f(j)`` for h < k.  Two parameters,
τ ∈ [0, tau_max] (mean thinking steps; CH&C report τ ≈ 1.5) and λ.

**Level-k** (``type: level-k``; Nagel, 1995, AER 85; Stahl & Wilson, 1995, GEB 10; Costa-Gomes &
Crawford, 2006, AER 96): level k believes everyone else is level k-1, ``b_k = δ_{k-1}``; the
population is a mixture of levels 0..K (default K = 3) with *freely fitted shares* w (a softmax of
K logits against level 0's, each bounded in [-8, 8]), plus λ.  Where levels coincide (every level
≥ 1 in a Prisoner's Dilemma) their shares are not identified separately; only their sum is, and
the fitted split is whatever the optimiser ends at (it starts from equal shares).  Likewise at
λ = 0 every level plays uniformly, so τ (or the shares) is then not identified: read the fitted τ
together with λ.

Fitting (per game family, like ``qre``): maximum likelihood of the humans' choices, cross-fitted by
participant: participants fall in ``folds`` groups (``fold_of``) and each group is predicted with
the parameters that best fit everybody else, so nobody's own choices move their own prediction.
Aggregate rows (``human_rate``, ``n_people``) count as ``n_people`` binomial choices (the
convention of ``qre``: ``QREPredictor._counts``).  The bounded maximisation (scipy L-BFGS-B on the
parameter box scaled to [0, 1]) starts from the ``starts`` best points of a coarse grid evaluated
for all folds at once (CH: τ × λ; level-k: λ × {equal shares, one level favoured}) and keeps the
best end point.  λ's upper bound is by default 50 / the family's median spread of the human's
payoffs (as in ``qre``: 5 for payoffs in 0..10).  Fitted values per fold are in ``describe()`` and
in each prediction's diagnostics.

Repeated games: these are models of one-shot play, so by default (``rounds: first``) they apply to
round 1 only (``applies_to``): a run scores them on the round-1 decisions of a repeated family (every
decision of a one-shot family) and fits them on those; ranked against other predictors, they are compared
on those decisions (``analysis.likelihood.paired_nll``, the report's round-1 column).  Given a later round
directly (``fit``/``validate`` from Python), they refuse it with a one-line error.  ``rounds: all``
applies the stage-game model to every round alike and fits it on every round, as ``qre`` does: a
benchmark that ignores history and reciprocity, not a model of repeated play.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy import optimize
from scipy.special import gammaln, softmax

from envs.family import NotProvided
from envs.records import DecisionPoint
from predictors.base import Prediction, Predictor
from predictors.feature_logit import fold_of
from predictors.nash import stage_game
from predictors.precision import default_lambda_max
from predictors.qre import QREPredictor, game_key

_FLOOR = 1e-300  # probabilities below this count as this in the log-likelihood
ROUNDS = ("first", "all")


# --- the ladder of levels ----------------------------------------------------------------------------

def level_strategies(row: np.ndarray, col_t: np.ndarray, lam: float,
                     beliefs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both players' level strategies for a stack of games.

    ``row``: the human's payoffs, shape (G, n, m); ``col_t``: the other player's payoffs from their own
    side (``StageGame.transposed().row``), shape (G, m, n); ``beliefs``: (K+1, K+1), row k = level k's
    belief over the other player's levels (row 0 unused: level 0 is uniform).
    Returns (human's σ_k: (G, K+1, n), other's σ'_k: (G, K+1, m))."""
    g, n, m = row.shape
    levels = beliefs.shape[0]
    own, other = np.empty((g, levels, n)), np.empty((g, levels, m))
    own[:, 0], other[:, 0] = 1.0 / n, 1.0 / m
    for k in range(1, levels):
        about_other = np.einsum("h,ghb->gb", beliefs[k, :k], other[:, :k])
        about_own = np.einsum("h,gha->ga", beliefs[k, :k], own[:, :k])
        own[:, k] = softmax(lam * np.einsum("gab,gb->ga", row, about_other), axis=1)
        other[:, k] = softmax(lam * np.einsum("gba,ga->gb", col_t, about_own), axis=1)
    return own, other


def poisson_weights(tau: float, max_level: int) -> np.ndarray:
    """f(0..K): Poisson(τ) probabilities of levels 0..K, renormalised (τ = 0: everybody is level 0)."""
    if tau <= 0:
        return np.eye(max_level + 1)[0]
    k = np.arange(max_level + 1)
    logw = k * np.log(tau) - gammaln(k + 1)  # log(τ^k / k!); e^-τ cancels in the renormalisation
    w = np.exp(logw - logw.max())
    return w / w.sum()


def ch_beliefs(weights: np.ndarray) -> np.ndarray:
    """Cognitive-hierarchy beliefs: level k sees levels h < k in proportions f(h) / Σ_{j<k} f(j)."""
    levels = len(weights)
    b = np.tril(np.tile(weights, (levels, 1)), k=-1)
    tot = b.sum(axis=1, keepdims=True)
    # a level whose lower levels all have zero weight (τ = 0) is never played; give it level 0's view
    return np.where(tot > 0, b / np.where(tot > 0, tot, 1.0), np.eye(levels)[0])


def lk_beliefs(max_level: int) -> np.ndarray:
    """Level-k beliefs: level k is sure the other player is level k-1."""
    return np.eye(max_level + 1, k=-1)


def population_mix(row: Any, col: Any, lam: float, weights: np.ndarray, beliefs: np.ndarray) -> np.ndarray:
    """The human's predicted mix in one game (``row``, ``col``: n x m payoffs from the human's side)."""
    r = np.asarray(row, float)[None]
    own, _ = level_strategies(r, np.asarray(col, float).T[None], lam, beliefs)
    return weights @ own[0]


# --- the predictors ----------------------------------------------------------------------------------

class _Hierarchy(Predictor):
    """Shared machinery: games, counts, cross-fitted bounded maximum likelihood, predictions."""

    category = "bounded rationality"
    #: names of the fitted parameters, in the optimiser's order
    params: tuple[str, ...] = ()

    def __init__(self, folds: int, max_level: int, lambda_max: float | None, starts: int, rounds: str,
                 name: str | None):
        if folds < 2:
            raise ValueError(f"{self.name} needs at least 2 folds (a person is never in their own training set)")
        if max_level < 1:
            raise ValueError(f"{self.name}: max_level must be at least 1, got {max_level}")
        if lambda_max is not None and not lambda_max > 0:
            raise ValueError(f"{self.name}: lambda_max must be positive, got {lambda_max}")
        if starts < 1:
            raise ValueError(f"{self.name}: starts must be at least 1, got {starts}")
        if rounds not in ROUNDS:
            raise ValueError(f"{self.name}: rounds must be one of {ROUNDS}, got {rounds!r}")
        self.folds, self.max_level, self.starts, self.rounds = int(folds), int(max_level), int(starts), rounds
        self.lambda_max = None if lambda_max is None else float(lambda_max)
        self.name = name or self.name
        self.fitted: dict[tuple[str, int], dict[str, Any]] = {}  # (family, fold) -> parameters

    # -- the model (subclasses) --
    def _bounds(self, lam_max: float) -> np.ndarray:
        """(d, 2) lower and upper bounds of the parameters."""
        raise NotImplementedError

    def _model(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """(λ, level weights, beliefs) at parameters ``theta``."""
        raise NotImplementedError

    def _candidates(self, bounds: np.ndarray) -> np.ndarray:
        """Coarse start points (c, d) in natural units."""
        raise NotImplementedError

    def _report(self, theta: np.ndarray) -> dict[str, Any]:
        return {p: float(v) for p, v in zip(self.params, theta)}

    # -- games and data --
    def _game(self, dp: DecisionPoint) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(human's payoffs, other's payoffs, the human's actions in row order); ValueError if unfit."""
        try:
            game = stage_game(dp)
        except NotProvided as exc:
            raise ValueError(f"{self.name} needs a matrix stage game: {exc}") from None
        return game.row, game.transposed().row.T, list(game.actions)

    def applies_to(self, dp: DecisionPoint) -> bool:
        """Round 1 only under ``rounds: first`` (the default): these are models of one-shot play."""
        return self.rounds == "all" or dp.round == 1

    def _check_round(self, dp: DecisionPoint) -> None:
        if not self.applies_to(dp):
            raise ValueError(f"{self.name} models one-shot play and got round {dp.round} ({dp.decision_id}): "
                             "restrict the data to round 1 or set `rounds: all` to apply the stage-game model "
                             "to every round")

    def validate(self, decisions: Sequence[DecisionPoint]) -> None:
        seen = set()
        for dp in decisions:
            self._check_round(dp)
            if dp.family not in seen:
                seen.add(dp.family)
                self._game(dp)

    def fit(self, decisions: Sequence[DecisionPoint]) -> None:
        self.fitted = {}
        by_family: dict[str, list[DecisionPoint]] = {}
        for dp in decisions:
            self._check_round(dp)
            by_family.setdefault(dp.family, []).append(dp)
        for family, dps in by_family.items():
            self._fit_family(family, dps)

    def _fit_family(self, family: str, dps: list[DecisionPoint]) -> None:
        games: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        counts: dict[tuple[int, tuple], np.ndarray] = {}  # (fold, game) -> action counts (row order)
        for dp in dps:
            row, col, actions = self._game(dp)
            key = game_key(row, col)
            games.setdefault(key, (row, col))
            k = fold_of(dp.participant_id, self.folds)
            counts[(k, key)] = counts.get((k, key), 0.0) + QREPredictor._counts(dp, actions)
        folds = sorted({k for k, _ in counts})
        by_shape: dict[tuple[int, int], list[tuple]] = {}
        for key, (row, _) in games.items():
            by_shape.setdefault(row.shape, []).append(key)
        where = {key: (shape, i) for shape, keys in by_shape.items() for i, key in enumerate(keys)}
        per_shape = {shape: np.zeros((len(folds), len(keys), shape[0])) for shape, keys in by_shape.items()}
        for (k, key), v in counts.items():
            shape, i = where[key]
            per_shape[shape][folds.index(k), i] += v
        stacks = []  # per shape: (row stack, other's-view stack, train counts (fold, game, action))
        for shape, keys in by_shape.items():
            c = per_shape[shape]
            train = c.sum(axis=0, keepdims=True) - c  # everybody but the fold
            stacks.append((np.stack([games[g][0] for g in keys]),
                           np.stack([games[g][1].T for g in keys]), train))

        def loglik(theta: np.ndarray) -> np.ndarray:
            """Training log-likelihood of every fold at ``theta``: (fold,)."""
            lam, w, b = self._model(theta)
            total = np.zeros(len(folds))
            for row, col_t, train in stacks:
                own, _ = level_strategies(row, col_t, lam, b)
                logp = np.log(np.maximum(np.einsum("k,gka->ga", w, own), _FLOOR))
                total += np.einsum("fga,ga->f", train, logp)
            return total

        bounds = self._bounds(self._lambda_max([g[0] for g in games.values()]))
        lo, span = bounds[:, 0], bounds[:, 1] - bounds[:, 0]
        cands = self._candidates(bounds)
        grid = np.array([loglik(c) for c in cands])  # (candidate, fold)
        for j, k in enumerate(folds):
            n_obs = float(sum(t[j].sum() for _, _, t in stacks))
            if n_obs == 0:
                continue  # nobody outside this fold: it cannot be predicted
            best_val, best = -np.inf, cands[0]
            for start in np.argsort(-grid[:, j])[:self.starts]:
                res = optimize.minimize(lambda x: -loglik(lo + x * span)[j] / n_obs, (cands[start] - lo) / span,
                                        method="L-BFGS-B", bounds=[(0.0, 1.0)] * len(lo))
                val, theta = -res.fun, lo + res.x * span
                if grid[start, j] / n_obs > val:  # never worse than the grid point it started from
                    val, theta = grid[start, j] / n_obs, cands[start]
                if val > best_val:
                    best_val, best = val, theta
            at_bound = [p for p, v, (a, b) in zip(self.params, best, bounds) if np.isclose(v, b) and b > a]
            self.fitted[(family, k)] = {**self._report(best), "train_loglik_per_choice": float(best_val),
                                        "at_upper_bound": at_bound, "_theta": best}

    def _lambda_max(self, rows: list[np.ndarray]) -> float:
        if self.lambda_max is not None:
            return self.lambda_max
        return default_lambda_max(rows)

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        out, mixes = [], {}  # (family, fold, game) -> the human's mix: many decisions share a game
        for dp in batch:
            k = fold_of(dp.participant_id, self.folds)
            fit = self.fitted.get((dp.family, k))
            if fit is None:
                raise RuntimeError(f"{self.name} has no parameters for family {dp.family!r} fold {k}: call fit "
                                   "first (with participants outside this fold)")
            row, col, actions = self._game(dp)
            key = (dp.family, k, game_key(row, col))
            if key not in mixes:
                mixes[key] = population_mix(row, col, *self._model(fit["_theta"]))
            mix = mixes[key]
            probs = {a: float(mix[actions.index(a)]) for a in dp.legal_actions}
            z = sum(probs.values())
            diag = {key: v for key, v in fit.items() if not key.startswith("_")}
            out.append(Prediction(dp.decision_id, {a: p / z for a, p in probs.items()}, {**diag, "fold": k}))
        return out

    def describe(self) -> dict:
        fitted: dict[str, dict[int, dict]] = {}
        for (family, k), fit in sorted(self.fitted.items()):
            fitted.setdefault(family, {})[k] = {key: v for key, v in fit.items() if not key.startswith("_")}
        return {**super().describe(), "folds": self.folds, "max_level": self.max_level,
                "lambda_max": self.lambda_max, "starts": self.starts, "rounds": self.rounds, "fitted": fitted}


class CognitiveHierarchy(_Hierarchy):
    """Quantal Poisson cognitive hierarchy (Camerer, Ho & Chong, 2004): τ and λ fitted per family."""

    name = "cognitive-hierarchy"
    params = ("tau", "lambda")

    def __init__(self, folds: int = 10, max_level: int = 10, tau_max: float = 5.0, lambda_max: float | None = None,
                 starts: int = 3, rounds: str = "first", name: str | None = None):
        """``max_level``: K, the highest level (Poisson truncated there and renormalised); ``tau_max``:
        τ's upper bound; ``lambda_max``: λ's (default 50 / median payoff spread); ``starts``: L-BFGS-B runs
        per fold from the best grid points; ``rounds``: ``first`` (round 1 only, the default) or ``all``
        (the stage-game model in every round)."""
        if not tau_max > 0:
            raise ValueError(f"cognitive-hierarchy: tau_max must be positive, got {tau_max}")
        self.tau_max = float(tau_max)
        super().__init__(folds, max_level, lambda_max, starts, rounds, name)

    def _bounds(self, lam_max: float) -> np.ndarray:
        return np.array([[0.0, self.tau_max], [0.0, lam_max]])

    def _model(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        w = poisson_weights(float(theta[0]), self.max_level)
        return float(theta[1]), w, ch_beliefs(w)

    def _candidates(self, bounds: np.ndarray) -> np.ndarray:
        taus = np.linspace(0.1, 1.0, 8) * bounds[0, 1]
        lams = np.geomspace(1e-3, 1.0, 10) * bounds[1, 1]
        return np.array([[t, lam] for t in taus for lam in lams])

    def describe(self) -> dict:
        return {**super().describe(), "tau_max": self.tau_max}


class LevelK(_Hierarchy):
    """Level-k with fitted level shares (Nagel, 1995; Stahl & Wilson, 1995; Costa-Gomes & Crawford, 2006)."""

    name = "level-k"

    def __init__(self, folds: int = 10, max_level: int = 3, lambda_max: float | None = None, starts: int = 3,
                 rounds: str = "first", name: str | None = None):
        """``max_level``: K, the highest level (shares of levels 0..K fitted); ``lambda_max``: λ's upper bound
        (default 50 / median payoff spread); ``starts``: L-BFGS-B runs per fold; ``rounds``: ``first`` (round 1
        only, the default) or ``all``."""
        super().__init__(folds, max_level, lambda_max, starts, rounds, name)
        self.params = ("lambda",) + tuple(f"logit_level_{k}" for k in range(1, self.max_level + 1))

    def _bounds(self, lam_max: float) -> np.ndarray:
        return np.array([[0.0, lam_max]] + [[-8.0, 8.0]] * self.max_level)

    def shares(self, theta: np.ndarray) -> np.ndarray:
        """Level shares w_0..w_K: softmax of (0, logits of levels 1..K)."""
        return softmax(np.concatenate([[0.0], theta[1:]]))

    def _model(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        return float(theta[0]), self.shares(theta), lk_beliefs(self.max_level)

    def _candidates(self, bounds: np.ndarray) -> np.ndarray:
        lams = np.geomspace(1e-3, 1.0, 10) * bounds[0, 1]
        logits = [np.zeros(self.max_level)] + [2.0 * np.eye(self.max_level)[i] for i in range(self.max_level)]
        return np.array([np.concatenate([[lam], lg]) for lam in lams for lg in logits])

    def _report(self, theta: np.ndarray) -> dict[str, Any]:
        return {"lambda": float(theta[0]), "shares": [float(s) for s in self.shares(theta)]}
