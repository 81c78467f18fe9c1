"""The least public-API code that keeps seedmagic's guarantees that cost time: the floors they set.

``bench.py`` times these beside seedmagic and beside the bare floors (the
least code, Lightning), so that a target missed shows how much of the miss
is the guarantee and how much is seedmagic:

- ``least_guarded``: the least scope that Ctrl-C cannot cut in half (a
  signal that arrives while it seeds or restores waits until it is done,
  even if the body replaced the SIGINT handler) and that publishes the seed
  in force for child processes (``SEEDMAGIC_SEED``): the least hand-written
  scope plus four ``signal`` calls (read and install, check at the exit, give back)
  and the environment written when the seed in force changes.
- ``least_checked_state_dict`` / ``least_checked_load``: the least RNG
  checkpoint that checks what seedmagic's ``load_state_dict`` checks before
  anything moves (every field, every key word, no all-zero key, no poisoned
  cached Gaussian, torch's state tried on a private generator), puts the
  states back under the same Ctrl-C guard, and rolls back on a failure.
  Its document is plain data and tensors, as ``weights_only`` loads.

They know only random, NumPy and torch (NumPy's own MT19937: not a bit
generator code swapped in), keep no history, take no plugin, and the
checkpoint carries no seeds: what seedmagic does beyond them is its own cost.
"""

from __future__ import annotations

import math
import os
import random
import signal
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import numpy as np
import torch

MT_WORDS = 624
SEED_VARIABLE = "SEEDMAGIC_SEED"
MAX_GAUSS = 16.0


class _Deferred:
    """A SIGINT handler that only notes a signal while ``holding`` (seeding, restoring) and passes any other
    at once to the handler it stands in front of (``previous``), as seedmagic's does."""

    def __init__(self) -> None:
        self.previous: Any = signal.default_int_handler
        self.holding = True
        self.arrived = False
        self.in_force = False

    def stand_in_front(self) -> None:
        """Go in front of the handler in force, unless it is this one or not a Python function: ignored or the
        default have nothing to defer, and one set outside Python (``None``) ``signal.signal`` cannot put back,
        so it is read before it is replaced."""
        current = signal.getsignal(signal.SIGINT)
        if current is self:
            return
        self.in_force = callable(current)
        if self.in_force:
            self.previous = current
            signal.signal(signal.SIGINT, self)

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.holding:
            self.arrived = True
        elif callable(self.previous):
            self.previous(signum, frame)

    def deliver(self) -> None:
        """A signal that waited goes to ``previous`` now."""
        if self.arrived and callable(self.previous):
            self.arrived = False
            self.previous(signal.SIGINT, None)


@contextmanager
def _ctrl_c_waits() -> Iterator[_Deferred]:
    """Ctrl-C meanwhile waits until the block is done, then reaches the handler that was there (``previous``)."""
    deferred = _Deferred()
    deferred.stand_in_front()
    try:
        yield deferred
    finally:
        if deferred.in_force:
            signal.signal(signal.SIGINT, deferred.previous)
        deferred.deliver()


@contextmanager
def least_guarded(n: int) -> Iterator[None]:
    """The least hand-written scope that keeps a scope's guarantees that cost time.

    Ctrl-C waits while the scope seeds and while it restores (the handler is installed for the scope's whole
    life, so that the exit is covered from its first instruction; in the body a signal passes at once), also
    when the body replaced the handler (it is checked at the exit, and the body's handler is the one that
    stays); the seed in force is published for child processes, and the one before put back.
    """
    with _ctrl_c_waits() as deferred:
        states = random.getstate(), np.random.get_state(), torch.default_generator.get_state()
        random.seed(n)
        np.random.seed(n)
        torch.default_generator.manual_seed(n)
        published = os.environ.get(SEED_VARIABLE)
        if published != str(n):
            os.environ[SEED_VARIABLE] = str(n)
        try:
            deferred.holding = False
            deferred.deliver()  # one that waited while seeding: the restore below still runs
            yield
        finally:
            deferred.holding = True
            deferred.stand_in_front()  # the body replaced it: hold Ctrl-C off again, then leave the body's
            random.setstate(states[0])
            np.random.set_state(states[1])
            torch.default_generator.set_state(states[2])
            if os.environ.get(SEED_VARIABLE) != published:
                if published is None:
                    del os.environ[SEED_VARIABLE]
                else:
                    os.environ[SEED_VARIABLE] = published


