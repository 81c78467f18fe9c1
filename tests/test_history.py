"""The history of seedings: every one recorded with the cell that ran it, bounded, shown by ``%seed --history``."""

from __future__ import annotations

import seedmagic
from conftest import requires_torch


def test_history_cells_are_the_running_cells(shell):
    seedmagic.session.history.clear()
    numbers = []
    for source in ("%seed 1", "x = 1\n%seed 2", "%%seeded 3\npass", "seedmagic.seed(4)", "%seed 5 pass"):
        numbers.append(shell.execution_count)
        shell.run_cell("import seedmagic\n" + source if "seedmagic." in source else source, store_history=True)
    assert [event.count for event in seedmagic.history()] == numbers


@requires_torch
def test_history_records_every_seeding(shell, capsys):
    seedmagic.session.history.clear()
    count = shell.execution_count  # the number the next cell gets (In [count])
    shell.run_cell("%seed 10", store_history=True)
    shell.run_cell("%%seeded --only numpy 3\nnp.random.rand(1)", store_history=True)
    shell.run_cell("%%seeded --keep --name train\nnp.random.rand(1)", store_history=True)
    shell.run_cell("import seedmagic\nseedmagic.seed(4, skip='torch')", store_history=True)
    events = seedmagic.history()
    assert [(e.count, e.source, e.seed, e.scope) for e in events] == [
        (count, "%seed", 10, "global"),
        (count + 1, "%%seeded", 3, "restored"),
        (count + 2, "%%seeded", seedmagic.derive_seed(10, "train"), "kept"),
        (count + 3, "seed()", 4, "global"),
    ]
    assert events[0].generators == ("random", "numpy", "torch")
    assert events[1].generators == ("numpy",)
    assert (events[2].label, events[2].base) == ("train", 10)
    capsys.readouterr()
    shell.run_line_magic("seed", "--history")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["cell", "source", "seed", "scope", "generators", "how"]
    assert lines[3].endswith("derived from 10 and 'train'")
    assert len(lines) == 5


def test_history_is_bounded(monkeypatch):
    bounded = seedmagic.session.History(cap=3)
    monkeypatch.setattr(seedmagic.session, "history", bounded)
    monkeypatch.setattr(seedmagic.status, "history", bounded)
    for n in range(5):
        seedmagic.seed(n)
    assert [event.seed for event in bounded.events] == [2, 3, 4] and bounded.dropped == 2
    assert "(2 earlier seedings dropped: the history keeps the last 3)" in seedmagic.status.history_text()
