"""Logit quantal response equilibrium (QRE) of the stage game, precision fitted on other people.

A *logit QRE* at precision λ ≥ 0 is a pair of mixed strategies in which each
player best-responds to the other's QRE mix with logit noise: the probability of
an action is proportional to ``exp(λ · expected payoff of that action)``.  At
λ = 0 choices are uniform; as λ grows the players respond ever more sharply to
payoff differences and the QRE approaches a Nash equilibrium.  λ is in units of
1/payoff: at λ = 0.5 an action worth 2 points more is e ≈ 2.7 times as likely.
Several QREs can coexist at one λ; this predictor uses the *principal branch*,
the one traced continuously from the uniform profile at λ = 0 (McKelvey &
Palfrey, 1995), which is what pygambit's ``logit_solve_lambda`` computes.  Its
λ → ∞ limit is the equilibrium ``pygambit.nash.logit_solve`` reports: mutual
defection in the Prisoner's Dilemma, and in the Battle of the Sexes of the
repeated-games data the pure equilibrium the human (row player) prefers (both
play F) — neither ``nash``'s mixed equilibrium nor the average of equilibria.

As a predictor, QRE is "rational with noise": people play the game's equilibrium
logic, but imperfectly.  How imperfectly is one number per game family, λ,
fitted by maximum likelihood of the humans' choices.  Like ``feature-logit`` it
is cross-fitted by participant: participants are split into ``folds`` groups
(``fold_of``) and each group is predicted with the λ that best fits everybody
else's choices, so nobody is predicted by a λ fitted on their own decisions.
Aggregate data (``human_rate`` with ``n_people``) counts as ``n_people``
binomial choices.

Estimation is a bounded one-dimensional maximisation over λ ∈ [0, λ_max]: the
log-likelihood is evaluated on a log-spaced grid (one pygambit trace per
distinct game), then on a fine linear grid spanning the two coarse cells around
each fold's best point (again one trace per game, for all folds at once), and
the best fine point is taken (resolution about 1% of λ).  A global grid rather
than a local optimiser because the likelihood along the principal branch need
not be unimodal, and because tracing a game once for all folds is what makes
thousands of distinct games (games2p2k) affordable.  pygambit's own
``pygambit.qre.logit_estimate`` fits one game's profile of counts; it cannot
pool one λ across the several games of a family, so it serves the tests as an
independent check of this estimator on one game.  QREs are cached per
(payoffs, λ): many decisions share a game.

Two pygambit quirks are handled here: tracing to exactly λ = 0 never returns
(λ = 0 is the uniform profile, filled in directly), and at a bifurcation of the
principal branch (exactly symmetric games such as a symmetric anti-coordination
game) the tracer stalls and returns points at the wrong λ.  Points are checked
against the λ asked for; past a stall the branch is continued from the last good
point by Newton steps on the 2x2 fixed-point equations (the continuation past a
pitchfork is not unique; this follows the branch through the point where it
stalled).  Past such a fork the branch gambit picks depends on which player is
listed first, so in a game symmetric under swapping players and actions (the
repeated-games Battle of the Sexes, from λ ≈ 0.3) the decision-maker's QRE as row
player is not the mirror image of the other player's; the fitted λ of the real
repeated-games data (below 0.2) lies before that fork.

In repeated games the QRE of the *stage* game is applied to every round, the
same prediction in round 1 and round 10: a normative benchmark of the one-shot
game with noise, not a model of repeated-game strategies (it ignores history,
reciprocity and reputation).

pygambit is an optional extra (``pip install 'gamereplay[qre]'``): no release
has a Linux wheel for CPython 3.11, so installing it compiles C++ for minutes,
which the main install must not need.  It is imported only when a QRE is
traced; a ``type: qre`` predictor checks that it is installed when it is
built (``require_pygambit``), so a run fails with one line before any data or
model loads instead of after them.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Sequence

import numpy as np
from scipy import optimize
from scipy.special import expit

from envs.family import NotProvided
from envs.records import DecisionPoint
from predictors.base import Prediction, Predictor
from predictors.feature_logit import fold_of
from predictors.nash import stage_game
from predictors.precision import default_lambda_max

GameKey = tuple[tuple[tuple[float, ...], ...], tuple[tuple[float, ...], ...]]

#: (row payoffs, col payoffs) -> {λ: (row player's mix, column player's mix)}
_CACHE: dict[GameKey, dict[float, tuple[np.ndarray, np.ndarray]]] = {}
_CACHE_GAMES_MAX = 50_000
_FLOOR = 1e-300  # probabilities below this count as this in the log-likelihood

#: how to install what ``type: qre`` needs; its error message names it
INSTALL_HINT = "pip install 'gamereplay[qre]'"


class QREUnavailable(ValueError):
    """pygambit, which traces the QRE, is not installed; the message is one line naming the extra.

    A ``ValueError`` so that the runner reports it as a bad predictor setting of the config
    (``ConfigError``, one line) when the predictor is built, before any data loads."""


def require_pygambit() -> None:
    """Raise ``QREUnavailable`` unless pygambit can be imported; imports nothing (cheap, for config time)."""
    try:
        found = importlib.util.find_spec("pygambit") is not None
    except (ImportError, ValueError):  # a broken or half-removed installation
        found = False
    if not found:
        raise QREUnavailable(f"qre needs pygambit, an optional extra: {INSTALL_HINT} "
                             "(where no wheel fits it compiles C++: a compiler and a few minutes)")


def game_key(row: Any, col: Any) -> GameKey:
    """A hashable key for a bimatrix game (payoffs as floats)."""
    return (tuple(tuple(float(x) for x in r) for r in row), tuple(tuple(float(x) for x in r) for r in col))


def _fixed_point(row: np.ndarray, col: np.ndarray, lam: float, start: tuple[float, float]) -> tuple[float, float]:
    """A 2x2 logit QRE at ``lam`` near ``start`` (logits of P(row action 0), P(col action 0))."""
    drow = row[0] - row[1]  # the row player's gain from action 0, against column 0 / column 1
    dcol = col[:, 0] - col[:, 1]  # the column player's gain from action 0, against row 0 / row 1

    def resid(z: np.ndarray) -> np.ndarray:
        p, q = expit(z[0]), expit(z[1])
        return np.array([z[0] - lam * (drow[0] * q + drow[1] * (1 - q)),
                         z[1] - lam * (dcol[0] * p + dcol[1] * (1 - p))])

    sol = optimize.root(resid, np.array(start, float), method="hybr")
    if not sol.success or np.max(np.abs(resid(sol.x))) > 1e-8:
        raise RuntimeError(f"QRE continuation failed at λ={lam}: {sol.message}")
    return float(sol.x[0]), float(sol.x[1])


def _continue_branch(row: np.ndarray, col: np.ndarray, lam0: float, p0: np.ndarray, q0: np.ndarray,
                     lams: Sequence[float], steps: int = 20) -> list[tuple[np.ndarray, np.ndarray]]:
    """Follow the QRE branch from (lam0, p0, q0) to each of ``lams`` (ascending) by small Newton steps."""
    if row.shape != (2, 2):
        raise RuntimeError("pygambit's QRE tracer stalled on a game larger than 2x2; no continuation available")
    clip = lambda v: float(np.clip(v, 1e-15, 1 - 1e-15))  # noqa: E731
    z = (float(np.log(clip(p0[0]) / clip(p0[1]))), float(np.log(clip(q0[0]) / clip(q0[1]))))
    out, cur = [], lam0
    for lam in lams:
        for t in np.linspace(cur, lam, steps + 1)[1:]:
            z = _fixed_point(row, col, float(t), z)
        cur = lam
        p, q = expit(z[0]), expit(z[1])
        out.append((np.array([p, 1 - p]), np.array([q, 1 - q])))
    return out


def _solve(key: GameKey, lams: Sequence[float]) -> None:
    """Fill the cache with the principal-branch QRE of game ``key`` at each positive λ in ``lams``."""
    require_pygambit()
    import pygambit

    row, col = np.array(key[0], float), np.array(key[1], float)
    game = pygambit.Game.from_arrays(row, col)
    players = list(game.players)
    results = pygambit.qre.logit_solve_lambda(game, list(lams))
    cache = _CACHE.setdefault(key, {})
    last = (0.0, np.full(row.shape[0], 1 / row.shape[0]), np.full(row.shape[1], 1 / row.shape[1]))
    for i, lam in enumerate(lams):
        good = False
        if i < len(results) and abs(results[i].lam - lam) <= 1e-7 * max(1.0, lam):
            prof = results[i].profile
            p = np.array([prof[s] for s in players[0].strategies], float)
            q = np.array([prof[s] for s in players[1].strategies], float)
            good = abs(p.sum() - 1) < 1e-6 and abs(q.sum() - 1) < 1e-6 and (p >= 0).all() and (q >= 0).all()
        if not good:  # the tracer stalled (a bifurcation): continue the branch from the last good point
            for lam_i, (p, q) in zip(lams[i:], _continue_branch(row, col, last[0], last[1], last[2], lams[i:])):
                cache[float(lam_i)] = (p, q)
            return
        cache[float(lam)] = (p / p.sum(), q / q.sum())
        last = (lam, p, q)


def qre_path(row: Any, col: Any, lams: Sequence[float]) -> np.ndarray:
    """The row player's principal-branch logit-QRE mix at each λ: an array (len(lams), n_row_actions)."""
    key = game_key(row, col)
    n = len(key[0])
    if len(_CACHE) > _CACHE_GAMES_MAX and key not in _CACHE:
        _CACHE.clear()
    have = _CACHE.get(key, {})
    if any(lam < 0 or not np.isfinite(lam) for lam in lams):
        raise ValueError(f"QRE precision must be a finite λ >= 0, got {list(lams)}")
    todo = sorted({float(lam) for lam in lams if lam > 0 and float(lam) not in have})
    if todo:
        _solve(key, todo)
    have = _CACHE.get(key, {})
    return np.array([np.full(n, 1.0 / n) if lam == 0 else have[float(lam)][0] for lam in lams])


