"""The scope stack: scopes that nest, scopes that overlap, and Ctrl-C at their edges.

``Scope`` enters and leaves; what a scope does to the generators is its
subclass's (``core.seeded``): ``_open`` seeds and returns what to put back,
``_opened`` notes the seeding, ``_close_nested`` puts things back. The stack
(``book.scopes``) is innermost last. A scope that closes while one opened
after it is still open (two threads or asyncio tasks) did not nest: it joins
an ``Overlap``, and when the last scope of an overlap closes every generator
goes back to its state before the first of them; each such exit raises a
one-line ``SeedError``. Entering and leaving are atomic with respect to
Ctrl-C (see ``interrupts``): the SIGINT handler is held for a scope's whole
life, so its exit is covered from the first instruction.
"""

from __future__ import annotations

import threading
from types import TracebackType

from . import determinism, interrupts
from .session import OpenScope, Overlap, SeedError, book, lock, open_here, publish
from .snapshots import Snapshot


class _Entered:
    """One entry into a scope, as the scope object keeps it (a decorator can be entered again and again).

    A plain class (compared by identity): a dataclass costs ``%load_ext`` half a millisecond.
    """

    def __init__(self, scope: OpenScope, held: interrupts.Hold | None) -> None:
        self.scope = scope
        self.held = held


class Scope:
    """A context manager on the scope stack; subclasses say what entering and leaving do to the generators."""

    #: The seed of the latest entry (None before the first), for messages.
    seed: int | None

    def __init__(self) -> None:
        self._entered: list[_Entered] = []

    def _open(self) -> OpenScope:
        """Seed for a new entry and return what the stack keeps for it (called under the lock)."""
        raise NotImplementedError

    def _opened(self, scope: OpenScope) -> None:
        """The entry is on the stack (called under the lock)."""

    def _close_nested(self, scope: OpenScope) -> None:
        """Put back what ``scope`` saved; the entry nested (called under the lock, off the stack already)."""
        raise NotImplementedError

    def __enter__(self) -> int:
        """Enter atomically; an interrupt raised once the scope is entered, before its body, undoes the entry.

        The SIGINT handler is held for the scope's whole life, so that its exit
        is covered from the first instruction. (A signal landing in this frame
        raises at once; one landing in ``_enter`` or in the undoing waits.)
        """
        holds: list[interrupts.Hold] = []
        count = len(self._entered)
        try:
            interrupts.hold(into=holds)
            number = self._enter(holds[0] if holds else None)
            interrupts.deliver()  # a signal that waited for ``_enter``: the entry is undone below
            return number
        except BaseException:
            if len(self._entered) > count:  # entered, then interrupted before the body: undo the entry
                self._release_after([])
            elif holds:
                interrupts.release(holds[0])
            raise

    @interrupts.shielded  # the scope's own hold has just made sure the handler is seedmagic's
    def _enter(self, held: interrupts.Hold | None) -> int:
        with lock:
            scope = self._open()
            book.scopes.append(scope)
            if book.overlap is not None:
                book.overlap.join(scope)
            publish()
            self._entered.append(_Entered(scope, held))
            open_here.set((*open_here.get(), scope))
            self._opened(scope)
        return scope.seed

    @interrupts.shielded
    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the entry, and only then let an interrupt through.

        Where the body put in a handler of its own that raises (``default_int_handler``, which ipykernel puts
        back for every cell, or one raising ``SystemExit`` or an exception of its own), a Ctrl-C can raise before
        the close has put seedmagic's back: what it raised is held, the close done again, and it is raised after.
        (One that lands on this method's very first instruction, before any of its code runs, Python raises
        before seedmagic can.) A signal that waited meanwhile is delivered before this returns.
        """
        closed: list[_Entered] = []
        held: BaseException | None = None
        overlapped = ""
        attempts = 0
        while attempts < _ATTEMPTS:  # no call before the ``try``: Python runs signal handlers after each one
            attempts += 1
            try:
                if closed:  # closed, but an interrupt cut the release of its hold short
                    _release_holds(closed)
                else:
                    overlapped = self._release_after(closed)
                break
            except SeedError:  # seedmagic's own refusal (an exit with no entry): no handler raised it
                raise
            except BaseException as interrupt:
                if closed and _released(closed):  # one that waited for the close: delivered after it, as it should
                    raise
                held = interrupt
        interrupts.deliver()  # one that landed in the last steps of the close, and waited
        if held is not None:
            raise held
        if overlapped:
            raise SeedError(overlapped)

    @interrupts.shielded
    def _release_after(self, closed: list[_Entered]) -> str:
        """Close (the entry closed goes into ``closed``), then release the scope's hold on the SIGINT handler, last:
        a signal waits until then."""
        try:
            return self._close(closed)
        finally:
            _release_holds(closed)

    @interrupts.shielded
    def _close(self, closed: list[_Entered]) -> str:
        """Close this context's latest entry (into ``closed``). Seedmagic's SIGINT handler goes in front of one
        the body put in before anything moves; a signal then waits until the entry's hold is released."""
        with lock:
            entered = self._mine()
            entered.held = interrupts.rehold(entered.held)
            closed.append(entered)
            return interrupts.waiting(entered.held, self._leave, entered)

    def _mine(self) -> _Entered:
        """The entry this exit closes: the latest one made in this context (an asyncio task, a thread), else
        this thread's latest (a scope entered in one notebook cell and left in another), else the latest of
        all (a generator that holds the scope, resumed to its end in another thread: its exit is as real)."""
        here = open_here.get()
        if here and self._entered and here[-1] is self._entered[-1].scope:  # the usual case: the innermost
            return self._entered[-1]
        thread = threading.get_ident()
        for candidates in ([e for e in self._entered if any(s is e.scope for s in here)],
                           [e for e in self._entered if e.scope.thread == thread], self._entered):
            if candidates:  # the latest: last in this context, else last entered
                return max(candidates, key=lambda e: (next((i for i, s in enumerate(here) if s is e.scope), -1),
                                                      self._entered.index(e)))
        raise SeedError(f"seeded({self.seed}) is not open: __exit__ without __enter__")

    def _leave(self, entered: _Entered) -> str:
        """Close ``entered``: restore, or take part in an overlap."""
        self._entered.remove(entered)
        scope = entered.scope
        here = open_here.get()
        open_here.set(here[:-1] if here and here[-1] is scope else tuple(s for s in here if s is not scope))
        nested = book.scopes[-1] is scope if book.scopes else True  # as it should be
        if not nested:
            nested = all(open_scope is not scope for open_scope in book.scopes)
        if book.overlap is None and nested:
            book.scopes[:] = [open_scope for open_scope in book.scopes if open_scope is not scope]
            self._close_nested(scope)
            return ""
        message = _leave_overlapping(scope)
        publish()
        return message


