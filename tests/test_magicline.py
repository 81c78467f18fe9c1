"""The magics' line (``magicline.py``): comments, repeated options, quotes, options after the seed, where the
statement starts, and how a seed is spelled."""

from __future__ import annotations

import random

import numpy as np
import pytest
from IPython.core.error import UsageError

import seedmagic
from conftest import requires_torch, state_bytes, torch


@requires_torch
@pytest.mark.parametrize("line", ["10  # the lecture's seed", "10 #", "--only numpy,random,torch 10 # all three"])
def test_a_trailing_comment_is_a_comment(shell, line):
    shell.run_line_magic("seed", line)
    np.random.seed(10)
    random.seed(10)
    torch.manual_seed(10)
    expected = state_bytes()
    seedmagic.seed(0)
    shell.run_line_magic("seed", line)
    assert state_bytes() == expected
    assert seedmagic.active_seed() == 10


def test_a_comment_after_the_seed_of_a_cell(shell):
    assert shell.run_cell("%%seeded 4  # fixed\nnp.random.rand(1)").result.tolist() == [np.random.RandomState(4).rand()]


@requires_torch
def test_repeated_only_and_skip_are_merged(shell):
    np.random.seed(1)
    random.seed(1)
    torch.manual_seed(1)
    before = state_bytes()
    value = shell.run_cell("%%seeded --only numpy --only torch 7\n(np.random.rand(1)[0], torch.rand(1).item(), "
                           "random.random())").result
    torch.manual_seed(7)
    assert value[:2] == (np.random.RandomState(7).rand(), torch.rand(1).item())
    assert value[2] == random.Random(1).random()  # random was not in --only: not seeded
    assert state_bytes() != before  # random advanced, unrestored: it is not the scope's
    random.seed(1)
    random.random()
    assert shell.run_line_magic("seed", "--skip numpy --skip torch 8 random.random()") == random.Random(8).random()


@pytest.mark.parametrize("line", ["--name a --name b 3", "--save a.json --save b.json", "--load a --load b"])
def test_options_given_twice_are_refused(shell, line):
    before = state_bytes()
    with pytest.raises(UsageError, match="given twice"):
        shell.run_line_magic("seed", line)
    assert state_bytes() == before


def test_an_on_off_flag_given_twice_is_the_flag(shell):
    once = shell.run_line_magic("seed", "--keep 4 np.random.rand(2)").tolist()
    kept = np.random.get_state()[1].tolist()
    np.random.seed(0)
    twice = shell.run_line_magic("seed", "--keep --keep 4 np.random.rand(2)").tolist()
    assert twice == once == np.random.RandomState(4).rand(2).tolist()
    assert np.random.get_state()[1].tolist() == kept  # kept, as with --keep once


@requires_torch
def test_quotes_follow_shell_rules(shell, capsys):
    with seedmagic.seeded(10, name="my run"):
        expected = np.random.rand(2).tolist()
    assert shell.run_cell("%%seeded --name 'my run' 10\nnp.random.rand(2)").result.tolist() == expected
    assert shell.run_cell('%%seeded --name "my run" 10\nnp.random.rand(2)').result.tolist() == expected
    assert shell.run_line_magic("seed", '--name "my run" 10 np.random.rand(2)').tolist() == expected
    value = shell.run_cell('%%seeded --only "numpy,torch" 5\nnp.random.rand(1)[0]').result
    assert value == np.random.RandomState(5).rand()


def test_options_after_the_seed_mean_the_same_in_both_magics(shell):
    cell = shell.run_cell("%%seeded 6 --only numpy\nnp.random.rand(1)[0], random.random()").result
    line = shell.run_line_magic("seed", "6 --only numpy (np.random.rand(1)[0], random.random())")
    before = shell.run_cell("%%seeded --only numpy 6\nnp.random.rand(1)[0]").result
    assert cell[0] == line[0] == before == np.random.RandomState(6).rand()
    assert random.Random(6).random() not in (cell[1], line[1])  # random was left alone both times


def test_an_unknown_option_after_the_seed_is_refused_not_run(shell):
    shell.user_ns["bogus"] = 1
    before = state_bytes()
    with pytest.raises(UsageError, match="unrecognized arguments: --bogus"):
        shell.run_line_magic("seed", "10 --bogus")
    assert state_bytes() == before


@pytest.mark.parametrize("line", ["10 ;", "10 ; # comment", "10;"])
def test_a_semicolon_after_the_seed_is_no_statement(shell, line):
    shell.run_line_magic("seed", line)
    assert seedmagic.active_seed() == 10
    assert np.random.rand() == np.random.RandomState(10).rand()


def test_an_empty_label_is_still_a_label(shell):
    before = state_bytes()
    with pytest.raises(UsageError, match="--name needs a statement"):
        shell.run_line_magic("seed", "--name '' 10")
    assert state_bytes() == before


def test_leading_zeros_are_the_number_they_spell(shell):
    shell.run_line_magic("seed", "0" * 30 + "10")
    assert seedmagic.active_seed() == 10


def test_a_statement_that_starts_with_a_semicolon_is_refused_not_quoted(shell):
    before = state_bytes()
    with pytest.raises(UsageError, match="starts with ';'"):
        shell.run_line_magic("seed", "10 ; print('hi')")
    assert state_bytes() == before and seedmagic.active_seed() is None


def test_a_minus_sign_is_refused_even_before_zero(shell):
    with pytest.raises(UsageError, match="seed must be an integer from 0 to 4294967295"):
        shell.run_line_magic("seed", "-0")
