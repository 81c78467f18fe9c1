"""What seedmagic remembers: the seeds given so far, the open scopes, the history, and who is seeding.

This module imports nothing of seedmagic at run time (the snapshot and
switch types below are named for the type checker only). The ``book`` holds the seed each
generator was last given, the session seed and the open scopes; the
``history`` holds every seeding; ``seeding_as`` says which magic (and which
notebook cell) the seedings in a block come from. The ``lock`` makes every
seedmagic operation whole with respect to other threads.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .determinism import Switches
    from .events import Event
    from .snapshots import Entry, Snapshot


class SeedError(ValueError):
    """Bad input to seedmagic; the message is one line that says what is allowed."""


def describe(error: BaseException) -> str:
    """``Type: message`` on one short line, even for an exception whose ``str`` raises."""
    try:
        message = str(error).strip().splitlines()[0][:100] if str(error).strip() else ""
    except Exception:
        message = ""
    name = type(error).__name__
    return f"{name}: {message}" if message else name


def short(value: object) -> str:
    """``repr`` cut to one short line (a 5000-digit number, whose ``repr`` Python refuses, or a huge string stays
    readable)."""
    try:
        text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else "a number far too large"
    except Exception:
        text = f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."


#: Held while generators are seeded, captured or restored, so threads see whole operations.
#: Never held while importing or waiting for an import (see ``adapters.is_loaded``).
lock = threading.RLock()

#: The environment variable through which child processes learn the seed in force.
SEED_VARIABLE = "SEEDMAGIC_SEED"


# OpenScope, Overlap and Book are plain classes, not dataclasses: they are compared by identity and never
# shown, and making a dataclass costs a millisecond of every ``%load_ext seedmagic``.


class OpenScope:
    """One open scope as the book sees it: its seed, the generators it manages, what it puts back."""

    def __init__(self, seed: int, names: tuple[str, ...], saved: Snapshot, switches: Switches | None = None,
                 thread: int = 0) -> None:
        self.seed = seed
        self.names = names
        #: The snapshot taken on entry (a ``Snapshot``), and torch's determinism switches then, if it set them.
        self.saved = saved
        self.switches = switches
        #: The thread that entered it (only that thread leaves it).
        self.thread = thread


class Overlap:
    """Scopes that did not nest: one closed while a scope opened after it was still open.

    Every scope open then, or opened since, joins it; none restores on its
    own. When the last of them closes, each generator goes back to its state
    before the first of them that managed it, and torch's switches to what
    they were before the first of them that changed them.
    """

    def __init__(self, oldest_seed: int) -> None:
        self.oldest_seed = oldest_seed
        #: Per generator, the oldest member's snapshot entry (a ``snapshots.Entry``).
        self.entries: dict[str, Entry] = {}
        self.session_seed: int | None = None
        self.switches: Switches | None = None
        self.members = 0

    def join(self, scope: OpenScope) -> None:
        """Add a scope (oldest first): what it saved counts where no older member saved it."""
        if self.members == 0:
            self.session_seed = scope.saved.session_seed
        self.members += 1
        for entry in scope.saved.entries:
            self.entries.setdefault(entry.name, entry)
        if self.switches is None:
            self.switches = scope.switches


class Book:
    """Seeds given so far: per generator, and the session seed that ``%seed N`` sets."""

    def __init__(self) -> None:
        self.seeds: dict[str, int] = {}
        self.session_seed: int | None = None
        #: Open scopes, innermost last.
        self.scopes: list[OpenScope] = []
        #: Set while scopes that did not nest are still open.
        self.overlap: Overlap | None = None

    def scope_of(self, name: str) -> int | None:
        """The seed of the innermost open scope that manages ``name``, or None (global)."""
        for scope in reversed(self.scopes):
            if name in scope.names:
                return scope.seed
        return None

    def active_seed(self) -> int | None:
        """The innermost scope's seed, else the session seed."""
        return self.scopes[-1].seed if self.scopes else self.session_seed


book = Book()

#: The scopes entered in this context (an asyncio task, a thread) and not left yet, oldest first.
open_here: ContextVar[tuple[OpenScope, ...]] = ContextVar("seedmagic_open_here", default=())


#: What the environment held before this process first published (a seed inherited from a parent).
_inherited: list[str | None] = []


def publish() -> None:
    """Put the seed in force into the environment, for processes started from here to find.

    With no seed in force, the value the environment had before seedmagic
    first wrote it comes back: a child process keeps the seed its parent
    published, also after a scope of its own.
    """
    if not _inherited:
        _inherited.append(os.environ.get(SEED_VARIABLE))
    active = book.active_seed()
    text = _inherited[0] if active is None else str(active)
    if os.environ.get(SEED_VARIABLE) == text:
        return
    if text is None:
        del os.environ[SEED_VARIABLE]
    else:
        os.environ[SEED_VARIABLE] = text


class Origin(NamedTuple):
    """Who is seeding (a magic, the panel, a helper; None: the API) and in which notebook cell."""

    source: str | None = None
    cell: int | None = None


#: The one record of who seeds where: the IPython glue sets the cell as each cell starts,
#: the magics and the panel set the source around what they do.
origin: ContextVar[Origin] = ContextVar("seedmagic_origin", default=Origin())  # noqa: B039 (a NamedTuple is immutable)


def in_cell(cell: int | None) -> None:
    """A notebook cell starts: seedings from now on happened in ``cell``."""
    origin.set(Origin(None, cell))


@contextmanager
def seeding_as(source: str) -> Iterator[None]:
    """Record the seedings inside the block as coming from ``source`` (in the running cell)."""
    token = origin.set(origin.get()._replace(source=source))
    try:
        yield
    finally:
        origin.reset(token)


def __getattr__(name: str) -> Any:
    """``Event`` lived here before 0.3 (histories pickled then name this module); it is made at first use."""
    if name == "Event":
        from .events import Event

        return Event
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class History:
    """The last ``cap`` seedings, and how many older ones were dropped to keep memory bounded.

    Records are kept as plain tuples (a scope adds one on every run) and
    become ``Event``s when read.
    """

    def __init__(self, cap: int = 1000) -> None:
        self._records: deque[tuple[Any, ...]] = deque(maxlen=cap)
        self.dropped = 0

    @property
    def cap(self) -> int | None:
        return self._records.maxlen

    @property
    def events(self) -> list[Event]:
        from .events import Event  # imported only now: making the dataclass costs %load_ext a millisecond

        return [Event(*fields) for fields in self._records]

    def add(self, *fields: Any) -> None:
        if len(self._records) == self._records.maxlen:
            self.dropped += 1
        self._records.append(fields)

    def clear(self) -> None:
        self._records.clear()
        self.dropped = 0


history = History()


def record(default_source: str, seed: int, names: tuple[str, ...], scope: str,
           label: str | None = None, base: int | None = None, entropy: bool = False) -> None:
    """Add one seeding to the history (fields as in ``Event``)."""
    who = origin.get()
    history.add(who.cell, who.source or default_source, seed, names, scope, label, base, entropy)
