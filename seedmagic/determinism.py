"""torch's switches for reproducible kernels, read and set as one named value."""

from __future__ import annotations

import os
import warnings
from types import ModuleType
from typing import NamedTuple

from .adapters import is_installed
from .session import SeedError


class Switches(NamedTuple):
    """The four settings that decide whether torch picks reproducible kernels."""

    deterministic_algorithms: bool
    warn_only: bool
    cudnn_deterministic: bool
    cudnn_benchmark: bool


#: What ``--deterministic`` switches to.
DETERMINISTIC = Switches(deterministic_algorithms=True, warn_only=False, cudnn_deterministic=True,
                         cudnn_benchmark=False)


def torch_for_determinism() -> ModuleType:
    """torch, imported if need be: asking for deterministic kernels is asking for torch."""
    if not is_installed("torch"):
        raise SeedError("--deterministic needs torch, which is not installed")
    import torch

    return torch


def get(torch: ModuleType) -> Switches:
    return Switches(
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )


_warned_cublas = False


def set(torch: ModuleType, switches: Switches) -> None:
    """Set torch's switches; warn once if cuBLAS will still be nondeterministic."""
    global _warned_cublas
    torch.use_deterministic_algorithms(switches.deterministic_algorithms, warn_only=switches.warn_only)
    torch.backends.cudnn.deterministic = switches.cudnn_deterministic
    torch.backends.cudnn.benchmark = switches.cudnn_benchmark
    if (switches.deterministic_algorithms and not _warned_cublas and torch.cuda.is_initialized()
            and "CUBLAS_WORKSPACE_CONFIG" not in os.environ):
        _warned_cublas = True
        warnings.warn(
            "CUDA started before CUBLAS_WORKSPACE_CONFIG was set, so cuBLAS is not deterministic; "
            "put this line at the top of the notebook and restart the kernel: "
            "%env CUBLAS_WORKSPACE_CONFIG=:4096:8",
            stacklevel=3,
        )
