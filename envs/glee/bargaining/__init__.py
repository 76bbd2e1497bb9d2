"""GLEE bargaining: alternating offers over a sum of money, with discounting ("inflation")."""

from envs.glee.bargaining import normative, prompt
from envs.glee.bargaining.log import FORMAT
from envs.glee.bargaining.rules import BargainingRules

__all__ = ["BargainingRules", "FORMAT", "normative", "prompt"]
