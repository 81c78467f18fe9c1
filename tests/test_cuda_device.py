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
    assert all(torch.equal(g.get_state(), s) for g, s in zip(torch.cuda.default_generators, states, strict=True))
    torch.manual_seed(10)
    assert inside == device_draws()
    peeked = seedmagic.peek(4)
    assert [peeked[f"torch.cuda:{i}"] for i in range(torch.cuda.device_count())] == device_draws()


def test_seedmagic_never_initialises_cuda_and_queued_seeds_land_on_the_devices():
    from conftest import run_python

    out = run_python("""
import torch, seedmagic
seedmagic.seed(10)
with seedmagic.seeded(3):
    pass
seedmagic.peek(2)
seedmagic.snapshot().restore()
print(torch.cuda.is_initialized())
after = [torch.rand(3, device=f"cuda:{i}").tolist() for i in range(torch.cuda.device_count())]
torch.manual_seed(10)
print(after == [torch.rand(3, device=f"cuda:{i}").tolist() for i in range(torch.cuda.device_count())])
""")
    assert out.split() == ["False", "True"]


def test_cuda_started_inside_a_scope_is_put_back_as_the_queue_would_have_left_it():
    from conftest import run_python

    out = run_python("""
import torch, seedmagic
torch.manual_seed(5)
with seedmagic.seeded(10):
    inside = torch.rand(3, device="cuda").tolist()
after = torch.rand(3, device="cuda").tolist()
torch.manual_seed(10)
same_inside = inside == torch.rand(3, device="cuda").tolist()
torch.manual_seed(5)
print(same_inside, after == torch.rand(3, device="cuda").tolist())
""")
    assert out.split() == ["True", "True"]


def test_fork_after_seeding_with_cuda_available():
    from conftest import run_python

    out = run_python("""
import os, torch, seedmagic
seedmagic.seed(10)
with seedmagic.seeded(4):
    pass
pid = os.fork()
if pid == 0:
    os._exit(0 if torch.rand(1).numel() == 1 else 1)
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), torch.cuda.is_initialized())
""")
    assert out.split() == ["0", "False"]
