"""The GLEE language-based economic games (Shapira et al.): bargaining, persuasion, negotiation.

Each family is a ``Rules`` state machine (``rules.py``), a log format
(``LogFormat`` in its ``log.py``), a prompt renderer and a normative rule; they
share one PettingZoo environment class (``env.GleeEnv``) and one loader
(``loader.load_family``).  Data: ``<data dir>/glee/human_vs_llm/<family>/...``,
the upstream repository's layout.
"""

DATASET = "glee"
