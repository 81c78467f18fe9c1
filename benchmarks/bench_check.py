"""How long ``seedmagic check`` takes, next to one plain nbclient execution and nbval, on the same notebooks.

Run with ``python benchmarks/bench_check.py [NOTEBOOK...]`` (default: the
example notebooks and two small test notebooks). For each notebook, rounds
alternate the contenders so that drifts in machine load hit them all alike;
each figure is the median over rounds:

- plain: ``NotebookClient(nb).execute()``, one fresh kernel, nothing else;
- plain, killed: the same, but the kernel is killed at the end instead of
  asked to shut down (about a second less), as ``seedmagic check`` does;
- one recorded run: the same notebook in one fresh kernel through
  ``seedmagic check``'s runner (seedmagic loaded, a silent probe after every
  cell): the recording overhead is its ratio to "plain, killed";
- check: ``seedmagic check``'s whole work, two fresh kernels at once and
  the comparison (target: at most 1.25x plain);
- nbval: ``pytest --nbval-lax`` on the notebook in a subprocess, if nbval is
  importable (it includes pytest's start-up, about a second).

A second table times the check on notebooks that diverge, whose explanation
needs extra runs (a third kernel with the first one's ``PYTHONHASHSEED`` for
hash order; the value trace reads what the probe recorded), next to one plain
execution: what explaining costs, paid only when a notebook is not reproducible.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seedmagic.check.kernels import Kernel, choose_kernel  # noqa: E402
from seedmagic.check import (  # noqa: E402 (after the path is set)
    Options,
    check_notebook,
    kernel_environment,
)

DEFAULT = [ROOT / "examples" / "quickstart.ipynb", ROOT / "examples" / "reproducible-training.ipynb",
           ROOT / "tests" / "notebooks" / "seeded.ipynb", ROOT / "tests" / "notebooks" / "rerun_seeded.ipynb"]


def plain(path: pathlib.Path, shutdown: str = "graceful") -> float:
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(path.parent)}},
                   shutdown_kernel=shutdown).execute(env=kernel_environment())
    return time.perf_counter() - start


def plain_immediate(path: pathlib.Path) -> float:
    """As ``plain``, but the kernel is killed at the end as ``seedmagic check`` does, instead of asked to stop."""
    return plain(path, "immediate")


def recorded(path: pathlib.Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    options = Options()
    kernel = choose_kernel(notebook, options, path)
    start = time.perf_counter()
    asyncio.run(Kernel(notebook, path, kernel, options, "1").run())
    return time.perf_counter() - start


def check(path: pathlib.Path, expected: tuple[str, str | None] = ("reproducible", None)) -> float:
    """The whole check; ``expected``: the status and cause it must find."""
    start = time.perf_counter()
    result = asyncio.run(check_notebook(path, Options()))
    elapsed = time.perf_counter() - start
    assert (result.status, result.cause) == expected, result
    return elapsed


#: Notebooks that diverge, by the cause the check must name: the cost of explaining.
DIVERGING = {
    "hash-order": ["words = 'the quick brown fox jumps over the lazy dog'.split()", "print(list(set(words)))"],
    "value": ["import time\nstamp = time.time_ns() // 1000", "total = stamp % 1000", "print(total)"],
}


def explaining(folder: pathlib.Path, rounds: int) -> None:
    """Time the check on diverging notebooks next to one plain execution of each."""
    print(f"\n{'diverging notebook (cause)':28} {'plain':>7} {'check':>7}   {'check/plain':>11}")
    for cause, cells in DIVERGING.items():
        path = folder / f"{cause}.ipynb"
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, path)
        samples: dict[str, list[float]] = {"plain": [], "check": []}
        for round_number in range(rounds):
            order = ["plain", "check"] if round_number % 2 else ["check", "plain"]
            for name in order:
                samples[name].append(plain(path) if name == "plain" else check(path, ("not reproducible", cause)))
        median = {name: statistics.median(values) for name, values in samples.items()}
        print(f"{path.name + f' ({cause})':28} {median['plain']:6.2f}s {median['check']:6.2f}s   "
              f"{median['check'] / median['plain']:10.2f}x")


def nbval(path: pathlib.Path) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                           "-c", os.devnull, "--rootdir", str(path.parent), str(path)],
                          capture_output=True, text=True, env=kernel_environment(), cwd=path.parent)
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stdout[-2000:]
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=lambda given: pathlib.Path(given).resolve(), default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    contenders = {"plain": plain, "killed": plain_immediate, "recorded": recorded, "check": check}
    has_nbval = importlib.util.find_spec("nbval") is not None
    if has_nbval:
        contenders["nbval"] = nbval
    import numpy
    import torch

    print(f"seedmagic check benchmark, {time.strftime('%Y-%m-%d')}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"NumPy {numpy.__version__}, torch {torch.__version__}; median of {arguments.rounds} rounds\n")
    print(f"{'notebook':28} {'plain':>7} {'killed':>7} {'1 run':>7} {'check':>7} {'nbval':>7}   "
          f"{'run/killed':>10} {'check/plain':>11} {'check/killed':>12} {'check/nbval':>11}")
    totals = {name: 0.0 for name in contenders}
    for path in arguments.notebooks:
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        for round_number in range(arguments.rounds):
            order = list(contenders.items())
            if round_number % 2:
                order.reverse()
            for name, function in order:
                samples[name].append(function(path))
        median = {name: statistics.median(values) for name, values in samples.items()}
        for name, value in median.items():
            totals[name] += value
        _row(path.name, median)
    _row("all notebooks", totals)
    if not has_nbval:
        print("\nnbval: skipped (not importable; pip install nbval)")
    with tempfile.TemporaryDirectory() as folder:
        explaining(pathlib.Path(folder), arguments.rounds)
    return 0


def _row(name: str, figures: dict[str, float]) -> None:
    nbval_time = figures.get("nbval")
    ratio = "" if nbval_time is None else f"{figures['check'] / nbval_time:.2f}x"
    nbval_text = "" if nbval_time is None else f"{nbval_time:.2f}s"
    print(f"{name:28} {figures['plain']:6.2f}s {figures['killed']:6.2f}s {figures['recorded']:6.2f}s "
          f"{figures['check']:6.2f}s {nbval_text:>7}   {figures['recorded'] / figures['killed']:9.2f}x "
          f"{figures['check'] / figures['plain']:10.2f}x {figures['check'] / figures['killed']:11.2f}x {ratio:>11}")


if __name__ == "__main__":
    sys.exit(main())
