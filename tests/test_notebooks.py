"""The quickstart notebook, executed in a real Jupyter kernel, prints the lecture's numbers."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

import seedmagic

from conftest import ROOT

spec = importlib.util.spec_from_file_location("run_notebook", ROOT / "scripts" / "run_notebook.py")
run_notebook = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_notebook)


@pytest.mark.notebook
def test_quickstart_reproduces_the_lecture(lecture, tmp_path):
    notebook = run_notebook.execute(ROOT / "examples" / "quickstart.ipynb", workdir=tmp_path)
    outputs = ["".join(run_notebook.output_text(o) for o in cell.outputs)
               for cell in notebook.cells if cell.cell_type == "code"]
    assert not any("Error" in text for text in outputs), outputs

    legacy = np.random.RandomState(10)
    first, second = legacy.rand(5), legacy.rand(5)
    assert first.tolist() == lecture["numpy_global_seed_10"]["rand5_first"]
    torch.manual_seed(10)
    torch_first, torch_second = torch.rand(5), torch.rand(5)
    assert torch_first.tolist() == lecture["torch_manual_seed_10"]["rand5_first"]
    seed2 = np.random.RandomState(13)

    expected_prints = [
        f"{first}\n{second}\n",
        f"{first}\n{seed2.rand(5)}\n{second}\n{seed2.rand(5)}\n",
        f"{torch_first}\n{torch_second}\n",
        f"{np.stack([first, second])}\n{torch.stack([torch_first, torch_second])}\n",
        f"{first[2:5]}\n",
    ]
    for expected in expected_prints:
        assert expected in outputs
    assert repr((first[:3], torch_first[:3])) + "\n" in outputs  # the %%seeded cell's value
    rows = {line.split()[0]: line.split()[1:] for line in outputs[-1].splitlines()}
    assert rows["numpy"][:2] == ["10", "global"]
    assert rows["numpy"][3:] == [f"{x:.8f}" for x in second]
    assert rows["torch"][3:] == [f"{x:.4f}" for x in torch_first.tolist()]


@pytest.mark.notebook
def test_reproducible_training_notebook(tmp_path):
    notebook = run_notebook.execute(ROOT / "examples" / "reproducible-training.ipynb", workdir=tmp_path)
    outputs = ["".join(run_notebook.output_text(o) for o in cell.outputs)
               for cell in notebook.cells if cell.cell_type == "code"]
    text = "".join(outputs)
    assert "Error" not in text, text
    assert "identical losses: True" in text
    assert "same draws after loading: True" in text
    train_seed = seedmagic.derive_seed(2024, "train")
    assert text.count(f"seeded with {train_seed} (derived from seed 2024 and 'train')") == 2
    history = outputs[-1].splitlines()
    assert [line.split()[1:3] for line in history[1:]] == [
        ["%seed", "2024"], ["%%seeded", str(seedmagic.derive_seed(2024, "data"))],
        ["%%seeded", str(train_seed)], ["%%seeded", str(train_seed)]]
    assert (tmp_path / "training-state.json").exists() and not (ROOT / "examples" / "training-state.json").exists()


@pytest.mark.slow
@pytest.mark.notebook
def test_distributed_notebook(tmp_path):
    """torchrun and torch.multiprocessing.spawn from cells: the ranks take the notebook's seed."""
    notebook = run_notebook.execute(ROOT / "examples" / "distributed.ipynb", workdir=tmp_path)
    text = "".join(run_notebook.output_text(o) for cell in notebook.cells if cell.cell_type == "code"
                   for o in cell.outputs)
    assert "Error" not in text, text
    for line in ("seeds: [10, 10]", "same-seed weights equal across ranks: True", "per-rank dropout differs: True",
                 "weights are torch.manual_seed(10)'s: True", "torch.multiprocessing.spawn gives the same: True"):
        assert line + "\n" in text
    # The notebook works in a temporary folder it made its working directory, so what it prints is the same on
    # every run (seedmagic check passes it).
    assert "Writing ddp_demo.py\n" in text and "saved random, numpy, torch to rng-0.json\n" in text
    assert not (ROOT / "examples" / "ddp_demo.py").exists()
