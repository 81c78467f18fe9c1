"""Seeds that follow the work out of the kernel: child processes, ranks, workers and checkpoints.

Every helper here derives its seeds with NumPy's ``SeedSequence`` from the
seed in force, so two runs under the same seed get the same streams again
and no two workers share one. A process learns the seed in force from its
parent through the environment (``SEEDMAGIC_SEED``, which ``seed`` and every
scope keep up to date), so it works with every start method and launcher.
"""

from __future__ import annotations

import os
from typing import Any

from .core import (MAX_SEED, active_seed, derive_seed, seed, select, snapshot, validate_flag, validate_k,
                   validate_seed)
from .ranks import RANK_VARIABLE, current_rank, rank_seed
from .session import SEED_VARIABLE, SeedError, lock, seeding_as
from .adapters import BUILTIN_NAMES
from .snapshots import Snapshot, capture

#: The most child seeds ``spawn`` makes at once (each is a ``SeedSequence`` while it is made).
MAX_SPAWN = 2**24


def _active_or_error() -> int:
    seed_now = active_seed()
    if seed_now is None:
        raise SeedError("no seed is active: run %seed N (or seedmagic.seed(N)) first, or use a scope")
    return seed_now


def published_seed(text: str | None = None) -> int | None:
    """The seed a parent published (``text``, default ``SEEDMAGIC_SEED``), or None when there is none.

    A value that is not a seed is ``SeedError`` naming the variable: a typo
    there must not silently become an unseeded run.
    """
    raw = os.environ.get(SEED_VARIABLE, "") if text is None else text
    stripped = raw.strip()
    if not stripped:
        return None
    if stripped.isascii() and stripped.isdigit() and len(stripped) <= 10 and int(stripped) <= MAX_SEED:
        return int(stripped)
    raise SeedError(f"the environment variable {SEED_VARIABLE} must be an integer from 0 to {MAX_SEED}, "
                    f"got {raw[:40]!r}")


def _base_seed(n: object, published: str | None = None) -> tuple[int, bool]:
    """``n``, else the published seed, else one from OS entropy; and whether it was drawn."""
    if n is not None:
        return validate_seed(n), False
    found = published_seed(published)
    if found is not None:
        return found, False
    return int.from_bytes(os.urandom(4), "little"), True


def _say_drawn(caller: str, base: int, replay: str) -> None:
    """An entropy seed is printed, so that the run can be replayed."""
    print(f"{caller}: no seed published in {SEED_VARIABLE}; seeded with {base} from OS entropy: rerun with {replay}",
          flush=True)


def seed_process(n: object = None, *, rank: object = None, per_rank: bool = False, sync: bool = False,
                 verify: bool = False) -> int:
    """Seed this child process or rank like the notebook that started it; return the seed used.

    The seed is ``n``, else the one the parent published in ``SEEDMAGIC_SEED``,
    else one from OS entropy (printed, to replay the run). ``per_rank=True``
    seeds this rank with ``SeedSequence(seed, spawn_key=(rank,))``'s first
    word, for dropout and augmentation; the default gives every rank the same
    seed, hence the same initial weights. ``sync=True`` takes rank 0's seed
    over ``torch.distributed``; ``verify=True`` raises ``SeedError`` on every
    rank when the ranks were not seeded alike. Everything is checked, and the
    ranks have agreed, before any generator moves. The rank is published in
    ``SEEDMAGIC_RANK`` for the processes this one starts (DataLoader workers).
    """
    per_rank, sync, verify = (validate_flag(per_rank, "per_rank"), validate_flag(sync, "sync"),
                              validate_flag(verify, "verify"))
    base, drawn = _base_seed(n)
    chosen_rank = current_rank(rank)
    if sync or verify:
        base, drawn = _agree(base, drawn, per_rank, sync, verify)
    with seeding_as("seed_process"):
        used = seed(base, per_rank=per_rank, rank=chosen_rank)
    os.environ[RANK_VARIABLE] = str(chosen_rank)
    if drawn:
        _say_drawn("seed_process", base, f"seed_process({base})")
    return used


