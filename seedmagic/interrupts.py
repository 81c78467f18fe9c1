"""Ctrl-C never lands in the middle of a seeding or a restore.

A ``KeyboardInterrupt`` raised halfway through seeding three generators, or
through putting them back, leaves some seeded and some not: the worst state
seedmagic could leave behind. While a function marked ``@atomic`` runs (and
while a scope is open), seedmagic's SIGINT handler is installed; a signal
that arrives while an atomic function runs is only noted, and the handler
that was there before (normally the one raising ``KeyboardInterrupt``) gets
it as soon as the function returns. The handler knows an atomic function
runs from the interrupted frame and its callers, so the first and last
instructions of each function are covered too, not only the lines between
two flag updates. (Entering a scope takes one more step, in
``scopes.Scope.__enter__``: an interrupt raised once the scope is entered
undoes the entry.)

Only the main thread receives signals, so other threads need nothing; where
the SIGINT handler is not a Python function (ignored, or the default that
kills the process) nothing is installed.
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class Deferring:
    """seedmagic's SIGINT handler, standing in for the handler it replaced (``previous``).

    A signal that arrives while an atomic function runs is only noted; any
    other goes to ``previous`` at once. User code that saves the handler
    while a scope is open gets this object, and putting it back later means
    ``previous`` again.
    """

    def __init__(self) -> None:
        self.previous: Callable[[int, FrameType | None], Any] = signal.default_int_handler

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if _guard.depth or _inside_atomic(frame):
            _guard.pending = self.previous
            return
        self.previous(signum, frame)


class Hold:
    """One ``hold``: the handler it installed, if it installed one, and whether it was released."""

    def __init__(self, installed: Deferring | None) -> None:
        self.installed = installed
        self.released = False


class _Guard:
    """The handlers' bookkeeping; touched only from the main thread, but for a release in another thread
    (``holders -= 1``, which the GIL keeps whole: no call, hence no thread switch, inside it)."""

    def __init__(self) -> None:
        #: Open scopes plus running atomic calls in the main thread.
        self.holders = 0
        #: Running atomic calls; a signal that arrives while positive waits.
        self.depth = 0
        #: The handler a waiting signal is due to (None: no signal is waiting).
        self.pending: Callable[[int, FrameType | None], Any] | None = None
        #: Code of every ``@atomic`` function and of the wrapper itself.
        self.codes: set[CodeType] = set()


_guard = _Guard()


def _inside_atomic(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code in _guard.codes:
            return True
        frame = frame.f_back
    return False


def _install(current: Any) -> Deferring | None:
    """Put a ``Deferring`` handler in front of ``current``, the handler just read; None where that is not a
    Python function.

    The current one is read first and replaced once: never is another handler in force for a moment, which a
    signal landing then would reach (a swap and a swap back would send it to the wrong one).
    """
    if not callable(current):  # ignored, or the default that ends the process: nothing to defer
        return None
    handler = Deferring()
    # an old one put back by user code stands for its own previous
    handler.previous = current.previous if isinstance(current, Deferring) else current
    replaced = signal.signal(signal.SIGINT, handler)
    if replaced is not current:  # a signal came in between, and its handler put another one in (Ctrl-C twice)
        if not callable(replaced):
            signal.signal(signal.SIGINT, replaced)
            return None
        handler.previous = replaced.previous if isinstance(replaced, Deferring) else replaced
    return handler


def hold(into: list[Hold] | None = None) -> Hold | None:
    """Make sure Ctrl-C is deferred from now until ``release``; None off the main thread.

    ``into`` receives the hold before this returns, so that a caller cut short
    by an interrupt right after the call still knows what to release.

    The first hold installs the handler (an open scope holds it until it
    closes, so that its exit is covered from its first instruction). An
    outermost atomic call inside a scope checks that the handler is still
    seedmagic's, as user code may have replaced it meanwhile.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    installed = None
    if _guard.holders == 0:
        installed = _install(signal.getsignal(signal.SIGINT))
    elif _guard.depth == 0:
        current = signal.getsignal(signal.SIGINT)
        if not isinstance(current, Deferring):
            installed = _install(current)
    _guard.holders += 1
    held = Hold(installed)
    if into is not None:
        into.append(held)
    return held


