"""The Ray backend: predictors scored by Ray actors, on this machine or on a cluster.

``gamereplay run CONFIG --backend ray [--address ADDR] [--workers N]`` gives each
predictor (model + prompt variant + settings) one Ray *actor*: a worker process that
builds the predictor once (loads the model once), fits it if it learns, and scores all
of that predictor's missing shards, one Ray task per shard.  An actor asks for one GPU
when it runs a language model and the cluster has GPUs (``gpus_per_model`` overrides),
and ``cpus_per_worker`` CPUs otherwise.  The driver (the process that ran the
command) writes each shard into the same results store (``sim.store``) the moment it
comes back, so workers need no shared file system, a finished shard survives any
later failure, and re-running the command resumes exactly as with the local backend.

Plugins: each worker activates the run's ``PluginSetup`` (``sim.plugins``) before it
builds its predictor — by default everything the driver activated (the config's
``plugins`` and YAML families) — so a plugin predictor or a YAML family runs here
exactly as with the local backend.

Failures: a worker process that dies (killed, out of memory, a lost node) is restarted
by Ray and its unfinished tasks are retried, up to ``retries`` times; the restarted
actor loads its model again and continues.  An exception raised by the predictor
itself is not retried (it would fail again): that predictor is recorded as failed and
the others go on, as with the local backend.

Without ``--address`` a private Ray instance is started on this machine with
``--workers`` CPUs (default: all) and shut down at the end; with ``--address`` (e.g.
``auto`` on a cluster node, or ``ray://head:10001``) the run joins an existing cluster,
whose nodes must have gamereplay and the models' packages installed.  At most
``workers`` actors are alive at a time (default: one per predictor, queued by Ray until
resources free up); an actor is released as soon as its predictor's shards are done.
"""

from __future__ import annotations

import os
import resource
import time
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from tqdm.auto import tqdm

from envs.records import DecisionPoint
from sim.jobs import PredictorJob, build_predictor, score_shard, scored_by
from sim.local_backend import Errors
from sim.plugins import PluginSetup, activated
from sim.store import RunStore, Shard


class RayUnavailable(RuntimeError):
    """Ray is not installed; the message says how to install it."""


@dataclass(frozen=True)
class RayOptions:
    """How to reach Ray and what each worker asks of it."""

    address: str | None = None
    workers: int | None = None
    retries: int = 3
    cpus_per_worker: float = 1.0
    gpus_per_model: float | None = None

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise ValueError("--workers must be at least 1")
        if self.retries < 0:
            raise ValueError("--retries must be 0 or more")
        if self.cpus_per_worker <= 0:
            raise ValueError("cpus_per_worker must be positive")


def _peak_rss_mb() -> float:
    """This process's peak resident memory in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if os.uname().sysname == "Darwin" else peak / 1024


class PredictorWorker:
    """What a Ray actor runs: one predictor, built and fitted once, scoring shard after shard."""

    def __init__(self, spec: Mapping[str, Any], decisions: Sequence[DecisionPoint], threads: int | None = None,
                 setup: PluginSetup | None = None, run_dir: str | None = None):
        if threads:  # the CPUs Ray gave this worker, not the machine's
            try:
                import torch

                torch.set_num_threads(threads)
            except ImportError:
                pass
        self.predictor = build_predictor(spec, progress=False, setup=setup)  # plugins first: a fresh process
        if run_dir is not None:
            self.predictor.bind_run(run_dir)
        self.by_id = {dp.decision_id: dp for dp in decisions}
        self.fit_pool = scored_by(self.predictor, decisions)
        self.fitted = False
        self.shards_done = 0

    def score(self, shard: Shard):
        """(the shard's predictions rows, this worker's info)."""
        if not self.fitted:
            self.predictor.fit(self.fit_pool)
            self.fitted = True
        frame = score_shard(self.predictor, shard, self.by_id)
        self.shards_done += 1
        return frame, self.info()

    def info(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "peak_rss_mb": _peak_rss_mb(), "shards_done": self.shards_done}


def _import_ray():
    try:
        import ray
    except ImportError:
        raise RayUnavailable("--backend ray needs Ray: pip install 'gamereplay[ray]' (or pip install 'ray>=2.9')") \
            from None
    return ray


def _cause(exc: BaseException) -> BaseException:
    """The predictor's own exception inside a Ray task error."""
    return getattr(exc, "cause", None) or exc


