"""Orchestration: data access, configs, the replay/scoring runner, results and the CLI."""
