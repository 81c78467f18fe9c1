"""Scopes (%%seeded, %seed N stmt, seedmagic.seeded) restore every generator, always."""

from __future__ import annotations

import functools
import os
import random
import signal
import threading
import types

import numpy as np
import pytest
import torch
from IPython.core.error import UsageError

import seedmagic
from conftest import any_kind_states, state_bytes


def fresh_draws(n: int) -> dict[str, list[float]]:
    """What each library draws first after being seeded with n by its own call."""
    random.seed(n)
    np.random.seed(n)
    torch.manual_seed(n)
    return {"random": [random.random() for _ in range(3)], "numpy": np.random.rand(3).tolist(),
            "torch": torch.rand(3).tolist()}


DRAW_ALL = "{'random': [random.random() for _ in range(3)], 'numpy': np.random.rand(3).tolist(), 'torch': torch.rand(3).tolist()}"


def start_somewhere() -> None:
    """Put the generators in a used, non-trivial state (NumPy with a cached Gaussian)."""
    random.seed(3)
    np.random.seed(3)
    torch.manual_seed(3)
    random.random()
    np.random.randn(1)
    torch.rand(7)


def test_seeded_cell_sees_the_seed_and_the_stream_continues_as_if_it_never_ran(shell):
    expected_inside = fresh_draws(10)
    start_somewhere()
    before = state_bytes()
    result = shell.run_cell("%%seeded 10\n" + DRAW_ALL)
    assert result.success
    assert result.result == expected_inside
    assert state_bytes() == before


def test_seeded_cell_gives_the_same_draws_in_any_order(shell):
    start_somewhere()
    first = shell.run_cell("%%seeded 5\nnp.random.rand(4).tolist()").result
    shell.run_cell("np.random.rand(100); torch.rand(100)")
    second = shell.run_cell("%%seeded 5\nnp.random.rand(4).tolist()").result
    assert first == second == fresh_draws(5)["numpy"] + [np.random.RandomState(5).rand(4)[3]]


def test_numpys_cached_gaussian_survives_a_scope(shell):
    start_somewhere()  # leaves a Gaussian cached
    reference = np.random.get_state()
    expected = np.random.randn(3).tolist()
    np.random.set_state(reference)
    shell.run_cell("%%seeded 10\nnp.random.randn(5)")
    assert np.random.randn(3).tolist() == expected


def test_cell_exception_reaches_the_user_and_everything_is_restored(shell):
    start_somewhere()
    before = state_bytes()
    result = shell.run_cell("%%seeded 10\nnp.random.rand(3)\nraise ValueError('boom')")
    assert isinstance(result.error_in_exec, ValueError)
    assert not result.success  # so "Run All" stops here
    assert state_bytes() == before


def test_keyboard_interrupt_inside_a_scope_restores(shell):
    start_somewhere()
    before = state_bytes()
    result = shell.run_cell("%%seeded 10\ntorch.rand(3)\nraise KeyboardInterrupt")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert state_bytes() == before
    with pytest.raises(KeyboardInterrupt):
        with seedmagic.seeded(10):
            np.random.rand(2)
            raise KeyboardInterrupt
    assert state_bytes() == before


def test_cell_value_is_displayed_like_a_normal_cell(shell, capsys):
    shell.run_cell("%%seeded 10\nx = 1\nnp.random.rand(2)")
    assert "Out[" in capsys.readouterr().out
    result = shell.run_cell("%%seeded 10\nnp.random.rand(2);")
    assert result.result is None
    assert "Out[" not in capsys.readouterr().out


def test_cell_runs_in_the_user_namespace(shell):
    shell.run_cell("%%seeded 10\nvalue = np.random.rand(1)[0]")
    assert shell.user_ns["value"] == np.random.RandomState(10).rand(1)[0]


def test_line_form_returns_the_value_and_restores(shell):
    start_somewhere()
    before = state_bytes()
    value = shell.run_line_magic("seed", "10 np.random.rand(3)")
    assert value.tolist() == np.random.RandomState(10).rand(3).tolist()
    assert state_bytes() == before
    assert shell.run_cell("%seed 10 x = np.random.rand(1)[0]").result is None
    assert shell.user_ns["x"] == np.random.RandomState(10).rand(1)[0]


def test_line_form_keeps_the_statement_text_as_written(shell):
    value = shell.run_line_magic("seed", "10 '{a}  $b'")
    assert value == "{a}  $b"


