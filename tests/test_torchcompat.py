"""The private torch attributes in ``seedmagic/torchcompat.py``: each on this torch, and each fallback on a torch
that lacks it (a stand-in module with none of the private names)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from conftest import requires_torch, torch

from seedmagic import torchcompat


def bare_torch(**devices: object) -> SimpleNamespace:
    """A torch with none of the private attributes: ``torch._C`` is empty."""
    return SimpleNamespace(_C=SimpleNamespace(), **devices)


def test_in_bad_fork_falls_back_to_false_and_asks_where_it_can():
    assert torchcompat.in_bad_fork(SimpleNamespace()) is False
    assert torchcompat.in_bad_fork(SimpleNamespace(_is_in_bad_fork=lambda: True)) is True


def test_other_backends_fall_back_to_the_public_xpu_question():
    assert torchcompat.other_backends(bare_torch()) == []
    unavailable = SimpleNamespace(is_available=lambda: False)
    assert torchcompat.other_backends(bare_torch(xpu=unavailable)) == []
    available = SimpleNamespace(is_available=lambda: True)
    assert torchcompat.other_backends(bare_torch(xpu=available)) == [available]
    custom = SimpleNamespace(manual_seed_all=lambda n: None, _is_in_bad_fork=lambda: False)
    built = SimpleNamespace(_C=SimpleNamespace(_has_xpu=False, _mtia_isBuilt=lambda: False,
                                               _get_privateuse1_backend_name=lambda: "npu"), npu=custom)
    assert torchcompat.other_backends(built) == [custom]
    # torch.manual_seed (``_seed_custom_device``) seeds a custom backend only when it has both: so does seedmagic
    del custom._is_in_bad_fork
    assert torchcompat.other_backends(built) == []


def test_no_pending_queue_and_no_mps_getter_fall_back_to_none():
    assert torchcompat.pending_cuda_seeds(bare_torch(cuda=SimpleNamespace())) is None
    torchcompat.restore_pending_cuda_seeds(bare_torch(cuda=SimpleNamespace()), None)  # nothing to put back
    assert torchcompat.mps_generator(bare_torch(mps=SimpleNamespace())) is None


@requires_torch
def test_on_this_torch_the_cuda_queue_is_read_and_put_back_without_starting_cuda():
    if torch.cuda.is_initialized():
        pytest.skip("CUDA is running here: the queue is not used")
    tracker = torch.cuda._lazy_seed_tracker
    before = (tracker.manual_seed_all_cb, tracker.manual_seed_cb, list(tracker.call_order))
    pending = torchcompat.pending_cuda_seeds(torch)
    assert pending is not None and pending[2] == before[2]
    torch.cuda.manual_seed_all(123)  # queued, as CUDA has not started
    assert tracker.call_order != before[2]
    torchcompat.restore_pending_cuda_seeds(torch, pending)
    assert (tracker.manual_seed_all_cb, tracker.manual_seed_cb, list(tracker.call_order)) == before
    assert not torch.cuda.is_initialized()
