"""The repeated-games family as a ``Family``: loader, environment, prompt, stage game, features."""

from __future__ import annotations

from pathlib import Path

from envs.equilibria import SELECTIONS
from envs.family import Family
from envs.records import HUMAN, DecisionPoint, Trajectory
from envs.repeated_matrix import features as matrix_features
from envs.repeated_matrix import prompt
from envs.repeated_matrix.env import RepeatedMatrixEnv
from envs.repeated_matrix.games import game_from_params
from envs.repeated_matrix.loader import DATASET, FAMILY, load_lookups, load_trajectories
from envs.stage_game import StageGame


class RepeatedMatrixFamily(Family):
    """Repeated Prisoner's Dilemma and Battle of the Sexes against fixed GPT-4 strategies (Akata et al., 2025).

    Normative rule: the stage game's Nash equilibrium (``normative_variants`` are the equilibrium selections)."""

    name = FAMILY
    dataset = DATASET
    description = "Repeated Prisoner's Dilemma and Battle of the Sexes vs GPT-4 (Akata et al., 2025)"
    normative_variants = SELECTIONS
    can_hide = frozenset({"payoffs", "own_moves"})

    def __init__(self) -> None:
        super().__init__()
        self._lookups: dict[str, dict] = {}  # data folder -> the GPT-4 lookup strategies read from it

    def load(self, folder: Path):
        return load_trajectories(folder)

    def make_env(self, trajectory: Trajectory) -> RepeatedMatrixEnv:
        return RepeatedMatrixEnv.from_trajectory(trajectory)

    def prompt(self, dp: DecisionPoint) -> dict[str, str]:
        return prompt.render(dp)

    def option_text(self, action: str) -> str:
        return prompt.option_text(action)

    def opponent_move(self, dp: DecisionPoint, folder: Path | None = None) -> str:
        """The GPT-4 strategy of the participant's condition (game × ``opponent``, Base or Prompted): its lookup
        table's move after the human's moves so far."""
        if folder is None:
            raise ValueError("repeated_matrix: the GPT-4 strategies are read from the data set's folder; pass it")
        key = str(Path(folder).resolve())
        if key not in self._lookups:
            self._lookups[key] = load_lookups(Path(folder))
        own = "".join(e.action for e in dp.history if e.actor == HUMAN and e.round < dp.round)
        return self._lookups[key][(dp.game, dp.params["opponent"])].next_move(own)

    def stage_game(self, dp: DecisionPoint) -> StageGame:
        return game_from_params(dp.params)

    def features(self, dp: DecisionPoint) -> dict[str, float]:
        return matrix_features.features(dp)
