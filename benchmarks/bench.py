"""seedmagic side by side with the tools people use today, in one process.

Run with ``bash scripts/bench.sh`` (it makes ``.venv-bench`` with Lightning and accelerate).
Contenders are alternated round by round, so drifts in machine load hit them
all alike; each figure is the median over rounds of the mean time per call in
a round. Before timing, every scope contender's draws inside and after the
scope are checked against the others', so a fast path cannot be a wrong one.
Prints a table and writes the same figures to ``benchmarks/results.json``.
"""

from __future__ import annotations

import argparse
import ast
import compileall
import json
import os
import pathlib
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import numpy as np
import torch

import seedmagic
from floors import least_checked_load, least_checked_state_dict, least_guarded

HERE = pathlib.Path(__file__).resolve().parent


#: Every contender's mean seconds per call in each round, for ratios taken round by round (``paired_ratio``).
ROUNDS: dict[str, list[float]] = {}


def paired_ratio(name: str, reference: str) -> float:
    """The median over rounds of ``name``'s time over ``reference``'s in the same round: the two ran side by
    side, so a round on a slow moment of the machine is slow for both and the ratio keeps."""
    return statistics.median(mine / theirs for mine, theirs in zip(ROUNDS[name], ROUNDS[reference], strict=True))


def measure(contenders: dict[str, Callable[[], Any]], calls: int, rounds: int, slices: int = 10) -> dict[str, float]:
    """Median over rounds of the mean seconds per call (each round's figures also kept in ``ROUNDS``).

    Within a round the contenders take turns in ``slices`` short runs (the order reversed every other
    turn), so that a shared machine speeding up or slowing down mid-round hits them all alike.
    """
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    per_slice = max(1, calls // slices)
    for _ in range(rounds):
        spent = dict.fromkeys(contenders, 0.0)
        for turn in range(slices):
            order = list(contenders.items())
            if turn % 2:
                order.reverse()
            for name, function in order:
                start = time.perf_counter()
                for _ in range(per_slice):
                    function()
                spent[name] += time.perf_counter() - start
        for name, seconds in spent.items():
            samples[name].append(seconds / (per_slice * slices))
    ROUNDS.update(samples)
    return {name: statistics.median(values) for name, values in samples.items()}


# 1. Scope cost ------------------------------------------------------------------

LIGHTNING = "lightning isolate_rng + seed_everything"
LEAST_GUARDED = "least code, Ctrl-C held off, seed published"
GUARDED_MAGIC = "the magic, Ctrl-C held off, seed published"


@contextmanager
def hand_written(n: int):
    """What people write by hand: the three getters, the three seeds, the three setters."""
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    random.seed(n)
    np.random.seed(n)
    torch.manual_seed(n)
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


@contextmanager
def least_hand_written(n: int):
    """The least public-API code that saves, seeds and restores the same three generators.

    torch's default generator is seeded directly: ``torch.manual_seed`` also
    queues a seed for CUDA devices (formatting a stack trace each time), which
    a CPU-only build has none of.
    """
    states = random.getstate(), np.random.get_state(), torch.default_generator.get_state()
    random.seed(n)
    np.random.seed(n)
    torch.default_generator.manual_seed(n)
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.default_generator.set_state(states[2])


@contextmanager
def lightning_scope(n: int):
    from lightning.fabric.utilities.seed import seed_everything
    from lightning.pytorch.utilities.seed import isolate_rng

    with isolate_rng():
        seed_everything(n, verbose=False)
        yield


@contextmanager
def fork_rng_scope(n: int):
    with torch.random.fork_rng():
        torch.manual_seed(n)
        yield


def scope_contenders() -> dict[str, Callable[[int], AbstractContextManager[Any]]]:
    contenders: dict[str, Callable[[int], AbstractContextManager[Any]]] = {"seedmagic.seeded": seedmagic.seeded}
    try:
        import lightning  # noqa: F401

        contenders[LIGHTNING] = lightning_scope
    except ImportError:
        print("lightning is not installed: run bash scripts/bench.sh", file=sys.stderr)
    contenders["hand-written get/seed/set"] = hand_written
    contenders["least hand-written public-API code"] = least_hand_written
    contenders[LEAST_GUARDED] = least_guarded
    contenders["torch.random.fork_rng (torch only)"] = fork_rng_scope
    return contenders


def draws() -> tuple[list[float], list[float], list[float]]:
    return [random.random() for _ in range(3)], np.random.randn(3).tolist(), torch.rand(3).tolist()


def check_scopes_agree(contenders: dict[str, Callable[[int], AbstractContextManager[Any]]]) -> None:
    """Every contender draws the same inside and after its scope (torch only, for fork_rng)."""
    results = {}
    for name, scope in contenders.items():
        random.seed(1)
        np.random.seed(1)
        torch.manual_seed(1)
        np.random.randn(1)  # leave a cached Gaussian to be restored
        with scope(10):
            inside = draws()
        results[name] = (inside, draws())
    reference = results["seedmagic.seeded"]
    for name, (inside, after) in results.items():
        parts = [2] if "fork_rng" in name else [0, 1, 2]
        for part in parts:
            if inside[part] != reference[0][part] or after[part] != reference[1][part]:
                raise AssertionError(f"{name} draws differently from seedmagic.seeded")


def scope_cost(calls: int, rounds: int) -> dict[str, float]:
    contenders = scope_contenders()
    check_scopes_agree(contenders)

    def entering(scope: Callable[[int], AbstractContextManager[Any]]) -> Callable[[], None]:
        def run() -> None:
            with scope(10):
                pass

        return run

    return measure({name: entering(scope) for name, scope in contenders.items()}, calls, rounds)


# 2. Cell cost -------------------------------------------------------------------


def cell_cost(calls: int, rounds: int) -> dict[str, float]:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.magic import output_can_be_silenced

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "seedmagic")
    shell.run_cell("import numpy as np")
    shell.register_magic_function(lambda line, cell: shell.ex(cell), "cell", "noop")

    def minimal_magic(scope: Callable[[int], AbstractContextManager[Any]]) -> Callable[[str, str], Any]:
        @output_can_be_silenced  # a trailing ';' hides the value, as in any cell: part of IPython's pipeline
        def minimal_seeded(line: str, cell: str) -> Any:
            """The least cell magic that runs a cell through IPython's pipeline inside ``scope``."""
            with scope(int(line)):
                tree = shell.transform_ast(shell.compile.ast_parse(shell.transform_cell(cell)))
                last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
                exec(shell.compile(tree, "<cell>", "exec"), shell.user_ns)
                if last is not None:
                    return eval(shell.compile(ast.Expression(last.value), "<cell>", "eval"), shell.user_ns)
                return None

        return minimal_seeded

    shell.register_magic_function(minimal_magic(least_hand_written), "cell", "minimal_seeded")
    shell.register_magic_function(minimal_magic(least_guarded), "cell", "guarded_seeded")
    cell = "x = np.random.rand(5)"
    plain = shell.run_cell(cell)
    assert plain.success and shell.run_cell("%%seeded 10\n" + cell).success
    seeded_value = shell.run_cell("%%seeded 10\nnp.random.rand(3)").result
    for magic in ("minimal_seeded", "guarded_seeded"):
        assert (shell.run_cell(f"%%{magic} 10\nnp.random.rand(3)").result == seeded_value).all()
    return measure(
        {
            "plain cell": lambda: shell.run_cell(cell),
            "do-nothing cell magic": lambda: shell.run_cell("%%noop\n" + cell),
            "minimal seeding cell magic": lambda: shell.run_cell("%%minimal_seeded 10\n" + cell),
            GUARDED_MAGIC: lambda: shell.run_cell("%%guarded_seeded 10\n" + cell),
            "%%seeded 10 cell": lambda: shell.run_cell("%%seeded 10\n" + cell),
        },
        calls, rounds,
    )


