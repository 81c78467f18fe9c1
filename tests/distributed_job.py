"""One rank of tests/test_distributed.py: seeds every way a rank can, and writes what it drew as JSON.

Under torchrun: ``python -m torch.distributed.run --nproc-per-node N ... distributed_job.py OUT START``.
By itself: ``python distributed_job.py --spawn N PORT OUT START`` starts N ranks with
``torch.multiprocessing.spawn``. START is how the DataLoader starts its workers: ``spawn`` workers
do not inherit the process group, so they learn the rank from ``SEEDMAGIC_RANK``. The parent
publishes the notebook's seed in ``SEEDMAGIC_SEED``, as a kernel does after ``%seed``.
"""

from __future__ import annotations

import json
import os
import pathlib
import random
import sys
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset

import seedmagic


class Draws(Dataset):
    """Each item draws from random, NumPy and torch, as augmentation does, and says which worker drew."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> torch.Tensor:
        worker = torch.utils.data.get_worker_info().id
        return torch.tensor([index, worker, random.random(), np.random.rand(), torch.rand(1).item()],
                            dtype=torch.float64)


def weights_and_mask() -> list[Any]:
    """Initial weights (what same-seed mode must make equal) and a dropout mask (what per-rank must vary)."""
    weights = torch.nn.Linear(4, 3).weight.tolist()
    return [weights, torch.nn.functional.dropout(torch.ones(16), 0.5).tolist()]


def verify_outcome(**kwargs: Any) -> list[Any]:
    """The error ``verify=True`` raised (None if none), and whether any generator moved."""
    before = seedmagic.snapshot().to_data()  # plain lists, comparable with != (a state_dict holds tensors)
    try:
        seedmagic.seed_process(verify=True, **kwargs)
        error = None
    except seedmagic.SeedError as refused:
        error = str(refused)
    return [error, seedmagic.snapshot().to_data() != before]


def checks(rank: int, out: pathlib.Path, start: str) -> dict[str, Any]:
    published = int(os.environ["SEEDMAGIC_SEED"])
    results: dict[str, Any] = {
        "same": [seedmagic.seed_process(), *weights_and_mask()],
        "per_rank": [seedmagic.seed_process(per_rank=True), *weights_and_mask()],
    }
    del os.environ["SEEDMAGIC_SEED"]
    results["entropy"] = seedmagic.seed_process()
    del os.environ["SEEDMAGIC_SEED"]
    results["sync"] = seedmagic.seed_process(sync=True)
    results["verify_seed"] = verify_outcome(n=published + (rank == 1))
    results["verify_per_rank"] = verify_outcome(n=published, per_rank=rank == 1)
    results["verified"] = seedmagic.seed_process(published, verify=True)
    results["state_file"] = str(seedmagic.snapshot().save(out / "rng-{rank}.json"))
    seedmagic.seed_process(published)
    loader = DataLoader(Draws(), batch_size=2, shuffle=True, num_workers=2, worker_init_fn=seedmagic.worker_init_fn,
                        generator=seedmagic.torch_generator(), multiprocessing_context=start)
    results["rows"] = [row for batch in loader for row in batch.tolist()]
    return results


def rank_main(rank: int, world: int, init_method: str, out: pathlib.Path, start: str) -> None:
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world)
    try:
        results = checks(rank, out, start)
        dist.barrier()  # no rank tears the group down while another still talks
    finally:
        dist.destroy_process_group()
    (out / f"rank-{rank}.json").write_text(json.dumps(results))


if __name__ == "__main__":
    if sys.argv[1] == "--spawn":
        world, port, folder, start = int(sys.argv[2]), sys.argv[3], pathlib.Path(sys.argv[4]), sys.argv[5]
        torch.multiprocessing.spawn(rank_main, args=(world, f"tcp://127.0.0.1:{port}", folder, start), nprocs=world)
    else:
        rank_main(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), "env://", pathlib.Path(sys.argv[1]),
                  sys.argv[2])
