"""The ``seedmagic`` command (``python -m seedmagic``): ``seedmagic check NOTEBOOK...`` and ``seedmagic --version``.

Exit codes: 0 every notebook reproduces, 1 one does not, 2 bad input (a
missing file, not a notebook, a kernel that is not installed, a cell over
``--timeout``, no code cells, a cell that fails in both runs), 130
interrupted (Ctrl-C, SIGTERM or SIGHUP: every kernel is killed first).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any


def seconds(text: str) -> float:
    """A number of seconds above 0 (fractions allowed, ``inf`` no limit): the type of the timeouts' arguments."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not value > 0 or math.isnan(value):
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text!r}")
    return value


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, got {text!r}")
    return int(text)


def parser() -> argparse.ArgumentParser:
    from . import __version__

    main = argparse.ArgumentParser(prog="seedmagic", description="Reproducible randomness for notebooks.")
    main.add_argument("--version", action="version", version=f"seedmagic {__version__}")
    commands = main.add_subparsers(dest="command", metavar="COMMAND")
    check = commands.add_parser(
        "check", help="prove that notebooks reproduce, or point at the first cell that does not and why",
        description="Run each notebook as written in two fresh kernels at once and compare their outputs, "
                    "generator states and values after every cell. Exit 0: reproducible; 1: not; 2: bad input; "
                    "130: interrupted.")
    check.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="notebooks, or folders to search for them")
    check.add_argument("--rerun", action="store_true",
                       help="rerun each cell right after its first run (in the second kernel), as when editing, "
                            "and check that the rest of the notebook gives the same outputs")
    check.add_argument("--record", action="store_true",
                       help="write per-cell fingerprints and library versions into metadata.seedmagic (only when "
                            "the notebook reproduces); a later check compares with them")
    check.add_argument("--json", action="store_true",
                       help="print one JSON object per notebook: notebook, reproducible, status, "
                            "first_divergent_cell, generator, cause, reason, fix, later_cells, outputs, note")
    check.add_argument("--kernel", metavar="NAME", help="kernel to run (default: the one named in the notebook)")
    check.add_argument("--timeout", metavar="S", type=seconds, default=600.0,
                       help="seconds each cell may take, fractions allowed (default 600)")
    check.add_argument("--start-timeout", metavar="S", type=seconds, default=300.0,
                       help="seconds each kernel may take to start (default 300)")
    check.add_argument("--jobs", "-j", metavar="N", type=_jobs,
                       help="notebooks checked at once, two kernels each (default: one per two cores)")
    check.add_argument("--images", choices=("pixels", "presence"), default="pixels",
                       help="compare images by their decoded pixels (default) or only by their presence")
    check.add_argument("--sanitize-with", metavar="FILE",
                       help="your own output sanitisers, in nbval's format ([name] sections with regex: and "
                            "replace:)")
    check.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    return main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (130 on Ctrl-C, SIGTERM or SIGHUP, wherever it lands: kernels
    are killed first)."""
    taken = _interrupt_on_termination()
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("\nseedmagic check: interrupted" if sys.stderr.isatty() else "seedmagic check: interrupted",
              file=sys.stderr)
        return 130
    finally:
        for stopping, handler in taken.items():
            signal.signal(stopping, handler)


def _interrupt_on_termination() -> dict[int, Any]:
    """Make SIGTERM and SIGHUP raise KeyboardInterrupt as Ctrl-C does, from the command's first line (a CI job's
    timeout sends SIGTERM, and the imports alone take seconds), so that the check unwinds, removes its copies of
    the folder and says it was interrupted. Only where the signal still does what it does by default: a handler
    someone set, or SIGHUP ignored by ``nohup``, is kept. Returns the handlers it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    taken = {}
    for name in ("SIGTERM", "SIGHUP"):
        stopping = getattr(signal, name, None)
        if stopping is not None and signal.getsignal(stopping) is signal.SIG_DFL:
            taken[stopping] = signal.signal(stopping, signal.default_int_handler)
    return taken


def _main(argv: Sequence[str] | None) -> int:
    arguments = parser().parse_args(argv)
    if arguments.command != "check":
        parser().print_help(sys.stderr)
        return 2
    try:
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as error:
        print(f"seedmagic check needs nbclient and nbformat ({error.name} is missing): "
              "pip install 'seedmagic[check]'", file=sys.stderr)
        return 2
    from .check import BadInput, Options, Progress, bad_input_lines, check, exit_code, read_sanitisers, table

    try:
        sanitisers = read_sanitisers(arguments.sanitize_with) if arguments.sanitize_with else ()
    except BadInput as error:
        print(f"seedmagic check: {error}", file=sys.stderr)
        return 2
    options = Options(rerun=arguments.rerun, record=arguments.record, kernel=arguments.kernel,
                      timeout=arguments.timeout, start_timeout=arguments.start_timeout, jobs=arguments.jobs,
                      images=arguments.images, sanitisers=sanitisers)
    results = check(arguments.notebooks, options, Progress(enabled=not arguments.quiet))
    try:
        if arguments.json:
            for result in results:
                print(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            report = table(results)
            if report:
                print(report)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`| head`): end quietly, as other command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    for line in bad_input_lines(results):
        print(line, file=sys.stderr)
    return exit_code(results)


if __name__ == "__main__":
    sys.exit(main())
