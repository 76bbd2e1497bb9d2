"""GLEE negotiation: a seller and a buyer alternate price offers, each with an outside option (John)."""

from envs.glee.negotiation import normative, prompt
from envs.glee.negotiation.log import FORMAT
from envs.glee.negotiation.rules import NegotiationRules
from envs.glee.env import constructors

raw_env, env = constructors(NegotiationRules)  # PettingZoo's pair: a GleeEnv with these rules, and wrapped

__all__ = ["NegotiationRules", "FORMAT", "env", "normative", "prompt", "raw_env"]
