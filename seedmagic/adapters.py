"""One adapter per global random number generator, and the plugins that add more.

An adapter seeds, captures, restores and previews one generator, and turns
its state into plain data and back (``encode``/``decode``, used by state
files and ``state_dict``); ``decode`` refuses anything the library would not
accept or that no real state can be, because some libraries crash on such
states instead of raising. Adapters never import the library they serve:
they reach it through ``sys.modules`` once it has been fully imported, and
``seedmagic.importhook`` seeds it when it is imported. Previews draw from a
private copy of the state, so they never move the real generator.
"""

from __future__ import annotations

import math
import random
import sys
import warnings
from typing import Any, Protocol, runtime_checkable

from . import torchcompat
from .interrupts import atomic

#: Entry-point group through which other packages add generators.
ENTRY_POINT_GROUP = "seedmagic.generators"

#: MT19937's key length (Python's ``random`` and NumPy's legacy generator).
MT_WORDS = 624


@runtime_checkable
class Adapter(Protocol):
    """What seedmagic needs to know about one global generator (the protocol plugins implement)."""

    name: str
    #: Top-level module that must be imported before the generator exists, or None.
    module: str | None
    #: Decimals shown in previews (NumPy prints 8, torch 4).
    digits: int
    # Optional: ``encode(state)``/``decode(data)`` (plain data; without them states are saved generically),
    # ``fresh(state)`` (True when nothing was drawn since the last seeding: ``seedmagic check`` tells an
    # import that seeded the generator from entropy from a draw by it).

    def is_available(self) -> bool:
        """Whether the generator can exist here (its library is installed, its device built)."""

    def seed(self, n: int | None) -> None:
        """Seed with ``n``; ``None`` means the state a fresh process would start with."""

    def get_state(self) -> Any:
        """The full state, in a form ``set_state`` accepts."""

    def set_state(self, state: Any) -> None:
        """Put back a state returned by ``get_state``."""

    def peek(self, k: int) -> dict[str, list[float]]:
        """The next ``k`` uniform draws per row (one row per device), without consuming them."""


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


def _int_list(data: Any, what: str, length: int, limit: int) -> list[int]:
    if not isinstance(data, list) or len(data) != length:
        raise ValueError(f"{what} must be a list of {length} integers")
    if not all(type(word) is int and 0 <= word < limit for word in data):
        raise ValueError(f"{what} must hold integers from 0 to {limit - 1}")
    return data


def _mt_key(data: Any, what: str) -> list[int]:
    """An MT19937 key: 624 unsigned 32-bit words, not all zero (no seeding reaches that)."""
    key = _int_list(data, what, MT_WORDS, 2**32)
    if not any(key):
        raise ValueError(f"{what} is all zeros, which no MT19937 state can be")
    return key


#: No Gaussian a generator caches can be larger: Box-Muller over 53-bit doubles (Python's random,
#: torch) stays below 8.6, NumPy's polar method below 12.1. A state file that says otherwise
#: would poison the next normal draw (and every log-normal one built on it).
MAX_GAUSS = 16.0


def _gaussian(value: Any, what: str, allow_none: bool = False) -> float | None:
    """A cached Gaussian: a finite number a real generator can have drawn (None: none cached)."""
    if value is None and allow_none:
        return None
    if type(value) not in (int, float) or not math.isfinite(value) or abs(value) > MAX_GAUSS:
        raise ValueError(f"{what} must be a finite number no larger than {MAX_GAUSS:g}"
                         f"{' or null' if allow_none else ''}")
    return float(value)


def _fields(data: Any, names: set[str], what: str) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) != names:
        raise ValueError(f"{what} must have exactly the fields {', '.join(sorted(names))}")
    return data


