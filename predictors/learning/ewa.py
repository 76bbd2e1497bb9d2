"""Experience-weighted attraction (EWA) learning in repeated matrix games: the attraction arithmetic.

EWA (Camerer & Ho, 1999, *Econometrica* 67:827-874).  Player i holds an attraction A_j(t)
for each of their actions j and an experience weight N(t); after round t, in which i chose
s(t) and the other player s_{-i}(t),

    N(t)   = ρ N(t-1) + 1,                               ρ = φ (1 - κ)
    A_j(t) = [φ N(t-1) A_j(t-1) + (δ + (1 - δ) I(j = s(t))) π(j, s_{-i}(t))] / N(t)

and the next choice is logit:  P_j(t+1) = exp(λ A_j(t)) / Σ_k exp(λ A_k(t)).
φ discounts old attractions, δ weighs the payoffs of actions not taken (foregone payoffs),
κ decides whether attractions are averages (κ = 0) or cumulative sums (κ = 1) of payoffs.
Special cases (Camerer & Ho, 1999, section II):

- cumulative reinforcement (Harley 1981; Roth & Erev 1995, here with logit choice):
  δ = 0, κ = 1, N(0) = 1  ->  N(t) = 1 and A_j(t) = φ A_j(t-1) + I(j = s(t)) π(j, s_{-i}(t));
- weighted fictitious play / belief learning (Cheung & Friedman 1997): δ = 1, κ = 0  ->
  A_j(t) = [φ N(t-1) A_j(t-1) + π(j, s_{-i}(t))] / (φ N(t-1) + 1), the expected payoff of j
  against the other player's past moves weighted by φ^(age) (exactly, when A(0) are expected
  payoffs under prior beliefs of weight N(0); here A(0) come from round-1 choice shares).

Self-tuning EWA (Ho, Camerer & Chong, 2007, *JET* 133:177-198) has only λ free: κ = 0 and
N(0) = 1, and φ and δ become functions of the history:

- change detector φ(t) = 1 - S(t)/2 with surprise S(t) = Σ_k (h_k(t) - r_k(t))², where
  h_k(t) = (1/t) Σ_{τ≤t} I(s_{-i}(τ) = k) is the other player's cumulative frequency of move k
  and r_k(t) = I(s_{-i}(t) = k) its latest move (S ∈ [0, 2], so φ ∈ [0, 1]);
- attention δ_j(t) = 1 if π(j, s_{-i}(t)) ≥ π(s(t), s_{-i}(t)) (the payoff actually received),
  else 0: foregone payoffs count only when they would have been at least as good;
- then N(t) = φ(t) N(t-1) + 1 and A_j(t) = [φ(t) N(t-1) A_j(t-1) + (δ_j(t) + (1 - δ_j(t))
  I(j = s(t))) π(j, s_{-i}(t))] / N(t).

All functions here are vectorised over n histories (up to T rounds, left-aligned, ``length`` rounds
each) played in one stage game ``pay`` (the human's payoffs, k x m); the ``*_path`` functions give the
attractions after every prefix, so one pass over a person's longest history serves all their rounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Histories:
    """n decisions' past rounds in one stage game, as indices (padding beyond ``length`` is ignored)."""

    pay: np.ndarray  # (k, m) the human's payoff: own action j x other's action b
    own: np.ndarray  # (n, T) the human's action index in each past round
    other: np.ndarray  # (n, T) the other player's action index
    length: np.ndarray  # (n,) rounds of history

    def __post_init__(self) -> None:  # per-round arrays every update reads, computed once
        k = self.pay.shape[0]
        object.__setattr__(self, "pi", np.moveaxis(self.pay[:, self.other], 0, -1))  # (n, T, k): π(j, other's move)
        object.__setattr__(self, "chosen", (np.arange(k) == self.own[..., None]).astype(float))  # (n, T, k)
        object.__setattr__(self, "valid", np.arange(self.own.shape[1])[None, :] < self.length[:, None])  # (n, T)


