"""``TabularFamily``: a ``Family`` whose every part comes from one YAML file (``load_family_yaml``)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from envs.equilibria import SELECTIONS
from envs.family import OPTIONAL, Family
from envs.quality import LoadReport
from envs.records import DecisionPoint, Trajectory
from envs.stage_game import StageGame
from envs.tabular.env import TabularEnv
from envs.tabular.errors import FamilySpecError
from envs.tabular.games import StageGames
from envs.tabular.loader import load_rows
from envs.tabular.opponent import OpponentPolicy
from envs.tabular.rows import data_files, read_rows
from envs.tabular.scope import decision_scope, row_scope
from envs.tabular.spec import Spec, load_spec


class TabularFamily(Family):
    """A game family described by a YAML file (the schema: ``envs.tabular``).

    It provides exactly the parts its file declares: ``prompt`` with a ``prompt`` section,
    ``stage_game`` and ``normative`` (the Nash equilibrium, ``normative_variants`` = the
    selections) with a ``game`` section, ``features`` with a ``features`` section; ``cell``
    and ``variables`` always."""

    def __init__(self, spec: Spec):
        self.spec = spec
        #: the resolved YAML file: two loads of one file are one family (``envs.registry``)
        self.spec_path = spec.path
        self.name = spec.name
        self.description = spec.description
        self.dataset = spec.data.dataset
        self.source = None if self.dataset else self._local_source()
        self.normative_variants = SELECTIONS if spec.games is not None else ()
        self.games = StageGames(spec)
        self._folder: Path | None = None  # the data set's folder of the last load

    def __reduce__(self):
        """Pickled as its YAML file (compiled templates do not pickle): a worker process re-reads it."""
        return _reload, (str(self.spec_path), self._folder)

    def _local_source(self) -> Path:
        """``data.path`` resolved beside the YAML file; for a glob, the folder it searches."""
        path = Path(self.spec.data.path).expanduser()
        path = path if path.is_absolute() else self.spec.path.parent / path
        while any(ch in path.name for ch in "*?["):
            path = path.parent
        return path

    # -- required --------------------------------------------------------------------------------
    def data_root(self, folder: str | os.PathLike | None = None) -> Path:
        """Where ``data.path`` and lookup tables are relative to: the data set's folder, or the YAML's."""
        if self.dataset is None:
            return self.spec.path.parent
        folder = folder if folder is not None else self._folder
        if folder is None:
            raise ValueError(f"{self.spec.file}: family {self.name!r} reads the data set {self.dataset!r}: "
                             "pass its folder")
        return Path(folder)

    def load(self, folder: str | os.PathLike | None = None) -> tuple[list[Trajectory], LoadReport]:
        """Read the rows.  ``folder``: with ``data.dataset``, the data set's folder (``data.path`` is relative
        to it); otherwise ``None`` or ``source`` for the file's own ``data.path``, or another file, folder or
        glob to read instead (a run's ``data.path``)."""
        root = self.data_root(folder)
        if self.dataset is not None:
            self._folder = root
            files = data_files(self.spec.data.path, root)
        elif folder is None or Path(folder).expanduser().resolve() == self.source.resolve():
            files = data_files(self.spec.data.path, root)
        else:
            files = data_files(str(folder), Path.cwd())
        report = LoadReport(family=self.name, files=[str(f) for f in files])
        rows = read_rows(files, self.spec.data.format, self.spec.data.delimiter, self.spec.data.columns.all())
        opponent = OpponentPolicy(self.spec, root) if self.spec.opponent is not None else None
        return load_rows(self.spec, self.games, rows, opponent, report), report

    def make_env(self, trajectory: Trajectory) -> TabularEnv:
        return TabularEnv.from_trajectory(trajectory, self)

    def env(self, **kwargs: Any):
        """A live environment with PettingZoo's wrappers (``envs.tabular.env.env``)."""
        from envs.tabular.env import env

        return env(family=self, **kwargs)

    def opponent(self, folder: str | os.PathLike | None = None) -> OpponentPolicy:
        """The declared ``opponent`` (lookup tables read relative to ``data_root(folder)``)."""
        if self.spec.opponent is None:
            raise ValueError(f"{self.spec.file}: family {self.name!r} declares no opponent")
        return OpponentPolicy(self.spec, self.data_root(folder))

    def default_game(self) -> str:
        """The game a live environment plays unless told: the first listed, or the family's name."""
        games = self.spec.games
        if games is not None and games.by is not None and games.by == self.spec.data.columns.game:
            return next(iter(games.games))
        return self.name

    # -- the decision's values -------------------------------------------------------------------
    def context(self, dp: DecisionPoint) -> dict[str, Any]:
        return {k: dp.params[k] for k in self.spec.context if k in dp.params}

    def n_rounds(self, dp: DecisionPoint) -> int:
        return int(dp.params.get("n_rounds", dp.round))

    def scope(self, dp: DecisionPoint) -> dict[str, Any]:
        """Every name the decision's templates and expressions see (``envs.tabular.scope``)."""
        return decision_scope(self.spec, self.games, dp.game, dp.round, self.n_rounds(dp), dp.participant_id,
                              self.context(dp), dp.history)

    def _row(self, dp: DecisionPoint) -> dict[str, Any]:
        return row_scope(self.games, dp.game, dp.round, self.n_rounds(dp), dp.participant_id, self.context(dp))

    def stage_at(self, game: str, rnd: int, n_rounds: int, participant: str,
                 context: dict[str, Any]) -> StageGame | None:
        """The stage game of one round (``None``: the family has no game section)."""
        if not self.games.defined:
            return None
        return self.games.stage(row_scope(self.games, game, rnd, n_rounds, participant, context),
                                f"{game} round {rnd}")

    # -- optional parts --------------------------------------------------------------------------
    def provides(self, part: str) -> bool:
        """What the YAML file declares (see the class docstring)."""
        if part not in OPTIONAL:
            return super().provides(part)
        return {"prompt": self.spec.prompt is not None, "stage_game": self.spec.games is not None,
                "normative": self.spec.games is not None, "features": self.spec.features is not None,
                "cell": True, "variables": True, "opponent_move": self.spec.opponent is not None}[part]

    def opponent_move(self, dp: DecisionPoint, folder: str | os.PathLike | None = None) -> str:
        """The declared ``opponent``'s move in ``dp``'s round (lookup table or policy, on ``dp``'s scope)."""
        if self.spec.opponent is None:
            return super().opponent_move(dp, folder)
        move = self.opponent(folder).move(self.scope(dp), dp.decision_id)
        if move is None:
            raise LookupError(f"{self.spec.file}: the declared opponent has no move for {dp.decision_id}")
        return move

    def prompt(self, dp: DecisionPoint) -> dict[str, str]:
        p = self.spec.prompt
        if p is None:
            return super().prompt(dp)
        scope, where = self.scope(dp), dp.decision_id
        history = ""
        if p.history_line is not None:
            lines = (p.history_line.render({**scope, **h}, where) for h in scope["history"])
            history = "\n".join(line for line in lines if line)
        options = (p.options.render(scope, where) if p.options is not None
                   else " or ".join(self.option_text(a) for a in dp.legal_actions))
        parts = {"rules": p.rules.render(scope, where), "history": history,
                 "question": p.question.render(scope, where), "round": str(dp.round), "options": options}
        parts.update({k: t.render(scope, where) for k, t in p.extra.items()})
        return parts

    def option_text(self, action: str) -> str:
        return next((a.text for a in self.spec.actions if a.name == action), action)

    def stage_game(self, dp: DecisionPoint) -> StageGame:
        if not self.games.defined:
            return super().stage_game(dp)
        return self.games.stage(self._row(dp), dp.decision_id)

    def features(self, dp: DecisionPoint) -> dict[str, float]:
        if self.spec.features is None:
            return super().features(dp)
        scope, out = self.scope(dp), {}
        for name, expr in self.spec.features.items():
            value = expr(scope, dp.decision_id)
            if isinstance(value, bool):
                value = float(value)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise FamilySpecError(self.spec.file, f"features.{name}",
                                      f"gives {value!r}, not a finite number (in {dp.decision_id})")
            out[name] = float(value)
        return out

    def cell(self, dp: DecisionPoint) -> tuple:
        row = self._row(dp)
        return tuple(row[n] for n in self.spec.cell)

    def variables(self, dp: DecisionPoint) -> dict[str, Any]:
        return {**super().variables(dp), "title": self.games.title(dp.game, self.context(dp))}


def _reload(path: str, folder: Path | None) -> TabularFamily:
    family = TabularFamily(load_spec(path))
    family._folder = folder
    return family


def load_family_yaml(path: str | os.PathLike) -> TabularFamily:
    """The family a YAML file describes (checked now: ``FamilySpecError`` names the file and the key)."""
    return TabularFamily(load_spec(path))