# 2b. The cell watch ---------------------------------------------------------------


def watch_cost(calls: int, rounds: int) -> dict[str, float]:
    """``x = 1`` through run_cell with the extension unloaded and loaded, alternated, at three namespace sizes.

    random, NumPy and torch are imported, as in a training notebook; the
    loaded figure minus the unloaded one is what the cell watch adds to
    every cell.
    """
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_cell("import random, numpy as np, torch")

    def read_states(_result: Any) -> None:
        """The floor: a callback that reads the three states with their public calls, and nothing else."""
        random.getstate(), np.random.get_state(), torch.get_rng_state()

    figures: dict[str, float] = {}
    for size in (0, 100, 1_000, 10_000):
        for i in range(size):
            shell.user_ns[f"variable_{i}"] = i
        samples: dict[str, list[float]] = {"unloaded": [], "floor": [], "loaded": []}
        for round_number in range(rounds):
            order = ["unloaded", "floor", "loaded"]
            for state in order if round_number % 2 else reversed(order):
                manager = shell.extension_manager
                (manager.load_extension if state == "loaded" else manager.unload_extension)("seedmagic")
                if state == "floor":
                    shell.events.register("post_run_cell", read_states)
                start = time.perf_counter()
                for _ in range(calls):
                    shell.run_cell("x = 1")
                samples[state].append((time.perf_counter() - start) / calls)
                if state == "floor":
                    shell.events.unregister("post_run_cell", read_states)
        label = "small namespace" if size == 0 else f"{size:,} more variables"
        figures[f"plain cell, {label}"] = statistics.median(samples["unloaded"])
        figures[f"floor cell, {label}"] = statistics.median(samples["floor"])
        figures[f"watched cell, {label}"] = statistics.median(samples["loaded"])
    shell.extension_manager.load_extension("seedmagic")
    for name in [name for name in shell.user_ns if name.startswith("variable_")]:
        del shell.user_ns[name]
    return figures


