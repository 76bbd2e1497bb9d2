"""GLEE persuasion: a seller who sees each product's quality tries to persuade a buyer who does not."""

from envs.glee.persuasion import normative, prompt
from envs.glee.persuasion.log import FORMAT
from envs.glee.persuasion.rules import PersuasionRules

__all__ = ["PersuasionRules", "FORMAT", "normative", "prompt"]
