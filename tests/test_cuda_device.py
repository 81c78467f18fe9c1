"""On a real GPU: seeding matches torch.manual_seed on every device, and scopes restore them.

Skipped where torch sees no CUDA device (the development machines and CI).
Run on a GPU machine with ``python -m pytest tests/test_cuda_device.py``.
"""

from __future__ import annotations

import pytest
import torch

import seedmagic

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def device_draws(k: int = 4) -> list[list[float]]:
    return [torch.rand(k, device=f"cuda:{i}").tolist() for i in range(torch.cuda.device_count())]


def test_seed_matches_manual_seed_on_every_device():
    torch.manual_seed(10)
    expected = device_draws()
    torch.manual_seed(0)
    seedmagic.seed(10)
    assert device_draws() == expected


def test_scope_restores_every_device_and_peek_does_not_consume():
    torch.cuda.init()
    torch.manual_seed(3)
    device_draws()
    states = [g.get_state() for g in torch.cuda.default_generators]
    with seedmagic.seeded(10):
        inside = device_draws()
    assert all(torch.equal(g.get_state(), s) for g, s in zip(torch.cuda.default_generators, states))
    torch.manual_seed(10)
    assert inside == device_draws()
    peeked = seedmagic.peek(4)
    assert [peeked[f"torch.cuda:{i}"] for i in range(torch.cuda.device_count())] == device_draws()
