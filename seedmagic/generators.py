"""One adapter per global random number generator.

An adapter seeds, captures, restores and previews one generator. Adapters
never import the library they serve: one whose ``module`` is not yet in
``sys.modules`` is left alone, and ``seedmagic.core`` seeds it when the
library is imported. Previews draw from a private copy of the state, so
they never move the real generator, not even for a moment.
"""

from __future__ import annotations

import functools
import importlib.util
import random
import sys
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

#: The seed torch gives every generator at start-up (c10's ``default_rng_seed_val``).
TORCH_DEFAULT_SEED = 67280421310721

#: Entry-point group through which other packages add generators.
ENTRY_POINT_GROUP = "seedmagic.generators"


@runtime_checkable
class Adapter(Protocol):
    """What seedmagic needs to know about one global generator."""

    name: str
    #: Top-level module that must be imported before the generator exists, or None.
    module: str | None
    #: Decimals shown in previews (NumPy prints 8, torch 4).
    digits: int
    # Optional: ``unseeded``, what drives the generator before any seed ("OS entropy").

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


def is_loaded(adapter: Adapter) -> bool:
    """Whether the adapter's library is imported, so the generator exists now."""
    return adapter.module is None or sys.modules.get(adapter.module) is not None


def is_installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (a ``None`` in sys.modules blocks it)."""
    if module in sys.modules:
        return sys.modules[module] is not None
    return _findable(module)


@functools.cache
def _findable(module: str) -> bool:
    """Searching the path takes tens of µs, and what is installed does not change under a session."""
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


class PythonRandom:
    """Python's ``random`` module: the hidden ``random.Random`` behind its functions."""

    name: str = "random"
    module: str | None = None
    digits: int = 8
    unseeded = "OS entropy"

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


def _random_peek(state: tuple[Any, ...], k: int) -> list[float]:
    copy = random.Random()
    copy.setstate(state)
    return [copy.random() for _ in range(k)]


class NumpyGlobal:
    """NumPy's legacy global ``RandomState`` behind ``np.random.rand`` and friends."""

    name: str = "numpy"
    module: str | None = "numpy"
    digits: int = 8
    unseeded = "OS entropy"

    def is_available(self) -> bool:
        return is_installed("numpy")

    def seed(self, n: int | None) -> None:
        import numpy as np

        np.random.seed(n)

    def get_state(self) -> Any:
        """A raw copy (fast), or NumPy's dict, which keeps the bit generator's name and the cached Gaussian."""
        import numpy as np

        from . import fastnumpy

        return fastnumpy.capture(np.random.mtrand._rand) or np.random.get_state(legacy=False)

    def set_state(self, state: Any) -> None:
        import numpy as np

        from . import fastnumpy

        if isinstance(state, fastnumpy.RawState):
            if fastnumpy.restore(np.random.mtrand._rand, state):
                return
            state = state.portable()
        np.random.set_state(state)

    def peek(self, k: int) -> dict[str, list[float]]:
        import numpy as np

        return {self.name: _randomstate_peek(np.random.mtrand._rand, k)}


def _bit_generator_copy(bit_generator: Any) -> Any:
    """A new bit generator of the same kind, in the same state."""
    copy = type(bit_generator)()
    copy.state = bit_generator.state
    return copy


def _randomstate_peek(generator: Any, k: int) -> list[float]:
    """``random_sample(k)`` from a copy of a NumPy ``RandomState``."""
    import numpy as np

    copy = np.random.RandomState(_bit_generator_copy(generator._bit_generator))
    return copy.random_sample(k).tolist()


def _torch_peek(generator: Any, k: int, device: str) -> list[float]:
    """Draw ``torch.rand(k)`` from a copy of ``generator``."""
    import torch

    copy = torch.Generator(device=device)
    copy.set_state(generator.get_state())
    return torch.rand(k, generator=copy, device=device).tolist()


