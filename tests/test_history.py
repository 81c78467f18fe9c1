"""The history of seedings: every one recorded with the cell that ran it, bounded, shown by ``%seed --history``."""

from __future__ import annotations

import seedmagic


def test_history_cells_are_the_running_cells(shell):
    seedmagic.session.history.clear()
    numbers = []
    for source in ("%seed 1", "x = 1\n%seed 2", "%%seeded 3\npass", "seedmagic.seed(4)", "%seed 5 pass"):
        numbers.append(shell.execution_count)
        shell.run_cell("import seedmagic\n" + source if "seedmagic." in source else source, store_history=True)
    assert [event.count for event in seedmagic.history()] == numbers
