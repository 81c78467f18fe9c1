"""``seedmagic check``: small notebooks run in real kernels, the command line, the record and the pytest plugin.

Kernel runs are slow on two cores, so each fixture checks several notebooks
at once and the tests read its results.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import types

import nbformat
import pytest
from conftest import ROOT, run_python
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from seedmagic import check as checking

NOTEBOOKS = ROOT / "tests" / "notebooks"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def cli(*args: str, cwd: pathlib.Path = ROOT, timeout: float = 170,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "seedmagic", "check", *args], capture_output=True, text=True,
                          cwd=cwd, env=env or ENV, timeout=timeout)


def snapshot(path: pathlib.Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


# Without kernels ------------------------------------------------------------------------------------


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_elsewhere():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream in (Terminal(), io.StringIO()):
        progress = checking.Progress(stream)
        progress.start("a.ipynb", 4, 2)
        progress.step("a.ipynb", 0, 4)
        progress.step("a.ipynb", 1, 2)
        progress.finish(checking.Result("a.ipynb", checking.REPRODUCIBLE, seconds=1.5))
        text = stream.getvalue()
        if isinstance(stream, Terminal):
            assert "\r\033[K[##########----------] a.ipynb 2/4" in text  # the slower run sets the bar
        else:
            assert text == ("seedmagic check: a.ipynb: 2 kernels, 4 code cells\n"
                            "seedmagic check: a.ipynb: reproducible (1.5 s)\n")


def test_importing_the_check_imports_neither_nbclient_nor_nbformat():
    out = run_python("""
        import sys, seedmagic, seedmagic.check, seedmagic.probe, seedmagic.pytest_plugin
        heavy = ("nbclient", "nbformat", "jupyter_client", "torch", "numpy")
        print(sorted(name for name in heavy if name in sys.modules))
    """)
    assert out.strip() == "[]"


@pytest.mark.slow
def test_bad_input_that_needs_no_kernel_gets_one_line_each_and_exit_2(tmp_path):
    (tmp_path / "text.ipynb").write_text("hello, not JSON")
    nbformat.write(new_notebook(cells=[new_markdown_cell("# prose only")]), tmp_path / "prose.ipynb")
    nbformat.write(new_notebook(cells=[new_code_cell("1 + 1")], metadata={"kernelspec": {
        "name": "no-such-kernel", "display_name": "?", "language": "python"}}), tmp_path / "kernel.ipynb")
    os.mkfifo(tmp_path / "pipe.ipynb")  # opening it would wait for a writer for ever
    files = ["missing.ipynb", "text.ipynb", "prose.ipynb", "kernel.ipynb", "pipe.ipynb"]
    before = {name: snapshot(tmp_path / name) for name in files[1:4]}
    done = cli("--record", *files, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "seedmagic check: missing.ipynb: no such file",
        "seedmagic check: text.ipynb: not a Jupyter notebook (Notebook does not appear to be JSON: "
        "'hello, not JSON')",
        "seedmagic check: prose.ipynb: no code cells, nothing to check",
        "seedmagic check: kernel.ipynb: no kernel named 'no-such-kernel' is installed (named by the notebook's "
        "metadata; installed: python3); pass --kernel NAME",
        "seedmagic check: pipe.ipynb: not a regular file (a pipe, a device or a socket), not opened",
    ]
    assert {name: snapshot(tmp_path / name) for name in files[1:4]} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(files[1:])  # no temporary files left
    unknown = cli("--kernel", "no-such-kernel", str(NOTEBOOKS / "seeded.ipynb"))
    assert unknown.returncode == 2
    assert unknown.stderr.strip().endswith("no kernel named 'no-such-kernel' is installed (named by --kernel; "
                                           "installed: python3); pass --kernel NAME")
    usage = subprocess.run([sys.executable, "-m", "seedmagic"], capture_output=True, text=True, env=ENV)
    assert usage.returncode == 2 and "check" in usage.stderr


# Notebooks in real kernels -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checked() -> dict[str, checking.Result]:
    """Two fresh runs of each small notebook (one check, reused by the tests below)."""
    names = ["seeded", "unseeded_numpy", "unseeded_torch", "default_rng", "clock", "rerun_shift", "entropy_scope",
             "rng_in_list"]
    results = checking.check([NOTEBOOKS / f"{name}.ipynb" for name in names])
    return dict(zip(names, results, strict=True))


@pytest.mark.notebook
def test_a_fully_seeded_notebook_reproduces(checked):
    result = checked["seeded"]
    assert result.status == "reproducible", result
    assert result.exit_code == 0
    assert result.to_json() == {
        "notebook": str(NOTEBOOKS / "seeded.ipynb"), "reproducible": True, "status": "reproducible",
        "first_divergent_cell": None, "generator": None, "cause": None,
        "reason": "two fresh runs gave identical outputs and generator states after all 6 code cells", "fix": None,
        "later_cells": [], "outputs": None, "note": None}


@pytest.mark.notebook
def test_an_unseeded_numpy_cell_is_named_not_the_import_before_it(checked):
    """Cell 1 imports NumPy (seeded from OS entropy, differently in each kernel): not a divergence yet."""
    result = checked["unseeded_numpy"]
    assert (result.status, result.cell, result.generator) == ("not reproducible", 4, "numpy")
    assert result.reason == "cell 4 (In [3]) drew from numpy while no seed controlled it"
    # The notebook never loads seedmagic: the fix says to, or to seed NumPy by hand.
    assert result.fix == ("add `%load_ext seedmagic` and `%seed N` at the top of the notebook (or "
                          "`np.random.seed(N)` above this cell)")
    assert result.later == (5,)
    assert result.outputs is not None and result.outputs["first"] != result.outputs["second"]
    assert result.evidence[0] == f"first run:  {result.outputs['first'].strip()}"
    assert result.exit_code == 1


@pytest.mark.notebook
def test_an_unseeded_torch_cell_is_named(checked):
    result = checked["unseeded_torch"]
    assert (result.status, result.cell, result.generator) == ("not reproducible", 1, "torch")
    assert result.reason == "cell 1 (In [2]) drew from torch while no seed controlled it"


@pytest.mark.notebook
def test_default_rng_without_a_seed_is_named_at_its_creation(checked):
    result = checked["default_rng"]
    assert (result.status, result.cell, result.generator) == ("not reproducible", 2, "rng")
    assert result.reason == "cell 2 (In [3]) created `rng = np.random.default_rng()` without a seed"
    assert result.fix == "give it a seed: `np.random.default_rng(N)`"


@pytest.mark.notebook
def test_a_generator_held_in_a_list_is_found(checked):
    result = checked["rng_in_list"]
    assert (result.status, result.cell, result.generator) == ("not reproducible", 2, "rngs[0]"), result


@pytest.mark.notebook
def test_outputs_that_differ_with_equal_states_are_not_blamed_on_a_generator(checked):
    result = checked["clock"]
    assert (result.status, result.cell, result.generator) == ("not reproducible", 2, None)
    assert result.cause == "value"
    assert result.reason == ("cell 2 (In [3]) prints the result of `time.time()`, which comes from the clock and "
                             "differs between runs")


@pytest.mark.notebook
def test_a_scope_seeded_from_entropy_is_named_though_it_restores_every_generator(checked):
    result = checked["entropy_scope"]
    assert (result.status, result.cell) == ("not reproducible", 1)
    assert result.reason.startswith("cell 1 (In [2]) ran under a seed drawn from OS entropy (")
    assert result.fix.startswith("give it the seed: `%%seeded ")


@pytest.mark.notebook
def test_a_notebook_whose_reruns_shift_draws_still_reproduces_when_run_straight(checked):
    assert checked["rerun_shift"].status == "reproducible"


@pytest.mark.notebook
def test_rerun_names_the_cell_whose_rerun_shifts_later_draws_and_seeded_fixes_it():
    shifting, seeded = checking.check([NOTEBOOKS / "rerun_shift.ipynb", NOTEBOOKS / "rerun_seeded.ipynb"],
                                      checking.Options(rerun=True))
    assert (shifting.status, shifting.cell, shifting.generator) == ("not reproducible", 2, "numpy")
    assert shifting.reason == "rerunning cell 1 moved numpy, which shifts the draws of cell 2 (In [3])"
    assert shifting.fix == "run cell 1 under `%%seeded N`"
    assert seeded.status == "reproducible", seeded
    assert seeded.reason.startswith("a fresh run and one that reran every cell gave identical outputs")


@pytest.mark.notebook
def test_record_then_compare_with_a_changed_numpy_stream(tmp_path):
    """A record made here, then checked as if it came from NumPy 1.26.4 with another stream.

    The version change is simulated by editing the record: its NumPy
    version becomes 1.26.4 and the fingerprint of the first cell that drew
    from NumPy is replaced, as a NumPy with another stream would have
    recorded it.
    """
    path = tmp_path / "seeded.ipynb"
    shutil.copy(NOTEBOOKS / "seeded.ipynb", path)
    cells_before = json.loads(path.read_text())["cells"]
    done = cli("--record", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "recorded the fingerprints of 6 code cells into metadata.seedmagic" in done.stdout
    document = json.loads(path.read_text())
    assert document["cells"] == cells_before  # outputs, counts and sources untouched
    record = document["metadata"]["seedmagic"]
    assert record["versions"]["numpy"] and record["versions"]["torch"] is None  # the notebook never imports torch
    assert len(json.dumps(record)) < 120 * len(record["cells"]) + 300  # bytes per cell, not outputs
    assert [cell["cell"] for cell in record["cells"]] == [1, 2, 3, 4, 5, 6]

    notebook = nbformat.read(path, as_version=4)
    changed = notebook.metadata.seedmagic
    actual = changed.versions.numpy
    changed.versions.numpy = "1.26.4"
    drawing = next(cell for cell in changed.cells if cell.cell == 3)
    drawing.draws.numpy = "0badc0de"
    nbformat.write(notebook, path)
    before = snapshot(path)
    done = cli("--json", str(path))
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert (report["reproducible"], report["first_divergent_cell"], report["generator"]) == (False, 3, "numpy")
    assert report["reason"] == (f"cell 3 (In [3]) drew other numbers from numpy than when the notebook was recorded: "
                                f"numpy 1.26.4 → {actual}: NumPy does not promise the same stream across versions")
    assert snapshot(path) == before  # a check without --record writes nothing


@pytest.mark.notebook
@pytest.mark.slow
def test_every_example_notebook_passes_the_command_line_check():
    paths = sorted((ROOT / "examples").glob("*.ipynb"))
    paths = [path for path in paths if not path.name.endswith(".executed.ipynb")]
    assert {path.name for path in paths} >= {"quickstart.ipynb", "reproducible-training.ipynb", "distributed.ipynb"}
    before = [snapshot(path) for path in paths]
    done = cli(*(str(path.relative_to(ROOT)) for path in paths), timeout=400)
    (ROOT / "examples" / "training-state.json").unlink(missing_ok=True)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = done.stdout.splitlines()
    assert rows[0].split() == ["notebook", "result", "cell", "cause", "time"]
    assert [row.split()[:2] for row in rows[1:1 + len(paths)]] == [[str(path.relative_to(ROOT)), "reproducible"]
                                                                   for path in paths]
    assert "seedmagic check: examples/quickstart.ipynb: 2 kernels" in done.stderr  # plain progress, not a TTY
    assert [snapshot(path) for path in paths] == before


@pytest.mark.notebook
def test_a_hanging_cell_is_bad_input_and_record_writes_nothing(tmp_path):
    path = tmp_path / "hang.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("import time\ntime.sleep(120)")]), path)
    raising = tmp_path / "raises.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("undefined_name + 1")]), raising)
    before = snapshot(path), snapshot(raising)
    done = cli("--record", "--timeout", "2", "--json", str(path), str(raising))
    assert done.returncode == 2
    reports = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(report["status"], report["first_divergent_cell"]) for report in reports] == [("error", None),
                                                                                           ("error", 1)]
    assert done.stderr.splitlines()[-2:] == [
        f"seedmagic check: {path}: cell 1 (In [2]) did not finish within 2 s (--timeout)",
        f"seedmagic check: {raising}: cell 1 (In [2]) raised NameError: name 'undefined_name' is not defined in both "
        "runs; fix: fix the cell, or tag it raises-exception if the error is expected"]
    assert (snapshot(path), snapshot(raising)) == before
    assert sorted(item.name for item in tmp_path.iterdir()) == ["hang.ipynb", "raises.ipynb"]


@pytest.mark.notebook
def test_the_pytest_plugin_reports_each_notebook_as_a_test(tmp_path):
    for name in ("seeded", "unseeded_numpy"):
        shutil.copy(NOTEBOOKS / f"{name}.ipynb", tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:seedmagic",
         "-p", "seedmagic.pytest_plugin", "--seedmagic-check", "-c", os.devnull, "--rootdir", str(tmp_path), "-rA", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, env=ENV, timeout=170)
    assert done.returncode == 1, done.stdout
    assert "PASSED seeded.ipynb::seedmagic-check" in done.stdout
    assert "FAILED unseeded_numpy.ipynb::seedmagic-check" in done.stdout
    assert "unseeded_numpy.ipynb: cell 4 (In [3]) drew from numpy while no seed controlled it" in done.stdout
    assert "1 failed, 1 passed" in done.stdout


# Known answers for every cause, in real kernels --------------------------------------------------------------

KERNELSPEC = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
KNOWN = {
    "no_load_ext": ["import numpy as np\n%seed 3", "print(np.random.rand(2))"],
    "entropy_reseed": ["import numpy as np\nnp.random.seed(0)", "np.random.seed()\nprint(np.random.rand(2))"],
    "torch_seed": ["import torch\ntorch.manual_seed(0)", "torch.seed()\nprint(torch.rand(2))"],
    "fork_rng": ["import torch", "with torch.random.fork_rng():\n    print(torch.rand(2))"],
    "get_set_state": ["import numpy as np", "state = np.random.get_state()\nprint(np.random.rand(2))\n"
                                            "np.random.set_state(state)"],
    "varying_draws": ["import numpy as np, os\nnp.random.seed(0)",
                      # As many draws as the kernel's pid, which differs between the runs (a smaller varying
                      # count, such as a byte of os.urandom % 5, agrees between the runs by chance).
                      "np.random.rand(os.getpid())",
                      "print(np.random.rand())"],
    "hash_order": ["words = 'the quick brown fox jumps over the lazy dog'.split()", "print(list(set(words)))"],
    "clock_value": ["import time\nt = time.time_ns() // 1000\nstart = time.time()", "x = 1", "y = t % 1000000",
                    "print(y)", "print('took', 'a while')"],
    # The kernel's pid differs between the runs; `;` keeps write_text's count (the pid's length) from displaying.
    "changing_file": ["import pathlib, os\np = pathlib.Path(f'counter-{os.getpid()}.txt')\n"
                      "n = os.getpid()\np.write_text(str(n));",
                      "m = int(p.read_text())\np.unlink()", "print(m)"],
    "warning": ["import warnings\nwarnings.warn('careful')", "import numpy as np\nnp.random.seed(1)\n"
                                                            "print(np.random.rand(2))"],
    "empty_error": ["raise ValueError()"],
    "megabyte": ["print('x' * 2_000_000)", "import numpy as np\nnp.random.seed(2)\nprint('7' * 2_000_000, "
                                           "np.random.rand())"],
    "seeded_by_hand": ["import random, numpy as np\nrandom.seed(1); np.random.seed(1)",
                       "print(random.random(), np.random.rand())"],
    # The fix for varying draws, followed to the letter: the cell reseeds numpy as its last line.
    "varying_reseeded_at_end": ["import numpy as np, os", "np.random.seed(0)\nnp.random.rand(os.getpid());\n"
                                "np.random.seed(1)", "print(np.random.rand())"],
    # A set_seed helper defined with the imports and never called.
    "helper_uncalled": ["import numpy as np, torch\ndef set_seed(s):\n    np.random.seed(s)\n    torch.manual_seed(s)",
                        "print(np.random.rand())"],
    # Seeded in a cell of its own below the import, as notebooks usually are.
    "hash_seed_after_import": ["import torch", "torch.manual_seed(hash('run-a') % 2**32)", "print(torch.rand(2))"],
    "timeit_after_import": ["import numpy as np", "np.random.seed(0)\n%timeit -r 2 np.random.rand(100)",
                            "print(np.random.rand())"],
    "varying_after_seed": ["import numpy as np, os", "np.random.seed(0)\nnp.random.rand(os.getpid());",
                           "print(np.random.rand())"],
    # hash() seeds through a helper, seedmagic, the magic and a module alias: each seeds, from a varying value
    "hash_through_helper": ["import numpy as np\ndef set_seed(s):\n    np.random.seed(s)",
                            "set_seed(hash('experiment') % 2**32)", "print(np.random.rand(2))"],
    "hash_through_seedmagic": ["import numpy as np\nimport seedmagic", "seedmagic.seed(hash('experiment') % 2**32)",
                               "print(np.random.rand(2))"],
    "hash_through_magic": ["import numpy as np\n%load_ext seedmagic", "%seed {hash('experiment') % 2**32}",
                           "print(np.random.rand(2))"],
    "hash_through_alias": ["import numpy as np\nnpr = np.random", "npr.seed(hash('experiment') % 2**32)",
                           "print(npr.rand(2))"],
}


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> dict[str, checking.Result]:
    folder = tmp_path_factory.mktemp("known")
    for name, sources in KNOWN.items():
        nbformat.write(new_notebook(cells=[new_code_cell(source) for source in sources], metadata=KERNELSPEC),
                       folder / f"{name}.ipynb")
    results = checking.check([folder / f"{name}.ipynb" for name in KNOWN])
    return dict(zip(KNOWN, results, strict=True))


@pytest.mark.notebook
def test_a_notebook_that_forgets_load_ext_fails_as_in_jupyter_and_the_fix_says_to_load_it(known):
    result = known["no_load_ext"]
    assert (result.status, result.cell, result.exit_code) == ("error", 0, 2)
    assert result.reason == "cell 0 (In [1]) raised UsageError: Line magic function `%seed` not found. in both runs"
    assert result.fix.startswith("add `%load_ext seedmagic` above it")


@pytest.mark.notebook
def test_a_cell_that_reseeds_from_entropy_is_named_with_its_line(known):
    assert known["entropy_reseed"].reason == "cell 1 (In [2]) reseeds numpy from OS entropy (`np.random.seed()`)"
    assert known["entropy_reseed"].fix == "give it a seed: `np.random.seed(N)` (or `%seed N`)"
    assert known["torch_seed"].reason == "cell 1 (In [2]) reseeds torch from OS entropy (`torch.seed()`)"


@pytest.mark.notebook
def test_draws_undone_by_fork_rng_or_set_state_are_traced_to_the_unseeded_generator(known):
    for name, generator in (("fork_rng", "torch"), ("get_set_state", "numpy")):
        result = known[name]
        assert (result.cell, result.generator) == (1, generator), result
        assert result.reason.startswith(f"cell 1 (In [2]) draws from {generator} inside a block that puts its state "
                                        "back")


@pytest.mark.notebook
def test_a_cell_that_draws_a_varying_number_of_times_is_named_not_something_before_it(known):
    result = known["varying_draws"]
    assert (result.cell, result.generator, result.later) == (1, "numpy", (2,)), result
    assert result.reason.startswith("cell 1 (In [2]) started with numpy in the same state in both runs and left it "
                                    "in different states")


@pytest.mark.notebook
def test_a_seeding_below_the_import_is_blamed_not_the_import(known):
    hashed = known["hash_seed_after_import"]
    assert (hashed.cell, hashed.generator) == (1, "torch"), hashed
    assert hashed.reason.startswith("cell 1 (In [2]) seeds torch from `hash()` (`torch.manual_seed(hash('run-a') % "
                                    "2**32)`)"), hashed.reason
    timed = known["timeit_after_import"]  # the loop counts may agree by chance: the same cell and reason then
    assert (timed.status, timed.cell, timed.generator) == ("not reproducible", 1, "numpy"), timed
    assert timed.reason.startswith("cell 1 (In [2]) times draws from numpy (`%timeit -r 2 np.random.rand(100)`)")
    uncalled = known["helper_uncalled"]
    assert uncalled.reason == "cell 1 (In [2]) drew from numpy while no seed controlled it", uncalled.reason
    varying = known["varying_after_seed"]
    assert (varying.cell, varying.generator) == (1, "numpy"), varying
    assert varying.reason.startswith("cell 1 (In [2]) seeds numpy by hand, yet leaves it in a different state in "
                                     "each run"), varying.reason


@pytest.mark.notebook
@pytest.mark.parametrize("name, generator, line", [
    ("hash_through_helper", "numpy", "set_seed(hash('experiment') % 2**32)"),
    ("hash_through_seedmagic", "random", "seedmagic.seed(hash('experiment') % 2**32)"),
    ("hash_through_magic", "random", "%seed {hash('experiment') % 2**32}"),
    ("hash_through_alias", "numpy", "npr.seed(hash('experiment') % 2**32)"),
])
def test_a_hash_seed_through_a_helper_seedmagic_or_an_alias_is_named(known, name, generator, line):
    """Before, these read as "no seed controlled it" or "seeds it by hand, yet...", and the fix asked for a seed."""
    result = known[name]
    assert (result.cell, result.generator) == (1, generator), result
    assert result.reason.startswith(f"cell 1 (In [2]) seeds {generator} from `hash()` (`{line}`)"), result.reason
    assert "PYTHONHASHSEED" in result.fix


@pytest.mark.notebook
def test_str_hash_order_is_found_by_a_third_kernel(known):
    result = known["hash_order"]
    assert (result.cell, result.cause) == (1, "hash-order"), result
    assert "pin PYTHONHASHSEED in the kernelspec's env" in result.fix


@pytest.mark.notebook
def test_a_value_from_the_clock_or_a_file_is_traced_to_its_cell_and_line(known):
    clock = known["clock_value"]
    assert (clock.cell, clock.cause, clock.later) == (3, "value", ()), clock
    assert clock.reason == ("cell 3 (In [4]) prints `y`, computed in cell 2 from `t`, which first differed after "
                            "cell 0 (`t = time.time_ns() // 1000`)")
    data = known["changing_file"]
    assert (data.cell, data.cause) == (2, "value"), data
    assert data.reason == ("cell 2 (In [3]) prints `m`, computed in cell 1 from `p`, which first differed after cell 0 "
                           "(`p = pathlib.Path(f'counter-{os.getpid()}.txt')`)")


@pytest.mark.notebook
def test_no_false_alarms_from_warnings_megabyte_lines_or_hand_seeding(known):
    for name in ("warning", "megabyte", "seeded_by_hand", "varying_reseeded_at_end"):
        assert known[name].status == "reproducible", known[name]


@pytest.mark.notebook
def test_an_empty_exception_message_prints_as_the_exceptions_name(known):
    assert known["empty_error"].reason == "cell 0 (In [1]) raised ValueError in both runs"


#: Seeds with the seed the parent published (SEEDMAGIC_SEED), else from entropy: reproducible only by inheriting.
PUBLISHED = ["import seedmagic, numpy as np\nseedmagic.seed_process()", "print(np.random.rand())"]


@pytest.mark.notebook
def test_kernels_inherit_nothing_of_seedmagic_from_the_caller(tmp_path, monkeypatch):
    path = tmp_path / "published.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(source) for source in PUBLISHED], metadata=KERNELSPEC), path)
    done = cli("--json", "--quiet", str(path), env={**ENV, "SEEDMAGIC_SEED": "10", "SEEDMAGIC_RANK": "0"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert json.loads(done.stdout)["first_divergent_cell"] == 0
    monkeypatch.setenv("SEEDMAGIC_SEED", "10")
    environment = checking.kernel_environment("5")
    assert "SEEDMAGIC_SEED" not in environment and environment["PYTHONHASHSEED"] == "5"


@pytest.mark.notebook
def test_rerun_names_the_drawing_cell_when_the_divergent_cell_only_prints_a_variable(tmp_path):
    path = tmp_path / "rerun_print.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("import numpy as np\nnp.random.seed(0)"),
                                       new_code_cell("x = np.random.rand(3)"), new_code_cell("print(x)"),
                                       new_code_cell("print('constant')")], metadata=KERNELSPEC), path)
    done = cli("--rerun", "--json", "--quiet", str(path))
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert (report["first_divergent_cell"], report["generator"], report["later_cells"]) == (2, "numpy", [])
    assert report["reason"] == ("cell 2 (In [3]) prints `x`, which first differed after cell 1 "
                                "(`x = np.random.rand(3)`): rerunning cell 1 draws new numbers from numpy (its first "
                                "run moved numpy)")
    assert report["outputs"]["first"] != report["outputs"]["second"]


@pytest.mark.notebook
def test_rerun_names_a_cell_that_changes_a_value_again_or_raises_when_run_twice(tmp_path):
    sources = {"append": ["items = []", "items.append(1)", "print(items)"],
               "mkdir": ["import os", "os.mkdir('made')", "print('ok')"]}
    for name, cells in sources.items():
        nbformat.write(new_notebook(cells=[new_code_cell(source) for source in cells], metadata=KERNELSPEC),
                       tmp_path / f"{name}.ipynb")
    append, mkdir = checking.check([tmp_path / f"{name}.ipynb" for name in sources], checking.Options(rerun=True))
    assert (append.cell, append.cause) == (2, "value"), append
    assert append.reason.endswith("rerunning cell 1 changes `items` again, so the cell is not safe to run twice")
    assert (mkdir.cell, mkdir.cause) == (1, "error"), mkdir
    assert mkdir.reason.startswith("rerunning cell 1 (In [2]) raised FileExistsError")


#: A kernel that starts only after a pause, or dies as it starts: it writes its pid, then sleeps or exits.
LATE_KERNEL = """
import os, pathlib, runpy, sys, time
pathlib.Path(os.environ["LATE_KERNEL_PIDS"], str(os.getpid())).touch()
if os.environ["LATE_KERNEL_MODE"] == "die":
    sys.exit("no GPU driver, says the kernel")
