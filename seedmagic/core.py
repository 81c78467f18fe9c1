"""Seeding, scopes and previews: the part of seedmagic that knows nothing of IPython.

Every public function validates all of its input before it touches a
generator, so bad input raises ``SeedError`` and leaves everything as it was.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import operator
import os
import sys
from collections.abc import Iterable
from contextlib import ContextDecorator
from types import ModuleType, TracebackType
from typing import Any

from . import state
from .generators import Adapter, absence, is_installed, is_loaded, registry
from .state import SeedError, Snapshot, book, capture, lock, record

#: Seeds are NumPy's legacy range, which ``random``, NumPy and torch all accept.
MAX_SEED = 2**32 - 1

Names = str | Iterable[str] | None


def validate_seed(value: object) -> int:
    """Return ``value`` as an int seed, or raise ``SeedError``."""
    if isinstance(value, bool):
        raise SeedError(f"seed must be an integer from 0 to {MAX_SEED}, got {value!r}")
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise SeedError(f"seed must be an integer from 0 to {MAX_SEED}, got {value!r}") from None
    if not 0 <= number <= MAX_SEED:
        raise SeedError(f"seed must be an integer from 0 to {MAX_SEED}, got {number}")
    return number


def parse_seed(text: str) -> int:
    """A seed typed as text (a magic's argument, the panel's field), or ``SeedError``."""
    stripped = text.strip()
    digits = stripped[1:] if stripped.startswith("-") else stripped
    return validate_seed(int(stripped) if digits.isascii() and digits.isdigit() else stripped)


def _split_names(names: Names) -> list[str]:
    if isinstance(names, str):
        return [name.strip() for name in names.split(",") if name.strip()]
    return [str(name).strip() for name in names or ()]


def select(only: Names = None, skip: Names = None) -> list[Adapter]:
    """The adapters that ``only``/``skip`` (names, or one comma-separated string) pick."""
    adapters = registry()
    wanted, unwanted = _split_names(only), _split_names(skip)
    unknown = [name for name in wanted + unwanted if name not in adapters]
    if unknown:
        raise SeedError(f"unknown generator {unknown[0]!r}; known: {', '.join(adapters)}")
    if only is not None and not wanted:
        raise SeedError(f"--only needs at least one generator; known: {', '.join(adapters)}")
    both = [name for name in wanted if name in unwanted]
    if both:
        raise SeedError(f"{both[0]!r} is both in --only and in --skip")
    for name in wanted:
        reason = absence(adapters[name])
        if reason:
            raise SeedError(reason)
    picked = wanted or [name for name, adapter in adapters.items() if absence(adapter) is None]
    return [adapters[name] for name in picked if name not in unwanted]


def generators() -> list[str]:
    """Names of the generators seedmagic controls here.

    A library that is installed but not imported yet counts (it is seeded when
    imported); device generators count once torch is imported and shows them.
    """
    return [
        adapter.name
        for adapter in registry().values()
        if absence(adapter) is None and (is_loaded(adapter) or adapter.module == adapter.name)
    ]


def _apply(n: int, adapters: list[Adapter]) -> None:
    """Seed the adapters that exist now; note the seed for the ones imported later."""
    pending = False
    for adapter in adapters:
        if is_loaded(adapter):
            if not adapter.is_available():
                continue
            adapter.seed(n)
        else:
            pending = True
        book.seeds[adapter.name] = n
    if pending:
        install_import_hook()


def seed(n: object, *, only: Names = None, skip: Names = None, deterministic: bool = False) -> int:
    """Seed every global generator with ``n`` and make ``n`` the session seed.

    Over all generators this is ``random.seed(n)``, ``np.random.seed(n)`` and
    ``torch.manual_seed(n)`` bit for bit; a library imported later is seeded
    with ``n`` when it is imported. ``deterministic=True`` also switches torch
    to deterministic algorithms, and leaves them on.
    """
    number = validate_seed(n)
    adapters = select(only, skip)
    torch = _torch_for_determinism() if deterministic else None
    with lock:
        _apply(number, adapters)
        book.session_seed = number
        if torch is not None:
            set_determinism(torch, DETERMINISTIC)
        record("seed()", number, tuple(adapter.name for adapter in adapters), "global")
    return number


def snapshot(only: Names = None) -> Snapshot:
    """Capture the full state of every generator (or of ``only``)."""
    return capture(select(only))


def peek(k: int = 5) -> dict[str, list[float]]:
    """The next ``k`` uniform draws of each generator that exists now, without consuming them."""
    count = operator.index(k)
    if count < 0:
        raise SeedError(f"k must be a non-negative integer, got {k!r}")
    draws: dict[str, list[float]] = {}
    with lock:
        for adapter in registry().values():
            if is_loaded(adapter) and adapter.is_available():
                draws.update(adapter.peek(count))
    return draws


def derive_seed(base: int, label: str) -> int:
    """A seed for ``label`` derived from ``base`` with NumPy's ``SeedSequence``.

    The label enters as a spawn key made from its SHA-256 (never Python's
    salted ``hash``), so the result is the same in every process and machine.
    """
    import hashlib

    import numpy as np

    digest = hashlib.sha256(label.encode("utf-8")).digest()
    spawn_key = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))
    sequence = np.random.SeedSequence(validate_seed(base), spawn_key=spawn_key)
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


class seeded(ContextDecorator):
    """Run a block (or a decorated function) under a seed, then restore every generator.

    ``n=None`` uses the session seed, or a fresh seed from OS entropy when
    there is none (``.drawn`` is then True so callers can show it). With
    ``name``, the seed is derived from that base and the label. The state is
    restored in ``finally``, also on exceptions and ``KeyboardInterrupt``,
    unless ``keep=True``. ``deterministic=True`` switches torch to
    deterministic algorithms for the block. Scopes nest; ``with seeded(10) as
    n`` gives the seed.
    """

    def __init__(
        self,
        n: object = None,
        *,
        only: Names = None,
        skip: Names = None,
        keep: bool = False,
        name: str | None = None,
        deterministic: bool = False,
    ) -> None:
        self.requested = None if n is None else validate_seed(n)
        self.adapters = select(only, skip)
        self.names = tuple(adapter.name for adapter in self.adapters)
        if name is not None and not isinstance(name, str):
            raise SeedError(f"name must be a string, got {name!r}")
        self.keep = keep
        self.name = name
        self.torch = _torch_for_determinism() if deterministic else None
        #: What the history says seeded (the magics put their own name here).
        self.source = "seeded()"
        self.seed: int | None = None
        self.base: int | None = None
        self.drawn = False
        self._saved: list[tuple[Snapshot, tuple[bool, bool, bool, bool] | None]] = []

    def __call__(self, function: Any) -> Any:
        """Decorate a function; a generator or coroutine function would leave the scope before its body ran."""
        import inspect

        if inspect.isgeneratorfunction(function) or inspect.iscoroutinefunction(function) \
                or inspect.isasyncgenfunction(function):
            raise SeedError(f"seeded cannot decorate {function.__name__}: its body runs after the call returns; "
                            "use 'with seeded(...):' inside it")
        return super().__call__(function)

    def _resolve(self) -> int:
        base = self.requested if self.requested is not None else book.session_seed
        self.drawn = base is None
        self.base = int.from_bytes(os.urandom(4), "little") if base is None else base
        return self.base if self.name is None else derive_seed(self.base, self.name)

    def __enter__(self) -> int:
        with lock:
            self.seed = self._resolve()
            determinism = None if self.torch is None else get_determinism(self.torch)
            self._saved.append((capture(self.adapters), determinism))
            _apply(self.seed, self.adapters)
            if self.torch is not None:
                set_determinism(self.torch, DETERMINISTIC)
            book.scopes.append((self.seed, self.names))
            derived_or_drawn = self.name is not None or self.drawn
            record(self.source, self.seed, self.names, "kept" if self.keep else "restored", self.name,
                   self.base if derived_or_drawn else None, self.drawn)
        return self.seed

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        saved, determinism = self._saved.pop()
        with lock:
            book.scopes.pop()
            if not self.keep:
                saved.restore()
                if self.torch is not None and determinism is not None:
                    set_determinism(self.torch, determinism)


#: torch's switches for reproducible kernels: (deterministic algorithms, warn only,
#: cuDNN deterministic, cuDNN benchmark).
DETERMINISTIC = (True, False, True, False)


def _torch_for_determinism() -> ModuleType:
    """torch, imported if need be: asking for deterministic kernels is asking for torch."""
    if not is_installed("torch"):
        raise SeedError("--deterministic needs torch, which is not installed")
    import torch

    return torch


def get_determinism(torch: ModuleType) -> tuple[bool, bool, bool, bool]:
    return (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )


_warned_cublas = False


def set_determinism(torch: ModuleType, switches: tuple[bool, bool, bool, bool]) -> None:
    """Set torch's determinism switches; warn once if cuBLAS will still be nondeterministic."""
    global _warned_cublas
    algorithms, warn_only, cudnn_deterministic, cudnn_benchmark = switches
    torch.use_deterministic_algorithms(algorithms, warn_only=warn_only)
    torch.backends.cudnn.deterministic = cudnn_deterministic
    torch.backends.cudnn.benchmark = cudnn_benchmark
    if algorithms and not _warned_cublas and torch.cuda.is_initialized() and "CUBLAS_WORKSPACE_CONFIG" not in os.environ:
        import warnings

        _warned_cublas = True
        warnings.warn(
            "CUDA started before CUBLAS_WORKSPACE_CONFIG was set, so cuBLAS is not deterministic; "
            "put this line at the top of the notebook and restart the kernel: "
            "%env CUBLAS_WORKSPACE_CONFIG=:4096:8",
            stacklevel=3,
        )


