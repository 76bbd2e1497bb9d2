"""The three GLEE families as ``Family``s: one shared environment class and loader, each with its own rules."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from envs.family import Family
from envs.glee import DATASET
from envs.glee.env import GleeEnv
from envs.glee.loader import load_family
from envs.records import DecisionPoint, Trajectory


class GleeFamily(Family):
    """A GLEE game (Shapira et al.): ``package`` holds its ``FORMAT`` (log + rules), ``prompt`` and ``normative``."""

    dataset = DATASET

    def __init__(self, package: ModuleType, description: str):
        self.package = package
        self.format = package.FORMAT
        self.name = self.format.family
        self.description = description
        self.normative_variants = tuple(getattr(package.normative, "RULES", ()))

    def load(self, folder: Path):
        return load_family(self.format, folder)

    def make_env(self, trajectory: Trajectory) -> GleeEnv:
        return GleeEnv.from_trajectory(trajectory, self.format.rules)

    def prompt(self, dp: DecisionPoint) -> dict[str, str]:
        return self.package.prompt.render(dp)

    def option_text(self, action: str) -> str:
        return self.package.prompt.option_text(action)

    def normative(self, dp: DecisionPoint, variant: str | None = None):
        rule = self.package.normative.rule
        return rule(dp) if variant is None else rule(dp, variant=variant)

    def features(self, dp: DecisionPoint) -> dict[str, float]:
        return self.package.normative.features(dp)


def glee_families() -> list[GleeFamily]:
    from envs.glee import bargaining, negotiation, persuasion

    return [GleeFamily(bargaining, "GLEE bargaining: alternating offers with inflation, humans vs LLMs"),
            GleeFamily(persuasion, "GLEE persuasion: a seller's messages and a buyer's yes/no, humans vs LLMs"),
            GleeFamily(negotiation, "GLEE negotiation: offers and counter-offers over a price, with an outside "
                                    "option, humans vs LLMs")]