def _agree(base: int, drawn: bool, per_rank: bool, sync: bool, verify: bool) -> tuple[int, bool]:
    """Take rank 0's seed (``sync``) and check that every rank has the same (``verify``).

    Runs collectives on the default process group, so every rank must call
    it; ``verify`` raises on every rank alike, so none is left waiting.
    """
    import torch

    distributed = torch.distributed
    if not (distributed.is_available() and distributed.is_initialized()):
        wanted = "sync=True" if sync else "verify=True"
        raise SeedError(f"{wanted} needs torch.distributed's process group: call "
                        "torch.distributed.init_process_group first")
    device = torch.device("cuda", torch.cuda.current_device()) if distributed.get_backend() == "nccl" else "cpu"
    if sync:
        shared = torch.tensor([base], dtype=torch.int64, device=device)
        distributed.broadcast(shared, src=0)
        base, drawn = int(shared.item()), drawn and distributed.get_rank() == 0
    if verify:
        mine = torch.tensor([base, int(per_rank)], dtype=torch.int64, device=device)
        every = [torch.empty_like(mine) for _ in range(distributed.get_world_size())]
        distributed.all_gather(every, mine)
        seeds = [tuple(int(value) for value in tensor.tolist()) for tensor in every]
        odd = next((r for r, other in enumerate(seeds) if other != seeds[0]), None)
        if odd is not None:
            def told(pair: tuple[int, ...]) -> str:
                return f"{pair[0]}{' per rank' if pair[1] else ''}"

            raise SeedError(f"rank {odd} was seeded with {told(seeds[odd])} but rank 0 with {told(seeds[0])}: "
                            "seed every rank alike, or pass sync=True to take rank 0's seed")
    return base, drawn


def spawn(k: int, base: int | None = None) -> list[int]:
    """``k`` independent child seeds of ``base`` (default: the active seed), for pool tasks.

    They come from ``SeedSequence(base).spawn(k)``: child ``i`` is the same
    for every ``k``, so ``pool.map(f, zip(spawn(len(items)), items))`` gives
    the same results whatever the pool size and whichever worker runs a task.
    """
    count = validate_k(k, MAX_SPAWN)
    root = _active_or_error() if base is None else validate_seed(base)
    import numpy as np

    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in np.random.SeedSequence(root).spawn(count)]


class _RankCarrier:
    """A callable that runs in worker processes and seeds them for the rank of the process that started them.

    A forked worker inherits the process group and the environment and reads
    the rank itself. A worker started with spawn or forkserver has no
    process group, and ``RANK`` may not be set (``torch.multiprocessing.spawn``
    sets none): so the rank in force when the worker is started, that is when
    this object is pickled for it, travels with it.
    """

    def __init__(self, rank: int | None = None) -> None:
        #: The starting process's rank when this was pickled; None: read this process's own.
        self.rank = rank

    def worker_rank(self) -> int:
        return current_rank(self.rank)


class PoolInitializer(_RankCarrier):
    """``Pool(initializer=seedmagic.pool_initializer)``: each worker its own stream of the published seed.

    A forked worker inherits its parent's generators, so without this every
    worker repeats the others' draws. Each worker is seeded with
    ``rank_seed(derive_seed(seed, name), rank)``: the published seed and the
    worker's name (``ForkPoolWorker-3``: the names count the processes the
    parent started), then the rank mixed in through ``SeedSequence`` as
    ``worker_init_fn`` does, since every rank's workers have the same names.
    The streams are distinct, and the same again when a fresh kernel runs the
    same cells; which task lands on which worker is up to the scheduler, so
    use ``spawn(k)`` when results must not depend on it.
    """

    def __init__(self, published: str | None = None, rank: int | None = None) -> None:
        super().__init__(rank)
        #: The parent's ``SEEDMAGIC_SEED`` when this was pickled; None: read this process's environment.
        self.published = published

    def __reduce__(self) -> tuple[Any, ...]:
        """Carry the parent's seed and rank: a forkserver keeps the environment it was started with."""
        return (PoolInitializer, (os.environ.get(SEED_VARIABLE, ""), current_rank()))

    def __repr__(self) -> str:
        return "seedmagic.pool_initializer"

    def __call__(self) -> int:
        """Seed this worker; return the seed it got."""
        import multiprocessing

        base, drawn = _base_seed(None, self.published)
        rank = self.worker_rank()
        if drawn:
            _say_drawn("pool_initializer", base, f"seedmagic.seed({base}) before the pool starts")
        with seeding_as("pool_initializer"):
            return seed(rank_seed(derive_seed(base, multiprocessing.current_process().name), rank))


