"""Ctrl-C at any point, and scopes that overlap: restored means restored.

A timer fires SIGINT at random moments while thousands of scopes open and
close; after each one, whether the interrupt landed in the user's code, in
seedmagic's entering or leaving, or outside, every generator must be whole:
back as before the scope, and the book must show no open scope.
"""

from __future__ import annotations

import asyncio
import dis
import linecache
import random
import signal
import sys
import threading
import time

import numpy as np
import pytest

import seedmagic
from seedmagic import interrupts
from seedmagic.session import book
from conftest import requires_torch, run_python, state_bytes, torch

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer (POSIX)")


class Storm:
    """Fires one SIGINT after a random delay (through SIGALRM), like a frontend's interrupt button."""

    def __init__(self, seed: int, longest: float) -> None:
        self.random = random.Random(seed)
        self.longest = longest
        self.fired = 0

    def __enter__(self) -> Storm:
        self.previous = signal.signal(signal.SIGALRM, self._alarm)
        return self

    def _alarm(self, _signum: int, _frame: object) -> None:
        self.fired += 1
        signal.raise_signal(signal.SIGINT)

    def arm(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, self.random.uniform(1e-6, self.longest))

    def disarm(self) -> None:
        """Stop the timer, and let a SIGINT already on its way arrive here rather than later."""
        signal.setitimer(signal.ITIMER_REAL, 0)
        for _ in range(3):
            sum(range(10))

    def __exit__(self, *_: object) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)


def settle(storm: Storm) -> None:
    """Disarm, absorbing an interrupt that lands while doing so."""
    while True:
        try:
            storm.disarm()
            return
        except KeyboardInterrupt:
            continue


def drawing_scope(n: int) -> None:
    with seedmagic.seeded(n):
        np.random.rand(3)
        if torch is not None:
            torch.rand(3)
        random.random()


def round_trip_seconds() -> float:
    """How long one scope plus the checks around it takes here: the storm's delays are scaled to it, so that
    about half of the interrupts land inside the scope on a fast machine as on a slow one."""
    start = time.perf_counter()
    for n in range(50):
        state_bytes()
        drawing_scope(n)
    return (time.perf_counter() - start) / 50


@pytest.mark.slow
def test_scopes_are_restored_whatever_moment_ctrl_c_lands():
    seedmagic.seed(1)
    np.random.standard_normal()  # a cached Gaussian is part of the state too
    interrupted_inside = deferred = 0
    with Storm(seed=2024, longest=2 * round_trip_seconds()) as storm:
        n = 0
        # At least 3,000 scopes, and on until enough interrupts landed: a load that changes the machine's speed
        # after the delays were scaled makes fewer of them fire in time.
        while n < 3000 or not (storm.fired > 1000 and interrupted_inside > 500 and deferred > 20) and n < 20_000:
            n += 1
            before, session = state_bytes(), book.session_seed
            try:
                storm.arm()
                drawing_scope(n)
                settle(storm)
            except KeyboardInterrupt as error:
                settle(storm)
                interrupted_inside += 1
                deferred += any(frame.name in ("__enter__", "__exit__") for frame in _frames(error))
            assert state_bytes() == before, f"generators not restored after scope {n}"
            assert book.scopes == [] and book.session_seed == session and seedmagic.active_seed() == session
    assert storm.fired > 1000 and interrupted_inside > 500
    assert deferred > 20  # many interrupts landed while entering or leaving, and waited for it to finish


