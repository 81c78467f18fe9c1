"""A magic's cell or statement runs as IPython runs a cell (``cellcode.py``).

IPython itself is the oracle for cells: the same body run as a plain cell and
under ``%%seeded`` must run the same statements and show the same values.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from IPython.core.error import UsageError

from conftest import state_bytes


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


def test_a_traceback_names_the_running_cell_and_its_line(shell, capsys):
    number = shell.execution_count
    shell.run_cell("%%seeded 3\nx = 1\n1 / 0", store_history=True)
    text = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    assert f"In[{number}], line 3" in text  # line 1 is %%seeded, as in the cell
    assert f"In[{number + 1}]" not in text
