"""Seeding, scopes and previews: the part of seedmagic that knows nothing of IPython.

Every public function validates all of its input before it touches a
generator, so bad input raises ``SeedError`` and leaves everything as it was.
Seeding and restoring hold the lock (whole with respect to threads) and are
``@atomic`` (whole with respect to Ctrl-C).
"""

from __future__ import annotations

import operator
import os
import threading
from collections.abc import Iterable
from contextlib import ContextDecorator
from typing import Any

from . import determinism, importhook, interrupts
from .adapters import BUILTIN_NAMES, Adapter, absence, is_loaded, plugin_failed, present, registry, swappable
from .ranks import current_rank, rank_seed, validate_rank
from .scopes import Scope
from .session import OpenScope, SeedError, book, describe, lock, publish, record, short
from .snapshots import Snapshot, capture

#: Seeds are NumPy's legacy range, which ``random``, NumPy and torch all accept.
MAX_SEED = 2**32 - 1
#: The most draws ``peek`` previews per generator.
MAX_PEEK = 10_000

Names = str | Iterable[str] | None

_SEED_RULE = f"seed must be an integer from 0 to {MAX_SEED}"


def validate_seed(value: object) -> int:
    """Return ``value`` as an int seed, or raise ``SeedError``: the one place the seed range is checked."""
    return _integer_up_to(value, MAX_SEED, _SEED_RULE)


def _integer_up_to(value: object, most: int, rule: str, least: int = 0) -> int:
    """``value`` as an int from ``least`` to ``most`` (bools are not numbers here), or ``SeedError`` stating
    ``rule``."""
    if type(value) is not int and (isinstance(value, bool) or _bool_or_array(value)):
        raise SeedError(f"{rule}, got {short(value)}")
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except Exception:  # not an integer, or an __index__ that raises
        raise SeedError(f"{rule}, got {short(value)}") from None
    if not least <= number <= most:
        raise SeedError(f"{rule}, got {short(number)}")
    return number


def _bool_or_array(value: object) -> bool:
    """A truth value or an array of numbers that ``__index__`` would pass as an integer: ``torch.tensor(True)``,
    ``torch.tensor([7])`` (NumPy refuses both itself). Either is a mistake, not a seed."""
    try:
        dtype, shape = getattr(value, "dtype", None), getattr(value, "shape", None)
        return "bool" in str(dtype) or (shape is not None and len(shape) > 0)
    except Exception:  # a strange object: operator.index decides
        return False


def validate_setting(value: object, name: str, least: int, most: int) -> int:
    """A display setting (the panel's ``k`` and ``precision``): an integer from ``least`` to ``most``."""
    return _integer_up_to(value, most, f"{name} must be an integer from {least} to {most}", least)


def parse_seed(text: str) -> int:
    """A seed typed as text (a magic's argument, the panel's field), or ``SeedError``."""
    stripped = text.strip()
    if stripped.startswith("-"):  # "-0" too: a seed is written without a sign
        raise SeedError(f"{_SEED_RULE}, got {stripped if len(stripped) <= 40 else stripped[:37] + '...'}")
    digits = stripped
    if digits.isascii() and digits.isdigit():
        significant = digits.lstrip("0")
        return validate_seed(int(stripped) if len(significant) <= 20 else 10**30)
    return validate_seed(stripped)


def validate_k(k: object, most: int = MAX_PEEK) -> int:
    """A count ``k`` (draws to preview, seeds to spawn): an integer from 0 to ``most``."""
    return _integer_up_to(k, most, f"k must be an integer from 0 to {most}")


def validate_label(label: object) -> str:
    """A ``name`` for a derived seed: text that UTF-8 can encode (it is hashed as UTF-8).

    A ``str`` subclass becomes a plain ``str`` first, so that none of its own methods runs.
    """
    if not isinstance(label, str):
        raise SeedError(f"name must be a string, got {short(label)}")
    text = str.__str__(label)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SeedError("name must be text that UTF-8 can encode (it holds a lone surrogate)") from None
    return text


def validate_flag(value: object, name: str) -> bool:
    """An option that is on or off: only ``True`` or ``False`` (``"no"`` is truthy, and would mean yes)."""
    if type(value) is not bool:
        raise SeedError(f"{name} must be True or False, got {short(value)}")
    return value


def _split_names(names: Names) -> list[str]:
    """Generator names from one comma-separated string or an iterable of strings; anything else is refused."""
    if names is None:
        return []
    if isinstance(names, str):
        return [name.strip() for name in str.__str__(names).split(",") if name.strip()]
    if isinstance(names, (bytes, bytearray)) or not isinstance(names, Iterable):
        raise SeedError(f"generator names must be a string or a list of strings, got {short(names)}")
    listed = list(names)
    if not all(isinstance(name, str) for name in listed):
        raise SeedError(f"generator names must be strings, got {short(listed)}")
    return [str.__str__(name).strip() for name in listed]


