"""seedmagic: reproducible randomness for notebooks.

``%load_ext seedmagic`` adds ``%seed`` and ``%%seeded``; the same features
are plain functions here. Importing seedmagic imports neither IPython, NumPy,
torch nor ipywidgets: each is touched only when it is needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .core import MAX_SEED, active_seed, derive_seed, generators, peek, seed, seeded, snapshot
    from .events import Event
    from .processes import (load_state_dict, pool_initializer, seed_process, spawn, state_dict, torch_generator,
                            worker_init_fn)
    from .session import SeedError
    from .snapshots import Snapshot
    from .widget import SeedPanel

__all__ = [
    "MAX_SEED",
    "Event",
    "SeedError",
    "Snapshot",
    "active_seed",
    "derive_seed",
    "generators",
    "history",
    "load_ipython_extension",
    "load_state_dict",
    "panel",
    "peek",
    "pool_initializer",
    "seed",
    "seed_process",
    "seeded",
    "snapshot",
    "spawn",
    "state_dict",
    "torch_generator",
    "unload_ipython_extension",
    "worker_init_fn",
]

__version__ = "0.3.0"

#: Where each public name lives. They are imported at first use, so that ``%load_ext seedmagic`` imports
#: only the glue and what the cell watch needs: the rest (scopes, snapshots, state files, processes) comes
#: with the first ``%seed`` (PEP 562).
_LAZY = {
    **dict.fromkeys(("MAX_SEED", "active_seed", "derive_seed", "generators", "peek", "seed", "seeded", "snapshot"),
                    "core"),
    **dict.fromkeys(("load_state_dict", "pool_initializer", "seed_process", "spawn", "state_dict",
                     "torch_generator", "worker_init_fn"), "processes"),
    "Event": "events",
    "SeedError": "session",
    "Snapshot": "snapshots",
}


#: The submodules, reached as attributes too (``seedmagic.core``), as when the package imported them all.
_SUBMODULES = frozenset({
    "adapters", "atomicfile", "cellcode", "check", "core", "determinism", "events", "importhook", "interrupts",
    "magicline", "magics", "probe", "processes", "pytest_plugin", "ranks", "scopes", "session", "snapshots",
    "statefile", "status", "torchcompat", "watch", "widget",
})


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)  # which also makes it an attribute
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'seedmagic' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def history() -> list[Event]:
    """Every seeding of the session, oldest first (the last 1000; older ones are counted as dropped)."""
    from .session import history as recorded

    return recorded.events


def panel(k: int = 5, precision: int | None = None) -> SeedPanel:
    """The live ``SeedPanel`` (ipywidgets is imported only now).

    Inside IPython it follows the cells and lists the generators in the
    user's namespace; there is one per process, so calling this again
    returns the same live panel.
    """
    from IPython import get_ipython

    from .core import validate_setting
    from .status import MAX_K, MAX_PRECISION, MIN_K, MIN_PRECISION

    # The ranges SeedMagics.peek and .precision allow, refused in one line before any panel is made.
    k = validate_setting(k, "k", MIN_K, MAX_K)
    precision = None if precision is None else validate_setting(precision, "precision", MIN_PRECISION, MAX_PRECISION)
    from .widget import shared_panel

    return shared_panel(get_ipython(), k=k, precision=precision)


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """``%load_ext seedmagic``: the IPython glue is imported only now."""
    from .magics import load

    load(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """``%unload_ext seedmagic``: remove the magics and callbacks (seeds already due stay due)."""
    from .magics import unload

    unload(ipython)
