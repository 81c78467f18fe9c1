"""Fast copies of NumPy's global ``RandomState``, equal to ``get_state``/``set_state``.

``np.random.get_state()`` copies MT19937's 624-word key one element at a
time: about 30 µs, and a scope needs a get and a set. MT19937 publishes the
address of its state struct (key and position) through its ``ctypes``
interface, so that is copied as 2,500 raw bytes instead. The cached Gaussian
lives in the ``RandomState`` object, which publishes no address: its place is
found once, on scratch ``RandomState`` objects, and checked against
``get_state`` and ``set_state``. Whenever anything does not match (another
NumPy, another bit generator), ``capture`` returns None and seedmagic uses
NumPy's own calls. ``tests/test_fast_paths.py`` proves the two equal.
"""

from __future__ import annotations

import ctypes
import struct
from dataclasses import dataclass
from typing import Any

#: MT19937's ``mt19937_state``: ``uint32_t key[624]; int pos;``.
_KEY_WORDS = 624
_STATE_BYTES = _KEY_WORDS * 4 + 4
#: ``int has_gauss`` (padded to 8 bytes), then ``double gauss``.
_GAUSS_BYTES = 16


@dataclass(frozen=True)
class RawState:
    """A copy of the global RandomState: the MT19937 struct and the cached-Gaussian bytes."""

    bit_generator: Any
    key_and_pos: bytes
    gauss: bytes

    def portable(self) -> dict[str, Any]:
        """The same dict ``np.random.get_state(legacy=False)`` returns."""
        import numpy as np

        has_gauss, gauss = struct.unpack("i4xd", self.gauss)
        return {
            "bit_generator": "MT19937",
            "state": {
                "key": np.frombuffer(self.key_and_pos, dtype=np.uint32, count=_KEY_WORDS).copy(),
                "pos": struct.unpack_from("i", self.key_and_pos, _KEY_WORDS * 4)[0],
            },
            "has_gauss": has_gauss,
            "gauss": gauss,
        }


_UNKNOWN = -1
_gauss_offset: int | None = _UNKNOWN


def gauss_offset() -> int | None:
    """Where a RandomState keeps ``has_gauss``/``gauss``, or None if it cannot be pinned down."""
    global _gauss_offset
    if _gauss_offset == _UNKNOWN:
        _gauss_offset = _find_gauss_offset()
    return _gauss_offset


def _with_gauss(generator: Any, has_gauss: int, gauss: float) -> Any:
    state = generator.get_state(legacy=False)
    state["has_gauss"], state["gauss"] = has_gauss, gauss
    generator.set_state(state)
    return generator


def _find_gauss_offset() -> int | None:
    import numpy as np

    size = np.random.RandomState.__basicsize__
    marker = 0.3141592653589793e-7
    probe = _with_gauss(np.random.RandomState(np.random.MT19937(1)), 1, marker)
    memory = ctypes.string_at(id(probe), size)
    wanted = struct.pack("i4xd", 1, marker)
    offset = memory.find(wanted)
    if offset < 0 or memory.find(wanted, offset + 1) >= 0:
        return None
    for has_gauss, gauss in ((0, 0.0), (1, -2.5), (1, 1e300), (0, 7.25)):
        check = np.random.RandomState(np.random.MT19937(2))
        _with_gauss(check, has_gauss, gauss)
        if ctypes.string_at(id(check) + offset, _GAUSS_BYTES) != struct.pack("i4xd", has_gauss, gauss):
            return None
        ctypes.memmove(id(check) + offset, struct.pack("i4xd", 1, 0.5), _GAUSS_BYTES)
        state = check.get_state(legacy=False)
        if (state["has_gauss"], state["gauss"]) != (1, 0.5):
            return None
    return offset


def _usable(generator: Any) -> tuple[Any, int] | None:
    """The generator's MT19937 and where its Gaussian is, if the raw copy applies to it."""
    import numpy as np

    bit_generator = generator._bit_generator
    offset = gauss_offset()
    if type(bit_generator) is not np.random.MT19937 or offset is None:
        return None
    return bit_generator, offset


def capture(generator: Any) -> RawState | None:
    """Copy a RandomState's state, or None where only ``get_state`` will do."""
    usable = _usable(generator)
    if usable is None:
        return None
    bit_generator, offset = usable
    with bit_generator.lock:
        return RawState(
            bit_generator,
            ctypes.string_at(bit_generator.ctypes.state_address, _STATE_BYTES),
            ctypes.string_at(id(generator) + offset, _GAUSS_BYTES),
        )


def restore(generator: Any, state: RawState) -> bool:
    """Put a captured state back; False if the generator's bit generator has been replaced since."""
    usable = _usable(generator)
    if usable is None or usable[0] is not state.bit_generator:
        return False
    bit_generator, offset = usable
    with bit_generator.lock:
        ctypes.memmove(bit_generator.ctypes.state_address, state.key_and_pos, _STATE_BYTES)
        ctypes.memmove(id(generator) + offset, state.gauss, _GAUSS_BYTES)
    return True
