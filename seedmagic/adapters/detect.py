"""Whether a library is installed and whether it is imported, without importing it or waiting for it.

Adapters never import the library they serve: they reach it through
``sys.modules`` once it has been fully imported, and ``seedmagic.importhook``
seeds it when it is imported.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from ..interrupts import atomic
from ..session import describe
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
    while ``sys.path`` stays the same and: for a library found, the file it
    was found at is still there (an uninstall removes it); for one not found,
    the modification times of the path's folders stay the same (a ``%pip
    install`` into any of them changes its folder's), and for both while the
    working folder is the same. A changed answer is searched for again at
    the next call.
    """
    if module in sys.modules:
        return sys.modules[module] is not None
    path = (_working_folder(), *sys.path)  # a relative entry ('', the folder a notebook runs in) follows it
    known = _found.get(module)
    if known is not None and known[0] == path:
        _, where, stamps = known
        if os.path.exists(where) if where else stamps == _path_stamps():
            return where is not None
    where = _location(module)
    _found[module] = (path, where, None if where else _path_stamps())
    return where is not None


#: Per module: the working folder and ``sys.path`` when it was searched for, the file it was found at (None: not
#: found; "": found without one on disk) and, without a file, the modification times of the path's folders then.
_found: dict[str, tuple[tuple[object, ...], str | None, tuple[object, ...] | None]] = {}


def _working_folder() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # removed meanwhile
        return None


def _path_stamps() -> tuple[object, ...]:
    """The modification time of each folder on ``sys.path``: what an install changes."""
    stamps: list[object] = []
    for entry in sys.path:
        try:
            stamps.append(os.stat(entry or ".").st_mtime_ns)
        except (OSError, TypeError, ValueError):
            stamps.append(None)
    return tuple(stamps)


@atomic
def _location(module: str) -> str | None:
    """Where ``module`` would be imported from: its file, "" where it has none on disk to watch (a namespace
    package, a module in a zip), None where it cannot be imported.

    Atomic: a ``KeyboardInterrupt`` inside ``find_spec`` can leave Python's import lock held,
    which would hang every later import in other threads."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    return spec.origin if spec.has_location and spec.origin and os.path.isfile(spec.origin) else ""


def absence(adapter: Adapter, installed: Callable[[str], bool] = is_installed) -> str | None:
    """Why ``adapter`` cannot be seeded here, or None if it can (now, or once its library is imported)."""
    if is_loaded(adapter):
        try:
            available = adapter.is_available()
        except Exception as error:  # a module that is not the library it is named after (an empty folder "torch")
            return f"{adapter.name} is not available here ({describe(error)})"
        return None if available else f"{adapter.name} is not available here"
    assert adapter.module is not None
    if installed(adapter.module):
        return None
    if adapter.module == adapter.name:
        return f"{adapter.name} is not installed"
    return f"{adapter.name} needs {adapter.module}, which is not installed"


def present(adapters: Iterable[Adapter]) -> list[Adapter]:
    """The ``adapters`` that can be seeded here; a library several of them share (torch and its devices) is looked
    for once."""
    searched: dict[str, bool] = {}

    def installed(module: str) -> bool:
        if module not in searched:
            searched[module] = is_installed(module)
        return searched[module]

    return [adapter for adapter in adapters if absence(adapter, installed) is None]
