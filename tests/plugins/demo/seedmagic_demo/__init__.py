"""A tiny global random generator (xorshift64*), and its seedmagic adapter.

It stands for any library with hidden global randomness that wants
``%seed`` to cover it: the adapter is found through the entry-point group
``seedmagic.generators`` declared in pyproject.toml.
"""

from __future__ import annotations

_MASK = 2**64 - 1
START = 88172645463325252
_state = [START]


def _next(x: int) -> int:
    x ^= (x >> 12)
    x ^= (x << 25) & _MASK
    x ^= (x >> 27)
    return x


def _float(x: int) -> float:
    return ((x * 2685821657736338717) & _MASK) / 2**64


def seed(n: int) -> None:
    _state[0] = (n * 0x9E3779B97F4A7C15 + 1) & _MASK or START


def random() -> float:
    _state[0] = _next(_state[0])
    return _float(_state[0])


class DemoAdapter:
    name = "demo"
    module = "seedmagic_demo"
    digits = 6

    def is_available(self) -> bool:
        return True

    def seed(self, n: int | None) -> None:
        if n is None:
            _state[0] = START
        else:
            seed(n)

    def get_state(self) -> int:
        return _state[0]

    def set_state(self, state: int) -> None:
        if type(state) is not int or not 0 < state <= _MASK:
            raise ValueError(f"a demo state is an integer from 1 to 2**64-1, got {state!r}")
        _state[0] = state

    def peek(self, k: int) -> dict[str, list[float]]:
        x, draws = _state[0], []
        for _ in range(k):
            x = _next(x)
            draws.append(_float(x))
        return {self.name: draws}