@pytest.mark.slow
def test_seeded_cells_are_restored_whatever_moment_ctrl_c_lands():
    """In a fresh interpreter: an interrupt that lands in IPython's own code can leave Python's import lock held."""
    out = run_python("""
import sys, warnings, random
sys.path.insert(0, "tests")
warnings.simplefilter("ignore")
import numpy as np
from IPython.core.interactiveshell import InteractiveShell
from conftest import state_bytes
from test_interrupts import Storm, settle
import seedmagic
from seedmagic.session import book
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "seedmagic")
shell.run_cell("import numpy as np, random")
shell.run_line_magic("seed", "1")
interrupted = 0
with Storm(seed=11, longest=1500e-6) as storm:
    for n in range(400):
        before = state_bytes()
        try:
            storm.arm()
            result = shell.run_cell(f"%%seeded {n}\\nnp.random.rand(3); random.random()")
            interrupted += isinstance(result.error_in_exec, KeyboardInterrupt)
            settle(storm)
        except KeyboardInterrupt:  # landed in IPython's own code around the cell
            settle(storm)
        assert state_bytes() == before and book.scopes == [] and seedmagic.active_seed() == 1, n
print("interrupted", interrupted)
""", timeout=300)
    assert int(out.split()[-1]) > 50


def test_seeding_is_all_or_nothing_under_ctrl_c():
    targets = {}
    for n in (5, 6):
        np.random.seed(n)
        random.seed(n)
        if torch is not None:
            torch.manual_seed(n)
        targets[n] = state_bytes()
    seedmagic.seed(5)
    with Storm(seed=7, longest=80e-6) as storm:
        for i in range(3000):
            n = 6 if i % 2 == 0 else 5
            try:
                storm.arm()
                seedmagic.seed(n)
                settle(storm)
            except KeyboardInterrupt:
                settle(storm)
            now = state_bytes()
            assert now in (targets[5], targets[6]), f"half-seeded after call {i}"
            assert book.session_seed == (5 if now == targets[5] else 6)


def test_without_deferral_the_same_storm_breaks_scopes(monkeypatch):
    """The storm is strong enough to catch a scope half-restored when nothing defers the signal."""
    monkeypatch.setattr(interrupts, "hold", lambda into=None: None)
    broken = False
    seedmagic.seed(1)
    with Storm(seed=99, longest=600e-6) as storm:
        for n in range(3000):
            before = state_bytes()
            try:
                storm.arm()
                with seedmagic.seeded(n):
                    np.random.rand(3)
                settle(storm)
            except KeyboardInterrupt:
                settle(storm)
            if state_bytes() != before or book.scopes:
                broken = True
                break
    book.scopes.clear()
    assert broken


def test_the_previous_handler_is_back_and_ctrl_c_still_works():
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with seedmagic.seeded(3):
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler  # deferring while open
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)  # user code is interrupted at once
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.run takes over Ctrl-C from Python 3.11")
def test_after_a_scope_asyncio_run_still_turns_ctrl_c_into_cancelling_its_task():
    """Why the handler is given back at every exit rather than left in place between scopes: asyncio (and unittest)
    take over Ctrl-C only where they find Python's own handler."""
    with seedmagic.seeded(3):
        pass
    cancelled = []

    async def main():
        try:
            signal.raise_signal(signal.SIGINT)
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(main())
    assert cancelled == [True]


def test_a_custom_handler_is_called_for_a_deferred_interrupt():
    calls = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: calls.append(signum))
    try:
        with seedmagic.seeded(3):
            signal.raise_signal(signal.SIGINT)
            assert calls == [signal.SIGINT]
        assert not isinstance(signal.getsignal(signal.SIGINT), interrupts.Deferring)
    finally:
        signal.signal(signal.SIGINT, previous)


def _frames(error: BaseException):
    import traceback

    return traceback.extract_tb(error.__traceback__)


# Scopes that overlap without nesting -------------------------------------------------------------


def test_two_asyncio_tasks_in_scopes_raise_and_leave_the_generators_as_before():
    seedmagic.seed(1)
    before = state_bytes()
    errors = []

    async def task(n: int, pause: float) -> None:
        try:
            with seedmagic.seeded(n):
                np.random.rand(1)
                await asyncio.sleep(pause)
                np.random.rand(1)
        except seedmagic.SeedError as error:
            errors.append(str(error))

    async def main() -> None:
        await asyncio.gather(task(10, 0.02), task(20, 0.05))

    asyncio.run(main())
    assert len(errors) == 2
    assert "seeded(10) closed while seeded(20), opened after it, was still open" in errors[0]
    assert "seeded(20) overlapped other scopes" in errors[1] and "back as before seeded(10)" in errors[1]
    assert all("\n" not in error for error in errors)
    assert state_bytes() == before  # never silently left seeded or swapped
    assert book.scopes == [] and seedmagic.active_seed() == 1


