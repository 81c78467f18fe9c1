"""Snapshots: the full state of some generators and of seedmagic's book, ready to be put back."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from . import importhook, statefile
from .adapters import (BUILTIN_NAMES, Adapter, Swappable, holder_of, is_loaded, plugin_failed, registry, restored_last,
                       swappable)
from .interrupts import atomic
from .session import SeedError, book, describe, lock, publish


class _NotLoaded:
    """Marks a generator whose library was not imported when the snapshot was taken."""

    def __repr__(self) -> str:
        return "NOT_LOADED"

    def __reduce__(self) -> str:
        return "NOT_LOADED"  # a copy or a pickle is this very marker, which restore looks for by identity


NOT_LOADED: Any = _NotLoaded()


class _DoesNotFit(Exception):
    """A built-in generator refused a state from a file; carries its name out of ``Snapshot._apply``.

    The generator's own error is the cause (``raise ... from error``).
    """

    def __init__(self, generator: str) -> None:
        super().__init__(generator)
        self.generator = generator


class Entry(NamedTuple):
    """One generator in a snapshot: its state and the seed it had last been given."""

    name: str
    state: Any
    seed: int | None
    #: The object the state was read from, where code can swap it (``Swappable``); None otherwise.
    holder: Any = None

    def __reduce__(self) -> tuple[Any, ...]:
        """A copy or a pickle leaves the holder out: a copy of it is not the object code may find there, and
        restoring the copy then puts the state into an object of its kind, as a state from a file."""
        return (Entry, (self.name, self.state, self.seed))


@dataclass(frozen=True)
class Snapshot:
    """The full state of some generators and of seedmagic's book, ready to be put back."""

    entries: tuple[Entry, ...]
    session_seed: int | None
    #: False for a snapshot read from a file: restoring it first saves what it replaces, to roll back.
    trusted: bool = True

    @property
    def names(self) -> list[str]:
        return [entry.name for entry in self.entries]

    @atomic
    def restore(self) -> None:
        """Put every captured generator back as it was.

        A library imported since the snapshot is put where a fresh import
        would be: seeded with the seed it was due, or in the state it came
        with. A plugin that fails is reported and skipped. If a state from a
        file does not fit after all, the generators are put back as they were
        before (see ``RestoredLast`` for the one exception) and ``SeedError`` says why.
        """
        adapters = registry()
        with lock:
            if self.trusted:
                self._apply(adapters)
                return
            # Every built-in's state was rehearsed on a private generator when it was read (``decode``), so
            # nothing here is expected to fail; the rollback copy is the second line. A generator whose
            # state is slow to read (NumPy copies its key into an array word by word, which costs more than
            # the rest of a restore) is put back last and left out of the copy: if its own rehearsed call
            # failed after all, the generators before it are rolled back.
            last = [entry for entry in self.entries if restored_last(adapters[entry.name])][-1:]
            first = [entry for entry in self.entries if not any(entry is other for other in last)]
            ordered = Snapshot((*first, *last), self.session_seed, trusted=False)
            before = capture(adapters[entry.name] for entry in first)
            try:
                ordered._apply(adapters, named=True)
            except Exception as error:
                before._apply(adapters)
                failing, cause = ((error.generator, error.__cause__) if isinstance(error, _DoesNotFit)
                                  else ("a generator", error))
                raise SeedError(f"the state for {failing} does not fit: {statefile.one_line(cause or error)}") from None

    def _apply(self, adapters: dict[str, Adapter], named: bool = False) -> None:
        """Put the states back; ``named``: a built-in's failure comes out as ``_DoesNotFit``, naming it.

        Otherwise a built-in that cannot take its state back (user code swapped NumPy's bit generator) does
        not stop the others: every other generator is put back, then its error is raised as the library
        raised it.
        """
        failed: list[Exception] = []
        for entry in self.entries:
            adapter = adapters[entry.name]
            try:
                _put_back(adapter, entry)
            except Exception as error:
                if entry.name not in BUILTIN_NAMES:
                    plugin_failed(entry.name, "restore its state", error)
                    continue
                if named:
                    raise _DoesNotFit(entry.name) from error
                failed.append(error)
                continue
            if entry.seed is None:
                book.seeds.pop(entry.name, None)
            else:
                book.seeds[entry.name] = entry.seed
        book.session_seed = self.session_seed
        publish()
        if failed:
            raise failed[0]

    def to_data(self, tensors: bool = False) -> dict[str, Any]:
        """The snapshot as plain data (the state-file document); it loads under ``torch.load(weights_only=True)``.

        ``tensors``: torch's states stay tensors (``state_dict``), not lists of bytes (JSON).
        """
        items = [(entry.name, None if entry.state is NOT_LOADED else entry.state, entry.seed)
                 for entry in self.entries]
        return statefile.encode(items, self.session_seed, tensors)

    @classmethod
    def from_data(cls, document: Any, where: str = "the state", noun: str = "seedmagic state") -> Snapshot:
        """Check a document from ``to_data`` (or a file) completely; ``SeedError`` names the first problem."""
        items, session_seed = statefile.decode(document, where, noun)
        entries = tuple(Entry(name, NOT_LOADED if state is None else state, seed) for name, state, seed in items)
        return cls(entries, session_seed, trusted=False)

    def save(self, path: str | os.PathLike[str]) -> pathlib.Path:
        """Write the snapshot as JSON (atomically: a failed write leaves the old file whole); return the path.

        A ``{rank}`` in ``path`` becomes this process's rank, so each rank writes its own file.
        """
        return statefile.write(path, self.to_data())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Snapshot:
        """Read a file written by ``save`` (``{rank}`` as there); anything else is refused with one line."""
        return cls.from_data(statefile.read(path), str(statefile.expand(path)), "seedmagic state file")


def _put_back(adapter: Adapter, entry: Entry) -> None:
    if entry.state is not NOT_LOADED:
        if entry.holder is not None and holder_of(adapter) is not entry.holder:  # code swapped it meanwhile
            cast(Swappable, adapter).reinstate(entry.holder)
        adapter.set_state(entry.state)
    elif is_loaded(adapter) and adapter.is_available():
        fresh = importhook.fresh_states.get(adapter.name)
        if fresh is not None and (entry.seed is None or swappable(adapter)):
            adapter.set_state(fresh)  # as imported: also a bit generator swapped in since goes (``Swappable``)
        if entry.seed is not None:
            adapter.seed(entry.seed)
    elif entry.seed is not None:
        importhook.install()  # not imported here yet (a snapshot from another process): seeded on import


def capture(adapters: Iterable[Adapter]) -> Snapshot:
    """Snapshot ``adapters`` without importing anything or initialising a device.

    A plugin whose state cannot be read is reported and left out; a built-in
    generator whose state cannot be read is a ``SeedError`` (before anything moves).
    """
    with lock:
        entries = []
        for adapter in adapters:
            try:
                loaded = is_loaded(adapter) and adapter.is_available()
                state = adapter.get_state() if loaded else NOT_LOADED
                holder = holder_of(adapter) if loaded else None
            except Exception as error:
                if adapter.name in BUILTIN_NAMES:  # a bit generator swapped into NumPy whose ``state`` raises
                    raise SeedError(f"cannot read the state of {adapter.name} ({describe(error)})") from None
                plugin_failed(adapter.name, "read its state", error)
                continue
            entries.append(Entry(adapter.name, state, book.seeds.get(adapter.name), holder))
        return Snapshot(tuple(entries), book.session_seed)