def test_context_manager_gives_the_seed_and_restores():
    start_somewhere()
    before = state_bytes()
    expected = fresh_draws(10)
    start_somewhere()
    with seedmagic.seeded(10) as n:
        inside = {"random": [random.random() for _ in range(3)], "numpy": np.random.rand(3).tolist(),
                  "torch": torch.rand(3).tolist()}
    assert n == 10
    assert inside == expected
    assert state_bytes() == before


def test_decorator_and_nesting():
    @seedmagic.seeded(4)
    def draw() -> list[float]:
        return np.random.rand(2).tolist()

    start_somewhere()
    before = state_bytes()
    assert draw() == draw() == np.random.RandomState(4).rand(2).tolist()
    assert state_bytes() == before

    outer_stream = np.random.RandomState(1).rand(4).tolist()
    with seedmagic.seeded(1):
        first = np.random.rand(2).tolist()
        with seedmagic.seeded(2):
            assert np.random.rand(2).tolist() == np.random.RandomState(2).rand(2).tolist()
            assert draw() == np.random.RandomState(4).rand(2).tolist()
        assert first + np.random.rand(2).tolist() == outer_stream
    assert state_bytes() == before


def test_recursive_decorated_function_restores_each_level():
    @seedmagic.seeded(4)
    def recurse(depth: int) -> list[float]:
        draw = np.random.rand(1).tolist()
        return draw + (recurse(depth - 1) if depth else [])

    start_somewhere()
    before = state_bytes()
    assert recurse(3) == [np.random.RandomState(4).rand(1)[0]] * 4
    assert state_bytes() == before


def test_keep_lets_the_stream_go_on(shell):
    shell.run_cell("%%seeded --keep 10\nnp.random.rand(3)")
    assert np.random.rand(2).tolist() == np.random.RandomState(10).rand(5)[3:].tolist()


def test_keep_through_the_api_continues_the_torch_stream():
    with seedmagic.seeded(11, keep=True):
        torch.rand(1)
    after = torch.rand(2).tolist()
    torch.manual_seed(11)
    torch.rand(1)
    assert after == torch.rand(2).tolist()


@pytest.mark.parametrize(
    "options, kwargs",
    [("--only numpy,torch", {"only": "numpy,torch"}), ("--skip torch", {"skip": ["torch"]})],
)
def test_only_and_skip(shell, options, kwargs):
    seeded = {"numpy", "torch"} if "only" in kwargs else {"random", "numpy"}
    start_somewhere()
    before = state_bytes()
    inside = shell.run_cell(f"%%seeded {options} 10\n" + DRAW_ALL).result
    after = state_bytes()
    for name in ("random", "numpy", "torch"):  # the scope restores what it seeded, and only that
        assert (after[name] == before[name]) == (name in seeded)
    start_somewhere()
    expected_fresh = fresh_draws(10)
    start_somewhere()
    with seedmagic.seeded(10, **kwargs):
        api_inside = {"random": [random.random() for _ in range(3)], "numpy": np.random.rand(3).tolist(),
                      "torch": torch.rand(3).tolist()}
    for name in ("random", "numpy", "torch"):
        assert (inside[name] == expected_fresh[name]) == (name in seeded)
        assert (api_inside[name] == expected_fresh[name]) == (name in seeded)


def test_seed_only_leaves_other_generators_untouched(shell):
    start_somewhere()
    before = state_bytes()
    shell.run_line_magic("seed", "--only numpy 10")
    after = state_bytes()
    assert after["random"] == before["random"] and after["torch"] == before["torch"]
    np.random.seed(10)
    assert after["numpy"] == state_bytes()["numpy"]


def test_unknown_generator_lists_the_known_ones():
    with pytest.raises(seedmagic.SeedError, match="unknown generator 'nosuchlib'; known: random, numpy, torch"):
        seedmagic.seeded(3, only="nosuchlib")


def test_decorating_a_generator_or_coroutine_function_is_refused():
    def numbers():
        yield np.random.rand(1)

    async def later():
        return np.random.rand(1)

    for function in (numbers, later, functools.partial(numbers)):
        with pytest.raises(seedmagic.SeedError, match="use 'with seeded"):
            seedmagic.seeded(3)(function)


