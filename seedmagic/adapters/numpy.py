"""NumPy: the legacy global ``RandomState`` behind ``np.random.rand``, and the generators users hold.

This module is ``seedmagic.adapters.numpy``; ``import numpy`` here is still
NumPy itself (absolute imports), though NumPy is reached through
``sys.modules`` wherever it may not be imported yet.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from .detect import is_installed
from .protocol import Adapter, CheckFacts, UserKind
from .states import MT_WORDS, _fields, _gaussian, _mt_key


#: The fields of the state as data (``encode``).
_FIELDS = frozenset({"bit_generator", "key", "pos", "has_gauss", "gauss"})


class NumpyGlobal:
    """NumPy's legacy global ``RandomState`` behind ``np.random.rand`` and friends.

    Since NumPy 1.25 code can swap its bit generator (``np.random.set_bit_generator``): the adapter is
    ``Swappable``, so a scope puts the bit generator it found back, and a state from a file goes into
    a bit generator of its own kind.
    """

    name: str = "numpy"
    module: str | None = "numpy"
    digits: int = 8
    facts: CheckFacts = CheckFacts("numpy", "np.random.seed(N)", {"numpy.random.seed": True},
                                   frozenset({"numpy.random.set_bit_generator"}))
    #: ``get_state`` copies the key into an array word by word: put back last, without a rollback copy.
    restored_last: bool = True

    def is_available(self) -> bool:
        return is_installed("numpy")

    def seed(self, n: int | None) -> None:
        """``np.random.seed(n)``; over a bit generator other than an MT19937 (code swapped it), NumPy keeps the
        cached Gaussian, so the next normal draw would depend on what came before: it is dropped."""
        random = sys.modules["numpy"].random
        holder = self.holder()
        swapped = holder is not None and not isinstance(holder, random.MT19937)
        if swapped:
            random.get_state(legacy=False)  # one whose state cannot be read is refused before the seed moves it
        random.seed(n)
        if swapped:
            state = random.get_state(legacy=False)
            if state["has_gauss"]:
                random.set_state({**state, "has_gauss": 0, "gauss": 0.0})

    def holder(self) -> Any:
        """The global generator's bit generator (None before NumPy 1.25, where code cannot swap it)."""
        get = getattr(sys.modules["numpy"].random, "get_bit_generator", None)
        return None if get is None else get()

    def reinstate(self, holder: Any) -> None:
        sys.modules["numpy"].random.set_bit_generator(holder)

    def get_state(self) -> dict[str, Any]:
        """NumPy's own dict: the key, the position and the cached Gaussian."""
        return sys.modules["numpy"].random.get_state(legacy=False)

    def set_state(self, state: dict[str, Any]) -> None:
        """NumPy's ``set_state``, with the key as a list: NumPy copies it word by word, and reading an array
        word by word costs about 15 times more than reading a list (the same words, the same state).

        A state for another kind of bit generator than the one there now (code swapped it, and the state
        comes from a file) first gets a new bit generator of its kind: NumPy's ``set_state`` would refuse
        it only after changing the cached Gaussian.
        """
        numpy = sys.modules["numpy"]
        inner = state.get("state") if type(state) is dict else None
        if type(inner) is dict and type(inner.get("key")) is numpy.ndarray and inner["key"].dtype == numpy.uint32:
            state = {**state, "state": {**inner, "key": inner["key"].tolist()}}
        holder = self.holder()
        if holder is not None and type(state) is dict and state.get("bit_generator") != type(holder).__name__:
            _put_back_bit_generator(numpy.random, state)
        numpy.random.set_state(state)

    def peek(self, k: int) -> dict[str, list[float]]:
        """A copy's draws; over a subclass of a NumPy bit generator (swapped in by code), a copy of its NumPy kind."""
        holder = self.holder()
        kind = None if holder is None else _numpy_bit_generator_class(holder)
        return {self.name: _state_peek(sys.modules["numpy"].random.get_state(legacy=False), k, kind)}

    def fresh(self, state: dict[str, Any]) -> bool:
        """Seeding leaves the position at the end of the key (623 from entropy, 624 from an integer), no Gaussian.

        A draw lands there too once in about 300 states: "fresh" is almost sure, not certain.
        """
        if state.get("bit_generator") != "MT19937":  # a bit generator swapped in: not as NumPy seeds itself
            return False
        return int(state["state"]["pos"]) >= MT_WORDS - 1 and not state["has_gauss"]

    def encode(self, state: dict[str, Any]) -> dict[str, Any]:
        if state["bit_generator"] != "MT19937":
            raise TypeError(f"NumPy's global generator holds a {state['bit_generator']} (np.random.set_bit_generator); "
                            "states are saved for an MT19937 only")
        key = state["state"]["key"]
        return {"bit_generator": state["bit_generator"], "key": key.tolist() if hasattr(key, "tolist") else list(key),
                "pos": int(state["state"]["pos"]), "has_gauss": int(state["has_gauss"]),
                "gauss": float(state["gauss"])}

    def decode(self, data: Any) -> dict[str, Any]:
        """NumPy's ``set_state`` checks neither the position nor the Gaussian: a bad one crashes the process.

        Those are checked here; the key's words are checked by rehearsal on a
        private ``random.Random`` (``_mt_key``), and the whole state is then
        rehearsed with NumPy's own ``set_state`` on a private ``RandomState``.
        The key stays a list, which ``set_state`` copies fastest.
        """
        data = _fields(data, _FIELDS, "the numpy state")
        if data["bit_generator"] != "MT19937":
            raise ValueError("the numpy state must be of bit generator MT19937 (np.random.get_state())")
        pos = data["pos"]
        if type(pos) is not int or not 0 <= pos <= MT_WORDS:
            raise ValueError(f"the numpy position must be an integer from 0 to {MT_WORDS}")
        if data["has_gauss"] not in (0, 1) or type(data["has_gauss"]) is not int:
            raise ValueError("the numpy has_gauss must be 0 or 1")
        gauss = _gaussian(data["gauss"], "the numpy cached Gaussian")
        key = _mt_key(data["key"], "the numpy key")
        state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}, "has_gauss": data["has_gauss"],
                 "gauss": gauss}
        try:
            _rehearsal().set_state(state)
        except (TypeError, ValueError, OverflowError, IndexError, KeyError) as error:
            raise ValueError(f"the numpy state is not one NumPy accepts: {error}") from None
        return state


