"""The entry points of one group, read straight from the installed distributions' metadata folders.

``importlib.metadata.entry_points`` costs more than the rest of
``%load_ext seedmagic`` together: importing it pulls in ``email``,
``zipfile`` and ``csv``, and it builds an object per entry point of every
installed distribution. Plugins only need the names and values of one group,
so this module lists the ``*.dist-info`` and ``*.egg-info`` folders on
``sys.path`` and reads their ``entry_points.txt`` itself, with
importlib.metadata's rules: ``sys.path`` in order, the distributions of one
folder grouped by normalised name in the order the folder lists them, the
first distribution of a name wins (whether it has entry points or not).

Where those rules need a distribution's metadata file (a zip file on the
path, an old ``.egg`` folder, an extension in odd case) or another finder on
``sys.meta_path`` lists distributions, importlib.metadata itself answers.
One thing differs on purpose: a line importlib.metadata cannot parse (no
``=``) makes it raise for every group; here that line is left out.
"""

from __future__ import annotations

import os
import re
import sys
from importlib.machinery import PathFinder
from typing import Any

_INFO_SUFFIXES = (".dist-info", ".egg-info")

#: What ``importlib.metadata.EntryPoint.load`` accepts: ``module``, ``module:attr.attr``, extras after it.
_VALUE = r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$"


def entry_points(group: str) -> list[tuple[str, str]]:
    """``(name, value)`` of each entry point in ``group``, in the order importlib.metadata lists them."""
    found = scan(group)
    if found is None:
        from importlib.metadata import entry_points as listed

        return [(point.name, point.value) for point in listed(group=group)]
    return found


def scan(group: str) -> list[tuple[str, str]] | None:
    """The fast path of ``entry_points``; None where only importlib.metadata can tell."""
    if any(finder is not PathFinder and getattr(finder, "find_distributions", None) is not None
           for finder in sys.meta_path):
        return None
    seen: set[str] = set()
    found: list[tuple[str, str]] = []
    for entry in sys.path:
        if not isinstance(entry, str):
            return None
        infos = _infos(entry)
        if infos is None:
            return None
        for name, folders in infos.items():
            if name not in seen:
                seen.add(name)
                found += _read(os.path.join(entry, folders[0], "entry_points.txt"), group)
    return found


def _infos(entry: str) -> dict[str, list[str]] | None:
    """The metadata folders in one ``sys.path`` entry by normalised name; None where importlib.metadata must look."""
    try:
        children = os.listdir(entry or ".")
    except Exception:  # not a folder: importlib.metadata then tries it as a zip file
        return None if os.path.isfile(entry) else {}
    base_is_egg = os.path.basename(entry).lower().endswith(".egg")
    infos: dict[str, list[str]] = {}
    for child in children:
        low = child.lower()
        if low.endswith(_INFO_SUFFIXES):
            stem, suffix = os.path.splitext(child)
            if suffix not in _INFO_SUFFIXES or not stem.partition("-")[0]:
                return None  # importlib.metadata names this one from its metadata file
            infos.setdefault(_normalize(stem.partition("-")[0]), []).append(child)
        elif base_is_egg and low == "egg-info":
            return None
    return infos


def _normalize(name: str) -> str:
    """PEP 503 normalisation with underscores, as importlib.metadata compares distribution names."""
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def _read(path: str, group: str) -> list[tuple[str, str]]:
    """The group's entries in one ``entry_points.txt``; nothing for a file that is missing or cannot be read."""
    if not os.access(path, os.R_OK):  # most distributions declare no entry points: no exception to raise
        return []
    try:
        with open(path, "rb") as file:  # bytes: most files never name the group, and need no decoding
            data = file.read()
        if group.encode() not in data:  # the section's header holds the group's name
            return []
        text = data.decode()
    except (OSError, UnicodeError, ValueError):
        return []
    points: list[tuple[str, str]] = []
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
        elif section == group:
            name, equals, value = line.partition("=")
            if equals:
                points.append((name.strip(), value.strip()))
    return points


def load(value: str) -> Any:
    """The object an entry point's value names, imported as ``importlib.metadata.EntryPoint.load`` does."""
    import importlib

    match = re.match(_VALUE, value)
    if match is None:
        raise ValueError(f"{value!r} is not of the form module:attribute")
    loaded: Any = importlib.import_module(match.group("module"))
    for attribute in filter(None, (match.group("attr") or "").split(".")):
        loaded = getattr(loaded, attribute)
    return loaded