def select(only: Names = None, skip: Names = None) -> list[Adapter]:
    """The adapters that ``only``/``skip`` (names, or one comma-separated string) pick."""
    adapters = registry()
    if only is None and skip is None:  # every scope and %seed without options: nothing to check
        return present(adapters.values())
    wanted, unwanted = _split_names(only), _split_names(skip)
    unknown = [name for name in wanted + unwanted if name not in adapters]
    if unknown:
        raise SeedError(f"unknown generator {unknown[0][:40]!r}; known: {', '.join(adapters)}")
    if only is not None and not wanted:
        raise SeedError(f"--only needs at least one generator; known: {', '.join(adapters)}")
    both = [name for name in wanted if name in unwanted]
    if both:
        raise SeedError(f"{both[0]!r} is both in --only and in --skip")
    for name in wanted:
        reason = absence(adapters[name])
        if reason:
            raise SeedError(reason)
    picked = dict.fromkeys(wanted) or {adapter.name: None for adapter in present(adapters.values())}
    return [adapters[name] for name in picked if name not in unwanted]


def generators() -> list[str]:
    """Names of the generators seedmagic controls here.

    A library that is installed but not imported yet counts (it is seeded when
    imported); device generators count once torch is imported and shows them.
    """
    return _known(present(registry().values()))


def _known(adapters: Iterable[Adapter]) -> list[str]:
    """The names among ``adapters`` that are known to exist: a device's generator only once torch shows it.

    (Such a device is still seeded when torch is imported; it is just not named before.)
    """
    return [adapter.name for adapter in adapters if is_loaded(adapter) or adapter.module == adapter.name]


def _not_swappable(adapter: Adapter) -> bool:
    """Sorts ``Swappable`` generators first: seeding one may run code of an object swapped in (NumPy's bit
    generator), which may fail, and then no other generator has moved."""
    return not swappable(adapter)


def _apply(n: int, adapters: list[Adapter], undone: bool = False) -> None:
    """Seed the adapters that exist now; note the seed for the ones imported later.

    A plugin that raises is reported, left out, and its seed not noted. A built-in that raises is a
    one-line ``SeedError``: it names the generators seeded before it, unless nothing moved or the caller
    puts them back (``undone``: a scope, which saved them).
    """
    pending = False
    moved: list[str] = []
    for adapter in sorted(adapters, key=_not_swappable):
        if is_loaded(adapter):
            try:
                if not adapter.is_available():
                    continue
                adapter.seed(n)
            except Exception as error:
                if adapter.name not in BUILTIN_NAMES:
                    plugin_failed(adapter.name, "seed", error)
                    continue
                if moved and not undone:
                    raise SeedError(f"{adapter.name} could not be seeded ({describe(error)}); "
                                    f"{', '.join(moved)} already were, with {n}") from None
                raise SeedError(f"{adapter.name} cannot be seeded: {describe(error)}") from None
            moved.append(adapter.name)
        else:
            pending = True
        book.seeds[adapter.name] = n
    if pending:
        importhook.install()


def seed(n: object, *, only: Names = None, skip: Names = None, deterministic: bool = False,
         per_rank: bool = False, rank: object = None) -> int:
    """Seed every global generator with ``n`` and make ``n`` the session seed; return the seed used.

    Over all generators this is ``random.seed(n)``, ``np.random.seed(n)`` and
    ``torch.manual_seed(n)`` bit for bit; a library imported later is seeded
    with ``n`` when it is imported. ``per_rank=True`` seeds this rank with its
    own seed derived from ``n`` (``rank`` if given, else the process group's or
    ``RANK``'s); ``n`` stays the session seed, published for child processes.
    ``deterministic=True`` also switches torch to deterministic algorithms,
    and leaves them on.
    """
    number = validate_seed(n)
    deterministic, per_rank = validate_flag(deterministic, "deterministic"), validate_flag(per_rank, "per_rank")
    chosen = current_rank(rank) if per_rank or rank is not None else None
    used = rank_seed(number, chosen) if per_rank and chosen is not None else number
    adapters = select(only, skip)
    torch = determinism.torch_for_determinism() if deterministic else None
    _seed_all(number, used, adapters, torch, chosen if per_rank else None)
    return used


@interrupts.atomic
def _seed_all(number: int, used: int, adapters: list[Adapter], torch: Any, rank: int | None) -> None:
    """Seed ``adapters`` with ``used`` (``number``, or the seed derived for ``rank``), ``number`` the session seed.

    Atomic from here only: checking the input runs the caller's code (an ``__index__``), which Ctrl-C must stop.
    """
    with lock:
        _apply(used, adapters)
        book.session_seed = number
        if torch is not None:
            determinism.set(torch, determinism.DETERMINISTIC)
        publish()
        record("seed()", used, tuple(_known(adapters)), "global",
               None if rank is None else f"rank {rank}", None if rank is None else number)


def snapshot(only: Names = None) -> Snapshot:
    """Capture the full state of every generator (or of ``only``)."""
    return capture(select(only))


def peek(k: int = 5) -> dict[str, list[float]]:
    """The next ``k`` uniform draws of each generator that exists now, without consuming them."""
    count = validate_k(k)
    draws: dict[str, list[float]] = {}
    with lock:
        for adapter in registry().values():
            try:
                if is_loaded(adapter) and absence(adapter) is None:  # not a device whose check fails
                    draws.update(adapter.peek(count))
            except Exception as error:
                if adapter.name in BUILTIN_NAMES:  # a bit generator swapped into NumPy that refuses
                    raise SeedError(f"cannot preview {adapter.name} ({describe(error)})") from None
                plugin_failed(adapter.name, "preview", error)
    return draws


