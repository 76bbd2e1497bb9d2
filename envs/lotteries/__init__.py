"""choices13k: choices between two gambles, answered by many people each (Peterson et al., Science 2021).

Two families share this package: ``choices13k`` (no feedback: decisions from
description) and ``choices13k_feedback`` (the same kind of problems with the
outcomes shown after each choice).  Each problem is one trajectory with one
decision whose ``human_rate`` is the share of people choosing gamble B.
"""

from envs.lotteries import normative, prompt
from envs.lotteries.env import ACTIONS, CHOOSER, LotteryEnv, env, raw_env
from envs.lotteries.gambles import Gamble, believed_gambles, problem_gambles
from envs.lotteries.loader import DATASET, FAMILY, FEEDBACK_FAMILY, load_trajectories

__all__ = ["ACTIONS", "CHOOSER", "DATASET", "FAMILY", "FEEDBACK_FAMILY", "Gamble", "LotteryEnv", "believed_gambles",
           "env", "load_trajectories", "normative", "problem_gambles", "prompt", "raw_env"]
