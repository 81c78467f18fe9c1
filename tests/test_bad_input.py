"""Bad input: one plain one-line UsageError (SeedError in the API), and nothing has moved."""

from __future__ import annotations

import os
import signal
import time
import traceback

import numpy as np
import pytest
from IPython.core.error import UsageError

import seedmagic
from seedmagic import widget
from conftest import refused, requires_torch, state_bytes, torch

LINE_CASES = [
    ("abc", "seed must be an integer from 0 to 4294967295"),
    ("-1", "seed must be an integer from 0 to 4294967295, got -1"),
    ("4294967296", "got 4294967296"),
    ("1.5", "got '1.5'"),
    ("10 20 30", "the statement is not valid Python"),
    ("10 print('unclosed", "the statement is not valid Python"),
    ("10 --keep", "--keep needs a statement or a %%seeded cell"),
    ("10 --bogus", "unrecognized arguments: --bogus"),
    ("--keep 10", "--keep needs a statement or a %%seeded cell"),
    ("--name run 10", "--name needs a statement"),
    ("--only nosuchlib 3", "unknown generator 'nosuchlib'; known: random, numpy, torch"),
    ("--skip nosuchlib 3", "unknown generator 'nosuchlib'"),
    ("--only numpy --skip numpy 3", "'numpy' is both in --only and in --skip"),
    ("--only , 3", "--only needs at least one generator"),
    ("--bogus 3", "unrecognized arguments: --bogus"),
    ("--only", "expected one argument"),
    ("--only numpy", "give a seed"),
    ("$undefined_name", "got '$undefined_name'"),
    ("{1/0}", "got '{1/0}'"),
    ("--save ''", "give a file name (the path is empty)"),
    ("--load ''", "give a file name (the path is empty)"),
    ("--save '  '", "give a file name (the path is empty)"),
    ("--save rng-{rank!r}.json", "a state-file path takes the rank as {rank}, or {rank:SPEC}"),
    ("--load rng-{RANK}.json", "{RANK} is neither"),
    ("--save rng-{rank:<03}.json", "{rank:<03} is neither"),
]

CELL_CASES = [
    ("abc", "seed must be an integer"),
    ("10 20", "%%seeded takes options and one seed; '20' is neither"),
    ("--only nosuchlib 3", "unknown generator 'nosuchlib'"),
    ("-5", "got -5"),
    ("99999999999999999999", "got 99999999999999999999"),
    ("--only 'numpy", "cannot read the options"),
]


@pytest.mark.parametrize("line, message", LINE_CASES)
def test_bad_seed_line(shell, line, message):
    shell.run_line_magic("seed", "7")
    np.random.rand(3)
    refused(lambda: shell.run_line_magic("seed", line), message, UsageError)


@pytest.mark.parametrize("line, message", CELL_CASES)
def test_bad_seeded_cell(shell, line, message):
    shell.user_ns["ran"] = False
    refused(lambda: shell.run_cell_magic("seeded", line, "ran = True\nnp.random.rand(3)"), message, UsageError)
    assert shell.user_ns["ran"] is False


def test_syntax_error_in_a_cell_runs_nothing(shell):
    refused(lambda: shell.run_cell_magic("seeded", "10", "np.random.rand(3)\nif:"),
            "the cell is not valid Python: invalid syntax (line 3)", UsageError)  # line 1 is %%seeded


def test_in_the_shell_the_error_is_one_line(shell, capsys):
    result = shell.run_cell("%seed abc")
    assert isinstance(result.error_in_exec, UsageError)
    out = capsys.readouterr()
    assert (out.out + out.err).strip().splitlines() == [
        "UsageError: seed must be an integer from 0 to 4294967295, got 'abc'"]


@pytest.mark.parametrize("value", ["10", 1.5, -1, 2**32, True, None, [1]])
def test_api_refuses_bad_seeds(value):
    before = state_bytes()
    with pytest.raises(seedmagic.SeedError, match="seed must be an integer from 0 to 4294967295"):
        seedmagic.seed(value)  # type: ignore[arg-type]
    if value is None:
        seedmagic.seeded(value)  # the documented default of seeded(): a fresh seed from entropy, not an error
    else:
        with pytest.raises(seedmagic.SeedError, match="seed must be an integer from 0 to 4294967295"):
            seedmagic.seeded(value)
    assert state_bytes() == before


def test_variable_expansion_works(shell):
    shell.user_ns["n"] = 12
    assert shell.run_line_magic("seed", "$n np.random.rand(2)").tolist() == np.random.RandomState(12).rand(2).tolist()
    assert shell.run_line_magic("seed", "{n + 1} np.random.rand(2)").tolist() == np.random.RandomState(13).rand(2).tolist()
    assert shell.run_cell("%%seeded $n\nnp.random.rand(2)").result.tolist() == np.random.RandomState(12).rand(2).tolist()
    shell.run_line_magic("seed", "{n * 2}")
    assert seedmagic.session.book.session_seed == 24


