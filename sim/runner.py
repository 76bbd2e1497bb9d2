"""The replay/scoring runner: data -> trajectories -> replay -> decision points -> predictions -> metrics.

Every stage's output lands in the run directory as a file a person can open:

- ``config.yaml``: the resolved config, data location and package versions;
- (before anything is loaded) every data file the families read is checked once against its
  published checksum (``sim.verify``): a modified registered data set is refused unless
  ``allow_modified_data``; what was read, and its state, goes into ``manifest.json``;
- ``data_report.txt``: what the loader read, flagged and skipped;
- ``decisions.jsonl``: the decision points (``DecisionPoint.to_dict`` per line);
- ``shards/<predictor>/<family>/<n>.parquet`` and ``manifest.json``: the results store
  (``sim.store``): each shard written atomically as soon as it is scored, so a crash or
  Ctrl-C loses at most the shard in flight and re-running the same command computes only
  what is missing;
- ``predictions.parquet``: the predictions table (see ``predictors.table``) assembled from
  the shards, rewritten after each predictor;
- ``metrics.csv`` and ``metrics_by_round.png``: per-round and overall metrics;
- ``errors.txt``: predictors that failed, and why (only if any did).

Data that holds no decision to score (a header-only file, every record skipped, a selection that
keeps nothing) stops the run after ``data_report.txt`` with ``sim.verify.NoDecisionsError``.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import pandas as pd
import yaml

from analysis.metrics import metrics_table
from analysis.tables import format_tables, format_variable_tables  # noqa: F401 - re-exported (__all__)
from envs.records import DecisionPoint, Trajectory, read_decisions, write_decisions
from envs.registry import get_family
from envs.replay import replay_all
from predictors.base import Predictor
from sim import datasets
from sim.config import ConfigError, RunConfig, spec_label
from sim.datadir import resolve_data_dir
from sim.jobs import PredictorJob, build_predictor, scored_by
from sim.local_backend import score_local
from predictors.table import to_frame
from sim.store import RunStore, Shard, digest, git_revision, plan
from sim.verify import DataRecord, manifest_entry, require_decisions, verify_sources

if TYPE_CHECKING:
    from sim.ray_backend import RayOptions

__all__ = ["RunResult", "build_predictors", "scored_by", "select", "run", "format_tables",
           "read_decisions", "write_decisions"]  # the last two: re-exported from envs.records


@dataclass
class RunResult:
    out_dir: Path
    decisions: list[DecisionPoint]
    predictions: pd.DataFrame
    metrics: pd.DataFrame
    errors: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    #: ``analysis.group_by`` variable -> its metrics table (``analysis.variables.metrics_by_variable``)
    by_variable: dict[str, pd.DataFrame] = field(default_factory=dict)

    def files(self) -> list[str]:
        """The result files this run wrote (names under ``out_dir``), for the summary a user reads; an empty
        predictions table is no result and is not listed."""
        names = ["predictions.parquet"] if len(self.predictions) else []
        names += ["metrics.csv", "metrics_by_round.png", "nll_ranking.csv", "nll_by_participant.csv", "errors.txt",
                  *(f"metrics_by_{v}.{ext}" for v in self.by_variable for ext in ("csv", "png"))]
        return [n for n in names if (self.out_dir / n).exists()]


def build_predictors(config: RunConfig, progress: bool = True) -> list[Predictor]:
    """Instantiate every predictor (no model weights are loaded yet); a setting a predictor refuses
    (``epsilon: -1``, ``folds: 1``) is a ``ConfigError`` naming the config file and the predictor."""
    out = []
    for i, spec in enumerate(config.predictors):
        try:
            out.append(build_predictor(spec, progress))
        except (ValueError, TypeError) as exc:
            if isinstance(exc, ConfigError):
                raise
            settings = ", ".join(f"{k}={v!r}" for k, v in spec.items() if k != "type")
            hint = f" (a setting of the wrong type? {settings})" if isinstance(exc, TypeError) else ""
            raise ConfigError(f"{config.source}: predictors[{i}] ({spec.get('type')}): {exc}{hint}") from None
    return out


def select(trajectories: Sequence[Trajectory], participants: int | None, games: Sequence[str] | None) -> list[Trajectory]:
    """The first ``participants`` people (in file order) and only ``games``."""
    keep = [t for t in trajectories if games is None or t.game in games]
    if participants is not None:
        order: list[str] = []
        for t in keep:
            if t.participant_id not in order:
                order.append(t.participant_id)
        chosen = set(order[:participants])
        keep = [t for t in keep if t.participant_id in chosen]
    return keep


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("gamereplay", "torch", "transformers", "pettingzoo", "nashpy", "pandas"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)


SHARD_SIZE = 2048  # larger shards share more prompt prefixes in the trie engine; smaller lose less to a crash


def store_manifest(config: RunConfig, predictors: Sequence[Predictor], decisions_file: Path,
                   participants, sources: dict[str, DataRecord], shard_size: int,
                   allow_modified_data: bool = False) -> dict:
    """What the results in a run directory belong to (see ``sim.store``); ``sources``: family -> the record
    of the data it read (``sim.verify``)."""
    specs = {p.name: spec for p, spec in zip(predictors, config.predictors)}
    decisions_hash = digest(hashlib.sha256(decisions_file.read_bytes()).hexdigest())
    return {
        # what the scored results depend on: not ``simulate:`` (adding play to a run keeps its shards)
        "config_hash": digest({"config": {k: v for k, v in config.to_dict().items() if k != "simulate"},
                               "participants": participants, "shard_size": shard_size}),
        "decisions_hash": decisions_hash,
        "predictor_hashes": {name: digest({"spec": spec, "decisions": decisions_hash, "shard_size": shard_size})
                             for name, spec in specs.items()},
        "config": config.to_dict(), "participants": participants, "shard_size": shard_size,
        "versions": _versions(), "git_revision": git_revision(),
        "data_checksums": {name: record.sha256() for name, record in sorted(sources.items())},
        "data": manifest_entry(sources),
        "allow_modified_data": allow_modified_data,
    }


def _described(path: Path) -> dict[str, dict]:
    """Predictor name -> its ``describe()`` as an earlier run wrote it into ``config.yaml`` (fitted values per
    fold included): a resumed run that fits nothing again keeps them instead of writing empty ones."""
    try:
        old = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}
    return {d["name"]: d for d in (old.get("resolved") or {}).get("predictors") or [] if isinstance(d, dict)
            and "name" in d}


def run(config: RunConfig, out_dir: str | Path, data_dir: str | None = None, limit: int | None = None,
        progress: bool = True, log=print, allow_config_change: bool = False,
        shard_size: int = SHARD_SIZE, backend: str = "local", ray_options: RayOptions | None = None,
        on_shard=None, allow_modified_data: bool = False) -> RunResult:
    """Run a config end to end; see the module docstring for what lands in ``out_dir``.

    ``allow_modified_data``: score a registered data set whose files differ from the published ones
    (recorded in the manifest); otherwise such a run stops with ``sim.verify.ModifiedDataError``.

    Re-running into the same ``out_dir`` resumes: only shards missing from the store are computed.
    ``backend``: "local" (in this process) or "ray" (``sim.ray_backend``; ``ray_options`` says where);
    both write the same shards, so a run may be resumed with either."""
    t0 = time.perf_counter()
    if backend not in ("local", "ray"):
        raise ValueError(f"unknown backend {backend!r}: use 'local' or 'ray'")
    if backend == "ray":
        from sim.ray_backend import RayOptions, _import_ray

        _import_ray()  # no Ray: say so before any data is read
        ray_options = ray_options or RayOptions()
    predictors = build_predictors(config, progress)  # fails on bad specs before any data or model is touched
    families = [get_family(name) for name in config.families]
    local = getattr(config, "data_path", None)
    folders = {fam.name: datasets.family_folder(fam, data_dir, local) for fam in families}
    sources = verify_sources(families, folders, data_dir, local, allow_modified_data)
    for note in dict.fromkeys(r.note() for r in sources.values()):
        if note:
            log(note)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for pred in predictors:  # where a predictor that keeps intermediate results (probes) keeps them
        pred.bind_run(out)
    participants = limit if limit is not None else config.participants

    earlier = _described(out / "config.yaml")  # a resumed run: what the run that scored the kept shards said
    reused: set[str] = set()  # predictors all of whose shards were kept: not fitted in this process

    def write_resolved_config() -> None:  # again at the end, when devices and fallbacks are known
        described = [earlier.get(p.name, p.describe()) if p.name in reused else p.describe() for p in predictors]
        resolved = {**config.to_dict(), "resolved": {
            "config_file": config.source, "data_dir": str(resolve_data_dir(data_dir)), "participants": participants,
            "predictors": described, "versions": _versions()}}
        (out / "config.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))

    write_resolved_config()

    reports, all_decisions, decisions, n_games, empty = [], [], [], 0, []
    templates: dict[str, list[Trajectory]] = {}  # family -> the selected people's trajectories (for simulate:)
    for fam in families:
        trajectories, report = fam.load(folders[fam.name])
        reports.append(report.summary() + "\n\n" + "\n".join(str(i) for i in report.issues))
        log(report.summary())
        fam_decisions = replay_all(trajectories, fam.make_env, progress=progress)
        limit_here = participants.get(fam.name) if isinstance(participants, dict) else participants
        chosen = {t.trajectory_id for t in select(trajectories, limit_here, config.games)}
        kept = [dp for dp in fam_decisions if dp.trajectory_id in chosen]
        templates[fam.name] = [t for t in trajectories if t.trajectory_id in chosen]
        if not fam_decisions:
            empty.append((fam.name, folders[fam.name], report))
        elif not kept:
            log(f"{fam.name}: none of its {len(fam_decisions)} decisions is in the selection (games: {config.games})")
        all_decisions += fam_decisions
        decisions += kept
        n_games += len(chosen)
    (out / "data_report.txt").write_text("\n\n".join(reports) + "\n")
    require_decisions(empty, len(decisions), f"games {config.games}, participants {participants}",
                      out / "data_report.txt")
    write_decisions(decisions, out / "decisions.jsonl")
    log(f"{len(decisions)} decisions from {n_games} games to score with {len(predictors)} predictors")
    for pred in predictors:  # e.g. a prompt template naming a part this family lacks: fail before loading
        mine = scored_by(pred, decisions)
        try:
            pred.validate(mine)
        except (ValueError, NotImplementedError) as exc:  # what the config asks cannot be done on this data
            if isinstance(exc, ConfigError) or type(exc).__module__.startswith(("predictors.llm", "envs.quality")):
                raise  # already one line naming what to fix (a prompt variant, a chat format, bad data)
            raise ConfigError(f"{config.source}: predictor {pred.name}: {' '.join(str(exc).split())}") from None
        if len(mine) < len(decisions):
            log(f"{pred.name}: scores {len(mine)} of the {len(decisions)} decisions (its `families:`, or the "
                f"decisions it is a model of: {type(pred).__name__}.applies_to)")
    timings = {"load_and_replay_s": time.perf_counter() - t0}

    store = RunStore(out)
    manifest = store_manifest(config, predictors, out / "decisions.jsonl", participants, sources, shard_size,
                              allow_modified_data)
    dropped = store.open(manifest, allow_change=allow_config_change)
    if dropped:
        log(f"config changed: recomputing {', '.join(dropped)}; other predictors' shards are kept")
    store.clean_temporaries()
    (out / "errors.txt").unlink(missing_ok=True)  # describes the latest attempt only
    by_id = {dp.decision_id: dp for dp in decisions}
    jobs = [PredictorJob(dict(spec), pred, plan(pred.name, scored_by(pred, decisions), shard_size))
            for pred, spec in zip(predictors, config.predictors)]
    all_shards: list[Shard] = [s for job in jobs for s in job.shards]
    reused.update(job.name for job in jobs if job.shards and all(store.has(s) for s in job.shards))
    workers: dict[str, dict] = {}
    if backend == "ray":
        from sim.ray_backend import score_ray

        failures = score_ray(jobs, all_decisions, store, ray_options, progress, log, timings, workers, on_shard)
    else:
        failures = score_local(jobs, by_id, all_decisions, store, progress, log, timings,
                               after_each=lambda job: _atomic_parquet(store.assemble(all_shards),
                                                                      out / "predictions.parquet"))
    errors = {name: summary for name, (summary, _) in failures.items()}
    if failures:
        with open(out / "errors.txt", "w", encoding="utf-8") as fh:
            for name, (_, details) in failures.items():
                fh.write(f"== {name}\n{details}\n")
        log(f"{len(failures)} predictor(s) failed (details in {out / 'errors.txt'})")
    if workers:
        timings["workers"] = workers  # type: ignore[assignment]

    predictions = store.assemble(all_shards)
    if predictions.empty:
        predictions = to_frame([])
    _atomic_parquet(predictions, out / "predictions.parquet")
    boot = {"n_boot": int(config.analysis.get("bootstrap", 1000)), "seed": int(config.analysis.get("seed", 0))}
    metrics = metrics_table(predictions, **boot) if len(predictions) else pd.DataFrame()
    if len(metrics):
        metrics.to_csv(out / "metrics.csv", index=False)
        from analysis.plots import plot_by_round

        plot_by_round(metrics, out / "metrics_by_round.png")
    if len(predictions):  # held-out negative log-likelihood per participant, and the ranking it gives
        from analysis.likelihood import nll_ranking, participant_nll, with_n_people

        counted = with_n_people(predictions, decisions)
        participant_nll(counted).to_csv(out / "nll_by_participant.csv", index=False)
        nll_ranking(counted, **boot).to_csv(out / "nll_ranking.csv", index=False)
    if config.simulate:
        _simulate(config, predictors, templates, families, folders, all_decisions, manifest, errors, out, progress,
                  log, boot, timings)
    group_by = list(config.analysis.get("group_by") or [])
    by_variable = write_variable_metrics(predictions, decisions, group_by, out, config.analysis) \
        if group_by and len(predictions) else {}
    for pred in predictors:  # what each language model was told: its first prompt per family, as tokenised
        if hasattr(pred, "write_prompts") and pred.name not in errors:
            try:
                pred.write_prompts(out / "prompts", scored_by(pred, decisions))
            except Exception as exc:  # a record of the prompt must not cost the scored results
                log(f"{pred.name}: could not write its first prompts ({type(exc).__name__}: {exc})")
    timings["total_s"] = time.perf_counter() - t0
    write_resolved_config()
    (out / "timings.json").write_text(json.dumps(timings, indent=2))
    return RunResult(out, decisions, predictions, metrics, errors, timings, by_variable)


def _simulate(config: RunConfig, predictors: Sequence[Predictor], templates: dict, families: Sequence,
              folders: dict, all_decisions: Sequence[DecisionPoint], manifest: dict, errors: dict, out: Path,
              progress: bool, log, boot: dict, timings: dict) -> None:
    """``simulate:``: the named predictors play (``sim.counterfactual``); people vs players in
    ``simulation_by_round.csv`` and ``simulation_totals.csv`` (``analysis.simulated``)."""
    from analysis.simulated import compare
    from sim.counterfactual import SimulationError, play_in_run

    settings = dict(config.simulate)
    by_label = {spec_label(spec): p for spec, p in zip(config.predictors, predictors)}  # config names -> predictors
    failed = [n for n in settings["predictors"] if by_label[n].name in errors]
    if failed:
        log(f"simulate: {', '.join(failed)} failed in scoring and do not play")
    chosen = [by_label[n] for n in settings["predictors"] if n not in failed]
    played = {}
    for p in chosen:
        t0 = time.perf_counter()
        key = digest({"predictor": manifest["predictor_hashes"][p.name], "decisions": manifest["decisions_hash"],
                      "settings": {k: settings[k] for k in ("opponent", "seed", "copies")}})
        try:
            played[p.name] = play_in_run(settings, p, templates, {f.name: f for f in families}, folders,
                                         scored_by(p, all_decisions), key, out, progress, log)
        except SimulationError as exc:  # the scored results are saved already; this game cannot be played
            raise ConfigError(f"{config.source}: simulate: {exc}") from None
        timings[f"play_{p.name}_s"] = time.perf_counter() - t0
    affirmative = {dp.game: dp.affirmative for dp in all_decisions}
    people = [t for ts in templates.values() for t in ts]
    by_round, totals = compare(people, played, affirmative, **boot)
    by_round.to_csv(out / "simulation_by_round.csv", index=False)
    totals.to_csv(out / "simulation_totals.csv", index=False)
    log(f"counterfactual play of {', '.join(played)}: {out / 'simulated'}, simulation_by_round.csv, "
        "simulation_totals.csv")


def write_variable_metrics(predictions: pd.DataFrame, decisions: Sequence[DecisionPoint], names: Sequence[str],
                           out: Path, settings: dict) -> dict[str, pd.DataFrame]:
    """``metrics_by_<name>.csv`` and ``.png`` for each ``analysis.group_by`` variable (``analysis.variables``)."""
    from analysis.plots import plot_by_variable
    from analysis.variables import metrics_by_variable

    tables = {}
    for name in names:
        table = metrics_by_variable(predictions, decisions, [name], n_boot=int(settings.get("bootstrap", 1000)),
                                    seed=int(settings.get("seed", 0)))
        table.to_csv(out / f"metrics_by_{name}.csv", index=False)
        plot_by_variable(table, name, out / f"metrics_by_{name}.png")
        tables[name] = table
    return tables
