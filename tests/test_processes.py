"""Seeds beyond one process: child processes, pools, DataLoader workers, spawned seeds, checkpoints and per-rank files.

Real engines throughout: multiprocessing with fork, spawn and forkserver, a
real Jupyter kernel, ``torch.save``/``torch.load(weights_only=True)``; the
expected numbers come from the libraries themselves.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient
from torch.utils.data import DataLoader, Dataset

import seedmagic
from conftest import ROOT, run_python, state_bytes
from seedmagic.ranks import RANK_VARIABLE

ENVIRONMENT = ("SEEDMAGIC_SEED", "SEEDMAGIC_RANK", "RANK", "LOCAL_RANK")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No seed or rank published by an earlier test or by the shell that started pytest, nor left for a later one."""
    for variable in ENVIRONMENT:
        monkeypatch.setenv(variable, "")  # recorded, so that what a test publishes is taken back afterwards
        monkeypatch.delenv(variable)


def library_draws(n: int) -> tuple[float, float, list[float]]:
    """What ``random``, NumPy and torch draw right after the libraries' own seeding with ``n``."""
    torch.manual_seed(n)
    return random.Random(n).random(), float(np.random.RandomState(n).rand()), torch.rand(2).tolist()


def drawn() -> tuple[float, float, list[float]]:
    return random.random(), float(np.random.rand()), torch.rand(2).tolist()


def library_rank_seed(n: int, rank: int) -> int:
    return int(np.random.SeedSequence(n, spawn_key=(rank,)).generate_state(1)[0])


# seed_process -------------------------------------------------------------------


def test_seed_process_takes_the_published_seed(monkeypatch):
    monkeypatch.setenv("SEEDMAGIC_SEED", "10")
    assert seedmagic.seed_process() == 10
    assert drawn() == library_draws(10)
    assert seedmagic.seed_process(rank=3) == 10  # the default: the same seed on every rank
    assert drawn() == library_draws(10)
    assert seedmagic.seed_process(7) == 7  # an explicit seed wins
    assert drawn() == library_draws(7)
    assert seedmagic.history()[-1].source == "seed_process"


def test_seed_process_per_rank_derives_the_numpy_way(monkeypatch):
    monkeypatch.setenv("SEEDMAGIC_SEED", "10")
    seeds = [seedmagic.seed_process(per_rank=True, rank=rank) for rank in range(4)]
    assert seeds == [library_rank_seed(10, rank) for rank in range(4)]
    assert len(set(seeds)) == 4
    assert drawn() == library_draws(seeds[3])
    assert os.environ["SEEDMAGIC_SEED"] == "10"  # the base stays published, for this rank's own children
    assert os.environ[RANK_VARIABLE] == "3"
    monkeypatch.setenv("RANK", "2")
    assert seedmagic.seed_process(per_rank=True) == library_rank_seed(10, 2)


def test_seed_process_without_a_published_seed_draws_from_entropy_and_prints_it(capsys):
    used = seedmagic.seed_process()
    first = drawn()
    printed = capsys.readouterr().out
    assert re.fullmatch(rf"seed_process: no seed published in SEEDMAGIC_SEED; seeded with {used} from OS "
                        rf"entropy: rerun with seed_process\({used}\)\n", printed)
    assert seedmagic.seed_process(used) == used  # the printed seed replays the run
    assert drawn() == first
    assert capsys.readouterr().out == ""
    assert seedmagic.seed_process() == used  # now it is published


def test_the_rank_a_rank_seeded_for_reaches_its_own_children():
    out = run_python("""
        import subprocess, sys, seedmagic
        seedmagic.seed_process(5, rank=3)
        child = "import seedmagic.ranks, seedmagic.processes; print(seedmagic.ranks.current_rank(), seedmagic.processes.published_seed())"
        print(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True).stdout)
    """)
    assert out.split() == ["3", "5"]


BAD_SEEDS = ["abc", "-1", "4294967296", "1e3", "10.0", "\uff11\uff10", "0x10", "99999999999999999999999"]


@pytest.mark.parametrize("value", BAD_SEEDS)
def test_a_bad_published_seed_is_refused_naming_the_variable(monkeypatch, value):
    seedmagic.seed(4)
    monkeypatch.setenv("SEEDMAGIC_SEED", value)
    before = state_bytes()
    with pytest.raises(seedmagic.SeedError, match="^the environment variable SEEDMAGIC_SEED must be an integer"):
        seedmagic.seed_process()
    assert state_bytes() == before
    assert seedmagic.active_seed() == 4


