"""Streams that follow a rank take the rank in force when they are used, and ranks never share one.

Scopes and decorators, pool workers, DataLoader workers and state files, in this process (the
rank from ``RANK``) and on two real gloo ranks started by ``torch.multiprocessing.spawn``, which
set no ``RANK``: there a rank is known only from the process group, once it has joined. The
expected numbers come from NumPy's ``SeedSequence``, ``random``, NumPy and torch themselves.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pathlib
import pickle
import random
import subprocess
import sys
import tempfile
from typing import Any

import numpy as np
import pytest
import torch

import seedmagic
from conftest import ROOT, free_port, state_bytes

ENVIRONMENT = ("SEEDMAGIC_SEED", "SEEDMAGIC_RANK", "RANK", "LOCAL_RANK")


@pytest.fixture(autouse=True)
def no_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    """No rank or seed published by the shell that started pytest, nor left for a later test."""
    for variable in ENVIRONMENT:
        monkeypatch.setenv(variable, "")
        monkeypatch.delenv(variable)


def rank_seed(n: int, rank: int) -> int:
    """NumPy's own derivation: ``SeedSequence(n, spawn_key=(rank,))``'s first word."""
    return int(np.random.SeedSequence(n, spawn_key=(rank,)).generate_state(1)[0])


def pool_worker_seed(base: int, name: str, rank: int) -> int:
    """A pool worker's seed from NumPy and hashlib alone: the worker's name as a SHA-256 spawn key, then the rank."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    key = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))
    return rank_seed(int(np.random.SeedSequence(base, spawn_key=key).generate_state(1)[0]), rank)


def first_draws(n: int) -> list[float]:
    """What ``random`` and NumPy draw first after their own seeding with ``n``."""
    return [random.Random(n).random(), float(np.random.RandomState(n).rand())]


def drawn() -> list[float]:
    return [random.random(), float(np.random.rand())]


# Decorators and scopes ------------------------------------------------------------------------------


def test_a_function_decorated_before_the_rank_is_known_takes_the_rank_at_each_call(monkeypatch):
    @seedmagic.seeded(10, per_rank=True)
    def decorated() -> list[float]:
        return drawn()

    scope = seedmagic.seeded(10, per_rank=True)  # a scope object made early, entered later
    for rank in (1, 0, 3):
        monkeypatch.setenv("RANK", str(rank))
        assert decorated() == first_draws(rank_seed(10, rank))
        with scope as used:
            assert used == rank_seed(10, rank) and scope.rank == rank
    monkeypatch.setenv("RANK", "2")
    with seedmagic.seeded(10, name="train", per_rank=True) as used:
        assert used == rank_seed(seedmagic.derive_seed(10, "train"), 2)


def test_a_bad_rank_variable_is_refused_at_entry_and_moves_nothing(monkeypatch):
    monkeypatch.setenv("RANK", "x")
    decorated = seedmagic.seeded(10, per_rank=True)(drawn)  # made while RANK is bad: not read yet
    seedmagic.seed(4)
    before = state_bytes()
    with pytest.raises(seedmagic.SeedError, match="the environment variable RANK must be an integer from 0 to 999999999"):
        decorated()
    assert state_bytes() == before and seedmagic.active_seed() == 4
    with pytest.raises(seedmagic.SeedError, match="rank must be an integer from 0 to 999999999"):
        seedmagic.seeded(10, per_rank=True, rank=-1)  # an explicit rank is checked when the scope is made


# Pool and DataLoader workers ------------------------------------------------------------------------


def test_pool_workers_on_different_ranks_get_different_streams(monkeypatch):
    seen = []
    for rank in (0, 1):
        monkeypatch.setenv("SEEDMAGIC_SEED", "10")  # as each worker finds it (the initializer publishes its own)
        monkeypatch.setenv("RANK", str(rank))
        used = seedmagic.pool_initializer()
        assert used == pool_worker_seed(10, "MainProcess", rank)
        seen.append(drawn())
        assert seen[-1] == first_draws(used)
    assert seen[0] != seen[1]


