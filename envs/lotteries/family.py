"""choices13k as two ``Family``s, one per feedback condition: one decision per problem, rates of choosing B."""

from __future__ import annotations

from pathlib import Path

from envs.family import Family
from envs.lotteries import normative, prompt
from envs.lotteries.env import LotteryEnv
from envs.lotteries.loader import DATASET, FAMILY, FEEDBACK_FAMILY, load_trajectories
from envs.records import DecisionPoint, Trajectory


class LotteryFamily(Family):
    """Choices between two gambles (Peterson et al., 2021); normative rules: expected value (``ev``) or CARA."""

    dataset = DATASET
    normative_variants = tuple(normative.RULES)

    def __init__(self, feedback: bool):
        self.feedback = feedback
        self.name = FEEDBACK_FAMILY if feedback else FAMILY
        self.description = (
            "choices13k with feedback: the same kind of problems with both gambles' outcomes shown after each "
            "choice; rates of choosing B" if feedback else
            "choices13k: choices between two gambles described to people, no feedback (Peterson et al., 2021); "
            "rates of choosing B")

    def load(self, folder: Path):
        return load_trajectories(folder, feedback=self.feedback)

    def make_env(self, trajectory: Trajectory) -> LotteryEnv:
        return LotteryEnv.from_trajectory(trajectory)

    def prompt(self, dp: DecisionPoint) -> dict[str, str]:
        return prompt.render(dp)

    def option_text(self, action: str) -> str:
        return prompt.option_text(action)

    def normative(self, dp: DecisionPoint, variant: str | None = None):
        return normative.rule(dp, variant or "ev")

    def features(self, dp: DecisionPoint) -> dict[str, float]:
        return normative.features(dp)
