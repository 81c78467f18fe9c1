"""The adapters package: its public names, the kinds registry as the one source, and the protocol as mypy sees it."""

from __future__ import annotations

import ast
import random
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import seedmagic
from seedmagic import adapters, probe, status
from seedmagic.adapters import catalog
from seedmagic.check import explain, record
from conftest import ROOT, requires_torch, torch


def test_the_package_keeps_the_names_of_the_module_it_replaced():
    from seedmagic.adapters import (BUILTIN, BUILTIN_NAMES, ENTRY_POINT_GROUP, MAX_GAUSS, MT_WORDS,  # noqa: F401
                                    Adapter, NumpyGlobal, PythonRandom, TorchCPU, TorchCUDA, TorchMPS, absence,
                                    fingerprint, is_installed, is_loaded, loaded_module, object_state, peek_object,
                                    plugin_failed, registry, user_generator_kind)

    assert callable(registry) and list(registry())[:5] == ["random", "numpy", "torch", "torch.cuda", "torch.mps"]
    assert BUILTIN_NAMES == {adapter.name for adapter in BUILTIN}
    assert all(isinstance(adapter, Adapter) for adapter in BUILTIN)
    # The library modules are named after their libraries and hide nothing: absolute imports reach NumPy itself.
    assert isinstance(adapters.numpy, types.ModuleType) and adapters.numpy.__name__ == "seedmagic.adapters.numpy"
    assert sys.modules["numpy"] is np and np.random.RandomState(3).rand() == np.random.RandomState(3).rand()


def generators_of_every_kind() -> dict[str, object]:
    found = {"r": random.Random(1), "rs": np.random.RandomState(2), "g": np.random.default_rng(3)}
    if torch is not None:
        found["t"] = torch.Generator().manual_seed(4)
    return found


def test_every_kind_is_recognised_read_and_previewed_through_the_registry():
    namespace = generators_of_every_kind()
    kinds = {name: adapters.user_kind(value) for name, value in namespace.items()}
    assert {name: kind.word for name, kind in kinds.items() if kind} == {
        "r": "random", "rs": "RandomState", "g": "numpy.Generator", **({"t": "torch.Generator"} if torch else {})}
    assert adapters.user_kind(random.SystemRandom()) is None and adapters.user_kind(3) is None
    assert adapters.peek_object(namespace["g"], 2) == (np.random.default_rng(3).random(2).tolist(), 8)
    assert adapters.peek_object(namespace["r"], 1) == ([random.Random(1).random()], 8)
    with pytest.raises(TypeError):
        adapters.object_state(object())


def test_status_and_the_probe_name_kinds_as_the_registry_does():
    namespace = generators_of_every_kind()
    rows = {row.label: row for row in status.collect(2, namespace).rows}
    for name, value in namespace.items():
        kind = adapters.user_kind(value)
        assert kind is not None and rows[name].kind == kind.display and rows[name].digits == kind.digits
    shell = types.SimpleNamespace(user_ns=dict(namespace))
    recorded = probe.Probe(shell).take()["users"]
    assert {name: value[0] for name, value in recorded.items()} == {
        name: adapters.user_generator_kind(value) for name, value in namespace.items()}
    assert set(adapters.KIND_BY_WORD) == {"random", "RandomState", "numpy.Generator", "torch.Generator"}


def test_numpys_global_generator_holding_a_swapped_in_bit_generator_is_not_as_imported():
    """The probe takes a library imported in a cell as drawn from when its state is not as a fresh import leaves
    it: a bit generator swapped in (np.random.set_bit_generator(np.random.PCG64())) never is."""
    numpy_global = adapters.registry()["numpy"]
    assert numpy_global.fresh(np.random.RandomState(3).get_state(legacy=False))
    assert not numpy_global.fresh(np.random.RandomState(np.random.PCG64(3)).get_state(legacy=False))


def test_the_probe_leaves_out_generators_a_cell_showed_in_ipythons_output_history(shell):
    """``Out[n]`` is keyed by execution count, which a rerun shifts: only the notebook's own names are compared."""
    shell.run_cell("import numpy as np\nrng = np.random.default_rng(0)\nrng", store_history=True)
    assert any(value is shell.user_ns["rng"] for value in shell.user_ns["Out"].values())
    assert set(probe.Probe(shell).take()["users"]) == {"rng"}


