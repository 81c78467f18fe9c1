"""The registry: every global generator (built in, then plugins) and every kind of generator users hold.

Not named ``registry.py``: ``seedmagic.adapters.registry`` is the function
below, re-exported by the package, and a module of the same name would be
hidden behind it (``import seedmagic.adapters.registry as r`` gives the function).

A built-in library is one module of this package plus one line here: its
adapters in ``BUILTIN``, the kinds of generator its users hold in ``KINDS``.
Everything else (status, the probe, ``seedmagic check``, state files) reads
these.
"""

from __future__ import annotations

import warnings
from typing import Any

from . import numpy, python, torch  # this package's modules (absolute imports still reach the libraries)
from .detect import loaded_module
from .pluginscan import entry_points, load
from .protocol import Adapter, CheckFacts, UserKind, facts

#: Entry-point group through which other packages add generators.
ENTRY_POINT_GROUP = "seedmagic.generators"

#: The built-in libraries, each one module with its ``ADAPTERS`` and ``KINDS``, in the order they are listed.
LIBRARIES = (python, numpy, torch)

BUILTIN: tuple[Adapter, ...] = tuple(adapter for library in LIBRARIES for adapter in library.ADAPTERS)
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
    try:
        points = entry_points(ENTRY_POINT_GROUP)
    except Exception as error:  # unreadable metadata must never break seeding
        warnings.warn(f"seedmagic: could not list generator plugins: {error}", stacklevel=2)
        return {}
    plugins: dict[str, Adapter] = {}
    for name, value in points:
        try:
            loaded = load(value)
            adapter = loaded() if isinstance(loaded, type) else loaded
            if not isinstance(adapter, Adapter):
                raise TypeError("it does not provide name, module, digits, seed, get_state, set_state and peek")
            if adapter.name in taken or adapter.name in plugins:
                raise ValueError(f"the name {adapter.name!r} is taken")
        except Exception as error:  # a plugin must never break seeding
            warnings.warn(f"seedmagic: skipped generator plugin {name!r}: {error}", stacklevel=2)
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


#: The kinds of generator users hold, in the order they are recognised.
KINDS: tuple[UserKind, ...] = tuple(kind for library in LIBRARIES for kind in library.KINDS)
#: Each kind by its word ("numpy.Generator"), the form probe records and ``seedmagic check --json`` carry.
KIND_BY_WORD = {kind.word: kind for kind in KINDS}


def user_kind(obj: object) -> UserKind | None:
    """Which kind of user-created generator ``obj`` is, from its type alone (see ``UserKind``).

    Only ``type(obj)`` and its MRO are read; None for anything else, for
    a kind whose library is not imported, and for generators whose state
    cannot be read (``random.SystemRandom``).
    """
    mro = type.__dict__["__mro__"].__get__(type(obj))

    def extends(cls: type) -> bool:  # by identity: ``in`` would call a metaclass's __eq__
        return any(base is cls for base in mro)

    for kind in KINDS:
        module = loaded_module(kind.module)
        if module is not None and extends(kind.base(module)):
            return None if any(extends(cls) for cls in kind.unreadable(module)) else kind
    return None


def user_generator_kind(obj: object) -> str | None:
    """The word of ``obj``'s kind ("random", "RandomState", "numpy.Generator", "torch.Generator"), or None."""
    kind = user_kind(obj)
    return None if kind is None else kind.word


def peek_object(obj: Any, k: int) -> tuple[list[float], int] | None:
    """Next ``k`` draws of a generator the user created, and the decimals to show them with."""
    kind = user_kind(obj)
    return None if kind is None else (kind.peek(obj, k), kind.digits)


def object_state(obj: Any) -> Any:
    """The state of a user-created generator, for fingerprints."""
    kind = user_kind(obj)
    if kind is None:
        raise TypeError(f"a {type(obj).__name__} is no generator seedmagic can read")
    return kind.state(obj)


def check_facts() -> dict[str, CheckFacts]:
    """What ``seedmagic check`` knows of each global generator, by name (a plugin that gives no facts is absent).

    The kinds users hold carry theirs in ``KINDS``.
    """
    return {name: known for name, adapter in registry().items() if (known := facts(adapter)) is not None}
