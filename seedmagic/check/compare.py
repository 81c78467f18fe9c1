"""Comparing two runs: the first divergent cell, and where the difference came from.

A cell diverges when its outputs differ (normalised), when it raised in one
run only, when it ran under a seed drawn from OS entropy, or when a
generator it advanced (or created) is in another state in each run. With
``--rerun`` the second run's state after a cell's *first* run is compared,
so a cell's own rerun shows in the cells after it, not in itself.

``explain.py`` then traces the difference back to its origin; this module
holds the facts it reads: which streams differ after which cell, which
values, which cells a rerun moved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .model import CellRun, Run
from .normalise import same_error

#: A stream: ("global", "numpy") for seedmagic's generators, ("user", "rng") for the user's.
Key = tuple[str, str]


def states(probe: dict[str, Any] | None) -> dict[Key, str]:
    """Every generator's fingerprint in one probe record, global and user's apart."""
    if not probe:
        return {}
    found: dict[Key, str] = {("global", name): state for name, state in probe.get("globals", {}).items()}
    found.update({("user", name): value[1] for name, value in probe.get("users", {}).items()})
    return found


def kinds(probe: dict[str, Any] | None) -> dict[str, str]:
    """The kind of each user generator in a probe record ("numpy.Generator", ...)."""
    return {name: value[0] for name, value in (probe or {}).get("users", {}).items()}


def touched(probe: dict[str, Any], before: dict[str, Any] | None) -> set[Key]:
    """Streams the cell advanced: global ones the probe saw move, user ones created, replaced or moved."""
    found: set[Key] = {("global", name) for name in probe.get("advanced", [])}
    earlier, earlier_kinds = states(before), kinds(before)
    for name, (kind, state) in probe.get("users", {}).items():
        if earlier.get(("user", name)) != state or earlier_kinds.get(name) != kind:
            found.add(("user", name))
    return found


@dataclass
class Divergence:
    """What differs between the runs at one cell."""

    position: int
    a: CellRun
    b: CellRun
    outputs: bool
    streams: list[Key]
    #: Seeds a scope drew from OS entropy, (first run's, second run's).
    entropy: list[tuple[Any, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.outputs or self.streams or self.entropy)


@dataclass
class Runs:
    """Two runs of one notebook, cell by cell, and the facts the explanations read."""

    a: Run
    b: Run
    rerun: bool = False

    def __post_init__(self) -> None:
        self.pairs = list(zip(self.a.cells, self.b.cells, strict=False))

    def after(self, position: int, run: str) -> dict[Key, str]:
        """States after the cell at ``position`` (after its rerun, for the second run); {} before the first."""
        if position < 0 or position >= len(self.pairs):
            return {}
        return states(self.pairs[position][0 if run == "a" else 1].probe)

    def first_run_b(self, position: int) -> dict[str, Any]:
        cell = self.pairs[position][1]
        return cell.first if cell.first is not None else cell.probe

    def differs_after(self, position: int, key: Key) -> bool:
        return self.after(position, "a").get(key) != self.after(position, "b").get(key)

    def shifts(self, position: int) -> list[Key]:
        """Streams the cell's own rerun moved (--rerun): its second run left them elsewhere than its first."""
        cell = self.pairs[position][1]
        if cell.first is None or not cell.probe:
            return []
        first, second = states(cell.first), states(cell.probe)
        return [key for key in second if first.get(key) != second[key]]

    def divergence(self, position: int, normalise: Callable[[Sequence[Any]], list[Any]], ignore: bool) -> Divergence:
        a, b = self.pairs[position]
        outputs = (not ignore and normalise(a.outputs) != normalise(b.outputs)) or not same_error(a.error, b.error)
        if not a.probe or not b.probe:
            return Divergence(position, a, b, outputs or bool(a.probe) != bool(b.probe), [])
        previous_a = self.pairs[position - 1][0].probe if position else None
        previous_b = self.pairs[position - 1][1].probe if position else None
        first_b = self.first_run_b(position)
        moved = touched(a.probe, previous_a) | touched(first_b, previous_b)
        after_a, after_b = states(a.probe), states(first_b)
        streams = sorted((key for key in moved if after_a.get(key) != after_b.get(key)), key=_stream_order)
        seeds_a = [event for event in a.probe.get("events", []) if event[3]]
        seeds_b = [event for event in b.probe.get("events", []) if event[3]]
        entropy = [(x[1], y[1]) for x, y in zip(seeds_a, seeds_b, strict=False) if x[1] != y[1]]
        if len(seeds_a) != len(seeds_b):
            entropy.append((seeds_a[0][1] if seeds_a else None, seeds_b[0][1] if seeds_b else None))
        return Divergence(position, a, b, outputs, streams, entropy)

    def origin(self, position: int, key: Key) -> int:
        """The earliest cell of the unbroken run of cells, ending before ``position``, after which ``key`` differed."""
        origin = position
        while origin > 0 and self.differs_after(origin - 1, key):
            origin -= 1
        return origin

    def differing_values(self, position: int) -> set[str]:
        """Plain values that differ between the runs after the cell at ``position`` (none before the first)."""
        if position < 0:
            return set()
        a, b = self.pairs[position][0].values, self.pairs[position][1].values
        return {name for name in a.keys() | b.keys() if a.get(name) != b.get(name)}

    def value_origin(self, position: int, name: str) -> int:
        """The cell after which ``name`` first differed, in the unbroken run of cells before ``position``."""
        origin = position - 1
        while origin > 0 and name in self.differing_values(origin - 1):
            origin -= 1
        return origin


def _stream_order(key: Key) -> tuple[int, str]:
    """seedmagic's generators first (in registry order), then the user's by name."""
    from ..adapters import registry

    names = list(registry())
    return (names.index(key[1]) if key[0] == "global" and key[1] in names else len(names) + (key[0] == "user"),
            key[1])