def watch_lines(figures: dict[str, float]) -> list[str]:
    """Per namespace size: the plain cell, what the watch adds, and what reading the three states alone adds."""
    lines = ["2b. every cell: what the cell watch adds to x = 1 (random, NumPy, torch imported)",
             f"  {'':<28} {'plain cell':>12} {'watch adds':>12} {'floor adds':>12} {'vs small':>10}"]
    small = figures["watched cell, small namespace"] - figures["plain cell, small namespace"]
    for name in figures:
        if name.startswith("watched"):
            label = name.removeprefix("watched cell, ")
            plain = figures[f"plain cell, {label}"]
            added = figures[name] - plain
            floor = figures[f"floor cell, {label}"] - plain
            lines.append(f"  {label:<28} {microseconds(plain)} {microseconds(added)} {microseconds(floor)} "
                         f"{(added - small) * 1e6:+8.1f} µs")
    return lines


# 3. Panel refresh ---------------------------------------------------------------


def panel_cost(calls: int, rounds: int) -> dict[str, float]:
    from IPython.core.interactiveshell import InteractiveShell

    from seedmagic.watch import follow
    from seedmagic.widget import SeedPanel

    shell = InteractiveShell.instance()
    seedmagic.seed(10)
    bare = SeedPanel()
    busy = SeedPanel(shell)
    for i in range(20):
        kind = (np.random.RandomState, np.random.default_rng, torch.Generator().manual_seed, random.Random)[i % 4]
        shell.user_ns[f"generator_{i}"] = kind(i)
    try:
        return measure(
            {
                "refresh, default k=5, 3 generators": bare.refresh,
                "refresh, 20 user generators too": busy.refresh,
                "after each cell (cell watch + refresh)": follow(shell).after_cell,
            },
            calls, rounds,
        )
    finally:
        bare.close()
        busy.close()


# 4. Extension load --------------------------------------------------------------
#
# Where the time of ``%load_ext seedmagic`` goes (fresh process, bytecode cached, torch not imported):
# importing seedmagic's own modules, about 30 of them (the package imports core, and the magics import
# everything a magic can need); IPython's ``magic_arguments`` building the two argparse parsers and their
# help text at class creation (about 4 ms, the first gettext lookup imports ``locale``); the dataclasses
# that are public or plugin-facing (Event, Snapshot, UserKind, CheckFacts; about 1 ms each); the plugin
# scan (adapters/pluginscan.py, about 2 ms: one listdir per sys.path entry and an open per
# entry_points.txt); and usually one generation-1 garbage collection of the shell's objects (about 2 ms).
# Gone since 0.3.0: importlib.metadata (its import pulls in email, zipfile and csv, and it builds an
# object per entry point of every distribution: 25 ms and more), importlib.abc in the import hook,
# internal state holders as dataclasses, and regular expressions compiled at import.

