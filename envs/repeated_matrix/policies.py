"""Live-play policies for the repeated matrix environment."""

from __future__ import annotations

import numpy as np

from envs.repeated_matrix.games import ACTIONS
from envs.repeated_matrix.loader import LookupStrategy


def lookup_policy(strategy: LookupStrategy):
    """The GPT-4 opponent: reads the human's past moves from its observation and looks up its reply."""

    def policy(obs: np.ndarray, info: dict) -> int:
        other = obs[1::2]  # the opponent seat's observation: (own, other) per round
        human_hist = "".join(ACTIONS[c - 1] for c in other if c > 0)
        return ACTIONS.index(strategy.next_move(human_hist))

    return policy
