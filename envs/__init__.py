"""Game families as PettingZoo environments that replay human trajectories.

Each family lives in its own sub-package and owns the parser for its human-log
format.  ``envs.registry`` maps family names to their loader and environment.
"""
