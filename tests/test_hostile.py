"""Strange objects in the namespace, failing plugins and racing imports never reach the user's cells."""

from __future__ import annotations

import random
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import seedmagic
from seedmagic import widget
from seedmagic.adapters import catalog as adapters
from conftest import run_python, state_bytes

# Dunder methods and attributes a hostile or lazy object can make raise.
TRAPS = ["__getattr__", "__getattribute__", "__class__", "__eq__", "__hash__", "__bool__", "__repr__", "__len__",
         "__iter__", "__dir__", "__instancecheck__"]


def hostile_object(traps: list[str], pose_as: type | None) -> Any:
    """An object whose chosen dunders raise, optionally claiming (through ``__class__``) to be ``pose_as``."""

    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("lazy factory failed")

    namespace: dict[str, Any] = {trap: fail for trap in traps if trap not in ("__class__", "__instancecheck__")}
    if "__class__" in traps:
        namespace["__class__"] = property(fail)
    elif pose_as is not None:
        namespace["__class__"] = property(lambda self: pose_as)
    return type("LazyProxy", (), namespace)()


@settings(max_examples=40)
@given(traps=st.lists(st.sampled_from(TRAPS), unique=True, min_size=1),
       pose_as=st.sampled_from([None, np.random.RandomState, np.random.Generator, torch.Generator, random.Random]))
def test_hostile_namespace_objects_never_break_a_cell(kernel_shell, capsys, traps, pose_as):
    kernel_shell.user_ns["proxy"] = hostile_object(traps, pose_as)
    capsys.readouterr()
    for source in ("x = 1", "%%seeded 3\nnp.random.rand(1)", "%seed 4", "%seed"):
        result = kernel_shell.run_cell(source)
        assert result.success, (source, result.error_in_exec)
    assert "proxy" not in [row.label for row in widget._shared.status().rows]  # never taken for a generator
    assert "Error in callback" not in capsys.readouterr().err
    del kernel_shell.user_ns["proxy"]


def test_the_text_table_survives_a_hostile_namespace(shell, capsys):
    shell.user_ns["proxy"] = hostile_object(["__getattr__", "__class__", "__eq__"], None)
    shell.run_line_magic("seed", "")
    assert "session seed" in capsys.readouterr().out


def test_a_failing_callback_is_reported_once_and_the_cells_go_on(kernel_shell, capsys, monkeypatch):
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(seedmagic.watch.CellWatch, "after_cell", broken)
    results = [kernel_shell.run_cell(f"x = {i}") for i in range(3)]
    assert all(result.success for result in results)
    err = capsys.readouterr().err
    assert err.count("seedmagic: the cell markers and the live panel stopped after an error (RuntimeError: boom)") == 1
    assert "Traceback" not in err


class FailingPlugin:
    """A plugin generator that breaks at run time, in the step named by ``fails``."""

    name, module, digits = "flaky", None, 8

    def __init__(self, fails: str) -> None:
        self.fails, self.value = fails, 0.5

    def _maybe(self, step: str) -> None:
        if step == self.fails:
            raise RuntimeError(f"{step} failed")

    def is_available(self) -> bool:
        return True

    def seed(self, n: int | None) -> None:
        self._maybe("seed")
        self.value = (n or 0) / 2**32

    def get_state(self) -> float:
        self._maybe("get_state")
        return self.value

    def set_state(self, state: float) -> None:
        self._maybe("set_state")
        self.value = state

    def peek(self, k: int) -> dict[str, list[float]]:
        self._maybe("peek")
        return {self.name: [self.value] * k}