@pytest.mark.parametrize("kwargs, message", [
    ({"rank": -1}, "rank must be an integer from 0 to 999999999"),
    ({"rank": 1.5}, "rank must be an integer from 0 to 999999999"),
    ({"rank": "one"}, "rank must be an integer from 0 to 999999999"),
    ({"rank": True}, "rank must be an integer from 0 to 999999999"),
    ({"rank": -2, "per_rank": True}, "rank must be an integer from 0 to 999999999"),
    ({"per_rank": "yes"}, "per_rank must be True or False"),
    ({"sync": 1}, "sync must be True or False"),
    ({"sync": True}, "sync=True needs torch.distributed's process group"),
    ({"verify": True}, "verify=True needs torch.distributed's process group"),
    ({"n": 2**32}, "seed must be an integer"),
])
def test_seed_process_refuses_bad_input_and_moves_nothing(kwargs, message):
    seedmagic.seed(4)
    before = state_bytes()
    with pytest.raises(seedmagic.SeedError, match=re.escape(message)):
        seedmagic.seed_process(**kwargs)
    assert state_bytes() == before
    assert seedmagic.active_seed() == 4
    assert RANK_VARIABLE not in os.environ


@pytest.mark.parametrize("variable, value", [("RANK", "-1"), ("RANK", "x"), ("LOCAL_RANK", "1.0")])
def test_a_bad_rank_variable_is_refused_naming_it(monkeypatch, variable, value):
    monkeypatch.setenv("SEEDMAGIC_SEED", "10")
    monkeypatch.setenv(variable, value)
    before = state_bytes()
    with pytest.raises(seedmagic.SeedError, match=f"the environment variable {variable} must be an integer from 0"):
        seedmagic.seed_process(per_rank=True)
    assert state_bytes() == before


# spawn --------------------------------------------------------------------------


def test_spawn_gives_the_children_of_seed_sequence():
    children = np.random.SeedSequence(10).spawn(6)
    assert seedmagic.spawn(6, 10) == [int(child.generate_state(1)[0]) for child in children]
    assert seedmagic.spawn(3, 10) == seedmagic.spawn(6, 10)[:3]  # independent of how many are asked for
    assert seedmagic.spawn(4, 10) == [library_rank_seed(10, i) for i in range(4)]  # child i is rank i's seed
    assert seedmagic.spawn(0, 10) == []
    with pytest.raises(seedmagic.SeedError, match="no seed is active"):
        seedmagic.spawn(3)
    seedmagic.seed(10)
    assert seedmagic.spawn(3) == seedmagic.spawn(3, 10)
    with seedmagic.seeded(11):
        assert seedmagic.spawn(3) == seedmagic.spawn(3, 11)


@pytest.mark.parametrize("k, base, message", [
    (-1, 10, "k must be an integer from 0 to"), (1.5, 10, "k must be an integer"), (True, 10, "k must be"),
    (2**24 + 1, 10, "k must be an integer from 0 to 16777216"), (3, -1, "seed must be an integer"),
    (3, "10", "seed must be an integer"),
])
def test_spawn_refuses_bad_input(k, base, message):
    with pytest.raises(seedmagic.SeedError, match=re.escape(message)):
        seedmagic.spawn(k, base)


# Workers -------------------------------------------------------------------------


@pytest.mark.parametrize("rank", [0, 1])
def test_worker_init_fn_reseeds_torch_too_mixing_in_the_rank(monkeypatch, rank):
    monkeypatch.setenv("RANK", str(rank))
    monkeypatch.setattr(torch, "initial_seed", lambda: 1235)  # what the DataLoader gives worker 1 of base seed 1234
    seedmagic.worker_init_fn(1)
    assert drawn() == library_draws(library_rank_seed(1235, rank))


def test_pool_initializer_with_nothing_published_draws_from_entropy_and_says_how_to_replay(capsys):
    used = seedmagic.pool_initializer()
    base = int(re.fullmatch(r"pool_initializer: no seed published in SEEDMAGIC_SEED; seeded with (\d+) from OS "
                            r"entropy: rerun with seedmagic.seed\(\1\) before the pool starts\n",
                            capsys.readouterr().out).group(1))
    assert used == library_rank_seed(seedmagic.derive_seed(base, "MainProcess"), 0)
    assert drawn() == library_draws(used)


