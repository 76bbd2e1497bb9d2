"""One-shot 2x2 games: the games2p2k data (Zhu, Peterson, Enke & Griffiths), 2,416 games, aggregate choices.

``game`` (matrix mapping, the respondent's view), ``loader``, ``env`` (PettingZoo AEC),
``prompt`` and ``normative`` (Nash equilibrium); ``analysis.counterbalance`` measures position bias
over the two presentations of each decision.
"""

from envs.one_shot import normative, prompt
from envs.one_shot.env import OneShotEnv, env, raw_env
from envs.one_shot.game import bimatrix_from_row_form, human_view, labelled
from envs.one_shot.loader import DATASET, FAMILY, find_main_csv, load_trajectories

__all__ = ["OneShotEnv", "env", "labelled", "bimatrix_from_row_form", "human_view", "DATASET", "FAMILY",
           "find_main_csv", "load_trajectories", "normative", "prompt", "raw_env"]
