"""``seedmagic check``'s verdicts and reasons on synthetic runs: every rule and every message, no kernel.

Each test builds the two runs a check would have seen (probe records
after each cell) and reads the verdict. The kernel tests in
``test_check.py`` show that real kernels produce such runs.
"""

from __future__ import annotations

import json
import os
import pathlib
import warnings
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import requires_torch, torch
from seedmagic.check import (ERROR, NOT_REPRODUCIBLE, REPRODUCIBLE, BadInput, CellRun, Options, Result, Run,
                             bad_input_lines, compare_record, exit_code, make_record, table, verdict, write_record)
from seedmagic.check.normalise import read_sanitisers
from seedmagic.check.notebooks import notebook_paths, read_notebook
from seedmagic.check.report import evidence
from seedmagic.check.source import CellSource, aliases
from seedmagic.check.verdict import needs_hash_order, same_outputs


def probe(globals_: dict[str, str] | None = None, advanced: tuple[str, ...] = (), imported: tuple[str, ...] = (),
          users: dict[str, list[str]] | None = None, seeds: dict[str, int] | None = None,
          events: tuple[list[Any], ...] = (), loaded: bool = False) -> dict[str, Any]:
    return {"globals": globals_ or {}, "advanced": list(advanced), "imported": list(imported), "users": users or {},
            "seeds": seeds or {}, "session_seed": None, "loaded": loaded, "events": list(events)}


def out(text: str) -> list[dict[str, Any]]:
    return [{"output_type": "stream", "name": "stdout", "text": text}] if text else []


def cell(index: int, probe_: dict[str, Any], text: str = "", values: dict[str, str] | None = None,
         error: str | None = None, first: dict[str, Any] | None = None) -> CellRun:
    return CellRun(index, index + 1, out(text), error, {} if error else probe_, values or {}, first)


def check(sources: list[str], a: list[CellRun], b: list[CellRun], rerun: bool = False,
          hash_order: bool | None = None, hash_seeds: tuple[str | None, str | None] = ("1", "2")) -> Result:
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
    return verdict("nb.ipynb", notebook, Run(a, hash_seed=hash_seeds[0]), Run(b, hash_seed=hash_seeds[1]),
                   Options(rerun=rerun), hash_order=hash_order)


NP = {"numpy": "n0"}


# Verdicts ------------------------------------------------------------------------------------------------


def test_equal_runs_reproduce_and_say_what_was_compared():
    runs = [cell(0, probe(NP)), cell(1, probe({"numpy": "n1"}, advanced=("numpy",)), "0.5\n")]
    result = check(["import numpy as np\nnp.random.seed(0)", "print(np.random.rand())"], runs, runs)
    assert (result.status, result.exit_code, result.cause) == (REPRODUCIBLE, 0, None)
    assert result.reason == "two fresh runs gave identical outputs and generator states after all 2 code cells"
    rerun = check(["x = 1", "y = 2"], runs, runs, rerun=True)
    assert rerun.reason.startswith("a fresh run and one that reran every cell gave identical outputs")


def test_the_same_error_in_both_runs_is_an_error_and_a_missing_load_ext_says_to_add_it():
    failed = [cell(0, probe(), error="UsageError: Line magic function `%seed` not found.")]
    result = check(["%seed 3", "x = 1"], failed, failed)
    assert (result.status, result.exit_code, result.cell, result.cause) == (ERROR, 2, 0, "error")
    assert result.reason == "cell 0 (In [1]) raised UsageError: Line magic function `%seed` not found. in both runs"
    assert result.fix == ("add `%load_ext seedmagic` above it (at the top of the notebook): plain Jupyter does not "
                          "know %seed without it")
    seeded = [cell(0, probe(), error="UsageError: Cell magic `%%seeded` not found.")]
    assert "does not know %seeded" in check(["%%seeded 3\nx = 1"], seeded, seeded).fix
    other = [cell(0, probe(), error="ValueError")]
    assert check(["raise ValueError()"], other, other).fix == ("fix the cell, or tag it raises-exception if the error "
                                                              "is expected")


def test_an_error_in_one_run_only_and_a_run_that_stopped_early():
    a = [cell(0, probe()), cell(1, probe(), error="KeyError: 'x'")]
    b = [cell(0, probe()), cell(1, probe())]
    result = check(["x = 1", "y = 2"], a, b)
    assert (result.status, result.cell, result.cause) == (NOT_REPRODUCIBLE, 1, "error")
    assert result.reason == "cell 1 (In [2]) raised KeyError: 'x' in one run only"
    short = check(["x = 1", "y = 2"], [cell(0, probe())], b)
    assert short.reason == "cell 1 (In [2]) ran in one run only"


def test_an_error_whose_message_holds_an_address_is_the_same_error_and_one_whose_message_differs_still_raised_twice():
    import pickle

    def raised() -> str:
        namespace = {"__name__": "__main__"}
        exec("function = lambda x: x", namespace)  # as a notebook cell defines it
        try:
            pickle.dumps(namespace["function"])
        except Exception as error:  # the message names the function with its address
            return f"{type(error).__name__}: {error}"
        raise AssertionError("pickle did not refuse a lambda")

    first, second = raised(), raised()
    assert first != second and " at 0x" in first
    a, b = [cell(0, probe(), error=first)], [cell(0, probe(), error=second)]
    same = check(["import pickle\npickle.dumps(lambda x: x)"], a, b)
    assert (same.status, same.cell, same.cause) == (ERROR, 0, "error")
    assert same.reason == f"cell 0 (In [1]) raised {first} in both runs"
    a = [cell(0, probe()), cell(1, probe(), error="AssertionError: loss too high: 1.759")]
    b = [cell(0, probe()), cell(1, probe(), error="AssertionError: loss too high: 1.829")]
    differ = check(["x = 1", "assert loss < 0.5, f'loss too high: {loss:.3f}'"], a, b)
    assert (differ.status, differ.exit_code, differ.cell, differ.cause) == (ERROR, 2, 1, "error")
    assert differ.reason == ("cell 1 (In [2]) raised in both runs, with another message in each: AssertionError: "
                             "loss too high: 1.759 in the first, AssertionError: loss too high: 1.829 in the second")


def test_a_scope_seeded_from_entropy():
    a = [cell(0, probe(events=(["%%seeded", 11, ["numpy"], True, None],)), "seeded with 11\n")]
    b = [cell(0, probe(events=(["%%seeded", 22, ["numpy"], True, None],)), "seeded with 22\n")]
    result = check(["%%seeded\nnp.random.rand()"], a, b)
    assert (result.cell, result.cause, result.generator) == (0, "entropy", None)
    assert result.reason == ("cell 0 (In [1]) ran under a seed drawn from OS entropy (11 in one run, 22 in the "
                             "other): %%seeded without a seed, and no %seed before it")
    assert result.fix == "give it the seed: `%%seeded 11`, or set a session seed with `%seed N` above it"


# Rule 3: a global generator --------------------------------------------------------------------------------


def test_an_unseeded_global_generator_is_traced_to_its_import_not_blamed_on_it():
    a = [cell(0, probe({"numpy": "a0"}, imported=("numpy",))), cell(1, probe({"numpy": "a0"})),
         cell(2, probe({"numpy": "a2"}, advanced=("numpy",)), "[0.1]\n")]
    b = [cell(0, probe({"numpy": "b0"}, imported=("numpy",))), cell(1, probe({"numpy": "b0"})),
         cell(2, probe({"numpy": "b2"}, advanced=("numpy",)), "[0.7]\n")]
    result = check(["import numpy as np", "total = 2", "print(np.random.rand(1))"], a, b)
    assert (result.cell, result.generator, result.cause) == (2, "numpy", "numpy")
    assert result.reason == "cell 2 (In [3]) drew from numpy while no seed controlled it"
    assert result.fix == ("add `%load_ext seedmagic` and `%seed N` at the top of the notebook (or "
                          "`np.random.seed(N)` above this cell)")
    assert result.outputs == {"first": "[0.1]\n", "second": "[0.7]\n"}
    assert result.evidence == ("first run:  [0.1]", "second run: [0.7]")
    loaded = [cell(0, probe({"random": "a"}, loaded=True)), cell(1, probe({"random": "a1"}, advanced=("random",),
                                                                           loaded=True))]
    other = [cell(0, probe({"random": "b"}, loaded=True)), cell(1, probe({"random": "b1"}, advanced=("random",),
                                                                         loaded=True))]
    present_from_the_start = check(["%load_ext seedmagic", "random.random()"], loaded, other)
    assert present_from_the_start.reason == "cell 1 (In [2]) drew from random while no seed controlled it"
    assert present_from_the_start.fix == ("add `%seed N` above it (or at the top of the notebook), or run the cell "
                                          "under `%%seeded N`")
    assert present_from_the_start.evidence == ("random after the cell: a1 in the first run, b1 in the second",)


def test_a_cell_that_imports_a_library_is_blamed_on_its_generator_only_when_it_draws_from_it():
    """numpy and torch start from OS entropy when imported; a cell that imports both but draws only from torch (and
    from a seeded RandomState of its own) is torch's; one that only uses numpy's arrays is no generator's."""
    both = [cell(0, probe({"numpy": f"{run}n", "torch": f"{run}t"}, imported=("numpy", "torch")), f"[{run}]\n")
            for run in "ab"]
    mixed = "import numpy as np\nX = np.random.RandomState(4).randn(3)\nimport torch\nprint(torch.rand(2))"
    result = check([mixed], [both[0]], [both[1]])
    assert (result.cell, result.cause) == (0, "torch")
    assert result.reason.startswith("cell 0 (In [1]) imported torch and its outputs differ")
    numpy_only = [cell(0, probe({"numpy": f"{run}n"}, imported=("numpy",)), f"[{run}]\n") for run in "ab"]
    for source in ("import numpy as np\nprint(np.empty(3))", "import numpy as np\nprint(id(np.zeros(3)))"):
        assert check([source], [numpy_only[0]], [numpy_only[1]]).cause in ("output", "value"), source
    drawn = check(["import numpy as np\nprint(np.random.rand(3))"], [numpy_only[0]], [numpy_only[1]])
    assert (drawn.cell, drawn.cause) == (0, "numpy")
    assert drawn.fix == ("add `%load_ext seedmagic` and `%seed N` at the top of the notebook (or `np.random.seed(N)` "
                         "right after the import in this cell)")  # not "above this cell": np is not there yet


def test_the_fix_is_spelled_with_the_names_the_notebook_imported_so_that_it_runs_as_written():
    a = [cell(0, probe({"numpy": "a0"}, imported=("numpy",))), cell(1, probe({"numpy": "a1"}, advanced=("numpy",)),
                                                                      "[0.1]\n")]
    b = [cell(0, probe({"numpy": "b0"}, imported=("numpy",))), cell(1, probe({"numpy": "b1"}, advanced=("numpy",)),
                                                                      "[0.7]\n")]
    for imported, drawn, spelled in (("import numpy.random as npr", "npr.normal(size=2)", "npr.seed(N)"),
                                     ("from numpy.random import *", "rand(2)", "seed(N)"),
                                     ("import numpy", "numpy.random.rand(2)", "numpy.random.seed(N)"),
                                     ("import numpy as np", "np.random.rand(2)", "np.random.seed(N)")):
        result = check([imported, f"print({drawn})"], a, b)
        assert (result.cell, result.cause) == (1, "numpy"), imported
        assert result.fix.endswith(f"(or `{spelled}` above this cell)"), (imported, result.fix)


def test_a_cell_that_reseeds_from_entropy_is_named_with_its_line_whatever_came_before():
    for before_a, before_b in (("s", "s"), ("a0", "b0")):  # seeded above it, or never seeded
        a = [cell(0, probe({"numpy": before_a}, imported=("numpy",))),
             cell(1, probe({"numpy": "a1"}, advanced=("numpy",)), "[0.1]\n")]
        b = [cell(0, probe({"numpy": before_b}, imported=("numpy",))),
             cell(1, probe({"numpy": "b1"}, advanced=("numpy",)), "[0.2]\n")]
        result = check(["import numpy as np", "np.random.seed()\nprint(np.random.rand(1))"], a, b)
        assert (result.cell, result.cause) == (1, "numpy")
        assert result.reason == "cell 1 (In [2]) reseeds numpy from OS entropy (`np.random.seed()`)"
        assert result.fix == "give it a seed: `np.random.seed(N)` (or `%seed N`)"
    a = [cell(0, probe({"torch": "s"})), cell(1, probe({"torch": "a1"}, advanced=("torch",))),
         cell(2, probe({"torch": "a2"}, advanced=("torch",)), "x\n")]
    b = [cell(0, probe({"torch": "s"})), cell(1, probe({"torch": "b1"}, advanced=("torch",))),
         cell(2, probe({"torch": "b2"}, advanced=("torch",)), "y\n")]
    result = check(["import torch", "torch.seed()", "print(torch.rand(1))"], a, b)
    assert result.cell == 1 and result.reason == "cell 1 (In [2]) reseeds torch from OS entropy (`torch.seed()`)"
    assert result.fix == "give it a seed: `torch.manual_seed(N)` (or `%seed N`)"


