"""Light and lazy: nothing heavy is imported, late imports are seeded, fork is safe, and without torch or
ipywidgets the rest still works. Fresh interpreters."""

from __future__ import annotations

import json
import pathlib

import pytest

import seedmagic
from conftest import run_python

pytestmark = pytest.mark.slow  # each test starts a fresh interpreter

SHELL = """
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
"""


def test_load_ext_imports_neither_torch_nor_ipywidgets():
    out = run_python(SHELL + """
import sys
ip.run_line_magic("load_ext", "seedmagic")
ip.run_line_magic("seed", "10")
ip.run_line_magic("seed", "")
ip.run_line_magic("config", "SeedMagics.peek = 8")
print(sorted(m for m in ("torch", "ipywidgets", "numpy") if m in sys.modules))
""")
    assert out.splitlines()[-1] == "[]"


def test_load_ext_imports_only_the_glue_and_the_first_magic_brings_the_core():
    out = run_python(SHELL + """
import sys, seedmagic
core = ("seedmagic.core", "seedmagic.scopes", "seedmagic.snapshots", "seedmagic.statefile", "seedmagic.processes",
        "seedmagic.events")
ip.run_line_magic("load_ext", "seedmagic")
print(sorted(m for m in core if m in sys.modules))
ip.run_cell("%%seeded 3\\nx = 1")
print(sorted(m for m in core[:3] if m not in sys.modules))
""")
    assert out.splitlines()[-2:] == ["[]", "[]"]


def test_every_public_name_is_there_on_first_use():
    out = run_python("""
import seedmagic
missing = [name for name in seedmagic.__all__ if not hasattr(seedmagic, name)]
from seedmagic import Event, SeedError, Snapshot, seeded, spawn, worker_init_fn
unknown = None
try:
    seedmagic.no_such_name
except AttributeError as error:
    unknown = str(error)
print(missing, set(seedmagic.__all__) <= set(dir(seedmagic)), unknown)
print(seedmagic.seeded is seedmagic.core.seeded, seedmagic.Event is seedmagic.events.Event)
""")
    assert out.splitlines()[-2:] == ["[] True module 'seedmagic' has no attribute 'no_such_name'", "True True"]


def test_submodules_and_the_old_home_of_event_are_reached_as_before():
    out = run_python("""
import pickle, seedmagic
print(seedmagic.core.seeded is seedmagic.seeded, seedmagic.snapshots.Snapshot is seedmagic.Snapshot)
from seedmagic.session import Event  # where Event lived before 0.3: pickled histories name it
print(pickle.loads(pickle.dumps(Event(None, "seed()", 3, ("random",), "global"))).seed)
""")
    assert out.splitlines()[-2:] == ["True True", "3"]


def test_every_submodule_is_reached_as_an_attribute():
    """``_SUBMODULES`` is kept by hand: a module added to the package must be listed there too."""
    package = pathlib.Path(seedmagic.__file__).parent
    on_disk = {path.stem for path in package.glob("*.py") if path.stem not in ("__init__", "__main__")}
    on_disk |= {path.parent.name for path in package.glob("*/__init__.py")}
    assert seedmagic._SUBMODULES == on_disk
    out = run_python("import seedmagic\n"
                     f"print(all(type(getattr(seedmagic, name)).__name__ == 'module' for name in {sorted(on_disk)!r}))")
    assert out.splitlines()[-1] == "True"


def test_a_bit_generator_swapped_in_a_scope_that_imported_numpy_goes_with_the_scope():
    """NumPy imported inside the scope, with a seed due: after it NumPy is as that seed leaves a fresh import."""
    out = run_python("""
import json, seedmagic
seedmagic.seed(10)  # NumPy is not imported: its seed is due
with seedmagic.seeded(3):
    import numpy as np
    np.random.set_bit_generator(np.random.PCG64(1))
print(json.dumps([type(np.random.get_bit_generator()).__name__, np.random.rand(3).tolist(),
                  np.random.RandomState(10).rand(3).tolist()]))
""")
    kind, after, expected = json.loads(out.splitlines()[-1])
    assert kind == "MT19937" and after == expected


def test_torch_and_numpy_imported_after_seed_are_seeded_at_import(lecture):
    out = run_python(SHELL + """
import json
ip.run_line_magic("load_ext", "seedmagic")
ip.run_line_magic("seed", "10")
ip.run_cell("import torch, numpy as np\\nfirst = torch.rand(5).tolist(); drawn = np.random.rand(5).tolist()")
print(json.dumps([ip.user_ns["first"], ip.user_ns["drawn"]]))
""")
    torch_draws, numpy_draws = json.loads(out.splitlines()[-1])
    assert torch_draws == lecture["torch_manual_seed_10"]["rand5_first"]
    assert numpy_draws == lecture["numpy_global_seed_10"]["rand5_first"]


