"""GLEE negotiation: a seller and a buyer alternate price offers, each with an outside option (John)."""

from envs.glee.negotiation import normative, prompt
from envs.glee.negotiation.log import FORMAT
from envs.glee.negotiation.rules import NegotiationRules

__all__ = ["NegotiationRules", "FORMAT", "normative", "prompt"]
