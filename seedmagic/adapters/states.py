"""Generator states as data: the checks every ``decode`` shares, and fingerprints.

A state from a file is data from anywhere: these checks refuse what no real
generator can be in, because some libraries crash on such states instead of
raising. A fingerprint is a short digest that is equal for equal states in
every process.
"""

from __future__ import annotations

import math
from array import array
from typing import Any

#: MT19937's key length (Python's ``random`` and NumPy's legacy generator).
MT_WORDS = 624


#: An array of unsigned 32-bit words: filling one checks, in C, that each value is an integer that fits.
_WORDS = "I" if array("I").itemsize == 4 else "L"
#: Whether that array's words are wider than 32 bits after all (no platform CPython runs on), so a word
#: that fits them may still be too large.
_WIDE = array(_WORDS).itemsize != 4
#: The one bit of an MT19937 key's first word that its recurrence reads: with it and every other word zero,
#: the generator gives zeros for ever (and a normal draw never ends).
_TOP_BIT = 0x80000000


def _mt_key(data: Any, what: str) -> list[int]:
    """A copy of an MT19937 key: 624 unsigned 32-bit words, not all zero where the recurrence reads them (no
    seeding reaches that).

    The words are checked in C, by filling an array of unsigned 32-bit words
    with them (it refuses anything that is not an integer, negative words and
    words that do not fit): a tenth of the time of a Python loop.
    """
    if type(data) is not list or len(data) != MT_WORDS:
        raise ValueError(f"{what} must be a list of {MT_WORDS} integers")
    key = list(data)  # a copy: the caller's list may change after the check
    try:
        array(_WORDS, key)
    except (TypeError, OverflowError):
        raise ValueError(f"{what} must hold integers from 0 to {2**32 - 1}") from None
    if _WIDE and max(key) >= 2**32:
        raise ValueError(f"{what} must hold integers from 0 to {2**32 - 1}")
    if not key[0] & _TOP_BIT and not any(key[1:]):
        raise ValueError(f"{what} is all zeros (MT19937 reads only the top bit of the first word), "
                         "which no MT19937 state can be")
    return key



#: No Gaussian a generator caches can be larger: Box-Muller over 53-bit doubles (Python's random,
#: torch) stays below 8.6, NumPy's polar method below 12.1. A state file that says otherwise
#: would poison the next normal draw (and every log-normal one built on it).
MAX_GAUSS = 16.0


def _gaussian(value: Any, what: str, allow_none: bool = False) -> float | None:
    """A cached Gaussian: a finite number a real generator can have drawn (None: none cached)."""
    if value is None and allow_none:
        return None
    if type(value) not in (int, float) or not math.isfinite(value) or abs(value) > MAX_GAUSS:
        raise ValueError(f"{what} must be a finite number no larger than {MAX_GAUSS:g}"
                         f"{' or null' if allow_none else ''}")
    return float(value)


def plain(data: Any) -> Any:
    """A dict subclass as the plain dict it holds (read without its own methods: a copy); None if even the
    copy raises (it overrides iteration); anything else as it is."""
    if type(data) is dict or not isinstance(data, dict):
        return data
    try:
        return dict(data)
    except Exception:
        return None


def _fields(data: Any, names: frozenset[str], what: str) -> dict[str, Any]:
    """``data`` as a plain dict with exactly ``names``; a dict subclass is copied first, and what its own
    methods raise is one more reason to refuse it."""
    data = plain(data)
    if type(data) is not dict or data.keys() != names:
        raise ValueError(f"{what} must have exactly the fields {', '.join(sorted(names))}")
    return data


def fingerprint(state: Any) -> str:
    """A short, stable digest of a generator state: equal states, equal fingerprints.

    CRC-32 over the state's numbers, so it is the same in every process
    (Python's own ``hash`` of bytes is salted per process).
    """
    import zlib
    from array import array

    def feed(value: Any, crc: int) -> int:
        if isinstance(value, dict):
            for key in sorted(value):
                crc = feed(value[key], zlib.crc32(str(key).encode(), crc))
            return crc
        if isinstance(value, (tuple, list)):
            if value and type(value[0]) is int:  # a key of unsigned words, as random's state holds
                try:
                    return zlib.crc32(array("Q", value).tobytes(), crc)
                except (TypeError, OverflowError):
                    pass
            for item in value:
                crc = feed(item, crc)
            return crc
        if hasattr(value, "numpy"):  # a torch tensor
            value = value.numpy()
        if hasattr(value, "tobytes"):
            return zlib.crc32(value.tobytes(), crc)
        return zlib.crc32(repr(value).encode(), crc)

    return f"{feed(state, 0):08x}"
