"""PyTorch: the default CPU generator, the CUDA devices' and MPS's, and the ``torch.Generator`` objects users hold.

This module is ``seedmagic.adapters.torch``; torch itself is reached only
through ``sys.modules``, once it has been imported. The private torch
attributes needed here (CUDA's lazy seed queue) live in
``seedmagic.torchcompat``.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from .. import torchcompat
from .detect import is_installed
from .protocol import Adapter, CheckFacts, UserKind
from .states import MAX_GAUSS, fingerprint


def _torch_peek(generator: Any, k: int) -> list[float]:
    """Draw ``torch.rand(k)`` from a copy of ``generator``, on the generator's own device."""
    torch = sys.modules["torch"]
    device = torch.Generator.device.__get__(generator)  # read through the class: a subclass may override it
    copy = torch.Generator(device=device)
    copy.set_state(torch.Generator.get_state(generator))
    return torch.rand(k, generator=copy, device=device).tolist()


def _torch_state(data: Any, what: str, size: int, device: str) -> Any:
    """A torch generator state from a ``ByteTensor`` or a list of bytes, tried first on a private generator.

    A tensor (a ``state_dict``'s) must be a CPU ``uint8`` tensor of the
    state's size; a list (a state file's) must hold integers from 0 to 255,
    which ``bytearray`` checks in C. Either way the state is copied, so the
    document can change after the check and not the state. torch checks the
    size and the position; it does not check the key or the cached
    Gaussians, so a private generator of ``device`` also draws: uniform
    draws that are all equal (an all-zero key) or normal draws that are not
    finite or absurd (a poisoned cache) mean no real generator was ever in
    this state.
    """
    torch = sys.modules["torch"]
    if issubclass(type(data), torch.Tensor):
        if type(data) is not torch.Tensor:  # a subclass's own methods (``clone``) could hand back the original
            raise ValueError(f"{what} must be a plain torch.Tensor, not a {type(data).__name__}")
        if data.dtype != torch.uint8 or data.layout != torch.strided or not data.is_cpu or data.shape != (size,):
            raise ValueError(f"{what} must be a CPU uint8 tensor of {size} bytes (or a list of {size} integers), "
                             f"got {str(data.dtype).removeprefix('torch.')} of shape {tuple(data.shape)} "
                             f"on {data.device}")
        state = data.clone(memory_format=torch.contiguous_format)
    else:
        if type(data) is not list or len(data) != size:
            raise ValueError(f"{what} must be a list of {size} integers (or a uint8 tensor)")
        try:
            raw = bytearray(data)
        except (TypeError, ValueError):
            raise ValueError(f"{what} must hold integers from 0 to 255") from None
        state = torch.frombuffer(raw, dtype=torch.uint8)  # owns ``raw``, a private copy
    scratch = torch.Generator(device=device)
    where = scratch.device
    try:
        scratch.set_state(state)
        # The first normal draw is the cached Gaussian when the state has one. (A state also holds a cached
        # float Gaussian, but no draw reads it: float32 draws on the CPU go through the double one.)
        normal = torch.randn(4, generator=scratch, device=where, dtype=torch.float64).tolist()
        uniform = torch.rand(16, generator=scratch, device=where, dtype=torch.float64).tolist()
    except RuntimeError as error:
        raise ValueError(f"{what} is not a state torch accepts: {(str(error).splitlines() or ['?'])[0]}") from None
    stuck = len(set(uniform)) == 1
    if stuck or not all(abs(value) <= MAX_GAUSS for value in normal):  # NaN is not <= anything
        raise ValueError(f"{what} is not a state a torch generator can be in (its key or cached Gaussian is corrupt)")
    return state


@functools.cache
def _state_size(adapter: Any) -> int:
    """The size of an adapter's state: fixed for a process's torch, and reading a state to measure it costs
    a copy."""
    return len(adapter.get_state())


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
    facts: CheckFacts = CheckFacts("torch", "torch.manual_seed(N)", {
        "torch.seed": True, "torch.random.seed": True, "torch.manual_seed": False, "torch.random.manual_seed": False})

    def is_available(self) -> bool:
        """Installed; once imported, the library itself (an empty folder named ``torch`` imports as a module
        without a generator)."""
        torch = sys.modules.get("torch")
        return is_installed("torch") if torch is None else hasattr(torch, "default_generator")

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
        return list(state.numpy().tobytes())  # bytes to ints in C: a quarter of the time of ``tolist``

    def decode(self, data: Any) -> Any:
        return _torch_state(data, "the torch state", _state_size(self), "cpu")


class TorchCUDA(_TorchGenerator):
    """torch's per-device CUDA generators.

    CUDA is never initialised here: seeding uses the lazy ``manual_seed_all``,
    and until CUDA is initialised the "state" is torch's queue of pending
    seeds, captured and put back as it was. A state taken before CUDA started
    and restored after it started gives the devices what the queue would have.
    """

    name: str = "torch.cuda"
    facts: CheckFacts = CheckFacts("cuda", "torch.cuda.manual_seed_all(N)", {
        "torch.cuda.seed": True, "torch.cuda.seed_all": True, "torch.cuda.manual_seed": False,
        "torch.cuda.manual_seed_all": False})

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
    facts: CheckFacts = CheckFacts("torch", "torch.mps.manual_seed(N)")

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
        return list(state.numpy().tobytes())  # bytes to ints in C: a quarter of the time of ``tolist``

    def decode(self, data: Any) -> Any:
        return _torch_state(data, "the torch.mps state", _state_size(self), "mps")


def _generator_state(obj: Any) -> Any:
    return sys.modules["torch"].Generator.get_state(obj)


#: ``torch.Generator`` objects on any device; an unseeded one starts from torch's fixed default seed.
GENERATOR = UserKind(
    word="torch.Generator", display="torch.Generator", module="torch", base=lambda torch: torch.Generator,
    state=_generator_state, peek=_torch_peek, digits=4,
    facts=CheckFacts("torch", "torch.Generator().manual_seed(N)"))


#: What this library adds to the registry (``catalog.LIBRARIES``).
ADAPTERS: tuple[Adapter, ...] = (TorchCPU(), TorchCUDA(), TorchMPS())
KINDS: tuple[UserKind, ...] = (GENERATOR,)
