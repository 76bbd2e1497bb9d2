"""games2p2k as a ``Family``: one-shot 2x2 games, rates per game and role, two presentation orders."""

from __future__ import annotations

from pathlib import Path

from envs.equilibria import SELECTIONS
from envs.family import Family
from envs.one_shot import normative, prompt
from envs.one_shot.env import OneShotEnv
from envs.one_shot.loader import DATASET, FAMILY, load_trajectories
from envs.records import DecisionPoint, Trajectory
from envs.stage_game import StageGame


class OneShotFamily(Family):
    """games2p2k (Zhu, Peterson, Enke & Griffiths); normative rule: the Nash equilibrium of the respondent's view."""

    name = FAMILY
    dataset = DATASET
    description = ("games2p2k: 2,416 one-shot 2x2 games (12 Robinson-Goforth topologies), rates of choosing the "
                   "first strategy per game and role, each decision in two presentation orders (Zhu et al.)")
    normative_variants = SELECTIONS

    def load(self, folder: Path):
        return load_trajectories(folder)

    def make_env(self, trajectory: Trajectory) -> OneShotEnv:
        return OneShotEnv.from_trajectory(trajectory)

    def prompt(self, dp: DecisionPoint) -> dict[str, str]:
        return prompt.render(dp)

    def option_text(self, action: str) -> str:
        return prompt.option_text(action)

    def stage_game(self, dp: DecisionPoint) -> StageGame:
        return StageGame.from_params(dp.params)

    def normative(self, dp: DecisionPoint, variant: str | None = None):
        return normative.rule(dp, variant or "mixed")

    def features(self, dp: DecisionPoint) -> dict[str, float]:
        return normative.features(dp)

    def variables(self, dp: DecisionPoint):
        return {**super().variables(dp), "presentation": dp.params.get("presentation"),
                "topology": dp.params.get("topology")}
