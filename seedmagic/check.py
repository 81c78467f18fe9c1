"""``seedmagic check``: run a notebook twice in fresh kernels and point at the first cell whose randomness diverges.

Tools that re-execute notebooks can say that an output differs; this one
says which generator made it differ and where. Each notebook runs in two
fresh kernels at once, with seedmagic loaded through a silent request;
after every cell a silent probe (``seedmagic.probe``) reports which global
generators the cell advanced, every generator's fingerprint, the seeds in
force and the generators the user holds. The notebook reproduces when both
runs give the same outputs (normalised as nbval does) and the same
generator states after every cell; otherwise the first cell that drew from
a generator whose state differed between the runs, or whose outputs differ,
is reported with the strongest evidence found for it and what to add.

``--rerun`` reruns every cell right after its first run in the second
kernel, as a person editing the notebook does; ``--record`` writes the
fingerprints and library versions into ``metadata.seedmagic`` for a later
check on another machine to compare with. nbclient and nbformat are
imported only when a check runs.
"""

from __future__ import annotations

import ast
import asyncio
import copy
import json
import os
import pathlib
import re
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

#: Tags (and nbval's comment markers) that nbval users put on cells.
IGNORE_OUTPUT_TAGS = frozenset({"nbval-ignore-output", "ignore-output", "--ignore-output"})
SKIP_TAGS = frozenset({"nbval-skip", "skip-execution"})
RAISES_TAGS = frozenset({"raises-exception", "nbval-raises-exception"})
_COMMENT_MARKERS = {"# NBVAL_IGNORE_OUTPUT": IGNORE_OUTPUT_TAGS, "# NBVAL_SKIP": SKIP_TAGS,
                    "# NBVAL_RAISES_EXCEPTION": RAISES_TAGS}

#: The key of the record in the notebook's metadata, and its format version.
RECORD_KEY = "seedmagic"
RECORD_FORMAT = 1

#: Which library decides each generator's stream, for the record's version comparison.
LIBRARY_OF = {"random": "python", "numpy": "numpy", "torch": "torch", "torch.cuda": "cuda", "torch.mps": "torch",
              "RandomState": "numpy", "numpy.Generator": "numpy", "torch.Generator": "torch"}
VERSION_NOTES = {
    "numpy": "NumPy does not promise the same stream across versions",
    "torch": "PyTorch does not promise the same stream across releases",
    "python": "Python keeps random.random() stable, but not every method (randrange, choice, shuffle have changed)",
    "cuda": "CUDA kernels may draw and round differently between versions",
    "cudnn": "cuDNN kernels may draw and round differently between versions",
    "machine": "some kernels draw and round differently on another processor",
}
#: How to seed each kind of generator a user creates.
SEEDED_FORM = {"numpy.Generator": "np.random.default_rng(N)", "RandomState": "np.random.RandomState(N)",
               "torch.Generator": "torch.Generator().manual_seed(N)", "random": "random.Random(N)"}
UNSEEDED_FIX = "add `%seed N` above it (or at the top of the notebook), or run the cell under `%%seeded N`"


class BadInput(Exception):
    """A notebook that cannot be checked; the message is one line that says why."""


class _Stopped(BadInput):
    """A run stopped because the other one failed (the other's error is the one reported)."""


@dataclass(frozen=True)
class Options:
    """What ``seedmagic check`` was asked to do (the command line's flags)."""

    rerun: bool = False
    record: bool = False
    kernel: str | None = None
    #: Seconds each cell may take; None for no limit.
    timeout: float | None = 600.0
    #: Notebooks checked at once (each takes two kernels); None: one per two cores.
    jobs: int | None = None


@dataclass
class Result:
    """The verdict on one notebook."""

    notebook: str
    #: "reproducible", "divergent" or "bad" (bad input: it could not be checked).
    status: str
    cell: int | None = None
    generator: str | None = None
    reason: str = ""
    fix: str = ""
    #: Later cells that differ too, and cells whose rerun shifts later draws.
    later: tuple[int, ...] = ()
    note: str = ""
    seconds: float = 0.0

    @property
    def reproducible(self) -> bool:
        return self.status == "reproducible"

    @property
    def exit_code(self) -> int:
        return {"reproducible": 0, "divergent": 1}.get(self.status, 2)

    def to_json(self) -> dict[str, Any]:
        return {"notebook": self.notebook, "reproducible": self.reproducible, "first_divergent_cell": self.cell,
                "generator": self.generator, "reason": self.reason}


