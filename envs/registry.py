"""Game families by name: how to load their logs and build their environments.

A family registers a loader (data-set folder -> trajectories + report) and an
environment factory (trajectory -> environment); everything downstream works
through this registry, so adding a game family means adding one entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from envs.quality import LoadReport
from envs.records import DecisionPoint, Trajectory


@dataclass(frozen=True)
class Family:
    name: str
    dataset: str  # folder name under the data directory (and name in sim.datasets)
    load: Callable[[Path], tuple[list[Trajectory], LoadReport]]
    make_env: Callable[[Trajectory], object]
    description: str
    #: the decision told in words, as named parts (rules, history, question, ...) for prompt templates
    prompt: Callable[[DecisionPoint], dict[str, str]] | None = None
    #: the text a model writes after the answer stub to choose an action
    option_text: Callable[[str], str] = str
    #: the game's normative prediction for a decision: (probabilities, diagnostics)
    normative: Callable[[DecisionPoint], tuple[dict[str, float], dict]] | None = None
    #: named numbers describing a decision, for descriptive (fitted) baselines
    features: Callable[[DecisionPoint], dict[str, float]] | None = None


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    FAMILIES[family.name] = family
    return family


def get_family(name: str) -> Family:
    if name not in FAMILIES:
        raise KeyError(f"unknown game family {name!r}; known: {sorted(FAMILIES)}")
    return FAMILIES[name]


def _register_builtin() -> None:
    from envs.repeated_matrix import DATASET, FAMILY, RepeatedMatrixEnv, load_trajectories, prompt
    from envs.repeated_matrix.features import features as matrix_features

    register(Family(FAMILY, DATASET, lambda folder: load_trajectories(folder), RepeatedMatrixEnv.from_trajectory,
                    "Repeated Prisoner's Dilemma and Battle of the Sexes vs GPT-4 (Akata et al., 2025)",
                    prompt=prompt.render, option_text=prompt.option_text, normative=nash_rule,
                    features=matrix_features))
    for fam in glee_families():
        register(fam)
    for fam in lottery_families():
        register(fam)
    register(one_shot_family())


def nash_rule(dp: DecisionPoint) -> tuple[dict[str, float], dict]:
    """Repeated matrix games: the stage game's (mixed where one exists) Nash equilibrium."""
    from predictors.nash import NashPredictor

    pred = NashPredictor("mixed").predict([dp])[0]
    return dict(pred.probs), dict(pred.diagnostics)


def glee_families() -> list[Family]:
    """The three GLEE families, one shared environment class and loader each with its own rules."""
    from envs.glee import DATASET as GLEE
    from envs.glee import bargaining, negotiation, persuasion
    from envs.glee.env import GleeEnv
    from envs.glee.loader import load_family

    out = []
    for pkg, desc in ((bargaining, "GLEE bargaining: alternating offers with inflation, humans vs LLMs"),
                      (persuasion, "GLEE persuasion: a seller's messages and a buyer's yes/no, humans vs LLMs"),
                      (negotiation, "GLEE negotiation: offers and counter-offers over a price, with an "
                                    "outside option, humans vs LLMs")):
        fmt = pkg.FORMAT
        out.append(Family(fmt.family, GLEE, lambda folder, fmt=fmt: load_family(fmt, folder),
                          lambda t, fmt=fmt: GleeEnv.for_trajectory(fmt.rules, t), desc,
                          prompt=pkg.prompt.render, option_text=pkg.prompt.option_text,
                          normative=pkg.normative.rule, features=pkg.normative.features))
    return out


def lottery_families() -> list[Family]:
    """choices13k, one family per feedback condition; a decision is one problem answered by many people."""
    from envs.lotteries import DATASET, FAMILY, FEEDBACK_FAMILY, LotteryEnv, load_trajectories, normative, prompt

    out = []
    for name, fb, desc in ((FAMILY, False, "choices13k: choices between two gambles described to people, no "
                                           "feedback (Peterson et al., 2021); rates of choosing B"),
                           (FEEDBACK_FAMILY, True, "choices13k with feedback: the same kind of problems with both "
                                                   "gambles' outcomes shown after each choice; rates of choosing B")):
        out.append(Family(name, DATASET, lambda folder, fb=fb: load_trajectories(folder, feedback=fb),
                          LotteryEnv.from_trajectory, desc, prompt=prompt.render, option_text=prompt.option_text,
                          normative=normative.rule, features=normative.features))
    return out


def one_shot_family() -> Family:
    """games2p2k: one-shot 2x2 games, rates per game and role, each told in two presentation orders."""
    from envs.one_shot import DATASET, FAMILY, OneShotEnv, load_trajectories, normative, prompt

    return Family(FAMILY, DATASET, lambda folder: load_trajectories(folder), OneShotEnv.from_trajectory,
                  "games2p2k: 2,416 one-shot 2x2 games (12 Robinson-Goforth topologies), rates of choosing the "
                  "first strategy per game and role, each decision in two presentation orders (Zhu et al.)",
                  prompt=prompt.render, option_text=prompt.option_text, normative=normative.rule,
                  features=normative.features)


_register_builtin()