class _TorchGenerator:
    """What torch's generators share: torch must be imported, torch prints 4 decimals."""

    module: str | None = "torch"
    digits: int = 4
    unseeded = "torch's start-up seed"


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
        import torch

        value = TORCH_DEFAULT_SEED if n is None else n
        torch.default_generator.manual_seed(value)
        for backend in _other_torch_backends(torch._C._get_privateuse1_backend_name()):
            if not getattr(backend, "_is_in_bad_fork", lambda: False)():  # as torch.manual_seed checks
                backend.manual_seed_all(value)

    def get_state(self) -> Any:
        import torch

        return torch.default_generator.get_state()

    def set_state(self, state: Any) -> None:
        import torch

        torch.default_generator.set_state(state)

    def peek(self, k: int) -> dict[str, list[float]]:
        import torch

        return {self.name: _torch_peek(torch.default_generator, k, "cpu")}


@functools.lru_cache(maxsize=4)
def _other_torch_backends(custom_name: str) -> tuple[Any, ...]:
    """torch device modules that ``torch.manual_seed`` seeds and no adapter covers.

    What torch was built with does not change; the custom backend is looked
    up again if it is renamed (``torch.utils.rename_privateuse1_backend``).
    """
    import torch

    backends = []
    if getattr(torch._C, "_has_xpu", False):
        backends.append(torch.xpu)
    mtia_built = getattr(torch._C, "_mtia_isBuilt", None)
    if mtia_built is not None and mtia_built():
        backends.append(torch.mtia)
    custom = getattr(torch, custom_name, None)
    if custom is not None and hasattr(custom, "manual_seed_all"):
        backends.append(custom)
    return tuple(backends)


class TorchCUDA(_TorchGenerator):
    """torch's per-device CUDA generators.

    CUDA is never initialised here: seeding uses the lazy ``manual_seed_all``,
    and until CUDA is initialised the "state" is torch's queue of pending
    seeds, captured and put back as it was. A state taken before CUDA started
    and restored after it started replays that queue on the devices.
    """

    name: str = "torch.cuda"

    def is_available(self) -> bool:
        """Built with CUDA; asking the driver for devices would poison ``fork``."""
        import torch

        return torch.backends.cuda.is_built()

    def seed(self, n: int | None) -> None:
        import torch

        if not torch.cuda._is_in_bad_fork():
            torch.cuda.manual_seed_all(TORCH_DEFAULT_SEED if n is None else n)

    def get_state(self) -> tuple[str, Any]:
        import torch

        if torch.cuda.is_initialized():
            return ("devices", [g.get_state() for g in torch.cuda.default_generators])
        tracker = torch.cuda._lazy_seed_tracker
        return ("pending", Pending((tracker.manual_seed_all_cb, tracker.manual_seed_cb, list(tracker.call_order))))

    def set_state(self, state: tuple[str, Any]) -> None:
        import torch

        kind, value = state
        if kind == "devices":
            for generator, device_state in zip(torch.cuda.default_generators, value):
                generator.set_state(device_state)
        elif torch.cuda.is_initialized():
            _replay_pending_seeds(value.calls)
        else:
            tracker = torch.cuda._lazy_seed_tracker
            tracker.manual_seed_all_cb, tracker.manual_seed_cb, order = value.calls
            tracker.call_order = list(order)

    def peek(self, k: int) -> dict[str, list[float]]:
        import torch

        if not torch.cuda.is_initialized():
            return {}
        return {
            f"{self.name}:{i}": _torch_peek(g, k, f"cuda:{i}")
            for i, g in enumerate(torch.cuda.default_generators)
        }


@dataclass(frozen=True)
class Pending:
    """Seeds a library queued for a device that has not started: real state, but not savable."""

    calls: Any


def _replay_pending_seeds(pending: tuple[Any, Any, list[Any]]) -> None:
    """Give initialised CUDA devices the state the queued seeds would have given them."""
    import torch

    calls = [call for call in pending[2] if call]
    if not calls:
        for generator in torch.cuda.default_generators:
            generator.manual_seed(TORCH_DEFAULT_SEED)
    for callback, _traceback in calls:
        callback()


