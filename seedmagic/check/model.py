"""What the stages of a check hand each other: the options, the runs, the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The verdicts, as the JSON report spells them.
REPRODUCIBLE, NOT_REPRODUCIBLE, ERROR = "reproducible", "not reproducible", "error"


class BadInput(Exception):
    """A notebook that cannot be checked; the message is one line that says why."""


class Stopped(BadInput):
    """A run stopped because the other one failed (the other's error is the one reported)."""


class KernelDied(BadInput):
    """The kernel died while it ran a cell: the other run goes on to that cell, to tell whether it dies there too."""

    def __init__(self, message: str, index: int, count: int, last_words: str = "") -> None:
        super().__init__(message)
        self.index = index
        self.count = count
        #: The kernel's last line on stderr, as ": ..." (or "").
        self.last_words = last_words


class DiedInOneRun(Exception):
    """The kernel died in a cell in one run only: the notebook does not reproduce (``result`` says where)."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.reason)
        self.result = result


@dataclass(frozen=True)
class Options:
    """What ``seedmagic check`` was asked to do (the command line's flags)."""

    rerun: bool = False
    record: bool = False
    kernel: str | None = None
    #: Seconds each cell may take; None for no limit.
    timeout: float | None = 600.0
    #: Seconds a kernel may take to start and answer: generous, since a busy CI runner can take a minute.
    start_timeout: float = 300.0
    #: Notebooks checked at once (each takes two kernels); None: one per two cores.
    jobs: int | None = None
    #: How images compare: "pixels" (decoded content) or "presence" (only that one is there, of which type).
    images: str = "pixels"
    #: The user's own sanitisers, (pattern, replacement) pairs applied to text outputs (nbval's file format).
    sanitisers: tuple[tuple[str, str], ...] = ()
    #: Whether a divergence that no generator explains may be explained with two more kernels (hash order).
    explain: bool = True


@dataclass
class CellRun:
    """One code cell as one run saw it."""

    index: int
    #: The execution count a fresh "Run All" gives it.
    count: int
    #: The outputs of its (first) run, as the kernel sent them.
    outputs: list[Any]
    #: The cell's error ("Name: message") when it raised and was not tagged to.
    error: str | None
    #: What the probe saw after the cell (after its rerun with --rerun); {} when the cell raised.
    probe: dict[str, Any]
    #: Fingerprints of the plain values in the namespace after the cell, by name.
    values: dict[str, str] = field(default_factory=dict)
    #: With --rerun: the probe after the cell's first run.
    first: dict[str, Any] | None = None
    #: With --rerun: the plain values the cell's rerun changed again (it is not safe to run twice).
    rerun_moved: tuple[str, ...] = ()
    #: With --rerun: whether ``error`` came from the rerun (its first run went through).
    failed_on_rerun: bool = False
    #: Whether a later cell updated what it displayed (a display handle's ``update``): ``outputs`` are then the
    #: outputs as the notebook ends, as Jupyter saves them.
    updated: bool = False


@dataclass
class Run:
    """One kernel's run of a notebook."""

    cells: list[CellRun] = field(default_factory=list)
    versions: dict[str, Any] = field(default_factory=dict)
    #: The PYTHONHASHSEED the kernel ran with (None where the kernelspec sets it).
    hash_seed: str | None = None


@dataclass
class Result:
    """The verdict on one notebook."""

    notebook: str
    status: str
    cell: int | None = None
    generator: str | None = None
    #: A short word for the cause: a generator's name, "hash-order", "value", "entropy", "record", "output", ...
    cause: str | None = None
    reason: str = ""
    fix: str = ""
    #: Later cells whose outputs or generators differ too.
    later: tuple[int, ...] = ()
    #: What each run produced in the first divergent cell, shortened: {"first": ..., "second": ...}.
    outputs: dict[str, str] | None = None
    #: Lines of evidence beyond the outputs (states, a diff), shown under the reason.
    evidence: tuple[str, ...] = ()
    note: str = ""
    seconds: float = 0.0
    #: Whether two more kernels, each given one run's PYTHONHASHSEED, could replace this explanation by hash order.
    provisional: bool = field(default=False, compare=False)

    @property
    def reproducible(self) -> bool:
        return self.status == REPRODUCIBLE

    @property
    def exit_code(self) -> int:
        return {REPRODUCIBLE: 0, NOT_REPRODUCIBLE: 1}.get(self.status, 2)

    def to_json(self) -> dict[str, Any]:
        return {"notebook": self.notebook, "reproducible": self.reproducible, "status": self.status,
                "first_divergent_cell": self.cell, "generator": self.generator, "cause": self.cause,
                "reason": self.reason, "fix": self.fix or None, "later_cells": list(self.later),
                "outputs": self.outputs, "note": self.note or None}
