"""Each run in its own copy of the notebook's folder, so that neither sees the files the other writes.

Two kernels run the notebook at once. In one shared folder, a file one run
writes is there for the other: ``%%writefile`` says "Writing" in one run and
"Overwriting" in the other, and a cell that makes its data only when a cache
file is missing runs that code once in two runs, hiding that it does not
reproduce. So each run works in a copy of the folder as it was before either
started, made beside it (``.seedmagic-run-*`` in the same parent folder), so
that paths that climb out of it (``../data``) reach what they reach from the
notebook. The copy goes once its run is over.

Not everything is copied: version-control and environment folders (``.git``,
``.venv``, ``node_modules``, ...) and files over ``BIG_FILE`` are linked (a
symbolic link to the original), and once ``BUDGET`` bytes or ``MAX_FILES``
files are copied the rest is linked too (whole folders, unwalked); caches (``__pycache__``,
``.ipynb_checkpoints``) are left out. A notebook that writes into a linked
file writes into the original, as it would in place. Where no copy can be
made (a read-only parent folder, no symbolic links, folders nested too
deep, a notebook at the file system's root, a folder that cannot be written
into, as a cell in place could not), the runs share the folder as before.

The copy's path is the folder's in what the cells print: a path in an
output, a traceback or a warning reads as it would in place.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import tempfile
from typing import Any

from ..probe import in_place

#: The prefix of a run's copy (and what a copy leaves out, so that copies never hold copies).
PREFIX = ".seedmagic-run-"
#: Folders linked, not copied: version control, environments, tool caches.
LINKED = frozenset({".git", ".hg", ".svn", ".venv", "venv", ".env", "env", "node_modules", ".tox", ".nox",
                    ".mypy_cache", ".pytest_cache", ".ruff_cache"})
#: Folders left out: what Python and Jupyter make again.
LEFT_OUT = frozenset({"__pycache__", ".ipynb_checkpoints"})
#: Files larger than this are linked, not copied.
BIG_FILE = 16 << 20
#: Bytes and files copied at most; beyond, the rest is linked.
BUDGET = 256 << 20
MAX_FILES = 20_000


class WorkingCopy:
    """A copy of ``folder`` for one run, made on entering and removed on leaving (see the module's docstring)."""

    def __init__(self, folder: pathlib.Path) -> None:
        self.folder = folder.resolve()
        #: The folder the run works in: the copy, or ``folder`` itself where no copy could be made.
        self.path = self.folder
        self._copied: pathlib.Path | None = None
        #: Whether the run works in the folder itself where cells can write into it (no copy could be made).
        self.shared = False

    def __enter__(self) -> WorkingCopy:
        if not os.access(self.folder, os.W_OK):  # a writable copy would pass a cell that fails in place
            self.shared = _writable_inside(self.folder)  # a cell may write into a subfolder that is writable
            return self
        self.shared = True
        if self.folder.parent == self.folder:
            return self  # the file system's root: a copy would be of everything
        try:
            self._copied = pathlib.Path(tempfile.mkdtemp(prefix=PREFIX, dir=self.folder.parent))
        except OSError:
            return self
        try:
            _copy(self.folder, self._copied, [BUDGET, MAX_FILES])
        except (OSError, RecursionError):  # no symbolic links, a file that cannot be read, folders nested too deep:
            shutil.rmtree(self._copied, ignore_errors=True)  # the runs share the folder
            self._copied = None
            return self
        except BaseException:  # interrupted while copying: nothing is left behind
            shutil.rmtree(self._copied, ignore_errors=True)
            raise
        self.path = self._copied
        self.shared = False
        return self

    def __exit__(self, *exc: object) -> None:
        if self._copied is not None:
            shutil.rmtree(self._copied, ignore_errors=True)

    @property
    def moved(self) -> tuple[str, str] | None:
        """(the copy's path, the folder's) while the run works in a copy, else None."""
        return None if self.path == self.folder else (str(self.path), str(self.folder))

    def relocate(self, outputs: list[Any]) -> list[Any]:
        """A copy of ``outputs`` with the copy's path written as the folder's (and its name as the folder's name).

        A copy also where the runs share the folder: a display a later cell updates changes the outputs in place.
        """
        moved = self.moved
        if moved is not None:  # the paths as they read in JSON
            moved = (json.dumps(moved[0], ensure_ascii=False)[1:-1], json.dumps(moved[1], ensure_ascii=False)[1:-1])
        relocated: list[Any] = json.loads(in_place(json.dumps(outputs, ensure_ascii=False), moved))
        return relocated

    def relocate_text(self, text: str) -> str:
        """``text`` (an error message) with the copy's path written as the folder's."""
        return in_place(text, self.moved)


def _writable_inside(folder: pathlib.Path, most: int = 2_000) -> bool:
    """Whether a folder inside ``folder`` (among the first ``most``) can be written into."""
    for count, (inside, folders, _) in enumerate(os.walk(folder)):
        folders[:] = [name for name in folders if name not in LEFT_OUT and not name.startswith(PREFIX)]
        if count and os.access(inside, os.W_OK):
            return True
        if count >= most:
            break
    return False


def _copy(source: pathlib.Path, target: pathlib.Path, budget: list[int]) -> None:
    """Copy ``source``'s entries into ``target``, linking what is big or beyond the budget (bytes, files left)."""
    with os.scandir(source) as entries:
        for entry in entries:
            if entry.name in LEFT_OUT or entry.name.startswith(PREFIX):
                continue
            destination = target / entry.name
            if entry.is_symlink():
                os.symlink(os.readlink(entry.path), destination)  # relative links resolve alike: same depth
            elif entry.is_dir(follow_symlinks=False):
                if entry.name in LINKED or budget[0] <= 0 or budget[1] <= 0:  # past the budget: not walked either
                    os.symlink(entry.path, destination, target_is_directory=True)
                else:
                    destination.mkdir()
                    _copy(pathlib.Path(entry.path), destination, budget)
            else:
                size = entry.stat(follow_symlinks=False).st_size
                if not entry.is_file(follow_symlinks=False) or size > BIG_FILE or size > budget[0] or budget[1] <= 0:
                    os.symlink(entry.path, destination)  # a socket or a pipe too: never opened to copy
                else:
                    shutil.copy2(entry.path, destination)
                    budget[0] -= size
                    budget[1] -= 1