def derive_seed(base: int, label: str) -> int:
    """A seed for ``label`` derived from ``base`` with NumPy's ``SeedSequence``.

    The label enters as a spawn key made from its SHA-256 (never Python's
    salted ``hash``), so the result is the same in every process and machine.
    """
    import hashlib

    import numpy as np

    digest = hashlib.sha256(validate_label(label).encode("utf-8")).digest()
    spawn_key = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))
    sequence = np.random.SeedSequence(validate_seed(base), spawn_key=spawn_key)
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


class seeded(Scope, ContextDecorator):
    """Run a block (or a decorated function) under a seed, then restore every generator.

    ``n=None`` uses the session seed, or a fresh seed from OS entropy when
    there is none (``.drawn`` is then True so callers can show it). With
    ``name``, the seed is derived from that base and the label; with
    ``per_rank``, from the base and this process's rank, read at each entry
    (a function decorated before ``init_process_group`` or before ``RANK``
    is set still follows its rank), as the session seed is. The state is
    restored in ``finally``, also on exceptions and Ctrl-C (entering and
    leaving are atomic), unless ``keep=True``. ``deterministic=True``
    switches torch to deterministic algorithms for the block. Scopes nest;
    two scopes that overlap without nesting (two threads or asyncio tasks)
    raise ``SeedError`` when the outer one closes first. ``with seeded(10) as
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
        per_rank: bool = False,
        rank: object = None,
    ) -> None:
        self.requested = None if n is None else validate_seed(n)
        keep, deterministic = validate_flag(keep, "keep"), validate_flag(deterministic, "deterministic")
        per_rank = validate_flag(per_rank, "per_rank")
        self.adapters = select(only, skip)
        self.name = None if name is None else validate_label(name)
        #: ``rank=`` as given (checked now); None: the rank in force at each entry.
        self.given_rank = None if rank is None else validate_rank(rank)
        #: The rank the latest entry ran for (``per_rank``), else None.
        self.rank: int | None = None
        self.per_rank = per_rank
        self.keep = keep
        self.torch = determinism.torch_for_determinism() if deterministic else None
        self.seed: int | None = None
        self.base: int | None = None
        self.drawn = False
        super().__init__()

    def __call__(self, function: Any) -> Any:
        """Decorate a function; a generator or coroutine function would leave the scope before its body ran."""
        import inspect

        if inspect.isgeneratorfunction(function) or inspect.iscoroutinefunction(function) \
                or inspect.isasyncgenfunction(function):
            what = getattr(function, "__name__", None) or repr(function)[:60]  # a functools.partial has no name
            raise SeedError(f"seeded cannot decorate {what}: its body runs after the call returns; "
                            "use 'with seeded(...):' inside it")
        return super().__call__(function)

    def _resolve(self) -> int:
        """The seed of this entry; the rank is read first, so that a bad ``RANK`` moves nothing."""
        self.rank = current_rank(self.given_rank) if self.per_rank else None
        base = self.requested if self.requested is not None else book.session_seed
        self.drawn = base is None
        self.base = int.from_bytes(os.urandom(4), "little") if base is None else base
        derived = self.base if self.name is None else derive_seed(self.base, self.name)
        return derived if self.rank is None else rank_seed(derived, self.rank)

    def _open(self) -> OpenScope:
        """Seed for this entry; what it saved and what it changed go into the ``OpenScope`` the stack keeps."""
        number = self._resolve()
        switches = None if self.torch is None else determinism.get(self.torch)
        saved = capture(self.adapters)
        scope = OpenScope(number, tuple(saved.names), saved, switches, threading.get_ident())
        try:
            _apply(number, [adapter for adapter in self.adapters if adapter.name in scope.names], undone=True)
            if self.torch is not None:
                determinism.set(self.torch, determinism.DETERMINISTIC)
        except BaseException:  # a library failed after others were seeded: everything goes back
            saved.restore()
            if switches is not None and self.torch is not None:
                determinism.set(self.torch, switches)
            raise
        return scope

    def _opened(self, scope: OpenScope) -> None:
        self.seed = scope.seed
        derived = self.name is not None or self.drawn or self.per_rank
        label = self.name if self.name is not None else (f"rank {self.rank}" if self.per_rank else None)
        record("seeded()", scope.seed, tuple(_known(self.adapters)), "kept" if self.keep else "restored", label,
               self.base if derived else None, self.drawn)

    def _close_nested(self, scope: OpenScope) -> None:
        """Put back what the entry saved (unless ``keep``), and torch's switches if it set them."""
        if self.keep:
            publish()
            return
        scope.saved.restore()  # and publishes the seed in force again
        if scope.switches is not None and self.torch is not None:
            determinism.set(self.torch, scope.switches)


def active_seed() -> int | None:
    """The seed in force: the innermost scope's, else the session seed, else None."""
    return book.active_seed()