@pytest.mark.parametrize("fails", ["seed", "get_state", "set_state", "peek"])
def test_a_plugin_failing_at_run_time_is_skipped_with_one_warning(monkeypatch, fails):
    plugin = FailingPlugin(fails)
    monkeypatch.setattr(adapters, "_registry", {**adapters.registry(), plugin.name: plugin})
    monkeypatch.setattr(adapters, "_plugin_failures", set())
    np.random.seed(1)
    random.seed(1)
    torch.manual_seed(1)
    before = state_bytes()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with seedmagic.seeded(10):
            inside = (np.random.rand(), random.random(), torch.rand(1).item())
        with seedmagic.seeded(10):
            pass
        assert state_bytes() == before  # the scopes restored the libraries
        seedmagic.peek(2)
        seedmagic.seed(11)
    after = state_bytes()
    torch.manual_seed(10)
    assert inside == (np.random.RandomState(10).rand(), random.Random(10).random(), torch.rand(1).item())
    np.random.seed(11)
    random.seed(11)
    torch.manual_seed(11)
    assert after == state_bytes()
    ours = [str(w.message) for w in caught if "flaky" in str(w.message)]
    assert len(ours) == 1 and "left out" in ours[0]  # one warning, however often it fails


def test_seed_is_the_libraries_seed_even_with_a_failing_plugin(monkeypatch):
    plugin = FailingPlugin("seed")
    monkeypatch.setattr(adapters, "_registry", {**adapters.registry(), plugin.name: plugin})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seedmagic.seed(12)
    seeded = state_bytes()
    np.random.seed(12)
    random.seed(12)
    torch.manual_seed(12)
    assert seeded == state_bytes()


@pytest.mark.slow
def test_a_first_import_racing_a_seed_does_not_deadlock():
    """A thread imports numpy for the first time while another seeds in a loop (numpy's import lock vs ours)."""
    out = run_python("""
import sys, threading, seedmagic
seedmagic.seed(5, skip="torch")  # numpy is due seed 5: its import runs seedmagic's hook
done = threading.Event()
def seeder():
    while not done.is_set():
        seedmagic.seed(5, skip="torch")
thread = threading.Thread(target=seeder)
thread.start()
import numpy as np
done.set()
thread.join()
print((np.random.get_state()[1] == np.random.RandomState(5).get_state()[1]).all())
""", timeout=60)
    assert out.strip().endswith("True")


def test_the_cell_watch_and_the_table_never_call_a_users_generator_methods(shell, capsys):
    """Subclasses may log, draw or raise in getstate/get_state/__init__: seedmagic uses the libraries' own methods."""
    shell.run_cell('''
calls = []
class LoudRandom(random.Random):
    def getstate(self):
        calls.append("getstate"); self.random(); return super().getstate()
class LoudState(np.random.RandomState):
    def get_state(self, legacy=True):
        calls.append("get_state"); self.random_sample(); return super().get_state(legacy)
class LoudGenerator(np.random.Generator):
    def __init__(self, bit_generator):
        calls.append("__init__"); super().__init__(bit_generator)
class LoudTorch(torch.Generator):
    def get_state(self):
        calls.append("torch get_state"); return super().get_state()
r, s, g, t = LoudRandom(5), LoudState(5), LoudGenerator(np.random.PCG64(5)), LoudTorch()
t.manual_seed(5)
calls.clear()
''')
    for source in ("x = 1", "y = 2", "%seed"):
        assert shell.run_cell(source).success
    assert shell.user_ns["calls"] == []
    assert shell.user_ns["r"].random() == random.Random(5).random()  # no draw was consumed
    assert shell.user_ns["s"].random_sample() == np.random.RandomState(5).random_sample()
    assert shell.user_ns["g"].random() == np.random.Generator(np.random.PCG64(5)).random()
    assert "LoudRandom" not in capsys.readouterr().err


def test_a_metaclass_with_its_own_eq_is_never_called(shell, capsys):
    shell.run_cell('''
class Meta(type):
    def __eq__(cls, other):
        raise RuntimeError("user code ran: Meta.__eq__")
    __hash__ = type.__hash__
class Odd(metaclass=Meta):
    pass
odd, odds = Odd(), [Odd()]
''')
    for source in ("x = 1", "%seed"):
        assert shell.run_cell(source).success
    assert "user code ran" not in capsys.readouterr().err
