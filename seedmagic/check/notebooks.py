"""Reading notebooks: the files named, their cells, and the tags nbval users put on cells."""

from __future__ import annotations

import os
import pathlib
import warnings
from collections.abc import Iterable
from typing import Any

from .model import BadInput

#: Tags (and nbval's comment markers) that nbval users put on cells.
IGNORE_OUTPUT_TAGS = frozenset({"nbval-ignore-output", "ignore-output", "--ignore-output"})
SKIP_TAGS = frozenset({"nbval-skip", "skip-execution"})
RAISES_TAGS = frozenset({"raises-exception", "nbval-raises-exception"})
_COMMENT_MARKERS = {"# NBVAL_IGNORE_OUTPUT": IGNORE_OUTPUT_TAGS, "# NBVAL_SKIP": SKIP_TAGS,
                    "# NBVAL_RAISES_EXCEPTION": RAISES_TAGS}


def read_notebook(path: pathlib.Path) -> Any:
    """The notebook at ``path`` as nbformat 4; anything else is ``BadInput``."""
    import nbformat

    if not path.exists():
        raise BadInput(f"{path}: no such file")
    if path.is_dir():
        raise BadInput(f"{path}: is a folder with no notebooks")
    refuse_special(path)
    try:
        with open(path, encoding="utf-8") as handle, warnings.catch_warnings():
            # a 4.5 notebook without cell ids: nbformat gives the cells ids in memory and warns; the file is untouched
            warnings.filterwarnings("ignore", message="Cell is missing an id field")
            notebook = nbformat.read(handle, as_version=4)
            nbformat.validate(notebook)
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read it ({one_line(error)})") from None
    except Exception as error:  # nbformat's NotJSONError, ValidationError, a missing nbformat key...
        raise BadInput(f"{path}: not a Jupyter notebook ({one_line(error)})") from None
    if not code_cells(notebook):
        raise BadInput(f"{path}: no code cells, nothing to check")
    return notebook


def refuse_special(path: pathlib.Path) -> None:
    """A pipe, a device or a socket is refused before it is opened: opening one can wait for ever."""
    if path.exists() and not path.is_dir() and not path.is_file():
        raise BadInput(f"{path}: not a regular file (a pipe, a device or a socket), not opened")


def notebook_paths(arguments: Iterable[str]) -> list[pathlib.Path]:
    """The notebooks named, folders searched for ``*.ipynb``; missing paths kept to report."""
    paths: list[pathlib.Path] = []
    for argument in arguments:
        path = pathlib.Path(argument)
        paths.extend((_search(path) or [path]) if path.is_dir() else [path])
    return paths


#: Folders a search does not enter, as pytest does not: besides hidden ones (``.git``, ``.ipynb_checkpoints``,
#: ``.venv``, the check's own ``.seedmagic-run-*`` copies) and virtual environments (a ``pyvenv.cfg`` inside).
NOT_SEARCHED = frozenset({"node_modules", "__pycache__", "site-packages", "build", "dist"})


def _search(folder: pathlib.Path) -> list[pathlib.Path]:
    """The notebooks under ``folder``, sorted, hidden ones (an editor's ``.~name.ipynb``) left out; symbolic links to
    folders are not followed."""
    found: list[pathlib.Path] = []
    for root, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".") and name not in NOT_SEARCHED
                      and not os.path.exists(os.path.join(root, name, "pyvenv.cfg"))]
        found += [pathlib.Path(root, name) for name in files if name.endswith(".ipynb") and not name.startswith(".")]
    return sorted(found)


def tags(cell: Any) -> set[str]:
    """The cell's tags, with those nbval's comment markers on its first line imply."""
    found = set(cell.get("metadata", {}).get("tags", []))
    first = cell.source.lstrip().split("\n", 1)[0].strip().upper()
    for marker, implied in _COMMENT_MARKERS.items():
        if first.startswith(marker):
            found |= implied
    return found


def executes(cell: Any) -> bool:
    """Whether "Run All" runs the cell (code, not empty, not tagged to skip)."""
    return cell.cell_type == "code" and bool(cell.source.strip()) and not tags(cell) & SKIP_TAGS


def code_cells(notebook: Any) -> list[int]:
    """Indices (in ``nb.cells``) of the cells a check runs, in order."""
    return [index for index, cell in enumerate(notebook.cells) if executes(cell)]


def one_line(error: Any) -> str:
    """An error (or any text) as one short line; an empty message gives the exception's name."""
    text = str(error).strip()
    if not text:
        return type(error).__name__ if isinstance(error, BaseException) else ""
    return text.splitlines()[0][:200]
