"""Seeds that follow the work out of the kernel: DataLoader workers, child processes, ranks.

Every helper here derives its seeds with NumPy's ``SeedSequence`` from the
seed in force, so two runs under the same seed get the same streams again
and no two workers share one.
"""

from __future__ import annotations

from typing import Any

from .adapters import registry
from .core import active_seed, seed
from .ranks import current_rank, rank_seed
from .session import SeedError, seeding_as


def torch_generator(*, per_rank: bool = False, rank: object = None) -> Any:
    """A ``torch.Generator`` seeded with the active seed, for ``DataLoader(generator=...)``.

    It makes the shuffling order and the workers' base seeds follow the
    seed without touching torch's global generator. ``per_rank=True`` gives
    each rank its own (the rank's derived seed), so ranks do not draw the
    same augmentations.
    """
    seed_now = active_seed()
    if seed_now is None:
        raise SeedError("no seed is active: run %seed N (or seedmagic.seed(N)) first, or use a scope")
    chosen = rank_seed(seed_now, current_rank(rank)) if per_rank else seed_now
    import torch

    return torch.Generator().manual_seed(chosen)


def worker_init_fn(worker_id: int) -> None:
    """``DataLoader(worker_init_fn=...)``: reseed ``random``, NumPy and plugins in each worker.

    The seed comes from torch's per-worker seed (the loader's base seed plus
    the worker id) and the global rank through ``SeedSequence``, so workers
    never share a stream, not even across ranks, and a run under the same
    seed gets the same streams again.
    """
    import numpy as np
    import torch

    words = np.random.SeedSequence(torch.initial_seed(), spawn_key=(current_rank(),)).generate_state(1)
    torch_names = [name for name, adapter in registry().items() if adapter.module == "torch"]
    with seeding_as("worker_init_fn"):
        seed(int(words[0]), skip=torch_names)