# Child processes and pools, with every start method -----------------------------

POOLS = """
import json, multiprocessing, sys
sys.path.insert(0, "tests")
import seedmagic, mp_tasks

ctx = multiprocessing.get_context(sys.argv[1])
out = {}

def once_per_worker(initializer):
    barrier = ctx.Barrier(2)
    with ctx.Pool(2, initializer=mp_tasks.start_worker, initargs=(barrier, initializer)) as pool:
        return pool.map(mp_tasks.draws_once_per_worker, range(2), chunksize=1)

seedmagic.seed(10)
with ctx.Pool(1) as pool:
    out["published"] = pool.map(mp_tasks.seed_process_draws, [0])
with seedmagic.seeded(11):
    with ctx.Pool(1) as pool:
        out["scoped"] = pool.map(mp_tasks.seed_process_draws, [0])
out["inherited"] = once_per_worker(None)
out["initialized"] = once_per_worker(seedmagic.pool_initializer)
seedmagic.seed(12)
out["reseeded"] = once_per_worker(seedmagic.pool_initializer)
items = list(zip(seedmagic.spawn(8), range(8)))
out["spawned"] = {}
for size, chunks in ((1, 8), (3, 1), (2, 3)):
    with ctx.Pool(size) as pool:
        out["spawned"][f"{size} workers, chunks of {chunks}"] = pool.map(mp_tasks.task, items, chunksize=chunks)
print(json.dumps(out))
"""