def test_import_inside_a_seeded_cell_is_seeded_then_put_back_as_freshly_imported():
    code = SHELL + """
import json
ip.run_line_magic("load_ext", "seedmagic")
ip.run_cell("%%seeded 10\\nimport torch\\ninside = torch.rand(3).tolist()")
import torch
after = torch.rand(3).tolist()
torch.manual_seed(10)
expected_inside = torch.rand(3).tolist()
default = torch.Generator().manual_seed(67280421310721)
print(json.dumps([ip.user_ns["inside"] == expected_inside, after, torch.rand(3, generator=default).tolist()]))
"""
    runs = [json.loads(run_python(code).splitlines()[-1]) for _ in range(2)]
    assert all(inside_ok for inside_ok, _, _ in runs)
    # After the scope torch is as a fresh import left it: seeded from entropy, so two sessions differ,
    # and neither is in a fixed "start-up" state.
    assert runs[0][1] != runs[1][1]
    assert all(after != default for _, after, default in runs)


def test_import_hook_goes_once_everything_is_imported_and_stays_while_a_seed_is_due():
    out = run_python(SHELL + """
import sys
from seedmagic.importhook import installed as import_hook_installed
ip.run_line_magic("load_ext", "seedmagic")
ip.run_line_magic("seed", "10")
print(import_hook_installed())
import numpy, torch
print(import_hook_installed())
ip.run_line_magic("unload_ext", "seedmagic")
del sys.modules["torch"]
""")
    assert out.split() == ["True", "False"]
    out = run_python(SHELL + """
import sys
from seedmagic.importhook import installed as import_hook_installed
ip.run_line_magic("load_ext", "seedmagic")
ip.run_line_magic("seed", "10")
ip.run_line_magic("unload_ext", "seedmagic")
print(import_hook_installed(), sum(type(f).__name__ == "_SeedOnImport" for f in sys.meta_path))
import numpy as np
print(np.random.get_state()[1][:3].tolist() == np.random.RandomState(10).get_state()[1][:3].tolist())
""")
    assert out.split() == ["True", "1", "True"]  # unloading the magics does not take back a seed already promised


def test_fork_after_seed_works_and_cuda_is_never_initialised():
    out = run_python(SHELL + """
import os, torch
ip.run_line_magic("load_ext", "seedmagic")
ip.run_line_magic("seed", "10")
ip.run_cell("%%seeded 3\\ntorch.rand(2)")
ip.run_line_magic("seed", "")
assert not torch.cuda.is_initialized()
pid = os.fork()
if pid == 0:
    torch.manual_seed(10)
    expected = torch.rand(2)
    ip.run_line_magic("seed", "10")
    os._exit(0 if torch.equal(torch.rand(2), expected) else 1)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status), torch.cuda.is_initialized())
""")
    assert out.split()[-2:] == ["0", "False"]


def test_the_core_imports_no_ipython_and_works_in_a_plain_script(lecture):
    out = run_python("""
import sys, json
import seedmagic
seedmagic.seed(10)
import numpy as np
with seedmagic.seeded(3):
    np.random.rand(2)
print(json.dumps([np.random.rand(5).tolist(), sorted(m for m in ("IPython", "ipywidgets", "torch") if m in sys.modules)]))
""")
    draws, heavy = json.loads(out)
    assert draws == lecture["numpy_global_seed_10"]["rand5_first"]
    assert heavy == []


def test_an_install_during_the_session_is_seen(tmp_path, monkeypatch):
    """Whether a library is installed is remembered only while the path's folders are unchanged."""
    from seedmagic.adapters import is_installed

    monkeypatch.syspath_prepend(str(tmp_path))
    assert not is_installed("seedmagic_install_probe")
    assert not is_installed("seedmagic_install_probe")  # asked again: answered from what was found
    (tmp_path / "seedmagic_install_probe.py").write_text("")  # what %pip install does to a folder on the path
    assert is_installed("seedmagic_install_probe")
    (tmp_path / "seedmagic_install_probe.py").unlink()
    assert not is_installed("seedmagic_install_probe")