def test_two_threads_in_overlapping_scopes_raise_and_leave_the_generators_as_before():
    seedmagic.seed(1)
    before = state_bytes()
    errors: list[str] = []
    first_open, second_open, first_closed = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        try:
            with seedmagic.seeded(10):
                first_open.set()
                second_open.wait(10)
        except seedmagic.SeedError as error:
            errors.append(str(error))
        first_closed.set()

    def second() -> None:
        first_open.wait(10)
        try:
            with seedmagic.seeded(20):
                second_open.set()
                first_closed.wait(10)
        except seedmagic.SeedError as error:
            errors.append(str(error))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(errors) == 2 and state_bytes() == before and book.scopes == []


def test_the_readme_advice_for_coroutines_gives_each_task_its_own_stream():
    """docs/guide.md (Coroutines and threads): give each task its own generator, seeded from seedmagic; scopes only
    around code without await."""
    seedmagic.seed(2024)

    async def task(rng: np.random.Generator) -> list[float]:
        drawn = []
        for _ in range(3):
            drawn.append(rng.random())
            await asyncio.sleep(0)
        return drawn

    def seeds() -> list[int]:
        return [seedmagic.derive_seed(2024, f"task {i}") for i in range(2)]

    async def together() -> list[list[float]]:
        return list(await asyncio.gather(*(task(np.random.default_rng(s)) for s in seeds())))

    alone = [asyncio.run(task(np.random.default_rng(s))) for s in seeds()]
    assert asyncio.run(together()) == alone

    async def scoped(n: int) -> list[float]:
        with seedmagic.seeded(n):  # no await inside: the scope cannot overlap another task's
            drawn = np.random.rand(2).tolist()
        await asyncio.sleep(0)
        return drawn

    async def both() -> list[list[float]]:
        return list(await asyncio.gather(scoped(1), scoped(2)))

    assert asyncio.run(both()) == [np.random.RandomState(n).rand(2).tolist() for n in (1, 2)]


def test_ctrl_c_still_arrives_after_user_code_puts_back_a_handler_saved_inside_a_scope():
    """A handler saved while a scope was open is seedmagic's; putting it back later must not swallow Ctrl-C."""
    with seedmagic.seeded(10):
        saved = signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGINT, saved)
    try:
        with seedmagic.seeded(1):
            pass
        for inside in (True, False):
            with pytest.raises(KeyboardInterrupt):
                if inside:
                    with seedmagic.seeded(2):
                        signal.raise_signal(signal.SIGINT)
                else:
                    signal.raise_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def test_one_decorated_function_in_two_threads_keeps_each_threads_entry():
    seedmagic.seed(1)
    before = state_bytes()
    inside, go_on, worker_done = threading.Event(), threading.Event(), threading.Event()
    errors: list[Exception] = []

    @seedmagic.seeded(10)
    def work(in_worker: bool) -> None:
        np.random.rand()
        if in_worker:  # the worker's scope opens first and closes first, inside the main thread's
            inside.set()
            go_on.wait(10)
        else:
            go_on.set()
            worker_done.wait(10)

    def worker() -> None:
        try:
            work(True)
        except Exception as error:  # the overlap is reported as SeedError, never as anything else
            errors.append(error)
        worker_done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    inside.wait(10)
    try:
        work(False)
    except seedmagic.SeedError as error:
        errors.append(error)
    thread.join(10)
    assert len(errors) == 2 and all(isinstance(error, seedmagic.SeedError) for error in errors)
    assert state_bytes() == before and book.scopes == [] and book.overlap is None
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)


def enter_all(*seeds: int) -> dict[int, seedmagic.seeded]:
    scopes = {n: seedmagic.seeded(n) for n in seeds}
    for scope in scopes.values():
        scope.__enter__()
        np.random.rand(1)
    return scopes


