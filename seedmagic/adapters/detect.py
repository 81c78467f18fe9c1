"""Whether a library is installed and whether it is imported, without importing it or waiting for it.

Adapters never import the library they serve: they reach it through
``sys.modules`` once it has been fully imported, and ``seedmagic.importhook``
seeds it when it is imported.
"""

from __future__ import annotations

import sys
from typing import Any

from ..interrupts import atomic
from .protocol import Adapter

def loaded_module(name: str) -> Any | None:
    """The module if it is fully imported, else None; never imports, never waits for an import.

    A module another thread is importing is already in ``sys.modules``;
    touching it then could deadlock with that import, so it counts as not
    loaded until its import has finished (``__spec__._initializing``, which
    importlib has set since Python 3.4; without it a module counts as loaded).
    """
    module = sys.modules.get(name)
    if module is None or module is _fully_loaded.get(name):  # once whole, a module stays whole
        return module
    if getattr(getattr(module, "__spec__", None), "_initializing", False):
        return None
    _fully_loaded[name] = module
    return module


#: Modules seen fully imported, by name: the same object in ``sys.modules`` needs no second look.
_fully_loaded: dict[str, Any] = {}


def is_loaded(adapter: Adapter) -> bool:
    """Whether the adapter's library is imported, so the generator exists now."""
    return adapter.module is None or loaded_module(adapter.module) is not None


def is_installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (a ``None`` in sys.modules blocks it).

    Searching the path costs more than a whole scope, so the answer is kept
    for as long as ``sys.path`` and the modification times of its folders stay
    the same: a ``%pip install`` (or uninstall) during a session changes them,
    and the next call searches again.
    """
    if module in sys.modules:
        return sys.modules[module] is not None
    signature = _path_signature()
    known = _found.get(module)
    if known is not None and known[0] == signature:
        return known[1]
    found = _findable(module)
    _found[module] = (signature, found)
    return found


#: Per module: the path signature when it was searched for, and whether it was found.
_found: dict[str, tuple[tuple[object, ...], bool]] = {}


def _path_signature() -> tuple[object, ...]:
    """``sys.path`` with the modification time of each folder: what an install changes."""
    import os

    stamps: list[object] = []
    for entry in sys.path:
        try:
            stamps.append(os.stat(entry or ".").st_mtime_ns)
        except (OSError, TypeError, ValueError):
            stamps.append(None)
    return (*sys.path, *stamps)


@atomic
def _findable(module: str) -> bool:
    """Atomic: a ``KeyboardInterrupt`` inside ``find_spec`` can leave Python's import lock held,
    which would hang every later import in other threads."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def absence(adapter: Adapter) -> str | None:
    """Why ``adapter`` cannot be seeded here, or None if it can (now, or once its library is imported)."""
    if is_loaded(adapter):
        return None if adapter.is_available() else f"{adapter.name} is not available here"
    assert adapter.module is not None
    if is_installed(adapter.module):
        return None
    if adapter.module == adapter.name:
        return f"{adapter.name} is not installed"
    return f"{adapter.name} needs {adapter.module}, which is not installed"