def run_pools(method: str) -> dict:
    result = subprocess.run([sys.executable, "-c", POOLS, method], capture_output=True, text=True, cwd=ROOT,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def library_draws_without_torch(n: int) -> list[float]:
    return [random.Random(n).random(), float(np.random.RandomState(n).rand())]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_children_pools_and_spawned_seeds_with_every_start_method(method):
    out = run_pools(method)
    # seed_process() in a child gets the notebook's seed, bit for bit.
    assert out["published"] == [[10, *library_draws_without_torch(10)]]
    if method != "forkserver":  # a forkserver keeps the environment it started with (10 here): see docs/workers.md
        assert out["scoped"] == [[11, *library_draws_without_torch(11)]]

    # Forked workers inherit NumPy's state and repeat each other's draws: the classic bug (Python
    # reseeds random itself after a fork)...
    inherited = out["inherited"]
    if method == "fork":
        assert inherited[0][3] == inherited[1][3]
    # ... pool_initializer gives each worker its own stream, derived from the seed, the worker's name and the
    # rank (0 here; tests/test_ranks.py has two).
    for key, base in (("initialized", 10), ("reseeded", 12)):
        workers = out[key]
        assert len({name for name, *_ in workers}) == 2
        for name, worker_seed, random_draw, numpy_draw in workers:
            assert worker_seed == library_rank_seed(seedmagic.derive_seed(base, name), 0)
            assert [random_draw, numpy_draw] == library_draws_without_torch(worker_seed)
        assert workers[0][2:] != workers[1][2:]

    # Tasks with seeds from spawn(k): the same results whatever the pool size and the scheduling.
    expected = [[item, float(np.random.default_rng(task_seed).random())]
                for task_seed, item in zip(seedmagic.spawn(8, 12), range(8), strict=True)]
    assert list(out["spawned"].values()) == [expected] * 3


NOTEBOOK_CELLS = [
    f"import sys\nsys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]\n%load_ext seedmagic\n%seed 10",
    "import json, multiprocessing, mp_tasks\n"
    "with multiprocessing.get_context('spawn').Pool(2) as pool:\n"
    "    print(json.dumps(pool.map(mp_tasks.seed_process_draws, range(2))))",
    "%%seeded 11\n"
    "with multiprocessing.get_context('spawn').Pool(1) as pool:\n"
    "    print(json.dumps(pool.map(mp_tasks.seed_process_draws, range(1))))",
    "with multiprocessing.get_context('forkserver').Pool(1) as pool:\n"
    "    print(json.dumps(pool.map(mp_tasks.seed_process_draws, range(1))))",
]


def run_kernel() -> list[str]:
    notebook = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        cells=[nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS])
    NotebookClient(notebook, timeout=120, startup_timeout=300, resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [[output for output in cell.outputs] for cell in notebook.cells]
    assert not any(output.output_type == "error" for cell in outputs for output in cell), outputs
    # The kernel may send one print in several stream messages, split anywhere: join each cell's text.
    texts = ["".join(output.text for output in cell if output.output_type == "stream") for cell in outputs[1:]]
    return [line for text in texts for line in text.splitlines()]


@pytest.mark.slow
def test_a_kernels_spawned_workers_get_its_seed_and_a_second_run_repeats_them():
    first = run_kernel()
    assert [json.loads(text) for text in first] == [
        [[10, *library_draws_without_torch(10)]] * 2,
        [[11, *library_draws_without_torch(11)]],
        [[10, *library_draws_without_torch(10)]],
    ]
    assert run_kernel() == first


# Checkpoints --------------------------------------------------------------------


def test_state_dict_round_trips_through_torch_save_with_weights_only(tmp_path):
    seedmagic.seed(3)
    np.random.randn(1)  # leave a cached Gaussian behind: it must come back too
    torch.save({"rng": seedmagic.state_dict()}, tmp_path / "checkpoint.pt")
    expected = drawn() + (float(np.random.randn()),)
    seedmagic.seed(99)
    drawn()
    seedmagic.load_state_dict(torch.load(tmp_path / "checkpoint.pt", weights_only=True)["rng"])
    assert drawn() + (float(np.random.randn()),) == expected
    assert seedmagic.active_seed() == 3


def _without(document: dict, name: str) -> dict:
    return {**document, "generators": {key: value for key, value in document["generators"].items() if key != name}}


def _with_generator(document: dict, name: str, entry: object) -> dict:
    return {**document, "generators": {**document["generators"], name: entry}}


BAD_STATE_DICTS = {
    "another version": (lambda d: {**d, "version": 1}, "of version 1"),
    "not a state dict": (lambda d: [d], "is not a seedmagic state dict"),
    "a missing generator": (lambda d: _without(d, "torch"), "it has no state for torch"),
    "an unknown generator": (lambda d: _with_generator(d, "jax", {"state": None, "seed": 1}), "'jax'"),
    "a state of the wrong type": (lambda d: _with_generator(d, "numpy", {"state": "MT", "seed": 1}),
                                  "the numpy state must have exactly the fields"),
    "a tensor of the wrong type where torch wants its bytes": (
        lambda d: _with_generator(d, "torch", {"state": torch.get_rng_state().long(), "seed": 1}), "torch state"),
    "a short key": (lambda d: _with_generator(d, "random", {**d["generators"]["random"],
                                                           "state": {**d["generators"]["random"]["state"],
                                                                     "key": [1, 2]}}), "random key"),
    "a bad seed": (lambda d: _with_generator(d, "numpy", {**d["generators"]["numpy"], "seed": "10"}),
                   "the seed of numpy"),
    "a bad session seed": (lambda d: {**d, "session_seed": -1}, "the session seed"),
    "a 5000-digit session seed": (lambda d: {**d, "session_seed": 10**5000},  # str() of it would raise
                                  "the session seed (an integer of 16610 bits) is not a seed"),
}


@pytest.mark.parametrize("case", list(BAD_STATE_DICTS))
def test_a_bad_state_dict_is_refused_with_one_line_and_moves_nothing(case):
    spoil, message = BAD_STATE_DICTS[case]
    seedmagic.seed(5)
    document = seedmagic.state_dict()
    seedmagic.seed(6)
    drawn()
    before = state_bytes()
    with pytest.raises(seedmagic.SeedError) as refused:
        seedmagic.load_state_dict(spoil(document))
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert str(refused.value).startswith("the state dict")
    assert state_bytes() == before
    assert seedmagic.active_seed() == 6


TRAINING = """
import json, sys
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
import seedmagic

CHECKPOINT = sys.argv[1]


def build():
    seedmagic.seed(0)
    inputs = torch.linspace(-1, 1, 24).reshape(12, 2)
    data = TensorDataset(inputs, inputs.sum(1, keepdim=True) ** 2)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(data, batch_size=4, shuffle=True, generator=seedmagic.torch_generator())
    return model, optimizer, loader


def train(model, optimizer, loader, step, stop, epoch_rng=None, save_at=None):
    # epoch_rng: the loader generator's state when the running epoch began (it fixes the epoch's order).
    losses = []
    while step < stop:
        if epoch_rng is None:
            epoch_rng = loader.generator.get_state()
        loader.generator.set_state(epoch_rng)
        for index, (x, y) in enumerate(loader):
            if index < step % len(loader):
                continue  # batches this epoch already trained on before the checkpoint
            if step == save_at:
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "rng": seedmagic.state_dict(), "epoch_rng": epoch_rng, "step": step}, CHECKPOINT)
            if step == stop:
                break
            loss = nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            step += 1
        epoch_rng = None
    return losses


def report(model, losses):
    print(json.dumps({"losses": losses, "parameters": [p.tolist() for p in model.parameters()]}))
"""


@pytest.mark.slow
def test_training_resumed_from_a_checkpoint_in_a_new_process_equals_the_run_that_never_stopped(tmp_path):
    checkpoint = str(tmp_path / "checkpoint.pt")
    steps, stop_at = 14, 7  # 3 batches an epoch: the checkpoint falls in the middle of the third epoch

    def run(code: str) -> list[dict]:
        result = subprocess.run([sys.executable, "-c", TRAINING + code, checkpoint], capture_output=True,
                                text=True, cwd=ROOT, timeout=120)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    straight, first = run(f"model, optimizer, loader = build()\n"
                          f"report(model, train(model, optimizer, loader, 0, {steps}))\n"
                          f"model, optimizer, loader = build()\n"
                          f"report(model, train(model, optimizer, loader, 0, {stop_at}, save_at={stop_at}))")
    resumed, = run("model, optimizer, loader = build()\n"
                   "state = torch.load(CHECKPOINT, weights_only=True)\n"
                   "model.load_state_dict(state['model'])\n"
                   "optimizer.load_state_dict(state['optimizer'])\n"
                   "seedmagic.load_state_dict(state['rng'])\n"
                   f"report(model, train(model, optimizer, loader, state['step'], {steps}, state['epoch_rng']))")
    assert first["losses"] == straight["losses"][:stop_at]
    assert resumed["losses"] == straight["losses"][stop_at:]
    assert resumed["parameters"] == straight["parameters"]
    assert len(set(straight["losses"])) == steps  # it really trained


# State files per rank -----------------------------------------------------------


def test_rank_in_a_state_file_path_through_the_api(tmp_path, monkeypatch):
    pattern = str(tmp_path / "rng-{rank}.json")
    for rank, n in ((0, 20), (1, 21)):
        monkeypatch.setenv("RANK", str(rank))
        seedmagic.seed(n)
        assert seedmagic.snapshot().save(pattern) == tmp_path / f"rng-{rank}.json"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["rng-0.json", "rng-1.json"]
    for rank, n in ((0, 20), (1, 21)):
        monkeypatch.setenv("RANK", str(rank))
        seedmagic.seed(99)
        seedmagic.Snapshot.load(pattern).restore()
        assert drawn() == library_draws(n)


def test_rank_in_a_state_file_path_through_the_magic(shell, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RANK", "1")
    shell.run_line_magic("seed", "21")
    shell.run_line_magic("seed", f"--save {tmp_path}/rng-{{rank}}.json")
    assert (tmp_path / "rng-1.json").is_file()
    assert f"to {tmp_path}/rng-1.json" in capsys.readouterr().out
    shell.run_line_magic("seed", "99")
    shell.run_line_magic("seed", f"--load {tmp_path}/rng-{{rank}}.json")
    assert f"from {tmp_path}/rng-1.json" in capsys.readouterr().out
    assert drawn() == library_draws(21)
    shell.user_ns["rank"] = 5  # a variable named rank: IPython's {expr} expansion comes first
    shell.run_line_magic("seed", f"--save {tmp_path}/rng-{{rank}}.json")
    assert (tmp_path / "rng-5.json").is_file()


def test_the_environment_follows_the_seed_in_force_even_after_the_user_edits_it(monkeypatch):
    seedmagic.seed(10)
    monkeypatch.setenv("SEEDMAGIC_SEED", "99")
    seedmagic.seed(10)
    assert os.environ["SEEDMAGIC_SEED"] == "10"
    with seedmagic.seeded(10):
        assert os.environ["SEEDMAGIC_SEED"] == "10"
    monkeypatch.delenv("SEEDMAGIC_SEED")
    seedmagic.seed(10)
    assert os.environ["SEEDMAGIC_SEED"] == "10"


def test_the_environment_is_written_only_when_the_published_seed_changes(monkeypatch):
    """A loop of scopes under the session seed writes nothing; each scope with another seed writes twice."""
    writes: list[tuple[str, ...]] = []
    putenv, unsetenv = os.putenv, os.unsetenv
    monkeypatch.setattr(os, "putenv", lambda key, value: (writes.append(("put", key, value)), putenv(key, value)))
    monkeypatch.setattr(os, "unsetenv", lambda key: (writes.append(("unset", key)), unsetenv(key)))
    seedmagic.seed(10)
    writes.clear()
    for _ in range(50):
        with seedmagic.seeded():
            pass
        with seedmagic.seeded(10):
            pass
    assert writes == []
    for _ in range(5):
        with seedmagic.seeded(5):
            assert os.environ["SEEDMAGIC_SEED"] == "5"
    assert writes == [("put", b"SEEDMAGIC_SEED", b"5"), ("put", b"SEEDMAGIC_SEED", b"10")] * 5
    assert os.environ["SEEDMAGIC_SEED"] == "10"


def test_the_environment_only_carries_the_seed_in_force(monkeypatch):
    monkeypatch.delenv("SEEDMAGIC_SEED", raising=False)
    before = dict(os.environ)
    seedmagic.seed(3)
    assert os.environ["SEEDMAGIC_SEED"] == "3"
    with seedmagic.seeded(4):
        assert os.environ["SEEDMAGIC_SEED"] == "4"  # a process started inside the scope gets the scope's seed
    assert os.environ.pop("SEEDMAGIC_SEED") == "3"
    assert dict(os.environ) == before


def test_a_child_keeps_its_parents_seed_after_a_scope_of_its_own():
    out = run_python("""
import os, seedmagic
with seedmagic.seeded(5):
    inside = os.environ["SEEDMAGIC_SEED"]
print(inside, os.environ.get("SEEDMAGIC_SEED"), seedmagic.seed_process())
""", env={"SEEDMAGIC_SEED": "10"})
    assert out.split() == ["5", "10", "10"]


# DataLoader workers ---------------------------------------------------------------------


class Draws(Dataset):
    """Each item draws from random, NumPy and torch: what augmentation code does."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.tensor([index, random.random(), np.random.rand(), torch.rand(1).item()], dtype=torch.float64)


def epoch() -> list[list[float]]:
    loader = DataLoader(Draws(), batch_size=2, shuffle=True, num_workers=2,
                        worker_init_fn=seedmagic.worker_init_fn, generator=seedmagic.torch_generator(),
                        multiprocessing_context="fork")
    return [row for batch in loader for row in batch.tolist()]


def test_dataloader_with_workers_repeats_under_the_same_seed():
    seedmagic.seed(7)
    first = epoch()
    np.random.rand(5)
    seedmagic.seed(7)
    assert epoch() == first
    with seedmagic.seeded(8):
        other = epoch()
    assert other != first
    numpy_draws = [row[2] for row in first]
    assert len(set(numpy_draws)) == len(numpy_draws)  # no two workers repeat a draw
    order = [int(row[0]) for row in first]
    assert sorted(order) == list(range(8)) and order != list(range(8))  # shuffled by the seeded generator


def test_worker_init_fn_seeds_random_and_numpy_from_torchs_worker_seed(monkeypatch):
    monkeypatch.setattr(torch, "initial_seed", lambda: 1234 + 1)
    with seedmagic.seeded(0):
        seedmagic.worker_init_fn(1)
        drawn = (random.random(), np.random.rand())
    expected_seed = int(np.random.SeedSequence(1235, spawn_key=(0,)).generate_state(1)[0])  # rank 0
    assert drawn == (random.Random(expected_seed).random(), np.random.RandomState(expected_seed).rand())


def test_torch_generator_follows_the_active_seed():
    with pytest.raises(seedmagic.SeedError, match="no seed is active"):
        seedmagic.torch_generator()
    seedmagic.seed(5)
    assert torch.equal(seedmagic.torch_generator().get_state(), torch.Generator().manual_seed(5).get_state())
    with seedmagic.seeded(6):
        assert torch.equal(seedmagic.torch_generator().get_state(), torch.Generator().manual_seed(6).get_state())