time.sleep(float(os.environ["LATE_KERNEL_MODE"]))
sys.argv = ["ipykernel_launcher", *sys.argv[1:]]
runpy.run_module("ipykernel_launcher", run_name="__main__")
"""


def late_kernel_env(tmp_path: pathlib.Path, mode: str) -> dict[str, str]:
    """An environment where kernel "late" runs LATE_KERNEL with ``mode`` (seconds to sleep, or "die")."""
    spec = tmp_path / "jupyter" / "kernels" / "late"
    spec.mkdir(parents=True, exist_ok=True)
    (tmp_path / "late_kernel.py").write_text(LATE_KERNEL)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(tmp_path / "late_kernel.py"), "-f", "{connection_file}"],
        "display_name": "late", "language": "python"}))
    (tmp_path / "pids").mkdir(exist_ok=True)
    return {**ENV, "JUPYTER_PATH": str(tmp_path / "jupyter"), "LATE_KERNEL_PIDS": str(tmp_path / "pids"),
            "LATE_KERNEL_MODE": mode}


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.notebook
def test_a_kernel_slow_to_start_gets_start_timeout_and_one_that_dies_starting_says_why(tmp_path):
    """A busy CI runner can take over nbclient's 60 s to start a kernel: the limit is --start-timeout's (300 s)."""
    notebook = str(NOTEBOOKS / "seeded.ipynb")
    slow = cli("--kernel", "late", "--start-timeout", "1", notebook, env=late_kernel_env(tmp_path, "20"))
    assert slow.returncode == 2, slow.stdout + slow.stderr
    assert f"seedmagic check: {notebook}: the kernel did not start within 1 s (--start-timeout)" in slow.stderr
    pids = [int(path.name) for path in (tmp_path / "pids").iterdir()]
    assert len(pids) == 2 and all(map(gone, pids))  # both kernels killed, none left sleeping
    shutil.copy(notebook, tmp_path / "pids" / "seeded.ipynb")
    plugin = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:seedmagic", "-p", "seedmagic.pytest_plugin",
         "--seedmagic-check", "--seedmagic-kernel", "late", "--seedmagic-start-timeout", "1", "-c", os.devnull,
         "--rootdir", str(tmp_path / "pids"), str(tmp_path / "pids")],
        capture_output=True, text=True, cwd=tmp_path, env=late_kernel_env(tmp_path, "20"), timeout=170)
    assert "the kernel did not start within 1 s (--start-timeout)" in plugin.stdout, plugin.stdout
    (tmp_path / "pids" / "seeded.ipynb").unlink()
    pids = [int(path.name) for path in (tmp_path / "pids").iterdir()]
    assert len(pids) == 4 and all(map(gone, pids))
    late = cli("--quiet", "--kernel", "late", notebook, env=late_kernel_env(tmp_path, "3"))
    assert late.returncode == 0, late.stdout + late.stderr
    dead = cli("--kernel", "late", notebook, env=late_kernel_env(tmp_path, "die"))
    assert dead.returncode == 2
    assert (f"seedmagic check: {notebook}: the kernel died as it started: no GPU driver, says the kernel"
            in dead.stderr), dead.stderr
    for bad in ("0", "nan", "soon"):
        refused = cli("--start-timeout", bad, notebook)
        assert refused.returncode == 2 and "--start-timeout" in refused.stderr
        for option in ("--seedmagic-start-timeout", "--seedmagic-timeout"):  # the plugin's, refused alike
            usage = subprocess.run(
                [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:seedmagic", "-p",
                 "seedmagic.pytest_plugin", "--seedmagic-check", option, bad, "-c", os.devnull, "--rootdir",
                 str(tmp_path), notebook], capture_output=True, text=True, cwd=tmp_path, env=ENV, timeout=170)
            assert usage.returncode == 4 and f"argument {option}: must be" in usage.stderr, usage.stderr
    with checking.folders.WorkingCopy(tmp_path / "pids") as copy:
        kernel = checking.kernels.Kernel(nbformat.read(notebook, as_version=4), pathlib.Path(notebook),
                                         checking.kernels.KernelChoice("python3", False), checking.Options(), None, copy)
    assert kernel.client.startup_timeout == checking.Options().start_timeout > 60  # the default: more than nbclient's


@pytest.mark.notebook
def test_the_command_line_behaves_timeouts_a_closed_stdout_and_version(tmp_path):
    version = subprocess.run([sys.executable, "-m", "seedmagic", "--version"], capture_output=True, text=True, env=ENV)
    assert version.returncode == 0 and version.stdout.strip() == f"seedmagic {seedmagic_version()}"
    for timeout in ("2.5", "1e12"):
        done = cli("--quiet", "--timeout", timeout, str(NOTEBOOKS / "seeded.ipynb"))
        assert done.returncode == 0, done.stderr
    for bad in ("0", "-1", "nan", "soon"):
        refused = cli("--timeout", bad, str(NOTEBOOKS / "seeded.ipynb"))
        assert refused.returncode == 2 and "--timeout" in refused.stderr
    reader = subprocess.Popen([sys.executable, "-m", "seedmagic", "check", "--json", "--quiet",
                               str(NOTEBOOKS / "unseeded_numpy.ipynb")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    assert reader.stdout is not None
    reader.stdout.close()  # as `| head -c 0` does
    _, errors = reader.communicate(timeout=170)
    assert reader.returncode == 1 and "Traceback" not in errors, errors


@pytest.mark.notebook
@pytest.mark.parametrize("wait, stop", [(0.0, signal.SIGINT), (0.5, signal.SIGINT), (4.0, signal.SIGINT),
                                        (4.0, signal.SIGTERM)])  # at once, while kernels start, in the sleeping cell
def test_ctrl_c_stops_within_seconds_kills_the_kernels_and_exits_130(tmp_path, wait, stop):
    """SIGTERM (a CI job's timeout) stops it as Ctrl-C does: kernels killed, the runs' copies of the folder gone."""
    path = tmp_path / "sleep.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("import time\ntime.sleep(120)")],
                                metadata=KERNELSPEC), path)
    marker = f"seedmagic-ctrl-c-{os.getpid()}-{wait}"
    running = subprocess.Popen([sys.executable, "-m", "seedmagic", "check", str(path)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**ENV, "SEEDMAGIC_TEST_MARK": marker})
    assert running.stderr is not None
    assert "2 kernels" in running.stderr.readline()
    time.sleep(wait)
    if wait > 1:
        assert kernels_marked(marker), "the kernels did not start"
    running.send_signal(stop)
    stopped = time.monotonic()
    out, errors = running.communicate(timeout=30)
    assert time.monotonic() - stopped < 10
    assert running.returncode == 130, errors
    assert errors.strip().splitlines()[-1] == "seedmagic check: interrupted" and "Traceback" not in errors
    assert kernels_marked(marker) == []
    assert not [path for path in tmp_path.parent.iterdir() if path.name.startswith(".seedmagic-run-")]


def test_sigterm_from_the_commands_first_line_says_interrupted_and_the_handlers_come_back(tmp_path):
    """A CI job's timeout can land while the command still imports (seconds on a busy runner): exit 130 with
    one line, not a death by signal; run in-process, the command gives the handlers it took back."""
    stopped = subprocess.run([sys.executable, "-c",
                              "import os, signal, sys, time, seedmagic.__main__ as command\n"
                              "command._main = lambda argv: (os.kill(os.getpid(), signal.SIGTERM), time.sleep(30))\n"
                              "sys.exit(command.main(['check', 'x.ipynb']))"],
                             capture_output=True, text=True, env=ENV, timeout=60)
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.strip() == "seedmagic check: interrupted"
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
    from seedmagic.__main__ import main

    assert main(["check", str(tmp_path / "missing.ipynb")]) == 2
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)) == before


@pytest.mark.notebook
def test_a_check_under_nohup_ignores_sighup(tmp_path):
    """``nohup seedmagic check`` in a terminal that closes: the check goes on, as the user asked."""
    path = tmp_path / "sleep.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("import time\ntime.sleep(3)")],
                                metadata=KERNELSPEC), path)
    running = subprocess.Popen([sys.executable, "-m", "seedmagic", "check", str(path)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=ENV,
                               preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    assert running.stderr is not None
    assert "2 kernels" in running.stderr.readline()
    time.sleep(2)
    running.send_signal(signal.SIGHUP)
    out, errors = running.communicate(timeout=170)
    assert running.returncode == 0, errors
    assert "reproducible" in out


def kernels_marked(marker: str) -> list[str]:
    """Processes whose environment holds ``marker`` (the kernels a check started), this test's process left out."""
    found = []
    for environ in pathlib.Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes() and environ.parent.name != str(os.getpid()):
                found.append(environ.parent.name)
        except OSError:
            continue
    return found


def seedmagic_version() -> str:
    import seedmagic

    return seedmagic.__version__


@pytest.mark.notebook
def test_the_pytest_plugin_in_a_process_that_has_seeded_first_checks_as_a_fresh_run(tmp_path):
    """`seedmagic.seed(10)` publishes SEEDMAGIC_SEED; the kernels must not inherit it."""
    nbformat.write(new_notebook(cells=[new_code_cell(source) for source in PUBLISHED], metadata=KERNELSPEC),
                   tmp_path / "published.ipynb")
    (tmp_path / "conftest.py").write_text("import seedmagic\nseedmagic.seed(10)\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:seedmagic", "-p", "seedmagic.pytest_plugin",
         "--seedmagic-check", "-c", os.devnull, "--rootdir", str(tmp_path), "-rA", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, env=ENV, timeout=170)
    assert done.returncode == 1, done.stdout
    assert "FAILED published.ipynb::seedmagic-check" in done.stdout
    assert "published.ipynb: cell 0 (In [1])" in done.stdout


# Each run in its own copy of the notebook's folder -----------------------------------------------


def test_a_working_copy_copies_the_folder_links_what_is_big_or_shared_and_goes_afterwards(tmp_path, monkeypatch):
    from seedmagic.check import folders

    project = tmp_path / "project"
    (project / "notes" / "__pycache__").mkdir(parents=True)
    (project / "notes" / "__pycache__" / "x.pyc").write_bytes(b"cache")
    (project / "notes" / "data.txt").write_text("small")
    (project / "notes" / "big.bin").write_bytes(b"b" * 64)
    (project / "notes" / ".git").mkdir()
    (project / "notes" / "alias.txt").symlink_to("data.txt")
    os.mkfifo(project / "notes" / "pipe")  # never opened to be copied: that would block
    monkeypatch.setattr(folders, "BIG_FILE", 32)
    with folders.WorkingCopy(project / "notes") as copy:
        work = copy.path
        assert work != (project / "notes").resolve() and work.parent == project.resolve()  # a sibling: ../ reaches alike
        assert (work / "data.txt").read_text() == "small" and not (work / "data.txt").is_symlink()
        assert (work / "big.bin").is_symlink() and (work / ".git").is_symlink() and (work / "pipe").is_symlink()
        assert os.readlink(work / "alias.txt") == "data.txt" and not (work / "__pycache__").exists()
        (work / "data.txt").write_text("changed by the run")
        assert (project / "notes" / "data.txt").read_text() == "small"
        outputs = [{"output_type": "stream", "text": f"{work}/data.txt in {work.name}\n"}]
        assert copy.relocate(outputs) == [{"output_type": "stream",
                                           "text": f"{(project / 'notes').resolve()}/data.txt in notes\n"}]
    assert sorted(path.name for path in project.iterdir()) == ["notes"]


def test_folders_nested_too_deep_to_copy_are_shared_and_an_interrupted_copy_leaves_nothing(tmp_path, monkeypatch):
    from seedmagic.check import folders

    (tmp_path / "notes" / "a" / "b").mkdir(parents=True)
    monkeypatch.setattr(folders, "_copy", lambda *args: (_ for _ in ()).throw(RecursionError("too deep")))
    with folders.WorkingCopy(tmp_path / "notes") as copy:
        assert copy.path == (tmp_path / "notes").resolve()
    monkeypatch.setattr(folders, "_copy", lambda *args: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        folders.WorkingCopy(tmp_path / "notes").__enter__()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes"]


def test_past_the_budget_folders_are_linked_unwalked_and_the_root_is_never_copied(tmp_path, monkeypatch):
    from seedmagic.check import folders

    (tmp_path / "notes" / "sub").mkdir(parents=True)
    (tmp_path / "notes" / "sub" / "deep.txt").write_text("x")
    (tmp_path / "notes" / "top.txt").write_text("y")
    monkeypatch.setattr(folders, "MAX_FILES", 0)
    with folders.WorkingCopy(tmp_path / "notes") as copy:
        assert (copy.path / "sub").is_symlink() and (copy.path / "top.txt").is_symlink()
        assert (copy.path / "sub" / "deep.txt").read_text() == "x"

    def no_copy(*args, **kwargs):
        raise AssertionError("a copy of the whole file system")

    monkeypatch.setattr(folders.tempfile, "mkdtemp", no_copy)
    with folders.WorkingCopy(pathlib.Path("/")) as root:
        assert root.path == pathlib.Path("/") and root.moved is None


def test_the_probe_reads_a_path_into_the_runs_copy_as_the_folders(tmp_path):
    """A variable holding ``Path.cwd() / 'results'`` is the same value in both runs, as it is in place."""
    from seedmagic import probe

    home, copy = str(tmp_path / "notes"), str(tmp_path / ".seedmagic-run-x")

    def values(folder: str) -> list[str | None]:  # a path, a str, its name, a dict keyed by it, bytes
        return [probe.value_fingerprint(value) for value in (
            pathlib.Path(folder) / "results", folder + "/results", pathlib.Path(folder).name, {folder: 1},
            os.fsencode(folder))]

    in_place = values(home)
    try:
        probe.start(types.SimpleNamespace(user_ns={}), (copy, home))
        assert values(copy) == in_place
    finally:
        probe.start(types.SimpleNamespace(user_ns={}))


@pytest.mark.notebook
def test_where_no_copy_can_be_made_the_run_works_in_the_folder_itself(tmp_path, monkeypatch):
    from seedmagic.check import folders

    (tmp_path / "notes").mkdir()

    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(folders.tempfile, "mkdtemp", refuse)
    with folders.WorkingCopy(tmp_path / "notes") as copy:
        assert copy.path == (tmp_path / "notes").resolve() and copy.shared
        assert copy.relocate([{"text": "x"}]) == [{"text": "x"}]
    nbformat.write(new_notebook(cells=[new_code_cell("print(1)")], metadata=KERNELSPEC), tmp_path / "notes" / "n.ipynb")
    result = checking.check([tmp_path / "notes" / "n.ipynb"])[0]
    assert result.reproducible and result.note == checking.SHARED, result  # the report says the runs shared it
    monkeypatch.undo()
    # a folder no cell could write into (a read-only mount): a writable copy would pass a cell that fails in place
    monkeypatch.setattr(folders.os, "access", lambda path, mode: mode != os.W_OK)
    with folders.WorkingCopy(tmp_path / "notes") as copy:
        assert copy.path == (tmp_path / "notes").resolve() and not copy.shared  # nothing written reaches the other
    (tmp_path / "notes" / "results").mkdir()  # but a writable folder inside it is shared by both runs
    monkeypatch.setattr(folders.os, "access", lambda path, mode: mode != os.W_OK or str(path).endswith("results"))
    with folders.WorkingCopy(tmp_path / "notes") as copy:
        assert copy.path == (tmp_path / "notes").resolve() and copy.shared


ISOLATED = {
    "writefile": ["%%writefile helper.py\nX = 1", "import helper\nprint(helper.X)"],
    "cache": ["import os\nimport numpy as np",
              "if not os.path.exists('cache.npy'):\n    np.save('cache.npy', np.random.default_rng().normal(size=3))\n"
              "print(np.load('cache.npy'))"],
    "paths": ["import os\nprint(os.getcwd())\nprint(open('../shared.txt').read(), open('local.txt').read())"],
    "missing": ["from pathlib import Path\nDATA = Path.cwd() / 'data'", "(DATA / 'nope.csv').read_text()"],
}


@pytest.mark.notebook
def test_each_run_has_its_own_copy_of_the_folder_so_neither_sees_the_others_files(tmp_path):
    """In one shared folder ``%%writefile`` says "Writing" in one run and "Overwriting" in the other, and a cell that
    makes its data only when a cache file is missing ran that code once in two runs and passed."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (tmp_path / "shared.txt").write_text("from the parent folder")
    (folder / "local.txt").write_text("from the notebook's folder")
    for name, sources in ISOLATED.items():
        nbformat.write(new_notebook(cells=[new_code_cell(source) for source in sources], metadata=KERNELSPEC),
                       folder / f"{name}.ipynb")
    results = dict(zip(ISOLATED, checking.check([folder / f"{name}.ipynb" for name in ISOLATED]), strict=True))
    assert results["writefile"].status == "reproducible", results["writefile"]
    assert (results["cache"].status, results["cache"].cell, results["cache"].cause) == (
        "not reproducible", 1, "entropy"), results["cache"]
    assert results["paths"].status == "reproducible", results["paths"]
    missing = results["missing"]  # an error naming an absolute path in the folder: the same in both runs
    assert (missing.status, missing.cell) == ("error", 1), missing
    assert f"{folder.resolve() / 'data' / 'nope.csv'}" in missing.reason and "seedmagic-run" not in missing.reason
    # nothing the runs wrote, no copy left behind
    assert sorted(path.name for path in folder.iterdir()) == sorted([*(f"{name}.ipynb" for name in ISOLATED),
                                                                     "local.txt"])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notebooks", "shared.txt"]


@pytest.mark.notebook
def test_a_kernel_that_dies_in_one_run_only_does_not_reproduce_and_one_that_dies_in_both_is_an_error(tmp_path):
    """The run whose kernel lives goes on to the cell where the other died, to tell the two apart."""
    claim = tmp_path / "claimed"  # outside the notebook's folder: both runs see it; the first to make it dies
    once = ["print(1)", f"import os\ntry:\n    os.close(os.open({str(claim)!r}, os.O_CREAT | os.O_EXCL))\n"
                        "except FileExistsError:\n    print('lived')\nelse:\n    os._exit(1)", "print(2)"]
    twice = ["print(1)", "import os\nos._exit(1)", "print(2)"]
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name, sources in (("once", once), ("twice", twice)):
        nbformat.write(new_notebook(cells=[new_code_cell(source) for source in sources], metadata=KERNELSPEC),
                       folder / f"{name}.ipynb")
    died_once, died_twice = checking.check([folder / "once.ipynb", folder / "twice.ipynb"])
    assert (died_once.status, died_once.cell, died_once.cause, died_once.exit_code) == (
        "not reproducible", 1, "error", 1), died_once
    assert died_once.reason.startswith("the kernel died in cell 1 (In [2]) in one run only"), died_once.reason
    assert died_once.reason.endswith("; in the other run the cell ran to its end"), died_once.reason
    assert (died_twice.status, died_twice.cell, died_twice.exit_code) == ("error", None, 2), died_twice
    assert died_twice.reason.startswith("the kernel died in cell 1 (In [2]) in both runs"), died_twice.reason


@pytest.mark.notebook
def test_a_cell_that_raised_in_one_run_only_because_the_runs_collided_is_run_again_alone(tmp_path):
    """The two runs run at once: a fixed port (or a file in /tmp) makes one fail. Run again alone it does not, so
    the verdict is the one alone, with a note; a cell that raises again alone keeps its verdict."""
    import socket

    with socket.socket() as probe_port:
        probe_port.bind(("127.0.0.1", 0))
        port = probe_port.getsockname()[1]
    claim = tmp_path / "claimed"
    notebooks = {
        "port": [f"import socket, time\nserver = socket.socket()\nserver.bind(('127.0.0.1', {port}))\ntime.sleep(4)",
                 "server.close()\nprint('served')"],
        "claim": [f"import os, time\ntime.sleep(1)\nos.close(os.open({str(claim)!r}, os.O_CREAT | os.O_EXCL))",
                  "print('claimed')"],
        # the second to start fails, a third passes: an error that comes by chance, not from the runs colliding
        "chance": [f"import os\nfor turn in range(9):\n    try:\n        os.close(os.open({str(claim)!r} + str(turn), "
                   "os.O_CREAT | os.O_EXCL))\n        break\n    except FileExistsError:\n        pass\n"
                   "assert turn != 1, 'unlucky'", "print('lucky')"],
    }
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name, sources in notebooks.items():
        nbformat.write(new_notebook(cells=[new_code_cell(source) for source in sources], metadata=KERNELSPEC),
                       folder / f"{name}.ipynb")
    collided, claimed, chance = checking.check([folder / "port.ipynb", folder / "claim.ipynb",
                                                folder / "chance.ipynb"])
    assert collided.status == "reproducible", collided
    assert collided.note.startswith("while the two runs ran at the same time, cell 0 (In [1]) raised OSError: "), \
        collided.note
    assert "and not when that run ran again alone: the runs collided over something outside the notebook's folder" \
        in collided.note
    assert (claimed.status, claimed.cell, claimed.cause) == ("not reproducible", 0, "error"), claimed
    assert claimed.reason.startswith("cell 0 (In [1]) raised FileExistsError") and not claimed.note, claimed
    assert (chance.status, chance.cell, chance.cause) == ("not reproducible", 0, "error"), chance
    assert chance.reason == "cell 0 (In [1]) raised AssertionError: unlucky in one run only" and not chance.note


@pytest.mark.notebook
def test_a_display_a_later_cell_updates_is_compared_as_the_notebook_ends(tmp_path):
    """Jupyter saves a display as its last update: one that differs between runs is a divergence at the cell that
    shows it, blamed on the cell that updates it; one updated alike reproduces."""
    notebooks = {"varies": ["h = display('start', display_id=True)", "import numpy as np\nx = 1\n"
                            "h.update(str(np.random.default_rng().integers(10**6)))"],
                 "alike": ["h = display('start', display_id=True)", "h.update('done')"]}
    for name, sources in notebooks.items():
        nbformat.write(new_notebook(cells=[new_code_cell(source) for source in sources], metadata=KERNELSPEC),
                       tmp_path / f"{name}.ipynb")
    varies, alike = checking.check([tmp_path / "varies.ipynb", tmp_path / "alike.ipynb"])
    assert (varies.status, varies.cell, varies.cause) == ("not reproducible", 0, "entropy"), varies
    assert varies.reason == ("cell 0 (In [1]) shows a display that cell 1 updates "
                             "(`h.update(str(np.random.default_rng().integers(10**6)))`), and what the update puts "
                             "there differs between runs: it makes a generator without a seed "
                             "(`np.random.default_rng()`)"), varies.reason
    assert alike.status == "reproducible", alike

