"""The default upper bound of a logit precision λ, shared by every model with logit choice (qre, the
learning models, cognitive hierarchy / level-k).

λ is in units of 1/payoff, so a bound that means the same in every game must scale with the payoffs:
50 / the median spread (max - min) of the human's payoffs across a family's games — 5 for payoffs in
0..10, where an action 1 point better is then e^5 ≈ 150 times as likely, close enough to a best response.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np


def default_lambda_max(human_payoffs: Iterable[np.ndarray]) -> float:
    """50 / the median payoff spread of the given payoff matrices (50 when every game is constant)."""
    spread = float(np.median([np.ptp(np.asarray(m, float)) for m in human_payoffs]))
    return 50.0 / spread if spread > 0 else 50.0
