"""Counterfactual play: a predictor plays in the human's seat against the opponent the humans faced.

Replay asks how well a predictor describes each decision people took in the situations *they* created; play
asks whether the predictor, left to act, creates the same situations — whether a simulated population
cooperates, reciprocates and coordinates round by round the way people did (``analysis.simulated``).

Each human trajectory is a *template*: the simulated player plays its game, under its condition (its params:
the game, for the repeated games the GPT-4 strategy of the participant's condition), for as many rounds, so the
simulated population has as many players per game and condition as the data has people (``copies`` per
template multiplies that).  Round by round, all players' decisions are built by the family's own replay (so a
player sees exactly what a person in its place would see), scored in **one** ``predict`` call (one engine
call for a language model: simulating costs about what replaying does) and an action is drawn from each
player's probabilities with the player's own generator (seeded by ``seed`` and the player's id, so a player's
draws do not depend on the batch).  The other seat moves by the family's opponent policy
(``Family.opponent_move``: for the repeated games the lookup table of the participant's condition) or, with
``opponent="logged"``, as it moved in the template's log.

The result is a list of ``Trajectory`` records like a human log's (flag ``simulated``, ``meta`` naming the
predictor, template, opponent and seed), so every replay, metric and figure applies to them.  A simulated
decision point's ``human_action`` — a field the record requires before the action is drawn — holds the
template person's logged action for that round; like any decision point's, no predictor may read it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from envs.family import Family
from envs.records import HUMAN, OPPONENT, DecisionPoint, Event, Trajectory
from envs.replay import replay_all
from predictors.base import Predictor

OPPONENTS = ("policy", "logged")


class SimulationError(ValueError):
    """A family or a template that cannot be played (no opponent policy, no round to play)."""


@dataclass
class _Player:
    template: Trajectory
    trajectory_id: str
    participant_id: str
    rng: np.random.Generator
    logged: dict[int, dict[str, Event]]  # the template's moves by round and seat
    events: list[Event] = field(default_factory=list)

    @property
    def rounds(self) -> int:
        return len(self.logged)


def _round_events(t: Trajectory) -> dict[int, dict[str, Event]]:
    out: dict[int, dict[str, Event]] = {}
    for e in t.events:
        if e.actor in (HUMAN, OPPONENT):
            out.setdefault(e.round, {})[e.actor] = e
    return out


def _context(e: Event) -> dict:
    """What of a logged event carries over to a simulated one: the round's context (a YAML family's context
    columns), not what was logged about the person's own move."""
    return {"context": e.data["context"]} if "context" in (e.data or {}) else {}


def _players(templates: Sequence[Trajectory], name: str, seed: int, copies: int) -> list[_Player]:
    players = []
    for t in templates:
        logged = _round_events(t)
        rounds = sorted(r for r, ev in logged.items() if HUMAN in ev and OPPONENT in ev)
        if not rounds or rounds != list(range(1, len(logged) + 1)):
            raise SimulationError(f"{t.trajectory_id}: its rounds {rounds} are not 1..n with both seats' moves; "
                                  "it cannot be a template for play")
        for k in range(copies):
            pid = f"{t.participant_id}~{name}#{k}"
            players.append(_Player(t, f"{t.trajectory_id}~{name}#{k}", pid,
                                   np.random.default_rng([seed, zlib.crc32(pid.encode())]), logged))
    return players


def _decision(family: Family, p: _Player, r: int) -> DecisionPoint:
    """The player's decision in round ``r``: its own past rounds, and the template's round ``r`` as a stand-in
    for the moves not yet made (the replay needs a complete round; the decision point shows only the past)."""
    provisional = replace(p.template, trajectory_id=p.trajectory_id, participant_id=p.participant_id,
                          events=tuple(p.events) + tuple(e for e in p.template.events if e.round == r))
    dps = [dp for dp in replay_all([provisional], family.make_env, progress=False) if dp.round == r]
    if len(dps) != 1:
        raise SimulationError(f"{p.trajectory_id}: replay gave {len(dps)} decisions of the human seat in round {r}, "
                              "so it cannot be played round by round (play needs one human move every round)")
    return dps[0]


