"""``seedmagic check``: run a notebook twice in fresh kernels and point at the first cell that diverges, and why.

Tools that re-execute notebooks can say that an output differs; this one
says which cell, which generator or value made it differ, shows both
outputs and says what to change. Each notebook runs exactly as written in
two fresh kernels at once (clean environments, different PYTHONHASHSEED);
after every cell a silent probe (``seedmagic.probe``) reads the generators'
states and the plain values' fingerprints. A divergence that no generator
explains may take two more kernels, given the runs' hash seeds, to tell str
hash order from other causes.

The stages, one module each: ``notebooks`` (reading), ``normalise``
(outputs in comparable form), ``kernels`` (running), ``compare`` and
``explain`` (the facts and the rules), ``verdict``, ``record`` and
``report``. nbclient and nbformat are imported only when a check runs.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import time
from collections.abc import Sequence
from contextlib import ExitStack
from functools import partial

from .folders import WorkingCopy
from .kernels import Kernel, choose_kernel, hash_seeds, interruptible, kernel_environment, kill_all
from .model import (ERROR, NOT_REPRODUCIBLE, REPRODUCIBLE, BadInput, CellRun, DiedInOneRun, KernelDied, Options, Result,
                    Run, Stopped)
from .normalise import normalise, normaliser, read_sanitisers, sanitise
from .notebooks import code_cells, notebook_paths, one_line, read_notebook
from .record import RECORD_KEY, compare_record, make_record, write_record
from .report import Progress, bad_input_lines, exit_code, table
from .verdict import needs_hash_order, same_outputs, verdict

__all__ = [
    "ERROR", "NOT_REPRODUCIBLE", "REPRODUCIBLE", "SHARED", "BadInput", "CellRun", "Options", "Progress", "Result",
    "Run", "bad_input_lines", "check", "check_all", "check_notebook", "compare_record", "exit_code",
    "kernel_environment", "make_record", "normalise", "normaliser", "read_sanitisers", "sanitise", "table", "verdict",
    "write_record",
]

async def _runs(kernels: list[Kernel], rerun: bool, progress: Progress, name: str,
                last: int | None = None) -> list[Run]:
    """Run the kernels at once (the second one reruns each cell with ``rerun``); the first failure stops the
    others, and its error is the one raised. Where a kernel died, the others first run up to that cell: a
    kernel that dies in one run only is a notebook that does not reproduce (``DiedInOneRun``)."""
    tasks = [asyncio.ensure_future(k.run(rerun=rerun and i == 1, last=last,
                                         progress=partial(progress.step, name, i))) for i, k in enumerate(kernels)]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        died = next((error for task in tasks if task.done() and isinstance(error := task.exception(), KernelDied)),
                    None)
        if died is not None and not all(task.done() for task in tasks):
            for k in kernels:
                k.finish_at(died.index)
            await asyncio.wait(tasks)
    finally:  # one run failed (or we are interrupted): stop the others at once, and let all clean up
        if not all(task.done() for task in tasks):
            for k in kernels:
                await k.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
    errors = [task.exception() for task in tasks]
    _died_where(name, errors, [None if error else task.result() for task, error in zip(tasks, errors, strict=True)])
    for error in sorted((error for error in errors if error is not None), key=lambda e: isinstance(e, Stopped)):
        raise error
    return [task.result() for task in tasks]


def _died_where(name: str, errors: list[BaseException | None], runs: list[Run | None]) -> None:
    """Where a kernel died in a cell: ``DiedInOneRun`` if another run ran that cell, ``BadInput`` saying
    "in both runs" if every kernel died there; nothing where no kernel died."""
    died = [error for error in errors if isinstance(error, KernelDied)]
    if not died:
        return
    first = min(died, key=lambda error: error.index)
    where = f"the kernel died in cell {first.index} (In [{first.count}])"
    if len(died) == len(errors) and all(error.index == first.index for error in died):
        raise BadInput(f"{name}: {where} in both runs{first.last_words}")
    other = next((cell for run in runs if run is not None for cell in run.cells if cell.index == first.index), None)
    if other is not None:
        survived = f"raised {other.error}" if other.error else "ran to its end"
        raise DiedInOneRun(Result(name, NOT_REPRODUCIBLE, first.index, None, "error",
                                  f"{where} in one run only{first.last_words}; in the other run the cell {survived}",
                                  "find what the crash depends on: memory, threads, a native library, or a value "
                                  "that differs between runs"))


async def check_notebook(path: pathlib.Path, options: Options, progress: Progress | None = None) -> Result:
    """Check one notebook: two fresh kernels at once, the comparison, two more if a divergence needs them."""
    progress = progress or Progress(enabled=False)
    started = time.perf_counter()
    name = str(path)
    try:
        notebook = read_notebook(path)
        kernel = choose_kernel(notebook, options, path)
        progress.start(name, len(code_cells(notebook)), 2)
        seeds = hash_seeds(2)
        shared = False

        async def two_runs(shown: Progress, rerun: bool, last: int | None = None) -> list[Run]:
            """Two fresh kernels, one per ``PYTHONHASHSEED``, each in its own copy of the notebook's folder."""
            nonlocal shared
            with ExitStack() as folders:
                copies = [folders.enter_context(WorkingCopy(path.parent)) for _ in seeds]
                shared = shared or any(copy.shared for copy in copies)
                return await _runs([Kernel(notebook, path, kernel, options, seed, copy)
                                    for seed, copy in zip(seeds, copies, strict=True)], rerun, shown, name, last)

        a, b = await two_runs(progress, options.rerun)
        result = verdict(name, notebook, a, b, options)
        collided = ""
        failed = _raised_alone(result, (a, b))
        if failed is not None:  # the runs ran at once: they may have collided (a fixed port, a file in /tmp)
            progress.say(name, f"cell {result.cell} raised in one run only: that run again, alone")
            with WorkingCopy(path.parent) as copy:
                shared = shared or copy.shared
                alone = await Kernel(notebook, path, kernel, options, seeds[failed], copy).run(
                    rerun=options.rerun and failed == 1)
            runs = (alone, b) if failed == 0 else (a, alone)
            again = verdict(name, notebook, *runs, options)
            if (again.cell, _raised_alone(again, runs)) != (result.cell, failed):
                collided = COLLIDED.format(reason=result.reason)
                (a, b), result = runs, again
        if options.explain and needs_hash_order(result, a, b):
            progress.say(name, f"cell {result.cell} differs with equal generators: two more kernels, with the same "
                               "PYTHONHASHSEED values, tell whether it follows str hash order")
            # neither reruns: with --rerun, a kernel that reran would repeat what the rerun did and pass for hash order
            c, d = await two_runs(Progress(enabled=False), False, last=result.cell)
            assert result.cell is not None
            hash_order = (same_outputs(notebook, a, c, result.cell, options)
                          and same_outputs(notebook, b, d, result.cell, options))
            result = verdict(name, notebook, a, b, options, hash_order=hash_order)
        result = _with_record(path, notebook, result, a, options)
        result.note = "; ".join(filter(None, (result.note, collided, SHARED if shared else "")))
    except DiedInOneRun as found:
        result = found.result
    except BadInput as error:
        result = Result(name, ERROR, reason=str(error).removeprefix(f"{name}: "))
    except Exception as error:  # a kernel that will not start, a broken connection: one line, exit 2
        result = Result(name, ERROR, reason=f"could not run it: {one_line(error)}")
    result.seconds = time.perf_counter() - started
    progress.finish(result)
    return result