class PythonRandom:
    """Python's ``random`` module: the hidden ``random.Random`` behind its functions."""

    name: str = "random"
    module: str | None = None
    digits: int = 8

    def is_available(self) -> bool:
        return True

    def seed(self, n: int | None) -> None:
        random.seed(n)

    def get_state(self) -> tuple[Any, ...]:
        return random.getstate()

    def set_state(self, state: tuple[Any, ...]) -> None:
        random.setstate(state)

    def peek(self, k: int) -> dict[str, list[float]]:
        return {self.name: _random_peek(random.getstate(), k)}

    def fresh(self, state: tuple[Any, ...]) -> bool:
        """Seeding leaves the position at the end of the key and no Gaussian cached."""
        return state[1][MT_WORDS] == MT_WORDS and state[2] is None

    def encode(self, state: tuple[Any, ...]) -> dict[str, Any]:
        version, internal, gauss_next = state
        return {"version": version, "key": list(internal[:MT_WORDS]), "pos": internal[MT_WORDS],
                "gauss_next": gauss_next}

    def decode(self, data: Any) -> tuple[Any, ...]:
        data = _fields(data, {"version", "key", "pos", "gauss_next"}, "the random state")
        if data["version"] != 3:
            raise ValueError("the random state must be of version 3 (Python's random.getstate())")
        key = _mt_key(data["key"], "the random key")
        pos = data["pos"]
        if type(pos) is not int or not 0 <= pos <= MT_WORDS:
            raise ValueError(f"the random position must be an integer from 0 to {MT_WORDS}")
        gauss_next = _gaussian(data["gauss_next"], "the random gauss_next", allow_none=True)
        return (3, (*key, pos), gauss_next)


def _random_peek(state: tuple[Any, ...], k: int) -> list[float]:
    copy = random.Random()
    copy.setstate(state)
    return [copy.random() for _ in range(k)]


class NumpyGlobal:
    """NumPy's legacy global ``RandomState`` behind ``np.random.rand`` and friends."""

    name: str = "numpy"
    module: str | None = "numpy"
    digits: int = 8

    def is_available(self) -> bool:
        return is_installed("numpy")

    def seed(self, n: int | None) -> None:
        sys.modules["numpy"].random.seed(n)

    def get_state(self) -> dict[str, Any]:
        """NumPy's own dict: the key, the position and the cached Gaussian."""
        return sys.modules["numpy"].random.get_state(legacy=False)

    def set_state(self, state: dict[str, Any]) -> None:
        sys.modules["numpy"].random.set_state(state)

    def peek(self, k: int) -> dict[str, list[float]]:
        return {self.name: _randomstate_peek(sys.modules["numpy"].random.mtrand._rand, k)}

    def fresh(self, state: dict[str, Any]) -> bool:
        """Seeding leaves the position at the end of the key (623 from entropy, 624 from an integer), no Gaussian.

        A draw lands there too once in about 300 states: "fresh" is almost sure, not certain.
        """
        return int(state["state"]["pos"]) >= MT_WORDS - 1 and not state["has_gauss"]

    def encode(self, state: dict[str, Any]) -> dict[str, Any]:
        return {"bit_generator": state["bit_generator"], "key": [int(word) for word in state["state"]["key"]],
                "pos": int(state["state"]["pos"]), "has_gauss": int(state["has_gauss"]),
                "gauss": float(state["gauss"])}

    def decode(self, data: Any) -> dict[str, Any]:
        """NumPy's ``set_state`` checks neither the position nor the Gaussian: a bad one crashes the process."""
        import numpy as np

        data = _fields(data, {"bit_generator", "key", "pos", "has_gauss", "gauss"}, "the numpy state")
        if data["bit_generator"] != "MT19937":
            raise ValueError("the numpy state must be of bit generator MT19937 (np.random.get_state())")
        key = _mt_key(data["key"], "the numpy key")
        pos = data["pos"]
        if type(pos) is not int or not 0 <= pos <= MT_WORDS:
            raise ValueError(f"the numpy position must be an integer from 0 to {MT_WORDS}")
        if data["has_gauss"] not in (0, 1) or type(data["has_gauss"]) is not int:
            raise ValueError("the numpy has_gauss must be 0 or 1")
        gauss = _gaussian(data["gauss"], "the numpy cached Gaussian")
        return {"bit_generator": "MT19937", "state": {"key": np.array(key, dtype=np.uint32), "pos": pos},
                "has_gauss": data["has_gauss"], "gauss": gauss}


def _randomstate_peek(generator: Any, k: int) -> list[float]:
    """``random_sample(k)`` from a copy of a NumPy ``RandomState``, made through its public state."""
    random_module = sys.modules["numpy"].random
    state = random_module.RandomState.get_state(generator, legacy=False)
    kind = getattr(random_module, state["bit_generator"], None)
    if not (isinstance(kind, type) and issubclass(kind, random_module.BitGenerator)):
        raise ValueError(f"unknown bit generator {state['bit_generator']!r}")
    copy = random_module.RandomState(kind())
    copy.set_state(state)
    return copy.random_sample(k).tolist()