def leave(scope: seedmagic.seeded) -> str:
    try:
        scope.__exit__(None, None, None)
    except seedmagic.SeedError as error:
        return str(error)
    return "ok"


def test_three_overlapping_scopes_end_as_before_the_first():
    seedmagic.seed(1)
    before = state_bytes()
    scopes = enter_all(100, 200, 300)
    outcomes = [leave(scopes[200]), leave(scopes[100]), leave(scopes[300])]
    assert all("\n" not in text and text != "ok" for text in outcomes)
    assert "back as before seeded(100)" in outcomes[-1]
    assert state_bytes() == before and book.scopes == [] and book.overlap is None


def test_a_scope_opened_during_an_overlap_is_told_and_nothing_is_swapped_silently():
    seedmagic.seed(1)
    before = state_bytes()
    scopes = enter_all(100, 200)
    first = leave(scopes[100])
    late = seedmagic.seeded(300)
    late.__enter__()
    drawn = np.random.rand(2).tolist()
    second = leave(scopes[200])
    assert np.random.rand(1).tolist() == np.random.RandomState(300).rand(3)[2:].tolist()  # still its own stream
    third = leave(late)
    assert drawn == np.random.RandomState(300).rand(2).tolist()
    assert "closed while seeded(200)" in first and "overlapped" in second and "overlapped" in third
    assert state_bytes() == before and book.overlap is None


@requires_torch
@pytest.mark.slow
def test_determinism_switches_come_back_after_an_overlap():
    before = torch.are_deterministic_algorithms_enabled()
    plain, strict = seedmagic.seeded(1), seedmagic.seeded(2, deterministic=True)
    plain.__enter__()
    strict.__enter__()
    assert torch.are_deterministic_algorithms_enabled()
    leave(plain)
    leave(strict)
    assert torch.are_deterministic_algorithms_enabled() == before


def test_an_overlap_puts_back_generators_only_later_members_managed():
    seedmagic.seed(1)
    before = state_bytes()
    oldest, later = seedmagic.seeded(1, only="random"), seedmagic.seeded(2)
    oldest.__enter__()
    later.__enter__()
    np.random.rand(1)
    assert leave(oldest) != "ok" and leave(later) != "ok"
    assert state_bytes() == before and book.scopes == [] and book.overlap is None


@requires_torch
def test_a_deterministic_scope_that_joins_an_overlap_gives_the_switches_back():
    before = torch.are_deterministic_algorithms_enabled()
    first, second, joining = seedmagic.seeded(1), seedmagic.seeded(2), seedmagic.seeded(3, deterministic=True)
    first.__enter__()
    second.__enter__()
    leave(first)
    joining.__enter__()
    leave(joining)
    leave(second)
    assert torch.are_deterministic_algorithms_enabled() == before


def test_one_scope_object_in_two_asyncio_tasks_never_swaps_their_streams():
    scope = seedmagic.seeded()  # no session seed: each entry draws its own seed
    drawn: dict[int, tuple[int, list[float]]] = {}

    async def task(i: int) -> None:
        with scope as n:
            first = np.random.rand()
            await asyncio.sleep(0.01 * (i + 1))
            drawn[i] = (n, [first, np.random.rand()])

    async def main() -> list[BaseException | None]:
        return list(await asyncio.gather(task(0), task(1), return_exceptions=True))

    outcomes = asyncio.run(main())
    for i, outcome in enumerate(outcomes):  # either told (SeedError), or each drew its own stream
        if outcome is None:
            n, values = drawn[i]
            assert values == np.random.RandomState(n).rand(2).tolist()
        else:
            assert isinstance(outcome, seedmagic.SeedError)
    assert any(outcome is not None for outcome in outcomes)  # the scopes did overlap: it is said
    assert book.scopes == [] and book.overlap is None


