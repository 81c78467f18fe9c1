"""The ``seedmagic`` command (``python -m seedmagic``): ``seedmagic check NOTEBOOK...``.

Exit codes: 0 every notebook reproduces, 1 one does not, 2 bad input (a
missing file, not a notebook, a kernel that is not installed, a cell over
``--timeout``, no code cells).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text!r}")
    return value


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, got {text!r}")
    return int(text)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="seedmagic", description="Reproducible randomness for notebooks.")
    commands = main.add_subparsers(dest="command", metavar="COMMAND")
    check = commands.add_parser(
        "check", help="prove that notebooks reproduce, or point at the first cell that does not",
        description="Run each notebook in two fresh kernels at once (with seedmagic loaded) and compare their "
                    "outputs and generator states after every cell. Exit 0: reproducible; 1: not; 2: bad input.")
    check.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="notebooks, or folders to search for them")
    check.add_argument("--rerun", action="store_true",
                       help="rerun each cell right after its first run (in the second kernel), as when editing, "
                            "and check that the rest of the notebook gives the same outputs")
    check.add_argument("--record", action="store_true",
                       help="write per-cell fingerprints and library versions into metadata.seedmagic (only when "
                            "the notebook reproduces); a later check compares with them")
    check.add_argument("--json", action="store_true",
                       help="print one JSON object per notebook: notebook, reproducible, first_divergent_cell, "
                            "generator, reason")
    check.add_argument("--kernel", metavar="NAME", help="kernel to run (default: the one named in the notebook)")
    check.add_argument("--timeout", metavar="S", type=_positive, default=600.0,
                       help="seconds each cell may take (default 600)")
    check.add_argument("--jobs", "-j", metavar="N", type=_jobs,
                       help="notebooks checked at once, two kernels each (default: one per two cores)")
    check.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    return main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
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
    from .check import Options, Progress, bad_input_lines, check, exit_code, table

    options = Options(rerun=arguments.rerun, record=arguments.record, kernel=arguments.kernel,
                      timeout=arguments.timeout, jobs=arguments.jobs)
    results = check(arguments.notebooks, options, Progress(enabled=not arguments.quiet))
    if arguments.json:
        for result in results:
            print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        report = table(results)
        if report:
            print(report)
    for line in bad_input_lines(results):
        print(line, file=sys.stderr)
    return exit_code(results)


if __name__ == "__main__":
    sys.exit(main())