def _torch_peek(generator: Any, k: int) -> list[float]:
    """Draw ``torch.rand(k)`` from a copy of ``generator``, on the generator's own device."""
    torch = sys.modules["torch"]
    device = torch.Generator.device.__get__(generator)  # read through the class: a subclass may override it
    copy = torch.Generator(device=device)
    copy.set_state(torch.Generator.get_state(generator))
    return torch.rand(k, generator=copy, device=device).tolist()


def _torch_state(data: Any, what: str, size: int, device: str) -> Any:
    """A torch generator state from a list of bytes, tried first on scratch generators of ``device``.

    torch checks the size and the position; it does not check the key or the
    cached Gaussians, so the scratch copies also draw: uniform draws that are
    all equal (an all-zero key) or normal draws that are not finite or absurd
    (a poisoned cache) mean no real generator was ever in this state.
    """
    torch = sys.modules["torch"]
    _int_list(data, what, size, 256)
    state = torch.tensor(data, dtype=torch.uint8)

    def scratch() -> Any:
        generator = torch.Generator(device=device)
        generator.set_state(state)
        return generator

    try:
        uniform = torch.rand(16, generator=scratch(), device=device, dtype=torch.float64)
        normal = torch.cat([torch.randn(4, generator=scratch(), device=device, dtype=dtype).double()
                            for dtype in (torch.float32, torch.float64)])
    except RuntimeError as error:
        raise ValueError(f"{what} is not a state torch accepts: {(str(error).splitlines() or ['?'])[0]}") from None
    stuck = bool((uniform == uniform[0]).all())
    if stuck or not bool(normal.isfinite().all()) or float(normal.abs().max()) > MAX_GAUSS:
        raise ValueError(f"{what} is not a state a torch generator can be in (its key or cached Gaussian is corrupt)")
    return state


class _TorchGenerator:
    """What torch's generators share: torch must be imported, torch prints 4 decimals."""

    module: str | None = "torch"
    digits: int = 4


class TorchCPU(_TorchGenerator):
    """torch's default CPU generator, plus accelerators that have no adapter of their own.

    ``torch.manual_seed`` also seeds XPU, MTIA and custom (privateuse1)
    backends; they are seeded here when torch was built with them, so that
    ``seed(n)`` over all adapters is ``torch.manual_seed(n)`` bit for bit.
    """

    name: str = "torch"

    def is_available(self) -> bool:
        return is_installed("torch")

    def seed(self, n: int | None) -> None:
        """``n=None``: fresh from OS entropy, as torch seeds itself at import (``torch.seed()``)."""
        torch = sys.modules["torch"]
        if n is None:
            value = torch.default_generator.seed()
        else:
            torch.default_generator.manual_seed(n)
            value = n
        for backend in torchcompat.other_backends(torch):
            if not torchcompat.in_bad_fork(backend):  # as torch.manual_seed checks
                backend.manual_seed_all(value)

    def get_state(self) -> Any:
        return sys.modules["torch"].default_generator.get_state()

    def set_state(self, state: Any) -> None:
        sys.modules["torch"].default_generator.set_state(state)

    def peek(self, k: int) -> dict[str, list[float]]:
        return {self.name: _torch_peek(sys.modules["torch"].default_generator, k)}

    def encode(self, state: Any) -> list[int]:
        return state.tolist()

    def decode(self, data: Any) -> Any:
        return _torch_state(data, "the torch state", len(self.get_state()), "cpu")