def test_help_is_generated_from_the_arguments(shell, capsys):
    shell.run_cell("%seed?")
    text = capsys.readouterr().out
    for option in ("--only NAMES", "--skip NAMES", "--keep", "--name LABEL", "statement"):
        assert option in text
    shell.run_cell("%%seeded?")
    assert "--only NAMES" in capsys.readouterr().out


# Through every door: both magics, the API and the panel's field ------------------------------


def panel_error(text: str) -> str:
    """What the panel's seed box says when ``text`` is typed into it (the shared panel is closed after)."""
    panel = seedmagic.panel()
    try:
        panel.seed_all(text)
        return panel._error.value
    finally:
        widget.close_shared_panel()


BAD_SEEDS = ["abc", "1.5", "-1", "-4294967295", "4294967296", "99999999999999999999999999", "1e3", "0x10",
             "10L", "ten", "1_000", "½", "٣", "''", "None", "True", "[1]", "1,2"]


@pytest.mark.parametrize("text", BAD_SEEDS)
def test_bad_seed_through_every_door(shell, text):
    shell.run_line_magic("seed", "5")
    np.random.rand(2)
    refused(lambda: shell.run_line_magic("seed", text))
    refused(lambda: shell.run_line_magic("seed", f"{text} np.random.rand(1)"))
    refused(lambda: shell.run_cell_magic("seeded", text, "np.random.rand(1)"))
    refused(lambda: seedmagic.seed(text))
    refused(lambda: seedmagic.seeded(text))
    before = state_bytes()
    assert "seed must be an integer from 0 to 4294967295" in panel_error(text)
    assert state_bytes() == before


@pytest.mark.parametrize("value", ["", "   ", "\t"])
def test_empty_seeds_in_the_api_and_the_panel(value):
    refused(lambda: seedmagic.seed(value))
    assert "seed must be an integer" in panel_error(value)


OPTION_CASES = [
    ("seed", "--only numpy --skip numpy 3", "'numpy' is both in --only and in --skip"),
    ("seed", "--only torch,random --skip random 3", "'random' is both in --only and in --skip"),
    ("seed", "--keep 3", "--keep needs a statement or a %%seeded cell"),
    ("seed", "--only nosuch 3", "unknown generator 'nosuch'; known:"),
    ("seed", "--skip numpy,nosuch 3", "unknown generator 'nosuch'"),
    ("seed", "--frobnicate 3", "unrecognized arguments: --frobnicate"),
    ("seed", "-x 3", "unrecognized arguments: -x"),
    ("seed", "--only", "expected one argument"),
    ("seed", "--history --save x.json", "--history goes alone"),
    ("seed", "--save x.json 3", "--save goes alone"),
    ("seed", "--load", "expected one argument"),
    ("seed", "3 print('unbalanced", "the statement is not valid Python"),
    ("seed", "3 x = = 1", "the statement is not valid Python"),
    ("seed", "3 --only nosuch", "unknown generator 'nosuch'"),
    ("seed", "$undefined_variable", "got '$undefined_variable'"),
    ("seed", "{undefined_variable}", "got '{undefined_variable}'"),
    ("seed", "--deterministic", "give a seed"),
    ("seeded", "--only numpy --skip numpy 3", "'numpy' is both in --only and in --skip"),
    ("seeded", "--only nosuch", "unknown generator 'nosuch'"),
    ("seeded", "3 4", "%%seeded takes options and one seed"),
    ("seeded", "--only 'numpy 3", "cannot read the options"),
    ("seeded", "--history", "unrecognized arguments: --history"),
    ("seeded", "--name", "expected one argument"),
    ("seeded", "$undefined_variable", "got '$undefined_variable'"),
]


@pytest.mark.parametrize("magic, line, message", OPTION_CASES)
def test_bad_options(shell, magic, line, message):
    shell.run_line_magic("seed", "5")
    if magic == "seed":
        refused(lambda: shell.run_line_magic("seed", line), message)
    else:
        refused(lambda: shell.run_cell_magic("seeded", line, "np.random.rand(1)"), message)


def test_bad_cell_bodies_run_nothing(shell):
    shell.user_ns["ran"] = False
    refused(lambda: shell.run_cell_magic("seeded", "3", "ran = True\ndef f(:\n    pass"), "the cell is not valid Python")
    refused(lambda: shell.run_cell_magic("seeded", "3", "ran = True\nreturn 1"), "the cell is not valid Python")
    assert shell.user_ns["ran"] is False


