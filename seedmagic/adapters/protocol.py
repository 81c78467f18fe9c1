"""What a library module of ``seedmagic.adapters`` provides: global generators and the kinds users hold.

A *global* generator (``np.random.rand``'s) is served by an object of the
``Adapter`` protocol: the members every adapter has. Optional members are
their own protocols (``Codec``, ``Digest``, ``Freshness``, ``Checked``, ``RestoredLast``,
``Swappable``); an
adapter has all of an optional protocol's members or none. seedmagic
tests for one by name, with ``getattr(adapter, member, None)`` (the helpers
below), never with ``isinstance``: a runtime check of a protocol only looks
for names, and an attribute lookup is what the callers need anyway.

A plugin author checks an adapter with mypy by assigning an instance to each
protocol it means to satisfy::

    adapter: Adapter = MyAdapter()
    codec: Codec = MyAdapter()      # only if it has encode and decode

A *user-held* generator (``np.random.default_rng(3)``) is never seeded by
seedmagic; the panel lists and previews it and ``seedmagic check`` follows
it. Each kind is one ``UserKind`` value in its library's module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast, runtime_checkable


@runtime_checkable
class Adapter(Protocol):
    """What seedmagic needs to know about one global generator (the protocol plugins implement)."""

    # Read-only to seedmagic, so a plain class attribute satisfies each (``module = "mylib"`` is a ``str | None``).

    @property
    def name(self) -> str:
        """The generator's name in ``only``/``skip``, the panel, state files and ``seedmagic check``."""

    @property
    def module(self) -> str | None:
        """Top-level module that must be imported before the generator exists, or None."""

    @property
    def digits(self) -> int:
        """Decimals shown in previews (NumPy prints 8, torch 4)."""

    def is_available(self) -> bool:
        """Whether the generator can exist here (its library is installed, its device built)."""

    def seed(self, n: int | None) -> None:
        """Seed with ``n``; ``None`` means the state a fresh process would start with."""

    def get_state(self) -> Any:
        """The full state, in a form ``set_state`` accepts: a copy, which later draws leave as it is (a scope keeps
        it to put back, the cell watch to compare)."""

    def set_state(self, state: Any) -> None:
        """Put back a state returned by ``get_state``."""

    def peek(self, k: int) -> dict[str, list[float]]:
        """The next ``k`` uniform draws per row (one row per device), without consuming them."""


class Codec(Protocol):
    """Optional: the state as plain data and back (state files, ``state_dict``).

    Without it a state is saved generically (tuples, lists, dicts, numbers,
    arrays, tensors). ``decode`` refuses anything the library would not
    accept or that no real state can be (some libraries crash on such states
    instead of raising), with a ``ValueError`` of one line.
    """

    def encode(self, state: Any) -> Any:
        """``state`` (from ``get_state``) as JSON-ready data."""

    def decode(self, data: Any) -> Any:
        """Data from ``encode`` (or from anywhere) back into a state ``set_state`` accepts, checked first."""


class Digest(Protocol):
    """Optional: a fingerprint of a state that holds more than it shows (CUDA's queue of pending seeds)."""

    def digest(self, state: Any) -> str:
        """Equal for equal states, in every process."""


class Freshness(Protocol):
    """Optional: whether nothing was drawn since the last seeding.

    ``seedmagic check`` uses it to tell an import that seeded the generator
    from entropy from a draw by it.
    """

    def fresh(self, state: Any) -> bool:
        """True when ``state`` is one a seeding leaves."""


class RestoredLast(Protocol):
    """Optional: reading the state costs more than the rest of a restore (NumPy's legacy generator).

    A snapshot from a file or a state dict puts such a generator back after
    the others and keeps no rollback copy of it (its state was rehearsed when
    it was read); at most one is treated so.
    """

    @property
    def restored_last(self) -> bool:
        """True to be put back last."""


class Swappable(Protocol):
    """Optional: code can swap the object that holds the state (NumPy's global bit generator, through
    ``np.random.set_bit_generator``).

    A snapshot keeps the object it read the state from, and a restore makes it the holder again before
    putting the state back: an object code swapped in keeps its own state, and the state goes back into
    an object of its own kind. Such a generator is also seeded first, as seeding it may run code of the
    swapped-in object: if that fails, no other generator has moved.
    """

    def holder(self) -> Any:
        """The object that holds the state now (None where code cannot swap it)."""

    def reinstate(self, holder: Any) -> None:
        """Make ``holder`` (from ``holder()``) the one that holds the state again."""