def score_ray(jobs: Sequence[PredictorJob], decisions: Sequence[DecisionPoint], store: RunStore,
              options: RayOptions = RayOptions(), progress: bool = True, log: Callable[[str], None] = print,
              timings: dict[str, float] | None = None, workers_info: dict[str, dict] | None = None,
              on_shard: Callable[[Shard, dict], None] | None = None, setup: PluginSetup | None = None) -> Errors:
    """Score every job's missing shards on Ray actors into ``store``; returns the predictors that failed.

    ``decisions``: every decision of the run (learners fit on them; shards name their ids).
    ``workers_info``: filled with each predictor's worker facts (peak memory, process ids, restarts).
    ``on_shard(shard, info)``: called after each shard is written (progress hooks, tests).
    ``setup``: the plugins every worker activates first (default: all that this process activated)."""
    ray = _import_ray()
    setup = activated() if setup is None else setup
    todo = [(job, [s for s in job.shards if not store.has(s)]) for job in jobs]
    for job, missing in todo:
        if len(missing) < len(job.shards):
            log(f"{job.name}: {len(job.shards) - len(missing)} of {len(job.shards)} shard(s) already "
                f"in {store.root}, reused")
    todo = [(job, missing) for job, missing in todo if missing]
    if not todo:
        return {}

    started_here = not ray.is_initialized()
    if started_here:
        if options.address:
            ray.init(address=options.address, log_to_driver=False)
        else:
            ray.init(num_cpus=options.workers or os.cpu_count(), include_dashboard=False, log_to_driver=False)
    errors: Errors = {}
    try:
        has_gpu = ray.cluster_resources().get("GPU", 0) >= 1
        shared = ray.put(list(decisions))
        worker_cls = ray.remote(PredictorWorker)
        queue = deque(todo)
        live: dict[Any, tuple[PredictorJob, Shard]] = {}
        actors: dict[str, Any] = {}
        left: dict[str, int] = {}
        started: dict[str, float] = {}
        pids: dict[str, list[int]] = {}
        limit = options.workers or len(todo)
        bar = tqdm(total=sum(len(m) for _, m in todo), desc="ray", unit="shard", disable=not progress)

        def launch(job: PredictorJob, missing: list[Shard]) -> None:
            gpus = options.gpus_per_model if options.gpus_per_model is not None else (1 if job.uses_gpu and has_gpu
                                                                                      else 0)
            actor = worker_cls.options(num_cpus=options.cpus_per_worker, num_gpus=gpus,
                                       max_restarts=options.retries, max_task_retries=options.retries
                                       ).remote(job.spec, shared, max(1, int(options.cpus_per_worker)), setup,
                                               str(store.root))
            actors[job.name], left[job.name], started[job.name] = actor, len(missing), time.perf_counter()
            for shard in missing:
                live[actor.score.remote(shard)] = (job, shard)

        def release(job: PredictorJob) -> None:
            actor = actors.pop(job.name)
            for fut in [f for f, (j, _) in live.items() if j is job]:
                live.pop(fut)
            ray.kill(actor)
            if timings is not None:
                timings[f"{job.name}_s"] = time.perf_counter() - started[job.name]

        while queue or live:
            while queue and len(actors) < limit:
                launch(*queue.popleft())
            done, _ = ray.wait(list(live), num_returns=1)
            job, shard = live.pop(done[0])
            try:
                frame, info = ray.get(done[0])
            except Exception as exc:  # the predictor raised, or its worker died more often than retries allow
                cause = _cause(exc)
                errors[job.name] = (f"{type(cause).__name__}: {cause}", traceback.format_exc())
                log(f"predictor {job.name} failed: {errors[job.name][0]}")
                release(job)
                continue
            store.write(shard, frame)
            bar.update(1)
            if info["pid"] not in pids.setdefault(job.name, []):
                pids[job.name].append(info["pid"])
            if workers_info is not None:
                workers_info[job.name] = {**info, "pids": list(pids[job.name]), "restarts": len(pids[job.name]) - 1}
            if on_shard is not None:
                on_shard(shard, info)
            left[job.name] -= 1
            if left[job.name] == 0:
                release(job)
        bar.close()
    finally:
        if started_here:
            ray.shutdown()
    return errors