def test_a_bit_generator_made_without_a_seed_and_swapped_into_numpy_is_a_reseed_from_entropy():
    """``np.random.set_bit_generator(np.random.SFC64())`` reseeds NumPy's global generator from OS entropy; with a
    seeded bit generator it is a seeding by hand, which is not called unseeded."""
    a = [cell(0, probe({"numpy": "s"}, imported=("numpy",))), cell(1, probe({"numpy": "a1"}, advanced=("numpy",))),
         cell(2, probe({"numpy": "a2"}, advanced=("numpy",)), "[0.1]\n")]
    b = [cell(0, probe({"numpy": "s"}, imported=("numpy",))), cell(1, probe({"numpy": "b1"}, advanced=("numpy",))),
         cell(2, probe({"numpy": "b2"}, advanced=("numpy",)), "[0.2]\n")]
    sources = ["import numpy as np", "np.random.set_bit_generator(np.random.SFC64())", "print(np.random.rand(1))"]
    result = check(sources, a, b)
    assert (result.cell, result.cause) == (1, "numpy")
    assert result.reason == ("cell 1 (In [2]) reseeds numpy from OS entropy "
                             "(`np.random.set_bit_generator(np.random.SFC64())`)")
    # %seed N above the cell does not help: the swap brings fresh entropy after it
    assert result.fix == ("give the generator it puts in place a seed, or seed numpy right after that line: "
                          "`np.random.seed(N)`")
    imports = aliases(sources)
    seeded = CellSource("np.random.set_bit_generator(np.random.SFC64(7))", imports)
    assert seeded.entropy_reseeds() == {} and seeded.seeds("numpy")
    put_back = CellSource("np.random.set_bit_generator(saved)", imports)  # one saved before: neither
    assert put_back.entropy_reseeds() == {} and not put_back.seeds("numpy")
    named = CellSource("bg = np.random.SFC64()\nnp.random.set_bit_generator(bg)", imports)  # made in the cell
    assert named.entropy_reseeds() == {"numpy": "np.random.set_bit_generator(bg)"} and not named.seeds("numpy")
    assert CellSource("bg = np.random.SFC64(3)\nnp.random.set_bit_generator(bg)", imports).seeds("numpy")
    branches = CellSource("np.random.set_bit_generator(np.random.PCG64(SEED) if SEED else np.random.PCG64())", imports)
    assert branches.entropy_reseeds() == {}  # only a constructor given directly says what is put in place
    assert CellSource("np.random.set_bit_generator(bit_generator=np.random.PCG64())",
                      imports).entropy_reseeds() == {"numpy": "np.random.set_bit_generator(bit_generator=np.random.PCG64())"}


def test_a_seeded_swap_on_one_branch_is_not_blamed_as_a_reseed_from_entropy():
    """SEED is set: the cell seeds by hand and then draws a varying number of times; the unseeded constructor
    sits on the branch not taken, so 'reseeds numpy from OS entropy' is the wrong cause."""
    swap = ("np.random.set_bit_generator(np.random.PCG64(SEED) if SEED is not None else np.random.PCG64())\n"
            "for _ in range(time.time_ns() % 7 + 1):\n    np.random.rand()")
    a = [cell(0, probe({"numpy": "s"}, imported=("numpy",))), cell(1, probe({"numpy": "a1"}, advanced=("numpy",))),
         cell(2, probe({"numpy": "a2"}, advanced=("numpy",)), "0.1\n")]
    b = [cell(0, probe({"numpy": "s"}, imported=("numpy",))), cell(1, probe({"numpy": "b1"}, advanced=("numpy",))),
         cell(2, probe({"numpy": "b2"}, advanced=("numpy",)), "0.2\n")]
    result = check(["import numpy as np, time\nSEED = 42", swap, "print(np.random.rand())"], a, b)
    assert "OS entropy" not in result.reason, result.reason


def test_putting_back_a_saved_bit_generator_is_not_seeding_by_hand():
    """The cell seeds a block only, puts the unseeded global generator back and draws from it: no seed controls
    numpy (as before set_bit_generator counted as seeding), it does not 'seed it from a value that varies'."""
    source = ("import numpy as np\nsaved = np.random.get_bit_generator()\n"
              "np.random.set_bit_generator(np.random.PCG64(0))\ndata = np.random.rand(3)\n"
              "np.random.set_bit_generator(saved)\nprint(np.random.rand())")
    a = [cell(0, probe({"numpy": "a0"}, advanced=("numpy",), imported=("numpy",)), "0.1\n")]
    b = [cell(0, probe({"numpy": "b0"}, advanced=("numpy",), imported=("numpy",)), "0.2\n")]
    result = check([source], a, b)
    assert result.reason == "cell 0 (In [1]) drew from numpy while no seed controlled it", result.reason


def test_an_unseeded_bit_generator_swapped_in_and_back_out_is_named_as_the_cause():
    """The cell prints a draw from an unseeded SFC64 it swapped in, then puts the seeded one back: the states after
    agree, yet the cause is numpy reseeded from OS entropy, not 'does not come from a global random generator'."""
    source = ("saved = np.random.get_bit_generator()\nnp.random.set_bit_generator(np.random.SFC64())\n"
              "print(np.random.rand())\nnp.random.set_bit_generator(saved)")
    a = [cell(0, probe({"numpy": "s"}, imported=("numpy",))), cell(1, probe({"numpy": "s"}), "0.1\n")]
    b = [cell(0, probe({"numpy": "s"}, imported=("numpy",))), cell(1, probe({"numpy": "s"}), "0.2\n")]
    result = check(["import numpy as np\nnp.random.seed(0)", source], a, b)
    assert (result.cell, result.cause) == (1, "numpy"), (result.cause, result.reason)
    assert result.reason.endswith("its draws in the cell differ between runs, though the cell leaves numpy in the "
                                  "same state in both")
    apart = [cell(0, probe({"numpy": "s"}, imported=("numpy",))), cell(1, probe({"numpy": "a1"}), "0.1\n")]
    other = [cell(0, probe({"numpy": "s"}, imported=("numpy",))), cell(1, probe({"numpy": "b1"}), "0.2\n")]
    left_apart = check(["import numpy as np", source.replace("\nnp.random.set_bit_generator(saved)", "")],
                       apart, other)  # it is not put back: the states after differ too, and the reason does not deny it
    assert "OS entropy" in left_apart.reason and "same state" not in left_apart.reason, left_apart.reason


def test_a_reseed_in_an_earlier_cell_whose_draws_do_not_show_until_later():
    a = [cell(0, probe({"numpy": "s"})), cell(1, probe({"numpy": "a1"})),
         cell(2, probe({"numpy": "a2"}, advanced=("numpy",)), "x\n")]
    b = [cell(0, probe({"numpy": "s"})), cell(1, probe({"numpy": "b1"})),
         cell(2, probe({"numpy": "b2"}, advanced=("numpy",)), "y\n")]
    result = check(["import numpy as np", "from numpy.random import seed\nseed(None)", "print(np.random.rand())"], a, b)
    assert result.cell == 2
    assert result.reason == ("cell 1 (In [2]) reseeds numpy from OS entropy (`seed(None)`), and cell 2 (In [3]) drew "
                             "from it")


def test_seeds_that_differ_between_the_runs():
    a = [cell(0, probe({"numpy": "a"}, advanced=("numpy",), seeds={"numpy": 3}, loaded=True), "1\n")]
    b = [cell(0, probe({"numpy": "b"}, advanced=("numpy",), seeds={"numpy": 4}, loaded=True), "2\n")]
    result = check(["%seed $t\nprint(np.random.rand())"], a, b)
    assert result.reason == "cell 0 (In [1]) drew from numpy, seeded with 3 in one run and 4 in the other"
    assert result.fix == "seed it with a fixed number: `%seed N`"


def test_a_cell_that_draws_a_varying_number_of_times_is_blamed_itself_or_named_as_the_origin():
    a = [cell(0, probe({"numpy": "s"})), cell(1, probe({"numpy": "a1"}, advanced=("numpy",))),
         cell(2, probe({"numpy": "a2"}, advanced=("numpy",)), "0.1\n")]
    b = [cell(0, probe({"numpy": "s"})), cell(1, probe({"numpy": "b1"}, advanced=("numpy",))),
         cell(2, probe({"numpy": "b2"}, advanced=("numpy",)), "0.2\n")]
    sources = ["import numpy as np\nnp.random.seed(0)", "for _ in range(time.time_ns() % 7):\n    np.random.rand()",
               "print(np.random.rand())"]
    result = check(sources, a, b)
    assert (result.cell, result.later) == (1, (2,))
    assert result.reason == ("cell 1 (In [2]) started with numpy in the same state in both runs and left it in "
                             "different states: it drew from it a varying number of times (a loop over time, data or "
                             "threads) or seeded it from a value that varies")
    assert result.fix == ("draw a fixed number of times, or reseed numpy at the end of cell 1 (`%seed N`, or "
                          "`np.random.seed(N)`, as its last line)")
    quiet = [a[0], cell(1, probe({"numpy": "a1"})), a[2]]  # the draws happened in a function the probe did not see
    other = [b[0], cell(1, probe({"numpy": "b1"})), b[2]]
    later = check(sources, quiet, other)
    assert later.cell == 2
    assert later.reason == ("cell 2 (In [3]) drew from numpy, which cell 1 left in a different state in each run (the "
                            "same before it): cell 1 drew from it a varying number of times (a loop over time, data or "
                            "threads) or seeded it from a value that varies")


def test_rerun_names_the_cell_whose_rerun_moved_a_global_generator():
    a = [cell(0, probe({"numpy": "s"})), cell(1, probe({"numpy": "m1"}, advanced=("numpy",))),
         cell(2, probe({"numpy": "m2"}, advanced=("numpy",)), "[1]\n")]
    b = [cell(0, probe({"numpy": "s"})),
         cell(1, probe({"numpy": "r1"}, advanced=("numpy",)), first=probe({"numpy": "m1"}, advanced=("numpy",))),
         cell(2, probe({"numpy": "r2"}, advanced=("numpy",)), "[2]\n", first=probe({"numpy": "r2"},
                                                                                   advanced=("numpy",)))]
    b[0].first = b[0].probe
    result = check(["np.random.seed(0)", "x = np.random.rand(3)", "print(np.random.rand(2))"], a, b, rerun=True)
    assert (result.cell, result.generator) == (2, "numpy")
    assert result.reason == "rerunning cell 1 moved numpy, which shifts the draws of cell 2 (In [3])"
    assert result.fix == "run cell 1 under `%%seeded N` (after `%load_ext seedmagic` at the top of the notebook)"


def test_rerun_that_moved_a_generator_reaches_a_cell_through_an_object_the_probe_cannot_read():
    torch_ = {"torch": "s"}
    a = [cell(0, probe(torch_)), cell(1, probe({"torch": "m1"}, advanced=("torch",))),
         cell(2, probe({"torch": "m1"}), "0.3512\n")]
    b = [cell(0, probe(torch_), first=probe(torch_)),
         cell(1, probe({"torch": "r1"}, advanced=("torch",)), first=probe({"torch": "m1"}, advanced=("torch",))),
         cell(2, probe({"torch": "r1"}), "-0.1187\n", first=probe({"torch": "r1"}))]
    sources = ["import torch\ntorch.manual_seed(0)", "model = torch.nn.Linear(2, 1)",
               "print(round(model(torch.ones(2)).item(), 4))"]
    result = check(sources, a, b, rerun=True)
    assert (result.cell, result.generator, result.cause) == (2, "torch", "torch"), result
    assert result.reason == ("cell 2 (In [3]) prints what `model` holds (not a value the check can read), made in "
                             "cell 1: rerunning cell 1 draws new numbers from torch (its first run moved torch)")
    assert result.fix == "run cell 1 under `%%seeded N` (after `%load_ext seedmagic` at the top of the notebook)"
    other = check(sources[:2] + ["print(open('data.txt').read())"], a, b, rerun=True)
    assert other.cause == "output"  # the cell reads nothing cell 1 made
    labels = ["import numpy as np\nnp.random.seed(0)", "classes = {'cat', 'dog', 'bird'}\nidx = np.random.permutation(9)",
              "print(' '.join(classes))"]
    literal = check(labels, a, b, rerun=True)  # a set literal holds no draws: the rerun is not why
    assert literal.cause == "output" and "classes" not in literal.reason
    assert needs_hash_order(result, Run(a, hash_seed="1"), Run(b, hash_seed="2"))  # kernels without reruns decide
    assert check(sources, a, b, rerun=True, hash_order=True).cause == "hash-order"


