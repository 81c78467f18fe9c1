"""The fast paths are the libraries' own calls, only faster: proved here, not timed (see benchmarks/)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from IPython.core.displayhook import DisplayHook

from seedmagic import fastnumpy
from seedmagic.generators import BUILTIN
from seedmagic.magics import _Code, transform
from conftest import new_shell

NUMPY = next(adapter for adapter in BUILTIN if adapter.name == "numpy")

operations = st.lists(
    st.sampled_from(["rand", "randn", "randn2", "randint", "seed", "binomial", "gauss_only"]), max_size=12)


def apply(generator: np.random.RandomState, operation: str, n: int) -> None:
    {"rand": lambda: generator.rand(n % 7),
     "randn": lambda: generator.randn(1),
     "randn2": lambda: generator.randn(2),
     "randint": lambda: generator.randint(0, 1000, size=n % 5),
     "seed": lambda: generator.seed(n),
     "binomial": lambda: generator.binomial(10, 0.3),
     "gauss_only": lambda: generator.standard_normal()}[operation]()


def same(a: dict, b: dict) -> bool:
    return (a["bit_generator"] == b["bit_generator"] and np.array_equal(a["state"]["key"], b["state"]["key"])
            and a["state"]["pos"] == b["state"]["pos"] and a["has_gauss"] == b["has_gauss"] and a["gauss"] == b["gauss"])


def test_the_layout_is_found_on_this_numpy():
    assert fastnumpy.gauss_offset() is not None


@settings(max_examples=60, deadline=None)
@given(before=operations, between=operations, seed=st.integers(0, 2**32 - 1))
def test_raw_copy_equals_get_state_and_set_state(before, between, seed):
    generator = np.random.RandomState(seed)
    for i, operation in enumerate(before):
        apply(generator, operation, (seed + i) % 2**32)
    raw = fastnumpy.capture(generator)
    assert same(raw.portable(), generator.get_state(legacy=False))
    expected = generator.get_state(legacy=False)
    for i, operation in enumerate(between):
        apply(generator, operation, (seed * 3 + i) % 2**32)
    assert fastnumpy.restore(generator, raw)
    assert same(generator.get_state(legacy=False), expected)
    reference = np.random.RandomState(0)
    reference.set_state(expected)
    assert generator.randn(3).tolist() == reference.randn(3).tolist()


def test_the_global_adapter_uses_the_raw_copy_and_falls_back():
    np.random.seed(4)
    np.random.randn(1)
    state = NUMPY.get_state()
    assert isinstance(state, fastnumpy.RawState)
    expected = np.random.randn(3).tolist()
    NUMPY.set_state(state)
    assert np.random.randn(3).tolist() == expected
    original = np.random.mtrand._rand._bit_generator
    try:
        np.random.set_bit_generator(np.random.PCG64(1))  # no raw copy for PCG64: NumPy's own calls
        other = NUMPY.get_state()
        assert isinstance(other, dict) and other["bit_generator"] == "PCG64"
        draws = np.random.rand(2).tolist()
        NUMPY.set_state(other)
        assert np.random.rand(2).tolist() == draws
    finally:
        np.random.set_bit_generator(original)
    NUMPY.set_state(state)  # the generator it came from is back: the raw copy applies again
    assert np.random.randn(3).tolist() == expected


def test_a_raw_copy_from_a_replaced_bit_generator_is_put_back_through_set_state():
    np.random.seed(4)
    state = NUMPY.get_state()
    expected = np.random.rand(2).tolist()
    original = np.random.mtrand._rand._bit_generator
    try:
        np.random.set_bit_generator(np.random.MT19937(9))
        NUMPY.set_state(state)
        assert np.random.rand(2).tolist() == expected
    finally:
        np.random.set_bit_generator(original)


CELLS = [
    "x = 1", "x = 1\nx", "\n\nx = 2\n", "for i in range(3):\n    print(i)\n", "a = 5 % 3", "print('100%')",
    "%time x = 1", "!ls", "x?", "x = !ls", "y = %who_ls", "    x = 1\n    y = 2", ">>> x = 1\n>>> x",
    "In [1]: x = 1", "/print 1", ",print a b", "a = {'k': 1}  # comment ?", "...", "def f():\n    return 1\nf()",
    "s = '''\nmulti\n'''", "x = 1;", "x; # quiet", "if True:\n    x = 3\nelse:\n    x = 4",
]


def test_ordinary_cells_take_the_fast_path(shell):
    from seedmagic.magics import is_plain

    assert is_plain(shell, "x = np.random.rand(5)\n\ny = x * 2\nfor i in range(3):\n    y += i\ny")
    assert not is_plain(shell, "%time x = 1")


@pytest.mark.parametrize("cell", CELLS)
def test_transform_skips_only_where_ipython_would_change_nothing(shell, cell):
    assert transform(shell, cell) == shell.transform_cell(cell)


@given(st.text(alphabet="ab1 =\n\t\r\x0c%!?()[]:;,./'\"#>", max_size=40))
@settings(max_examples=300, deadline=None)
def test_transform_matches_ipython_on_any_text(cell):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance() if InteractiveShell.initialized() else new_shell()
    try:
        expected = shell.transform_cell(cell)
    except Exception as error:  # IPython refuses some text; so must the fast path
        with pytest.raises(type(error)):
            transform(shell, cell)
        return
    assert transform(shell, cell) == expected


@pytest.mark.parametrize("cell", ["x = 1\nx", "x;", "x ;  # c", "x  # ; not this", "x; y", "f(';')", "x\n;",
                                  "'é';", "(1,\n 2);", "x  ;\n", "[1,\n 2]", "x  # c\n;"])
def test_semicolon_rule_is_ipythons(shell, cell):
    code = _Code(shell, cell, "the cell")
    assert (code.last is None) == DisplayHook.semicolon_at_end_of_expression(cell)


def test_seeding_equals_the_library_calls_after_many_scopes(shell):
    import torch

    for n in range(5):
        with __import__("seedmagic").seeded(n):
            pass
    random.seed(3)
    np.random.seed(3)
    torch.manual_seed(3)
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    __import__("seedmagic").seed(3)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_the_benchmarks_contenders_agree():
    """The benchmark's own check: every scope it times draws what seedmagic.seeded draws."""
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.check_scopes_agree(bench.scope_contenders())
