"""The kernel side of ``seedmagic check``: what each cell did to the generators and values, read between cells.

``seedmagic check`` starts this in every kernel it runs with one silent
request (no output, no history, no execution count), and after each cell
asks for ``take()`` through a silent request's ``user_expressions``: the
answer travels in the reply, never in the cell's outputs. The probe only
observes: it loads no magics, installs no import hook and registers no
callback, so the notebook runs exactly as it would in Jupyter (a notebook
that forgets ``%load_ext seedmagic`` fails here too). Nothing here prints,
and nothing is bound in the user's namespace.

A record says which global generators the cell advanced (a library imported
during the cell is not a draw, unless its state shows one), their
fingerprints, the generators the user holds, fingerprints of the user's
plain values (what changed since the last record), the seeds seedmagic has
in force when the notebook uses it, and the seedings the cell made.
"""

from __future__ import annotations

import json
import os
import pathlib
import platform
import sys
import zlib
from importlib import metadata
from typing import Any

from .adapters import BUILTIN, fingerprint, freshness, object_state, registry, user_generator_kind
from .session import book, history
from .status import SHELL_VARIABLES, UNREADABLE, global_fingerprints, user_generators, variables

#: A value of more bytes than this is fingerprinted from a sample of its elements (bounded cost per cell).
FULL_BYTES = 1 << 20
#: Elements sampled from a larger array or tensor.
SAMPLE = 1 << 16
#: Lists, tuples and dicts up to this length (and this depth) are fingerprinted item by item.
MAX_ITEMS, MAX_DEPTH = 64, 3
_SCALARS = (bool, int, float, complex, str, bytes, type(None))
_PATHS = (pathlib.PurePosixPath, pathlib.PureWindowsPath, pathlib.PosixPath, pathlib.WindowsPath)


def _scalar(kind: type) -> bool:
    """By identity: ``in`` would call a metaclass's ``__eq__``."""
    return any(kind is scalar for scalar in _SCALARS)


def _numpy_scalar(numpy: Any, kind: type) -> bool:
    """One of NumPy's own scalar types (not a subclass, whose ``__array__`` could be anything)."""
    return any(kind is scalar for scalar in numpy.sctypeDict.values())


def value_fingerprint(value: Any, depth: int = 0) -> str | None:
    """A fingerprint of a plain value (numbers, strings, arrays, tensors, small containers of them), else None.

    Types are compared by identity, never through ``isinstance`` on the
    object itself, so no user code (a property, a metaclass, ``__eq__``)
    runs. Equal values give equal fingerprints in every process; a large
    array or tensor is fingerprinted from its shape and a strided sample,
    so two that differ may (rarely) look equal, never the reverse.
    """
    kind = type(value)
    if _scalar(kind):
        data = _in_place_bytes(value) if kind is bytes else (_in_place(value) if kind is str else repr(value)).encode(
            "utf-8", "surrogatepass")
        return f"{kind.__name__}:{zlib.crc32(data):08x}"
    if any(kind is path for path in _PATHS):
        return f"path:{zlib.crc32(_in_place(os.fspath(value)).encode('utf-8', 'surrogateescape')):08x}"
    if kind is list or kind is tuple or kind is dict:
        if depth >= MAX_DEPTH or len(value) > MAX_ITEMS:
            return None
        items = list(value.items()) if kind is dict else list(enumerate(value))
        parts = []
        for key, item in items:
            if kind is dict and not _scalar(type(key)):
                return None
            inner = value_fingerprint(item, depth + 1)
            if inner is None:
                return None
            parts.append(f"{_in_place(key) if type(key) is str else key!r}={inner}" if kind is dict else inner)
        return f"{kind.__name__}:{zlib.crc32(','.join(parts).encode('utf-8', 'surrogatepass')):08x}"
    return _array_fingerprint(value, kind)


def in_place(text: str, moved: tuple[str, str] | None) -> str:
    """``text`` as it reads in the notebook's own folder, where the kernel works in a copy of it (``moved``:
    the copy's path and the folder's, ``check.folders``): the copy's path, then its name, read as the folder's."""
    if moved is None:
        return text
    copy, home = moved
    return text.replace(copy, home).replace(os.path.basename(copy), os.path.basename(home))


def _in_place(text: str) -> str:
    return in_place(text, _moved)


def _in_place_bytes(data: bytes) -> bytes:
    """``data`` (``os.getcwdb()``) as it would read in the notebook's own folder."""
    return data if _moved is None else os.fsencode(_in_place(os.fsdecode(data)))