def test_rerun_traced_through_a_value_when_the_divergent_cell_only_prints_it():
    a = [cell(0, probe({"numpy": "s"})), cell(1, probe({"numpy": "m1"}, advanced=("numpy",)), values={"x": "x1"}),
         cell(2, probe({"numpy": "m1"}), "[1 2 3]\n", values={"x": "x1"}), cell(3, probe({"numpy": "m1"}), "done\n",
                                                                              values={"x": "x1"})]
    b = [cell(0, probe({"numpy": "s"})),
         cell(1, probe({"numpy": "r1"}, advanced=("numpy",)), values={"x": "x2"},
              first=probe({"numpy": "m1"}, advanced=("numpy",))),
         cell(2, probe({"numpy": "r1"}), "[4 5 6]\n", values={"x": "x2"}),
         cell(3, probe({"numpy": "r1"}), "done\n", values={"x": "x2"})]
    result = check(["np.random.seed(0)", "x = np.random.rand(3)", "print(x)", "print('done')"], a, b, rerun=True)
    assert (result.cell, result.generator, result.cause, result.later) == (2, "numpy", "numpy", ())
    assert result.reason == ("cell 2 (In [3]) prints `x`, which first differed after cell 1 (`x = np.random.rand(3)`): "
                             "rerunning cell 1 draws new numbers from numpy (its first run moved numpy)")
    assert result.fix == "run cell 1 under `%%seeded N` (after `%load_ext seedmagic` at the top of the notebook)"


def test_rerun_traced_to_a_cell_that_changes_a_value_again_when_rerun_and_hash_order_is_not_tried():
    a = [cell(0, probe(), values={"items": "e"}), cell(1, probe(), values={"items": "one"}),
         cell(2, probe(), "[1]\n", values={"items": "one"})]
    b = [cell(0, probe(), values={"items": "e"}, first=probe()),
         cell(1, probe(), values={"items": "two"}, first=probe()),
         cell(2, probe(), "[1, 1]\n", values={"items": "two"}, first=probe())]
    b[1].rerun_moved = ("items",)
    sources = ["items = []", "items.append(1)", "print(items)"]
    result = check(sources, a, b, rerun=True)
    assert (result.cell, result.generator, result.cause) == (2, None, "value"), result
    assert result.reason == ("cell 2 (In [3]) prints `items`, which first differed after cell 1: rerunning cell 1 "
                             "changes `items` again, so the cell is not safe to run twice")
    assert result.fix == ("have cell 1 build `items` afresh rather than change the one it finds, so that every rerun "
                          "gives the same result")
    assert not needs_hash_order(result, Run(a, hash_seed="1"), Run(b, hash_seed="2"))  # the rerun explains it
    b[1].rerun_moved = ()  # the same difference with no rerun behind it: hash order is worth two more kernels
    unexplained = check(sources, a, b, rerun=True)
    assert unexplained.cause == "value" and needs_hash_order(unexplained, Run(a, hash_seed="1"), Run(b, hash_seed="2"))
    assert check(sources, a, b, rerun=True, hash_order=True).cause == "hash-order"


def test_rerun_of_a_cell_that_changed_what_the_probe_cannot_read_is_mentioned_where_nothing_else_explains():
    train = ["import torch\ntorch.manual_seed(0)\nmodel = torch.nn.Linear(2, 1)",
             "for epoch in range(5):\n    loss = step(model)", "print(model(X).mean().item())"]
    a = [cell(0, probe()), cell(1, probe(), values={"loss": "l1"}), cell(2, probe(), "0.25\n", values={"loss": "l1"})]
    b = [cell(0, probe(), first=probe()), cell(1, probe(), values={"loss": "l2"}, first=probe()),
         cell(2, probe(), "0.21\n", values={"loss": "l2"}, first=probe())]
    b[1].rerun_moved = ("loss",)
    result = check(train, a, b, rerun=True)
    assert (result.cell, result.cause) == (2, "output"), result
    assert result.reason.endswith("; but rerunning cell 1 changed `loss` again, so it likely changed what the check "
                                  "cannot read too (an object such as a model trained further)")
    assert result.fix.startswith("make cell 1 safe to run twice: build what it changes afresh in it")
    b[1].rerun_moved = ()
    assert "rerunning" not in check(train, a, b, rerun=True).reason


def test_a_value_from_an_unseeded_generator_made_on_its_own_line_blames_the_generator():
    a = [cell(0, probe(), values={"w": "w1"}), cell(1, probe(), "[0.1]\n", values={"w": "w1"})]
    b = [cell(0, probe(), values={"w": "w2"}), cell(1, probe(), "[0.7]\n", values={"w": "w2"})]
    result = check(["import numpy as np\nw = np.random.default_rng().normal(size=3)", "print(w.round(3))"], a, b)
    assert (result.cell, result.cause) == (1, "entropy"), result
    assert result.reason == ("cell 1 (In [2]) prints `w`, which first differed after cell 0 (`w = "
                             "np.random.default_rng().normal(size=3)`): `np.random.default_rng()` there makes a "
                             "generator without a seed, seeded from OS entropy in each run")
    assert result.fix == "give it a seed in cell 0: `np.random.default_rng(N)`"


def test_a_cell_whose_rerun_raises_is_named_as_not_safe_to_run_twice():
    a = [cell(0, probe()), cell(1, probe()), cell(2, probe(), "ok\n")]
    b = [cell(0, probe(), first=probe()), cell(1, probe(), error="FileExistsError: [Errno 17] File exists: 'made'")]
    b[1].failed_on_rerun = True
    result = check(["import os", "os.mkdir('made')", "print('ok')"], a, b, rerun=True)
    assert (result.status, result.cell, result.cause) == (NOT_REPRODUCIBLE, 1, "error")
    assert result.reason == ("rerunning cell 1 (In [2]) raised FileExistsError: [Errno 17] File exists: 'made': its "
                             "first run went through, so it cannot run twice in a row as it does while a notebook is "
                             "edited")
    assert result.fix.startswith("make the cell safe to run again (say `os.makedirs(path, exist_ok=True)`")
    b[1].failed_on_rerun = False  # its first run raised: an error in one run only
    assert check(["import os", "os.mkdir('made')", "print('ok')"], a, b, rerun=True).reason.endswith("in one run only")


# Rule 4: the user's generators -------------------------------------------------------------------------------


def rng(state: str, kind: str = "numpy.Generator") -> dict[str, list[str]]:
    return {"rng": [kind, state]}


def test_a_user_generator_created_without_a_seed_here_or_earlier():
    a = [cell(0, probe()), cell(1, probe(users=rng("a1"))), cell(2, probe(users=rng("a2")), "0.1\n")]
    b = [cell(0, probe()), cell(1, probe(users=rng("b1"))), cell(2, probe(users=rng("b2")), "0.9\n")]
    sources = ["import numpy as np", "rng = np.random.default_rng()", "print(rng.random())"]
    result = check(sources, a, b)
    assert (result.cell, result.generator, result.later) == (1, "rng", (2,))
    assert result.reason == "cell 1 (In [2]) created `rng = np.random.default_rng()` without a seed"
    assert result.fix == "give it a seed: `np.random.default_rng(N)`"
    ignored = ["import numpy as np", "# NBVAL_IGNORE_OUTPUT\nrng = np.random.default_rng()", "print(rng.random())"]
    assert check(ignored, a, b).cell == 1  # ignoring outputs does not hide a generator
    seeded_badly = check(["import numpy as np", "rng = np.random.default_rng(time.time_ns())", "print(rng.random())"],
                         a, b)
    assert seeded_badly.reason == ("cell 1 (In [2]) created `rng = np.random.default_rng(time.time_ns())` in a "
                                   "different state in each run: it was seeded from OS entropy or from something that "
                                   "changes between runs")
    assert seeded_badly.fix == "give it a fixed seed: `np.random.default_rng(N)`"


@requires_torch
def test_a_torch_generator_made_without_a_seed_is_not_blamed_for_it_and_one_seeded_from_the_pid_is():
    assert torch.equal(torch.Generator().get_state(), torch.Generator().get_state())  # a fixed seed, not entropy

    def torch_rng(state: str) -> dict[str, list[str]]:
        return {"g": ["torch.Generator", state]}

    a = [cell(0, probe()), cell(1, probe(users=torch_rng("a1")))]
    b = [cell(0, probe()), cell(1, probe(users=torch_rng("b1")))]
    result = check(["import torch", "g = torch.Generator()"], a, b)
    assert result.reason == ("cell 1 (In [2]) created `g = torch.Generator()` in a different state in each run: it "
                             "was seeded from OS entropy or from something that changes between runs")
    assert result.fix == "give it a fixed seed: `torch.Generator().manual_seed(N)`"
    assert result.evidence == ("g after the cell: a1 in the first run, b1 in the second",)
    pid = check(["import torch, os", "g = torch.Generator()\ng.manual_seed(os.getpid())"], a, b)
    assert (pid.cell, pid.generator) == (1, "g")
    assert pid.reason == ("cell 1 (In [2]) seeds your generator `g` from `os.getpid()`, which comes from the process "
                          "id and differs between runs (`g.manual_seed(os.getpid())`)")
    assert pid.fix == "give it a fixed number instead: `g.manual_seed(N)`"
    numpy_rng = [cell(0, probe()), cell(1, probe(users={"g": ["RandomState", "a1"]}))], \
        [cell(0, probe()), cell(1, probe(users={"g": ["RandomState", "b1"]}))]
    made_then_seeded = check(["import numpy as np", "g = np.random.RandomState()\ng.seed(abs(hash('x')))"],
                             *numpy_rng)
    assert "without a seed" not in made_then_seeded.reason  # seeded on the next line


def test_a_user_generator_reseeded_from_entropy_by_its_own_method_is_named_with_the_line():
    def user(kind: str, state: str) -> dict[str, list[str]]:
        return {"g": [kind, state]}

    for kind, make, fix in (("torch.Generator", "g = torch.Generator()", "g.manual_seed(N)"),
                            ("RandomState", "g = np.random.RandomState(1)", "g.seed(N)")):
        a = [cell(0, probe(users=user(kind, "s"))), cell(1, probe(users=user(kind, "a1")))]
        b = [cell(0, probe(users=user(kind, "s"))), cell(1, probe(users=user(kind, "b1")))]
        later = check([make, "g.seed()"], a, b)
        assert (later.cell, later.generator) == (1, "g")
        assert later.reason == "cell 1 (In [2]) reseeds your generator `g` from OS entropy (`g.seed()`)"
        assert later.fix == f"give it a seed: `{fix}`"
        one_a, one_b = [cell(0, probe(users=user(kind, "a1")))], [cell(0, probe(users=user(kind, "b1")))]
        same_cell = check([f"{make}\ng.seed(None)"], one_a, one_b)  # not blamed on how it was made
        assert same_cell.reason == "cell 0 (In [1]) reseeds your generator `g` from OS entropy (`g.seed(None)`)"
    seeded = check(["g = np.random.RandomState(1)", "g.seed(5)"], a, b)
    assert "reseeds" not in seeded.reason


def test_a_user_generator_moved_by_a_rerun_is_fixed_by_creating_it_in_that_cell():
    a = [cell(0, probe(users=rng("s"))), cell(1, probe(users=rng("m1"))), cell(2, probe(users=rng("m2")), "1\n"),
         cell(3, probe(users=rng("m2")), "constant\n")]
    b = [cell(0, probe(users=rng("s"))), cell(1, probe(users=rng("r1")), first=probe(users=rng("m1"))),
         cell(2, probe(users=rng("r2")), "2\n"), cell(3, probe(users=rng("r2")), "constant\n")]
    sources = ["rng = np.random.default_rng(0)", "x = rng.random(2)", "print(rng.random(2))", "print('constant')"]
    result = check(sources, a, b, rerun=True)
    assert (result.cell, result.generator, result.later) == (2, "rng", ())  # the constant cell is not "later"
    assert result.reason == "rerunning cell 1 moved rng, which shifts the draws of cell 2 (In [3])"
    assert result.fix == ("create `rng` in cell 1 itself (`np.random.default_rng(N)`), so that every rerun starts it "
                          "afresh")


def test_a_user_generator_drawn_from_a_varying_number_of_times():
    a = [cell(0, probe(users=rng("s"))), cell(1, probe(users=rng("a1")), "1\n")]
    b = [cell(0, probe(users=rng("s"))), cell(1, probe(users=rng("b1")), "2\n")]
    result = check(["rng = np.random.default_rng(0)", "while time.time() < t:\n    rng.random()"], a, b)
    assert result.reason == ("cell 1 (In [2]) started with your generator `rng` in the same state in both runs and "
                             "left it in different states: it drew from it a varying number of times (time, data or "
                             "threads)")
    assert result.fix == "draw a fixed number of times from `rng`, or create it again with `np.random.default_rng(N)` " \
                         "after cell 1"


# Rule 5: only the outputs differ ---------------------------------------------------------------------------------


