"""Two gloo ranks for tests/test_ranks.py: streams that follow the rank in force when they are used.

``python ranks_job.py --spawn PORT OUT`` starts 2 ranks with ``torch.multiprocessing.spawn``, which
sets no ``RANK``: a rank knows its rank only from the process group, and only once it has joined it.
Under torchrun (``python -m torch.distributed.run --nproc-per-node 2 ... ranks_job.py OUT``) each rank
is a top-level process, so the pool workers of every rank have the same names. Each rank writes
what it drew to OUT/rank-N.json. The top of this module imports no torch, so that the pool workers
it starts with spawn (which import it again) start quickly.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import pathlib
import random
import sys
from typing import Any

import numpy as np

import seedmagic

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import mp_tasks  # noqa: E402  (the pool tasks, importable by name in spawn workers)

WORLD = 2
STATE_FILE = "rng-{rank:02d}.json"


@seedmagic.seeded(10, per_rank=True)
def decorated() -> list[float]:
    """Decorated when this module is imported: before any rank is known (every rank imports it as rank 0 would)."""
    return [random.random(), float(np.random.rand())]


class Draws:
    """A dataset whose items say which worker drew them, its seed from torch, and what it drew from each generator."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> list[Any]:
        import torch

        info = torch.utils.data.get_worker_info()  # its seed: the loader's base seed plus the worker id
        return [info.id, info.seed, random.random(), float(np.random.rand()), torch.rand(1).item()]


def pools() -> dict[str, Any]:
    """Two workers per pool, with fork and with spawn, each running exactly one task."""
    drawn = {}
    for method in ("fork", "spawn"):
        context = multiprocessing.get_context(method)
        barrier = context.Barrier(2)
        with context.Pool(2, initializer=mp_tasks.start_worker, initargs=(barrier, seedmagic.pool_initializer)) as pool:
            drawn[method] = pool.map(mp_tasks.draws_once_per_worker, range(2), chunksize=1)
    return drawn


def loader_rows() -> list[list[Any]]:
    """A DataLoader with spawn workers: they inherit neither the process group nor a rank variable."""
    from torch.utils.data import DataLoader

    loader = DataLoader(Draws(), batch_size=None, num_workers=2, worker_init_fn=seedmagic.worker_init_fn,
                        generator=seedmagic.torch_generator(), multiprocessing_context="spawn")
    return [list(row) for row in loader]


def checks(rank: int, out: pathlib.Path) -> dict[str, Any]:
    import torch.distributed as dist

    results: dict[str, Any] = {"decorated": decorated()}
    seedmagic.seed_process(per_rank=True)  # publishes the base seed and SEEDMAGIC_RANK
    results["pools after seed_process"] = pools()
    del os.environ["SEEDMAGIC_RANK"]
    seedmagic.seed(10)  # the rank is now known only from the process group
    results["pools after seed"] = pools()
    results["loader"] = loader_rows()
    seedmagic.seed(20 + rank)
    results["saved"] = str(seedmagic.snapshot().save(out / STATE_FILE))
    dist.barrier()  # every rank has written before any reads
    seedmagic.seed(99)
    seedmagic.Snapshot.load(out / STATE_FILE).restore()
    results["loaded"] = [random.random(), float(np.random.rand())]
    return results


def rank_main(rank: int, init_method: str, out: pathlib.Path) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=WORLD)
    try:
        results = checks(rank, out)
        dist.barrier()  # no rank tears the group down while another still talks
    finally:
        dist.destroy_process_group()
    (out / f"rank-{rank}.json").write_text(json.dumps(results))


if __name__ == "__main__":
    if sys.argv[1] == "--spawn":
        import torch.multiprocessing

        torch.multiprocessing.spawn(rank_main, args=(f"tcp://127.0.0.1:{sys.argv[2]}", pathlib.Path(sys.argv[3])),
                                    nprocs=WORLD)
    else:
        rank_main(int(os.environ["RANK"]), "env://", pathlib.Path(sys.argv[1]))
