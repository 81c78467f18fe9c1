"""Seed a library the moment it is imported, so the order of imports does not matter.

Once seedmagic has seeded, a ``sys.meta_path`` entry watches the imports of
the libraries whose generators it serves (NumPy, torch, plugins). When one
has been imported it notes the state the library started with (what a scope
puts back when it was imported inside the scope) and seeds it with the seed
due for it, if any. The hook removes itself when every such library is
imported. It runs inside the importing thread while that thread holds the
library's import lock, so seedmagic never waits for an import while holding
its own lock (``adapters.loaded_module``).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .adapters import BUILTIN_NAMES, is_loaded, plugin_failed, registry
from .session import book, lock

if TYPE_CHECKING:
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec
else:  # importing importlib.abc costs milliseconds at %load_ext; the import system only calls the methods
    Loader = object

#: The state each generator had right after its library was imported, before seedmagic seeded it.
fresh_states: dict[str, Any] = {}


def _watched() -> set[str]:
    """Libraries of seedmagic's generators that are not imported yet."""
    return {adapter.module for adapter in registry().values() if adapter.module and not is_loaded(adapter)}


class _SeedAfterExec(Loader):
    """Wraps a library's loader to seed the library the moment it has been imported."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        seed_imported(module.__name__)


class _SeedOnImport:
    """A ``sys.meta_path`` entry that wraps the loader of a watched library."""

    def __init__(self) -> None:
        self.watched: frozenset[str] = frozenset()

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in self.watched:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is None:
                    return None
                spec.loader = _SeedAfterExec(spec.loader)
                return spec
        return None


_hook = _SeedOnImport()


def seed_imported(module: str) -> None:
    """Note the fresh state of a just-imported library's generators, then give them the seeds due."""
    with lock:
        for adapter in registry().values():
            if adapter.module != module:
                continue
            try:
                if not adapter.is_available():
                    continue
                fresh_states[adapter.name] = adapter.get_state()
                if adapter.name in book.seeds:
                    adapter.seed(book.seeds[adapter.name])
            except Exception as error:  # an import must never fail because of seedmagic
                if adapter.name in BUILTIN_NAMES:
                    raise
                plugin_failed(adapter.name, "seed on import", error)
        _hook.watched = frozenset(name for name in _hook.watched if name != module)
        if not _hook.watched:
            remove()


def install() -> None:
    """Watch the imports of the libraries not imported yet (idempotent; nothing to watch, no hook)."""
    _hook.watched = frozenset(_watched())
    if _hook.watched and _hook not in sys.meta_path:
        sys.meta_path.insert(0, _hook)


def remove() -> None:
    """Stop watching imports."""
    while _hook in sys.meta_path:
        sys.meta_path.remove(_hook)


def installed() -> bool:
    return _hook in sys.meta_path