def test_a_value_from_the_clock_is_traced_to_the_cell_and_line_it_came_from_and_a_timing_is_not_blamed():
    values_a = [{"t": "t1", "start": "s1"}, {"t": "t1", "start": "s1", "x": "x"},
                {"t": "t1", "start": "s1", "x": "x", "y": "y1"}, {"t": "t1", "start": "s1", "x": "x", "y": "y1"},
                {"t": "t1", "start": "s1", "x": "x", "y": "y1"}]
    values_b = [{**v, "t": "t2", "start": "s2"} | ({"y": "y2"} if "y" in v else {}) for v in values_a]
    texts = ["", "", "", "123\n", "took some time\n"]
    a = [cell(i, probe(), texts[i], values_a[i]) for i in range(5)]
    b = [cell(i, probe(), texts[i] if i != 3 else "456\n", values_b[i]) for i in range(5)]
    sources = ["import time\nt = time.time_ns() // 1000\nstart = time.time()", "x = 1", "y = t % 1000", "print(y)",
               "print('took some time')"]
    notebook = new_notebook(cells=[new_markdown_cell("# clock"), *(new_code_cell(s) for s in sources)])
    for run in (a, b):
        for number, item in enumerate(run):
            item.index, item.count = number + 1, number + 1
    result = verdict("nb.ipynb", notebook, Run(a, hash_seed="1"), Run(b, hash_seed="2"), Options())
    assert (result.cell, result.cause, result.generator, result.later) == (4, "value", None, ())
    assert result.reason == ("cell 4 (In [4]) prints `y`, computed in cell 3 from `t`, which first differed after "
                             "cell 1 (`t = time.time_ns() // 1000`)")
    assert result.fix == ("make `t` the same on every run (it comes from the clock, a file, the network or threads), "
                          "or tag cell 4 nbval-ignore-output if its output may vary")
    assert "start" not in result.reason


def test_a_trace_quotes_the_binding_the_value_came_from_not_a_first_one_a_branch_replaced():
    a = [cell(0, probe(), values={"stamp": "s1"}), cell(1, probe(), "1.5\n", values={"stamp": "s1"})]
    b = [cell(0, probe(), values={"stamp": "s2"}), cell(1, probe(), "2.5\n", values={"stamp": "s2"})]
    for first, quoted in (("import time\nstamp = 0.0\nif time.time() > 0:\n    stamp = time.time() % 10",
                           "stamp = time.time() % 10"),
                          ("import time\nstamp = 0.0\nfor _ in range(2):\n    stamp += time.time() % 10\n"
                           "def later():\n    stamp = 1", "stamp += time.time() % 10"),  # not a helper's own local
                          ("import time\nwith open(__file__) if False else open('/dev/null') as stamp:\n    pass",
                           "with open(__file__) if False else open('/dev/null') as stamp:")):
        result = check([first, "print(stamp)"], a, b)
        assert result.reason == (f"cell 1 (In [2]) prints `stamp`, which first differed after cell 0 (`{quoted}`)"), \
            result.reason


def test_a_value_computed_with_a_generator_made_without_a_seed_differs_though_nothing_shows_it():
    """Outputs and states agree, but the data split a cell keeps (or saves) differs: not reproducible."""
    a = [cell(0, probe(), values={"idx": "i1", "t0": "t1"}), cell(1, probe(), "saved\n", values={"idx": "i1", "t0": "t1"})]
    b = [cell(0, probe(), values={"idx": "i2", "t0": "t2"}), cell(1, probe(), "saved\n", values={"idx": "i2", "t0": "t2"})]
    made = "import numpy as np, time\nt0 = time.time()\nidx = np.random.default_rng().permutation(10)"
    result = check([made, "np.save('split.npy', idx)\nprint('saved')"], a, b)
    assert (result.status, result.cell, result.cause, result.generator) == (NOT_REPRODUCIBLE, 0, "entropy", None)
    assert result.reason == ("cell 0 (In [1]) computes `idx` with a generator it makes without a seed "
                             "(`idx = np.random.default_rng().permutation(10)`): `idx` differs between the runs, "
                             "though no output shows it"), result.reason
    assert result.fix == "give it a seed: `np.random.default_rng(N)`"
    for fine in ("import numpy as np, time\nt0 = time.time()\nidx = np.random.default_rng(0).permutation(10)",
                 "import numpy as np, time\nt0 = time.time()\nrng = np.random.default_rng()\nidx = list(range(10))"):
        assert check([fine, "print('saved')"], a, b).status == REPRODUCIBLE, fine  # a time differs: not a draw


def test_outputs_that_differ_in_a_cell_that_starts_worker_processes_blame_the_workers():
    a = [cell(0, probe(NP)), cell(1, probe(NP), "[0.1, 0.2]\n")]
    b = [cell(0, probe(NP)), cell(1, probe(NP), "[0.3, 0.4]\n")]
    head = "import numpy as np\nfrom multiprocessing import Pool\nimport joblib, torch\ndef f(i):\n    return np.random.rand()"
    for line in ("with Pool(2) as pool:", "results = joblib.Parallel(n_jobs=2)(joblib.delayed(f)(i) for i in range(2))",
                 "loader = torch.utils.data.DataLoader(range(4), num_workers=2)"):
        result = check([head, f"{line}\n    print(pool.map(f, range(2)))" if line.endswith(":") else f"{line}\nprint(1)"],
                       a, b)
        assert (result.cell, result.cause) == (1, "output"), result
        assert result.reason == ("cell 1 (In [2]): outputs differ, and it runs work in other processes "
                                 f"(`{line}`): the order their results come back in, and what they draw (from their "
                                 "own generators, copied from this one when they start or seeded from OS entropy), "
                                 "the check cannot see")
        assert result.fix.startswith("gather the results in a fixed order (`map`, or sort them) and give each task "
                                     "its own seed")
        assert "seedmagic.pool_initializer" in result.fix and "seedmagic.worker_init_fn" in result.fix
    single = check([head, "loader = torch.utils.data.DataLoader(range(4), num_workers=0)\nprint(1)"], a, b)
    assert single.cause == "output"


def test_a_display_a_later_cell_updates_is_blamed_on_what_made_that_cell_differ():
    def runs(shown: str, x: str, numpy: str) -> list[CellRun]:
        imported = probe({"numpy": numpy + "0"}, imported=("numpy",))  # unseeded since its import
        cells = [cell(0, imported, shown), cell(1, probe({"numpy": numpy}, advanced=("numpy",)), values={"x": x}),
                 cell(2, probe({"numpy": numpy}), values={"x": x}), cell(3, probe({"numpy": numpy}), values={"x": x})]
        cells[0].updated = True
        return cells

    a, b = runs("mean=0.1\n", "x1", "a1"), runs("mean=0.7\n", "x2", "b1")
    sources = ["import numpy as np\nstatus = display('loading', display_id=True)", "x = np.random.rand(3)",
               "status.update('almost')", "status.update(f'mean={x.mean():.3f}')"]
    drawn = check(sources, a, b)  # cell 1's unseeded draw made cell 3's update differ: cell 1 comes first
    assert (drawn.cell, drawn.generator, drawn.later) == (1, "numpy", (0,)), drawn
    assert drawn.reason == "cell 1 (In [2]) drew from numpy while no seed controlled it"
    same = [runs("mean=0.1\n", "x", "n1"), runs("done in 0.2 s\n", "x", "n1")]
    timed = check(["import time\nstatus = display('starting', display_id=True)\nt0 = time.time()",
                   "status.update('loading data')", "x = 1", "status.update(f'done in {time.time() - t0:.4f} s')"],
                  *same)
    assert (timed.cell, timed.cause) == (0, "output"), timed
    assert timed.reason == ("cell 0 (In [1]) shows a display that cell 3 updates "
                            "(`status.update(f'done in {time.time() - t0:.4f} s')`), and what the update puts there "
                            "differs between runs: it calls `time.time()`, whose result comes from the clock")


def test_hash_order_is_said_only_when_a_third_kernel_showed_it():
    a = [cell(0, probe(), values={"words": "w"}), cell(1, probe(), "['b', 'a']\n", values={"words": "w"})]
    b = [cell(0, probe(), values={"words": "w"}), cell(1, probe(), "['a', 'b']\n", values={"words": "w"})]
    sources = ["words = ['a', 'b']", "print(list(set(words)))"]
    unknown = check(sources, a, b)
    assert unknown.cause == "output" and needs_hash_order(unknown, Run(a, hash_seed="1"), Run(b, hash_seed="2"))
    assert not needs_hash_order(unknown, Run(a, hash_seed=None), Run(b, hash_seed=None))  # pinned by the kernelspec
    assert unknown.reason == ("cell 1 (In [2]): outputs differ but every generator's state is identical after the "
                              "cell, and no value it reads that the check can fingerprint differs (numbers, strings, "
                              "arrays, tensors; not objects such as a model or a DataFrame): the difference does not "
                              "come from a global random generator (time, hashing, threads, data, memory never written "
                              "such as `np.empty` gives, an object's address, or what such an object holds)")
    shown = check(sources, a, b, hash_order=True)
    assert (shown.cause, shown.generator) == ("hash-order", None)
    assert shown.reason == ("cell 1 (In [2]): the outputs differ between kernels with different PYTHONHASHSEED and "
                            "agree when it is the same: they follow the order of str hashes (a set, or a dict built "
                            "from one)")
    assert shown.fix == "iterate in a fixed order (`sorted(...)`), or pin PYTHONHASHSEED in the kernelspec's env"
    assert check(sources, a, b, hash_order=False).cause == "output"
    traced_a = [cell(0, probe(), values={"u": "u1"}), cell(1, probe(), "['b']\n", values={"u": "u1"})]
    traced_b = [cell(0, probe(), values={"u": "u2"}), cell(1, probe(), "['a']\n", values={"u": "u2"})]
    traced = check(["u = list(set(words))", "print(u)"], traced_a, traced_b, hash_order=True)
    assert traced.reason.startswith("cell 1 (In [2]) prints `u`, which first differed after cell 0 "
                                    "(`u = list(set(words))`); the outputs differ between kernels")
    assert traced.fix.startswith("iterate in a fixed order in cell 0 (`sorted(...)`)")  # where the order is made


def test_a_shown_varying_call_gives_way_to_hash_order_the_kernels_showed_and_to_a_generator_made_in_the_cell():
    a, b = [cell(0, probe(), "Report 2026: a, b\n")], [cell(0, probe(), "Report 2026: b, a\n")]
    year = ["import datetime\nprint(f'Report {datetime.date.today().year}:', ', '.join({'a', 'b'}))"]
    first = check(year, a, b)
    assert first.cause == "value" and needs_hash_order(first, Run(a, hash_seed="1"), Run(b, hash_seed="2"))
    assert check(year, a, b, hash_order=True).cause == "hash-order"
    assert check(year, a, b, hash_order=False).cause == "value"
    timed = ["import time\nt0 = time.time()\nvocab = {'apple', 'fig'}\nprint(list(vocab))\nelapsed = time.time() - t0"]
    unshown = check(timed, a, b)  # the clock is read, never shown: the kernels decide
    assert needs_hash_order(unshown, Run(a, hash_seed="1"), Run(b, hash_seed="2"))
    assert check(timed, a, b, hash_order=True).cause == "hash-order"
    local = check(["import time\nimport numpy as np\nt0 = time.time()\n"
                   "sample = np.random.default_rng().normal(size=3).round(3)\nprint(sample, f'({time.time() - t0:.0f} s)')"],
                  a, b)
    assert (local.cause, local.fix) == ("entropy", "give it a seed: `np.random.default_rng(N)`"), local


def test_outputs_that_differ_only_in_what_is_normalised_are_not_the_evidence():
    timing_a, timing_b = "3.48 ms ± 513 μs per loop (mean ± std. dev. of 7 runs, 100 loops each)\n", \
        "3.41 ms ± 490 μs per loop (mean ± std. dev. of 7 runs, 100 loops each)\n"
    a = [cell(0, probe({"random": "r0"})), cell(1, probe({"random": "a1"}, advanced=("random",)), timing_a)]
    b = [cell(0, probe({"random": "r0"})), cell(1, probe({"random": "b1"}, advanced=("random",)), timing_b)]
    result = check(["import random", "L = [random.random() for i in range(100000)]\n%timeit L.sort()"], a, b)
    assert (result.cell, result.generator) == (1, "random")
    assert result.evidence == ("random after the cell: a1 in the first run, b1 in the second",)
    assert result.outputs == {"first": timing_a, "second": timing_a}


def test_hash_of_a_str_is_named_as_such_and_a_pid_is_not_taken_for_hash_order():
    a = [cell(0, probe(), "test users: ['bob']\n")]
    b = [cell(0, probe(), "test users: ['alice', 'erin']\n")]
    hashed = check(["users = ['alice', 'bob', 'erin']\nprint('test users:', [u for u in users if hash(u) % 3 == 0])"],
                   a, b, hash_order=True)
    assert hashed.cause == "hash-order"
    assert hashed.reason.endswith("they follow str hashes (`hash()` of a str, or the order of a set)")
    assert hashed.fix == ("iterate in a fixed order (`sorted(...)`) and hash str with what does not depend on "
                          "PYTHONHASHSEED (`zlib.crc32(text.encode())`, `hashlib`), or pin PYTHONHASHSEED in the "
                          "kernelspec's env")
    a, b = [cell(0, probe(), "even worker\n")], [cell(0, probe(), "odd worker\n")]
    pid = ["import os\nprint('even worker' if os.getpid() % 2 == 0 else 'odd worker')"]
    found = check(pid, a, b)  # the hash-order kernels, started in order, share the runs' pid parity
    assert not needs_hash_order(found, Run(a, hash_seed="1"), Run(b, hash_seed="2"))
    for shown in (found, check(pid, a, b, hash_order=True)):
        assert (shown.cause, shown.reason) == ("value", "cell 0 (In [1]) prints the result of `os.getpid()`, which "
                                               "comes from the process id and differs between runs")