LOAD = """
import sys, time
start = time.perf_counter()
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
shell_ready = time.perf_counter()
{load}
end = time.perf_counter()
{first}
first = time.perf_counter() - end
print(shell_ready - start, end - shell_ready, "torch" in sys.modules, "ipywidgets" in sys.modules, first)
"""


def load_cost(rounds: int) -> dict[str, Any]:
    """``%load_ext seedmagic`` in fresh processes without torch, against the same process without it.

    seedmagic's bytecode is written first, as ``pip install`` writes it: an environment with
    ``PYTHONDONTWRITEBYTECODE`` (this project's development machine has it) would otherwise compile every
    module of an editable install at each load, about three times the load itself.
    """
    compileall.compile_dir(str(pathlib.Path(seedmagic.__file__).parent), quiet=1)
    samples: dict[str, list[float]] = {"bare IPython shell": [], "%load_ext seedmagic": []}
    imported = []
    first_cell = "ip.run_cell('%%seeded 1\\nx = 1')"
    for _ in range(rounds):
        for name, load, first in (("bare IPython shell", "pass", "ip.run_cell('x = 1')"),
                                  ("%load_ext seedmagic", "ip.run_line_magic('load_ext', 'seedmagic')", first_cell)):
            out = subprocess.run([sys.executable, "-c", LOAD.format(load=load, first=first)], capture_output=True,
                                 text=True, check=True).stdout.split()
            samples[name].append(float(out[0]) + float(out[1]))
            samples.setdefault(f"first cell after it, {name}", []).append(float(out[4]))
            if name != "bare IPython shell":
                samples.setdefault("the load itself", []).append(float(out[1]))
                imported.append((out[2], out[3]))
    figures: dict[str, Any] = {name: statistics.median(values) for name, values in samples.items()}
    figures["imports torch"] = any(flag == "True" for flag, _ in imported)
    figures["imports ipywidgets"] = any(flag == "True" for _, flag in imported)
    return figures


# 5. Processes and checkpoints ---------------------------------------------------


def _optional(module: str, label: str) -> Any | None:
    """A contender's module, or None (said on stderr) when it is not installed here."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        print(f"{label} is not installed: skipped (bash scripts/bench.sh installs it)", file=sys.stderr)
        return None


# Where the time of the checkpoint round trip goes (5c; measured by taking each part out in turn, in units of
# Lightning's whole round trip on a 2-core shared machine, 1.9-2.2x in all):
#   both sides pay np.random.get_state (about 0.4: NumPy copies its 624-word key into an array word by word);
#   state_dict also turns NumPy's key into a list (plain data; torch's state stays the tensor torch gives);
#   load_state_dict checks everything before anything moves: the scratch draws that tell a corrupt torch key or
#   cached Gaussian (0.25-0.3, one private generator), the two MT19937 keys' words, checked in C (0.2), the
#   rehearsals on private random/NumPy generators (0.05); the @atomic Ctrl-C guard swaps the SIGINT handler
#   twice, and signal.signal's enum conversion makes that 0.25; the rollback copy of random and torch 0.1
#   (NumPy, slow to read, is put back last without one). Lightning checks nothing and has no Ctrl-C guard.
CHECKPOINT = "seedmagic load_state_dict(state_dict())"
LEAST_CHECKED = "least code with the same checks (floors.py)"
LIGHTNING_CHECKPOINT = "lightning _collect_rng_states + _set_rng_states"


def hand_written_checkpoint() -> None:
    """What people write by hand: the three states into a dict, then back."""
    states = {"random": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    random.setstate(states["random"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])


def check_checkpoints_agree() -> None:
    """The least checked checkpoint puts back what seedmagic's does, and refuses what it refuses."""
    np.random.randn(1)  # a cached Gaussian to carry
    mine, theirs = seedmagic.state_dict(), least_checked_state_dict()
    expected = draws()
    for load, document in ((seedmagic.load_state_dict, mine), (least_checked_load, theirs)):
        load(document)
        if draws() != expected:
            raise AssertionError(f"{load.__name__} puts back other states than it was given")
    theirs["numpy"]["key"] = [0] * len(theirs["numpy"]["key"])
    try:
        least_checked_load(theirs)
    except ValueError:
        return
    raise AssertionError("least_checked_load took an all-zero key")


