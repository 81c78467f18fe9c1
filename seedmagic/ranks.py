"""Which rank this process is, and the seed a rank derives from a shared one."""

from __future__ import annotations

import os

from .adapters import loaded_module
from .session import SeedError, short

#: Where ``seed_process`` publishes the rank it seeded for, so that the processes a rank starts
#: (DataLoader workers started with spawn, which do not inherit ``torch.distributed``) know it.
RANK_VARIABLE = "SEEDMAGIC_RANK"
#: Environment variables read for the rank, in this order: the launchers' (torchrun, Lightning,
#: accelerate), then seedmagic's own.
RANK_VARIABLES = ("RANK", "LOCAL_RANK", RANK_VARIABLE)


#: The largest rank: nine digits, far beyond any job, and short enough to show and to hash.
MAX_RANK = 10**9 - 1


def validate_rank(value: object, where: str = "rank") -> int:
    """A rank is an integer from 0 to ``MAX_RANK`` (or its digits); anything else is ``SeedError`` naming where it
    came from."""
    rule = f"{where} must be an integer from 0 to {MAX_RANK}"
    if type(value) is str:
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= len(str(MAX_RANK)):
            return int(text)
        raise SeedError(f"{rule}, got {short(value)}")
    if type(value) is not int or not 0 <= value <= MAX_RANK:
        raise SeedError(f"{rule}, got {short(value)}")
    return value


def current_rank(rank: object = None) -> int:
    """``rank`` if given, else ``torch.distributed``'s rank when initialised, else RANK_VARIABLES', else 0."""
    if rank is not None:
        return validate_rank(rank)
    torch = loaded_module("torch")
    if torch is not None:
        distributed = torch.distributed
        if distributed.is_available() and distributed.is_initialized():
            return int(distributed.get_rank())
    for variable in RANK_VARIABLES:
        if os.environ.get(variable, "") != "":
            return validate_rank(os.environ[variable], f"the environment variable {variable}")
    return 0


def rank_seed(seed: int, rank: int) -> int:
    """The seed of ``rank``: the first 32-bit word of ``SeedSequence(seed, spawn_key=(rank,))``."""
    import numpy as np

    return int(np.random.SeedSequence(seed, spawn_key=(rank,)).generate_state(1, dtype=np.uint32)[0])
