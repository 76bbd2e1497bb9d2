"""GLEE bargaining: alternating offers over a sum of money, with discounting ("inflation")."""

from envs.glee.bargaining import normative, prompt
from envs.glee.bargaining.log import FORMAT
from envs.glee.bargaining.rules import BargainingRules
from envs.glee.env import constructors

raw_env, env = constructors(BargainingRules)  # PettingZoo's pair: a GleeEnv with these rules, and wrapped

__all__ = ["BargainingRules", "FORMAT", "env", "normative", "prompt", "raw_env"]