def active_seed() -> int | None:
    """The seed in force: the innermost scope's, else the session seed, else None."""
    return book.scopes[-1][0] if book.scopes else book.session_seed


def torch_generator() -> Any:
    """A ``torch.Generator`` seeded with the active seed, for ``DataLoader(generator=...)``.

    It makes the shuffling order and the workers' base seeds follow the
    seed without touching torch's global generator.
    """
    seed_now = active_seed()
    if seed_now is None:
        raise SeedError("no seed is active: run %seed N (or seedmagic.seed(N)) first, or use a scope")
    import torch

    return torch.Generator().manual_seed(seed_now)


def worker_init_fn(worker_id: int) -> None:
    """``DataLoader(worker_init_fn=...)``: reseed ``random``, NumPy and plugins in each worker.

    The seed comes from torch's per-worker seed (the loader's base seed plus
    the worker id) through ``SeedSequence``, so workers never share a stream
    and a run under the same seed gets the same streams again.
    """
    import numpy as np
    import torch

    worker_seed = int(np.random.SeedSequence(torch.initial_seed()).generate_state(1)[0])
    torch_names = [name for name, adapter in registry().items() if adapter.module == "torch"]
    with state.seeding_as("worker_init_fn"):
        seed(worker_seed, skip=torch_names)


