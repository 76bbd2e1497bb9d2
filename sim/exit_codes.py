"""The exit statuses of the ``gamereplay`` command, defined once so that each means one thing.

A script can tell "fix the input" from "some predictor failed" from "interrupted" without parsing
messages; every subcommand (run, report, list, data list / fetch / check) is held to these, and the
CLI's module docstring and ``gamereplay --help`` show the table ``describe`` writes.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a ``gamereplay`` exit status means."""

    #: done; everything asked for was produced
    OK = 0
    #: a run scored, but at least one predictor failed or nothing could be scored by any: the others'
    #: results are saved (errors.txt says why); re-running the same command retries only what is missing
    PREDICTOR_FAILED = 1
    #: nothing was done because of the input: the command line, the config, or the data (missing,
    #: modified, unreadable, cut short, holding no decision) — or a download failed; one line says what to do
    BAD_INPUT = 2
    #: an unexpected error (a bug in gamereplay or a plugin): the traceback is printed
    INTERNAL_ERROR = 3
    #: interrupted (Ctrl-C): finished shards are kept, and re-running the same command resumes
    INTERRUPTED = 130


_SHORT = {
    ExitCode.OK: "done",
    ExitCode.PREDICTOR_FAILED: "a predictor failed (or none scored anything); the others' results are saved",
    ExitCode.BAD_INPUT: "bad command line, config or data, or a failed download; nothing was scored",
    ExitCode.INTERNAL_ERROR: "unexpected error (a bug): traceback printed",
    ExitCode.INTERRUPTED: "interrupted; finished results are kept and a re-run resumes",
}


def describe() -> str:
    """The table of exit statuses, one per line, for ``--help`` and the docs."""
    return "exit status:\n" + "\n".join(f"  {int(code):>3}  {_SHORT[code]}" for code in ExitCode)
