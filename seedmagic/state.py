"""What seedmagic remembers, and snapshots of every generator's full state.

The ``book`` records the seed each generator was last given and the
session seed; the ``history`` records every seeding; a ``Snapshot`` holds
the generators' states and the book entries, so restoring one puts seedmagic
back exactly where it was. Snapshots are saved as JSON, never as a pickle.
"""

from __future__ import annotations

import importlib
import os
import pathlib
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .generators import Adapter, Pending, absence, is_installed, is_loaded, registry

class SeedError(ValueError):
    """Bad input to seedmagic; the message is one line that says what is allowed."""


#: Held while generators are seeded, captured or restored, so threads see whole operations.
lock = threading.RLock()


@dataclass
class Book:
    """Seeds given so far: per generator, and the session seed that ``%seed N`` sets."""

    seeds: dict[str, int] = field(default_factory=dict)
    session_seed: int | None = None
    #: Open scopes, innermost last: the seed and the generators each one manages.
    scopes: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)

    def scope_of(self, name: str) -> int | None:
        """The seed of the innermost open scope that manages ``name``, or None (global)."""
        for scope_seed, names in reversed(self.scopes):
            if name in names:
                return scope_seed
        return None


book = Book()


@dataclass(frozen=True)
class Event:
    """One seeding, as ``seedmagic.history()`` and ``%seed --history`` report it."""

    #: IPython's execution count when it happened (None outside IPython).
    count: int | None
    #: What seeded: "%seed", "%%seeded", "seed()", "seeded()", "panel", ...
    source: str
    seed: int
    generators: tuple[str, ...]
    #: "global" for a seeding that stays; "restored" or "kept" for a scope.
    scope: str
    #: The label and base seed of a derived seed, or the base of an entropy seed.
    label: str | None = None
    base: int | None = None
    entropy: bool = False


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
        return [Event(*fields) for fields in self._records]

    def add(self, *fields: Any) -> None:
        if len(self._records) == self._records.maxlen:
            self.dropped += 1
        self._records.append(fields)

    def clear(self) -> None:
        self._records.clear()
        self.dropped = 0


history = History()

#: Who is seeding right now; the magics and the panel set it, the API is the default.
origin: ContextVar[str | None] = ContextVar("seedmagic_origin", default=None)
#: Reads IPython's execution count; set while the extension is loaded.
execution_count: Callable[[], int | None] = lambda: None  # noqa: E731


@contextmanager
def seeding_as(source: str) -> Iterator[None]:
    """Record the seedings inside the block as coming from ``source`` (a magic, the panel)."""
    token = origin.set(source)
    try:
        yield
    finally:
        origin.reset(token)


def record(default_source: str, seed: int, names: tuple[str, ...], scope: str,
           label: str | None = None, base: int | None = None, entropy: bool = False) -> None:
    """Add one seeding to the history (fields as in ``Event``)."""
    history.add(execution_count(), origin.get() or default_source, seed, names, scope, label, base, entropy)


class _NotLoaded:
    """Marks a generator whose library was not imported when the snapshot was taken."""

    def __repr__(self) -> str:
        return "NOT_LOADED"


NOT_LOADED: Any = _NotLoaded()


