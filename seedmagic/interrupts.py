"""Ctrl-C never lands in the middle of a seeding or a restore.

A ``KeyboardInterrupt`` raised halfway through seeding three generators, or
through putting them back, leaves some seeded and some not: the worst state
seedmagic could leave behind. Functions marked ``@atomic`` (and every open
scope) install a SIGINT handler that, while such a function runs, only notes
the signal; the handler that was there before is called as soon as the
function has finished. The handler knows a function is running from the
interrupted frame and its callers, so the very first and last instructions
of a section are covered too, not only the lines between two flag updates.

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
        #: Open scopes plus running sections; the handler is installed while this is positive.
        self.holders = 0
        #: Running sections; a signal that arrives while positive is deferred.
        self.depth = 0
        self.pending = False
        #: The handler replaced by ours, called for deferred and ordinary signals alike.
        self.previous: Callable[[int, FrameType | None], Any] | None = None
        #: Code of every ``@atomic`` function and of the wrapper itself.
        self.codes: set[CodeType] = set()


_guard = _Guard()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    if _guard.depth or _inside_section(frame):
        _guard.pending = True
        return
    if _guard.previous is not None:
        _guard.previous(signum, frame)


def _inside_section(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code in _guard.codes:
            return True
        frame = frame.f_back
    return False


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def hold() -> bool:
    """Keep the deferring handler installed (an open scope holds it until it closes); False off the main thread."""
    if not _in_main_thread():
        return False
    if _guard.holders == 0:
        current = signal.getsignal(signal.SIGINT)
        if callable(current) and current is not _on_sigint:
            _guard.previous = current
            signal.signal(signal.SIGINT, _on_sigint)
        else:
            _guard.previous = None
    _guard.holders += 1
    return True


def release() -> None:
    """Undo one ``hold``; the last one puts the previous handler back."""
    _guard.holders -= 1
    if _guard.holders == 0 and _guard.previous is not None and signal.getsignal(signal.SIGINT) is _on_sigint:
        signal.signal(signal.SIGINT, _guard.previous)


def interrupted() -> bool:
    """Whether a SIGINT arrived during the running section (it will be delivered when the section ends)."""
    return _guard.pending


def _deliver() -> None:
    if _guard.pending and _guard.depth == 0:
        _guard.pending = False
        handler = _guard.previous or signal.default_int_handler
        handler(signal.SIGINT, None)


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