# Reading notebooks --------------------------------------------------------------


def read_notebook(path: pathlib.Path) -> Any:
    """The notebook at ``path`` as nbformat 4; anything else is ``BadInput``."""
    import nbformat

    if not path.exists():
        raise BadInput(f"{path}: no such file")
    if path.is_dir():
        raise BadInput(f"{path}: is a folder with no notebooks")
    try:
        with open(path, encoding="utf-8") as handle:
            notebook = nbformat.read(handle, as_version=4)
        nbformat.validate(notebook)
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read it ({_one_line(error)})") from None
    except Exception as error:  # nbformat's NotJSONError, ValidationError, a missing nbformat key...
        raise BadInput(f"{path}: not a Jupyter notebook ({_one_line(error)})") from None
    if not any(cell.cell_type == "code" and cell.source.strip() for cell in notebook.cells):
        raise BadInput(f"{path}: no code cells, nothing to check")
    return notebook


def notebook_paths(arguments: Iterable[str]) -> list[pathlib.Path]:
    """The notebooks named, folders searched for ``*.ipynb`` (checkpoints skipped); missing paths kept to report."""
    paths: list[pathlib.Path] = []
    for argument in arguments:
        path = pathlib.Path(argument)
        if path.is_dir():
            found = sorted(item for item in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in item.parts)
            paths.extend(found or [path])
        else:
            paths.append(path)
    return paths


def _tags(cell: Any) -> set[str]:
    tags = set(cell.get("metadata", {}).get("tags", []))
    first = cell.source.lstrip().split("\n", 1)[0].strip().upper()
    for marker, implied in _COMMENT_MARKERS.items():
        if first.startswith(marker):
            tags |= implied
    return tags


def _executes(cell: Any) -> bool:
    return cell.cell_type == "code" and bool(cell.source.strip()) and not _tags(cell) & SKIP_TAGS


# Outputs, normalised as nbval users expect ---------------------------------------------

#: Object addresses in reprs (``<Foo object at 0x7f3a...>``, closed by ``>``); other hexadecimal text is data.
_ADDRESS = re.compile(r"(?<=\bat )0x[0-9a-fA-F]{6,}(?=>)")
#: Timings IPython and tqdm print themselves; a time a cell prints on its own is an output like any other.
_TIMINGS = (
    re.compile(r"^(CPU times|Wall time):.*$", re.MULTILINE),
    re.compile(r"[\d.]+ ?(ns|µs|μs|us|ms|s) (±|\+-) [\d.]+ ?(ns|µs|μs|us|ms|s) per loop.*$", re.MULTILINE),
    re.compile(r"^The slowest run took [\d.]+ times longer than the fastest\..*$", re.MULTILINE),  # %timeit
    re.compile(r"\b\d+(\.\d+)? ?[kMGTP]?(it|B|b|[A-Za-z]+)/s\b|\b\d+(\.\d+)? ?s/it\b"),  # tqdm's rates
    re.compile(r"\d+:\d\d<(\d+:\d\d|\?)"),  # tqdm's elapsed<remaining
)
#: A progress bar redraws its line after a carriage return: only the last drawing counts.
_REDRAWN = re.compile(r"[^\n]*\r(?!\n)")
_IMAGE = re.compile(r"^(image|video|audio)/")
_WIDGET = "application/vnd.jupyter.widget-view+json"


def sanitise(text: str) -> str:
    """Memory addresses and timings out, as nbval's usual sanitisers do."""
    text = _REDRAWN.sub("", text)
    text = _ADDRESS.sub("0xADDRESS", text)
    for pattern in _TIMINGS:
        text = pattern.sub("<time>", text)
    return text