class Entry(NamedTuple):
    """One generator in a snapshot: its state and the seed it had last been given."""

    name: str
    state: Any
    seed: int | None


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

    def restore(self) -> None:
        """Put every captured generator back as it was.

        A library imported since the snapshot is re-seeded as it would have
        been had it been imported now: with the seed it was due, or fresh. If
        a state does not fit its generator (a file from elsewhere), every
        generator is put back as it was before and ``SeedError`` says why.
        """
        adapters = registry()
        with lock:
            if self.trusted:  # states taken here fit their generators
                self._apply(adapters)
                return
            before = capture(adapters[entry.name] for entry in self.entries)
            try:
                self._apply(adapters)
            except Exception as error:
                before._apply(adapters)
                failing = getattr(error, "seedmagic_generator", "a generator")
                first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
                raise SeedError(f"the state for {failing} does not fit: {first_line}") from None

    def _apply(self, adapters: dict[str, Adapter]) -> None:
        for entry in self.entries:
            adapter = adapters[entry.name]
            try:
                if entry.state is not NOT_LOADED:
                    adapter.set_state(entry.state)
                elif is_loaded(adapter) and adapter.is_available():
                    adapter.seed(entry.seed)
            except Exception as error:
                error.seedmagic_generator = entry.name  # type: ignore[attr-defined]
                raise
            if entry.seed is None:
                book.seeds.pop(entry.name, None)
            else:
                book.seeds[entry.name] = entry.seed
        book.session_seed = self.session_seed

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the snapshot as JSON: numbers and base64 arrays, nothing that can run code."""
        generators = {}
        for entry in self.entries:
            state = entry.state
            if state is NOT_LOADED or (isinstance(state, tuple) and any(isinstance(p, Pending) for p in state)):
                state = None  # no state yet: the file keeps the seed it is due
            try:
                generators[entry.name] = {"state": _encode(state), "seed": entry.seed}
            except TypeError as error:
                raise SeedError(f"cannot save the state of {entry.name}: {error}") from None
        import json

        document = {"format": FILE_FORMAT, "version": FILE_VERSION, "session_seed": self.session_seed,
                    "generators": generators}
        pathlib.Path(path).write_text(json.dumps(document) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Snapshot:
        """Read a file written by ``save``; anything else is refused with one line (``SeedError``)."""
        document = _read_document(pathlib.Path(path))
        adapters = registry()
        entries = []
        try:
            generators = document["generators"]
            if not isinstance(generators, dict):
                raise ValueError("'generators' is not a mapping")
            for name, item in generators.items():
                if name not in adapters:
                    raise ValueError(f"it has a state for {name!r}, which is not a generator here "
                                     f"(known: {', '.join(adapters)})")
                adapter = adapters[name]
                if absence(adapter) is not None:
                    raise ValueError(f"it has a state for {name}, which is not available here")
                if not isinstance(item, dict) or set(item) != {"state", "seed"}:
                    raise ValueError(f"the entry for {name} is not {{'state': ..., 'seed': ...}}")
                state = _decode(item["state"])
                entries.append(Entry(name, NOT_LOADED if state is None else state, _seed_or_none(item["seed"])))
            session_seed = _seed_or_none(document["session_seed"])
        except (KeyError, TypeError, ValueError, RecursionError) as error:
            raise SeedError(f"{path} is not a usable seedmagic state file: {_one_line(error)}") from None
        for entry in entries:  # a state to put back needs its library, which a file may ask for
            module = adapters[entry.name].module
            if entry.state is not NOT_LOADED and module is not None:
                importlib.import_module(module)
        return cls(tuple(entries), session_seed, trusted=False)


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


FILE_FORMAT = "seedmagic-state"
FILE_VERSION = 1
#: States are kilobytes; a bigger file is not one of ours.
MAX_FILE_BYTES = 16 * 2**20
_ARRAY_DTYPES = {"uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "float32", "float64"}


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _seed_or_none(value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not 0 <= value < 2**32:
        raise ValueError(f"{value!r} is not a seed")
    return value


def _read_document(path: pathlib.Path) -> dict[str, Any]:
    import json

    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SeedError(f"{path} is not a seedmagic state file: {size} bytes is far too big")
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise SeedError(f"cannot read {path}: {error.strerror or _one_line(error)}") from None
    except UnicodeDecodeError:
        raise SeedError(f"{path} is not a seedmagic state file: it is not text (JSON)") from None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise SeedError(f"{path} is not a seedmagic state file: not valid JSON ({_one_line(error)})") from None
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise SeedError(f"{path} is not a seedmagic state file (no '\"format\": \"{FILE_FORMAT}\"')")
    if document.get("version") != FILE_VERSION:
        raise SeedError(f"{path} is a seedmagic state file of version {document.get('version')!r}; "
                          f"this seedmagic reads version {FILE_VERSION}")
    return document


def _encode(value: Any) -> Any:
    """Plain JSON for a generator state; tuples, dicts, arrays and tensors are tagged."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if hasattr(value, "portable"):  # a raw copy saves as the state it stands for
        return _encode(value.portable())
    if isinstance(value, tuple):
        return {"tuple": [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {"dict": {str(key): _encode(item) for key, item in value.items()}}
    import base64

    kind = "tensor" if type(value).__module__.startswith("torch") else "array"
    array = value.cpu().numpy() if kind == "tensor" else value
    if not hasattr(array, "tobytes") or str(array.dtype) not in _ARRAY_DTYPES:
        if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
            return value.item()  # a NumPy scalar
        raise TypeError(f"{type(value).__name__} is not a number, string, list, tuple, dict, array or tensor")
    return {kind: {"dtype": str(array.dtype), "shape": list(array.shape),
                   "data": base64.b64encode(array.tobytes()).decode("ascii")}}


def _decode(value: Any) -> Any:
    """The inverse of ``_encode``; anything it did not write is a ``ValueError``."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"unexpected value {str(value)[:40]!r}")
    (tag, body), = value.items()
    if tag == "tuple" and isinstance(body, list):
        return tuple(_decode(item) for item in body)
    if tag == "dict" and isinstance(body, dict):
        return {key: _decode(item) for key, item in body.items()}
    if tag in ("array", "tensor") and isinstance(body, dict):
        return _decode_array(tag, body)
    raise ValueError(f"unexpected value tagged {tag!r}")


def _decode_array(tag: str, body: dict[str, Any]) -> Any:
    import base64
    import math

    import numpy as np

    if set(body) != {"dtype", "shape", "data"} or body["dtype"] not in _ARRAY_DTYPES:
        raise ValueError(f"an {tag} must have dtype (one of {', '.join(sorted(_ARRAY_DTYPES))}), shape and data")
    shape = body["shape"]
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError(f"bad {tag} shape {shape!r}")
    try:
        data = base64.b64decode(body["data"], validate=True)
    except (ValueError, TypeError):
        raise ValueError(f"the {tag} data is not base64") from None
    dtype = np.dtype(body["dtype"])
    if len(data) != dtype.itemsize * math.prod(shape):
        raise ValueError(f"the {tag} data has {len(data)} bytes, not the {dtype.itemsize * math.prod(shape)} "
                         f"its shape {shape} and dtype {dtype} need")
    array = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if tag == "array":
        return array
    if not is_installed("torch"):
        raise ValueError("it holds a torch tensor, and torch is not installed")
    import torch

    return torch.from_numpy(array)

