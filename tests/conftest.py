"""Shared fixtures: a fresh IPython shell per test, and seedmagic's memory wiped between tests."""

from __future__ import annotations

import atexit
import json
import os
import pathlib
import random
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

try:  # the version matrix runs part of the suite where torch is not installed
    import torch
except ImportError:
    torch = None

import seedmagic
import seedmagic.importhook
import seedmagic.interrupts
import seedmagic.session

# One fixed Hypothesis profile: the same examples on every run (CI is a shared 2-core machine, so
# no per-example deadline; each test sets how many examples it runs).
settings.register_profile("seedmagic", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile("seedmagic")

#: Tests that need torch; the rest also run in the torch-less environments of the version matrix.
requires_torch = pytest.mark.skipif(torch is None, reason="needs torch")

ROOT = pathlib.Path(__file__).resolve().parent.parent
#: The lecture's values (a copy of the project's reference file): the suite reads nothing outside the repository.
LECTURE = ROOT / "tests" / "data" / "seed_doc_values.json"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A notebook or browser test takes seconds: it is slow too, so `-m "not slow"` is the fast loop."""
    for item in items:
        if item.get_closest_marker("notebook") or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def lecture() -> dict[str, Any]:
    """The lecture's numbers at full precision."""
    return json.loads(LECTURE.read_text())


@pytest.fixture(autouse=True)
def clean_seedmagic(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no seeds remembered, no import hook, and no seed or rank published."""
    for variable in ("SEEDMAGIC_SEED", "SEEDMAGIC_RANK"):
        monkeypatch.delenv(variable, raising=False)
    seedmagic.session._inherited.clear()  # what the environment held before seedmagic wrote it
    seedmagic.session.book.seeds.clear()
    seedmagic.session.book.session_seed = None
    seedmagic.importhook.remove()
    holders = seedmagic.interrupts._guard.holders
    bit_generator = np.random.get_bit_generator() if hasattr(np.random, "get_bit_generator") else None
    yield
    if bit_generator is not None and np.random.get_bit_generator() is not bit_generator:
        np.random.set_bit_generator(bit_generator)  # a test swapped NumPy's (np.random.set_bit_generator)
    seedmagic.session.book.seeds.clear()
    seedmagic.session.book.session_seed = None
    seedmagic.importhook.remove()
    for variable in ("SEEDMAGIC_SEED", "SEEDMAGIC_RANK"):
        os.environ.pop(variable, None)  # then monkeypatch puts back what the environment had before
    seedmagic.session._inherited.clear()
    # Every hold on the SIGINT handler is released, whatever the test did (interrupts included).
    assert seedmagic.interrupts._guard.holders == holders, "a hold on the SIGINT handler was leaked"


def new_shell(config: Config | None = None) -> InteractiveShell:
    """A fresh InteractiveShell whose history stays in memory and that does no exit-time cleanup.

    Each shell's exit handler resets its namespace and runs a full garbage
    collection; with a shell per test that would add a minute to the suite.
    """
    config = config or Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=config)
    atexit.unregister(ip.atexit_operations)
    return ip


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    """A fresh InteractiveShell with seedmagic loaded and numpy, torch and random imported."""
    ip = new_shell()
    ip.run_line_magic("load_ext", "seedmagic")
    ip.run_cell("import random\nimport numpy as np" + ("\nimport torch" if torch is not None else ""))
    yield ip
    ip.run_line_magic("unload_ext", "seedmagic")
    InteractiveShell.clear_instance()


@pytest.fixture
def kernel_shell():
    """A shell where widgets render, with the extension loaded and the panel open."""
    ip = new_shell()
    ip.kernel = object()
    ip.run_line_magic("load_ext", "seedmagic")
    ip.run_cell("import numpy as np, torch, random")
    ip.run_line_magic("seed", "")
    yield ip
    from seedmagic import widget  # already imported: %seed showed the panel

    widget.close_shared_panel()
    ip.run_line_magic("unload_ext", "seedmagic")


def state_bytes() -> dict[str, Any]:
    """Every global generator's full state in comparable form."""
    numpy_state = np.random.get_state(legacy=False)
    return {
        "random": random.getstate(),
        "numpy": (numpy_state["state"]["key"].tobytes(), numpy_state["state"]["pos"],
                  numpy_state["has_gauss"], numpy_state["gauss"]),
        "torch": None if torch is None else torch.get_rng_state().numpy().tobytes(),
    }


def any_kind_states() -> tuple[Any, ...]:
    """Every global generator's state, whatever bit generator NumPy's global one holds (``state_bytes`` reads an
    MT19937's key)."""
    return (random.getstate(), repr(np.random.get_state(legacy=False)),
            None if torch is None else torch.get_rng_state().tolist())


#: What every refusal of a seed that is not a seed says.
SEED_RANGE = "seed must be an integer from 0 to 4294967295"


def refused(action, message: str = SEED_RANGE,
            error: type[BaseException] | tuple[type[BaseException], ...] = (UsageError, seedmagic.SeedError)) -> None:
    """``action`` raises a one-line ``error`` holding ``message``, and moves no generator and no remembered seed.

    The error is exactly one of ``error``'s types: a subclass of UsageError would print a full traceback.
    """
    kinds = error if isinstance(error, tuple) else (error,)
    before = state_bytes()
    book = (dict(seedmagic.session.book.seeds), seedmagic.session.book.session_seed)
    with pytest.raises(kinds) as raised:
        action()
    assert type(raised.value) in kinds
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert state_bytes() == before
    assert (dict(seedmagic.session.book.seeds), seedmagic.session.book.session_seed) == book


def run_python(code: str, timeout: float = 120, env: dict[str, str] | None = None) -> str:
    """Run ``code`` in a fresh interpreter (nothing imported yet; ``env`` added to the environment); its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def free_port() -> int:
    """A free port below Linux's ephemeral range (32768 and up).

    A port from that range could be taken meanwhile by an outgoing connection,
    even by a rank connecting to it before rank 0 listens (a TCP self-connect).
    """
    for port in random.Random().sample(range(20000, 32000), 100):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port from 20000 to 32000")
