"""Ranks of a real torch.distributed job (gloo on 127.0.0.1), started by torch.multiprocessing.spawn and torchrun.

Each launch runs tests/distributed_job.py in every rank with ``SEEDMAGIC_SEED=10``
published, as a notebook's ``%seed 10`` does; the expected numbers come from
torch and NumPy in this process.
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
import subprocess
import sys
import tempfile
from typing import Any, NamedTuple

import numpy as np
import pytest
import torch

import seedmagic
from conftest import ROOT, free_port

pytestmark = pytest.mark.slow

JOB = ROOT / "tests" / "distributed_job.py"
SEED = 10
#: name: (launcher, world size, how the DataLoader starts its workers)
LAUNCHES = {
    "spawn-2": ("spawn", 2, "spawn"),
    "spawn-2 again": ("spawn", 2, "spawn"),
    "spawn-4": ("spawn", 4, "fork"),
    "torchrun-2": ("torchrun", 2, "fork"),
}


class Launch(NamedTuple):
    ranks: list[dict[str, Any]]
    stdout: str
    folder: pathlib.Path


@functools.cache
def launch(name: str) -> Launch:
    launcher, world, start = LAUNCHES[name]
    folder = pathlib.Path(tempfile.mkdtemp(prefix="seedmagic-ranks-"))
    port = str(free_port())
    if launcher == "spawn":
        command = [sys.executable, str(JOB), "--spawn", str(world), port, str(folder), start]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(world),
                   "--master-addr", "127.0.0.1", "--master-port", port, str(JOB), str(folder), start]
    inherited = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "SEEDMAGIC_RANK")
    env = {key: value for key, value in os.environ.items() if key not in inherited}
    env.update(SEEDMAGIC_SEED=str(SEED), OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-4000:]
    ranks = [json.loads((folder / f"rank-{rank}.json").read_text()) for rank in range(world)]
    return Launch(ranks, result.stdout, folder)


def weights_and_mask(seed: int) -> list[Any]:
    """What the job's ``weights_and_mask`` draws after torch's own ``manual_seed``."""
    torch.manual_seed(seed)
    weights = torch.nn.Linear(4, 3).weight.tolist()
    return [weights, torch.nn.functional.dropout(torch.ones(16), 0.5).tolist()]


def rank_seed(rank: int) -> int:
    return int(np.random.SeedSequence(SEED, spawn_key=(rank,)).generate_state(1)[0])


@pytest.mark.parametrize("name", ["spawn-2", "spawn-4", "torchrun-2"])
def test_same_seed_on_every_rank_gives_the_same_initial_weights(name):
    expected = [SEED, *weights_and_mask(SEED)]
    assert [rank["same"] for rank in launch(name).ranks] == [expected] * LAUNCHES[name][1]


@pytest.mark.parametrize("name", ["spawn-2", "spawn-4", "torchrun-2"])
def test_per_rank_seeds_give_each_rank_its_own_dropout(name):
    ranks = launch(name).ranks
    assert [rank["per_rank"] for rank in ranks] == [[rank_seed(r), *weights_and_mask(rank_seed(r))]
                                                    for r in range(len(ranks))]
    masks = [json.dumps(rank["per_rank"][2]) for rank in ranks]
    assert len(set(masks)) == len(ranks)


def test_two_launches_and_both_launchers_give_identical_results():
    first, again, torchrun = launch("spawn-2").ranks, launch("spawn-2 again").ranks, launch("torchrun-2").ranks
    deterministic = ("same", "per_rank", "verify_seed", "verify_per_rank", "verified", "rows")
    for key in deterministic:
        assert [rank[key] for rank in again] == [rank[key] for rank in first], key
        # The DataLoader's workers are spawned under torch.multiprocessing.spawn and forked under torchrun:
        # the same streams all the same.
        assert [rank[key] for rank in torchrun] == [rank[key] for rank in first], key
    assert [rank["entropy"] for rank in again] != [rank["entropy"] for rank in first]


@pytest.mark.parametrize("name", ["spawn-2", "spawn-4", "torchrun-2"])
def test_sync_makes_entropy_seeds_agree(name):
    done = launch(name)
    entropy = [rank["entropy"] for rank in done.ranks]
    synced = [rank["sync"] for rank in done.ranks]
    assert len(set(entropy)) == len(entropy)  # each rank drew its own...
    assert synced == [synced[0]] * len(synced)  # ... until sync=True took rank 0's
    assert done.stdout.count(f"seeded with {synced[0]} from OS entropy") == 1  # printed once, by rank 0


@pytest.mark.parametrize("name", ["spawn-2", "spawn-4", "torchrun-2"])
def test_verify_catches_a_rank_seeded_differently_on_every_rank(name):
    for rank in launch(name).ranks:
        assert rank["verify_seed"] == [f"rank 1 was seeded with {SEED + 1} but rank 0 with {SEED}: seed every rank "
                                       "alike, or pass sync=True to take rank 0's seed", False]
        assert rank["verify_per_rank"][0].startswith(f"rank 1 was seeded with {SEED} per rank but rank 0 with {SEED}:")
        assert rank["verify_per_rank"][1] is False  # nothing moved
        assert rank["verified"] == SEED


@pytest.mark.parametrize("name", ["spawn-2", "torchrun-2"])
def test_each_rank_writes_its_own_state_file(name):
    done = launch(name)
    for number, rank in enumerate(done.ranks):
        path = done.folder / f"rng-{number}.json"
        assert rank["state_file"] == str(path)
        assert seedmagic.Snapshot.load(path).session_seed == SEED


@pytest.mark.parametrize("name", ["spawn-2", "spawn-4", "torchrun-2"])
def test_dataloader_workers_on_every_rank_never_repeat_each_other(name):
    ranks = launch(name).ranks
    rows = [row for rank in ranks for row in rank["rows"]]
    assert len(rows) == 8 * len(ranks)
    assert {(number, int(row[1])) for number, rank in enumerate(ranks) for row in rank["rows"]} == \
        {(number, worker) for number in range(len(ranks)) for worker in (0, 1)}
    for column, generator in ((2, "random"), (3, "numpy"), (4, "torch")):
        values = [row[column] for row in rows]
        assert len(set(values)) == len(values), generator
    orders = [[int(row[0]) for row in rank["rows"]] for rank in ranks]
    assert orders == [orders[0]] * len(ranks)  # the same seed shuffles alike on every rank
