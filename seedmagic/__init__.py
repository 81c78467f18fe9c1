"""seedmagic: reproducible randomness for notebooks.

``%load_ext seedmagic`` adds ``%seed`` and ``%%seeded``; the same features
are plain functions here. Importing seedmagic imports neither IPython, NumPy,
torch nor ipywidgets: each is touched only when it is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core import MAX_SEED, SeedError, derive_seed, generators, peek, seed, seeded, snapshot
from .state import Snapshot

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .widget import SeedPanel

__all__ = [
    "MAX_SEED",
    "SeedError",
    "Snapshot",
    "derive_seed",
    "generators",
    "load_ipython_extension",
    "panel",
    "peek",
    "seed",
    "seeded",
    "snapshot",
    "unload_ipython_extension",
]

__version__ = "0.1.0"


def panel(k: int = 5, precision: int | None = None) -> SeedPanel:
    """The live ``SeedPanel`` (ipywidgets is imported only now).

    Inside IPython it follows the cells and lists the generators in the
    user's namespace; there is one per process, so calling this again
    returns the same live panel.
    """
    from IPython import get_ipython

    from .widget import shared_panel

    return shared_panel(get_ipython(), k=k, precision=precision)


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """``%load_ext seedmagic``: the IPython glue is imported only now."""
    from .magics import load

    load(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """``%unload_ext seedmagic``: remove the magics, callbacks and import hook."""
    from .magics import unload

    unload(ipython)