@pytest.mark.parametrize("keyword", [{"only": "nosuch"}, {"skip": ["numpy", "nosuch"]}, {"only": ""},
                                     {"only": "numpy", "skip": "numpy"}, {"name": 5}])
def test_bad_keywords_in_the_api(keyword):
    before = state_bytes()
    with pytest.raises(seedmagic.SeedError):
        seedmagic.seeded(3, **keyword)
    if "name" not in keyword:
        with pytest.raises(seedmagic.SeedError):
            seedmagic.seed(3, **keyword)
    assert state_bytes() == before


# Input limits and expansions ----------------------------------------------------------


def test_a_5000_digit_seed_is_one_line_everywhere(shell):
    huge = "7" * 5000
    before = state_bytes()
    for action in (lambda: shell.run_line_magic("seed", huge), lambda: shell.run_cell_magic("seeded", huge, "1"),
                   lambda: shell.run_line_magic("seed", f"{huge} 1"), lambda: seedmagic.seed(7 * 10**5000)):
        with pytest.raises((UsageError, seedmagic.SeedError)) as raised:
            action()
        assert "seed must be an integer from 0 to 4294967295" in str(raised.value)
        assert "\n" not in str(raised.value) and len(str(raised.value)) < 200
    assert "seed must be an integer from 0 to 4294967295" in panel_error(huge)
    assert state_bytes() == before


def test_a_label_with_a_lone_surrogate_is_one_line(shell):
    shell.user_ns["label"] = "run\ud800"
    before = state_bytes()
    with pytest.raises(seedmagic.SeedError, match="UTF-8"):
        seedmagic.seeded(3, name="run\ud800")
    with pytest.raises(seedmagic.SeedError, match="UTF-8"):
        seedmagic.derive_seed(3, "run\ud800")
    with pytest.raises(UsageError, match="UTF-8"):
        shell.run_cell_magic("seeded", "--name $label 3", "1")
    assert state_bytes() == before


@pytest.mark.parametrize("line", ["{np.random.randint(1, 9)}.5", "{np.random.rand()}", "--only {np.random.bytes(3)} 3"])
def test_an_expansion_that_is_then_refused_moves_nothing(shell, line):
    np.random.rand(2)
    before = state_bytes()
    with pytest.raises(UsageError):
        shell.run_line_magic("seed", line)
    with pytest.raises(UsageError):
        shell.run_cell_magic("seeded", line, "np.random.rand(1)")
    assert state_bytes() == before


@pytest.mark.parametrize("statement", ["", " 1"])
def test_an_expansion_before_a_scope_that_refuses_to_open_moves_nothing(shell, monkeypatch, statement):
    """The scope reads the rank as it opens, after the line was parsed: its refusal undoes the expansion too."""
    monkeypatch.setenv("RANK", "x")
    np.random.rand(2)
    before = state_bytes()
    with pytest.raises(UsageError, match="RANK"):
        shell.run_cell_magic("seeded", "--per-rank {np.random.rand() and 5}", "np.random.rand(1)")
    assert state_bytes() == before
    with pytest.raises(UsageError, match="RANK"):
        shell.run_line_magic("seed", "--per-rank {np.random.rand() and 5}" + statement)
    assert state_bytes() == before


@pytest.mark.parametrize("line, message", [
    ("--load {np.random.rand() and 'missing-state.json'}", "cannot read"),
    ("--save {np.random.rand() and '/nonexistent-folder/x.json'}", "cannot write"),
])
def test_a_file_line_refused_after_its_expansion_moves_nothing(shell, line, message):
    np.random.rand(2)
    before = state_bytes()
    with pytest.raises(UsageError, match=message):
        shell.run_line_magic("seed", line)
    assert state_bytes() == before


def test_k_is_validated_in_one_place():
    for bad in (-1, 1.5, "3", True, 10**6):
        with pytest.raises(seedmagic.SeedError, match="k must be an integer"):
            seedmagic.peek(bad)


class RaisingIndex:
    def __index__(self):
        raise RuntimeError("no index here")


class RaisingEncode(str):
    def encode(self, *args, **kwargs):
        raise RuntimeError("no encoding here")


