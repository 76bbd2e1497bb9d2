"""The ``gamereplay`` command line.

    gamereplay run CONFIG [--out DIR] [--limit N] [--data-dir DIR] [--shard-size N] [--allow-config-change]
                          [--allow-modified-data] [--backend local|ray [--address ADDR] [--workers N] [--retries N]]
    gamereplay report RUN_DIR [--out DIR]
    gamereplay list [NAME ...] [--plugin MODULE_OR_FILE ...] [--family FILE.yaml ...] [--no-count] [--data-dir DIR]
    gamereplay data list [--data-dir DIR]
    gamereplay data fetch [NAME ...] [--data-dir DIR] [--base-url URL] [--force] [--from-clone PATH]
    gamereplay data check [NAME ...] [--data-dir DIR] [--examples N]

Exit statuses (``sim.exit_codes.ExitCode``; every subcommand keeps to them):

     0  done
     1  a run scored, but a predictor failed (or none scored anything): the others'
        results are saved and errors.txt says why; the same command retries what is missing
     2  nothing was done because of the input: bad command line or config, data missing,
        modified (without --allow-modified-data), unreadable, cut short or holding no
        decision, a run directory with nothing to report, or a failed download — one line
        on stderr names the file (row, field) and says what to do
     3  an unexpected error (a bug in gamereplay or a plugin): the traceback is printed
   130  interrupted (Ctrl-C): finished shards are kept and re-running resumes
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
import warnings
from pathlib import Path

from sim.exit_codes import ExitCode, describe


def _run(args: argparse.Namespace) -> int:
    from envs.quality import DataQualityWarning
    from sim import config as config_mod
    from analysis.tables import format_tables, format_variable_tables
    from sim.runner import run

    cfg = config_mod.load(args.config)
    out = Path(args.out) if args.out else Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{cfg.name}"
    if args.limit is not None and args.limit < 1:
        raise config_mod.ConfigError("--limit must be a positive number of participants")
    if args.shard_size < 1:
        raise config_mod.ConfigError("--shard-size must be a positive number of decisions")
    ray_options = None
    if args.backend == "ray":
        from sim.ray_backend import RayOptions

        try:
            ray_options = RayOptions(address=args.address, workers=args.workers, retries=args.retries)
        except ValueError as exc:
            raise config_mod.ConfigError(str(exc)) from None
    elif args.address or args.workers:
        raise config_mod.ConfigError("--address and --workers go with --backend ray")
    with warnings.catch_warnings():
        if not args.verbose:  # data-quality findings go to data_report.txt; one summary line is printed
            warnings.simplefilter("ignore", DataQualityWarning)
        result = run(cfg, out, data_dir=args.data_dir, limit=args.limit, progress=not args.quiet,
                     allow_config_change=args.allow_config_change, shard_size=args.shard_size,
                     backend=args.backend, ray_options=ray_options, allow_modified_data=args.allow_modified_data)
    if result.predictions.empty:  # no table, no "results in": nothing was produced to point at
        why = f"{len(result.errors)} predictor(s) failed; see {out / 'errors.txt'}" if result.errors else \
            "no predictor applies to these decisions"
        print(f"gamereplay: nothing was scored: {why}", file=sys.stderr)
        return ExitCode.PREDICTOR_FAILED
    print()
    analysis = cfg.analysis
    print(format_tables(result.predictions, n_boot=int(analysis.get("bootstrap", 1000)),
                        seed=int(analysis.get("seed", 0))))
    if len(result.predictions):
        from analysis.likelihood import format_nll_tables, with_n_people

        print("\n" + format_nll_tables(with_n_people(result.predictions, result.decisions),
                                        n_boot=int(analysis.get("bootstrap", 1000)), seed=int(analysis.get("seed", 0))))
    if result.by_variable:
        print("\n" + format_variable_tables(result.by_variable))
    print(f"\nresults in {result.out_dir}/ ({', '.join(result.files())}); total {result.timings['total_s']:.0f} s")
    if result.errors:
        print(f"{len(result.errors)} predictor(s) failed: {', '.join(result.errors)}; see {out / 'errors.txt'}",
              file=sys.stderr)
        return ExitCode.PREDICTOR_FAILED
    return ExitCode.OK


class EmptyRun(ValueError):
    """A run directory whose predictions table is damaged or empty: there is nothing to report."""


def _report(args: argparse.Namespace) -> int:
    from analysis.report import write_report

    _check_predictions(Path(args.run_dir) / "predictions.parquet")
    html_path, md_path = write_report(args.run_dir, args.out)
    print(f"report: {html_path} (open in a browser) and {md_path}")
    return ExitCode.OK


def _check_predictions(path: Path) -> None:
    """Refuse a damaged or empty predictions table before the report reads it (a missing one: ``write_report``
    says it is not a run directory); only the file's footer is read."""
    import pyarrow
    import pyarrow.parquet as pq

    if not path.is_file():
        return
    try:
        rows = pq.read_metadata(path).num_rows
    except (pyarrow.ArrowException, OSError) as exc:
        raise EmptyRun(f"{path}: not a readable predictions table ({' '.join(str(exc).split())}); re-run "
                       "`gamereplay run` into this directory to rebuild it from the shards") from None
    if rows == 0:
        raise EmptyRun(f"{path}: the run scored nothing, so there is nothing to report; see errors.txt and "
                       "data_report.txt beside it")