@pytest.mark.parametrize("helper", ["pool_initializer", "worker_init_fn"])
def test_a_worker_started_with_spawn_takes_the_rank_its_parent_had_when_it_started_it(monkeypatch, helper):
    """Pickling is when a spawn or forkserver worker is started: the rank then travels with the helper."""
    monkeypatch.setenv("SEEDMAGIC_SEED", "10")
    monkeypatch.setattr(torch, "initial_seed", lambda: 1235)  # what the DataLoader gives worker 1 of base seed 1234
    monkeypatch.setenv("RANK", "0")
    at_rank_0 = pickle.dumps(getattr(seedmagic, helper))
    monkeypatch.setenv("RANK", "1")
    at_rank_1 = pickle.dumps(getattr(seedmagic, helper))
    monkeypatch.delenv("RANK")  # the worker itself has no rank to read
    for pickled, rank in ((at_rank_1, 1), (at_rank_0, 0)):
        worker = pickle.loads(pickled)
        worker() if helper == "pool_initializer" else worker(1)
        expected = pool_worker_seed(10, "MainProcess", rank) if helper == "pool_initializer" else rank_seed(1235, rank)
        assert drawn() == first_draws(expected)
        assert repr(worker) == f"seedmagic.{helper}"


# Two gloo ranks ---------------------------------------------------------------------------------------


@functools.cache
def launch(launcher: str) -> list[dict[str, Any]]:
    """Run tests/ranks_job.py once per launcher on two ranks, with SEEDMAGIC_SEED=10 published."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="seedmagic-ranks-"))
    port, job = str(free_port()), str(ROOT / "tests" / "ranks_job.py")
    if launcher == "spawn":
        command = [sys.executable, job, "--spawn", port, str(folder)]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr",
                   "127.0.0.1", "--master-port", port, job, str(folder)]
    env = {key: value for key, value in os.environ.items()
           if key not in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "SEEDMAGIC_RANK")}
    env.update(SEEDMAGIC_SEED="10", OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]
    return [{**json.loads((folder / f"rank-{rank}.json").read_text()), "folder": str(folder)} for rank in (0, 1)]


LAUNCHERS = ["spawn", "torchrun"]


@pytest.mark.slow
def test_on_two_ranks_a_function_decorated_at_import_uses_each_ranks_seed():
    """Under torch.multiprocessing.spawn the module is imported, and the function decorated, before the rank is known."""
    assert [rank["decorated"] for rank in launch("spawn")] == [first_draws(rank_seed(10, rank)) for rank in (0, 1)]


@pytest.mark.slow
@pytest.mark.parametrize("launcher", LAUNCHERS)
@pytest.mark.parametrize("when", ["pools after seed_process", "pools after seed"])
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_on_two_ranks_pool_workers_never_share_a_stream(launcher, when, method):
    """Under torchrun both ranks' workers have the same names; after seed() a spawn worker has no rank of its own."""
    ranks = [rank[when][method] for rank in launch(launcher)]
    names = [sorted(name for name, *_ in workers) for workers in ranks]
    assert (names[0] == names[1]) == (launcher == "torchrun")
    for rank, workers in enumerate(ranks):
        for name, worker_seed, *draws in workers:
            assert worker_seed == pool_worker_seed(10, name, rank)
            assert draws == first_draws(worker_seed)
    every = [tuple(draws) for workers in ranks for _, _, *draws in workers]
    assert len(set(every)) == 4


@pytest.mark.slow
@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_on_two_ranks_spawned_loader_workers_mix_in_the_rank_of_the_loaders_process(launcher):
    """Both ranks shuffle alike (the same base seed); spawn workers do not inherit the process group."""
    rows = [rank["loader"] for rank in launch(launcher)]
    assert [[row[:2] for row in ranked] for ranked in rows] == [[row[:2] for row in rows[0]]] * 2  # same torch seeds
    for rank, ranked in enumerate(rows):
        for worker in (0, 1):
            own = [row[2:] for row in ranked if row[0] == worker]
            mixed = rank_seed(next(row[1] for row in ranked if row[0] == worker), rank)
            python, legacy = random.Random(mixed), np.random.RandomState(mixed)
            generator = torch.Generator().manual_seed(mixed)
            assert own == [[python.random(), float(legacy.rand()), torch.rand(1, generator=generator).item()]
                           for _ in own]
    assert not {tuple(row[2:]) for row in rows[0]} & {tuple(row[2:]) for row in rows[1]}


@pytest.mark.slow
@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_on_two_ranks_a_formatted_rank_gives_each_rank_its_own_state_file(launcher):
    ranks = launch(launcher)
    folder = pathlib.Path(ranks[0]["folder"])
    assert sorted(path.name for path in folder.glob("rng-*")) == ["rng-00.json", "rng-01.json"]
    for rank, results in enumerate(ranks):
        assert results["saved"] == str(folder / f"rng-{rank:02d}.json")
        assert results["loaded"] == first_draws(20 + rank)