def process_cost(calls: int, rounds: int) -> dict[str, dict[str, float]]:
    """Seeding a child or rank, a DataLoader worker's init, and an RNG checkpoint round trip."""
    os.environ["SEEDMAGIC_SEED"] = "10"  # what a child finds after %seed 10 in the notebook
    seeding: dict[str, Callable[[], Any]] = {"seedmagic.seed_process()": seedmagic.seed_process}
    workers: dict[str, Callable[[], Any]] = {"seedmagic.worker_init_fn": lambda: seedmagic.worker_init_fn(1)}
    checkpoints: dict[str, Callable[[], Any]] = {
        CHECKPOINT: lambda: seedmagic.load_state_dict(seedmagic.state_dict()),
        "hand-written get/set of random, NumPy, torch": hand_written_checkpoint,
        LEAST_CHECKED: lambda: least_checked_load(least_checked_state_dict()),
    }
    check_checkpoints_agree()
    lightning = _optional("lightning.fabric.utilities.seed", "lightning")
    if lightning is not None:
        seeding["lightning seed_everything"] = lambda: lightning.seed_everything(10, verbose=False)
        workers["lightning pl_worker_init_function"] = lambda: lightning.pl_worker_init_function(1)
        checkpoints[LIGHTNING_CHECKPOINT] = \
            lambda: lightning._set_rng_states(lightning._collect_rng_states())
    accelerate = _optional("accelerate.utils", "accelerate")
    if accelerate is not None:
        seeding["accelerate set_seed"] = lambda: accelerate.set_seed(10)
    try:
        return {"seeding": measure(seeding, calls, rounds), "worker_init": measure(workers, calls, rounds),
                "checkpoint": measure(checkpoints, calls, rounds)}
    finally:
        os.environ.pop("SEEDMAGIC_SEED", None)


# Report -------------------------------------------------------------------------


def microseconds(seconds: float) -> str:
    return f"{seconds * 1e6:9.1f} µs"


