"""``Event``: one seeding in the history, as ``seedmagic.history()`` gives it.

Its own module, imported when the history is first read: the session
records plain tuples, and making a frozen dataclass costs ``%load_ext``
about a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """One seeding, as ``seedmagic.history()`` and ``%seed --history`` report it."""

    #: The notebook cell (IPython's ``In [n]``) it happened in; None outside the magics.
    count: int | None
    #: What seeded: "%seed", "%%seeded", "seed()", "seeded()", "panel", ...
    source: str
    seed: int
    generators: tuple[str, ...]
    #: "global" for a seeding that stays; "restored" or "kept" for a scope.
    scope: str
    #: The label and base seed of a derived seed, or the base of an entropy seed.
    label: str | None = None
    base: int | None = None
    entropy: bool = False
