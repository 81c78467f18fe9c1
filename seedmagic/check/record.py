"""The record: per code cell, a checksum of its source and fingerprints of what it drew; and the library versions.

``--record`` writes it into ``metadata.seedmagic``; a later check compares
with it. Code cells are identified by their source and their order among
the code cells that run, never by their position in the file: markdown
cells come and go freely. Where a code cell was edited (or added, or
removed), the record is out of date from that cell on, which is said, not
counted as a failure; different draws under an unchanged cell are.
"""

from __future__ import annotations

import json
import pathlib
import zlib
from dataclasses import dataclass
from typing import Any

from ..adapters import KIND_BY_WORD, check_facts
from ..atomicfile import replace_text
from .compare import touched
from .model import NOT_REPRODUCIBLE, BadInput, Result, Run

#: The key of the record in the notebook's metadata, and its format version.
RECORD_KEY = "seedmagic"
RECORD_FORMAT = 1

VERSION_NOTES = {
    "numpy": "NumPy does not promise the same stream across versions",
    "torch": "PyTorch does not promise the same stream across releases",
    "python": "Python keeps random.random() stable, but not every method (randrange, choice, shuffle have changed)",
    "cuda": "CUDA kernels may draw and round differently between versions",
    "cudnn": "cuDNN kernels may draw and round differently between versions",
    "machine": "some kernels draw and round differently on another processor",
}
RECORD_AGAIN = "record again (seedmagic check --record)"


def library_of() -> dict[str, str]:
    """Which library decides each generator's stream, by global name and by user kind, for the version comparison."""
    found = {name: facts.library for name, facts in check_facts().items()}
    found.update({word: kind.facts.library for word, kind in KIND_BY_WORD.items()})
    return found


def checksum(text: str) -> str:
    return f"{zlib.crc32(text.encode('utf-8', 'surrogatepass')):08x}"


def make_record(notebook: Any, run: Run) -> dict[str, Any]:
    """Per code cell: its source's checksum and the fingerprints of what it drew from; and the versions."""
    cells = []
    before: dict[str, Any] | None = None
    for cell in run.cells:
        draws = {}
        for whose, name in sorted(touched(cell.probe, before)):
            draws[name] = cell.probe["globals"][name] if whose == "global" else cell.probe["users"][name][1]
        before = cell.probe
        cells.append({"cell": cell.index, "source": checksum(notebook.cells[cell.index].source), "draws": draws})
    return {"format": RECORD_FORMAT, "versions": run.versions, "cells": cells}


def problem(record: Any) -> str | None:
    """What makes ``record`` unreadable, in a few words; None for a record this seedmagic reads."""
    if not isinstance(record, dict):
        return "it is not an object"
    if record.get("format") != RECORD_FORMAT:
        return f"its format is {record.get('format')!r}, not {RECORD_FORMAT}"
    versions = record.get("versions", {})
    if not isinstance(versions, dict) or not all(isinstance(value, str) or value is None
                                                  for value in versions.values()):
        return "its versions are not names and version strings"
    if not isinstance(record.get("cells"), list):
        return "it has no list of cells"
    for number, cell in enumerate(record["cells"]):
        draws = cell.get("draws") if isinstance(cell, dict) else None
        if isinstance(cell, dict) and "cell" in cell and (type(cell["cell"]) is not int or cell["cell"] < 0):
            return f"cells[{number}] names no cell"
        if not isinstance(cell.get("source") if isinstance(cell, dict) else None, str) or not isinstance(
                draws, dict) or not all(isinstance(value, str) for value in draws.values()):
            return f"cells[{number}] is not a cell's checksum and draws"
    return None


@dataclass
class RecordCheck:
    """How this run compares with the record: a divergence, or a note for a reproducible check."""

    divergence: Result | None
    note: str


def compare_record(path: str, notebook: Any, record: Any, run: Run) -> RecordCheck:
    """Where this run's draws first differ from the record, and which library version differs."""
    wrong = problem(record)
    if wrong is not None:
        raise BadInput(f"{path}: metadata.{RECORD_KEY} is not a record this seedmagic can read ({wrong}); "
                       "write a new one with --record")
    now = make_record(notebook, run)
    then_versions = record.get("versions") or {}
    changed = {name: (then_versions.get(name), version) for name, version in run.versions.items()
               if name != "seedmagic" and then_versions.get(name) != version and then_versions.get(name) is not None}
    kinds = {name: value[0] for cell in run.cells for name, value in cell.probe.get("users", {}).items()}
    for cell, old, new in zip(run.cells, record["cells"], now["cells"], strict=False):
        label = f"cell {cell.index} (In [{cell.count}])"
        if old["source"] != new["source"]:
            before = "the cells before it draw as recorded; " if cell is not run.cells[0] else ""
            return RecordCheck(None, f"the record is out of date from {label} on (the cell changed since it was "
                                     f"recorded); {before}{RECORD_AGAIN}")
        old_draws = old["draws"]
        for name in sorted(set(old_draws) | set(new["draws"])):
            if old_draws.get(name) == new["draws"].get(name):
                continue
            library = library_of().get(kinds.get(name, name))
            ordered = ([library] if library in changed else []) + [n for n in changed if n != library]
            if ordered:
                versions = "; ".join(f"{n} {changed[n][0]} → {changed[n][1]}: {VERSION_NOTES.get(n, '')}".rstrip(": ")
                                     for n in ordered)
                why = f"{label} drew other numbers from {name} than when the notebook was recorded: {versions}"
                fix = (f"install {ordered[0]} {changed[ordered[0]][0]} to reproduce the record, or {RECORD_AGAIN} "
                       "to accept the new stream")
            else:
                why = (f"{label} drew other numbers from {name} than when the notebook was recorded, with the same "
                       "library versions: the platform or what the notebook reads differs")
                fix = f"{RECORD_AGAIN} if the new stream is intended"
            return RecordCheck(Result(path, NOT_REPRODUCIBLE, cell.index, name, "record", why, fix), "")
    if len(record["cells"]) != len(now["cells"]):
        return RecordCheck(None, f"the record lists {len(record['cells'])} code cells, the notebook runs "
                                 f"{len(now['cells'])}: out of date after the last cell they share; {RECORD_AGAIN}")
    versions = ", ".join(f"{key} {value}" for key, value in then_versions.items()
                         if key in ("python", "numpy", "torch") and value)
    return RecordCheck(None, f"every cell's draws match metadata.{RECORD_KEY}" + (f", made with {versions}"
                                                                                  if versions else ""))


def write_record(path: pathlib.Path, record: dict[str, Any]) -> None:
    """Put ``record`` into the notebook's metadata, atomically, through a symbolic link.

    The file's JSON is edited as it is, not through nbformat, so that cells,
    outputs and the absence of cell ids stay exactly as they were (nbformat
    would give a 4.5 notebook's cells new random ids); the layout is
    nbformat's own (sorted keys, one space of indent).
    """
    with open(path, encoding="utf-8") as handle:
        notebook = json.load(handle)
    notebook.setdefault("metadata", {})[RECORD_KEY] = record
    text = json.dumps(notebook, indent=1, sort_keys=True, separators=(",", ": "), ensure_ascii=False)
    replace_text(path, text + "\n")