def _data(args: argparse.Namespace) -> int:
    from sim import datasets
    from sim.datadir import data_dir_source, resolve_data_dir

    root = resolve_data_dir(args.data_dir)
    if args.data_cmd == "list":
        print(f"data directory: {root} (from {data_dir_source(args.data_dir)})")
        for name, ds in sorted(datasets.DATASETS.items()):
            summary = datasets.summary(name, args.data_dir)
            print(f"  {name}: {summary.state} — {ds.description} [{ds.licence}]")
            for line in summary.lines:
                print(f"    {line}")
        return ExitCode.OK
    if args.data_cmd == "check":
        from sim.datacheck import check

        for name in args.names or sorted({f.dataset for f in _families() if f.dataset}):
            print(check(name, args.data_dir, examples=args.examples))
        return ExitCode.OK
    names = args.names or sorted(datasets.DATASETS)
    if args.from_clone and len(names) != 1:
        raise datasets.DatasetError("--from-clone copies one data set: name it, e.g. "
                                    "`gamereplay data fetch glee --from-clone PATH`")
    for name in names:
        done = datasets.get_dataset(name).fetch(args.data_dir, base_url=args.base_url, force=args.force,
                                                from_clone=args.from_clone)
        print(f"{name}: ok ({done.folder}); {done}")
    return ExitCode.OK


def _families():
    from envs.registry import families

    return families().values()


def _list(args: argparse.Namespace) -> int:
    """Every game family and predictor type gamereplay knows here, installed plugins' and named ones' included."""
    from envs.family import OPTIONAL
    from envs.registry import families
    from predictors.registry import predictor_types
    from sim.plugins import activate, resolve

    activate(resolve(args.plugin or [], source="gamereplay list", key="--plugin")
             + resolve(args.family or [], source="gamereplay list", key="--family", families_only=True))
    wanted = set(args.names or [])
    fams = {n: f for n, f in sorted(families().items()) if not wanted or n in wanted}
    types = {n: t for n, t in predictor_types().items() if not wanted or n in wanted}
    unknown = wanted - set(fams) - set(types)
    if unknown:
        from sim.config import ConfigError

        raise ConfigError(f"gamereplay list: no game family or predictor type called {', '.join(sorted(unknown))}")
    if fams:
        print("game families:")
    for name, fam in fams.items():
        print(f"  {name}: {fam.description}")
        parts = [p for p in OPTIONAL if fam.provides(p)]
        print(f"    data: {fam.dataset or fam.source or '(none)'}"
              + ("" if args.no_count else f" — {_count_decisions(fam, args.data_dir)}"))
        print(f"    provides: {', '.join(parts) if parts else '(only the replay)'}")
    if types:
        print("predictor types (config keys):")
    for name, (factory, keys) in types.items():
        where = factory if isinstance(factory, str) else f"{factory.__module__}:{factory.__qualname__}"
        shown = "any key (**kwargs)" if keys is None else ", ".join(keys) or "(none)"
        print(f"  {name}: {shown}  [{where}]")
    if not wanted:
        from envs.interventions import NAMES

        print("history interventions (intervention: on any predictor; envs/interventions.py):")
        print(f"  {', '.join(NAMES)}")
    return ExitCode.OK


