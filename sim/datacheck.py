"""`gamereplay data check`: what a data set's loaders find, keep, flag and skip — before any run.

Loads every family that reads the data set, replays every kept game through its
environment (so the count of decisions is the count a run would score) and
lists the anomalies by kind with a few examples each (file, row, field).
"""

from __future__ import annotations

import os
import warnings
from collections import defaultdict

from envs.quality import DataQualityWarning
from envs.registry import families as all_families
from envs.replay import replay_all
from sim import datasets
from sim.verify import verify_dataset


def check(name: str, data_dir: str | os.PathLike | None = None, examples: int = 3) -> str:
    """A plain-text report for one data set (all families that read it)."""
    families = [f for f in all_families().values() if f.dataset == name]
    if not families:
        known = sorted({f.dataset for f in all_families().values() if f.dataset})
        raise datasets.DatasetError(f"no game family reads a data set called {name!r}; known: {', '.join(known)}")
    folder = datasets.require(name, data_dir)
    record = verify_dataset(name, data_dir, allow_modified=True)  # report a modified copy, do not refuse it
    lines = [f"data set {name} in {folder}",
             f"  checksums: {record.state} ({len(record.files)} files"
             + (f"; {len(record.problems)} differ from the source: " + ", ".join(c.rel for c in record.problems[:3])
                if record.problems else "") + ")"]
    for fam in families:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            trajectories, report = fam.load(folder)
            decisions = replay_all(trajectories, fam.make_env, progress=False)
        lines += ["", f"== {fam.name}: {fam.description}"]
        lines += [f"  {k}: {v}" for k, v in report.stats.items()]
        lines.append(f"  decisions replayed through the environment: {len(decisions)}"
                     + ("" if len(decisions) == report.decisions else
                        f"  (the loader counted {report.decisions}: replay and loader disagree)"))
        by_kind = defaultdict(list)
        for issue in report.issues:
            by_kind[(issue.kind, issue.outcome)].append(issue)
        if by_kind:
            lines.append("  issues:")
        for (kind, outcome), issues in sorted(by_kind.items()):
            lines.append(f"    {kind} ({outcome}): {len(issues)}")
            lines += [f"      {i}" for i in issues[:examples]]
    return "\n".join(lines)