def test_an_uninstall_during_the_session_is_seen_for_a_package_and_a_namespace_package(tmp_path, monkeypatch):
    """A library found is remembered while the file it was found at is there; one without a file (a namespace
    package) while the path's folders are unchanged."""
    from seedmagic.adapters import is_installed

    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "seedmagic_probe_package").mkdir()
    (tmp_path / "seedmagic_probe_package" / "__init__.py").write_text("")
    (tmp_path / "seedmagic_probe_namespace").mkdir()
    assert is_installed("seedmagic_probe_package") and is_installed("seedmagic_probe_namespace")
    assert is_installed("seedmagic_probe_package") and is_installed("seedmagic_probe_namespace")  # remembered
    (tmp_path / "seedmagic_probe_package" / "__init__.py").unlink()
    (tmp_path / "seedmagic_probe_package").rmdir()
    (tmp_path / "seedmagic_probe_namespace").rmdir()
    assert not is_installed("seedmagic_probe_package") and not is_installed("seedmagic_probe_namespace")


def test_a_library_found_through_the_working_folder_is_looked_for_again_in_another(tmp_path, monkeypatch):
    """A notebook's folder is on the path as ''; after os.chdir that entry means another folder."""
    from seedmagic.adapters import is_installed

    (tmp_path / "here").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "here" / "seedmagic_probe_local.py").write_text("")
    monkeypatch.syspath_prepend("")
    monkeypatch.chdir(tmp_path / "here")
    assert is_installed("seedmagic_probe_local")
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert not is_installed("seedmagic_probe_local")
    monkeypatch.chdir(tmp_path / "here")
    assert is_installed("seedmagic_probe_local")
    (tmp_path / "elsewhere").rmdir()  # a working folder removed meanwhile: looked for without it
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").rmdir()
    assert not is_installed("seedmagic_probe_local")


def test_a_library_in_a_zip_is_remembered(tmp_path, monkeypatch):
    """Its file is inside the archive, never on disk: it is remembered while the path's folders are unchanged."""
    import zipfile

    from seedmagic.adapters import detect

    archive = tmp_path / "libs.zip"
    with zipfile.ZipFile(archive, "w") as libs:
        libs.writestr("seedmagic_probe_zipped.py", "")
    monkeypatch.syspath_prepend(str(archive))
    searches = []
    monkeypatch.setattr(detect, "_location", lambda module, search=detect._location: searches.append(module) or
                        search(module))
    assert detect.is_installed("seedmagic_probe_zipped") and detect.is_installed("seedmagic_probe_zipped")
    assert searches == ["seedmagic_probe_zipped"]


def test_history_names_what_generators_names_before_torch_is_imported():
    out = run_python(SHELL + """
import seedmagic
ip.run_line_magic("load_ext", "seedmagic")
ip.run_line_magic("seed", "10")
ip.run_cell("%%seeded 3\\nx = 1")
print(seedmagic.generators(), [list(e.generators) for e in seedmagic.history()])
""")
    listed, recorded = out.splitlines()[-1].split("] [")
    assert "torch.cuda" not in listed and "torch.cuda" not in recorded and "torch.mps" not in recorded
    assert "'torch'" in listed and "'torch'" in recorded


# Without the optional libraries -------------------------------------------------


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


@pytest.mark.slow
def test_a_first_import_racing_a_seed_does_not_deadlock():
    """A thread imports numpy for the first time while another seeds in a loop (numpy's import lock vs ours)."""
    out = run_python("""
import sys, threading, seedmagic
seedmagic.seed(5, skip="torch")  # numpy is due seed 5: its import runs seedmagic's hook
done = threading.Event()
def seeder():
    while not done.is_set():
        seedmagic.seed(5, skip="torch")
thread = threading.Thread(target=seeder)
thread.start()
import numpy as np
done.set()
thread.join()
print((np.random.get_state()[1] == np.random.RandomState(5).get_state()[1]).all())
""", timeout=60)
    assert out.strip().endswith("True")


def test_a_snapshot_restored_before_its_library_is_imported_seeds_it_on_import():
    """A snapshot taken before NumPy was imported (here: in "another process", whose seeds are forgotten)."""
    out = run_python("""
import json, seedmagic
from seedmagic.session import book
seedmagic.seed(7)
snapshot = seedmagic.snapshot()  # NumPy not imported: its entry is the seed it was due
seedmagic.importhook.remove()
book.seeds.clear()
snapshot.restore()
import numpy as np
print(json.dumps([np.random.rand(3).tolist(), np.random.RandomState(7).rand(3).tolist()]))
""")
    restored, expected = json.loads(out.splitlines()[-1])
    assert restored == expected