pool_initializer = PoolInitializer()


def torch_generator(*, per_rank: bool = False, rank: object = None) -> Any:
    """A ``torch.Generator`` seeded with the active seed, for ``DataLoader(generator=...)``.

    It makes the shuffling order and the workers' base seeds follow the
    seed without touching torch's global generator. ``per_rank=True`` gives
    each rank its own (the rank's derived seed), so ranks do not draw the
    same augmentations; the rank is the one in force now, so make the
    generator once the rank is known (after ``init_process_group``).
    """
    per_rank = validate_flag(per_rank, "per_rank")
    seed_now = _active_or_error()
    chosen = rank_seed(seed_now, current_rank(rank)) if per_rank else seed_now
    import torch

    return torch.Generator().manual_seed(chosen)


class WorkerInitFn(_RankCarrier):
    """``DataLoader(worker_init_fn=seedmagic.worker_init_fn)``: reseed torch, ``random``, NumPy and plugins.

    The seed mixes torch's per-worker seed (the loader's base seed for this
    epoch plus the worker id) with the global rank through ``SeedSequence``
    (``rank_seed``), as Lightning's ``pl_worker_init_function`` does: loaders
    that shuffle alike on every rank still give each (rank, worker) its own
    streams, in torch too, and a run under the same seed gets the same
    streams again. Workers started with spawn take the rank the loader's
    process had when it started them.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (WorkerInitFn, (current_rank(),))

    def __repr__(self) -> str:
        return "seedmagic.worker_init_fn"

    def __call__(self, worker_id: int) -> None:
        import torch

        worker_seed = rank_seed(torch.initial_seed(), self.worker_rank())
        with seeding_as("worker_init_fn"):
            seed(worker_seed)


worker_init_fn = WorkerInitFn()


def state_dict() -> dict[str, Any]:
    """Every generator's full state as plain data and tensors, for a checkpoint beside the model's.

    The document of a state file, except that torch's states stay the
    ``ByteTensor`` torch gives (a state file holds their bytes as lists):
    ``torch.save`` writes it and ``torch.load(..., weights_only=True)`` reads
    it back. ``load_state_dict`` takes either form.
    """
    return snapshot().to_data(tensors=True)


def load_state_dict(state: Any) -> None:
    """Put every generator back as ``state_dict()`` saw it; bad input is ``SeedError`` and moves nothing.

    It must hold every generator seedmagic controls here: a checkpoint that
    silently left one where it was would not resume the run it claims to.
    (``Snapshot.from_data(d).restore()`` puts back just the ones it holds.)
    """
    where, noun = "the state dict", "seedmagic state dict"
    loaded = Snapshot.from_data(state, where, noun)
    with lock:
        held = loaded.names
        # state_dict leaves out a plugin whose state cannot be read; only a built-in is always expected
        missing = [adapter.name for adapter in select() if adapter.name not in held
                   and (adapter.name in BUILTIN_NAMES or capture([adapter]).entries)]
        if missing:
            raise SeedError(f"{where} is not a usable {noun}: it has no state for {', '.join(missing)} "
                            "(make it with seedmagic.state_dict())")
        loaded.restore()
