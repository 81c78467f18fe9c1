"""Python's ``random``: the module's hidden generator, and the ``random.Random`` objects users hold."""

from __future__ import annotations

import random
from typing import Any

from .protocol import Adapter, CheckFacts, UserKind
from .states import MT_WORDS, _fields, _gaussian, _mt_key


#: The fields of the state as data (``encode``).
_FIELDS = frozenset({"version", "key", "pos", "gauss_next"})


class PythonRandom:
    """Python's ``random`` module: the hidden ``random.Random`` behind its functions."""

    name: str = "random"
    module: str | None = None
    digits: int = 8
    facts: CheckFacts = CheckFacts("python", "random.seed(N)", {"random.seed": True})

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
        data = _fields(data, _FIELDS, "the random state")
        if data["version"] != 3:
            raise ValueError("the random state must be of version 3 (Python's random.getstate())")
        pos = data["pos"]
        if type(pos) is not int or not 0 <= pos <= MT_WORDS:
            raise ValueError(f"the random position must be an integer from 0 to {MT_WORDS}")
        gauss_next = _gaussian(data["gauss_next"], "the random gauss_next", allow_none=True)
        state = (3, (*_mt_key(data["key"], "the random key"), pos), gauss_next)
        try:
            _REHEARSAL.setstate(state)  # what the restore will do, on a private generator
        except (TypeError, ValueError, OverflowError) as error:
            raise ValueError(f"the random state is not one Python accepts: {error}") from None
        return state


#: A private ``random.Random`` that states from files are rehearsed on (``setstate`` only, never a draw).
#: Seeded with 0, so that making it reads no OS entropy.
_REHEARSAL = random.Random(0)


def _random_peek(state: tuple[Any, ...], k: int) -> list[float]:
    copy = random.Random()
    copy.setstate(state)
    return [copy.random() for _ in range(k)]


def _random_state(obj: Any) -> tuple[Any, ...]:
    """``random.Random.getstate``, refused for a subclass that redefines what it reads (it would run)."""
    for cls in type.__dict__["__mro__"].__get__(type(obj)):
        if cls is random.Random:
            break
        if not _STATE_NAMES.isdisjoint(type.__dict__["__dict__"].__get__(cls)):
            raise TypeError(f"{cls.__name__} redefines how a random.Random's state is read")
    return random.Random.getstate(obj)


#: What ``random.Random.getstate`` reads through ``self``, and the hooks of attribute access.
_STATE_NAMES = frozenset({"VERSION", "gauss_next", "getstate", "__getattribute__", "__getattr__", "__dict__"})


#: ``random.Random`` objects; ``random.SystemRandom`` has no state to read or preview.
RANDOM = UserKind(
    word="random", display="random.Random", module="random", base=lambda module: random.Random,
    state=_random_state, peek=lambda obj, k: _random_peek(_random_state(obj), k), digits=8,
    facts=CheckFacts("python", "random.Random(N)"), entropy_constructors=frozenset({"Random"}),
    unreadable=lambda module: (random.SystemRandom,))


#: What this library adds to the registry (``catalog.LIBRARIES``).
ADAPTERS: tuple[Adapter, ...] = (PythonRandom(),)
KINDS: tuple[UserKind, ...] = (RANDOM,)