def _array_fingerprint(value: Any, kind: type) -> str | None:
    """NumPy arrays and scalars, and torch tensors, by their bytes (object arrays are skipped: they hold pointers)."""
    numpy = sys.modules.get("numpy")
    if numpy is not None and (kind is numpy.ndarray or _numpy_scalar(numpy, kind)):
        array = numpy.asarray(value)
        if array.dtype.hasobject:
            return None
        if array.nbytes > FULL_BYTES:
            array = array.reshape(-1)[:: max(1, array.size // SAMPLE)]
        head = f"{array.dtype.str}{value.shape}"
        return f"array:{zlib.crc32(numpy.ascontiguousarray(array).tobytes(), zlib.crc32(head.encode())):08x}"
    torch = sys.modules.get("torch")
    if torch is not None and (kind is torch.Tensor or kind is torch.nn.Parameter):
        try:
            tensor = value.detach()
            head = f"{tensor.dtype}{tuple(tensor.shape)}"
            flat = tensor.reshape(-1)
            if flat.numel() * flat.element_size() > FULL_BYTES:
                flat = flat[:: max(1, flat.numel() // SAMPLE)]
            data = flat.cpu().contiguous().view(torch.uint8).numpy().tobytes()
        except Exception:  # sparse, quantised or meta tensors: not a plain value
            return None
        return f"tensor:{zlib.crc32(data, zlib.crc32(head.encode())):08x}"
    return None


class Probe:
    """Fingerprints after each cell, compared with those after the cell before."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.namespace: dict[str, Any] = shell.user_ns
        self.globals = global_fingerprints()
        self.seen = self._seedings()
        self.values: dict[str, str] = {}
        #: Immutable values already fingerprinted, by name: (the object, its fingerprint).
        self.known: dict[str, tuple[Any, str]] = {}
        self.take_values()

    @staticmethod
    def _seedings() -> int:
        """How many seedings the session has made so far (the history keeps the last ones only)."""
        return history.dropped + len(history.events)

    def take(self) -> dict[str, Any]:
        from .importhook import fresh_states

        now = global_fingerprints()
        adapters = registry()
        advanced, imported = [], []
        for name, state in now.items():
            before = self.globals.get(name)
            if UNREADABLE in (state, before):  # no state to compare (an unreadable bit generator swapped in)
                continue
            if before is None:
                imported.append(name)
                if self._drawn_since_import(name, adapters[name], fresh_states):
                    advanced.append(name)
            elif before != state:
                advanced.append(name)
        self.globals = now
        count = self._seedings()
        new_events = history.events[-(count - self.seen):] if count > self.seen else []
        self.seen = count
        users = {}
        for name, value in user_generators(self.namespace).items():
            if name.split("[", 1)[0] in SHELL_VARIABLES:  # Out[2]: a generator a cell showed, keyed by execution count
                continue
            try:
                users[name] = [user_generator_kind(value), fingerprint(object_state(value))]
            except Exception:  # a generator that cannot be read is left out, as the panel says "cannot preview"
                continue
        changed, gone = self.take_values()
        return {
            "globals": now,
            "advanced": advanced,
            "imported": imported,
            "users": users,
            "values": changed,
            "gone": gone,
            "seeds": dict(book.seeds),
            "session_seed": book.session_seed,
            "loaded": "seedmagic" in getattr(getattr(self.shell, "extension_manager", None), "loaded", ()),
            "events": [[event.source, event.seed, list(event.generators), event.entropy, event.label]
                       for event in new_events],
        }

    @staticmethod
    def _drawn_since_import(name: str, adapter: Any, fresh_states: dict[str, Any]) -> bool:
        """Whether a generator whose library the cell imported drew since: its state at import, or its shape, says."""
        try:
            state = adapter.get_state()
            if name in fresh_states:  # the notebook loaded seedmagic, whose import hook kept the state at import
                return bool(fingerprint(fresh_states[name]) != fingerprint(state))
            fresh = freshness(adapter)
            return fresh is not None and not fresh(state)
        except Exception:
            return False

    def take_values(self) -> tuple[dict[str, str], list[str]]:
        """The plain values that are new or changed since the last call, and the names that are gone."""
        values: dict[str, str] = {}
        known: dict[str, tuple[Any, str]] = {}
        for name, value in variables(self.namespace):
            if type(name) is not str or name.startswith("_") or name in SHELL_VARIABLES:
                continue
            cached = self.known.get(name)
            if cached is not None and cached[0] is value:
                known[name] = cached
                values[name] = cached[1]
                continue
            try:
                found = value_fingerprint(value)
            except Exception:  # whatever the namespace holds, the probe goes on
                found = None
            if found is None:
                continue
            values[name] = found
            if _scalar(type(value)):
                known[name] = (value, found)
        self.known = known
        changed = {name: found for name, found in values.items() if self.values.get(name) != found}
        gone = [name for name in self.values if name not in values]
        self.values = values
        return changed, gone


_probe: Probe | None = None
#: (the copy's path, the folder's) where the kernel works in a copy of the notebook's folder (``start``).
_moved: tuple[str, str] | None = None


def start(shell: Any, moved: tuple[str, str] | None = None) -> None:
    """Start recording in ``shell``; nothing is loaded into it or registered with it.

    ``moved``: the kernel works in a copy of the notebook's folder (``check.folders``): (the copy's path, the
    folder's). A string or path that holds the copy's is fingerprinted as if it held the folder's, as in place.
    """
    global _probe, _moved
    _moved = moved
    _probe = Probe(shell)


def take() -> str:
    """The record of the cell that just ran, as JSON (one line: it travels as a ``user_expressions`` value)."""
    assert _probe is not None, "seedmagic.probe.start() was not called"
    return json.dumps(_probe.take(), separators=(",", ":"))


def versions() -> str:
    """Versions of what decided the streams here, as JSON; a library the notebook did not import is None."""
    found: dict[str, str | None] = {"python": platform.python_version(), "machine": platform.machine()}
    libraries = dict.fromkeys(adapter.module for adapter in BUILTIN if adapter.module is not None)
    for name in (*libraries, "seedmagic"):
        module = sys.modules.get(name)
        found[name] = None if module is None else str(getattr(module, "__version__", None) or _installed(name))
    torch = sys.modules.get("torch")
    found["cuda"] = found["cudnn"] = None
    if torch is not None:
        found["cuda"] = getattr(torch.version, "cuda", None)
        try:
            cudnn = torch.backends.cudnn.version() if found["cuda"] else None
        except Exception:
            cudnn = None
        found["cudnn"] = None if cudnn is None else str(cudnn)
    return json.dumps(found, separators=(",", ":"))


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