def simulate(predictor: Predictor, family: Family, templates: Sequence[Trajectory], folder: Path | None = None,
             opponent: str = "policy", seed: int = 0, copies: int = 1, progress: bool = True) -> list[Trajectory]:
    """``predictor`` (fitted already) playing every template's game in the human's seat; see the module
    docstring.  ``folder``: the data set's folder (where the opponent policy may be stored)."""
    if opponent not in OPPONENTS:
        raise SimulationError(f"opponent must be one of {OPPONENTS}, got {opponent!r}")
    if opponent == "policy" and not family.provides("opponent_move"):
        raise SimulationError(f"family {family.name} declares no opponent policy (Family.opponent_move); play "
                              "against the logged moves with opponent: logged")
    if copies < 1:
        raise SimulationError(f"copies must be at least 1, got {copies}")
    players = _players(templates, predictor.name, seed, copies)
    n_rounds = max((p.rounds for p in players), default=0)
    bar = tqdm(total=sum(p.rounds for p in players), desc=f"play {predictor.name}", unit="decision",
               disable=not progress)
    for r in range(1, n_rounds + 1):
        active = [p for p in players if r <= p.rounds]
        dps = [_decision(family, p, r) for p in active]
        predictions = predictor.predict(dps)
        for p, dp, pred in zip(active, dps, predictions):
            probs = np.array([pred.probs[a] for a in dp.legal_actions], float)
            mine = dp.legal_actions[int(p.rng.choice(len(probs), p=probs / probs.sum()))]
            logged = p.logged[r]
            theirs = logged[OPPONENT].action if opponent == "logged" else family.opponent_move(dp, folder)
            game = family.stage_game_or_none(dp)
            pay_me, pay_them = game.payoff(mine, theirs) if game is not None else (None, None)
            p.events += [Event(r, HUMAN, mine, payoff=pay_me, data=_context(logged[HUMAN])),
                         Event(r, OPPONENT, theirs, payoff=pay_them, data=_context(logged[OPPONENT]))]
        bar.update(len(active))
    bar.close()
    return [Trajectory(trajectory_id=p.trajectory_id, family=p.template.family, game=p.template.game,
                       participant_id=p.participant_id, role=p.template.role, params=dict(p.template.params),
                       events=tuple(p.events), flags=("simulated",),
                       source=f"simulated by {predictor.name} in the seat of {p.template.trajectory_id}",
                       meta={"simulated_by": predictor.name, "template": p.template.trajectory_id,
                             "opponent": opponent, "seed": seed})
            for p in players]


def read_simulated(path: Path) -> tuple[dict, list[Trajectory]]:
    """(header, trajectories) of a ``simulated/<predictor>.jsonl`` file written by ``play_in_run``."""
    import json

    with open(path, encoding="utf-8") as fh:
        lines = [json.loads(line) for line in fh if line.strip()]
    return (lines[0] if lines else {}), [Trajectory.from_dict(d) for d in lines[1:]]


def play_in_run(settings: dict, pred: Predictor, templates: dict[str, list[Trajectory]],
                families: dict[str, Family], folders: dict[str, Path], fit_pool: Sequence[DecisionPoint],
                key: str, out: Path, progress: bool = True, log=print) -> list[Trajectory]:
    """One predictor of a run's ``simulate:`` section plays every template (the selected people's trajectories,
    per family), written to ``out/simulated/<predictor>.jsonl`` (a header line, then one trajectory per line).
    A file whose header holds the same ``key`` (the predictor's results-store hash, the decisions and the
    simulation settings) is reused, so a resumed run plays nothing twice."""
    import json

    folder = out / "simulated"
    folder.mkdir(exist_ok=True)
    path = folder / f"{pred.name.replace('/', '_')}.jsonl"
    header = {"predictor": pred.name, "key": key, **{k: settings[k] for k in ("opponent", "seed", "copies")}}
    if path.exists():
        old, trajectories = read_simulated(path)
        if old == header:
            log(f"{pred.name}: its simulated play is in {path}, reused")
            return trajectories
    pred.fit(fit_pool)  # as for scoring: other people's decisions (a learner predicts nobody from their own)
    trajectories = []
    for fam_name, fam_templates in templates.items():
        trajectories += simulate(pred, families[fam_name], fam_templates, folders[fam_name], settings["opponent"],
                                 settings["seed"], settings["copies"], progress)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(header) + "\n")
        for t in trajectories:
            fh.write(json.dumps(t.to_dict(), default=str) + "\n")
    tmp.replace(path)
    return trajectories