def _put_back_bit_generator(numpy_random: Any, state: dict[str, Any]) -> None:
    """Give the global generator a new bit generator of the kind ``state`` is for, in that state (the caller
    then sets the whole state again: ``set_bit_generator`` drops the cached Gaussian).

    The new bit generator takes the whole state on a private ``RandomState`` first, so a state it refuses
    leaves the global one as it was; a state of none of NumPy's own kinds is refused before anything moves.
    """
    name = state.get("bit_generator")
    if type(name) is not str or name not in _OWN_BIT_GENERATORS:
        raise ValueError(f"the numpy state is for a {str(name)[:40]}, none of NumPy's own bit generators")
    fresh = getattr(numpy_random, name)(0)  # seeded: no entropy to read, the state replaces it at once
    numpy_random.RandomState(fresh).set_state(state)
    numpy_random.set_bit_generator(fresh)


@functools.cache
def _rehearsal() -> Any:
    """A private ``RandomState`` that states from files are rehearsed on (``set_state`` only, never a draw),
    made once: making one costs as much as a hundred rehearsals."""
    return sys.modules["numpy"].random.RandomState(0)


def _randomstate_peek(generator: Any, k: int) -> list[float]:
    """``random_sample(k)`` from a copy of a NumPy ``RandomState``, made through its public state."""
    return _state_peek(sys.modules["numpy"].random.RandomState.get_state(generator, legacy=False), k)


def _state_peek(state: dict[str, Any], k: int, kind: Any = None) -> list[float]:
    """``random_sample(k)`` from a private ``RandomState`` in ``state`` (a ``RandomState``'s), over a bit
    generator of ``kind``, else of the kind the state names, which must be one of NumPy's own."""
    random_module = sys.modules["numpy"].random
    if kind is None:
        kind = getattr(random_module, state["bit_generator"], None)
        if not (isinstance(kind, type) and issubclass(kind, random_module.BitGenerator)):
            raise ValueError(f"unknown bit generator {state['bit_generator']!r}")
    copy = random_module.RandomState(kind(0))  # seeded: no entropy to read, the state replaces it at once
    copy.set_state({**state, "bit_generator": kind.__name__})
    return copy.random_sample(k).tolist()


# A user's generator may be of a subclass whose methods do anything (log, draw, raise): only the
# library's own methods are called on it, through its base class.


#: NumPy's own bit generators, by name (as a state names its kind).
_OWN_BIT_GENERATORS = ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64")


def _numpy_bit_generator_class(bit_generator: Any) -> Any:
    """NumPy's own bit generator class that ``bit_generator`` is (or extends); found by identity."""
    numpy_random = sys.modules["numpy"].random
    known = [getattr(numpy_random, name) for name in _OWN_BIT_GENERATORS if hasattr(numpy_random, name)]
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


def _randomstate_state(obj: Any) -> dict[str, Any]:
    return sys.modules["numpy"].random.RandomState.get_state(obj, legacy=False)


def _generator_peek(obj: Any, k: int) -> list[float]:
    bit_generator, state = _bit_generator_of(obj)
    copy = _numpy_bit_generator_class(bit_generator)(0)  # seeded: no entropy to read, the state replaces it
    copy.state = {**state, "bit_generator": type(copy).__name__}  # a subclass's state names the subclass
    return sys.modules["numpy"].random.Generator(copy).random(k).tolist()


#: ``np.random.RandomState`` objects (the legacy API).
RANDOM_STATE = UserKind(
    word="RandomState", display="np.random.RandomState", module="numpy",
    base=lambda numpy: numpy.random.RandomState, state=_randomstate_state, peek=_randomstate_peek, digits=8,
    facts=CheckFacts("numpy", "np.random.RandomState(N)"), entropy_constructors=frozenset({"RandomState"}))

#: ``np.random.Generator`` objects (``default_rng``), over any of NumPy's own bit generators.
GENERATOR = UserKind(
    word="numpy.Generator", display="np.random.Generator", module="numpy",
    base=lambda numpy: numpy.random.Generator, state=lambda obj: _bit_generator_of(obj)[1], peek=_generator_peek,
    digits=8, facts=CheckFacts("numpy", "np.random.default_rng(N)"),
    entropy_constructors=frozenset({"default_rng", "Generator", "MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64"}))


#: What this library adds to the registry (``catalog.LIBRARIES``).
ADAPTERS: tuple[Adapter, ...] = (NumpyGlobal(),)
KINDS: tuple[UserKind, ...] = (RANDOM_STATE, GENERATOR)