#: The note when a cell raised in one run only while both ran at once, and not in that run again alone.
COLLIDED = ("while the two runs ran at the same time, {reason}, and not when that run ran again alone: the runs "
            "collided over something outside the notebook's folder (a fixed port, a file in /tmp), so the notebook "
            "cannot run twice at once")


#: Errors two runs at once can cause each other (a port taken, a file the other removed, made or locked): only
#: these send a run again alone. A lone run that passes proves nothing of an error that comes by chance.
COLLISIONS = re.compile(r"Address already in use|EADDRINUSE|^(?:FileNotFoundError|FileExistsError|BlockingIOError|"
                        r"PermissionError|IsADirectoryError|NotADirectoryError|InterruptedError|ConnectionRefusedError)"
                        r"\b|database is locked|Resource temporarily unavailable|Text file busy")


def _raised_alone(result: Result, runs: tuple[Run, Run]) -> int | None:
    """The run (0 or 1) in which the cell ``result`` blames raised an error two runs at once can cause each other
    (``COLLISIONS``), where it raised in that run only; else None."""
    if result.status != NOT_REPRODUCIBLE or result.cause != "error" or result.cell is None:
        return None
    cells = [next((cell for cell in run.cells if cell.index == result.cell), None) for run in runs]
    raised = [number for number, cell in enumerate(cells) if cell is not None and cell.error is not None
              and not cell.failed_on_rerun and COLLISIONS.search(cell.error)]
    return raised[0] if len(raised) == 1 and all(cell is not None for cell in cells) else None


#: The note when the runs could not each have a copy of the notebook's folder (``folders.WorkingCopy``).
SHARED = ("the two runs shared the notebook's folder (no copy of it could be made beside it): a file one run wrote "
          "was there for the other, which can hide a cell that does not reproduce")


def _with_record(path: pathlib.Path, notebook: object, result: Result, run: Run, options: Options) -> Result:
    """Write the record (--record), or compare with the one the notebook holds."""
    record = getattr(notebook, "metadata", {}).get(RECORD_KEY)
    if not result.reproducible:
        if options.record:
            result.note = "not recorded: the notebook does not reproduce"
        return result
    if options.record:
        write_record(path, make_record(notebook, run))
        result.note = f"recorded the fingerprints of {len(run.cells)} code cells into metadata.{RECORD_KEY}"
        return result
    if record is None:
        return result
    against = compare_record(str(path), notebook, record, run)
    if against.divergence is not None:
        return against.divergence
    result.note = against.note
    return result


def default_jobs() -> int:
    """Notebooks checked at once: each check runs two kernels, so one per two cores."""
    return max(1, (os.cpu_count() or 2) // 2)


async def check_all(paths: Sequence[pathlib.Path], options: Options, progress: Progress | None = None) -> list[Result]:
    """Check ``paths``, ``options.jobs`` at a time; results in the order given."""
    limit = asyncio.Semaphore(options.jobs or default_jobs())

    async def one(path: pathlib.Path) -> Result:
        async with limit:
            return await check_notebook(path, options, progress)

    return list(await asyncio.gather(*(one(path) for path in paths)))


def check(paths: Sequence[str | os.PathLike[str]], options: Options | None = None,
          progress: Progress | None = None) -> list[Result]:
    """Check notebooks (folders are searched for them); the API behind ``seedmagic check``.

    On Ctrl-C every kernel it started is killed before ``KeyboardInterrupt`` goes on.
    """
    found = notebook_paths(str(path) for path in paths)
    try:
        return asyncio.run(interruptible(check_all(found, options or Options(), progress)))
    except KeyboardInterrupt:
        kill_all()
        raise