class TorchCUDA(_TorchGenerator):
    """torch's per-device CUDA generators.

    CUDA is never initialised here: seeding uses the lazy ``manual_seed_all``,
    and until CUDA is initialised the "state" is torch's queue of pending
    seeds, captured and put back as it was. A state taken before CUDA started
    and restored after it started gives the devices what the queue would have.
    """

    name: str = "torch.cuda"

    def is_available(self) -> bool:
        """Built with CUDA; asking the driver for devices would poison ``fork``."""
        return bool(sys.modules["torch"].backends.cuda.is_built())

    def seed(self, n: int | None) -> None:
        torch = sys.modules["torch"]
        if not torchcompat.in_bad_fork(torch.cuda):
            torch.cuda.manual_seed_all(torchcompat.TORCH_DEFAULT_SEED if n is None else n)

    def get_state(self) -> tuple[str, Any]:
        torch = sys.modules["torch"]
        if torch.cuda.is_initialized():
            return ("devices", [generator.get_state() for generator in torch.cuda.default_generators])
        return ("pending", torchcompat.pending_cuda_seeds(torch))

    def set_state(self, state: tuple[str, Any]) -> None:
        torch = sys.modules["torch"]
        kind, value = state
        if kind == "devices":
            for generator, device_state in zip(torch.cuda.default_generators, value, strict=True):
                generator.set_state(device_state)
        else:
            torchcompat.restore_pending_cuda_seeds(torch, value)

    def peek(self, k: int) -> dict[str, list[float]]:
        torch = sys.modules["torch"]
        if not torch.cuda.is_initialized():
            return {}
        return {
            f"{self.name}:{i}": _torch_peek(generator, k)
            for i, generator in enumerate(torch.cuda.default_generators)
        }

    def encode(self, state: tuple[str, Any]) -> list[list[int]] | None:
        """Device states; None before CUDA starts (a state file keeps the seed the devices are due)."""
        kind, value = state
        return [device_state.tolist() for device_state in value] if kind == "devices" else None

    def decode(self, data: Any) -> tuple[str, Any]:
        torch = sys.modules["torch"]
        if not torch.cuda.is_initialized():
            raise ValueError("it holds the state of CUDA devices, and CUDA has not started here "
                             "(run torch.cuda.init() first)")
        generators = torch.cuda.default_generators
        if not isinstance(data, list) or len(data) != len(generators):
            raise ValueError(f"the torch.cuda state must be a list of {len(generators)} device states")
        return ("devices", [_torch_state(device, f"the state of cuda:{i}", len(generators[i].get_state()), f"cuda:{i}")
                            for i, device in enumerate(data)])

    def digest(self, state: tuple[str, Any]) -> str:
        """A fingerprint; a queue of pending seeds holds callbacks, whose text differs between processes."""
        return fingerprint(self.encode(state))


class TorchMPS(_TorchGenerator):
    """torch's Apple-silicon (MPS) generator."""

    name: str = "torch.mps"

    def is_available(self) -> bool:
        return bool(sys.modules["torch"].backends.mps.is_available())

    def seed(self, n: int | None) -> None:
        torch = sys.modules["torch"]
        if not torchcompat.in_bad_fork(torch.mps):
            torch.mps.manual_seed(torchcompat.TORCH_DEFAULT_SEED if n is None else n)

    def get_state(self) -> Any:
        return sys.modules["torch"].mps.get_rng_state()

    def set_state(self, state: Any) -> None:
        sys.modules["torch"].mps.set_rng_state(state)

    def peek(self, k: int) -> dict[str, list[float]]:
        generator = torchcompat.mps_generator(sys.modules["torch"])
        return {} if generator is None else {self.name: _torch_peek(generator, k)}

    def encode(self, state: Any) -> list[int]:
        return state.tolist()

    def decode(self, data: Any) -> Any:
        return _torch_state(data, "the torch.mps state", len(self.get_state()), "mps")


BUILTIN: tuple[Adapter, ...] = (PythonRandom(), NumpyGlobal(), TorchCPU(), TorchCUDA(), TorchMPS())
BUILTIN_NAMES = frozenset(adapter.name for adapter in BUILTIN)

_registry: dict[str, Adapter] | None = None


def registry() -> dict[str, Adapter]:
    """Every adapter by name: the built-ins, then plugins (loaded once)."""
    global _registry
    if _registry is None:
        found = {adapter.name: adapter for adapter in BUILTIN}
        found.update(_plugins(set(found)))
        _registry = found
    return _registry


def _plugins(taken: set[str]) -> dict[str, Adapter]:
    """Adapters from the ``seedmagic.generators`` entry points; a broken one is reported and skipped."""
    from importlib.metadata import entry_points

    plugins: dict[str, Adapter] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
            adapter = loaded() if isinstance(loaded, type) else loaded
            if not isinstance(adapter, Adapter):
                raise TypeError("it does not provide name, module, digits, seed, get_state, set_state and peek")
            if adapter.name in taken or adapter.name in plugins:
                raise ValueError(f"the name {adapter.name!r} is taken")
        except Exception as error:  # a plugin must never break seeding
            warnings.warn(f"seedmagic: skipped generator plugin {point.name!r}: {error}", stacklevel=2)
            continue
        plugins[adapter.name] = adapter
    return plugins


_plugin_failures: set[tuple[str, str]] = set()


def plugin_failed(name: str, action: str, error: BaseException) -> None:
    """Report, once per plugin and action, that a plugin raised; the caller leaves it out."""
    if (name, action) not in _plugin_failures:
        _plugin_failures.add((name, action))
        warnings.warn(f"seedmagic: generator plugin {name!r} failed to {action} ({type(error).__name__}: "
                      f"{str(error)[:200]}); it was left out, the other generators are unaffected", stacklevel=3)