class _SeedAfterExec(importlib.abc.Loader):
    """Wraps a library's loader to seed the library the moment it has been imported."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        _seed_imported(module.__name__)


class _SeedOnImport(importlib.abc.MetaPathFinder):
    """A ``sys.meta_path`` entry that watches for the import of a library with a seed due."""

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _due_modules():
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is None:
                    return None
                spec.loader = _SeedAfterExec(spec.loader)
                return spec
        return None


_import_hook = _SeedOnImport()


def _due_modules() -> set[str]:
    """Libraries not imported yet for which a seed has been noted."""
    adapters = registry()
    return {
        adapter.module
        for name in book.seeds
        if (adapter := adapters.get(name)) is not None and adapter.module and not is_loaded(adapter)
    }


def _seed_imported(module: str) -> None:
    """Give a just-imported library's generators the seeds noted for them."""
    with lock:
        for adapter in registry().values():
            if adapter.module == module and adapter.name in book.seeds and adapter.is_available():
                adapter.seed(book.seeds[adapter.name])
        if not _due_modules():
            remove_import_hook()


def install_import_hook() -> None:
    """Watch imports so that a library imported after seeding is seeded too (idempotent)."""
    if _import_hook not in sys.meta_path:
        sys.meta_path.insert(0, _import_hook)


def remove_import_hook() -> None:
    """Stop watching imports."""
    while _import_hook in sys.meta_path:
        sys.meta_path.remove(_import_hook)


def import_hook_installed() -> bool:
    return _import_hook in sys.meta_path