def _step(a: np.ndarray, n: np.ndarray, hist: Histories, s: int, phi: np.ndarray, delta: np.ndarray,
          rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One EWA update at history position ``s`` (rows whose history is shorter are left as they are).

    ``phi``, ``rho``: (n,) ; ``delta``: (n,) or (n, k)."""
    valid, pi, chosen = hist.valid[:, s], hist.pi[:, s], hist.chosen[:, s]
    delta = delta if np.ndim(delta) == 2 else delta[:, None]
    n_new = rho * n + 1.0
    a_new = (phi[:, None] * n[:, None] * a + (delta + (1.0 - delta) * chosen) * pi) / n_new[:, None]
    if valid.all():
        return a_new, n_new
    return np.where(valid[:, None], a_new, a), np.where(valid, n_new, n)


def _at_length(path: np.ndarray, hist: Histories) -> np.ndarray:
    return path[np.arange(len(hist.length)), hist.length]


def ewa_path(hist: Histories, a0: np.ndarray, phi: float, delta: float, kappa: float,
             n0: float = 1.0) -> np.ndarray:
    """A(s) after the first s rounds of each history, s = 0..T: (n, T+1, k), from A(0) = ``a0`` (n, k)
    and N(0) = ``n0``."""
    size = len(hist.length)
    a, n = np.array(a0, float), np.full(size, float(n0))
    ph, de, rh = np.full(size, phi), np.full(size, delta), np.full(size, phi * (1.0 - kappa))
    path = [a]
    for s in range(hist.own.shape[1]):
        a, n = _step(a, n, hist, s, ph, de, rh)
        path.append(a)
    return np.stack(path, axis=1)


def ewa_attractions(hist: Histories, a0: np.ndarray, phi: float, delta: float, kappa: float,
                    n0: float = 1.0) -> np.ndarray:
    """A(t) after each decision's whole history: (n, k) (``ewa_path`` at each history's length)."""
    return _at_length(ewa_path(hist, a0, phi, delta, kappa, n0), hist)


def self_tuning_path(hist: Histories, a0: np.ndarray, n0: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(A(s), φ(s)) of self-tuning EWA (κ = 0) after the first s rounds, s = 0..T: (n, T+1, k), (n, T+1)
    (φ(0) = 1: nothing has surprised yet)."""
    size, (k, m) = len(hist.length), hist.pay.shape
    a, n = np.array(a0, float), np.full(size, float(n0))
    counts, path, phis = np.zeros((size, m)), [a], [np.ones(size)]
    for s in range(hist.own.shape[1]):
        latest = np.arange(m)[None, :] == hist.other[:, s, None]
        counts = counts + latest
        phi = 1.0 - 0.5 * np.sum((counts / (s + 1) - latest) ** 2, axis=1)  # 1 - S(t)/2
        pi = hist.pi[:, s]
        received = np.take_along_axis(pi, hist.own[:, s, None], axis=1)
        attention = (pi >= received).astype(float)  # δ_j(t)
        a, n = _step(a, n, hist, s, phi, attention, phi)  # κ = 0: ρ = φ
        path.append(a)
        phis.append(phi)
    return np.stack(path, axis=1), np.stack(phis, axis=1)


def self_tuning_attractions(hist: Histories, a0: np.ndarray, n0: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(A(t), φ(t) of the last update) of self-tuning EWA after each decision's whole history."""
    path, phis = self_tuning_path(hist, a0, n0)
    return _at_length(path, hist), phis[np.arange(len(hist.length)), hist.length]


def log_choice_probs(attractions: np.ndarray, lam: float, legal: np.ndarray | None = None) -> np.ndarray:
    """log P_j = λ A_j - log Σ_k exp(λ A_k) over the legal actions (``legal``: (n, k) booleans)."""
    z = lam * attractions
    if legal is not None:
        z = np.where(legal, z, -np.inf)
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))
