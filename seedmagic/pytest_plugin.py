"""pytest plugin: ``pytest --seedmagic-check notebooks/`` checks each notebook as one test.

A notebook passes when ``seedmagic check`` finds it reproducible; otherwise
the failure says which cell diverged, why and what to add. Registered
through the ``pytest11`` entry point; nothing is imported or collected
unless ``--seedmagic-check`` is given.
"""

from __future__ import annotations

import asyncio
import pathlib
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    from .__main__ import seconds

    group = parser.getgroup("seedmagic", "seedmagic check: reproducible notebooks")
    group.addoption("--seedmagic-check", action="store_true", default=False,
                    help="check every collected .ipynb with seedmagic check (two fresh kernels each)")
    group.addoption("--seedmagic-rerun", action="store_true", default=False,
                    help="also rerun each cell right after its first run, as seedmagic check --rerun")
    group.addoption("--seedmagic-kernel", metavar="NAME", default=None, help="kernel to run the notebooks in")
    group.addoption("--seedmagic-timeout", metavar="S", type=seconds, default=600.0, help="seconds per cell")
    group.addoption("--seedmagic-start-timeout", metavar="S", type=seconds, default=300.0,
                    help="seconds each kernel may take to start")


def pytest_collect_file(file_path: pathlib.Path, parent: pytest.Collector) -> pytest.Collector | None:
    if (parent.config.getoption("seedmagic_check") and file_path.suffix == ".ipynb"
            and ".ipynb_checkpoints" not in file_path.parts):
        return NotebookFile.from_parent(parent, path=file_path)
    return None


class NotebookFile(pytest.File):
    def collect(self) -> list[pytest.Item]:
        return [NotebookCheck.from_parent(self, name="seedmagic-check")]


class NotReproducible(Exception):
    """The check's verdict, shown as the test's failure."""


class NotebookCheck(pytest.Item):
    """One notebook, checked by ``seedmagic check``."""

    def runtest(self) -> None:
        from .check import ERROR, Options, check_notebook
        from .check.kernels import interruptible

        config = self.config
        options = Options(rerun=config.getoption("seedmagic_rerun"), kernel=config.getoption("seedmagic_kernel"),
                          timeout=config.getoption("seedmagic_timeout"),
                          start_timeout=config.getoption("seedmagic_start_timeout"))
        result = asyncio.run(interruptible(check_notebook(self.path, options)))
        if result.status == ERROR:
            raise NotReproducible(f"could not check: {result.reason}" + (f"\nfix: {result.fix}" if result.fix else ""))
        if not result.reproducible:
            lines = [result.reason, *(f"  {line}" for line in result.evidence)]
            if result.fix:
                lines.append(f"fix: {result.fix}")
            if result.later:
                lines.append(f"later cells that differ too: {', '.join(map(str, result.later))}")
            raise NotReproducible("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, NotReproducible):
            return f"{self.path.name}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[pathlib.Path, int | None, str]:
        return self.path, None, f"seedmagic check {self.path.name}"
