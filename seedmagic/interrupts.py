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
``core.seeded.__enter__``: an interrupt raised once the scope is entered
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


class _Guard:
    """The handler's bookkeeping; touched only from the main thread."""

    def __init__(self) -> None:
        #: Open scopes plus running atomic calls in the main thread; the handler is installed while positive.
        self.holders = 0
        #: Running atomic calls; a signal that arrives while positive waits.
        self.depth = 0
        self.pending = False
        #: The handler replaced by ours, which gets every signal once no atomic function runs.
        self.previous: Callable[[int, FrameType | None], Any] | None = None
        #: Code of every ``@atomic`` function and of the wrapper itself.
        self.codes: set[CodeType] = set()


_guard = _Guard()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    if _guard.depth or _inside_atomic(frame):
        _guard.pending = True
        return
    (_guard.previous or signal.default_int_handler)(signum, frame)


def _inside_atomic(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code in _guard.codes:
            return True
        frame = frame.f_back
    return False


def hold() -> bool:
    """Keep the handler installed (an open scope holds it until it closes); False off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return False
    if _guard.holders == 0:
        current = signal.signal(signal.SIGINT, _on_sigint)
        if current is _on_sigint:  # put back by user code that saved it while a scope was open
            _guard.previous = _guard.previous or signal.default_int_handler
        elif callable(current):
            _guard.previous = current
        else:  # ignored, or the default that ends the process: nothing to defer
            signal.signal(signal.SIGINT, current)
            _guard.previous = None
    _guard.holders += 1
    return True


def release() -> None:
    """Undo one ``hold``; the last one puts the previous handler back (a signal on its way goes to it)."""
    _guard.holders -= 1
    if _guard.holders == 0 and _guard.previous is not None:
        current = signal.signal(signal.SIGINT, _guard.previous)
        if current is not _on_sigint:  # replaced while held (the user's own handler): it stays
            signal.signal(signal.SIGINT, current)


def _deliver() -> None:
    if _guard.pending and _guard.depth == 0:
        _guard.pending = False
        (_guard.previous or signal.default_int_handler)(signal.SIGINT, None)


def atomic(function: F) -> F:
    """Run ``function`` whole: a SIGINT that arrives meanwhile is delivered once it has returned."""
    _guard.codes.add(function.__code__)

    def section(*args: Any, **kwargs: Any) -> Any:
        held = hold()
        _guard.depth += held
        try:
            return function(*args, **kwargs)
        finally:
            if held:
                _guard.depth -= 1
                release()
                _deliver()

    _guard.codes.add(section.__code__)
    return functools.wraps(function)(section)  # type: ignore[return-value]
