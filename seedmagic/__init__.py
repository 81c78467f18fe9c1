"""seedmagic: reproducible randomness for notebooks.

``%load_ext seedmagic`` adds ``%seed`` and ``%%seeded``; the same features
are plain functions here. Importing seedmagic imports neither IPython, NumPy,
torch nor ipywidgets: each is touched only when it is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core import MAX_SEED, SeedError, derive_seed, generators, peek, seed, seeded, snapshot
from .state import Snapshot

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__all__ = [
    "MAX_SEED",
    "SeedError",
    "Snapshot",
    "derive_seed",
    "generators",
    "load_ipython_extension",
    "peek",
    "seed",
    "seeded",
    "snapshot",
    "unload_ipython_extension",
]

__version__ = "0.1.0"


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """``%load_ext seedmagic``: the IPython glue is imported only now."""
    from .magics import load

    load(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """``%unload_ext seedmagic``: remove the magics, callbacks and import hook."""
    from .magics import unload

    unload(ipython)