@pytest.mark.parametrize("call, message", [
    (lambda: seedmagic.seed(1, only=5), "generator names must be a string or a list of strings, got 5"),
    (lambda: seedmagic.seed(1, only=b"numpy"), "generator names must be a string or a list of strings"),
    (lambda: seedmagic.seed(1, skip=["numpy", 3]), "generator names must be strings"),
    (lambda: seedmagic.snapshot(only=5), "generator names must be a string or a list of strings"),
    (lambda: seedmagic.seed(RaisingIndex()), "seed must be an integer from 0 to 4294967295"),
    (lambda: seedmagic.seed(1, deterministic="no"), "deterministic must be True or False, got 'no'"),
    (lambda: seedmagic.seed(1, per_rank=1), "per_rank must be True or False, got 1"),
    (lambda: seedmagic.seeded(5, keep="no"), "keep must be True or False, got 'no'"),
    (lambda: seedmagic.seeded(5, per_rank="x"), "per_rank must be True or False"),
    (lambda: seedmagic.seeded(5, deterministic=None), "deterministic must be True or False, got None"),
    (lambda: seedmagic.panel(k=0), "k must be an integer from 1 to 20, got 0"),
    (lambda: seedmagic.panel(k=21), "k must be an integer from 1 to 20, got 21"),
    (lambda: seedmagic.panel(k=2.0), "k must be an integer from 1 to 20, got 2.0"),
    (lambda: seedmagic.panel(precision=True), "precision must be an integer from 1 to 17, got True"),
    (lambda: seedmagic.panel(precision=0), "precision must be an integer from 1 to 17, got 0"),
    (lambda: seedmagic.panel(precision=18), "precision must be an integer from 1 to 17, got 18"),
    (lambda: seedmagic.seed(5, per_rank=True, rank=10**5000), "rank must be an integer from 0 to 999999999, got a "
                                                               "number far too large"),
    (lambda: seedmagic.seed(5, per_rank=True, rank=-10**5000), "rank must be an integer from 0 to 999999999"),
    (lambda: seedmagic.seeded(5, per_rank=True, rank=10**9), "rank must be an integer from 0 to 999999999, got "
                                                             "1000000000"),
    (lambda: seedmagic.seeded(np.array([7])), "seed must be an integer from 0 to 4294967295"),
    (lambda: seedmagic.seed(np.bool_(True)), "seed must be an integer from 0 to 4294967295"),
], ids=["only int", "only bytes", "skip with a number", "snapshot only int", "__index__ raises", "deterministic str",
        "per_rank int", "keep str", "seeded per_rank str", "deterministic None", "panel k 0", "panel k 21",
        "panel k float", "panel precision bool", "panel precision 0", "panel precision 18", "rank of 5000 digits",
        "rank of -5000 digits", "rank of 10 digits", "an array of one",
        "a NumPy bool"])
def test_odd_arguments_to_the_api_are_one_line_and_change_nothing(call, message):
    seedmagic.seed(3)
    before = state_bytes()
    published, events = os.environ.get("SEEDMAGIC_SEED"), len(seedmagic.history())
    with pytest.raises(seedmagic.SeedError) as caught:
        call()
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert state_bytes() == before and seedmagic.active_seed() == 3
    assert (os.environ.get("SEEDMAGIC_SEED"), len(seedmagic.history())) == (published, events)


@requires_torch
@pytest.mark.parametrize("value", ["True", "[7]", "[[7]]"])
def test_a_tensor_that_is_a_truth_value_or_holds_numbers_is_not_a_seed(value):
    """``__index__`` would pass them as 1 and 7; NumPy's own refuse, and so do these."""
    tensor = eval(f"torch.tensor({value})")
    refused(lambda: seedmagic.seed(tensor), f"seed must be an integer from 0 to 4294967295, got tensor({value})",
            seedmagic.SeedError)
    refused(lambda: seedmagic.seeded(tensor), "seed must be an integer from 0 to 4294967295", seedmagic.SeedError)
    assert seedmagic.seed(torch.tensor(7)) == 7  # one number, as np.int64(7) is


def test_ctrl_c_stops_a_slow_seed_check_and_nothing_is_seeded():
    """Checking the input runs the caller's code (``__index__``): Ctrl-C reaches it at once, not after the seeding."""

    class Slow:
        def __index__(self) -> int:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C while the caller's code runs
            time.sleep(0.01)  # the handler runs at the next instruction: here, not after the seeding
            return 5

    seedmagic.seed(3)
    before = state_bytes()
    with pytest.raises(KeyboardInterrupt) as caught:
        seedmagic.seed(Slow())  # type: ignore[arg-type]
    assert any(frame.name == "__index__" for frame in traceback.extract_tb(caught.value.__traceback__))
    assert state_bytes() == before and seedmagic.active_seed() == 3


def test_a_label_of_a_str_subclass_is_read_as_plain_text():
    assert seedmagic.derive_seed(10, RaisingEncode("train")) == seedmagic.derive_seed(10, "train")
    with seedmagic.seeded(10, name=RaisingEncode("train")) as number:
        assert number == seedmagic.derive_seed(10, "train")