def swappable(adapter: Adapter) -> bool:
    """Whether ``adapter`` is ``Swappable``: both members callable (a plugin's attribute that happens to be
    called ``holder`` is not enough); False where looking raises."""
    try:
        return callable(getattr(adapter, "holder", None)) and callable(getattr(adapter, "reinstate", None))
    except Exception:
        return False


def holder_of(adapter: Adapter) -> Any:
    """The object that holds the adapter's state now (``Swappable``), or None."""
    return cast(Swappable, adapter).holder() if swappable(adapter) else None


def restored_last(adapter: Adapter) -> bool:
    """Whether ``adapter`` is put back last, with no rollback copy (``RestoredLast``)."""
    return getattr(adapter, "restored_last", False) is True


@dataclass(frozen=True)
class CheckFacts:
    """What ``seedmagic check`` knows of a generator's library beyond its state."""

    #: The entry of ``probe.versions()`` whose change may change the stream ("numpy", "cuda", ...).
    library: str
    #: How a user seeds it by hand, for fixes ("np.random.seed(N)"); None: only ``%seed N``.
    seed_call: str | None = None
    #: Calls that seed it, by dotted name, and whether each reseeds it from OS entropy when given no seed.
    seedings: Mapping[str, bool] = field(default_factory=dict)
    #: Calls that put another generator object in its place, by dotted name (``np.random.set_bit_generator``):
    #: a reseeding from OS entropy when what they are given is made with no seed (``np.random.SFC64()``).
    swaps: frozenset[str] = frozenset()


class Checked(Protocol):
    """Optional: the facts ``seedmagic check`` quotes in its reasons and fixes."""

    @property
    def facts(self) -> CheckFacts:
        """See ``CheckFacts``."""


def encoder(adapter: Adapter) -> Callable[[Any], Any] | None:
    """The adapter's ``encode``, or None."""
    found: Callable[[Any], Any] | None = getattr(adapter, "encode", None)
    return found


def decoder(adapter: Adapter) -> Callable[[Any], Any] | None:
    """The adapter's ``decode``, or None."""
    found: Callable[[Any], Any] | None = getattr(adapter, "decode", None)
    return found


def digester(adapter: Adapter) -> Callable[[Any], str] | None:
    """The adapter's ``digest``, or None."""
    found: Callable[[Any], str] | None = getattr(adapter, "digest", None)
    return found


def freshness(adapter: Adapter) -> Callable[[Any], bool] | None:
    """The adapter's ``fresh``, or None."""
    found: Callable[[Any], bool] | None = getattr(adapter, "fresh", None)
    return found


def facts(adapter: Adapter) -> CheckFacts | None:
    """The adapter's ``facts``, or None (a plugin that gives none: ``check`` says less about it)."""
    found = getattr(adapter, "facts", None)
    return found if isinstance(found, CheckFacts) else None


def _no_classes(module: Any) -> tuple[type, ...]:
    return ()


@dataclass(frozen=True)
class UserKind:
    """One kind of generator users create and hold (``random.Random(3)``, ``np.random.default_rng(3)``).

    It is recognised by the object's type alone: ``type(obj)`` and its MRO,
    compared by identity with ``base``. An object in the user's namespace may
    be a lazy proxy whose attribute access (``__class__`` included, which
    ``isinstance`` reads) runs code or raises; a subclass's methods may do
    anything, so ``state`` and ``peek`` call the library's own methods
    through its base class.
    """

    #: The word in probe records and ``seedmagic check --json`` ("numpy.Generator"): users read it, keep it.
    word: str
    #: How the panel and the status table name it ("np.random.Generator").
    display: str
    #: The top-level module that defines it; the kind exists only once that module is imported.
    module: str
    #: The class a generator of this kind is or extends, read from the imported ``module``.
    base: Callable[[Any], type]
    #: Its full state, read through the library's public calls on the base class.
    state: Callable[[Any], Any]
    #: The next ``k`` uniform draws, from a copy: the generator itself does not move.
    peek: Callable[[Any, int], list[float]]
    #: Decimals shown in previews.
    digits: int
    #: What ``seedmagic check`` knows of it: ``library`` and, as ``seed_call``, how to create one with a seed.
    facts: CheckFacts
    #: Function names that create one seeded from OS entropy when given no seed (``default_rng``).
    entropy_constructors: frozenset[str] = frozenset()
    #: Subclasses of ``base`` whose state cannot be read (``random.SystemRandom``): not generators at all.
    unreadable: Callable[[Any], tuple[type, ...]] = _no_classes
