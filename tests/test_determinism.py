"""torch's determinism switches (``determinism.py``): a deterministic scope sets them and puts them back, the
line form leaves them on, and a missing CUBLAS_WORKSPACE_CONFIG is said once."""

from __future__ import annotations

import warnings

import pytest
import torch

import seedmagic


def determinism() -> tuple[bool, bool, bool]:
    return (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic,
            torch.backends.cudnn.benchmark)


@pytest.fixture
def determinism_restored():
    saved = seedmagic.determinism.get(torch)
    yield
    seedmagic.determinism.set(torch, saved)


@pytest.mark.slow  # over a second here
def test_deterministic_scope_sets_and_restores_the_switches(shell, determinism_restored):
    torch.backends.cudnn.benchmark = True
    assert determinism() == (False, False, True)
    inside = shell.run_cell("%%seeded --deterministic 3\n"
                            "(torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic, "
                            "torch.backends.cudnn.benchmark)").result
    assert inside == (True, True, False)
    assert determinism() == (False, False, True)
    with seedmagic.seeded(3, deterministic=True):
        assert determinism() == (True, True, False)
    assert determinism() == (False, False, True)
    assert shell.run_line_magic("seed", "--deterministic 3 torch.are_deterministic_algorithms_enabled()") is True
    assert determinism() == (False, False, True)


def test_deterministic_line_form_stays_on(shell, determinism_restored):
    shell.run_line_magic("seed", "--deterministic 3")
    assert determinism() == (True, True, False)


def test_cublas_warning_once_when_cuda_started_without_the_variable(monkeypatch, determinism_restored):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(seedmagic.determinism, "_warned_cublas", False)
    with pytest.warns(UserWarning, match="%env CUBLAS_WORKSPACE_CONFIG=:4096:8"):
        with seedmagic.seeded(1, deterministic=True, only="torch"):
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seedmagic.seed(1, deterministic=True, only="torch")
    monkeypatch.setattr(seedmagic.determinism, "_warned_cublas", False)
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seedmagic.seed(1, deterministic=True, only="torch")