def test_a_handler_put_back_across_two_scopes_is_the_one_it_stood_for():
    calls = []
    with seedmagic.seeded(1):
        saved = signal.signal(signal.SIGINT, lambda *_: calls.append("user"))
    with seedmagic.seeded(2):
        signal.signal(signal.SIGINT, saved)  # what the user saved was seedmagic's, standing for Python's own
    try:
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        assert calls == []
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def test_a_handler_replaced_inside_a_scope_still_leaves_the_restore_whole(monkeypatch):
    """User code sets its own SIGINT handler inside a scope; a Ctrl-C during the restore must still wait."""
    seedmagic.seed(1)
    before = state_bytes()
    real_set_state = np.random.set_state
    fired = []

    def set_state_interrupted(state):  # a Ctrl-C lands in the middle of the restore
        if not fired:
            fired.append(True)
            signal.raise_signal(signal.SIGINT)
        real_set_state(state)

    with pytest.raises(KeyboardInterrupt):
        with seedmagic.seeded(5):
            signal.signal(signal.SIGINT, signal.default_int_handler)
            np.random.rand(3)
            random.random()
            monkeypatch.setattr(np.random, "set_state", set_state_interrupted)
    monkeypatch.undo()
    assert fired and state_bytes() == before and book.scopes == []
    assert interrupts._guard.holders == 0


class Stop(Exception):
    """What a handler of the user's may raise instead of KeyboardInterrupt."""


def _stop(_signum, _frame):
    raise Stop("stop requested")


def _exit_now(_signum, _frame):
    raise SystemExit(3)


def _loops_again(frame) -> bool:
    """Whether ``frame`` is at the head of a loop, where Python checks for signals as the loop turns."""
    return linecache.getline(frame.f_code.co_filename, frame.f_lineno).lstrip().startswith(("for ", "while "))


def _after_calls(function) -> set[int]:
    """The instructions of ``function`` that follow a call: Python runs signal handlers as a C call returns."""
    instructions = list(dis.get_instructions(function))
    return {following.offset for instruction, following in zip(instructions, instructions[1:], strict=False)
            if instruction.opname.startswith("CALL")}


def _sweep_exit(body_handler, scopes=1, lines=False):
    """One Ctrl-C at each function entry, as each call in the exit method returns where the body put in a handler
    (with seedmagic's in force a signal there waits for the tracer's own frame, which no real signal does), and
    with ``lines`` at each turn of a loop in seedmagic's own code (the places where Python checks for signals),
    during the exit of the innermost of ``scopes`` nested scopes whose body put in ``body_handler`` (None: none);
    per landing: (where, what was raised, scopes left open, states as before, pending)."""
    exit_code = seedmagic.seeded.__exit__.__code__
    returns = _after_calls(seedmagic.seeded.__exit__) if body_handler is not None else set()
    seedmagic.seed(3)
    np.random.rand(7)
    before = state_bytes()
    entries, outcomes = 1, []
    while True:
        calls, at = [0], []

        def land(frame, event, _arg, target=entries, calls=calls, at=at):  # Ctrl-C as the target-th step starts
            if event == "call" or event == "line" and lines and _loops_again(frame) \
                    or event == "opcode" and frame.f_lasti in returns:
                calls[0] += 1
                if calls[0] == target:
                    at.append(frame.f_code.co_name + ("" if event == "call" else f"+{frame.f_lasti}"))
                    signal.raise_signal(signal.SIGINT)
            if frame.f_code is exit_code:
                frame.f_trace_opcodes = True
                return land
            return land if lines and "seedmagic" in frame.f_code.co_filename else None

        raised = None
        outer = [seedmagic.seeded(20 + n) for n in range(scopes - 1)]
        scope = seedmagic.seeded(10)
        for entered in outer:
            entered.__enter__()
        try:
            with scope:
                np.random.rand()
                if body_handler is not None:
                    signal.signal(signal.SIGINT, body_handler)
                sys.settrace(land)
        except BaseException as error:  # noqa: BLE001 (what the handler raised, whatever it is)
            raised = type(error)
        finally:
            sys.settrace(None)
        pending = interrupts._guard.pending
        open_scopes = len(book.scopes) - len(outer)
        if open_scopes:
            scope.__exit__(None, None, None)  # left again, it closes
        for entered in reversed(outer):
            entered.__exit__(None, None, None)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if not at:
            return outcomes
        outcomes.append((at[0], raised, open_scopes, state_bytes() == before, pending))
        entries += 1