#: How often an exit tries to close again after a handler the body put in raised first (a storm of Ctrl-C).
_ATTEMPTS = 100


def _release_holds(closed: list[_Entered]) -> None:
    """Release the holds of the entries closed (each once, however often this is called)."""
    for entered in closed:
        if entered.held is not None:
            interrupts.release(entered.held)


def _released(closed: list[_Entered]) -> bool:
    return all(entered.held is None or entered.held.released for entered in closed)


def _leave_overlapping(scope: OpenScope) -> str:
    """Close a scope that did not nest; the last one of an overlap puts back the state before all of them."""
    if book.overlap is None:
        later = book.scopes[[id(s) for s in book.scopes].index(id(scope)) + 1]
        book.overlap = Overlap(book.scopes[0].seed)
        for open_scope in book.scopes:
            book.overlap.join(open_scope)
        what = (f"seeded({scope.seed}) closed while seeded({later.seed}), opened after it, was still open: "
                "two threads or tasks drew from the global generators at once, so their draws were mixed")
    else:
        what = f"seeded({scope.seed}) overlapped other scopes: its draws were mixed with theirs"
    book.scopes[:] = [s for s in book.scopes if s is not scope]
    overlap = book.overlap
    advice = "(give each task its own generator: seedmagic.spawn, np.random.default_rng)"
    if book.scopes:
        return (f"{what}; every generator goes back to its state before seeded({overlap.oldest_seed}) when the "
                f"last of these scopes closes {advice}")
    Snapshot(tuple(overlap.entries.values()), overlap.session_seed).restore()
    if overlap.switches is not None:
        determinism.set(determinism.torch_for_determinism(), overlap.switches)
    book.overlap = None
    return f"{what}; every generator is back as before seeded({overlap.oldest_seed}) {advice}"


