"""GLEE persuasion: a seller who sees each product's quality tries to persuade a buyer who does not."""

from envs.glee.persuasion import normative, prompt
from envs.glee.persuasion.log import FORMAT
from envs.glee.persuasion.rules import PersuasionRules
from envs.glee.env import constructors

raw_env, env = constructors(PersuasionRules)  # PettingZoo's pair: a GleeEnv with these rules, and wrapped

__all__ = ["PersuasionRules", "FORMAT", "env", "normative", "prompt", "raw_env"]
