"""The private torch attributes seedmagic needs, each with a reason and a fallback.

All serve one rule: seedmagic never initialises CUDA (or another device),
because a process that has would break every ``fork`` after it (Lightning
issue 16262). torch has no public way to read the seeds it queued for a
device that has not started, to ask whether a forked child may touch a
device, or to list the accelerators ``torch.manual_seed`` seeds besides the
CPU. Each lookup goes through ``getattr`` with a fallback that keeps seeding
correct on a torch that lacks it, and ``tests/test_torchcompat.py`` runs the
fallbacks.
"""

from __future__ import annotations

from typing import Any

#: The seed torch's device generators get when no seed was ever given (c10's ``default_rng_seed_val``).
TORCH_DEFAULT_SEED = 67280421310721


def in_bad_fork(device_module: Any) -> bool:
    """Whether this is a forked child in which the device must not be touched (``torch.cuda._is_in_bad_fork``).

    Fallback: False, as on a torch that has no such check.
    """
    check = getattr(device_module, "_is_in_bad_fork", None)
    return bool(check()) if callable(check) else False


def other_backends(torch: Any) -> list[Any]:
    """Device modules ``torch.manual_seed`` seeds and no adapter covers: XPU, MTIA, a custom backend.

    ``torch._C._has_xpu``, ``torch._C._mtia_isBuilt`` and
    ``torch._C._get_privateuse1_backend_name`` say what torch was built with;
    without them only the public ``torch.xpu.is_available()`` is asked (it
    does not initialise the device).
    """
    backends = []
    has_xpu = getattr(torch._C, "_has_xpu", None)
    if has_xpu is None:
        xpu = getattr(torch, "xpu", None)
        has_xpu = xpu is not None and xpu.is_available()
    if has_xpu:
        backends.append(torch.xpu)
    mtia_built = getattr(torch._C, "_mtia_isBuilt", None)
    if callable(mtia_built) and mtia_built():
        backends.append(torch.mtia)
    name_of_custom = getattr(torch._C, "_get_privateuse1_backend_name", None)
    # A registered backend's module is set on torch (``torch._register_device_module``): found in torch's
    # ``__dict__`` without going through torch's module ``__getattr__``, which raises and catches an
    # AttributeError on every seeding when there is none (the usual case).
    custom = vars(torch).get(name_of_custom()) if callable(name_of_custom) else None
    if custom is not None and hasattr(custom, "manual_seed_all") and hasattr(custom, "_is_in_bad_fork"):
        backends.append(custom)  # as torch's ``_seed_custom_device``: without both it seeds nothing (and warns)
    return backends


def pending_cuda_seeds(torch: Any) -> tuple[Any, Any, list[Any]] | None:
    """The seeds queued for CUDA devices that have not started (``torch.cuda._lazy_seed_tracker``).

    None where torch keeps no such queue: a scope then cannot put the queue
    back, and devices that start after it get the seed the scope queued.
    """
    tracker = getattr(torch.cuda, "_lazy_seed_tracker", None)
    if tracker is None or not hasattr(tracker, "call_order"):
        return None
    return (tracker.manual_seed_all_cb, tracker.manual_seed_cb, list(tracker.call_order))


def restore_pending_cuda_seeds(torch: Any, pending: tuple[Any, Any, list[Any]] | None) -> None:
    """Put back a queue from ``pending_cuda_seeds``; if CUDA started since, give the devices its effect."""
    if pending is None:
        return
    if torch.cuda.is_initialized():
        calls = [call for call in pending[2] if call]
        if not calls:
            for generator in torch.cuda.default_generators:
                generator.manual_seed(TORCH_DEFAULT_SEED)
        for callback, _traceback in calls:
            callback()
        return
    tracker = torch.cuda._lazy_seed_tracker
    tracker.manual_seed_all_cb, tracker.manual_seed_cb, order = pending
    tracker.call_order = list(order)


def mps_generator(torch: Any) -> Any | None:
    """The MPS default generator, to preview it from a copy (``torch.mps._get_default_mps_generator``)."""
    getter = getattr(torch.mps, "_get_default_mps_generator", None)
    return getter() if callable(getter) else None
