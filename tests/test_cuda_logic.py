"""The CUDA adapter's logic, on a CPU-only torch: CUDA is made to look built, never initialised.

torch queues ``manual_seed_all`` until CUDA starts; these tests check that
seedmagic queues exactly what ``torch.manual_seed`` queues, that scopes put
the queue back, and that a queue captured before CUDA started is replayed on
the devices if CUDA started inside the scope. Real devices: test_cuda_device.py.
"""

from __future__ import annotations

import pytest
import torch

import seedmagic
from seedmagic.torchcompat import TORCH_DEFAULT_SEED


def queued_seed() -> int | None:
    """The seed in torch's pending ``manual_seed_all`` call, read from its closure."""
    pending = torch.cuda._lazy_seed_tracker.manual_seed_all_cb
    if pending is None:
        return None
    callback = pending[0]
    return dict(zip(callback.__code__.co_freevars, (c.cell_contents for c in callback.__closure__), strict=True))["seed"]


@pytest.fixture
def cuda_built(monkeypatch):
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)
    tracker = torch.cuda._lazy_seed_tracker
    saved = (tracker.manual_seed_all_cb, tracker.manual_seed_cb, list(tracker.call_order))
    yield
    tracker.manual_seed_all_cb, tracker.manual_seed_cb, tracker.call_order = saved
    assert not torch.cuda._initialized


def test_seed_queues_what_torch_manual_seed_queues(cuda_built):
    assert "torch.cuda" in seedmagic.generators()
    torch.manual_seed(123)
    expected = queued_seed()
    torch.manual_seed(0)
    seedmagic.seed(123)
    assert queued_seed() == expected == 123


def test_scope_puts_the_pending_queue_back(cuda_built):
    torch.manual_seed(5)
    tracker = torch.cuda._lazy_seed_tracker
    before = (tracker.manual_seed_all_cb, tracker.manual_seed_cb, list(tracker.call_order))
    with seedmagic.seeded(10):
        assert queued_seed() == 10
    assert (tracker.manual_seed_all_cb, tracker.manual_seed_cb, list(tracker.call_order)) == before
    assert queued_seed() == 5


def test_cuda_started_inside_a_scope_gets_the_state_the_queue_would_have_given(cuda_built, monkeypatch):
    torch.manual_seed(5)
    scope = seedmagic.seeded(10, only="torch.cuda")
    scope.__enter__()
    devices = [torch.Generator(), torch.Generator()]  # stand-ins for two CUDA devices
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "default_generators", tuple(devices), raising=False)
    monkeypatch.setattr(torch.cuda.random, "device_count", lambda: 2)  # what the queued call reads
    for device in devices:
        device.manual_seed(10)
        torch.rand(3, generator=device)
    scope.__exit__(None, None, None)
    expected = torch.Generator().manual_seed(5).get_state()
    assert all(torch.equal(device.get_state(), expected) for device in devices)


def test_unseeded_queue_replays_as_torchs_start_up_seed(cuda_built, monkeypatch):
    tracker = torch.cuda._lazy_seed_tracker
    tracker.manual_seed_all_cb, tracker.manual_seed_cb, tracker.call_order = None, None, []
    scope = seedmagic.seeded(10, only="torch.cuda")
    scope.__enter__()
    devices = [torch.Generator()]
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "default_generators", tuple(devices), raising=False)
    devices[0].manual_seed(10)
    scope.__exit__(None, None, None)
    assert torch.equal(devices[0].get_state(), torch.Generator().manual_seed(TORCH_DEFAULT_SEED).get_state())


def test_initialised_devices_are_captured_restored_and_peeked(cuda_built, monkeypatch):
    devices = [torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)]
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "default_generators", tuple(devices), raising=False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    from seedmagic.adapters import TorchCUDA

    cuda = TorchCUDA()
    state = cuda.get_state()
    torch.rand(4, generator=devices[0])
    cuda.set_state(state)
    assert torch.equal(devices[0].get_state(), torch.Generator().manual_seed(1).get_state())
    peeked = cuda.peek(2)  # each preview draws on its generator's own device: here the CPU stands in
    assert list(peeked) == ["torch.cuda:0", "torch.cuda:1"]
    assert peeked["torch.cuda:1"] == torch.rand(2, generator=devices[1]).tolist()


def test_cuda_is_never_initialised_on_the_mocked_path(monkeypatch, shell):
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)
    monkeypatch.setattr(torch.cuda, "_lazy_init", lambda: pytest.fail("seedmagic initialised CUDA"))
    tracker = torch.cuda._lazy_seed_tracker
    saved = (tracker.manual_seed_all_cb, tracker.manual_seed_cb, list(tracker.call_order))
    try:
        shell.run_line_magic("seed", "10")
        shell.run_cell("%%seeded 3\ntorch.rand(1)")
        shell.run_line_magic("seed", "")
        seedmagic.peek(3)
        seedmagic.snapshot().restore()
        assert not torch.cuda.is_initialized()
    finally:
        tracker.manual_seed_all_cb, tracker.manual_seed_cb, tracker.call_order = saved
