"""The cell watch: after every cell, which generators it advanced or reseeded.

``CellWatch`` compares state fingerprints taken after each cell (pure, no
IPython); ``Follower`` runs it from one shell's ``pre_run_cell`` and
``post_run_cell`` events and then its listeners (the panel). The extension
and the panel share one follower per shell (``follow``), so that neither
needs the other: this module imports neither the magics nor the widget.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from IPython.core.interactiveshell import InteractiveShell

from . import interrupts
from .adapters import registry
from .session import book, in_cell, lock
from .status import Status, describe, global_fingerprints, state_fingerprint, user_fingerprints


@dataclass
class CellWatch:
    """Tells which generators the last cell advanced or reseeded, from fingerprints taken after each cell.

    A fingerprint shows that a state changed, not how: a draw, a seeding by
    hand (``np.random.seed(3)``) and a ``set_state`` look alike, so
    "advanced" means any of them. The state after one cell is the state
    before the next, so one pass of fingerprints per cell is enough;
    whatever seeds between cells (the panel's button) calls ``rebaseline``.
    A library imported during the cell is compared with the state it was
    imported in.
    """

    #: Fingerprints by (whose, name): seedmagic's generators ("global") and the user's variables ("user")
    #: apart, as a variable may be called ``numpy``. None: no baseline (before the first cell, or after
    #: a cell the watch skipped).
    last: dict[tuple[str, str], str] | None = None
    #: The generators whose state the last cell changed (drew from, seeded or set).
    advanced: frozenset[tuple[str, str]] = frozenset()
    #: The global generators among them that seedmagic had not seeded (``book.seeds``) when the cell ended.
    unseeded: tuple[str, ...] = ()

    def rebaseline(self, namespace: Mapping[str, Any]) -> None:
        """Take the present states as the "before" of the next cell."""
        with lock:
            self.last = {**{("global", name): state for name, state in global_fingerprints().items()},
                         **{("user", name): state for name, state in user_fingerprints(namespace).items()}}

    def forget(self) -> None:
        """Skip a cell the watch could not finish: no markers, and no baseline until ``rebaseline``."""
        self.last, self.advanced, self.unseeded = None, frozenset(), ()

    def after_cell(self, namespace: Mapping[str, Any]) -> None:
        """Note what moved since the last cell, and which global generators moved that seedmagic had not seeded."""
        from .importhook import fresh_states

        with lock:
            before = self.last
            self.rebaseline(namespace)
            now = self.last or {}
            if before is None:
                self.advanced, self.unseeded = frozenset(), ()
                return
            moved = []
            for (whose, name), state in now.items():
                baseline = before.get((whose, name))
                if baseline is None and whose == "global" and name in fresh_states:
                    baseline = state_fingerprint(registry()[name], fresh_states[name])
                if baseline is not None and baseline != state:
                    moved.append((whose, name))
            self.advanced = frozenset(moved)
            self.unseeded = tuple(name for whose, name in moved if whose == "global" and book.seeds.get(name) is None)

    def mark(self, status: Status) -> Status:
        """``status`` with the last cell's markers and warning."""
        rows = tuple(replace(row, advanced=("global" if row.kind == "global" else "user", _generator(row.label))
                             in self.advanced) for row in status.rows)
        return replace(status, rows=rows, unseeded=self.unseeded)


def _generator(label: str) -> str:
    """The generator a row belongs to ("torch.cuda:1" belongs to "torch.cuda")."""
    return label.split(":", 1)[0]


def running_cell(shell: InteractiveShell) -> int | None:
    """The number of the running cell (``In [n]``), once IPython has stored its input.

    IPython stores a cell's input before running it, in every version,
    while the moment it counts up differs between 8.x and 9.x.
    """
    manager = shell.history_manager
    return None if manager is None else len(manager.input_hist_parsed) - 1


class Follower:
    """Runs a ``CellWatch`` after every cell of one shell, then its listeners (the panel).

    Nothing here may reach the user's cell: an error is reported once, the
    watch stops, and the cells go on as if seedmagic were not there. A
    Ctrl-C pressed as a cell ends waits until the watch has finished and is
    then dropped, as the cell it was meant for is over; one that lands before
    the watch could hold it off makes the watch skip that cell (no markers).
    Either way no traceback: IPython would print one for a callback.
    """

    def __init__(self, shell: InteractiveShell) -> None:
        self.shell = shell
        self.watch = CellWatch()
        self.listeners: list[Callable[[], None]] = []

    def start(self) -> None:
        for event, callback in self._callbacks():
            if callback not in self.shell.events.callbacks[event]:
                self.shell.events.register(event, callback)
        self.guarded(lambda: self.watch.rebaseline(self.shell.user_ns))

    def stop(self) -> None:
        for event, callback in self._callbacks():
            if callback in self.shell.events.callbacks[event]:
                self.shell.events.unregister(event, callback)

    def _callbacks(self) -> tuple[tuple[str, Callable[[Any], None]], ...]:
        return (("pre_run_cell", self.before_cell), ("post_run_cell", self.after_cell))

    def before_cell(self, info: Any = None) -> None:
        """Seedings from now on happen in this cell (its input is stored just after this event).

        After a cell the watch skipped, the baseline is taken here, so that this cell's markers are right.
        """
        stored = running_cell(self.shell) if getattr(info, "store_history", False) else None
        in_cell(None if stored is None else stored + 1)
        if self.watch.last is None:
            self.quietly(lambda: self.watch.rebaseline(self.shell.user_ns))

    def after_cell(self, _result: Any = None) -> None:
        self.quietly(lambda: self.watch.after_cell(self.shell.user_ns), *self.listeners)

    def quietly(self, *steps: Callable[[], None]) -> None:
        """Run ``steps`` guarded and whole; an interrupt is dropped, and one that cut them short skips the cell."""
        finished: list[bool] = []
        try:
            self._whole(finished, steps)
        except KeyboardInterrupt:
            if not finished:
                self.watch.forget()

    @interrupts.atomic
    def _whole(self, finished: list[bool], steps: tuple[Callable[[], None], ...]) -> None:
        self.guarded(*steps)
        finished.append(True)

    def guarded(self, *steps: Callable[[], None]) -> None:
        try:
            for step in steps:
                step()
        except Exception as error:
            self.stop()
            print(f"seedmagic: the cell markers and the live panel stopped after an error ({describe(error)}); "
                  "your cells are not affected. %reload_ext seedmagic turns them back on", file=sys.stderr)


_followers: weakref.WeakKeyDictionary[InteractiveShell, Follower] = weakref.WeakKeyDictionary()


def follow(shell: InteractiveShell) -> Follower:
    """The follower of ``shell``, started if need be (the extension and the panel share it)."""
    follower = _followers.get(shell)
    if follower is None:
        follower = _followers[shell] = Follower(shell)
        follower.start()
    return follower


def unfollow(shell: InteractiveShell) -> None:
    """Stop and forget the follower of ``shell`` (``%unload_ext``); a panel still shown stops updating."""
    follower = _followers.pop(shell, None)
    if follower is not None:
        follower.stop()