class TorchMPS(_TorchGenerator):
    """torch's Apple-silicon (MPS) generator."""

    name: str = "torch.mps"

    def is_available(self) -> bool:
        import torch

        return torch.backends.mps.is_available()

    def seed(self, n: int | None) -> None:
        import torch

        if not torch.mps._is_in_bad_fork():
            torch.mps.manual_seed(TORCH_DEFAULT_SEED if n is None else n)

    def get_state(self) -> Any:
        import torch

        return torch.mps.get_rng_state()

    def set_state(self, state: Any) -> None:
        import torch

        torch.mps.set_rng_state(state)

    def peek(self, k: int) -> dict[str, list[float]]:
        import torch

        return {self.name: _torch_peek(torch.mps._get_default_mps_generator(), k, "mps")}


BUILTIN: tuple[Adapter, ...] = (PythonRandom(), NumpyGlobal(), TorchCPU(), TorchCUDA(), TorchMPS())

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
    import warnings
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



def user_generator_kind(obj: object) -> str | None:
    """Which kind of user-created generator ``obj`` is, without importing anything.

    ``random.Random``, NumPy's ``RandomState`` and ``Generator`` and
    ``torch.Generator``; None for anything else, and for generators whose state
    cannot be read (``random.SystemRandom``).
    """
    if isinstance(obj, random.Random):
        return None if isinstance(obj, random.SystemRandom) else "random"
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        if isinstance(obj, numpy.random.RandomState):
            return "RandomState"
        if isinstance(obj, numpy.random.Generator):
            return "Generator"
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.Generator):
        return "torch"
    return None


def peek_object(obj: Any, k: int) -> tuple[list[float], int] | None:
    """Next ``k`` draws of a generator the user created, and the decimals to show them with."""
    kind = user_generator_kind(obj)
    if kind == "random":
        return _random_peek(obj.getstate(), k), 8
    if kind == "RandomState":
        return _randomstate_peek(obj, k), 8
    if kind == "Generator":
        return type(obj)(_bit_generator_copy(obj.bit_generator)).random(k).tolist(), 8
    if kind == "torch":
        return _torch_peek(obj, k, str(obj.device)), 4
    return None


def object_state(obj: Any) -> Any:
    """The state of a user-created generator, for fingerprints (a raw copy where that is faster)."""
    kind = user_generator_kind(obj)
    if kind == "random":
        return obj.getstate()
    if kind == "RandomState":
        from . import fastnumpy

        return fastnumpy.capture(obj) or obj.get_state(legacy=False)
    if kind == "Generator":
        return obj.bit_generator.state
    return obj.get_state()


def fingerprint(state: Any) -> str:
    """A short, stable digest of a generator state: equal states, equal fingerprints.

    CRC-32 over the state's numbers, so it is the same in every process
    (Python's own ``hash`` of bytes is salted per process).
    """
    import zlib
    from array import array

    def feed(value: Any, crc: int) -> int:
        if hasattr(value, "portable"):  # a raw copy fingerprints as the state it stands for
            value = value.portable()
        if isinstance(value, dict):
            for key in sorted(value):
                crc = feed(value[key], zlib.crc32(str(key).encode(), crc))
            return crc
        if isinstance(value, (tuple, list)):
            if value and all(type(item) is int and 0 <= item < 2**64 for item in value):
                return zlib.crc32(array("Q", value).tobytes(), crc)
            for item in value:
                crc = feed(item, crc)
            return crc
        if hasattr(value, "numpy"):  # a torch tensor
            value = value.numpy()
        if hasattr(value, "tobytes"):
            return zlib.crc32(value.tobytes(), crc)
        return zlib.crc32(repr(value).encode(), crc)

    return f"{feed(state, 0):08x}"