def test_a_kind_added_to_the_registry_reaches_status_probe_and_check(monkeypatch):
    """What a new library's module adds is all the rest of seedmagic needs: nothing else lists kinds."""

    class Toy:
        def __init__(self) -> None:
            self.value = 0.25

    toy = adapters.UserKind(word="toy.Toy", display="toy.Toy", module=__name__, base=lambda module: Toy,
                            state=lambda obj: obj.value, peek=lambda obj, k: [obj.value] * k, digits=2,
                            facts=adapters.CheckFacts("toylib", "toy.Toy(N)"))
    monkeypatch.setattr(catalog, "KINDS", (*catalog.KINDS, toy))
    monkeypatch.setitem(catalog.KIND_BY_WORD, toy.word, toy)
    namespace = {"t": Toy()}
    row = status.collect(3, namespace).rows[-1]
    assert (row.label, row.kind, row.draws, row.digits) == ("t", "toy.Toy", (0.25, 0.25, 0.25), 2)
    assert probe.Probe(types.SimpleNamespace(user_ns=namespace)).take()["users"]["t"][0] == "toy.Toy"
    assert explain.seeded_form("toy.Toy", "?") == "toy.Toy(N)"
    assert record.library_of()["toy.Toy"] == "toylib"


def string_constants(path) -> set[str]:
    return {node.value for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_no_module_outside_the_adapters_package_spells_a_kind_or_a_seeding_out():
    """Kind words, display names and how to seed are said once, in the library's module."""
    said = set()
    for kind in adapters.KINDS:
        said |= {kind.word, kind.display, kind.facts.seed_call or ""} | kind.entropy_constructors
    for adapter in adapters.BUILTIN:
        facts = adapters.check_facts().get(adapter.name)
        if facts is not None:
            said |= {facts.seed_call or "", *facts.seedings}
    said -= {"", "random"}  # "random" is also the name of Python's global generator
    package = ROOT / "seedmagic" / "adapters"
    for path in (ROOT / "seedmagic").rglob("*.py"):
        if package not in path.parents:
            assert not string_constants(path) & said, path


@requires_torch
def test_the_facts_of_torch_cover_its_seeding_calls():
    from seedmagic.check.source import CONSTRUCTORS, seedings

    calls = seedings()
    assert calls["torch.cuda.seed_all"] == ("torch.cuda", True) and calls["torch.manual_seed"] == ("torch", False)
    assert calls["numpy.random.seed"] == ("numpy", True) and "Generator" in CONSTRUCTORS
    assert seedmagic.adapters.TorchCPU().facts.library == "torch"


PLUGIN = '''
from __future__ import annotations

from typing import Any

from seedmagic.adapters import Adapter, Checked, CheckFacts, Codec, Digest, Freshness
from seedmagic_demo import DemoAdapter


class Counter:
    name = "counter"
    module = "counterlib"
    digits = 3
    facts = CheckFacts("counterlib", "counterlib.seed(N)", {"counterlib.seed": True})

    def __init__(self) -> None:
        self.value = 0

    def is_available(self) -> bool:
        return True

    def seed(self, n: int | None) -> None:
        self.value = n or 0

    def get_state(self) -> int:
        return self.value

    def set_state(self, state: int) -> None:
        self.value = state

    def peek(self, k: int) -> dict[str, list[float]]:
        return {self.name: [float(self.value + i) for i in range(k)]}

    def encode(self, state: int) -> Any:
        return state

    def decode(self, data: Any) -> int:
        return int(data)

    def digest(self, state: int) -> str:
        return str(state)

    def fresh(self, state: int) -> bool:
        return state == 0


demo: Adapter = DemoAdapter()
counter: Adapter = Counter()
codec: Codec = Counter()
digest: Digest = Counter()
freshness: Freshness = Counter()
checked: Checked = Counter()
'''

BROKEN = '''
from __future__ import annotations

from seedmagic.adapters import Adapter, Codec


class NoPeek:
    name = "nopeek"
    module = None
    digits = 3

    def is_available(self) -> bool:
        return True

    def seed(self, n: int | None) -> None:
        pass

    def get_state(self) -> int:
        return 0

    def set_state(self, state: int) -> None:
        pass

    def encode(self, state: int, extra: int) -> int:
        return state


adapter: Adapter = NoPeek()
codec: Codec = NoPeek()
'''


@pytest.mark.slow
def test_an_adapter_written_against_the_protocol_type_checks_with_mypy(tmp_path):
    """The demo plugin and a full adapter pass ``mypy --strict``; a missing or mistyped member is an error."""
    (tmp_path / "plugin.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "broken.py").write_text(textwrap.dedent(BROKEN))
    env = {"MYPYPATH": f"{ROOT}:{ROOT / 'tests' / 'plugins' / 'demo'}", "PATH": "/usr/bin:/bin"}

    def mypy(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent",
                               "--cache-dir", str(tmp_path / "cache"), name], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=300)

    good = mypy("plugin.py")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = mypy("broken.py")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert 'error: Incompatible types in assignment (expression has type "NoPeek", variable has type ' \
           '"Adapter")' in bad.stdout and "peek" in bad.stdout
    assert 'variable has type "Codec"' in bad.stdout and "decode" in bad.stdout


def test_the_numpy_adapter_puts_back_exactly_what_numpys_set_state_puts_back():
    """Its set_state hands NumPy the key as a list (faster to copy word by word): the state must be the same."""
    import numpy as np

    from seedmagic.adapters import registry

    np.random.seed(7)
    np.random.randn()  # leaves a cached Gaussian
    saved = np.random.get_state(legacy=False)
    expected = np.random.randn(5), np.random.get_state(legacy=False)
    np.random.seed(99)
    registry()["numpy"].set_state(saved)
    assert (np.random.randn(5) == expected[0]).all()
    after = np.random.get_state(legacy=False)
    assert (after["state"]["key"] == expected[1]["state"]["key"]).all() and after["state"]["pos"] == expected[1]["state"]["pos"]
    assert type(saved["state"]["key"]) is np.ndarray  # the caller's state is left as it was


def test_the_preview_reads_through_a_subclass_of_a_numpy_bit_generator():
    class Logging(np.random.PCG64):
        pass

    np.random.set_bit_generator(Logging(4))
    expected = np.random.RandomState(np.random.PCG64(4)).random_sample(3).tolist()
    assert seedmagic.peek(3)["numpy"] == expected
    assert np.random.random_sample(3).tolist() == expected  # and the preview consumed nothing


def test_the_preview_of_a_users_generator_over_a_subclassed_bit_generator():
    class Logging(np.random.PCG64):
        pass

    held = np.random.Generator(Logging(4))
    expected = np.random.Generator(np.random.PCG64(4)).random(3).tolist()
    assert adapters.peek_object(held, 3) == (expected, 8)
    assert held.random(3).tolist() == expected  # the preview consumed nothing


@requires_torch
def test_a_folder_named_torch_imported_in_its_place_is_no_generator_and_the_rest_is_seeded(monkeypatch):
    """Where torch is not installed, an empty folder named ``torch`` imports as a namespace with neither
    ``default_generator`` nor ``backends``: torch and its devices are not available (in one line), and everything
    else is seeded, previewed and saved as without it."""
    monkeypatch.setitem(sys.modules, "torch", types.ModuleType("torch"))
    assert [name for name in seedmagic.generators() if name.startswith("torch")] == []
    with pytest.raises(seedmagic.SeedError, match=r"^torch\.cuda is not available here \(AttributeError"):
        seedmagic.seed(10, only="torch.cuda")
    seedmagic.seed(10)
    random.seed(10)
    np.random.seed(10)
    expected = random.random(), np.random.rand(3).tolist()
    seedmagic.seed(10)
    assert seedmagic.peek(2).keys() == {"random", "numpy"}
    assert seedmagic.state_dict()["generators"].keys() == {"random", "numpy"}
    assert (random.random(), np.random.rand(3).tolist()) == expected
