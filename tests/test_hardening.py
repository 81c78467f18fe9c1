"""Hardening: bad input through every door, hostile state files, lifecycle, environments, threads."""

from __future__ import annotations

import json
import os
import pickle
import random
import threading

import numpy as np
import pytest
import torch

import seedmagic
from seedmagic import widget
from conftest import new_shell, refused, run_python, state_bytes

# Seeds that are not seeds: refused by %seed, %%seeded, seedmagic.seed and the panel's field alike.
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
    panel = seedmagic.panel()
    try:
        before = state_bytes()
        panel.seed_all(text)
        assert "seed must be an integer from 0 to 4294967295" in panel._error.value
        assert state_bytes() == before
    finally:
        widget.close_shared_panel()


@pytest.mark.parametrize("value", ["", "   ", "\t"])
def test_empty_seeds_in_the_api_and_the_panel(value):
    refused(lambda: seedmagic.seed(value))
    panel = seedmagic.panel()
    try:
        panel.seed_all(value)
        assert "seed must be an integer" in panel._error.value
    finally:
        widget.close_shared_panel()


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


# Hostile state files -------------------------------------------------------------


def hostile_files(tmp_path) -> dict[str, tuple[object, str]]:
    good = tmp_path / "good.json"
    seedmagic.seed(1)
    seedmagic.snapshot().save(good)
    text = good.read_text()
    marker = tmp_path / "executed"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    document = json.loads(text)

    def mangled(change) -> str:
        copy = json.loads(text)
        change(copy)
        return json.dumps(copy)

    files = {
        "truncated": (text[: len(text) // 3], "not valid JSON"),
        "empty": ("", "not valid JSON"),
        "noise": (bytes(range(256)) * 20, "it is not text"),
        "pickle": (pickle.dumps(Payload()), "is not a seedmagic state file"),
        "a list": ("[1, 2, 3]", "is not a seedmagic state file"),
        "wrong format": ('{"format": "other", "version": 2}', "is not a seedmagic state file"),
        "wrong version": (mangled(lambda d: d.update(version=99)), "of version 99"),
        "no version": (mangled(lambda d: d.pop("version")), "of version None"),
        "unknown generator": (mangled(lambda d: d["generators"].update(cupy=d["generators"].pop("numpy"))),
                              "'cupy', which is not a generator here"),
        "short key": (mangled(lambda d: d["generators"]["numpy"]["state"]["key"].pop()),
                      "the numpy key must be a list of 624 integers"),
        "float key": (mangled(lambda d: d["generators"]["numpy"]["state"]["key"].__setitem__(0, 1.5)),
                      "the numpy key must hold integers"),
        "bad seed": (mangled(lambda d: d.update(session_seed=-5)), "-5 is not a seed"),
        "extra keys": (mangled(lambda d: d["generators"]["random"].update(exec="import os")), "is not {'state'"),
        "deep nesting": ('{"format": "seedmagic-state", "version": 2, "session_seed": null, "generators": {"random": '
                         '{"state": ' + '[' * 20000 + ']' * 20000 + ', "seed": null}}}',
                         "is not a seedmagic state file"),
    }
    assert document["version"] == 2
    return files, marker


def test_hostile_state_files_are_refused_and_nothing_runs(tmp_path):
    files, marker = hostile_files(tmp_path)
    for name, (content, message) in files.items():
        path = tmp_path / f"{name}.state"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        np.random.rand(3)
        torch.rand(3)
        random.random()
        refused(lambda path=path: seedmagic.Snapshot.load(path).restore(), message)
    assert not marker.exists()


def test_state_files_that_are_not_files(tmp_path, shell):
    refused(lambda: seedmagic.Snapshot.load(tmp_path / "missing.json"), "cannot read")
    refused(lambda: seedmagic.Snapshot.load(tmp_path), "cannot read")
    refused(lambda: shell.run_line_magic("seed", f"--load {tmp_path}"), "cannot read")
    big = tmp_path / "big.json"
    with open(big, "wb") as handle:
        handle.truncate(seedmagic.statefile.MAX_BYTES + 1)
    refused(lambda: seedmagic.Snapshot.load(big), "it is bigger than")


# Lifecycle -----------------------------------------------------------------------


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


# Environments --------------------------------------------------------------------

BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
sys.meta_path.insert(0, Block())
"""


def test_without_torch_numpy_and_random_still_work():
    out = run_python(BLOCK.format(blocked={"torch"}) + """
import numpy as np, random
import seedmagic
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.error import UsageError
print(seedmagic.generators())
ip = InteractiveShell.instance()
ip.run_line_magic("load_ext", "seedmagic")
ip.run_line_magic("seed", "10")
print(np.random.rand(1)[0] == np.random.RandomState(10).rand(1)[0], random.random() == random.Random(10).random())
try:
    ip.run_line_magic("seed", "--only torch 3")
except UsageError as error:
    print(error)
with seedmagic.seeded(3):
    pass
ip.run_line_magic("seed", "")
""")
    lines = out.splitlines()
    assert lines[0] == "['random', 'numpy']"
    assert lines[1] == "True True"
    assert lines[2] == "torch is not installed"
    assert any(line.split()[:1] == ["numpy"] for line in lines[3:])


def test_without_ipywidgets_seed_prints_the_table_even_in_a_kernel():
    out = run_python(BLOCK.format(blocked={"ipywidgets"}) + """
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
ip.kernel = object()
ip.run_line_magic("load_ext", "seedmagic")
ip.run_line_magic("seed", "10")
ip.run_line_magic("seed", "")
""")
    assert "session seed: 10" in out and "random" in out


def test_cuda_is_never_initialised_on_the_mocked_path(monkeypatch, shell):
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)
    monkeypatch.setattr(torch.cuda, "_lazy_init", lambda: pytest.fail("seedmagic initialised CUDA"))
    tracker = torch.cuda._lazy_seed_tracker
    saved = (tracker.manual_seed_all_cb, tracker.manual_seed_cb, list(tracker.call_order))
    try:
        shell.run_line_magic("seed", "10")
        shell.run_cell("%%seeded 3\ntorch.rand(1)")
        shell.run_line_magic("seed", "")
        seedmagic.peek(3)
        seedmagic.snapshot().restore()
        assert not torch.cuda.is_initialized()
    finally:
        tracker.manual_seed_all_cb, tracker.manual_seed_cb, tracker.call_order = saved


# Threads ---------------------------------------------------------------------------


def test_seeding_while_another_thread_draws(lecture):
    errors: list[BaseException] = []
    stop = threading.Event()

    def drawing() -> None:
        try:
            while not stop.is_set():
                np.random.rand(3)
                np.random.randn(1)
                random.random()
                torch.rand(2)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    def seeding() -> None:
        try:
            for n in range(300):
                seedmagic.seed(n)
                with seedmagic.seeded(n + 1, keep=n % 2 == 0):
                    np.random.rand(1)
                seedmagic.peek(2)
                seedmagic.snapshot().restore()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    drawers = [threading.Thread(target=drawing) for _ in range(2)]
    seeder = threading.Thread(target=seeding)
    for thread in (*drawers, seeder):
        thread.start()
    seeder.join(timeout=120)
    stop.set()
    for thread in drawers:
        thread.join(timeout=30)
    assert errors == []
    assert seedmagic.session.book.scopes == []
    seedmagic.seed(10)  # the states are whole: the lecture's numbers come back
    assert np.random.rand(5).tolist() == lecture["numpy_global_seed_10"]["rand5_first"]
    assert torch.rand(5).tolist() == lecture["torch_manual_seed_10"]["rand5_first"]
    assert [random.random() for _ in range(5)] == lecture["python_random_seed_10"]["random5"]


def test_scopes_in_two_threads_at_once_leave_no_scope_open():
    seedmagic.seed(7)
    before = state_bytes()
    barrier = threading.Barrier(2)
    overlaps: list[str] = []

    def work(n: int) -> None:
        barrier.wait()
        for _ in range(200):
            try:
                with seedmagic.seeded(n):
                    np.random.rand(1)
            except seedmagic.SeedError as error:  # the scopes overlapped: said, never silent
                overlaps.append(str(error))

    threads = [threading.Thread(target=work, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seedmagic.session.book.scopes == []
    assert state_bytes() == before  # whatever interleaving happened, the state before the scopes is back
    assert all("drew from the global generators at once" in text or "overlapped" in text for text in overlaps)


def test_the_environment_only_carries_the_seed_in_force(monkeypatch):
    monkeypatch.delenv("SEEDMAGIC_SEED", raising=False)
    before = dict(os.environ)
    seedmagic.seed(3)
    assert os.environ["SEEDMAGIC_SEED"] == "3"
    with seedmagic.seeded(4):
        assert os.environ["SEEDMAGIC_SEED"] == "4"  # a process started inside the scope gets the scope's seed
    assert os.environ.pop("SEEDMAGIC_SEED") == "3"
    assert dict(os.environ) == before
