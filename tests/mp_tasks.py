"""What the tests' worker processes run: importable by name, so spawn and forkserver workers find it.

It imports neither torch nor the test modules, so a worker starts in a fraction of a second.
"""

from __future__ import annotations

import multiprocessing
import random
from collections.abc import Callable
from typing import Any

import numpy as np

import seedmagic

_barrier: Any = None


def start_worker(barrier: Any, initializer: Callable[[], Any] | None) -> None:
    """A pool initializer: keep the barrier (it can only be inherited), then run ``initializer``."""
    global _barrier
    _barrier = barrier
    if initializer is not None:
        initializer()


def draws_once_per_worker(_: object) -> tuple[str, int | None, float, float]:
    """Wait until every worker holds a task, so each worker runs exactly one; then draw."""
    _barrier.wait(timeout=60)
    return multiprocessing.current_process().name, seedmagic.active_seed(), random.random(), float(np.random.rand())


def seed_process_draws(_: object = None) -> tuple[int, float, float]:
    """What a child does first: take the notebook's seed, then draw."""
    used = seedmagic.seed_process()
    return used, random.random(), float(np.random.rand())


def task(pair: tuple[int, int]) -> tuple[int, float]:
    """A pool task with its own seed: the result depends on the seed and the item only."""
    task_seed, item = pair
    return item, float(np.random.default_rng(task_seed).random())