def normalise(outputs: Sequence[Any]) -> list[Any]:
    """Outputs in comparable form: streams joined and sanitised, counts and tracebacks dropped.

    Widgets compare by presence (their model ids are fresh in every
    kernel), images by presence and type (encoders may stamp them).
    """
    result: list[Any] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            if result and result[-1][0] == "stream" and result[-1][1] == output.get("name"):
                result[-1] = ("stream", output.get("name"), result[-1][2] + output.get("text", ""))
            else:
                result.append(("stream", output.get("name"), output.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            data = {}
            for mime, value in sorted(output.get("data", {}).items()):
                if mime == _WIDGET or _IMAGE.match(mime):
                    data[mime] = "<present>"
                else:
                    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                    data[mime] = sanitise(text)
            result.append(("data", data))
        elif kind == "error":
            result.append(("error", output.get("ename", ""), sanitise(str(output.get("evalue", "")))))
    return [("stream", item[1], sanitise(item[2])) if item[0] == "stream" else item for item in result]


def _error_of(outputs: Sequence[Any]) -> str | None:
    for output in outputs:
        if output.get("output_type") == "error":
            return f"{output.get('ename', 'Error')}: {_one_line(output.get('evalue', ''))}".rstrip(": ")
    return None


# Running a notebook in a kernel -----------------------------------------------------------

_SETUP = "__import__('seedmagic.probe').probe.start(get_ipython())"
_TAKE = "__import__('seedmagic.probe').probe.take()"
_VERSIONS = "__import__('seedmagic.probe').probe.versions()"


@dataclass
class CellRun:
    """One code cell as one run saw it."""

    index: int
    #: The execution count a fresh "Run All" gives it.
    count: int
    outputs: list[Any]
    #: The cell's error ("Name: message") when it raised and was not tagged to.
    error: str | None
    probe: dict[str, Any]
    #: With --rerun: the probe after the cell's first run (``probe`` is after the rerun).
    first: dict[str, Any] | None = None


@dataclass
class Run:
    cells: list[CellRun] = field(default_factory=list)
    versions: dict[str, Any] = field(default_factory=dict)


def kernel_environment() -> dict[str, str]:
    """The kernel's environment: this one, plus this seedmagic's folder when it runs from a source tree.

    An installed seedmagic is found by the kernel's Python as any package
    is; one run from a checkout is put first on the kernel's path, so the
    kernel records with the same seedmagic that compares.
    """
    import seedmagic

    env = dict(os.environ)
    root = pathlib.Path(seedmagic.__file__).resolve().parent.parent
    if root.name not in ("site-packages", "dist-packages"):
        parts = [part for part in env.get("PYTHONPATH", "").split(os.pathsep) if part]
        if str(root) not in parts:
            env["PYTHONPATH"] = os.pathsep.join([str(root), *parts])
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # ipykernel's debugger warning, on stderr only
    return env


def _check_kernel(notebook: Any, options: Options, path: pathlib.Path) -> str:
    """The kernel to run, refused at once if it is not installed here."""
    from jupyter_client.kernelspec import KernelSpecManager

    name = options.kernel or notebook.metadata.get("kernelspec", {}).get("name") or "python3"
    installed = KernelSpecManager().find_kernel_specs()
    if name not in installed:
        where = "--kernel" if options.kernel else "the notebook's metadata"
        raise BadInput(f"{path}: no kernel named {name!r} is installed (named by {where}; installed: "
                       f"{', '.join(sorted(installed)) or 'none'}); pass --kernel NAME")
    return name


class _Kernel:
    """One fresh kernel running the notebook's cells, with silent requests in between."""

    def __init__(self, notebook: Any, path: pathlib.Path, kernel: str, options: Options) -> None:
        from nbclient import NotebookClient

        self.path = path
        self.options = options
        self.client = NotebookClient(
            copy.deepcopy(notebook), timeout=options.timeout, kernel_name=kernel, allow_errors=True,
            shutdown_kernel="immediate",
            resources={"metadata": {"path": str(path.parent)}},
        )
        #: The kernel process's own stdout and stderr (not the cells'), kept out of the report.
        self.log = tempfile.TemporaryFile()
        self.stopped = False

    async def stop(self) -> None:
        """End the run early: no further cell starts, and the running one is interrupted."""
        from jupyter_core.utils import ensure_async

        self.stopped = True
        km = self.client.km
        if km is not None and km.has_kernel:
            try:
                await ensure_async(km.interrupt_kernel())
            except Exception:  # the kernel may be gone already: the run's own clean-up handles that
                pass

    def last_words(self) -> str:
        """The kernel's last line on stderr (its warnings about transport and debugger left out)."""
        self.log.seek(0)
        lines = [line.strip() for line in self.log.read().decode(errors="replace").splitlines()
                 if line.strip() and "WARNING" not in line]
        return f": {lines[-1][:200]}" if lines else ""

    async def silent(self, code: str, expressions: dict[str, str], what: str) -> dict[str, Any]:
        """Run ``code`` silently (no output, history or count) and return ``expressions``' values."""
        from jupyter_core.utils import ensure_async
        from nbformat.v4 import new_code_cell

        kc = self.client.kc
        assert kc is not None
        msg_id = await ensure_async(kc.execute(code, silent=True, store_history=False, user_expressions=expressions,
                                               stop_on_error=False))
        reply = await self.client.async_wait_for_reply(msg_id, new_code_cell(code))
        content = (reply or {}).get("content", {})
        if content.get("status") != "ok":
            message = f"{content.get('ename', 'no reply')}: {_one_line(content.get('evalue', ''))}".rstrip(": ")
            raise BadInput(f"{self.path}: the kernel could not {what} ({message}); is seedmagic installed "
                           f"for the kernel's Python?")
        values = {}
        for key, value in content.get("user_expressions", {}).items():
            if value.get("status") != "ok":
                raise BadInput(f"{self.path}: the kernel could not {what} "
                               f"({value.get('ename')}: {_one_line(value.get('evalue', ''))})")
            values[key] = json.loads(ast.literal_eval(value["data"]["text/plain"]))
        return values

    async def run(self, rerun: bool, progress: Callable[[int], None]) -> Run:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        run = Run()
        client = self.client
        try:
            async with client.async_setup_kernel(env=kernel_environment(), stdout=self.log, stderr=self.log):
                await self.silent(_SETUP, {}, "load seedmagic")
                count = 0
                cells = [(index, cell) for index, cell in enumerate(client.nb.cells) if _executes(cell)]
                for done, (index, cell) in enumerate(cells, 1):
                    if self.stopped:
                        raise _Stopped(f"{self.path}: stopped because the other run failed")
                    count += 1
                    outputs, first, probe, error = None, None, {}, None
                    for attempt in range(2 if rerun else 1):
                        try:
                            await client.async_execute_cell(cell, index, execution_count=count)
                        except CellTimeoutError:
                            raise BadInput(f"{self.path}: cell {index} (In [{count}]) did not finish within "
                                           f"{_seconds(self.options.timeout)} (--timeout)") from None
                        except DeadKernelError:
                            raise BadInput(f"{self.path}: the kernel died in cell {index} (In [{count}])"
                                           f"{self.last_words()}") from None
                        if outputs is None:  # a rerun's own outputs (say, "already loaded") are not compared
                            outputs = normalise(cell.outputs)
                        error = None if _tags(cell) & RAISES_TAGS else _error_of(cell.outputs)
                        if error is not None:
                            break
                        probe = (await self.silent("", {"take": _TAKE}, "record the cell"))["take"]
                        first = probe if attempt == 0 else first
                    run.cells.append(CellRun(index, count, outputs or [], error, {} if error else probe,
                                             first if rerun and error is None else None))
                    if error is not None:
                        break  # as "Run All" stops at an error the cell was not tagged to raise
                    progress(done)
                versions = await self.silent("", {"versions": _VERSIONS}, "read library versions")
                run.versions = versions["versions"]
        finally:
            self.log.close()
        return run


# Comparing two runs ------------------------------------------------------------------------


def _changed_users(before: dict[str, Any], after: dict[str, Any]) -> dict[str, bool]:
    """The user's generators a cell created (True) or advanced (False)."""
    changed = {}
    for name, (kind, state) in after.items():
        old = before.get(name)
        if old is None or old[0] != kind:
            changed[name] = True
        elif old[1] != state:
            changed[name] = False
    return changed


def _rerun_shifts(run: Run) -> dict[int, list[str]]:
    """Cells whose rerun moved a generator (its second run ended in another state than its first)."""
    shifts = {}
    for cell in run.cells:
        if cell.first is None or not cell.probe:
            continue
        moved = [name for name, state in cell.probe["globals"].items() if cell.first["globals"].get(name) != state]
        moved += [name for name, value in cell.probe["users"].items() if cell.first["users"].get(name) != value]
        if moved:
            shifts[cell.index] = moved
    return shifts


@dataclass
class _Difference:
    """What differs between the runs at one cell."""

    cell: CellRun
    other: CellRun
    before: tuple[dict[str, Any], dict[str, Any]]
    generators: list[str]
    users: list[str]
    outputs: bool
    entropy: list[tuple[Any, Any]]

    def __bool__(self) -> bool:
        return bool(self.generators or self.users or self.outputs or self.entropy)


def _difference(a: CellRun, b: CellRun, before: tuple[dict[str, Any], dict[str, Any]],
                ignore_output: bool) -> _Difference:
    pa, pb = a.probe, b.probe
    outputs = (a.outputs != b.outputs and not ignore_output) or a.error != b.error
    if not pa or not pb:
        return _Difference(a, b, before, [], [], outputs or bool(pa) != bool(pb), [])
    touched = set(pa["advanced"]) | set(pb["advanced"])
    generators = sorted(name for name in touched if pa["globals"].get(name) != pb["globals"].get(name))
    users = sorted(set(_changed_users(before[0], pa["users"])) | set(_changed_users(before[1], pb["users"])))
    users = [name for name in users if pa["users"].get(name) != pb["users"].get(name)]
    if b.first is not None:  # a state that differs only by this cell's own rerun shows in the cells after it
        generators = [name for name in generators if b.first["globals"].get(name) != pa["globals"].get(name)]
        users = [name for name in users if b.first["users"].get(name) != pa["users"].get(name)]
    seeds_a = [event for event in pa["events"] if event[3]]
    seeds_b = [event for event in pb["events"] if event[3]]
    entropy = [(x[1], y[1]) for x, y in zip(seeds_a, seeds_b, strict=False) if x[1] != y[1]]
    if len(seeds_a) != len(seeds_b):
        entropy.append((seeds_a[0][1] if seeds_a else None, seeds_b[0][1] if seeds_b else None))
    return _Difference(a, b, before, generators, users, outputs, entropy)


def _label(cell: CellRun) -> str:
    return f"cell {cell.index} (In [{cell.count}])"


def _creation_line(source: str, name: str) -> str | None:
    pattern = re.compile(rf"^\s*(?:[\w\s,]*,\s*)?{re.escape(name)}\s*(?::[^=]+)?=(?!=)")
    for line in source.splitlines():
        if pattern.match(line):
            return line.strip()
    return None


def _explain(difference: _Difference, notebook: Any, shifts: dict[int, list[str]]) -> tuple[str | None, str, str]:
    """The generator, reason and fix for a divergent cell, strongest evidence first."""
    a, b = difference.cell, difference.other
    label = _label(a)
    unseeded = set(a.probe.get("unseeded", [])) | set(b.probe.get("unseeded", []))
    for name in difference.generators:
        if name in unseeded:
            return name, f"{label} drew from {name} while no seed controlled it", UNSEEDED_FIX
    if difference.entropy:
        first, second = difference.entropy[0]
        events = [event for event in a.probe["events"] + b.probe["events"] if event[3]]
        names = events[0][2] if events else []
        seed = first if first is not None else second
        return (names[0] if names else None,
                f"{label} ran under a seed drawn from OS entropy ({first} in one run, {second} in the other): "
                "%%seeded without a seed, and no %seed before it",
                f"give it the seed: `%%seeded {seed}`, or set a session seed with `%seed N` above it")
    for name in difference.users:
        kind = (a.probe["users"].get(name) or b.probe["users"].get(name))[0]
        form = SEEDED_FORM.get(kind, "a seed")
        created = name not in difference.before[0]["users"] or name not in difference.before[1]["users"]
        line = _creation_line(notebook.cells[a.index].source, name) if created else None
        if line is not None and re.search(r"\(\s*\)", line):
            return name, f"{label} created `{line}` without a seed", f"give it a seed: `{form}`"
        if created:
            return (name, f"{label} created `{name}` ({kind}) in a different state in each run: it was seeded "
                    "from OS entropy or from something that changes between runs", f"give it a fixed seed: `{form}`")
        return (name, f"{label} drew from your generator `{name}`, which is in a different state in each run",
                f"create it with a fixed seed: `{form}`")
    for name in difference.generators:
        earlier = [index for index in sorted(shifts) if index <= a.index and name in shifts[index]]
        if earlier and earlier[0] == a.index:
            return (name, f"rerunning {label} draws new numbers from {name}: its first run moved {name}, so its "
                    f"rerun and every later {name} draw give other numbers",
                    "run it under `%%seeded N` (it then gives the same numbers on every rerun)")
        if earlier:
            return (name, f"rerunning cell {earlier[0]} moved {name}, which shifts the draws of {label}",
                    f"run cell {earlier[0]} under `%%seeded N`")
        seeds = (a.probe["seeds"].get(name), b.probe["seeds"].get(name))
        if seeds[0] != seeds[1]:
            return (name, f"{label} drew from {name}, seeded with {seeds[0]} in one run and {seeds[1]} in the "
                    "other", "seed it with a fixed number: `%seed N`")
        return (name, f"{label} drew from {name}, which was seeded ({seeds[0]}) yet is in another state in each "
                "run: something before it drew from it a varying number of times (threads, time, data)",
                "reseed right before it (`%seed N` or `%%seeded N`) and look for draws that vary above it")
    if a.error != b.error:
        happened = a.error or b.error
        return (None, f"{label} raised {happened} in one run only, while every generator it drew from is in the "
                "same state in both", "find what the failure depends on (time, hashing, threads, data)")
    same_everywhere = a.probe.get("globals") == b.probe.get("globals")
    where = ("every generator's state is identical after the cell" if same_everywhere
             else "every generator the cell drew from is in the same state in both runs")
    return (None, f"{label}: outputs differ but {where}: the difference does not come from a global random "
            "generator (time, hashing, threads, data)",
            "pin what it reads (time, hash() of str needs PYTHONHASHSEED, thread timing, input data), or tag the "
            "cell nbval-ignore-output if its output may vary")


def compare(path: str, notebook: Any, a: Run, b: Run, rerun: bool = False) -> Result:
    """The verdict on two runs of ``notebook``: reproducible, or the first divergent cell and why.

    With ``rerun``, ``b`` is the run whose cells were each run twice.
    """
    shifts = _rerun_shifts(b) if rerun else {}
    empty: dict[str, Any] = {"users": {}}
    before = (empty, empty)
    divergent: list[_Difference] = []
    for cell_a, cell_b in zip(a.cells, b.cells, strict=False):
        ignore = bool(_tags(notebook.cells[cell_a.index]) & IGNORE_OUTPUT_TAGS)
        difference = _difference(cell_a, cell_b, before, ignore)
        if difference:
            divergent.append(difference)
        elif cell_a.error is not None and not divergent:
            return Result(path, "bad", None, None,
                          f"{_label(cell_a)} raised {cell_a.error} in both runs; tag the cell raises-exception "
                          "if that is expected")
        before = (cell_a.probe or before[0], cell_b.probe or before[1])
    if len(a.cells) != len(b.cells) and not divergent:
        shorter, longer = sorted((a.cells, b.cells), key=len)
        cell = longer[len(shorter)]
        return Result(path, "divergent", cell.index, None, f"{_label(cell)} ran in one run only",
                      "find what the earlier cells' failure depends on")
    shifting = [index for index in sorted(shifts)
                if any(set(shifts[index]) & (set(cell.probe.get("advanced", [])) | set(cell.probe.get("users", {})))
                       for cell in a.cells if cell.index > index)]
    if not divergent:
        runs = "a fresh run and one that reran every cell" if rerun else "two fresh runs"
        return Result(path, "reproducible",
                      reason=f"{runs} gave identical outputs and generator states after all {len(a.cells)} "
                             "code cells")
    first = divergent[0]
    generator, reason, fix = _explain(first, notebook, shifts)
    later = tuple(difference.cell.index for difference in divergent[1:])
    unnamed = [index for index in shifting if f"cell {index} " not in reason]
    if unnamed:
        reason += f"; cells whose rerun shifts later draws: {', '.join(map(str, shifting))}"
    return Result(path, "divergent", first.cell.index, generator, reason, fix, later)


# The record -----------------------------------------------------------------------------------


def _crc(text: str) -> str:
    return f"{zlib.crc32(text.encode()):08x}"


def make_record(notebook: Any, run: Run) -> dict[str, Any]:
    """Per code cell: its source's checksum and the fingerprints of what it drew from; and the versions."""
    cells = []
    before: dict[str, Any] = {}
    for cell in run.cells:
        draws = {name: cell.probe["globals"][name] for name in cell.probe["advanced"]}
        draws.update({name: cell.probe["users"][name][1] for name in _changed_users(before, cell.probe["users"])})
        before = cell.probe["users"]
        cells.append({"cell": cell.index, "source": _crc(notebook.cells[cell.index].source), "draws": draws})
    return {"format": RECORD_FORMAT, "versions": run.versions, "cells": cells}


def compare_record(path: str, notebook: Any, record: Any, run: Run) -> Result | None:
    """Where this run's draws first differ from the record, and which library version differs; None if nowhere."""
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT or not isinstance(
            record.get("cells"), list):
        return Result(path, "bad", reason=f"metadata.{RECORD_KEY} is not a record this seedmagic can read; "
                                          "write a new one with --record")
    now = make_record(notebook, run)
    then_versions = record.get("versions") or {}
    changed = {name: (then_versions.get(name), version) for name, version in run.versions.items()
               if name != "seedmagic" and then_versions.get(name) != version and then_versions.get(name) is not None}
    kinds = {name: value[0] for cell in run.cells for name, value in cell.probe["users"].items()}
    for old, new in zip(record["cells"], now["cells"], strict=False):
        label = _label(next(cell for cell in run.cells if cell.index == new["cell"]))
        if old.get("cell") != new["cell"] or old.get("source") != new["source"]:
            return Result(path, "divergent", new["cell"], None,
                          f"{label} changed since the record was made: the record no longer describes this notebook",
                          "record it again: seedmagic check --record")
        names = sorted(set(old.get("draws", {})) | set(new["draws"]))
        for name in names:
            if old.get("draws", {}).get(name) == new["draws"].get(name):
                continue
            library = LIBRARY_OF.get(kinds.get(name, name))
            ordered = ([library] if library in changed else []) + [n for n in changed if n != library]
            if ordered:
                versions = "; ".join(f"{n} {changed[n][0]} → {changed[n][1]}: {VERSION_NOTES.get(n, '')}".rstrip(": ")
                                     for n in ordered)
                why = f"{label} drew other numbers from {name} than when the notebook was recorded: {versions}"
                fix = (f"install {ordered[0]} {changed[ordered[0]][0]} to reproduce the record, or record again "
                       "(seedmagic check --record) to accept the new stream")
            else:
                why = (f"{label} drew other numbers from {name} than when the notebook was recorded, with the same "
                       "library versions: the platform or what the notebook reads differs")
                fix = "record again (seedmagic check --record) if the new stream is intended"
            return Result(path, "divergent", new["cell"], name, why, fix)
    if len(record["cells"]) != len(now["cells"]):
        return Result(path, "divergent", None, None,
                      f"the record lists {len(record['cells'])} code cells, the notebook runs {len(now['cells'])}",
                      "record it again: seedmagic check --record")
    return None


def write_record(path: pathlib.Path, record: dict[str, Any]) -> None:
    """Put ``record`` into the notebook's metadata, atomically (a temporary file renamed over it); outputs untouched."""
    import nbformat

    with open(path, encoding="utf-8") as handle:
        notebook = nbformat.read(handle, as_version=4)
    notebook.metadata[RECORD_KEY] = record
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            nbformat.write(notebook, handle)
        os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        pathlib.Path(temporary).unlink(missing_ok=True)
        raise


# Checking notebooks -------------------------------------------------------------------------------


class Progress:
    """A progress bar on stderr while the kernels run (plain lines when stderr is not a terminal)."""

    def __init__(self, stream: Any = None, enabled: bool = True) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.running: dict[str, list[int]] = {}

    def start(self, name: str, cells: int, runs: int) -> None:
        self.running[name] = [0] * runs + [cells]
        if self.enabled and not self.tty:
            print(f"seedmagic check: {name}: {runs} kernels, {cells} code cells", file=self.stream, flush=True)
        self._draw()

    def step(self, name: str, run: int, done: int) -> None:
        self.running[name][run] = done
        self._draw()

    def finish(self, result: Result) -> None:
        self.running.pop(result.notebook, None)
        if self.enabled and not self.tty and result.status != "bad":  # bad input has its own line
            print(f"seedmagic check: {result.notebook}: {result.status} ({result.seconds:.1f} s)", file=self.stream,
                  flush=True)
        elif self.tty:
            self.stream.write("\r\033[K")
            self._draw()

    def _draw(self) -> None:
        if not self.tty or not self.running:
            return
        parts = []
        for name, (*done, total) in self.running.items():
            share = min(done) / total if total else 1.0
            bar = "#" * round(20 * share) + "-" * (20 - round(20 * share))
            parts.append(f"[{bar}] {pathlib.Path(name).name} {min(done)}/{total}")
        self.stream.write("\r\033[K" + "  ".join(parts))
        self.stream.flush()


async def check_notebook(path: pathlib.Path, options: Options, progress: Progress | None = None) -> Result:
    """Check one notebook: two fresh kernels at once, then the comparison (and the record)."""
    progress = progress or Progress(enabled=False)
    started = time.perf_counter()
    name = str(path)
    try:
        notebook = read_notebook(path)
        kernel = _check_kernel(notebook, options, path)
        cells = sum(1 for cell in notebook.cells if _executes(cell))
        progress.start(name, cells, 2)
        kernels = [_Kernel(notebook, path, kernel, options) for _ in range(2)]
        tasks = [asyncio.ensure_future(k.run(rerun=options.rerun and i == 1, progress=partial(progress.step, name, i)))
                 for i, k in enumerate(kernels)]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:  # one run failed (or we are interrupted): stop the other at once, and let both clean up
            if not all(task.done() for task in tasks):
                for k in kernels:
                    await k.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
        errors = [task.exception() for task in tasks]
        for error in sorted((error for error in errors if error is not None), key=lambda e: isinstance(e, _Stopped)):
            raise error
        a, b = [task.result() for task in tasks]
        result = compare(name, notebook, a, b, rerun=options.rerun)
        record = notebook.metadata.get(RECORD_KEY)
        if result.reproducible and options.record:
            write_record(path, make_record(notebook, a))
            result.note = f"recorded the fingerprints of {len(a.cells)} code cells into metadata.{RECORD_KEY}"
        elif result.reproducible and record is not None:
            against = compare_record(name, notebook, record, a)
            if against is None:
                versions = record.get("versions", {})
                made = ", ".join(f"{key} {value}" for key, value in versions.items()
                                 if key in ("python", "numpy", "torch") and value)
                result.note = f"draws match the record made with {made}"
                result.reason += f"; every cell's draws match metadata.{RECORD_KEY}"
            else:
                result = against
        elif options.record:
            result.note = "not recorded: the notebook does not reproduce"
    except BadInput as error:
        result = Result(name, "bad", reason=str(error).removeprefix(f"{name}: "))
    except Exception as error:  # a kernel that will not start, a broken connection: one line, exit 2
        result = Result(name, "bad", reason=f"could not run it: {_one_line(error)}")
    result.seconds = time.perf_counter() - started
    progress.finish(result)
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
    """Check notebooks (folders are searched for them); the API behind ``seedmagic check``."""
    found = notebook_paths(str(path) for path in paths)
    return asyncio.run(check_all(found, options or Options(), progress))


# Reports ------------------------------------------------------------------------------------------------


def table(results: Sequence[Result]) -> str:
    """The short table, then one paragraph per notebook that does not reproduce (bad input has its own line)."""
    results = [result for result in results if result.status != "bad"]
    if not results:
        return ""
    header = ("notebook", "result", "cell", "generator", "time")
    words = {"reproducible": "reproducible", "divergent": "NOT reproducible"}
    rows = [(result.notebook, words[result.status], "-" if result.cell is None else str(result.cell),
             result.generator or "-", f"{result.seconds:.1f} s") for result in results]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    for result in results:
        if result.reproducible and not result.note:
            continue
        lines += ["", result.notebook]
        if not result.reproducible:
            lines.append(f"  {result.reason}")
        if result.fix:
            lines.append(f"  fix: {result.fix}")
        if result.later:
            lines.append(f"  later cells that differ too: {', '.join(map(str, result.later[:12]))}"
                         + (" ..." if len(result.later) > 12 else ""))
        if result.note:
            lines.append(f"  {result.note}")
    return "\n".join(lines)


def bad_input_lines(results: Sequence[Result]) -> list[str]:
    """One line per notebook that could not be checked."""
    return [f"seedmagic check: {result.notebook}: {result.reason}" for result in results if result.status == "bad"]


def exit_code(results: Sequence[Result]) -> int:
    """2 if any notebook could not be checked, else 1 if any does not reproduce, else 0."""
    return max((result.exit_code for result in results), default=2)


def _one_line(error: Any) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:200]


def _seconds(value: float | None) -> str:
    return "no limit" if value is None else f"{value:g} s"