def test_draws_a_cell_undid_from_a_generator_never_seeded():
    a = [cell(0, probe({"torch": "a0"})), cell(1, probe({"torch": "a0"}), "tensor([0.1])\n")]
    b = [cell(0, probe({"torch": "b0"})), cell(1, probe({"torch": "b0"}), "tensor([0.9])\n")]
    result = check(["import torch", "with torch.random.fork_rng():\n    print(torch.rand(1))"], a, b)
    assert (result.cell, result.generator) == (1, "torch")
    assert result.reason == ("cell 1 (In [2]) draws from torch inside a block that puts its state back (fork_rng, "
                             "get_state/set_state): torch began that block in a different state in each run, as no "
                             "seed controlled it")
    no_restore = check(["import torch", "print(open('data.txt').read())"], a, b)
    assert no_restore.cause == "output"  # torch differs, but the cell neither uses nor restores it
    imported_a = [cell(0, probe({"torch": "a0"}, imported=("torch",)), "tensor([0.1])\n")]
    imported_b = [cell(0, probe({"torch": "b0"}, imported=("torch",)), "tensor([0.9])\n")]
    imported = check(["import torch\nprint(torch.rand(1))"], imported_a, imported_b)
    assert imported.reason == ("cell 0 (In [1]) imported torch and its outputs differ: torch starts from OS entropy, "
                               "in another state in each run, and no seed controlled it")


def test_outputs_that_differ_with_some_generator_apart_say_so():
    a = [cell(0, probe({"numpy": "a"}), "1\n")]
    b = [cell(0, probe({"numpy": "b"}), "2\n")]
    result = check(["print(open('data.txt').read())"], a, b)
    assert "every generator the cell drew from is in the same state in both runs" in result.reason


def test_outputs_from_a_generator_made_without_a_seed_that_does_not_outlive_the_cell_name_it():
    """A generator made inside a function leaves no state behind to compare: the cell's text names it."""
    source = "def make():\n    return np.random.default_rng().normal(size=2)\nprint(make())"
    a = [cell(0, probe(NP, imported=("numpy",))), cell(1, probe(NP), "[0.1 0.2]\n")]
    b = [cell(0, probe(NP, imported=("numpy",))), cell(1, probe(NP), "[0.3 0.4]\n")]
    result = check(["import numpy as np", source], a, b)
    assert (result.cell, result.cause) == (1, "entropy")
    assert result.reason == ("cell 1 (In [2]) makes a generator without a seed (`return np.random.default_rng()"
                             ".normal(size=2)`): it is seeded from OS entropy in each run, so what it draws differs")
    assert result.fix == "give it a seed: `np.random.default_rng(N)`"
    seeded = check(["import numpy as np", source.replace("default_rng()", "default_rng(5)")], a, b)
    assert seeded.cause == "output"  # a seeded one does not explain outputs that differ
    star = check(["from numpy.random import *", source.replace("np.random.", "")], a, b)  # through a star import
    assert (star.cause, star.fix) == ("entropy", "give it a seed: `default_rng(N)`")
    # torch.Generator() starts from a fixed seed, and a notebook's own Generator class is no library's
    for other in ("import torch\ndef make():\n    return torch.Generator()\nprint(make())",
                  "class Generator:\n    pass\nprint(Generator())"):
        assert check(["import numpy as np", other], a, b).cause == "output", other


def test_outputs_from_an_unseeded_generator_made_by_a_function_or_object_of_an_earlier_cell_name_that_cell():
    maker = "import numpy as np\nclass Model:\n    def __init__(self):\n        self.rng = np.random.default_rng()"
    a = [cell(0, probe(NP)), cell(1, probe(NP)), cell(2, probe(NP), "0.1\n")]
    b = [cell(0, probe(NP)), cell(1, probe(NP)), cell(2, probe(NP), "0.7\n")]
    result = check([maker, "model = Model()", "print(model.rng.random())"], a, b)  # through `model`, then `Model`
    assert (result.cell, result.cause) == (2, "entropy"), result
    assert result.reason == ("cell 2 (In [3]): outputs differ, and it uses what cell 0 defines, which makes a "
                             "generator without a seed (`self.rng = np.random.default_rng()`): it is seeded from OS "
                             "entropy in each run, so what it draws differs")
    assert result.fix == "give it a seed in cell 0: `np.random.default_rng(N)`"
    unrelated = check([maker, "other = 1", "print(other)"], a, b)  # the cell uses nothing of cell 0's
    assert unrelated.cause == "output"
    helper = ("import tempfile\nimport numpy as np\ndef augment(x):\n    rng = np.random.default_rng()\n"
              "    return x + rng.normal(size=x.shape)\nworkdir = tempfile.TemporaryDirectory()")
    unused = check([helper, "x = 1", "print(workdir.name)"], a, b)  # it uses cell 0's workdir, never augment
    assert unused.cause == "output", unused
    used = check([helper, "x = 1", "print(augment(np.zeros(2)))"], a, b)
    assert (used.cause, used.cell) == ("entropy", 2)
    seeded = check([maker.replace("default_rng()", "default_rng(3)"), "model = Model()", "print(model.rng.random())"],
                   a, b)
    assert seeded.cause == "output"


def test_a_third_run_agrees_only_when_every_cell_up_to_the_divergent_one_agrees():
    notebook = new_notebook(cells=[new_code_cell("x"), new_code_cell("y")])
    a = Run([cell(0, probe(), "1\n"), cell(1, probe(), "2\n")])
    assert same_outputs(notebook, a, Run([cell(0, probe(), "1\n"), cell(1, probe(), "2\n")]), 1, Options())
    assert not same_outputs(notebook, a, Run([cell(0, probe(), "1\n"), cell(1, probe(), "3\n")]), 1, Options())
    assert not same_outputs(notebook, a, Run([cell(0, probe(), "1\n")]), 1, Options())  # it stopped before


# Evidence and reports -------------------------------------------------------------------------------------------


def test_evidence_is_side_by_side_for_short_outputs_a_diff_for_long_ones_and_a_window_on_one_long_line():
    shown, lines = evidence("0.5\n", "0.7\n")
    assert shown == {"first": "0.5\n", "second": "0.7\n"} and lines == ("first run:  0.5", "second run: 0.7")
    many_a = "".join(f"row {n}\n" for n in range(40))
    many_b = many_a.replace("row 20\n", "row twenty\n")
    _, diff = evidence(many_a, many_b)
    assert diff[:2] == ("--- first run", "+++ second run") and "-row 20" in diff and "+row twenty" in diff
    long_a, long_b = "x" * 100_000 + "A" + "y" * 100, "x" * 100_000 + "B" + "y" * 100
    shown, window = evidence(long_a, long_b)
    assert shown["first"].endswith("more characters)") and len(shown["first"]) < 400
    assert window[0].startswith("first run:  ...") and "A" in window[0] and "B" in window[1]
    assert max(map(len, window)) < 200
    assert evidence("same\n", "same\n") == ({"first": "same\n", "second": "same\n"}, ())


def test_the_table_json_and_bad_input_lines():
    ok = Result("a.ipynb", REPRODUCIBLE, reason="fine", seconds=1.0)
    bad = Result("b.ipynb", NOT_REPRODUCIBLE, 4, "numpy", "numpy", "cell 4 (In [3]) drew from numpy", "add %seed",
                 (5,), {"first": "1\n", "second": "2\n"}, ("first run:  1", "second run: 2"), seconds=2.0)
    error = Result("c.ipynb", ERROR, 0, None, "error", "cell 0 (In [1]) raised X in both runs", "fix the cell")
    text = table([ok, bad, error])
    assert text.splitlines()[0].split() == ["notebook", "result", "cell", "cause", "time"]
    assert "b.ipynb\n  cell 4 (In [3]) drew from numpy\n    first run:  1\n    second run: 2\n  fix: add %seed\n" \
           "  later cells that differ too: 5" in text
    assert "c.ipynb" not in text
    assert bad_input_lines([ok, bad, error]) == ["seedmagic check: c.ipynb: cell 0 (In [1]) raised X in both runs; "
                                                 "fix: fix the cell"]
    assert (exit_code([ok]), exit_code([ok, bad]), exit_code([bad, error]), exit_code([])) == (0, 1, 2, 2)
    assert bad.to_json() == {"notebook": "b.ipynb", "reproducible": False, "status": "not reproducible",
                             "first_divergent_cell": 4, "generator": "numpy", "cause": "numpy",
                             "reason": "cell 4 (In [3]) drew from numpy", "fix": "add %seed", "later_cells": [5],
                             "outputs": {"first": "1\n", "second": "2\n"}, "note": None}
    assert error.to_json()["status"] == "error" and error.exit_code == 2


# The record -------------------------------------------------------------------------------------------------------


def recorded_run(draw: str = "d1") -> Run:
    """The three code cells of ``recorded_notebook`` (cells 1 to 3, In [1] to In [3])."""
    cells = [cell(1, probe({"numpy": "s"}, advanced=())), cell(2, probe({"numpy": draw}, advanced=("numpy",))),
             cell(3, probe({"numpy": draw}))]
    for count, item in enumerate(cells, 1):
        item.count = count
    return Run(cells, versions={"python": "3.11.7", "numpy": "2.0.0", "torch": None})


def recorded_notebook() -> Any:
    return new_notebook(cells=[new_markdown_cell("# t"), new_code_cell("import numpy as np"),
                               new_code_cell("np.random.rand()"), new_code_cell("print('hi')")])


def test_a_record_survives_markdown_cells_and_says_out_of_date_for_an_edited_code_cell():
    notebook = recorded_notebook()
    record = json.loads(json.dumps(make_record(notebook, recorded_run())))
    assert [cell["draws"] for cell in record["cells"]] == [{}, {"numpy": "d1"}, {}]
    same = compare_record("nb", notebook, record, recorded_run())
    assert same.divergence is None
    assert same.note == "every cell's draws match metadata.seedmagic, made with python 3.11.7, numpy 2.0.0"
    notebook.cells.insert(2, new_markdown_cell("more prose"))  # the code cells move in the file
    moved = recorded_run()
    for item, index in zip(moved.cells, (1, 3, 4), strict=True):
        item.index = index
    assert compare_record("nb", notebook, record, moved).divergence is None
    notebook.cells[4].source = "print('hello')"  # a cell that draws nothing, edited
    stale = compare_record("nb", notebook, record, moved)
    assert stale.divergence is None
    assert stale.note == ("the record is out of date from cell 4 (In [3]) on (the cell changed since it was "
                          "recorded); the cells before it draw as recorded; record again (seedmagic check --record)")
    shorter = compare_record("nb", notebook, {**record, "cells": record["cells"][:2]}, moved)
    assert shorter.note.startswith("the record lists 2 code cells, the notebook runs 3")


def test_different_draws_under_an_unchanged_cell_are_not_reproducible_with_the_version_that_changed():
    notebook = recorded_notebook()
    record = make_record(notebook, recorded_run())
    record["versions"]["numpy"] = "1.26.4"
    changed = compare_record("nb", notebook, record, recorded_run("d2")).divergence
    assert changed is not None and (changed.status, changed.cell, changed.generator, changed.cause) == \
        (NOT_REPRODUCIBLE, 2, "numpy", "record")
    assert changed.reason == ("cell 2 (In [2]) drew other numbers from numpy than when the notebook was recorded: "
                              "numpy 1.26.4 → 2.0.0: NumPy does not promise the same stream across versions")
    assert changed.fix == ("install numpy 1.26.4 to reproduce the record, or record again (seedmagic check --record) "
                           "to accept the new stream")
    record["versions"]["numpy"] = "2.0.0"
    same_versions = compare_record("nb", notebook, record, recorded_run("d2")).divergence
    assert same_versions is not None and same_versions.reason.endswith(
        "with the same library versions: the platform or what the notebook reads differs")


@pytest.mark.parametrize("record, problem", [
    ([], "it is not an object"),
    ({"format": 2, "cells": []}, "its format is 2, not 1"),
    ({"format": 1}, "it has no list of cells"),
    ({"format": 1, "cells": ["x"]}, "cells[0] is not a cell's checksum and draws"),
    ({"format": 1, "cells": [{"source": 3}]}, "cells[0] is not a cell's checksum and draws"),
    ({"format": 1, "cells": [{"source": "a", "draws": {"numpy": 5}}]}, "cells[0] is not a cell's checksum and draws"),
    ({"format": 1, "versions": [], "cells": []}, "its versions are not names and version strings"),
])
def test_a_malformed_record_is_one_line(record, problem):
    with pytest.raises(BadInput) as refused:
        compare_record("nb", recorded_notebook(), record, recorded_run())
    assert str(refused.value) == (f"nb: metadata.seedmagic is not a record this seedmagic can read ({problem}); "
                                  "write a new one with --record")