@pytest.mark.parametrize("body_handler, raised", [(signal.default_int_handler, KeyboardInterrupt), (_stop, Stop),
                                                  (_exit_now, SystemExit)])
def test_a_handler_the_body_set_cannot_leave_the_scope_open_whichever_call_of_the_exit_ctrl_c_lands_on(body_handler,
                                                                                                       raised):
    """The body puts in a handler that raises (as ipykernel does for each cell, or one raising SystemExit or an
    exception of its own): a Ctrl-C on the first instruction of any function the exit calls, before seedmagic's
    handler is back, is held until the scope has closed, then raised. Only the exit's own first instruction is out
    of reach: Python raises there before any of its code runs."""
    outcomes = _sweep_exit(body_handler)
    assert len(outcomes) > 30 and all(what is raised for _, what, _, _, _ in outcomes), outcomes
    assert [at for at, _, open_scopes, _, _ in outcomes if open_scopes] == ["__exit__"]
    assert all(restored or at == "__exit__" for at, _, _, restored, _ in outcomes)
    assert book.scopes == [] and interrupts._guard.depth == 0 and interrupts._guard.pending is None


def test_a_handler_the_body_set_that_does_not_raise_gets_every_ctrl_c_of_the_exit_and_stays():
    """A graceful stop (a handler that notes the signal) keeps every Ctrl-C that lands during the exit, and is the
    handler in force after it: seedmagic never puts another one in its place, even for a moment."""
    got = []
    outcomes = _sweep_exit(lambda signum, _frame: got.append(signum))
    assert len(outcomes) > 30 and all(what is None and not open_scopes and restored and pending is None
                                      for _, what, open_scopes, restored, pending in outcomes), outcomes
    assert len(got) == len(outcomes)


@pytest.mark.parametrize("body_handler", [None, signal.default_int_handler])
def test_a_ctrl_c_during_a_nested_scopes_exit_arrives_before_the_outer_body_goes_on(body_handler):
    """Inside an outer scope seedmagic's handler stays in force: a Ctrl-C that waits for the inner exit's work is
    delivered as that exit returns, not left for the next seedmagic call."""
    outcomes = _sweep_exit(body_handler, scopes=2, lines=True)
    assert len(outcomes) > 30
    assert all(what is KeyboardInterrupt and pending is None for _, what, _, _, pending in outcomes), outcomes


def test_a_handler_that_replaces_itself_on_a_ctrl_c_as_a_scope_starts_stays_replaced():
    """"Press Ctrl-C again to force quit": the handler puts another in its place. A Ctrl-C that lands as the scope
    puts its own in front reaches that handler, and the one it put in is what the scope stands for and gives back."""
    presses = []

    def graceful(signum, _frame):
        presses.append(signum)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def land(frame, event, _arg):
        if event == "call" and frame.f_code is interrupts.Deferring.__init__.__code__:
            sys.settrace(None)
            signal.raise_signal(signal.SIGINT)

    signal.signal(signal.SIGINT, graceful)
    sys.settrace(land)
    try:
        with seedmagic.seeded(10):
            sys.settrace(None)
    finally:
        sys.settrace(None)
    assert presses == [signal.SIGINT] and signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_two_ctrl_c_at_a_scopes_exit_leave_none_waiting():
    """One waits while seedmagic's handler is in force; the next lands as the handler before the scope is back, and
    it raises: the one that waited is delivered then, not at the next seedmagic call."""
    def land(frame, event, _arg):
        caller = frame.f_back
        if event == "call" and frame.f_code.co_name == "signal" and caller.f_code.co_name == "release":
            signal.raise_signal(signal.SIGINT)  # the first: it waits
        if event == "call" and frame.f_code.co_name == "_int_to_enum" and caller.f_code.co_name == "signal" \
                and caller.f_back.f_code.co_name == "release":
            sys.settrace(None)
            signal.raise_signal(signal.SIGINT)  # the second: the handler before the scope raises it

    seedmagic.seed(3)
    before = state_bytes()
    with pytest.raises(KeyboardInterrupt):
        try:
            with seedmagic.seeded(10):
                sys.settrace(land)
        finally:
            sys.settrace(None)
    assert interrupts._guard.pending is None and state_bytes() == before
    seedmagic.seed(5)  # no Ctrl-C left to raise here


