"""Bad input: one plain one-line UsageError (SeedError in the API), and nothing has moved."""

from __future__ import annotations

import numpy as np
import pytest
from IPython.core.error import UsageError

import seedmagic
from conftest import refused, state_bytes

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