def test_the_record_is_written_through_a_symbolic_link_which_stays_a_link(tmp_path):
    target = tmp_path / "real.ipynb"
    nbformat.write(recorded_notebook(), target)
    link = tmp_path / "link.ipynb"
    link.symlink_to(target)
    os.chmod(target, 0o640)
    write_record(link, {"format": 1, "versions": {}, "cells": []})
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text())["metadata"]["seedmagic"] == {"format": 1, "versions": {}, "cells": []}
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(path.name for path in tmp_path.iterdir()) == ["link.ipynb", "real.ipynb"]


def test_a_notebook_without_cell_ids_is_read_without_warnings_and_recorded_without_new_ids(tmp_path):
    """nbformat 4.5 wants cell ids; nbformat adds random ones (and warns) when it reads a notebook that has none."""
    path = tmp_path / "old.ipynb"
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": ["x = 1"]}]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_notebook(path).cells[0].source == "x = 1"
    write_record(path, {"format": 1, "versions": {}, "cells": []})
    written = json.loads(path.read_text())
    assert written["cells"] == cells and written["metadata"] == {"seedmagic": {"format": 1, "versions": {},
                                                                                "cells": []}}


def test_a_folder_is_searched_for_notebooks_as_pytest_searches_for_tests(tmp_path):
    kept = ["a.ipynb", "sub/b.ipynb"]
    skipped = [".ipynb_checkpoints/a-checkpoint.ipynb", ".venv/lib/x.ipynb", "env2/share/y.ipynb",
               "node_modules/pkg/z.ipynb", ".seedmagic-run-abc/a.ipynb", "build/c.ipynb", "sub/__pycache__/d.ipynb",
               "sub/.~b.ipynb"]
    for name in kept + skipped:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    (tmp_path / "env2" / "pyvenv.cfg").write_text("home = /usr/bin\n")  # a virtual environment by another name
    assert notebook_paths([str(tmp_path)]) == [tmp_path / name for name in kept]
    assert notebook_paths([str(tmp_path / ".venv")]) == [tmp_path / ".venv/lib/x.ipynb"]  # named, it is searched
    assert notebook_paths([str(tmp_path / "build" / "c.ipynb"), "gone.ipynb"]) == [
        tmp_path / "build" / "c.ipynb", pathlib.Path("gone.ipynb")]