def test_a_scope_entered_in_a_worker_thread_and_left_on_the_main_thread_closes_whole_under_ctrl_c():
    """No handler could be set where it was entered: its exit on the main thread holds Ctrl-C off itself."""
    def land(frame, event, _arg):
        if event == "call" and frame.f_code is seedmagic.seeded._leave.__code__:
            sys.settrace(None)
            signal.raise_signal(signal.SIGINT)

    seedmagic.seed(3)
    before = state_bytes()
    scope = seedmagic.seeded(10)
    worker = threading.Thread(target=scope.__enter__)
    worker.start()
    worker.join()
    np.random.rand(2)
    sys.settrace(land)
    try:
        with pytest.raises(KeyboardInterrupt):
            scope.__exit__(None, None, None)
    finally:
        sys.settrace(None)
    assert state_bytes() == before and book.scopes == [] and interrupts._guard.holders == 0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _closing_in_a_worker(monkeypatch) -> tuple[threading.Thread, threading.Event]:
    """A scope the main thread entered (a generator's), closed by a worker whose restore waits for the event."""
    set_state, restoring, go_on = np.random.set_state, threading.Event(), threading.Event()

    def slow_set_state(state):
        restoring.set()
        go_on.wait(10)
        set_state(state)

    def holding():
        with seedmagic.seeded(5):
            yield np.random.rand()

    held = holding()
    next(held)
    monkeypatch.setattr(np.random, "set_state", slow_set_state)
    worker = threading.Thread(target=lambda: list(held))
    worker.start()
    assert restoring.wait(10)
    return worker, go_on


def test_a_worker_closing_a_scope_does_not_hold_off_the_main_threads_ctrl_c(monkeypatch):
    """Signals come to the main thread: while a worker restores, a Ctrl-C in the main thread's own code raises there
    at once, not later in the worker."""
    worker, go_on = _closing_in_a_worker(monkeypatch)
    try:
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
            sum(range(10))
    finally:
        go_on.set()
        worker.join()
    assert book.scopes == [] and interrupts._guard.depth == 0 and interrupts._guard.pending is None


def test_seeding_on_the_main_thread_stays_whole_while_a_worker_closes_a_scope(monkeypatch):
    """The main thread's handler raises (a new cell); a Ctrl-C lands after the first generator is seeded: seed()
    still seeds all of them, then the Ctrl-C arrives."""
    seedmagic.seed(7)
    expected = state_bytes()
    seedmagic.seed(1)
    worker, go_on = _closing_in_a_worker(monkeypatch)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Timer(0.2, go_on.set).start()
    seeded = []

    def land(frame, event, _arg):
        if event == "call" and frame.f_code.co_name == "seed" and "adapters" in frame.f_code.co_filename:
            seeded.append(frame)
            if len(seeded) == 2:
                sys.settrace(None)
                signal.raise_signal(signal.SIGINT)

    sys.settrace(land)
    try:
        with pytest.raises(KeyboardInterrupt):
            seedmagic.seed(7)
    finally:
        sys.settrace(None)
        go_on.set()
        worker.join()
    monkeypatch.undo()
    assert state_bytes() == expected and interrupts._guard.depth == 0


def test_a_ctrl_c_waiting_for_the_main_threads_entry_is_not_raised_in_a_worker_leaving_its_own_scope():
    def land(frame, event, _arg):
        if event == "call" and frame.f_code is seedmagic.seeded._enter.__code__:
            sys.settrace(None)
            signal.raise_signal(signal.SIGINT)  # waits: the entry is under way
            worker = threading.Thread(target=drawing_scope, args=(3,))
            worker.start()
            worker.join()

    errors = []
    threading.excepthook, hook = (lambda failure: errors.append(failure.exc_type)), threading.excepthook
    seedmagic.seed(1)
    before = state_bytes()
    sys.settrace(land)
    try:
        with pytest.raises(KeyboardInterrupt):
            with seedmagic.seeded(10):
                pass
    finally:
        sys.settrace(None)
        threading.excepthook = hook
    assert errors == [] and state_bytes() == before and book.scopes == []


