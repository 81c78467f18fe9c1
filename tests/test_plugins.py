"""Generators added by plugin packages: seeded, restored and previewed like the built-in ones; a plugin that fails
to load or fails at run time is left out with one warning."""

from __future__ import annotations

import random
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import seedmagic
from seedmagic.adapters import catalog as adapters
from conftest import ROOT, state_bytes


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> str:
    """The demo plugin package, really installed (pip) into a folder that a subprocess puts on its path."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(ROOT / "tests" / "plugins" / "demo")], check=True, capture_output=True)
    return str(target)


def run_with_plugin(site: str, code: str) -> str:
    import os
    import textwrap

    env = {**os.environ, "PYTHONPATH": site}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_a_plugin_generator_is_seeded_restored_and_previewed(plugin_site):
    out = run_with_plugin(plugin_site, """
        import seedmagic, seedmagic_demo
        print(seedmagic.generators())
        seedmagic.seed(10)
        first = [seedmagic_demo.random() for _ in range(3)]
        seedmagic_demo.seed(10)
        print(first == [seedmagic_demo.random() for _ in range(3)])
        state = seedmagic_demo._state[0]
        with seedmagic.seeded(3):
            inside = seedmagic_demo.random()
        print(seedmagic_demo._state[0] == state)
        seedmagic_demo.seed(3)
        print(inside == seedmagic_demo.random())
        peeked = seedmagic.peek(2)["demo"]
        print(peeked == [seedmagic_demo.random(), seedmagic_demo.random()])
        from IPython.core.interactiveshell import InteractiveShell
        ip = InteractiveShell.instance()
        ip.run_line_magic("load_ext", "seedmagic")
        ip.run_line_magic("seed", "--only demo 10")
        ip.run_line_magic("seed", "")
    """)
    lines = out.splitlines()
    assert lines[0] == str(["random", "numpy", "torch", "demo"])
    assert lines[1:5] == ["True"] * 4
    demo_row = next(line for line in lines if line.split()[:1] == ["demo"])
    assert demo_row.split()[1] == "10"


def test_a_broken_plugin_is_reported_once_and_skipped(monkeypatch):
    generators_module = seedmagic.adapters.catalog
    broken = ("broken", "no_such_module_for_seedmagic:Adapter")
    not_an_adapter = ("odd", "json:dumps")
    monkeypatch.setattr(generators_module, "entry_points", lambda group: [broken, not_an_adapter])
    monkeypatch.setattr(generators_module, "_registry", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = seedmagic.generators()
        seedmagic.seed(3)
        seedmagic.generators()
    messages = [str(w.message) for w in caught]
    assert names[:3] == ["random", "numpy", "torch"] and "broken" not in names
    assert len(messages) == 2
    assert "skipped generator plugin 'broken'" in messages[0]
    assert "skipped generator plugin 'odd'" in messages[1]
    assert np.random.rand(1)[0] == np.random.RandomState(3).rand(1)[0]


# Plugins that fail at run time -------------------------------------------------------


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


class HolderPlugin:
    """A plain plugin that keeps its generator in an attribute that happens to be called ``holder``."""

    name, module, digits = "holding", None, 8

    def __init__(self) -> None:
        self.generator = random.Random(0)
        self.holder = self.generator

    def is_available(self) -> bool:
        return True

    def seed(self, n: int | None) -> None:
        self.generator.seed(n)

    def get_state(self) -> tuple:
        return self.generator.getstate()

    def set_state(self, state: tuple) -> None:
        self.generator.setstate(state)

    def peek(self, k: int) -> dict[str, list[float]]:
        return {self.name: []}


class RaisingHolderPlugin(HolderPlugin):
    """A plugin whose ``holder`` raises when looked at."""

    name = "raising-holder"

    @property
    def holder(self):
        raise RuntimeError("no holder here")

    @holder.setter
    def holder(self, value):
        pass  # the generator is kept as ``generator``


def test_an_attribute_called_holder_does_not_make_a_plugin_swappable(monkeypatch):
    """Only a callable ``holder`` and ``reinstate`` together are the optional Swappable members."""
    plain, raising = HolderPlugin(), RaisingHolderPlugin()
    monkeypatch.setattr(adapters, "_registry", {**adapters.registry(), plain.name: plain, raising.name: raising})
    plain.holder.seed(5)
    raising.generator.seed(5)
    before = (plain.holder.getstate(), raising.generator.getstate())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither plugin is reported as failing
        with seedmagic.seeded(10):
            assert plain.holder.getstate() == random.Random(10).getstate()
            assert raising.generator.getstate() == random.Random(10).getstate()
            plain.holder.random(), raising.generator.random()
        assert (plain.holder.getstate(), raising.generator.getstate()) == before  # restored
        seedmagic.seed(11)
    assert plain.holder.getstate() == random.Random(11).getstate() == raising.generator.getstate()


class LiveTensorPlugin:
    """A plugin whose ``get_state`` hands out the tensor it draws from (no copy): the state changes under the
    caller's feet, so the cell watch must take what it needs at once."""

    name, module, digits = "live", None, 4

    def __init__(self) -> None:
        self.state = torch.zeros(4, dtype=torch.uint8)

    def is_available(self) -> bool:
        return True

    def seed(self, n: int | None) -> None:
        self.state.fill_((n or 0) % 256)

    def get_state(self) -> torch.Tensor:
        return self.state

    def set_state(self, state: torch.Tensor) -> None:
        self.state.copy_(state)

    def draw(self) -> None:
        self.state.add_(1)

    def peek(self, k: int) -> dict[str, list[float]]:
        return {self.name: [float(self.state[0])] * k}


def test_a_plugin_handing_out_its_live_state_still_gets_its_cell_marker(monkeypatch, shell):
    from seedmagic import watch

    plugin = LiveTensorPlugin()
    monkeypatch.setattr(adapters, "_registry", {**adapters.registry(), plugin.name: plugin})
    shell.user_ns["plugin"] = plugin
    shell.run_cell("x = 1")
    shell.run_cell("plugin.draw()")
    assert ("global", "live") in watch.follow(shell).watch.advanced
    shell.run_cell("x = 2")
    assert ("global", "live") not in watch.follow(shell).watch.advanced