def qre_row_strategy(row: Any, col: Any, lam: float) -> np.ndarray:
    """The row player's principal-branch logit-QRE mix at precision ``lam``."""
    return qre_path(row, col, [lam])[0]


class QREPredictor(Predictor):
    """P(action) = the human's logit-QRE mix of the stage game, λ fitted per family on other folds."""

    name = "qre"
    category = "equilibrium"

    def __init__(self, folds: int = 10, lambda_max: float | None = None, grid_size: int = 48,
                 name: str | None = None):
        """``lambda_max``: upper bound of λ; by default 50 / the family's median spread of the human's
        payoffs (5 for payoffs in 0..10).  ``grid_size``: points of the log-spaced coarse grid
        (from lambda_max / 10^4 to lambda_max, plus λ = 0)."""
        if folds < 2:
            raise ValueError("qre needs at least 2 folds (a person is never in their own training set)")
        if lambda_max is not None and not lambda_max > 0:
            raise ValueError(f"lambda_max must be positive, got {lambda_max}")
        if grid_size < 3:
            raise ValueError("grid_size must be at least 3")
        require_pygambit()  # when the config is built: before any data or model loads
        self.folds, self.grid_size = int(folds), int(grid_size)
        self.lambda_max = None if lambda_max is None else float(lambda_max)
        self.name = name or self.name
        self.lambdas: dict[tuple[str, int], float] = {}  # (family, fold) -> fitted λ
        self.at_bound: dict[tuple[str, int], bool] = {}

    @staticmethod
    def _game(dp: DecisionPoint) -> tuple[GameKey, list[str]]:
        """(payoff key, the human's actions in row order); ValueError if the decision is no 2x2 matrix game."""
        try:
            game = stage_game(dp)
        except NotProvided as exc:
            raise ValueError(f"qre needs a 2x2 stage game: {exc}") from None
        if game.row.shape != (2, 2):
            raise ValueError(f"qre needs a 2x2 matrix game, but family {dp.family!r} (decision {dp.decision_id}) "
                             f"has a {game.row.shape[0]}x{game.row.shape[1]} game")
        return game_key(game.row, game.col), list(game.actions)

    def validate(self, decisions: Sequence[DecisionPoint]) -> None:
        seen = set()
        for dp in decisions:
            if dp.family not in seen:  # one check per family is enough to fail fast ...
                seen.add(dp.family)
                self._game(dp)
        # ... fit checks every decision

    @staticmethod
    def _counts(dp: DecisionPoint, actions: list[str]) -> np.ndarray:
        """How many choices of each action the decision stands for (binomial shares for aggregate data)."""
        c = np.zeros(len(actions))
        if dp.human_rate is None:
            c[actions.index(dp.human_action)] = 1.0
            return c
        others = [a for a in dp.legal_actions if a != dp.affirmative]
        if len(others) != 1:
            raise ValueError(f"qre: aggregate decision {dp.decision_id} needs exactly two legal actions")
        n = float(dp.n_people) if dp.n_people else 1.0
        c[actions.index(dp.affirmative)] = n * dp.human_rate
        c[actions.index(others[0])] = n * (1.0 - dp.human_rate)
        return c

    def _lambda_max(self, keys: list[GameKey]) -> float:
        if self.lambda_max is not None:
            return self.lambda_max
        return default_lambda_max(k[0] for k in keys)

    def fit(self, decisions: Sequence[DecisionPoint]) -> None:
        self.lambdas, self.at_bound = {}, {}
        by_family: dict[str, list[DecisionPoint]] = {}
        for dp in decisions:
            by_family.setdefault(dp.family, []).append(dp)
        for family, dps in by_family.items():
            self._fit_family(family, dps)

    def _fit_family(self, family: str, dps: list[DecisionPoint]) -> None:
        keys: dict[GameKey, int] = {}
        counts: dict[tuple[int, int], np.ndarray] = {}  # (fold, game index) -> action counts
        for dp in dps:
            key, actions = self._game(dp)
            g = keys.setdefault(key, len(keys))
            k = fold_of(dp.participant_id, self.folds)
            counts[(k, g)] = counts.get((k, g), np.zeros(2)) + self._counts(dp, actions)
        folds = sorted({k for k, _ in counts})
        by_fold = np.zeros((len(folds), len(keys), 2))
        for (k, g), c in counts.items():
            by_fold[folds.index(k), g] += c
        train = by_fold.sum(axis=0, keepdims=True) - by_fold  # everybody but the fold: (fold, game, action)
        game_list = list(keys)

        def loglik(lams: np.ndarray) -> np.ndarray:
            """Training log-likelihood of each fold at each λ: (fold, λ)."""
            logp = np.log(np.maximum(np.stack([qre_path(r, c, lams) for r, c in game_list]), _FLOOR))
            return np.einsum("kga,gla->kl", train, logp)

        hi = self._lambda_max(game_list)
        coarse = np.concatenate([[0.0], np.geomspace(hi * 1e-4, hi, self.grid_size)])
        best = loglik(coarse).argmax(axis=1)
        fine = {k: np.linspace(coarse[max(i - 1, 0)], coarse[min(i + 1, len(coarse) - 1)], 41)
                for k, i in enumerate(best)}
        pts = np.unique(np.concatenate(list(fine.values())))
        ll = loglik(pts)
        for j, k in enumerate(folds):
            if train[j].sum() == 0:
                continue  # nobody outside this fold: it cannot be predicted
            mask = np.isin(pts, fine[j])
            lam = float(pts[mask][ll[j, mask].argmax()])
            self.lambdas[(family, k)] = lam
            self.at_bound[(family, k)] = bool(lam >= hi)

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        out = []
        for dp in batch:
            k = fold_of(dp.participant_id, self.folds)
            lam = self.lambdas.get((dp.family, k))
            if lam is None:
                raise RuntimeError(f"qre has no λ for family {dp.family!r} fold {k}: call fit first "
                                   "(with participants outside this fold)")
            (row, col), actions = self._game(dp)
            strat = qre_row_strategy(row, col, lam)
            probs = {a: float(strat[actions.index(a)]) for a in dp.legal_actions}
            z = sum(probs.values())
            out.append(Prediction(dp.decision_id, {a: p / z for a, p in probs.items()},
                                  {"lambda": lam, "fold": k, "lambda_at_bound": self.at_bound[(dp.family, k)]}))
        return out

    def describe(self) -> dict:
        fitted: dict[str, dict[int, float]] = {}
        for (family, k), lam in sorted(self.lambdas.items()):
            fitted.setdefault(family, {})[k] = lam
        return {**super().describe(), "folds": self.folds, "lambda_max": self.lambda_max,
                "grid_size": self.grid_size, "fitted_lambda": fitted}
