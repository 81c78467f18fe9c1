"""What seedmagic remembers, and snapshots of every generator's full state.

The ``book`` records the seed each generator was last given and the
session seed; a ``Snapshot`` holds both the generators' states and the book
entries, so restoring one puts seedmagic back exactly where it was.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .generators import Adapter, is_loaded, registry

#: Held while generators are seeded, captured or restored, so threads see whole operations.
lock = threading.RLock()


@dataclass
class Book:
    """Seeds given so far: per generator, and the session seed that ``%seed N`` sets."""

    seeds: dict[str, int] = field(default_factory=dict)
    session_seed: int | None = None
    #: Open scopes, innermost last: the seed and the generators each one manages.
    scopes: list[tuple[int, frozenset[str]]] = field(default_factory=list)

    def scope_of(self, name: str) -> int | None:
        """The seed of the innermost open scope that manages ``name``, or None (global)."""
        for scope_seed, names in reversed(self.scopes):
            if name in names:
                return scope_seed
        return None


book = Book()


class _NotLoaded:
    """Marks a generator whose library was not imported when the snapshot was taken."""

    def __repr__(self) -> str:
        return "NOT_LOADED"


NOT_LOADED: Any = _NotLoaded()


@dataclass(frozen=True)
class Entry:
    """One generator in a snapshot: its state and the seed it had last been given."""

    name: str
    state: Any
    seed: int | None


@dataclass(frozen=True)
class Snapshot:
    """The full state of some generators and of seedmagic's book, ready to be put back."""

    entries: tuple[Entry, ...]
    session_seed: int | None

    @property
    def names(self) -> list[str]:
        return [entry.name for entry in self.entries]

    def restore(self) -> None:
        """Put every captured generator back as it was.

        A library imported since the snapshot is re-seeded as it would have
        been had it been imported now: with the seed it was due, or fresh.
        """
        adapters = registry()
        with lock:
            for entry in self.entries:
                adapter = adapters[entry.name]
                if entry.state is not NOT_LOADED:
                    adapter.set_state(entry.state)
                elif is_loaded(adapter) and adapter.is_available():
                    adapter.seed(entry.seed)
                if entry.seed is None:
                    book.seeds.pop(entry.name, None)
                else:
                    book.seeds[entry.name] = entry.seed
            book.session_seed = self.session_seed


def capture(adapters: Iterable[Adapter]) -> Snapshot:
    """Snapshot ``adapters`` without importing anything or initialising a device."""
    with lock:
        entries = tuple(
            Entry(
                adapter.name,
                adapter.get_state() if is_loaded(adapter) and adapter.is_available() else NOT_LOADED,
                book.seeds.get(adapter.name),
            )
            for adapter in adapters
        )
        return Snapshot(entries, book.session_seed)