def test_a_scope_entered_in_one_cell_and_left_in_another_closes_its_latest_entry():
    """ipykernel may run cells in different contexts: then the thread's latest entry is the one that closes."""
    import contextvars

    seedmagic.seed(1)
    before = state_bytes()
    scope = seedmagic.seeded(7)
    contextvars.Context().run(scope.__enter__)
    np.random.rand(1)
    contextvars.Context().run(scope.__enter__)  # the same object entered again, nested
    np.random.rand(1)
    contextvars.Context().run(scope.__exit__, None, None, None)
    contextvars.Context().run(scope.__exit__, None, None, None)
    assert state_bytes() == before and book.scopes == [] and book.overlap is None


# Ctrl-C while the cell watch runs ---------------------------------------------------------------


def globals_moved(shell) -> set[str]:
    from seedmagic.watch import follow

    return {name for whose, name in follow(shell).watch.advanced if whose == "global"}


def test_ctrl_c_while_the_cell_watch_runs_is_dropped_quietly_and_skips_that_cell(shell, capfd, monkeypatch):
    """A real SIGINT lands halfway through the watch: no traceback, no markers for that cell, the next has its own."""
    from seedmagic import watch

    states = watch.global_states

    def interrupted(convert) -> dict[str, object]:
        signal.raise_signal(signal.SIGINT)  # Ctrl-C, as the cell ends
        return states(convert)

    monkeypatch.setattr(watch, "global_states", interrupted)
    shell.run_cell("x = np.random.rand(2)", store_history=True)
    monkeypatch.setattr(watch, "global_states", states)
    out, err = capfd.readouterr()
    assert "Error in callback" not in out + err and "KeyboardInterrupt" not in out + err
    assert globals_moved(shell) == set()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the next Ctrl-C interrupts as always
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)
    shell.run_cell("y = random.random()", store_history=True)
    assert globals_moved(shell) == {"random"}  # the cell after it: its own markers, numpy's draw not among them


def test_an_interrupt_raised_inside_the_watch_skips_that_cell_only(shell, capfd, monkeypatch):
    """A KeyboardInterrupt out of the watch itself: that cell gets no markers, the next its own."""
    from seedmagic import watch

    def cut_short(self: watch.CellWatch, namespace: object, cell: object = None) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(watch.CellWatch, "after_cell", cut_short)
        shell.run_cell("x = np.random.rand(2)", store_history=True)
    out, err = capfd.readouterr()
    assert "Error in callback" not in out + err and "KeyboardInterrupt" not in out + err
    assert globals_moved(shell) == set()
    shell.run_cell("y = random.random()", store_history=True)
    assert globals_moved(shell) == {"random"}  # numpy's draw belonged to the skipped cell
    shell.run_cell("z = np.random.rand(2)", store_history=True)
    assert globals_moved(shell) == {"numpy"}


@pytest.mark.parametrize("where", ["running_cell", "in_cell"])
def test_an_interrupt_in_the_watchs_before_cell_step_is_dropped_quietly(shell, capfd, monkeypatch, where):
    """Ctrl-C as a cell starts, while the watch notes which cell runs: no traceback, and the cell itself runs."""
    from seedmagic import watch

    original = getattr(watch, where)

    def interrupted(*args: object) -> object:
        signal.raise_signal(signal.SIGINT)
        return original(*args)

    with monkeypatch.context() as patched:
        patched.setattr(watch, where, interrupted)
        result = shell.run_cell("x = 41 + 1", store_history=True)
    out, err = capfd.readouterr()
    assert "Error in callback" not in out + err and "KeyboardInterrupt" not in out + err
    assert result.success and shell.user_ns["x"] == 42
    shell.run_cell("y = random.random()", store_history=True)
    assert globals_moved(shell) == {"random"}