def table(title: str, figures: dict[str, float], reference: str) -> list[str]:
    lines = [title]
    for name, seconds in figures.items():
        ratio = seconds / figures[reference]
        lines.append(f"  {name:<44} {microseconds(seconds)}   {ratio:5.2f}x {reference}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke test, not for the README)")
    options = parser.parse_args()
    rounds = 5 if options.quick else 21
    scopes = scope_cost(calls=200, rounds=rounds)
    cells = cell_cost(calls=50, rounds=rounds)
    watch = watch_cost(calls=100, rounds=rounds)
    panels = panel_cost(calls=200, rounds=rounds)
    load = load_cost(rounds=3 if options.quick else 7)
    processes = process_cost(calls=200, rounds=rounds)

    lines = [f"seedmagic {seedmagic.__version__} benchmarks, {time.strftime('%Y-%m-%d')}",
             f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"NumPy {np.__version__}, torch {torch.__version__}", ""]
    lines += table("1. scope cost: enter, seed random/NumPy/torch with 10, exit and restore",
                   scopes, LIGHTNING if LIGHTNING in scopes else "seedmagic.seeded")
    lines += ["", *table("2. cell cost: x = np.random.rand(5) through run_cell", cells, "do-nothing cell magic")]
    lines += ["", *watch_lines(watch)]
    lines += ["", *table("3. panel refresh (kernel time)", panels, "refresh, default k=5, 3 generators")]
    lines += ["", "4. extension load in a fresh process (torch not imported)",
              f"  {'bare IPython shell':<44} {load['bare IPython shell'] * 1e3:9.1f} ms",
              f"  {'%load_ext seedmagic (shell + load)':<44} {load['%load_ext seedmagic'] * 1e3:9.1f} ms",
              f"  {'the load itself':<44} {load['the load itself'] * 1e3:9.1f} ms",
              f"  {'first cell: x = 1, no extension':<44} {load['first cell after it, bare IPython shell'] * 1e3:9.1f} ms",
              f"  {'first cell: %%seeded 1 x = 1 (imports the core)':<44} "
              f"{load['first cell after it, %load_ext seedmagic'] * 1e3:9.1f} ms",
              f"  imports torch: {load['imports torch']}, imports ipywidgets: {load['imports ipywidgets']}"]
    lines += ["", *table("5a. seeding a child process or rank with seed 10", processes["seeding"],
                         "seedmagic.seed_process()")]
    lines += ["", *table("5b. a DataLoader worker's init", processes["worker_init"], "seedmagic.worker_init_fn")]
    lines += ["", *table("5c. RNG checkpoint: collect every state, then put it back", processes["checkpoint"],
                         "hand-written get/set of random, NumPy, torch")]
    # Ratios round by round (paired_ratio), then their median.
    targets = {
        "scope / least hand-written (target <= 1.25)":
            paired_ratio("seedmagic.seeded", "least hand-written public-API code"),
        "%%seeded cell / minimal seeding cell magic (target <= 1.15)":
            paired_ratio("%%seeded 10 cell", "minimal seeding cell magic"),
        "checkpoint / lightning (target <= 1.5)":
            paired_ratio(CHECKPOINT, LIGHTNING_CHECKPOINT) if LIGHTNING_CHECKPOINT in processes["checkpoint"] else None,
    }
    # The floors the guarantees set (floors.py), measured beside the same contenders.
    floors = {
        "least code keeping the guarantees / least hand-written":
            paired_ratio(LEAST_GUARDED, "least hand-written public-API code"),
        "scope / least code keeping the guarantees": paired_ratio("seedmagic.seeded", LEAST_GUARDED),
        "least code with the same checks / lightning":
            paired_ratio(LEAST_CHECKED, LIGHTNING_CHECKPOINT) if LIGHTNING_CHECKPOINT in processes["checkpoint"] else None,
        "checkpoint / least code with the same checks": paired_ratio(CHECKPOINT, LEAST_CHECKED),
        "least magic keeping the guarantees / minimal magic":
            paired_ratio(GUARDED_MAGIC, "minimal seeding cell magic"),
        "%%seeded cell / least magic keeping the guarantees": paired_ratio("%%seeded 10 cell", GUARDED_MAGIC),
    }
    added = {size: watch[f"watched cell, {size}"] - watch[f"plain cell, {size}"]
             for size in ("small namespace", "10,000 more variables")}
    # The issue's +120 µs was set where reading the three states cost about 60 µs: twice the floor, which
    # also holds on a machine that runs faster or slower.
    # A ratio of two differences of medians: round by round, the small differences are too noisy to divide.
    targets["cell watch / floor, both as added to a cell (target <= 2.0)"] = \
        added["small namespace"] / (watch["floor cell, small namespace"] - watch["plain cell, small namespace"])
    lines += ["", "targets"] + [f"  {name:<60} {'n/a' if ratio is None else f'{ratio:.2f}x'}"
                                for name, ratio in targets.items()]
    lines += [f"  {'cell watch adds per cell (target <= +120 µs)':<60} {added['small namespace'] * 1e6:+.0f} µs",
              f"  {'10,000 more variables add (target <= +100 µs)':<60} "
              f"{(added['10,000 more variables'] - added['small namespace']) * 1e6:+.0f} µs",
              f"  {'load (target <= 25 ms)':<60} {load['the load itself'] * 1e3:.1f} ms"]
    lines += ["", "floors the guarantees set (benchmarks/floors.py)"] + [
        f"  {name:<60} {'n/a' if ratio is None else f'{ratio:.2f}x'}" for name, ratio in floors.items()]
    print("\n".join(lines))
    results = {"machine": lines[1], "scope_cost_s": scopes, "cell_cost_s": cells, "cell_watch_s": watch, "panel_refresh_s": panels,
               "extension_load": load, "process_cost_s": processes, "target_ratios": targets,
               "floor_ratios": floors}
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
