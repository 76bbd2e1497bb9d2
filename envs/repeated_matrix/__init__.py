"""Repeated Prisoner's Dilemma and Battle of the Sexes (Akata et al., 2025)."""

from envs.repeated_matrix.env import RepeatedMatrixEnv, env, raw_env
from envs.repeated_matrix.games import GAMES
from envs.repeated_matrix.loader import DATASET, FAMILY, LookupStrategy, load_lookups, load_trajectories
from envs.repeated_matrix.policies import lookup_policy
from envs.repeated_matrix import prompt

__all__ = ["RepeatedMatrixEnv", "env", "GAMES", "DATASET", "FAMILY", "LookupStrategy",
           "load_lookups", "load_trajectories", "lookup_policy", "prompt", "raw_env"]
