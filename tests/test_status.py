"""%seed with no argument, and peek: the next draws, shown without being consumed; strange objects in the
namespace never break the table, the panel or a cell."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import seedmagic
from seedmagic import widget
from conftest import run_python


def test_peek_shows_the_next_draws_without_consuming_them():
    seedmagic.seed(10)
    peeked = seedmagic.peek(4)
    assert seedmagic.peek(4) == peeked
    assert peeked["random"] == [random.random() for _ in range(4)]
    assert peeked["numpy"] == np.random.random_sample(4).tolist()
    assert peeked["torch"] == torch.rand(4).tolist()


def test_peek_works_with_a_cached_gaussian_and_another_bit_generator():
    np.random.seed(5)
    np.random.randn(1)
    before = np.random.get_state(legacy=False)
    peeked = seedmagic.peek(3)["numpy"]
    assert np.random.get_state(legacy=False)["gauss"] == before["gauss"]
    assert peeked == np.random.random_sample(3).tolist()
    original = np.random.mtrand._rand._bit_generator
    np.random.set_bit_generator(np.random.PCG64(3))
    try:
        assert seedmagic.peek(3)["numpy"] == np.random.random_sample(3).tolist()
    finally:
        np.random.set_bit_generator(original)


def test_peek_refuses_negative_k():
    with pytest.raises(seedmagic.SeedError):
        seedmagic.peek(-1)


def table_rows(text: str) -> dict[str, list[str]]:
    """Rows of the text table by generator, without the change marker."""
    lines = [line[2:] for line in text.splitlines()[1:]
             if line.startswith(("  ", "* ")) and not line.startswith("* advanced")]
    return {line.split()[0]: line.split()[1:] for line in lines}


def test_seed_without_argument_prints_the_status_table(shell, capsys):
    shell.run_line_magic("seed", "10")
    shell.run_cell("np.random.rand(1)")
    capsys.readouterr()
    shell.run_line_magic("seed", "")
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == ["generator", "seed", "scope", "state", "next", "5", "draws"]
    rows = table_rows(text)
    assert set(rows) == {"random", "numpy", "torch"}
    assert all(row[:2] == ["10", "global"] for row in rows.values())
    assert rows["numpy"][3:] == [f"{x:.8f}" for x in np.random.RandomState(10).rand(6)[1:]]
    torch.manual_seed(10)
    assert rows["torch"][3:] == [f"{x:.4f}" for x in torch.rand(5).tolist()]
    assert "session seed: 10" in text
    assert np.random.rand(1)[0] == np.random.RandomState(10).rand(2)[1]  # showing consumed nothing


def test_status_says_not_seeded_by_seedmagic_and_claims_no_more(shell, capsys):
    shell.run_line_magic("seed", "")
    text = capsys.readouterr().out
    assert all(row[0] == "not" and row[1:4] == ["seeded", "by", "seedmagic"] for row in table_rows(text).values())
    assert "entropy" not in text
    assert "session seed: none" in text


def test_after_seeding_by_hand_the_status_says_only_what_it_saw(shell, capsys):
    """seedmagic cannot tell ``random.seed(3)`` from a draw: it says the state changed, not that the cell drew."""
    shell.run_cell("random.seed(3); np.random.seed(3); np.random.rand(1)", store_history=True)
    capsys.readouterr()
    shell.run_line_magic("seed", "")
    text = capsys.readouterr().out
    rows = table_rows(text)
    assert rows["numpy"][:3] == ["not", "seeded", "by"] and "entropy" not in text
    assert rows["numpy"][6:] == [f"{x:.8f}" for x in np.random.RandomState(3).rand(6)[1:]]  # the preview is right
    marked = {line.split()[1] for line in text.splitlines() if line.startswith("*  ")}
    assert marked == {"random", "numpy"}  # torch did not move
    assert ("warning: the last cell advanced or reseeded random, numpy, which seedmagic has not seeded: unless your "
            "code seeds them itself, its results change on every run") in text
    assert "drew" not in text and "no seed controlled" not in text
    assert "* advanced or reseeded by the last cell" in text


def test_generators_lists_what_is_controlled_here():
    names = seedmagic.generators()
    assert names[:3] == ["random", "numpy", "torch"]
    assert ("torch.cuda" in names) == torch.backends.cuda.is_built()
    assert ("torch.mps" in names) == torch.backends.mps.is_available()


def test_fingerprints_are_pinned_and_the_same_in_every_process():
    """Fingerprints are compared across runs and machines (``seedmagic check``): they must not drift."""
    from seedmagic.adapters import fingerprint

    assert fingerprint(np.random.RandomState(10).get_state(legacy=False)) == "ef69a635"
    assert fingerprint(random.Random(10).getstate()) == "1d551408"
    code = ("import random, numpy as np; from seedmagic.adapters import fingerprint; "
            "print(fingerprint(np.random.RandomState(10).get_state(legacy=False)), fingerprint(random.Random(10).getstate()))")
    assert run_python(code).split() == ["ef69a635", "1d551408"]


def test_generators_in_small_lists_and_dicts_are_found_by_type_alone():
    from seedmagic.status import MAX_CONTAINER, user_generators

    rng = np.random.default_rng(1)
    namespace = {"rngs": [rng, 3], "by_name": {"train": rng, 5: "x"}, "big": [rng] * (MAX_CONTAINER + 1),
                 "_private": [rng], "text": "abc"}
    assert sorted(user_generators(namespace)) == ["by_name['train']", "rngs[0]"]


def test_the_terminal_table_shows_the_last_cells_marker_and_the_unseeded_warning(shell, capsys):
    """Without widgets, %seed prints what the panel shows: the advanced marker and the unseeded-draw warning."""
    shell.run_cell("x = np.random.rand(2)", store_history=True)  # numpy was never seeded here
    capsys.readouterr()
    shell.run_line_magic("seed", "")
    text = capsys.readouterr().out
    numpy_row = next(line for line in text.splitlines() if line.lstrip("* ").startswith("numpy "))
    assert numpy_row.startswith("*") and "* advanced or reseeded by the last cell" in text
    assert "warning: the last cell advanced or reseeded numpy, which seedmagic has not seeded" in text


def test_each_kind_of_user_generator_is_named_for_what_it_is(shell):
    from seedmagic.status import collect

    shell.run_cell("import torch\na = np.random.default_rng(1)\nb = torch.Generator()\nc = np.random.RandomState(1)\n"
                   "d = random.Random(1)")
    kinds = {row.label: row.scope for row in collect(3, shell.user_ns).rows if row.kind != "global"}
    assert kinds == {"a": "yours (np.random.Generator)", "b": "yours (torch.Generator)",
                     "c": "yours (np.random.RandomState)", "d": "yours (random.Random)"}


def test_the_cell_magics_help_names_it_with_two_percent_signs():
    from seedmagic.magics import SeedMagics

    assert SeedMagics.seeded.parser.format_usage().split()[1] == "%%seeded"
    assert SeedMagics.seed.parser.format_usage().split()[1] == "%seed"


# Strange objects in the namespace --------------------------------------------------


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


def test_a_dict_keyed_by_a_number_python_will_not_write_breaks_neither_the_watch_nor_the_table(shell, capsys):
    """``repr(10**5000)`` raises: such a key (or one too long to show) is passed over; the others are still found."""
    from seedmagic.status import MAX_KEY

    assert shell.run_cell("gens = {10**5000: np.random.default_rng(1), 'x' * 1000: np.random.default_rng(2), "
                          "2**64: np.random.default_rng(3), 'ok': np.random.default_rng(4), 7: np.random.default_rng(5)}"
                          ).success
    assert shell.run_cell("gens['ok'].random()").success
    shell.run_line_magic("seed", "")
    out, err = capsys.readouterr()
    assert "stopped" not in err and "Error" not in err, err
    assert "gens['ok']" in out and "gens[7]" in out and "gens[18446744073709551616]" not in out
    assert "x" * (MAX_KEY + 1) not in out


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


def test_a_generator_a_cell_showed_is_one_row_not_a_second_under_out(shell, capsys):
    """IPython keeps a cell's shown value in ``Out`` (and ``_``): that is the user's ``rng`` again, not a generator of
    their own. A variable the user binds to the name ``Out`` is theirs, and is shown."""
    shell.run_cell("rng = np.random.default_rng(1)", store_history=True)
    shell.run_cell("rng", store_history=True)
    assert any(value is shell.user_ns["rng"] for value in shell.user_ns["Out"].values())  # IPython kept it
    capsys.readouterr()
    shell.run_line_magic("seed", "")
    labels = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:] if line.strip()]
    assert labels.count("rng") == 1 and not any(label.startswith("Out[") for label in labels)
    shell.run_cell("rng.random()", store_history=True)
    assert {name for whose, name in seedmagic.watch.follow(shell).watch.advanced if whose == "user"} == {"rng"}
    shell.run_cell("Out = {'mine': np.random.default_rng(2)}")
    rows = {row.label for row in seedmagic.status.collect(3, shell.user_ns, shell.user_ns_hidden).rows}
    assert {"rng", "Out['mine']"} <= rows


def test_the_unseeded_warning_is_about_the_seeds_when_the_cell_ended(shell):
    """The watch compares a cell's states only when asked: what it says is still what was true when the cell ended,
    whatever was seeded or drawn since."""
    shell.run_cell("x = np.random.rand(2)", store_history=True)  # numpy was never seeded here
    seedmagic.seed(5)  # after the cell, before anyone asks about it
    np.random.rand(3)
    watched = seedmagic.watch.follow(shell).watch
    assert watched.unseeded == ("numpy",)
    assert {name for whose, name in watched.advanced if whose == "global"} == {"numpy"}


def test_generators_bound_by_startup_code_are_the_users(shell, capsys):
    """IPython also hides what startup files and ``exec_lines`` bind from ``%who`` (``push(interactive=False)``);
    those generators are the user's: shown, and marked when a cell draws from them."""
    shell.push({"rng": np.random.default_rng(1)}, interactive=False)
    assert "rng" in shell.user_ns_hidden
    shell.run_cell("kind = type(rng)", store_history=True)  # pushed after the load: seen once a cell names it
    shell.run_cell("rng.random()", store_history=True)
    assert ("user", "rng") in seedmagic.watch.follow(shell).watch.advanced
    capsys.readouterr()
    shell.run_line_magic("seed", "")
    assert any(line.lstrip("* ").startswith("rng ") for line in capsys.readouterr().out.splitlines())
