"""Model-based tests (Hypothesis, stateful): random programs of seeds, nested scopes, draws,
exceptions and snapshots, checked step by step against a reference model.

The model keeps one private generator per global generator (``random.Random``,
``np.random.RandomState``, ``torch.Generator``) and applies to it what each
step should do; after every draw, the global generator must have produced
exactly what the model's twin produces.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import seedmagic

NAMES = ("random", "numpy", "torch")
seeds = st.integers(0, 2**32 - 1)
subsets = st.one_of(st.none(), st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
shapes = st.sampled_from([(1,), (3,), (2, 3), (0,), (7,)])


class Twins:
    """The reference model: a private twin of each global generator."""

    def __init__(self) -> None:
        self.random = random.Random()
        self.random.setstate(random.getstate())
        self.numpy = np.random.RandomState()
        self.numpy.set_state(np.random.get_state())
        self.torch = torch.Generator()
        self.torch.set_state(torch.get_rng_state())

    def seed(self, n: int, names: tuple[str, ...]) -> None:
        if "random" in names:
            self.random.seed(n)
        if "numpy" in names:
            self.numpy.seed(n)
        if "torch" in names:
            self.torch.manual_seed(n)

    def states(self, names: tuple[str, ...]) -> dict[str, object]:
        saved = {"random": self.random.getstate, "numpy": self.numpy.get_state, "torch": self.torch.get_state}
        return {name: saved[name]() for name in names}

    def put_back(self, states: dict[str, object]) -> None:
        setters = {"random": self.random.setstate, "numpy": self.numpy.set_state, "torch": self.torch.set_state}
        for name, state in states.items():
            setters[name](state)

    def draw(self, name: str, shape: tuple[int, ...], normal: bool) -> list:
        if name == "random":
            return [self.random.gauss(0, 1) if normal else self.random.random() for _ in range(int(np.prod(shape)))]
        if name == "numpy":
            return (self.numpy.randn(*shape) if normal else self.numpy.rand(*shape)).tolist()
        return (torch.randn(shape, generator=self.torch) if normal else torch.rand(shape, generator=self.torch)).tolist()


def draw_global(name: str, shape: tuple[int, ...], normal: bool) -> list:
    if name == "random":
        return [random.gauss(0, 1) if normal else random.random() for _ in range(int(np.prod(shape)))]
    if name == "numpy":
        return (np.random.randn(*shape) if normal else np.random.rand(*shape)).tolist()
    return (torch.randn(shape) if normal else torch.rand(shape)).tolist()


def assert_next_draws_match(twins: Twins) -> None:
    """Every global generator is where the model says: its next draws are the twin's."""
    for name in NAMES:
        state = twins.states((name,))
        assert seedmagic.peek(2)[name] == twins.draw(name, (2,), False)
        twins.put_back(state)


def managed(only: list[str] | None, skip: list[str] | None) -> tuple[str, ...]:
    chosen = tuple(only) if only else NAMES
    return tuple(name for name in chosen if name not in (skip or ()))


class Interrupted(BaseException):
    """Stands for KeyboardInterrupt without stopping the test run."""


class SeedingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        seedmagic.session.book.seeds.clear()
        seedmagic.session.book.session_seed = None
        random.seed(0)
        np.random.seed(0)
        torch.manual_seed(0)
        self.twins = Twins()
        self.scopes: list[tuple[seedmagic.seeded, dict[str, object], bool]] = []
        self.snapshots: list[tuple[seedmagic.Snapshot, dict[str, object]]] = []

    @rule(n=seeds, only=subsets)
    def seed(self, n, only):
        seedmagic.seed(n, only=only)
        self.twins.seed(n, managed(only, None))

    @rule(n=seeds, only=subsets, skip=subsets, keep=st.booleans())
    def enter_scope(self, n, only, skip, keep):
        if only and skip and set(only) & set(skip):
            return  # refused as conflicting: covered by the bad-input tests
        scope = seedmagic.seeded(n, only=only, skip=skip, keep=keep)
        names = managed(only, skip)
        saved = self.twins.states(names)
        scope.__enter__()
        self.twins.seed(n, names)
        self.scopes.append((scope, saved, keep))

    @precondition(lambda self: self.scopes)
    @rule(how=st.sampled_from(["normally", "exception", "interrupt"]))
    def exit_scope(self, how):
        scope, saved, keep = self.scopes.pop()
        error = {"normally": None, "exception": ValueError("boom"), "interrupt": Interrupted()}[how]
        scope.__exit__(type(error) if error else None, error, None)
        if not keep:
            self.twins.put_back(saved)

    @rule(n=seeds, name=st.sampled_from(NAMES), shape=shapes, normal=st.booleans(),
          error=st.sampled_from([ValueError, KeyboardInterrupt, None]))
    def block_that_draws_then_raises(self, n, name, shape, normal, error):
        saved = self.twins.states(NAMES)
        try:
            with seedmagic.seeded(n):
                self.twins.seed(n, NAMES)
                assert draw_global(name, shape, normal) == self.twins.draw(name, shape, normal)
                if error is not None:
                    raise error("inside the scope")
        except (ValueError, KeyboardInterrupt) as raised:
            assert type(raised) is error
        self.twins.put_back(saved)

    @rule(name=st.sampled_from(NAMES), shape=shapes, normal=st.booleans())
    def draw(self, name, shape, normal):
        assert draw_global(name, shape, normal) == self.twins.draw(name, shape, normal)

    @rule()
    def take_snapshot(self):
        self.snapshots.append((seedmagic.snapshot(), self.twins.states(NAMES)))

    @precondition(lambda self: self.snapshots)
    @rule()
    def restore_snapshot(self):
        snapshot, saved = self.snapshots[-1]
        snapshot.restore()
        self.twins.put_back(saved)

    @rule(k=st.integers(0, 6))
    def peek_consumes_nothing(self, k):
        peeked = seedmagic.peek(k)
        for name in NAMES:
            state = self.twins.states((name,))
            assert peeked[name] == self.twins.draw(name, (k,), False)
            self.twins.put_back(state)

    @invariant()
    def next_draws_match(self):
        assert_next_draws_match(self.twins)

    def teardown(self):
        while self.scopes:
            scope, _, _ = self.scopes.pop()
            scope.__exit__(None, None, None)


SeedingMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestSeeding = pytest.mark.slow(SeedingMachine.TestCase)


DRAW_CODE = {
    "random": "[random.random() for _ in range({k})]",
    "numpy": "np.random.rand({k}).tolist()",
    "torch": "torch.rand({k}).tolist()",
}


class MagicsMachine(RuleBasedStateMachine):
    """The same guarantees, through %seed and %%seeded in a real InteractiveShell."""

    def __init__(self) -> None:
        super().__init__()
        from conftest import new_shell

        self.shell = new_shell()
        self.shell.run_line_magic("load_ext", "seedmagic")
        self.shell.run_cell("import random\nimport numpy as np\nimport torch")
        seedmagic.session.book.session_seed = None
        random.seed(0)
        np.random.seed(0)
        torch.manual_seed(0)
        self.twins = Twins()

    @rule(n=seeds, only=subsets)
    def seed_magic(self, n, only):
        options = f"--only {','.join(only)} " if only else ""
        assert self.shell.run_cell(f"%seed {options}{n}").success
        self.twins.seed(n, managed(only, None))

    @rule(n=seeds, skip=subsets, keep=st.booleans(), name=st.sampled_from(NAMES), k=st.integers(1, 4),
          fails=st.booleans())
    def seeded_cell(self, n, skip, keep, name, k, fails):
        names = managed(None, skip)
        options = (f"--skip {','.join(skip)} " if skip else "") + ("--keep " if keep else "")
        body = DRAW_CODE[name].format(k=k) + ("\nraise ValueError('in the cell')" if fails else "")
        saved = self.twins.states(names)
        result = self.shell.run_cell(f"%%seeded {options}{n}\nvalue = " + body + ("" if fails else "\nvalue"))
        self.twins.seed(n, names)
        expected = self.twins.draw(name, (k,), False)
        if fails:
            assert isinstance(result.error_in_exec, ValueError)
        else:
            assert result.result == expected
        assert self.shell.user_ns["value"] == expected
        if not keep:
            self.twins.put_back(saved)

    @rule(n=seeds, name=st.sampled_from(NAMES), k=st.integers(1, 4))
    def seed_statement(self, n, name, k):
        saved = self.twins.states(NAMES)
        value = self.shell.run_line_magic("seed", f"{n} " + DRAW_CODE[name].format(k=k))
        self.twins.seed(n, NAMES)
        assert value == self.twins.draw(name, (k,), False)
        self.twins.put_back(saved)

    @rule(name=st.sampled_from(NAMES), k=st.integers(1, 4))
    def plain_cell(self, name, k):
        result = self.shell.run_cell(DRAW_CODE[name].format(k=k))
        assert result.result == self.twins.draw(name, (k,), False)

    @invariant()
    def next_draws_match(self):
        assert_next_draws_match(self.twins)

    def teardown(self):
        self.shell.run_line_magic("unload_ext", "seedmagic")


MagicsMachine.TestCase.settings = settings(max_examples=20, stateful_step_count=15, deadline=None)
TestMagics = pytest.mark.slow(MagicsMachine.TestCase)