def user_generator_kind(obj: object) -> str | None:
    """Which kind of user-created generator ``obj`` is, from its type alone.

    Only ``type(obj)`` and its MRO are read: an object in the user's
    namespace may be a lazy proxy whose attribute access (``__class__``
    included, which ``isinstance`` reads) runs code or raises. Kinds:
    ``random.Random``, NumPy's ``RandomState`` and ``Generator``,
    ``torch.Generator``; None for anything else and for generators whose
    state cannot be read (``random.SystemRandom``).
    """
    mro = type.__dict__["__mro__"].__get__(type(obj))

    def extends(cls: type) -> bool:  # by identity: ``in`` would call a metaclass's __eq__
        return any(base is cls for base in mro)

    if extends(random.Random):
        return None if extends(random.SystemRandom) else "random"
    numpy = loaded_module("numpy")
    if numpy is not None:
        if extends(numpy.random.RandomState):
            return "RandomState"
        if extends(numpy.random.Generator):
            return "numpy.Generator"
    torch = loaded_module("torch")
    if torch is not None and extends(torch.Generator):
        return "torch.Generator"
    return None


# A user's generator may be of a subclass whose methods do anything (log, draw, raise): only the
# library's own methods are called on it, through its base class.


def _numpy_bit_generator_class(bit_generator: Any) -> Any:
    """NumPy's own bit generator class that ``bit_generator`` is (or extends); found by identity."""
    numpy_random = sys.modules["numpy"].random
    known = [getattr(numpy_random, name) for name in ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64")
             if hasattr(numpy_random, name)]
    mro = type.__dict__["__mro__"].__get__(type(bit_generator))
    found = next((base for base in mro if any(base is cls for cls in known)), None)
    if found is None:
        raise TypeError("its bit generator is none of NumPy's own")
    return found


def _bit_generator_of(generator: Any) -> tuple[Any, Any]:
    """A NumPy ``Generator``'s bit generator and its state, through NumPy's own descriptors."""
    numpy_random = sys.modules["numpy"].random
    bit_generator = numpy_random.Generator.bit_generator.__get__(generator)
    return bit_generator, _numpy_bit_generator_class(bit_generator).state.__get__(bit_generator)


def peek_object(obj: Any, k: int) -> tuple[list[float], int] | None:
    """Next ``k`` draws of a generator the user created, and the decimals to show them with."""
    kind = user_generator_kind(obj)
    if kind == "random":
        return _random_peek(random.Random.getstate(obj), k), 8
    if kind == "RandomState":
        return _randomstate_peek(obj, k), 8
    if kind == "numpy.Generator":
        bit_generator, state = _bit_generator_of(obj)
        copy = _numpy_bit_generator_class(bit_generator)()
        copy.state = state
        return sys.modules["numpy"].random.Generator(copy).random(k).tolist(), 8
    if kind == "torch.Generator":
        return _torch_peek(obj, k), 4
    return None


def object_state(obj: Any) -> Any:
    """The state of a user-created generator, for fingerprints."""
    kind = user_generator_kind(obj)
    if kind == "random":
        return random.Random.getstate(obj)
    if kind == "RandomState":
        return sys.modules["numpy"].random.RandomState.get_state(obj, legacy=False)
    if kind == "numpy.Generator":
        return _bit_generator_of(obj)[1]
    return sys.modules["torch"].Generator.get_state(obj)


def fingerprint(state: Any) -> str:
    """A short, stable digest of a generator state: equal states, equal fingerprints.

    CRC-32 over the state's numbers, so it is the same in every process
    (Python's own ``hash`` of bytes is salted per process).
    """
    import zlib
    from array import array

    def feed(value: Any, crc: int) -> int:
        if isinstance(value, dict):
            for key in sorted(value):
                crc = feed(value[key], zlib.crc32(str(key).encode(), crc))
            return crc
        if isinstance(value, (tuple, list)):
            if value and type(value[0]) is int:  # a key of unsigned words, as random's state holds
                try:
                    return zlib.crc32(array("Q", value).tobytes(), crc)
                except (TypeError, OverflowError):
                    pass
            for item in value:
                crc = feed(item, crc)
            return crc
        if hasattr(value, "numpy"):  # a torch tensor
            value = value.numpy()
        if hasattr(value, "tobytes"):
            return zlib.crc32(value.tobytes(), crc)
        return zlib.crc32(repr(value).encode(), crc)

    return f"{feed(state, 0):08x}"