def least_checked_state_dict() -> dict[str, Any]:
    """The three states as plain data (NumPy's key as a list, which ``set_state`` takes fastest) and a tensor."""
    version, internal, gauss_next = random.getstate()
    numpy_state = np.random.get_state(legacy=False)
    return {"random": {"version": version, "key": list(internal[:MT_WORDS]), "pos": internal[MT_WORDS],
                       "gauss_next": gauss_next},
            "numpy": {"bit_generator": numpy_state["bit_generator"], "key": numpy_state["state"]["key"].tolist(),
                      "pos": numpy_state["state"]["pos"], "has_gauss": numpy_state["has_gauss"],
                      "gauss": numpy_state["gauss"]},
            "torch": torch.default_generator.get_state()}


def _fields(data: Any, names: set[str]) -> dict[str, Any]:
    if type(data) is not dict or data.keys() != names:
        raise ValueError(f"expected exactly the fields {sorted(names)}")
    return data


def _key(data: Any) -> array:
    """624 words, each an integer from 0 to 2**32 - 1 (checked in C by the array), not all zero where the
    recurrence reads them (the first word's top bit, and the others)."""
    if type(data) is not list or len(data) != MT_WORDS:
        raise ValueError("a key must be a list of 624 integers")
    words = array("I", data)
    if not words[0] & 0x80000000 and not any(words[1:]):
        raise ValueError("an all-zero key")
    return words


def _position(data: Any) -> int:
    if type(data) is not int or not 0 <= data <= MT_WORDS:
        raise ValueError("a position must be an integer from 0 to 624")
    return data


def _gaussian(value: Any) -> float:
    if type(value) not in (int, float) or not math.isfinite(value) or abs(value) > MAX_GAUSS:
        raise ValueError("a cached Gaussian must be a finite number no larger than 16")
    return float(value)


def _torch_state(data: Any) -> torch.Tensor:
    """A copy of a CPU uint8 state of the right size, tried on a private generator: draws that are all
    equal (an all-zero key) or normal draws that are absurd (a poisoned cached Gaussian) are refused."""
    if (type(data) is not torch.Tensor or data.dtype != torch.uint8 or not data.is_cpu
            or data.shape != torch.default_generator.get_state().shape):
        raise ValueError("torch's state must be a CPU uint8 tensor of its size")
    state = data.clone()
    scratch = torch.Generator()
    scratch.set_state(state)
    normal = torch.randn(4, generator=scratch, dtype=torch.float64).tolist()
    uniform = torch.rand(16, generator=scratch, dtype=torch.float64).tolist()
    if len(set(uniform)) == 1 or not all(abs(value) <= MAX_GAUSS for value in normal):
        raise ValueError("torch's key or cached Gaussian is corrupt")
    return state


def least_checked_load(document: Any) -> None:
    """Check the whole document, then put the three states back under the Ctrl-C guard, rolling back on a failure."""
    document = _fields(document, {"random", "numpy", "torch"})
    python = _fields(document["random"], {"version", "key", "pos", "gauss_next"})
    if python["version"] != 3:
        raise ValueError("random's state must be of version 3")
    gauss_next = None if python["gauss_next"] is None else _gaussian(python["gauss_next"])
    python_state = (3, (*_key(python["key"]), _position(python["pos"])), gauss_next)
    numpy = _fields(document["numpy"], {"bit_generator", "key", "pos", "has_gauss", "gauss"})
    if numpy["bit_generator"] != "MT19937":
        raise ValueError("NumPy's state must be of MT19937")
    if type(numpy["has_gauss"]) is not int or numpy["has_gauss"] not in (0, 1):
        raise ValueError("has_gauss must be 0 or 1")
    numpy_state = {"bit_generator": "MT19937", "state": {"key": _key(numpy["key"]).tolist(),
                                                         "pos": _position(numpy["pos"])},
                   "has_gauss": numpy["has_gauss"], "gauss": _gaussian(numpy["gauss"])}
    torch_state = _torch_state(document["torch"])
    with _ctrl_c_waits():
        python_before, torch_before = random.getstate(), torch.default_generator.get_state()
        try:
            random.setstate(python_state)
            torch.default_generator.set_state(torch_state)
            np.random.set_state(numpy_state)  # last: slow to read, so no rollback copy (as seedmagic)
        except BaseException:
            random.setstate(python_before)
            torch.default_generator.set_state(torch_before)
            raise