def rehold(held: Hold | None) -> Hold | None:
    """At a scope's exit, before anything moves: its body may have put in a handler of its own (ipykernel puts
    ``default_int_handler`` back for every cell), so seedmagic's goes in front of that one again, and the
    hold's release gives that one back. A scope entered off the main thread and left on it is held from here.

    This is what lets ``release`` trust its hold instead of reading the handler again: between a hold (or this)
    and its release only seedmagic's own code and the libraries' seeding calls run.
    """
    if threading.current_thread() is not threading.main_thread():
        return held
    if held is None:
        return hold()
    current = signal.getsignal(signal.SIGINT)
    if current is held.installed or (held.installed is None and isinstance(current, Deferring)):
        return held  # still seedmagic's: this hold's own, or the one an enclosing scope put in
    # replaced by the body: an old one of seedmagic's put back stands for its own previous
    held.installed = current if isinstance(current, Deferring) else _install(current)
    return held


def release(held: Hold) -> None:
    """Undo ``hold``: the handler it installed gives way to the one it stood for (a signal on its way goes there).

    The hold's handler is the one in force (a scope's exit made sure with ``rehold``): it is not read again.
    Once released, a hold is not released again: a caller whose call was cut short by an interrupt calls again.

    Off the main thread (a generator holding a scope, run to its end by a worker) no handler can be set:
    seedmagic's stays, passing signals on, until the main thread's next hold puts it in front again and
    its release gives it back.
    """
    if held.released:  # a second call, after an interrupt that came right after the first one's work
        return
    _guard.holders -= 1
    held.released = True
    handler = held.installed
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if handler is not None:
            signal.signal(signal.SIGINT, handler.previous)
    finally:  # also where the handler now in force raised for a second Ctrl-C: none stays waiting
        deliver()


# A signal while holding or releasing waits until they are done: their counts must stay whole.
_guard.codes.update((hold.__code__, rehold.__code__, release.__code__, _install.__code__))


def deliver() -> None:
    """Hand a signal that waited to its handler, unless an atomic call still runs; only in the main thread, which the
    signal came to (a worker leaving a scope would raise it in the worker)."""
    due = _guard.pending
    if due is not None and _guard.depth == 0 and threading.current_thread() is threading.main_thread():
        _guard.pending = None
        due(signal.SIGINT, None)


def shielded(function: F) -> F:
    """Let a SIGINT that arrives while ``function`` runs wait, without holding the handler itself.

    For a scope's entry and exit: the scope already holds the handler (its
    ``hold`` has just made sure it is seedmagic's). The caller delivers a
    signal that waited: the entry calls ``deliver`` at once, the exit
    releases the scope's hold last.
    """
    _guard.codes.add(function.__code__)
    return function


def waiting(held: Hold | None, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``function`` under ``held``: a signal that arrives meanwhile, also in an atomic call inside it, waits
    until the caller releases the hold. Only in the main thread, where signals arrive: a worker closing a scope
    the main thread entered must not hold off the main thread's Ctrl-C."""
    here = held is not None and threading.current_thread() is threading.main_thread()
    _guard.depth += here
    try:
        return function(*args, **kwargs)
    finally:
        _guard.depth -= here


_guard.codes.add(waiting.__code__)


def atomic(function: F) -> F:
    """Run ``function`` whole: a SIGINT that arrives meanwhile is delivered once it has returned."""
    _guard.codes.add(function.__code__)

    def section(*args: Any, **kwargs: Any) -> Any:
        held = hold()
        try:
            return waiting(held, function, *args, **kwargs)
        finally:
            if held is not None:
                release(held)  # and delivers a signal that waited

    _guard.codes.add(section.__code__)
    return functools.wraps(function)(section)  # type: ignore[return-value]
