"""The extension's lifecycle: load twice, reload, unload, load again."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import seedmagic
from seedmagic import widget
from seedmagic.importhook import installed as import_hook_installed
from conftest import new_shell, requires_torch, run_python


def callback_count(ip: InteractiveShell) -> int:
    return sum(len(callbacks) for callbacks in ip.events.callbacks.values())


@pytest.fixture
def bare_shell():
    ip = new_shell()
    ip.run_cell("import numpy as np")
    yield ip
    if "seedmagic" in ip.extension_manager.loaded:
        ip.run_line_magic("unload_ext", "seedmagic")
    InteractiveShell.clear_instance()


def test_load_twice_reload_and_unload(bare_shell):
    ip = bare_shell
    before = callback_count(ip)
    ip.run_line_magic("load_ext", "seedmagic")
    loaded = callback_count(ip)
    ip.run_line_magic("load_ext", "seedmagic")
    seedmagic.load_ipython_extension(ip)  # even called directly a second time
    assert callback_count(ip) == loaded
    for _ in range(5):
        ip.run_line_magic("reload_ext", "seedmagic")
        assert callback_count(ip) == loaded
    ip.run_line_magic("seed", "10")
    assert ip.run_line_magic("seed", "10 np.random.rand(1)").tolist() == np.random.RandomState(10).rand(1).tolist()

    ip.run_line_magic("unload_ext", "seedmagic")
    assert callback_count(ip) == before
    assert "seed" not in ip.magics_manager.magics["line"]
    assert "seeded" not in ip.magics_manager.magics["cell"]
    assert "SeedMagics" not in ip.magics_manager.registry
    with pytest.raises(UsageError):
        ip.run_line_magic("seed", "10")

    ip.run_line_magic("load_ext", "seedmagic")
    assert ip.run_cell("%%seeded 3\nnp.random.rand(1)").result.tolist() == np.random.RandomState(3).rand(1).tolist()


@requires_torch
def test_unload_and_reload_keep_a_seed_that_is_due(bare_shell, monkeypatch):
    ip = bare_shell
    ip.run_line_magic("load_ext", "seedmagic")
    monkeypatch.delitem(sys.modules, "torch")  # make torch look not yet imported
    ip.run_line_magic("seed", "10")
    assert import_hook_installed()
    ip.run_line_magic("reload_ext", "seedmagic")
    assert import_hook_installed()  # %seed still reports torch at 10, so its import must still seed it
    ip.run_line_magic("unload_ext", "seedmagic")
    assert import_hook_installed()


def test_lifecycle_with_an_open_panel_keeps_callbacks_constant():
    from IPython.core.interactiveshell import InteractiveShell

    ip = new_shell()
    ip.kernel = object()  # widgets render here

    def counts() -> tuple[int, int]:
        return len(ip.events.callbacks["pre_run_cell"]), len(ip.events.callbacks["post_run_cell"])

    before = counts()
    ip.run_line_magic("load_ext", "seedmagic")
    configurables = len(ip.configurables)  # IPython adds its own extension magics on the first %load_ext
    ip.run_line_magic("seed", "")
    loaded = counts()
    assert loaded == (before[0] + 1, before[1] + 1)
    for _ in range(5):
        ip.run_line_magic("reload_ext", "seedmagic")
        ip.run_line_magic("seed", "")
        assert counts() == loaded and len(ip.configurables) == configurables
    ip.run_line_magic("unload_ext", "seedmagic")
    assert counts() == before and len(ip.configurables) == configurables - 1
    assert widget._shared is None
    assert "seed" not in ip.magics_manager.magics["line"]
    ip.run_line_magic("load_ext", "seedmagic")
    assert ip.run_line_magic("seed", "4 np.random.rand(1)" if ip.run_cell("import numpy as np").success else "")\
        .tolist() == np.random.RandomState(4).rand(1).tolist()
    ip.run_line_magic("unload_ext", "seedmagic")
    InteractiveShell.clear_instance()


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
