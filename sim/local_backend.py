"""The default backend: every predictor in this process, one after another.

A predictor is fitted (if it learns) only when some of its shards are missing, and
each shard lands in the store as soon as it is scored, so Ctrl-C or a crash loses at
most the shard in flight.  One predictor failing is recorded and the next one runs.
"""

from __future__ import annotations

import time
import traceback
from typing import Callable, Mapping, Sequence

from tqdm.auto import tqdm

from envs.records import DecisionPoint
from sim.jobs import PredictorJob, score_shard, scored_by
from sim.store import RunStore

#: predictor name -> (one-line summary, traceback)
Errors = dict[str, tuple[str, str]]


def score_local(jobs: Sequence[PredictorJob], by_id: Mapping[str, DecisionPoint],
                fit_pool: Sequence[DecisionPoint], store: RunStore, progress: bool = True,
                log: Callable[[str], None] = print, timings: dict[str, float] | None = None,
                after_each: Callable[[PredictorJob], None] | None = None) -> Errors:
    """Score every job's missing shards into ``store``; returns the predictors that failed.

    ``fit_pool``: the decisions learners may fit on (they predict a person only from others')."""
    errors: Errors = {}
    for job in jobs:
        t0 = time.perf_counter()
        missing = [s for s in job.shards if not store.has(s)]
        try:
            if missing:
                job.predictor.fit(scored_by(job.predictor, fit_pool))
            for shard in tqdm(missing, desc=job.name, unit="shard", disable=not progress or len(missing) < 2):
                store.write(shard, score_shard(job.predictor, shard, by_id))
        except Exception as exc:  # one predictor failing must not lose the others' results
            errors[job.name] = (f"{type(exc).__name__}: {exc}", traceback.format_exc())
            log(f"predictor {job.name} failed: {errors[job.name][0]}")
        else:
            if len(missing) < len(job.shards):
                log(f"{job.name}: {len(job.shards) - len(missing)} of {len(job.shards)} shard(s) already "
                    f"in {store.root}, reused")
        finally:
            if timings is not None:
                timings[f"{job.name}_s"] = time.perf_counter() - t0
        if after_each is not None:
            after_each(job)
    return errors
