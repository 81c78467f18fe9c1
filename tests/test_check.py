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
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT, run_python
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from seedmagic import check as checking

NOTEBOOKS = ROOT / "tests" / "notebooks"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def cli(*args: str, cwd: pathlib.Path = ROOT, timeout: float = 170) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "seedmagic", "check", *args], capture_output=True, text=True,
                          cwd=cwd, env=ENV, timeout=timeout)


def snapshot(path: pathlib.Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


# Without kernels ------------------------------------------------------------------------------------


def test_outputs_are_normalised_as_nbval_users_expect():
    first = [{"output_type": "stream", "name": "stdout", "text": "<object object at 0x7f3a2c1b0e90>\n"},
             {"output_type": "stream", "name": "stdout", "text": "CPU times: user 3 ms\nWall time: 2.1 ms\n"},
             {"output_type": "execute_result", "execution_count": 3, "metadata": {},
              "data": {"text/plain": "took 1.25 s", "application/vnd.jupyter.widget-view+json": {"model_id": "a1"}}},
             {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": ["at 0x1 line 3"]}]
    second = [{"output_type": "stream", "name": "stdout",
               "text": "<object object at 0x7f0000000000>\nCPU times: user 9 ms\nWall time: 7 ms\n"},
              {"output_type": "execute_result", "execution_count": 9, "metadata": {},
               "data": {"text/plain": "took 1.25 s", "application/vnd.jupyter.widget-view+json": {"model_id": "b2"}}},
              {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": ["elsewhere"]}]
    assert checking.normalise(first) == checking.normalise(second)
    def printed(text: str) -> list:
        return checking.normalise([{"output_type": "stream", "name": "stdout", "text": text}])

    # A time or a hexadecimal number the cell prints itself is data: it must not hide a difference.
    assert printed("first arrival after 1.25 s\n") != printed("first arrival after 0.50 s\n")
    assert printed("run id 0x5d1f9e0a77c3b2e1\n") != printed("run id 0x0b6e2f94d3a1c870\n")
    other = [{"output_type": "stream", "name": "stdout", "text": "0.5488135\n"}]
    assert checking.normalise(other) != checking.normalise([{"output_type": "stream", "name": "stdout",
                                                            "text": "0.7151894\n"}])


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_elsewhere():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream in (Terminal(), io.StringIO()):
        progress = checking.Progress(stream)
        progress.start("a.ipynb", 4, 2)
        progress.step("a.ipynb", 0, 4)
        progress.step("a.ipynb", 1, 2)
        progress.finish(checking.Result("a.ipynb", "reproducible", seconds=1.5))
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
    files = ["missing.ipynb", "text.ipynb", "prose.ipynb", "kernel.ipynb"]
    before = {name: snapshot(tmp_path / name) for name in files[1:]}
    done = cli("--record", *files, cwd=tmp_path)
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
    ]
    assert {name: snapshot(tmp_path / name) for name in files[1:]} == before
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
        "notebook": str(NOTEBOOKS / "seeded.ipynb"), "reproducible": True, "first_divergent_cell": None,
        "generator": None,
        "reason": "two fresh runs gave identical outputs and generator states after all 6 code cells"}


@pytest.mark.notebook
def test_an_unseeded_numpy_cell_is_named_not_the_import_before_it(checked):
    """Cell 1 imports NumPy (seeded from OS entropy, differently in each kernel): not a divergence yet."""
    result = checked["unseeded_numpy"]
    assert (result.status, result.cell, result.generator) == ("divergent", 4, "numpy")
    assert result.reason == "cell 4 (In [3]) drew from numpy while no seed controlled it"
    assert "`%seed N` above it" in result.fix and "`%%seeded N`" in result.fix
    assert result.later == (5,)
    assert result.exit_code == 1


@pytest.mark.notebook
def test_an_unseeded_torch_cell_is_named(checked):
    result = checked["unseeded_torch"]
    assert (result.status, result.cell, result.generator) == ("divergent", 1, "torch")
    assert result.reason == "cell 1 (In [2]) drew from torch while no seed controlled it"


@pytest.mark.notebook
def test_default_rng_without_a_seed_is_named_at_its_creation(checked):
    result = checked["default_rng"]
    assert (result.status, result.cell, result.generator) == ("divergent", 2, "rng")
    assert result.reason == "cell 2 (In [3]) created `rng = np.random.default_rng()` without a seed"
    assert result.fix == "give it a seed: `np.random.default_rng(N)`"


@pytest.mark.notebook
def test_a_generator_held_in_a_list_is_found(checked):
    result = checked["rng_in_list"]
    assert (result.status, result.cell, result.generator) == ("divergent", 2, "rngs[0]"), result


@pytest.mark.notebook
def test_outputs_that_differ_with_equal_states_are_not_blamed_on_a_generator(checked):
    result = checked["clock"]
    assert (result.status, result.cell, result.generator) == ("divergent", 2, None)
    assert ("outputs differ but every generator's state is identical after the cell: the difference does not "
            "come from a global random generator (time, hashing, threads, data)") in result.reason


@pytest.mark.notebook
def test_a_scope_seeded_from_entropy_is_named_though_it_restores_every_generator(checked):
    result = checked["entropy_scope"]
    assert (result.status, result.cell) == ("divergent", 1)
    assert result.reason.startswith("cell 1 (In [2]) ran under a seed drawn from OS entropy (")
    assert result.fix.startswith("give it the seed: `%%seeded ")


@pytest.mark.notebook
def test_a_notebook_whose_reruns_shift_draws_still_reproduces_when_run_straight(checked):
    assert checked["rerun_shift"].status == "reproducible"


@pytest.mark.notebook
def test_rerun_names_the_cell_whose_rerun_shifts_later_draws_and_seeded_fixes_it():
    shifting, seeded = checking.check([NOTEBOOKS / "rerun_shift.ipynb", NOTEBOOKS / "rerun_seeded.ipynb"],
                                      checking.Options(rerun=True))
    assert (shifting.status, shifting.cell, shifting.generator) == ("divergent", 2, "numpy")
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
def test_the_example_notebooks_pass_the_command_line_check():
    paths = [ROOT / "examples" / "quickstart.ipynb", ROOT / "examples" / "reproducible-training.ipynb"]
    before = [snapshot(path) for path in paths]
    done = cli("examples/quickstart.ipynb", "examples/reproducible-training.ipynb")
    (ROOT / "examples" / "training-state.json").unlink(missing_ok=True)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = done.stdout.splitlines()
    assert rows[0].split() == ["notebook", "result", "cell", "generator", "time"]
    assert [row.split()[:2] for row in rows[1:3]] == [["examples/quickstart.ipynb", "reproducible"],
                                                      ["examples/reproducible-training.ipynb", "reproducible"]]
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
    assert [(report["reproducible"], report["first_divergent_cell"]) for report in reports] == [(False, None)] * 2
    assert done.stderr.splitlines()[-2:] == [
        f"seedmagic check: {path}: cell 1 (In [2]) did not finish within 2 s (--timeout)",
        f"seedmagic check: {raising}: cell 1 (In [2]) raised NameError: name 'undefined_name' is not defined in both "
        "runs; tag the cell raises-exception if that is expected"]
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


def test_what_ipython_and_tqdm_print_about_time_is_normalised_and_nothing_else():
    def printed(text: str) -> list:
        return checking.normalise([{"output_type": "stream", "name": "stderr", "text": text}])

    assert printed("The slowest run took 83576.38 times longer than the fastest. This could mean...\n") == \
        printed("The slowest run took 4.10 times longer than the fastest. This could mean...\n")
    assert printed("12.3kit/s\n") == printed("980.1it/s\n") and printed("4.5MB/s\n") == printed("1.0kB/s\n")
    assert printed(" 10%|#   | 1/10\r 50%|#####| 5/10\r100%|#####| 10/10\n") == printed("100%|#####| 10/10\n")
    assert printed("1.2 ms +- 3 us per loop (mean +- std. dev. of 7 runs)\n") == \
        printed("9.9 ms +- 1 us per loop (mean +- std. dev. of 7 runs)\n")
    assert printed("licence key at 0x5d1f9e0a77c3b2e1\n") != printed("licence key at 0x0b6e2f94d3a1c870\n")
    assert printed("<Foo object at 0x7f3a2c1b0e90>\n") == printed("<Foo object at 0x7f0000000000>\n")
