"""The other seat's policy of a YAML family (``opponent``): a lookup table or a Python function.

It answers two questions with one rule: which move the log lacks (the loader asks it for a
round whose opponent move is neither logged nor implied by the payoff, and cross-checks
the moves it can read against it) and which move to make in live play (``TabularEnv``).

- ``lookup``: a JSON object from the human's past moves' names, concatenated (``"JJF"``;
  ``""`` before the first round), to the opponent's next move; the file name is a
  template over the row (``"{{ game }}_lookup.json"``), so each game or treatment can
  have its own table.  Tables are read once, and a missing or malformed one is a
  ``DataFormatError`` naming the file.
- ``policy: "package.module:function"``: ``function(scope)`` with the decision's scope
  (``envs.tabular.scope``) returns the opponent's move by name (``None``: no answer).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from envs.lookup import read_lookup_table
from envs.tabular.errors import FamilySpecError
from envs.tabular.spec import Spec


class OpponentPolicy:
    """The declared opponent of a family; ``move(scope)`` is its move by name, or ``None``."""

    def __init__(self, spec: Spec, root: Path):
        if spec.opponent is None:
            raise ValueError(f"{spec.file}: no opponent declared")
        self.spec, self.root = spec, root
        self.names = {o.name for o in spec.opponent_actions}
        self._tables: dict[Path, dict[str, str]] = {}

    @property
    def description(self) -> str:
        o = self.spec.opponent
        return f"lookup table {o.lookup_file.source}" if o.lookup_file is not None else f"policy {o.policy_name}"

    def move(self, scope: Mapping[str, Any], where: str = "") -> str | None:
        o = self.spec.opponent
        if o.lookup_file is not None:
            table = self.table(o.lookup_file.render(scope, where))
            return table.get("".join(scope["own_moves"]))
        try:
            move = o.policy(dict(scope))
        except Exception as exc:  # a user's function: say which and where, in one line
            raise FamilySpecError(self.spec.file, "opponent.policy",
                                  f"{o.policy_name} failed: {type(exc).__name__}: {exc}"
                                  + (f" (in {where})" if where else "")) from None
        if move is not None and move not in self.names:
            raise FamilySpecError(self.spec.file, "opponent.policy",
                                  f"{o.policy_name} returned {move!r}, not one of {sorted(self.names)}")
        return move

    def table(self, name: str) -> dict[str, str]:
        path = Path(name) if Path(name).is_absolute() else self.root / name
        if path not in self._tables:
            self._tables[path] = read_lookup_table(path, self.names, field="opponent.lookup.file")
        return self._tables[path]