def _count_decisions(fam, data_dir: str | None) -> str:
    """How many decisions the family's data holds here (loaded and replayed quietly), or why none."""
    from envs.quality import DataFormatError
    from envs.replay import replay_all
    from sim import datasets

    if fam.dataset is None and fam.source is None:
        return "no data"
    try:
        folder = datasets.family_folder(fam, data_dir)
    except datasets.DatasetError:
        return f"not present (gamereplay data fetch {fam.dataset})" if fam.dataset else "not present"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trajectories, _ = fam.load(folder)
            n = len(replay_all(trajectories, fam.make_env, progress=False))
    except (DataFormatError, OSError, ValueError) as exc:
        return f"cannot be read: {' '.join(str(exc).split())}"
    return f"{n} decisions"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gamereplay", description="Replay human strategic decisions against predictors.",
                                epilog=describe(), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="replay a data set and score it with the configured predictors")
    r.add_argument("config", help="a YAML run config, e.g. configs/quickstart.yaml")
    r.add_argument("--out", help="run directory (default runs/<timestamp>-<config name>)")
    r.add_argument("--limit", type=int, help="only the first N participants (a quick look)")
    r.add_argument("--data-dir", help="where data sets live (default $GAMEREPLAY_DATA, else the user cache)")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    r.add_argument("--verbose", action="store_true", help="print every data-quality warning")
    r.add_argument("--shard-size", type=int, default=2048,
                   help="decisions per results shard (the unit that a resumed run skips when done)")
    r.add_argument("--allow-config-change", action="store_true",
                   help="reuse an --out directory made with another config: keep unchanged predictors' shards")
    r.add_argument("--allow-modified-data", action="store_true",
                   help="score a registered data set whose files differ from the published ones "
                        "(recorded in manifest.json); without it such a run is refused")
    r.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="where predictors run: in this process (default) or on Ray actors, one per predictor")
    r.add_argument("--address", help="with --backend ray: join this Ray cluster (e.g. auto, ray://head:10001) "
                                     "instead of starting one on this machine")
    r.add_argument("--workers", type=int, help="with --backend ray: predictors scored at once "
                                               "(and the CPUs of a Ray started here)")
    r.add_argument("--retries", type=int, default=3,
                   help="with --backend ray: restarts of a worker that died before its shards were done")
    r.set_defaults(func=_run)
    rp = sub.add_parser("report", help="an HTML page and a Markdown summary of a run's comparisons")
    rp.add_argument("run_dir", help="a run directory written by `gamereplay run`")
    rp.add_argument("--out", help="where to write report.html and report.md (default: the run directory)")
    rp.set_defaults(func=_report)
    d = sub.add_parser("data", help="list or download data sets")
    dsub = d.add_subparsers(dest="data_cmd", required=True)
    dl = dsub.add_parser("list", help="show which data sets are present and where")
    dl.add_argument("--data-dir")
    df = dsub.add_parser("fetch", help="download data sets from their public sources (checksummed)")
    df.add_argument("names", nargs="*", help="data set names (default: all)")
    df.add_argument("--data-dir")
    df.add_argument("--base-url", help="download from this mirror instead of the public source")
    df.add_argument("--force", action="store_true", help="download again even if the files verify")
    df.add_argument("--from-clone", metavar="PATH",
                    help="copy from a local clone of the data set's source repository instead of downloading")
    dc = dsub.add_parser("check", help="what the loaders find in a data set: games, decisions, skips and anomalies")
    dc.add_argument("names", nargs="*", help="data set names (default: all that a game family reads)")
    dc.add_argument("--data-dir")
    dc.add_argument("--examples", type=int, default=3, help="examples listed per kind of issue")
    d.set_defaults(func=_data)
    ls = sub.add_parser("list", help="every game family and predictor type (plugins' included), with config keys")
    ls.add_argument("names", nargs="*", help="only these families / predictor types")
    ls.add_argument("--plugin", action="append", metavar="MODULE_OR_FILE",
                    help="import this module or .py file first (repeatable), as a config's `plugins:` would")
    ls.add_argument("--family", action="append", metavar="FILE.yaml", help="also load this YAML game family "
                                                                          "(repeatable)")
    ls.add_argument("--no-count", action="store_true",
                    help="do not load the data sets to count their decisions (faster)")
    ls.add_argument("--data-dir")
    ls.set_defaults(func=_list)
    return p


def _bad_input() -> tuple[type[BaseException], ...]:
    """The errors that mean "fix the input" (exit 2): each carries one line naming what and where."""
    from envs.quality import DataFormatError
    from envs.registry import FamilyError
    from envs.tabular.errors import FamilySpecError
    from predictors.llm.formats import FormatError
    from predictors.llm.models import ModelNotFound
    from predictors.llm.variants import VariantError
    from predictors.registry import PredictorTypeError
    from sim.config import ConfigError
    from sim.datasets import DatasetError
    from sim.plugins import PluginError
    from sim.ray_backend import RayUnavailable
    from sim.store import StoreError

    return (ConfigError, DatasetError, DataFormatError, ModelNotFound, FormatError, VariantError, StoreError,
            RayUnavailable, PluginError, PredictorTypeError, FamilyError, FamilySpecError, EmptyRun, OSError)


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; the return value is an ``ExitCode`` (argparse's own usage errors exit 2 too)."""
    from envs.quality import DataFormatError

    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except _bad_input() as exc:
        kind = "bad data: " if isinstance(exc, DataFormatError) else ""
        print(f"gamereplay: {kind}{' '.join(str(exc).split())}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except KeyboardInterrupt:
        kept = "; finished predictors' results are in the run directory" if args.cmd == "run" else ""
        print(f"gamereplay: interrupted{kept}", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception:  # not "a predictor failed" (1): a bug, with its traceback
        traceback.print_exc()
        print("gamereplay: unexpected error (a bug; please report it with the traceback above)", file=sys.stderr)
        return ExitCode.INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
