"""The guarantees at the edges: cells as IPython runs them, option parsing, reload, history, input limits.

IPython itself is the oracle for cells: the same body run as a plain cell and
under ``%%seeded`` must run the same statements and show the same values.
"""

from __future__ import annotations

import random
import re
from typing import Any

import numpy as np
import pytest
from IPython.core.error import UsageError

import seedmagic
from conftest import requires_torch, run_python, state_bytes, torch


class Recorder:
    """Stands in for ``plt``/``ax``: every call is recorded and returns something displayable."""

    def __init__(self, calls: list[str], name: str = "plt") -> None:
        self._calls, self._name = calls, name

    def __getattr__(self, attribute: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> str:
            self._calls.append(f"{self._name}.{attribute}")
            return f"<{self._name}.{attribute} artist>"

        return call


# Cell endings people write, many from public notebooks (matplotlib's trailing ';', comments, continuations).
CELLS = [
    "calls.append('last');",
    "calls.append('first')\ncalls.append('last');",
    "plt.scatter(x, y);",
    "plt.figure()\nplt.plot(x, y)\nplt.title('Noise');",
    "plt.title('a') ; # hide the artist",
    "plt.xlabel('x');  \n\n# trailing comment\n",
    "fig = plt.figure()\nax = Recorder(calls, 'ax')\nax.hist(x, bins=20)  ;",
    "1 + \\\n  1;",
    "1 + \\\n  1",
    "value = 3\nvalue",
    "value = 4",
    "calls.append('a'); calls.append('b')",
    "calls.append('a'); calls.append('b');",
    "for i in range(2):\n    calls.append(i)\ni",
    "x[:3]  # numbers",
    "'a;b'",
    "s = 'ends with ;'\ns",
    "# only a comment",
    "if True:\n    calls.append('block');",
]


def run_both(shell, body: str, interactivity: str = "last_expr") -> list[tuple[Any, list[Any], list[str]]]:
    """Run ``body`` as a plain cell and under ``%%seeded``: (displayed values, calls, printed outputs) of each."""
    shell.ast_node_interactivity = interactivity
    outcomes = []
    for prefix in ("", "%%seeded 3\n"):
        calls: list[Any] = []
        shell.user_ns.update(calls=calls, plt=Recorder(calls), Recorder=Recorder, x=np.arange(5.0), y=np.ones(5))
        shown: list[str] = []
        original = shell.displayhook.write_format_data
        shell.displayhook.write_format_data = lambda data, md=None, shown=shown: shown.append(data["text/plain"])
        try:
            result = shell.run_cell(prefix + body, store_history=True)
        finally:
            shell.displayhook.write_format_data = original
        assert result.success, result.error_in_exec
        outcomes.append((shown, calls, result.result))
    return outcomes


@pytest.mark.parametrize("body", CELLS)
@pytest.mark.parametrize("interactivity", ["last_expr", "all", "last_expr_or_assign", "none"])
def test_a_seeded_cell_runs_and_shows_what_a_plain_cell_does(shell, body, interactivity):
    plain, seeded = run_both(shell, body, interactivity)
    assert seeded[1] == plain[1]  # the same statements ran, the one before ';' too
    assert seeded[0] == plain[0]  # the same values were shown


def test_the_statement_of_seed_n_stmt_always_runs(shell):
    shell.user_ns["calls"] = []
    assert shell.run_line_magic("seed", "3 calls.append('x');") is None
    assert shell.run_line_magic("seed", "3 len(calls);") is None
    assert shell.run_line_magic("seed", "3 len(calls)") == 1
    assert shell.user_ns["calls"] == ["x"]


def test_automagic_and_ipython_syntax_work_inside_a_cell(shell, tmp_path):
    shell.automagic = True
    result = shell.run_cell("%%seeded 3\npwd", store_history=True)
    assert result.success and result.result == shell.run_cell("pwd").result
    result = shell.run_cell("%%seeded 3\nvalue = !echo hello\nvalue[0]", store_history=True)
    assert result.result == "hello"


def test_await_is_refused_with_one_line(shell):
    before = state_bytes()
    for source in ("%%seeded 3\nimport asyncio\nawait asyncio.sleep(0)", "%seed 3 await asyncio.sleep(0)"):
        result = shell.run_cell(source)
        assert isinstance(result.error_in_exec or result.error_before_exec, UsageError)
        message = str(result.error_in_exec or result.error_before_exec)
        assert "uses await" in message and "\n" not in message
    assert state_bytes() == before


# Comments, repeated options, quotes, options after the seed ---------------------------------------


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


# Reload, history, tracebacks -------------------------------------------------------------------


def test_reload_keeps_the_seed_promised_to_a_library_not_yet_imported(lecture):
    out = run_python("""
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
ip.run_line_magic("load_ext", "seedmagic")
ip.run_line_magic("seed", "10")
ip.run_line_magic("reload_ext", "seedmagic")
ip.run_cell("import numpy as np\\nprint(np.random.rand(5).tolist())")
""")
    assert eval(out.splitlines()[-1]) == lecture["numpy_global_seed_10"]["rand5_first"]


def test_history_cells_are_the_running_cells(shell):
    seedmagic.session.history.clear()
    numbers = []
    for source in ("%seed 1", "x = 1\n%seed 2", "%%seeded 3\npass", "seedmagic.seed(4)", "%seed 5 pass"):
        numbers.append(shell.execution_count)
        shell.run_cell("import seedmagic\n" + source if "seedmagic." in source else source, store_history=True)
    assert [event.count for event in seedmagic.history()] == numbers


def test_a_traceback_names_the_running_cell_and_its_line(shell, capsys):
    number = shell.execution_count
    shell.run_cell("%%seeded 3\nx = 1\n1 / 0", store_history=True)
    text = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    assert f"In[{number}], line 3" in text  # line 1 is %%seeded, as in the cell
    assert f"In[{number + 1}]" not in text


# Input limits ------------------------------------------------------------------------------------


def test_a_5000_digit_seed_is_one_line_everywhere(shell):
    huge = "7" * 5000
    before = state_bytes()
    for action in (lambda: shell.run_line_magic("seed", huge), lambda: shell.run_cell_magic("seeded", huge, "1"),
                   lambda: shell.run_line_magic("seed", f"{huge} 1"), lambda: seedmagic.seed(7 * 10**5000)):
        with pytest.raises((UsageError, seedmagic.SeedError)) as raised:
            action()
        assert "seed must be an integer from 0 to 4294967295" in str(raised.value)
        assert "\n" not in str(raised.value) and len(str(raised.value)) < 200
    panel = seedmagic.panel()
    try:
        panel.seed_all(huge)
        assert "seed must be an integer from 0 to 4294967295" in panel._error.value
    finally:
        from seedmagic import widget

        widget.close_shared_panel()
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


def test_k_is_validated_in_one_place():
    for bad in (-1, 1.5, "3", True, 10**6):
        with pytest.raises(seedmagic.SeedError, match="k must be an integer"):
            seedmagic.peek(bad)


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


def test_a_child_keeps_its_parents_seed_after_a_scope_of_its_own():
    out = run_python("""
import os, seedmagic
with seedmagic.seeded(5):
    inside = os.environ["SEEDMAGIC_SEED"]
print(inside, os.environ.get("SEEDMAGIC_SEED"), seedmagic.seed_process())
""", env={"SEEDMAGIC_SEED": "10"})
    assert out.split() == ["5", "10", "10"]


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


def test_a_statement_that_starts_with_a_semicolon_is_refused_not_quoted(shell):
    before = state_bytes()
    with pytest.raises(UsageError, match="starts with ';'"):
        shell.run_line_magic("seed", "10 ; print('hi')")
    assert state_bytes() == before and seedmagic.active_seed() is None


def test_a_minus_sign_is_refused_even_before_zero(shell):
    with pytest.raises(UsageError, match="seed must be an integer from 0 to 4294967295"):
        shell.run_line_magic("seed", "-0")


def test_leaving_a_scope_that_is_not_open_is_one_line():
    with pytest.raises(seedmagic.SeedError, match="is not open in this thread"):
        seedmagic.seeded(3).__exit__(None, None, None)