@pytest.mark.parametrize("line", ["0", "10", "007", "4294967295", "4294967296", "99999999999999999999"])
def test_a_seed_alone_on_the_magic_line_parses_as_argparse_parses_it(line):
    """``%%seeded 10`` skips argparse: what it gets must be exactly what the parser gives (range errors come later)."""
    from seedmagic.magicline import defaults
    from seedmagic.magics import SeedMagics

    for parser in (SeedMagics.seeded.parser, SeedMagics.seed.parser):
        assert vars(parser.parse_args([line])) == {**defaults(parser), "seed": line}


def test_scopes_in_two_threads_at_once_leave_no_scope_open():
    seedmagic.seed(7)
    before = state_bytes()
    barrier = threading.Barrier(2)
    overlaps: list[str] = []

    def work(n: int) -> None:
        barrier.wait()
        for _ in range(200):
            try:
                with seedmagic.seeded(n):
                    np.random.rand(1)
            except seedmagic.SeedError as error:  # the scopes overlapped: said, never silent
                overlaps.append(str(error))

    threads = [threading.Thread(target=work, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seedmagic.session.book.scopes == []
    assert state_bytes() == before  # whatever interleaving happened, the state before the scopes is back
    assert all("drew from the global generators at once" in text or "overlapped" in text for text in overlaps)


def test_leaving_a_scope_that_is_not_open_is_one_line():
    with pytest.raises(seedmagic.SeedError, match=r"seeded\(None\) is not open: __exit__ without __enter__"):
        seedmagic.seeded(3).__exit__(None, None, None)


def test_a_generator_holding_a_scope_that_ends_in_another_thread_closes_it():
    """A generator started here and run to its end by a worker leaves its scope there: restored, closed."""
    handler = signal.getsignal(signal.SIGINT)
    seedmagic.seed(1)
    before = state_bytes()
    np.random.seed(1)
    expected = np.random.rand(2).tolist()
    seedmagic.seed(1)

    def batches():
        with seedmagic.seeded(1):
            yield np.random.rand()
            yield np.random.rand()

    running = batches()
    drawn = [next(running)]
    errors: list[BaseException] = []

    def finish() -> None:
        try:
            drawn.extend(running)
        except BaseException as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)

    worker = threading.Thread(target=finish)
    worker.start()
    worker.join(timeout=60)
    assert errors == [] and drawn == expected
    assert seedmagic.session.book.scopes == [] and state_bytes() == before
    seedmagic.seed(5)
    assert seedmagic.active_seed() == 5 and os.environ["SEEDMAGIC_SEED"] == "5"
    # The worker could not give the SIGINT handler back; the next scope here does
    with seedmagic.seeded(2):
        pass
    assert signal.getsignal(signal.SIGINT) is handler


# NumPy's bit generator swapped by user code (np.random.set_bit_generator) ------------------------------


@pytest.fixture
def global_bit_generator():
    """NumPy's global bit generator before the test (conftest puts it back after the test)."""
    return np.random.get_bit_generator()


def numpy_next(k: int = 4) -> list[float]:
    """The next normal draws of NumPy's global generator, read from a copy of its public state."""
    state = np.random.get_state(legacy=False)
    copy = np.random.RandomState(getattr(np.random, state["bit_generator"])())
    copy.set_state(state)
    return copy.randn(k).tolist()


class LenientPCG64(np.random.PCG64):
    """A bit generator whose state setter swallows NumPy's refusal (so a refusal cannot be relied on)."""

    @property
    def state(self):
        return np.random.PCG64.state.__get__(self)

    @state.setter
    def state(self, value):
        try:
            np.random.PCG64.state.__set__(self, value)
        except ValueError:
            pass


@pytest.mark.parametrize("swapped_in", [lambda: np.random.PCG64(1), lambda: np.random.Philox(1),
                                        lambda: np.random.MT19937(1), lambda: LenientPCG64(1)],
                         ids=["PCG64", "Philox", "another MT19937", "a subclass with a lenient setter"])
def test_a_bit_generator_swapped_inside_the_scope_is_put_back_with_its_state(shell, global_bit_generator,
                                                                             swapped_in):
    """The object found before the scope comes back, in its state and with its cached Gaussian."""
    shell.run_cell("import numpy as np")
    np.random.seed(5)
    np.random.randn()  # leaves a cached Gaussian, which set_bit_generator clears
    expected = numpy_next()
    shell.user_ns["swapped_in"] = swapped_in
    result = shell.run_cell("%%seeded 10\nnp.random.set_bit_generator(swapped_in())\nnp.random.rand(3)")
    assert result.success
    assert np.random.get_bit_generator() is global_bit_generator
    assert numpy_next() == expected


def test_a_bit_generator_of_the_same_kind_swapped_in_keeps_its_own_state(global_bit_generator):
    before = np.random.get_state(legacy=False)
    with seedmagic.seeded(10):
        own = np.random.MT19937(1)
        np.random.set_bit_generator(own)
        np.random.rand(2)
        own_state = own.state
    assert np.random.get_bit_generator() is global_bit_generator
    assert own.state["state"]["key"].tolist() == own_state["state"]["key"].tolist()  # the user's object untouched
    assert np.random.get_state(legacy=False)["state"]["pos"] == before["state"]["pos"]


def test_nested_scopes_that_each_swap_put_back_each_level(global_bit_generator):
    np.random.set_bit_generator(np.random.PCG64(7))
    outer_generator, outer_next = np.random.get_bit_generator(), numpy_next()
    with seedmagic.seeded(1):
        np.random.set_bit_generator(np.random.MT19937(2))
        inner_generator, inner_next = np.random.get_bit_generator(), numpy_next()
        with seedmagic.seeded(2):
            np.random.set_bit_generator(np.random.SFC64(3))
            np.random.rand(5)
        assert np.random.get_bit_generator() is inner_generator and numpy_next() == inner_next
        np.random.rand(5)
    assert np.random.get_bit_generator() is outer_generator and numpy_next() == outer_next


def test_seeding_over_a_swapped_bit_generator_does_not_depend_on_what_came_before(global_bit_generator):
    """np.random.seed keeps the cached Gaussian of a bit generator other than an MT19937; seedmagic drops it."""
    np.random.set_bit_generator(np.random.PCG64(3))
    draws = []
    for earlier in (2, 3):  # an odd count of normal draws leaves a cached Gaussian
        np.random.randn(earlier)
        with seedmagic.seeded(10):
            draws.append(np.random.randn(2).tolist())
    assert draws[0] == draws[1]


class NeedsATag(np.random.PCG64):
    """A bit generator NumPy's seed cannot make (np.random.seed calls type(bit_generator)(seed))."""

    def __init__(self, seed, tag):
        super().__init__(seed)
        self.tag = tag


@pytest.mark.parametrize("how", ["seed", "seeded"])
def test_a_bit_generator_that_cannot_be_seeded_is_one_line_and_moves_nothing(global_bit_generator, how):
    np.random.set_bit_generator(NeedsATag(1, "mine"))
    before = any_kind_states()
    with pytest.raises(seedmagic.SeedError, match="numpy cannot be seeded: TypeError") as caught:
        if how == "seed":
            seedmagic.seed(10)
        else:
            seedmagic.seeded(10).__enter__()
    assert "\n" not in str(caught.value)
    assert any_kind_states() == before
    assert seedmagic.session.book.scopes == []


class Unreadable(np.random.MT19937):
    """A bit generator whose state cannot be read: nothing can save NumPy's global generator while it holds it."""

    @property
    def state(self):
        raise RuntimeError("no state for you")

    @state.setter
    def state(self, value):
        raise RuntimeError("no state for you either")


def test_a_bit_generator_whose_state_cannot_be_read_is_one_line_everywhere(shell, capsys):
    """A scope cannot save it, so entering one is refused before anything moves; the status, the cell markers
    and a checkpoint say so in one line, and every other generator goes on as before."""
    shell.run_cell("import random, numpy as np, torch")
    shell.run_line_magic("seed", "1")
    np.random.set_bit_generator(Unreadable(1))
    before = (random.getstate(), torch.get_rng_state())
    for cell in ("%%seeded 10\nx = 1", "%seed 2 x = 1"):  # a cell, and a statement run under a seed
        result = shell.run_cell(cell)
        assert isinstance(result.error_in_exec, UsageError)
        assert str(result.error_in_exec) == "cannot read the state of numpy (RuntimeError: no state for you)"
    for call in (lambda: seedmagic.seeded(10).__enter__(), seedmagic.snapshot, seedmagic.state_dict,
                 seedmagic.peek):
        with pytest.raises(seedmagic.SeedError, match=r"numpy \(RuntimeError: no state for you\)$"):
            call()
    assert seedmagic.session.book.scopes == []
    assert random.getstate() == before[0] and torch.equal(torch.get_rng_state(), before[1])
    capsys.readouterr()
    shell.run_cell("random.random()")  # the cell markers go on for the others
    shell.run_line_magic("seed", "")
    shown = capsys.readouterr()
    rows = {line.lstrip("* ").split()[0]: line for line in shown.out.splitlines()
            if line.lstrip("* ").startswith(("random ", "numpy ", "torch "))}
    assert "cannot preview: RuntimeError: no state for you" in rows["numpy"]
    assert rows["random"].startswith("*") and not rows["torch"].startswith("*")
    assert "stopped" not in shown.err


class Flaky(np.random.MT19937):
    """Readable or not, as ``broken`` says (a getter that raises only sometimes)."""

    broken = False

    @property
    def state(self):
        if Flaky.broken:
            raise RuntimeError("flaky")
        return np.random.MT19937.state.__get__(self)

    @state.setter
    def state(self, value):
        np.random.MT19937.state.__set__(self, value)


@pytest.mark.parametrize("line", ["%seed $n", "%seed --skip numpy {n}", "%%seeded --skip numpy $n\nx = 1",
                                  "%seed --only random $n x = random.random()"])
def test_a_line_with_a_variable_is_not_a_traceback_when_numpy_cannot_be_read(shell, line):
    """A line with an expansion first snapshots every generator, to undo what the expansion may draw: one that
    cannot be read makes that a one-line UsageError, not a traceback."""
    shell.run_cell("n = 5")
    np.random.set_bit_generator(Unreadable(1))
    result = shell.run_cell(line)
    assert result.error_in_exec is None or isinstance(result.error_in_exec, UsageError), repr(result.error_in_exec)


def test_a_cell_that_draws_nothing_is_not_marked_when_numpy_becomes_readable_again(shell, capsys, monkeypatch):
    """A cell after which numpy could not be read has no baseline for it: the next cell, where it reads again,
    is not compared with numpy's state at import (that is for a library imported during the cell)."""
    monkeypatch.setitem(seedmagic.importhook.fresh_states, "numpy", np.random.get_state(legacy=False))
    np.random.set_bit_generator(Flaky(5))
    monkeypatch.setattr(Flaky, "broken", False)
    shell.run_cell("x = 1")  # baseline: numpy readable
    Flaky.broken = True
    shell.run_cell("y = 2")  # numpy left out
    Flaky.broken = False
    shell.run_cell("z = 3")  # draws from nothing
    capsys.readouterr()
    shell.run_line_magic("seed", "")
    shown = capsys.readouterr().out
    numpy_row = next(line for line in shown.splitlines() if line.lstrip("* ").startswith("numpy "))
    assert not numpy_row.startswith("*"), shown
    assert "warning" not in shown, shown


def test_the_probe_does_not_take_numpy_for_imported_after_a_cell_where_it_could_not_be_read(monkeypatch):
    """Check's probe, like the watch, does not take an unreadable numpy for one not imported: the cell after, where
    it reads again, is not the cell that imported it (else check says 'no seed controlled it')."""
    from seedmagic import probe

    np.random.seed(0)
    recorder = probe.Probe(types.SimpleNamespace(user_ns={}))
    np.random.set_bit_generator(Flaky(5))
    monkeypatch.setattr(Flaky, "broken", True)
    assert recorder.take()["globals"]["numpy"] == seedmagic.status.UNREADABLE
    Flaky.broken = False
    np.random.rand()
    taken = recorder.take()
    assert "numpy" not in taken["imported"] and "numpy" not in taken["advanced"]
    np.random.rand()
    assert "numpy" in recorder.take()["advanced"]  # readable again: compared from here on


class InstalledUnreadable(np.random.PCG64):
    """Readable as a fresh copy, not once it is NumPy's global bit generator (raises only sometimes)."""

    armed = False

    @property
    def state(self):
        if InstalledUnreadable.armed and self is np.random.get_bit_generator():
            raise RuntimeError("not while installed")
        return np.random.PCG64.state.__get__(self)

    @state.setter
    def state(self, value):
        np.random.PCG64.state.__set__(self, value)


def test_seed_that_says_numpy_cannot_be_seeded_has_not_seeded_it(shell, monkeypatch):
    bit_generator = InstalledUnreadable(1)
    np.random.set_bit_generator(bit_generator)
    before = np.random.PCG64.state.__get__(bit_generator)
    others = (random.getstate(), torch.get_rng_state().tolist())
    monkeypatch.setattr(InstalledUnreadable, "armed", True)
    with pytest.raises(seedmagic.SeedError, match="numpy cannot be seeded"):
        seedmagic.seed(10)
    assert others == (random.getstate(), torch.get_rng_state().tolist())
    assert np.random.PCG64.state.__get__(bit_generator) == before


class Tag:
    def __repr__(self):
        raise RuntimeError("no repr")


class Tagged(np.random.MT19937):
    """NumPy's own state plus an extra entry (NumPy's setter ignores it): readable, but not comparable."""

    @property
    def state(self):
        return {**np.random.MT19937.state.__get__(self), "tag": Tag()}

    @state.setter
    def state(self, value):
        np.random.MT19937.state.__set__(self, value)


def test_a_state_the_watch_cannot_compare_leaves_numpy_out_and_not_the_watch(shell, capsys):
    np.random.set_bit_generator(Tagged(1))
    shell.run_cell("x = 1")
    shell.run_cell("y = random.random()")
    shell.run_line_magic("seed", "")
    shown = capsys.readouterr()
    assert "stopped" not in shown.err
    random_row = next(line for line in shown.out.splitlines() if line.lstrip("* ").startswith("random "))
    assert random_row.startswith("*")


def test_a_generator_that_cannot_take_its_state_back_does_not_stop_the_others(shell, monkeypatch):
    """NumPy's set_state failing after all (here forced): its error comes after random and torch are back."""
    shell.run_cell("import random, numpy as np, torch")
    before = (random.getstate(), torch.get_rng_state().clone())

    def refuse(state):
        raise RuntimeError("NumPy refuses")

    shell.user_ns["refuse"] = refuse
    monkeypatch.setattr(np.random, "set_state", np.random.set_state)  # put back after the test
    result = shell.run_cell("%%seeded 10\nnp.random.set_state = refuse\n"
                            "np.random.rand(3); torch.rand(3); random.random()")
    assert isinstance(result.error_in_exec, RuntimeError)
    assert random.getstate() == before[0] and torch.equal(torch.get_rng_state(), before[1])



def test_a_library_failing_after_others_were_seeded_leaves_every_generator_as_before(monkeypatch):
    """A scope's entry puts back what it had seeded when a later library fails (a sticky CUDA error, say)."""
    from seedmagic.adapters import TorchCPU

    def sticky(self, n):
        raise RuntimeError("CUDA error: device-side assert triggered")

    seedmagic.seed(1)
    monkeypatch.setattr(TorchCPU, "seed", sticky)
    before = state_bytes()
    history = len(seedmagic.history())
    with pytest.raises(seedmagic.SeedError, match="^torch cannot be seeded: RuntimeError: CUDA error: device-side"):
        seedmagic.seeded(10).__enter__()
    assert state_bytes() == before
    assert seedmagic.session.book.scopes == [] and seedmagic.session.book.seeds["random"] == 1
    assert len(seedmagic.history()) == history


def test_a_global_seeding_that_fails_midway_says_in_one_line_what_was_seeded(monkeypatch):
    from seedmagic.adapters import TorchCPU

    def sticky(self, n):
        raise RuntimeError("CUDA error: device-side assert triggered")

    monkeypatch.setattr(TorchCPU, "seed", sticky)
    with pytest.raises(seedmagic.SeedError) as caught:
        seedmagic.seed(5)
    assert str(caught.value) == ("torch could not be seeded (RuntimeError: CUDA error: device-side assert "
                                 "triggered); numpy, random already were, with 5")


def test_a_failure_switching_torch_to_deterministic_puts_everything_back(monkeypatch):
    from seedmagic import determinism

    switches_before = determinism.get(torch)
    real_set = determinism.set

    def refusing(module, switches):
        if switches == determinism.DETERMINISTIC:
            raise UserWarning("deterministic CuBLAS needs CUBLAS_WORKSPACE_CONFIG")  # as under -W error
        real_set(module, switches)

    monkeypatch.setattr(determinism, "set", refusing)
    seedmagic.seed(1)
    before = state_bytes()
    with pytest.raises(UserWarning):
        seedmagic.seeded(10, deterministic=True).__enter__()
    assert state_bytes() == before and determinism.get(torch) == switches_before
    assert seedmagic.session.book.scopes == []


def test_a_scope_refused_on_entry_is_one_line_in_a_cell(shell, capsys):
    shell.run_cell("import numpy as np")
    np.random.set_bit_generator(NeedsATag(1, "mine"))
    result = shell.run_cell("%%seeded 10\nx = 1")
    assert "numpy cannot be seeded: TypeError" in str(result.error_in_exec)
    assert type(result.error_in_exec).__name__ == "UsageError"
    assert "Traceback" not in capsys.readouterr().out