def test_a_pipe_is_refused_before_it_is_opened_as_a_notebook_or_as_sanitisers(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    for read in (read_notebook, read_sanitisers):
        with pytest.raises(BadInput, match="not a regular file"):
            read(tmp_path / "pipe")


# Reading the source -------------------------------------------------------------------------------------------------


def test_a_module_bound_to_a_name_is_read_as_the_module_until_the_name_is_rebound():
    imports = aliases(["npr = np.random\nseed = npr.seed"], aliases(["import numpy as np"]))
    assert imports == {"npr": "numpy.random", "seed": "numpy.random.seed"}
    assert CellSource("npr.seed(3)", imports).always_seeds("numpy")
    assert CellSource("seed(3)", imports).always_seeds("numpy")
    later = {**imports, **aliases(["npr = make_thing()"], imports)}
    assert not CellSource("npr.seed(3)", later).always_seeds("numpy")
    assert aliases(["x = other.thing"], {"np": "numpy"}) == {}  # not a part of an import


@pytest.mark.parametrize("line, generators", [
    ("%seed 3", {"random", "numpy", "torch"}),
    ("%seed {SEED}", {"random", "numpy", "torch"}),
    ("%seed --only numpy,torch 3", {"numpy", "torch"}),
    ("%seed --skip numpy 3", {"random", "torch"}),
    ("%seed --keep 3 x = np.random.rand()", {"random", "numpy", "torch"}),
    ("%seed 3 np.random.rand()", set()),  # run under the seed, then restored
    ("%seed", set()),
    ("%seed --save state.json", set()),
    ("%seed --name train", set()),
    ("seedmagic.seed(3)", {"random", "numpy", "torch"}),
    ("if ready:\n    %seed 3", set()),
])
def test_seedmagics_own_seedings_count_as_seeding_by_hand(line, generators):
    imports = aliases(["import numpy as np\nimport seedmagic"])
    cell = CellSource(line, imports)
    assert {name for name in ("random", "numpy", "torch") if cell.always_seeds(name)} == generators


def test_what_a_cell_reads_assigns_and_reseeds_through_magics_and_aliases():
    imports = aliases(["import numpy as np\nfrom numpy.random import seed as reseed\nimport torch", "x = 1"])
    assert imports == {"np": "numpy", "reseed": "numpy.random.seed", "torch": "torch"}
    magic = CellSource("%%seeded 3\ny = x + np.random.rand()\nprint(f'{y}')", imports)
    assert magic.reads == ["x", "np", "print", "y"] and magic.assignment("y") == "y = x + np.random.rand()"
    assert CellSource("%%writefile $script\nimport os\nprint(secret)", imports).reads == ["script"]
    assert CellSource("%seed 3\nreseed()\nnp.random.seed(None)\ntorch.cuda.seed_all()",
                      imports).entropy_reseeds() == {"numpy": "reseed()", "torch.cuda": "torch.cuda.seed_all()"}
    assert CellSource("np.random.seed(3)\ntorch.seed", imports).entropy_reseeds() == {}
    # None given by keyword is no seed either; options passed on (``**options``) may hold one
    assert CellSource("np.random.seed(seed=None)", imports).entropy_reseeds() == {"numpy": "np.random.seed(seed=None)"}
    assert CellSource("np.random.seed(**options)\nnp.random.seed(seed=3)", imports).entropy_reseeds() == {}
    assert CellSource("rng = np.random.default_rng(seed=None)", imports).created_unseeded("rng")
    # a SeedSequence given no entropy takes it from the OS; one given a seed does not
    assert CellSource("rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence()))",
                      imports).created_unseeded("rng")
    assert CellSource("np.random.set_bit_generator(np.random.SFC64(seed=np.random.SeedSequence(None)))",
                      imports).entropy_reseeds()["numpy"].startswith("np.random.set_bit_generator(")
    assert not CellSource("rng = np.random.default_rng(np.random.SeedSequence(5))", imports).created_unseeded("rng")
    assert CellSource("rngs = [np.random.default_rng()]").assignment("rngs[0]") == "rngs = [np.random.default_rng()]"
    assert CellSource("with torch.random.fork_rng():\n    pass", imports).restores()
    assert CellSource("np.mean([1])", imports).uses("numpy") and not CellSource("x = 1", imports).uses("numpy")
    broken = CellSource("def (:")
    assert (broken.reads, broken.assignment("x"), broken.entropy_reseeds()) == ([], None, {})


def test_a_seeding_from_hash_of_a_str_is_named_with_pythonhashseed():
    a = [cell(0, probe({"numpy": "a0"})), cell(1, probe({"numpy": "a1"}, advanced=("numpy",)), "0.1\n")]
    b = [cell(0, probe({"numpy": "b0"})), cell(1, probe({"numpy": "b1"}, advanced=("numpy",)), "0.2\n")]
    for seeding, line in (("np.random.seed(hash('experiment-1') % 2**32)", "np.random.seed(hash('experiment-1') % 2**32)"),
                          ("SEED = abs(hash(name)) % 1000\nnp.random.seed(SEED)", "np.random.seed(SEED)")):
        result = check([f"import numpy as np\nname = 'run-a'\n{seeding}", "print(np.random.rand())"], a, b)
        assert (result.cell, result.generator, result.cause) == (1, "numpy", "numpy")
        assert result.reason == (f"cell 0 (In [1]) seeds numpy from `hash()` (`{line}`): the hash of a str follows "
                                 "PYTHONHASHSEED, which differs from run to run, and cell 1 (In [2]) drew from it")
        assert "zlib.crc32" in result.fix and "pin PYTHONHASHSEED" in result.fix
    plain = check(["import numpy as np\nSEED = 3\nnp.random.seed(SEED)\nx = hash('a')", "print(np.random.rand())"],
                  a, b)
    assert "hash" not in plain.reason  # a hash beside a fixed seed is not what seeds it
    numbers = check(["import numpy as np\nfold = 3\nnp.random.seed(hash((fold, 17)) % 2**32)", "print(np.random.rand())"],
                    a, b)
    assert "hash" not in numbers.reason  # a hash of numbers does not follow PYTHONHASHSEED
    named = check(["import numpy as np\nnp.random.seed(hash(('run', 3)) % 2**32)", "print(np.random.rand())"], a, b)
    assert "seeds numpy from `hash()`" in named.reason


def test_a_timeit_that_draws_as_many_times_as_fit_in_its_time_is_not_reproducible():
    """Both runs ran on one machine, so the loop counts agreed: on another they will not."""
    same = [cell(0, probe(NP)), cell(1, probe({"numpy": "n1"}, advanced=("numpy",))),
            cell(2, probe({"numpy": "n2"}, advanced=("numpy",)), "0.5\n")]
    for timed, line in (("%timeit np.random.rand(100)", "%timeit np.random.rand(100)"),
                        ("%timeit -r 3 -q np.random.rand(100)", "%timeit -r 3 -q np.random.rand(100)"),
                        ("%%timeit\nnp.random.normal(size=3)", "%%timeit")):
        result = check(["import numpy as np\nnp.random.seed(0)", timed, "print(np.random.rand())"], same, same)
        assert (result.status, result.cell, result.generator) == (NOT_REPRODUCIBLE, 1, "numpy"), (timed, result)
        assert result.reason == (f"cell 1 (In [2]) times draws from numpy (`{line}`): %timeit runs as many loops as fit "
                                 "in its time, so how many numbers it draws depends on the machine's speed")
        assert result.fix.startswith("give %timeit a fixed number of loops (`%timeit -n 100 -r 3 ...`)")
    for fine in ("%timeit -n 100 -r 3 np.random.rand(100)", "a = np.ones(3)\n%timeit a.sum()",
                 "%%seeded 1\n%timeit np.random.rand(3)", "with seedmagic.seeded(1):\n    %timeit np.random.rand(3)",
                 "rng = np.random.default_rng(0)\n%timeit rng.random()",  # its own generator: not a global one
                 "%timeit np.random.rand(3)\nnp.random.seed(1)\nprint(np.random.rand(3))",  # seeded again after it
                 "%timeit np.random.seed(0); np.random.rand(100)",  # each loop seeds it first
                 "import random\n%timeit random.SystemRandom().random()"):  # the OS's entropy, not random's generator
        assert check(["import numpy as np, seedmagic\nnp.random.seed(0)", fine, "print(1)"], same,
                     same).status == REPRODUCIBLE, fine
    # seeded again in the next cell before any draw: also where the loop counts differed between the runs
    reseeded = ["import numpy as np\nnp.random.seed(0)", "%timeit np.random.rand(100)",
                "np.random.seed(1)\nprint(np.random.rand())"]
    assert check(reseeded, same, same).status == REPRODUCIBLE
    parted = [cell(0, probe(NP)), cell(1, probe({"numpy": "n1a"}, advanced=("numpy",))),
              cell(2, probe({"numpy": "n2"}, advanced=("numpy",)), "0.5\n")]
    other = [parted[0], cell(1, probe({"numpy": "n1b"}, advanced=("numpy",))), parted[2]]
    assert check(reseeded, parted, other).status == REPRODUCIBLE
    drawn = check(reseeded[:2] + ["print(np.random.rand())\nnp.random.seed(1)"], parted, other)
    assert (drawn.status, drawn.cell) == (NOT_REPRODUCIBLE, 1)


def test_a_cell_that_seeds_by_hand_from_a_varying_value_is_not_called_unseeded():
    a = [cell(0, probe({"random": "a0"})), cell(1, probe({"random": "a1"}, advanced=("random",)), "0.1\n")]
    b = [cell(0, probe({"random": "b0"})), cell(1, probe({"random": "b1"}, advanced=("random",)), "0.2\n")]
    clock = check(["import random, time\nrandom.seed(time.time_ns())", "print(random.random())"], a, b)
    assert (clock.cell, clock.generator) == (1, "random")
    assert clock.reason == ("cell 0 (In [1]) seeds random from `time.time_ns()`, which comes from the clock and "
                            "differs between runs (`random.seed(time.time_ns())`), and cell 1 (In [2]) drew from it")
    assert clock.fix == "seed it with a fixed number: `random.seed(N)`"
    draws = check(["import random, time\nrandom.seed(0)\nfor _ in range(time.time_ns() % 3): random.random()",
                   "print(random.random())"], a, b)
    assert draws.reason == ("cell 0 (In [1]) seeds random by hand, yet leaves it in a different state in each "
                            "run: it seeds it from a value that varies or then draws from it a varying number of "
                            "times, and cell 1 (In [2]) drew from it"), draws.reason
    assert draws.fix.startswith("draw a fixed number of times, or reseed random at the end of cell 0")


def test_seeding_from_the_clock_is_not_reproducible_even_when_both_runs_read_the_same_second():
    same = [cell(0, probe(NP)), cell(1, probe({"numpy": "n1"}, advanced=("numpy",)), "0.5\n")]
    result = check(["import numpy as np, time\nnow = int(time.time())\nnp.random.seed(now)",
                    "print(np.random.rand())"], same, same)
    assert (result.status, result.cell, result.generator, result.cause) == (NOT_REPRODUCIBLE, 0, "numpy", "numpy")
    assert result.reason == ("cell 0 (In [1]) seeds numpy from `time.time()`, which comes from the clock and differs "
                             "between runs (`np.random.seed(now)`): these two runs read the same value, another run "
                             "will not")
    assert result.fix == "seed it with a fixed number: `np.random.seed(N)`"
    user = check(["import numpy as np, os\nrng = np.random.default_rng(os.getpid())", "print(rng.random())"],
                 same, same)
    assert (user.cell, user.generator, user.cause) == (0, None, "value")
    assert user.fix == "give it a fixed number instead of `os.getpid()`'s"
    for fine in ("import numpy as np, time\nnp.random.seed(1)\nstart = time.time()",  # a timing beside a seed
                 "import numpy as np, time\ndef later():\n    np.random.seed(int(time.time()))",  # never called
                 "import random\nrandom.seed(hash('a'))"):  # fixed where PYTHONHASHSEED is pinned
        assert check([fine, "print(1)"], same, same).status == REPRODUCIBLE, fine


def test_seeding_from_the_clock_through_dates_a_generator_made_on_the_spot_a_list_or_a_timed_line_is_found():
    same = [cell(0, probe(NP)), cell(1, probe({"numpy": "n1"}, advanced=("numpy",)), "0.5\n")]
    head = "import time\nimport numpy as np\nimport pandas as pd\nimport torch\n"
    for line, call in (("np.random.seed(int(np.datetime64('now').astype(int)))", "numpy.datetime64"),
                       ("np.random.seed(np.datetime64('today').astype(int) % 1000)", "numpy.datetime64"),
                       ("np.random.seed(pd.Timestamp.now().microsecond)", "pandas.Timestamp.now"),
                       ("np.random.seed(pd.Timestamp('now').second)", "pandas.Timestamp"),
                       ("np.random.seed(pd.to_datetime('today').day)", "pandas.to_datetime"),
                       ("g = torch.Generator().manual_seed(int(time.time()))", "time.time"),
                       ("%time np.random.seed(int(time.time()))", "time.time"),
                       ("%prun -q np.random.seed(int(time.time()))", None)):
        found = check([head + line, "print(1)"], same, same)
        if call is None:  # %prun's options come first: its line is not read as code (a miss, not a false alarm)
            assert found.status == REPRODUCIBLE, line
            continue
        assert found.status == NOT_REPRODUCIBLE and f"(`{line}`)" in found.reason, (line, found)
        assert f"from `{call}()`, which comes from the clock" in found.reason, found.reason
    for line, found in ((head + "seeds = [int(time.time()), 1]\nnp.random.seed(seeds[0])", "np.random.seed(seeds[0])"),
                        (head + "def get_seed():\n    return int(time.time())\nnp.random.seed(get_seed())",
                         "np.random.seed(get_seed())"),  # a helper's return value
                        (head + "from sklearn.model_selection import train_test_split\n"
                         "train_test_split([1, 2, 3], random_state=int(time.time()))",
                         "train_test_split([1, 2, 3], random_state=int(time.time()))"),  # any library's random_state
                        (head + "df = pd.DataFrame({'a': [1]}).sample(1, random_state=time.time_ns() % 2**32)",
                         "df = pd.DataFrame({'a': [1]}).sample(1, random_state=time.time_ns() % 2**32)"),
                        (head + "seed = 0\nseed += int(time.time())\nnp.random.seed(seed)", "np.random.seed(seed)"),
                        (head + "np.random.seed(time.clock_gettime_ns(time.CLOCK_REALTIME) % 2**32)",
                         "np.random.seed(time.clock_gettime_ns(time.CLOCK_REALTIME) % 2**32)"),
                        (head + "import os\nnp.random.seed(os.getppid())", "np.random.seed(os.getppid())"),
                        (head + "seeds = [42, time.time_ns()]\nnp.random.seed(seeds[-1])", "np.random.seed(seeds[-1])")):
        flagged = check([line, "print(1)"], same, same)
        assert flagged.status == NOT_REPRODUCIBLE and f"(`{found}`)" in flagged.reason, (line, flagged)
    for fine in ("def get_seed(fixed=True):\n    if fixed:\n        return 42\n    return int(time.time())\n"
                 "np.random.seed(get_seed())",  # an earlier return in a branch
                 "def get_seed():\n    return 42\nnp.random.seed(get_seed())",
                 "params = dict(random_state=int(time.time()))\nparams['random_state'] = 0",  # a value kept for later
                 "config = dict(seed=int(time.time()))",  # seed= names a setting as often as it seeds
                 # a part of a helper's result, or a part of a part: the source does not tell which
                 "def load_config():\n    return {'seed': 42, 'run': f'run-{time.time():.0f}'}\n"
                 "np.random.seed(load_config()['seed'])",
                 "trials = [(1, time.time()), (2, time.time())]\nnp.random.seed(trials[-1][0])",
                 "seeds = [time.time_ns(), 42]\nnp.random.seed(seeds[-1])"):  # only the element read counts
        assert check([head + fine, "print(1)"], same, same).status == REPRODUCIBLE, fine
    for fine in ("np.random.seed(int(np.datetime64('2024-01-01').astype(int)))",  # a date given: fixed
                 "np.random.seed(pd.Timestamp('2024-01-01').day)", "np.random.seed(pd.to_datetime(0).day)",
                 "seeds = [int(time.time()), 1]\nnp.random.seed(seeds[1])",  # only the element read counts
                 "seeds = [int(time.time()), 1]\nseeds[0] = 5\nnp.random.seed(seeds[0])",  # changed in place
                 "seeds = [*[1], int(time.time())]\nnp.random.seed(seeds[0])",  # a starred part: not told
                 "g = torch.Generator().manual_seed(0)\nstamp = pd.Timestamp.now()",  # a time beside a fixed seed
                 "%time np.random.seed(0)\nt = time.time()", "%time x = pd.Timestamp('now')"):
        assert check([head + fine, "print(1)"], same, same).status == REPRODUCIBLE, fine


def test_a_seeding_from_the_clock_replaced_by_a_fixed_one_before_any_draw_shows_nowhere():
    """The first draw is where a seed shows: one a fixed seeding replaces first, or that nothing draws from again,
    does not count. Anything that may draw in between (a call the check does not know) keeps it counted."""
    moved = [cell(0, probe(NP)), cell(1, probe({"numpy": "n1"}, advanced=("numpy",)), "0.5\n"),
             cell(2, probe({"numpy": "n1"}), "1\n")]
    head = "import time, random\nimport numpy as np\n%load_ext seedmagic\n"
    for fine in ([head + "np.random.seed(int(time.time()))\nnp.random.seed(0)\nprint(np.random.rand(2))", "x = 1",
                  "print(1)"],
                 [head + "np.random.seed(int(time.time()))\nprint('seeded')", "np.random.seed(0)\nprint(np.random.rand())",
                  "print(1)"],
                 [head + "np.random.seed(int(time.time()))", "%seed 10\nprint(np.random.rand())", "print(1)"],
                 [head + "import seedmagic\nnp.random.seed(int(time.time()))", "seedmagic.seed(0)\nx = 1", "print(1)"],
                 [head + "random.seed(time.time())\nprint('hello')", "print(np.random.rand())", "print(1)"]):
        assert check(fine, moved, moved).status == REPRODUCIBLE, fine
    for drawn in ([head + "np.random.seed(int(time.time()))\nx = np.random.rand()\nnp.random.seed(0)", "x = 1",
                   "print(1)"],
                  [head + "np.random.seed(int(time.time()))\nmodel = dict(w=np.ones(2))\nnp.random.seed(0)", "x = 1",
                   "print(1)"],  # a call the check does not know may draw
                  [head + "np.random.seed(int(time.time()))", "print(np.random.rand())\nnp.random.seed(0)", "print(1)"],
                  [head + "np.random.seed(int(time.time()))", "x = 1", "np.random.seed(0)"],  # cell 1 moved numpy
                  [head + "np.random.seed(int(time.time()))\nnp.random.seed(int(time.time()) % 7)", "x = 1", "x"]):
        result = check(drawn, moved, moved)
        assert (result.status, result.cell, result.generator) == (NOT_REPRODUCIBLE, 0, "numpy"), (drawn, result)
    # The runs read different seconds: numpy's state after cell 0 differs, and shows nowhere if replaced first
    a = [cell(0, probe({"numpy": "a0"}, advanced=("numpy",))), cell(1, probe({"numpy": "n1"}, advanced=("numpy",)),
                                                                     "0.5\n")]
    b = [cell(0, probe({"numpy": "b0"}, advanced=("numpy",))), cell(1, probe({"numpy": "n1"}, advanced=("numpy",)),
                                                                     "0.5\n")]
    clock = "import time\nimport numpy as np\nnp.random.seed(int(time.time()))\nprint('seeded')"
    assert check([clock, "np.random.seed(0)\nprint(np.random.rand())"], a, b).status == REPRODUCIBLE
    for later in ("print(np.random.rand())\nnp.random.seed(0)", "np.random.seed(1 + len('x'))\nprint(1)"):
        parted = check([clock, later], a, b)  # a draw first; a seeding the check does not read as fixed
        assert (parted.status, parted.cell, parted.generator) == (NOT_REPRODUCIBLE, 0, "numpy"), (later, parted)
    drew = check([clock.replace("print('seeded')", "x = np.random.rand()"), "np.random.seed(0)"], a, b)
    assert (drew.status, drew.cell) == (NOT_REPRODUCIBLE, 0)  # it drew after the clock seed: x differs


def test_seeding_from_the_clock_through_a_name_a_helper_or_a_magic_is_found():
    same = [cell(0, probe(NP)), cell(1, probe({"numpy": "n1"}, advanced=("random", "numpy", "torch")), "0.5\n")]
    named = ["import time\nimport numpy as np\nSEED = int(time.time())\nnp.random.seed(SEED)", "print(np.random.rand())"]
    agreed = check(named, same, same)
    assert (agreed.status, agreed.cell, agreed.cause) == (NOT_REPRODUCIBLE, 0, "numpy")
    assert agreed.reason == ("cell 0 (In [1]) seeds numpy from `time.time()`, which comes from the clock and differs "
                             "between runs (`np.random.seed(SEED)`): these two runs read the same value, another run "
                             "will not")
    a = [cell(0, probe({"numpy": "a0"}, imported=("numpy",))), cell(1, probe({"numpy": "a1"}, advanced=("numpy",)),
                                                                     "0.5\n")]
    b = [cell(0, probe({"numpy": "b0"}, imported=("numpy",))), cell(1, probe({"numpy": "b1"}, advanced=("numpy",)),
                                                                     "0.7\n")]
    parted = check(["import time\nimport numpy as np", "SEED = int(time.time())\nnp.random.seed(SEED)"], a, b)
    assert (parted.cell, parted.cause) == (1, "numpy")  # numpy differed since its import, but the cell seeds it
    assert parted.reason.startswith("cell 1 (In [2]) seeds numpy from `time.time()`")
    # Not followed across cells: a cell between may change the value in ways the source hides (a miss, by design)
    for across in (["import time\nimport numpy as np\nSEED = int(time.time())", "np.random.seed(SEED)"],
                   ["import time\nnow = time.time_ns()", "%%seeded $now\nprint(1)"]):
        assert check(across, same, same).status == REPRODUCIBLE
    helper = ("import time, random\nimport numpy as np\ndef seed_everything(seed=None):\n"
              "    seed = seed if seed is not None else int(time.time())\n    random.seed(seed)\n"
              "    np.random.seed(seed)\n")
    for sources, line in (([helper + "seed_everything()", "print(np.random.rand())"], "random.seed(seed)"),
                          ([helper, "seed_everything()\nprint(np.random.rand())"], "random.seed(seed)"),
                          (["%load_ext seedmagic\nimport time\n%seed {int(time.time())}", "print(1)"],
                           "%seed {int(time.time())}"),
                          (["import random, time\nrandom.seed(int(time.strftime('%Y%m%d%H%M')))", "print(1)"],
                           "random.seed(int(time.strftime('%Y%m%d%H%M')))"),
                          (["import random, time\ndef setup(*, seed=None):\n    if seed is None:\n"
                            "        seed = time.time_ns()\n    random.seed(seed)\nsetup()", "print(1)"],
                           "random.seed(seed)"),
                          (["import time, random\ndef seed_all(seed=int(time.time())):\n    random.seed(seed)",
                            "seed_all()"], "random.seed(seed)"),  # the default is read once, at the definition
                          (["import time, numpy as np\nrun = {'seed': time.time_ns(), 'lr': 0.1}\n"
                            "np.random.seed(run['seed'])", "print(1)"], "np.random.seed(run['seed'])"),
                          (["import torch, os\ng = torch.Generator()\ng.manual_seed(os.getpid())", "print(1)"],
                           "g.manual_seed(os.getpid())")):
        found = check(sources, same, same)
        assert found.status == NOT_REPRODUCIBLE and f"(`{line}`)" in found.reason, (sources, found)
    branch = ("import time\nimport numpy as np\ndef setup(deterministic=True):\n    if deterministic:\n"
              "        np.random.seed(0)\n    else:\n        np.random.seed(int(time.time()))\n")
    clock = "import time, types, datetime, random\nimport numpy as np\n"
    for fine in ([helper + "seed_everything(42)", "print(1)"], [helper, "print(1)"],
                 # a fixed seed beside a time in one value: only the part the seeding reads counts
                 [clock + "config = {'seed': 42, 'started': time.strftime('%H:%M')}", "np.random.seed(config['seed'])"],
                 [clock + "args = types.SimpleNamespace(seed=0, out=f'runs/{int(time.time())}')",
                  "np.random.seed(args.seed)"],
                 [clock + "run = dict(seed=1, date=datetime.date.today().isoformat())",
                  "rng = np.random.default_rng(run['seed'])"],
                 [clock + "seed, t0 = 42, time.time()", "np.random.seed(seed)"],
                 # the value a name holds where it is read: a parameter shadows, a later assignment overrides
                 [clock + "seed = int(time.time())", "def seed_all(seed=42):\n    random.seed(seed)", "seed_all()"],
                 [clock + "def fresh():\n    seed = int(time.time())\n    return seed\nSEED = 7",
                  "def seed_all(seed=SEED):\n    np.random.seed(seed)", "seed_all()"],
                 [clock + "SEED = int(time.time())\nSEED = 42\nnp.random.seed(SEED)", "print(1)"],
                 [clock + "for seed in [1, 2]:\n    pass", "np.random.seed(seed)"],  # a loop's: not known
                 # a branch whose condition the source cannot tell is not followed
                 [clock + "SEED = 42\nif SEED is None:\n    SEED = int(time.time())\nnp.random.seed(SEED)", "print(1)"],
                 [clock + "SEED = 42\nseed = SEED if SEED is not None else int(time.time())",
                  "rng = np.random.default_rng(seed)"],
                 [clock + "SEED = 42\nseed = SEED or int(time.time())", "np.random.seed(seed)"],
                 # changed in place since it was bound
                 [clock + "config = {'seed': int(time.time()), 'lr': 0.1}\nconfig['seed'] = 0",
                  "np.random.seed(config['seed'])"],
                 [clock + "config = dict(seed=int(time.time()))\nconfig.update(seed=0)", "np.random.seed(config['seed'])"],
                 # a comprehension's or a lambda's own name
                 [clock + "seed = int(time.time())", "rngs = [np.random.default_rng(seed) for seed in range(4)]"],
                 [clock + "seed = int(time.time())\nf = lambda seed: seed", "np.random.seed(f(1))"],
                 # the helper the call reaches is the last one bound before it
                 [clock + "def seed_all():\n    np.random.seed(int(time.time()))", "seed_all = lambda: np.random.seed(0)",
                  "seed_all()"],
                 [clock + "def seed_all():\n    np.random.seed(int(time.time()))\ndef seed_all():\n"
                  "    np.random.seed(0)", "seed_all()"],
                 [clock + "class T:\n    def setup(self):\n        np.random.seed(int(time.time()))\n"
                  "def setup():\n    np.random.seed(0)", "setup()"],
                 # a magic's line in a string is not run; its {name} is read where the magic is
                 [clock + "USAGE = '''put this at the top:\n%seed {int(time.time())}\n'''\nnp.random.seed(0)", "print(1)"],
                 ["%load_ext seedmagic\nimport time\nSEED = 42\n%seed {SEED}\nSEED = int(time.time())", "print(1)"],
                 ["x = " + "(" * 400 + "1" + ")" * 400, "print(1)"],  # nested too deep to parse: read as nothing
                 [branch + "setup()", "print(1)"],  # the clock only in a branch a call with no arguments skips
                 [helper.replace("seed=None", "seed=42"), "seed_everything()"],  # 42 or the clock: 42
                 ["import time\nimport numpy as np\nuse_clock = False\nif use_clock:\n"
                  "    np.random.seed(int(time.time()))\nelse:\n    np.random.seed(0)", "print(1)"],
                 ["%load_ext seedmagic\n%seed 3", "print(1)"], ["now = 3", "%%seeded $now\nprint(1)"]):
        assert check(fine, same, same).status == REPRODUCIBLE, fine


def test_record_notes_without_versions_and_when_the_first_cell_changed():
    notebook = recorded_notebook()
    record = make_record(notebook, recorded_run())
    del record["versions"]
    assert compare_record("nb", notebook, record, recorded_run()).note == \
        "every cell's draws match metadata.seedmagic"
    notebook.cells[1].source = "import numpy"
    assert compare_record("nb", notebook, record, recorded_run()).note == (
        "the record is out of date from cell 1 (In [1]) on (the cell changed since it was recorded); record again "
        "(seedmagic check --record)")


@pytest.mark.parametrize("entry, problem", [
    ({"source": "a"}, "cells[0] is not a cell's checksum and draws"),
    ({"cell": -1, "source": "a", "draws": {}}, "cells[0] names no cell"),
    ({"cell": "0", "source": "a", "draws": {}}, "cells[0] names no cell"),
    ({"cell": True, "source": "a", "draws": {}}, "cells[0] names no cell"),
    ({"cell": 0.0, "source": "a", "draws": {}}, "cells[0] names no cell"),
])
def test_a_record_cell_that_names_no_cell_or_lacks_draws_is_malformed(entry, problem):
    with pytest.raises(BadInput, match=problem.replace("[", r"\[")):
        compare_record("nb", recorded_notebook(), {"format": 1, "versions": {}, "cells": [entry]}, recorded_run())


def test_a_call_whose_result_varies_by_nature_is_named_when_nothing_else_explains_the_outputs():
    a, b = [cell(0, probe(), "140234\n")], [cell(0, probe(), "139876\n")]
    result = check(["a = [1]\nprint(id(a))"], a, b, hash_order=False)
    assert (result.cause, result.reason) == ("value", "cell 0 (In [1]) prints the result of `id()`, which comes from "
                                                      "an object's address and differs between runs")
    assert result.fix == "do not show `id()`'s result, or tag the cell nbval-ignore-output if its output may vary"
    clock = check(["import time\nprint(time.time())"], a, b, hash_order=False)
    assert clock.reason.endswith("the result of `time.time()`, which comes from the clock and differs between runs")
    shown = check(["import time\nt = time.time()\nt"], a, b)  # the last expression, through a name
    assert shown.reason.startswith("cell 0 (In [1]) prints the result of `time.time()`")
    hidden = check(["import time\nstart = time.time()\nprint(sum(range(3)))"], a, b, hash_order=False)
    assert hidden.reason.endswith("it calls `time.time()`, whose result comes from the clock and differs between runs")
    # a varying call the cell shows is named before a value traced from an earlier cell, or a rerun behind it
    a2 = [cell(0, probe(), values={"t": "t1", "Y": "y1"}), cell(1, probe(), "started 140\n", values={"t": "t1"})]
    b2 = [cell(0, probe(), values={"t": "t2", "Y": "y2"}, first=probe()),
          cell(1, probe(), "started 139\n", values={"t": "t2"}, first=probe())]
    b2[0].rerun_moved = ("Y",)
    for rerun in (False, True):
        traced = check(["import time\nt = time.time()\nY = [1]", "print('started' if t > 0 else '?', Y, id([]))"],
                       a2, b2, rerun=rerun)
        assert traced.reason.startswith("cell 1 (In [2]) prints the result of `id()`"), traced
    timing = check(["import time\nt0 = time.time()", "print(f'took {time.time() - t0:.3f} s')"], a2, b2)
    assert timing.reason.startswith("cell 1 (In [2]) prints the result of `time.time()`"), timing


def test_a_seeding_after_the_import_is_where_the_runs_part_not_the_import_above_it():
    """numpy and torch start from entropy, so the runs differ from their import on; a cell that seeds by hand puts
    that state out of play: its seed (a hash), its %timeit or its varying draws are the cause, not "no seed"."""
    def runs(name: str) -> tuple[list[CellRun], list[CellRun]]:
        return tuple([cell(0, probe({name: f"{run}0"}, imported=(name,))),  # type: ignore[return-value]
                      cell(1, probe({name: f"{run}1"}, advanced=(name,))),
                      cell(2, probe({name: f"{run}2"}, advanced=(name,)), f"{run}\n")] for run in "ab")
    hashed = check(["import numpy as np", "np.random.seed(hash('demo') % 2**32)", "print(np.random.rand())"],
                   *runs("numpy"))
    assert (hashed.cell, hashed.generator) == (1, "numpy"), hashed
    assert hashed.reason.startswith("cell 1 (In [2]) seeds numpy from `hash()` (`np.random.seed(hash('demo') % "
                                    "2**32)`)")
    assert "zlib.crc32" in hashed.fix
    torch_hashed = check(["import torch", "torch.manual_seed(hash('run-a'))", "print(torch.rand(1))"], *runs("torch"))
    assert torch_hashed.reason.startswith("cell 1 (In [2]) seeds torch from `hash()`"), torch_hashed
    timed = check(["import numpy as np", "np.random.seed(0)\n%timeit np.random.rand(100)", "print(np.random.rand())"],
                  *runs("numpy"))
    assert timed.reason.startswith("cell 1 (In [2]) times draws from numpy (`%timeit np.random.rand(100)`)"), timed
    assert timed.fix.startswith("give %timeit a fixed number of loops")
    varying = check(["import numpy as np, time", "np.random.seed(0)\nend = time.time() + 0.1\n"
                     "while time.time() < end:\n    np.random.rand()", "print(np.random.rand())"], *runs("numpy"))
    assert varying.reason.startswith("cell 1 (In [2]) seeds numpy by hand, yet leaves it in a different state in "
                                     "each run"), varying
    # a seeding the cell may not run, or that it undoes, does not hide the import: the seeds there are none
    for maybe in ("if False:\n    np.random.seed(0)\nnp.random.rand()", "def reset():\n    np.random.seed(0)\n"
                  "np.random.rand()", "try:\n    np.random.seed(int(os.environ['SEED']))\nexcept KeyError:\n    pass\n"
                  "np.random.rand()", "np.random.seed(0)\nnp.random.set_state(state0)"):
        skipped = check(["import numpy as np, os\nstate0 = np.random.get_state()", maybe, "print(np.random.rand())"],
                        *runs("numpy"))
        assert skipped.reason == "cell 1 (In [2]) drew from numpy while no seed controlled it", (maybe, skipped)
    # a set_seed helper the import cell defines and nobody calls seeds nothing; one a cell calls seeds there
    helper = "import numpy as np\ndef set_seed(s):\n    np.random.seed(s)"
    uncalled = check([helper, "print(np.random.rand())", "print(np.random.rand())"], *runs("numpy"))
    assert uncalled.reason == "cell 1 (In [2]) drew from numpy while no seed controlled it", uncalled
    called = check([helper, "set_seed(hash('exp') % 2**32)", "print(np.random.rand())"], *runs("numpy"))
    assert called.reason.startswith("cell 1 (In [2]) seeds numpy from `hash()` (`set_seed(hash('exp') % 2**32)`)"), \
        called
    fixed = check([helper, "set_seed(3)\nnp.random.rand(n)", "print(np.random.rand())"], *runs("numpy"))
    assert fixed.reason.startswith("cell 1 (In [2]) seeds numpy by hand, yet leaves it in a different state in each "
                                   "run"), fixed
    # a name is what the last import above it (or in its cell) made it, not one further down the notebook
    other = check(["import numpy as np\nfrom random import seed", "seed(0)\nprint(np.random.rand(2))",
                   "from numpy.random import seed"], *runs("numpy"))
    assert other.reason == "cell 1 (In [2]) drew from numpy while no seed controlled it", other
    # the seeding the probe did not see move numpy does not hide the import
    a, b = runs("numpy")
    a[1], b[1] = cell(1, probe({"numpy": "a0"})), cell(1, probe({"numpy": "b0"}))
    untaken = check(["import numpy as np", "if False:\n    np.random.seed(0)", "print(np.random.rand())"], a, b)
    assert untaken.reason == "cell 2 (In [3]) drew from numpy while no seed controlled it", untaken
