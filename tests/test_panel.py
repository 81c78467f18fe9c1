"""The SeedPanel, headless: trait values, button clicks and cells run in a real InteractiveShell."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
import traitlets
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

import seedmagic
from seedmagic import widget
from seedmagic.watch import follow
from seedmagic.widget import SeedPanel
from conftest import new_shell, state_bytes


@pytest.fixture
def panel(shell):
    widget.close_shared_panel()
    shell.kernel = object()  # make the shell look like a Jupyter kernel, where widgets render
    yield seedmagic.panel()
    widget.close_shared_panel()


def rows(panel: SeedPanel) -> dict[str, seedmagic.status.Row]:
    return {row.label: row for row in panel.status().rows}


def user_generators() -> dict[str, object]:
    return {
        "legacy": np.random.RandomState(13),
        "modern": np.random.default_rng(13),
        "pcg_legacy": np.random.RandomState(np.random.PCG64(5)),
        "torch_gen": torch.Generator().manual_seed(13),
        "py_random": random.Random(13),
    }


def draw_everything(ns: dict[str, object]) -> list[list[float]]:
    return [
        [random.random() for _ in range(3)], np.random.rand(3).tolist(), torch.rand(3).tolist(),
        ns["legacy"].rand(3).tolist(), ns["modern"].random(3).tolist(), ns["pcg_legacy"].rand(3).tolist(),
        torch.rand(3, generator=ns["torch_gen"]).tolist(), [ns["py_random"].random() for _ in range(3)],
    ]


def test_peeking_changes_nothing_for_any_kind_of_generator(shell, panel):
    seedmagic.seed(10)
    shell.user_ns.update(user_generators())
    reference_ns = user_generators()
    states = state_bytes()
    for k in (1, 5, 20):
        panel.k = k
        for _ in range(5):
            panel.refresh()
            repr(panel)
    assert state_bytes() == states
    drawn_with_panel = draw_everything(shell.user_ns)
    seedmagic.seed(10)
    assert drawn_with_panel == draw_everything(reference_ns)


def test_rows_for_global_and_user_generators_show_the_lecture(shell, panel):
    shell.run_cell("%seed 10\nseed1 = np.random.RandomState(10)\nseed2 = np.random.RandomState(13)")
    shown = rows(panel)
    assert shown["numpy"].draws_text() == " ".join(f"{x:.8f}" for x in np.random.RandomState(10).rand(5))
    assert shown["numpy"].draws_text().startswith("0.77132064")
    torch.manual_seed(10)
    assert shown["torch"].draws_text() == " ".join(f"{x:.4f}" for x in torch.rand(5).tolist())
    assert shown["seed1"].draws_text().startswith("0.77132064")
    assert shown["seed2"].draws_text().startswith("0.77770241")
    assert shown["seed1"].scope == "yours (np.random.RandomState)"
    table = panel._table.value
    assert "seed1" in table and "0.77770241" in table and "session seed: 10" in table


def test_panel_follows_the_cells_and_marks_what_they_advanced(shell, panel):
    shell.run_cell("%seed 10")
    shell.run_cell("x = np.random.rand(1)")
    shown = rows(panel)
    assert shown["numpy"].draws_text().startswith(f"{np.random.RandomState(10).rand(2)[1]:.8f}")
    assert shown["numpy"].advanced and not shown["torch"].advanced and not shown["random"].advanced
    assert panel._warning.value == ""  # numpy was seeded
    shell.run_cell("torch.rand(2)")
    shown = rows(panel)
    assert shown["torch"].advanced and not shown["numpy"].advanced
    assert "&#9679;" in panel._table.value


def test_drawing_from_an_unseeded_generator_warns(shell, panel):
    shell.run_cell("y = random.random()")
    assert "advanced or reseeded random, which seedmagic has not seeded" in panel._warning.value
    assert "advanced or reseeded by the last cell" in panel._table.value
    shell.run_cell("%seed 3")
    shell.run_cell("y = random.random()")
    assert panel._warning.value == ""


def test_scope_column_inside_a_seeded_scope(panel):
    with seedmagic.seeded(3, only="numpy"):
        shown = rows(panel)
    assert shown["numpy"].scope == "seeded 3" and shown["torch"].scope == "global"
    assert rows(panel)["numpy"].scope == "global"


def test_seed_all_button_does_what_the_magic_does(shell, panel):
    random.seed(0)
    panel._seed_field.value = "10"
    panel._seed_button.click()
    after_button = state_bytes()
    shell.run_line_magic("seed", "10")
    assert state_bytes() == after_button
    assert panel._error.value == ""
    assert seedmagic.session.book.session_seed == 10


@pytest.mark.parametrize("text", ["abc", "-1", "4294967296", "1.5", "", "  "])
def test_bad_input_in_the_panel_shows_the_magics_error_and_seeds_nothing(shell, panel, text):
    from IPython.core.error import UsageError

    before = state_bytes()
    panel._seed_field.value = text
    panel._seed_button.click()
    assert state_bytes() == before
    with pytest.raises(UsageError) as raised:
        shell.run_line_magic("seed", text if text.strip() else "''")
    shown = panel._error.value
    assert "seed must be an integer from 0 to 4294967295" in shown
    if text.strip():
        assert str(raised.value).replace("'", "&#x27;") in shown


def test_k_selector(panel):
    panel._k_field.value = 8
    assert panel.k == 8
    assert all(len(row.draws) == 8 for row in panel.status().rows if not row.note)
    assert "next 8 draws" in panel._table.value
    with pytest.raises(traitlets.TraitError):
        panel.k = 21
    with pytest.raises(traitlets.TraitError):
        panel.k = 0


def test_refresh_with_nothing_changed_sends_no_widget_message(panel, monkeypatch):
    sent = []
    for part in (panel, *panel._parts):
        monkeypatch.setattr(part, "_send", lambda msg, buffers=None, part=part: sent.append((part, msg)))
    panel.refresh()
    panel.refresh()
    assert sent == []
    np.random.rand(1)
    panel.refresh()
    assert [part for part, _ in sent] == [panel._table]


def test_seed_shows_the_same_live_panel_and_closing_unregisters(shell, panel):
    def count() -> int:
        return len(shell.events.callbacks["pre_run_cell"]) + len(shell.events.callbacks["post_run_cell"])

    with_panel = count()
    follower = follow(shell)
    shell.run_line_magic("seed", "")
    shell.run_line_magic("seed", "")
    assert widget._shared is panel and count() == with_panel and follower.listeners == [panel.refresh]
    panel.close()  # the cell watch is the extension's: the panel only stops listening to it
    assert count() == with_panel and follower.listeners == [] and not panel.is_open
    shell.run_line_magic("seed", "")
    assert widget._shared is not panel and widget._shared.is_open
    shell.run_line_magic("unload_ext", "seedmagic")
    assert count() == with_panel - 2 and widget._shared is None
    shell.run_line_magic("load_ext", "seedmagic")


def test_the_panel_adds_no_callbacks_of_its_own(shell):
    widget.close_shared_panel()
    callbacks = {event: list(shell.events.callbacks[event]) for event in ("pre_run_cell", "post_run_cell")}
    assert len(callbacks["pre_run_cell"]) == len(callbacks["post_run_cell"]) == 1  # the extension's cell watch
    seedmagic.panel()
    try:
        assert {event: list(shell.events.callbacks[event]) for event in callbacks} == callbacks
    finally:
        widget.close_shared_panel()
    shell.run_line_magic("seed", "")  # a plain shell: the text table, no panel
    assert widget._shared is None


def test_text_fallback_and_repr(shell, panel, capsys):
    shell.run_cell("%seed 10\nseed1 = np.random.RandomState(10)")
    text = repr(panel)
    assert "seed1" in text and "0.77132064" in text and "session seed: 10" in text
    del shell.kernel  # back to a terminal-like shell
    shell.run_line_magic("seed", "")
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].strip() == text.splitlines()[0].strip()
    assert "seed1" in printed
    bundle = panel._repr_mimebundle_()
    assert bundle["text/plain"] == repr(panel)
    assert "0.77132064" in bundle["text/html"]


def test_settings_are_configurable_traitlets(shell, panel, capsys, caplog):
    magics = shell.magics_manager.registry["SeedMagics"]
    shell.run_line_magic("seed", "")
    shell.run_line_magic("config", "SeedMagics.peek = 8")
    assert magics.peek == 8 and panel.k == 8
    shell.run_line_magic("config", "SeedMagics.precision = 3")
    assert rows(panel)["numpy"].draws_text(panel.precision).split()[0].count(".") == 1
    assert len(panel._table.value.split("0.", 1)[1].split()[0]) >= 3
    assert panel.precision == 3
    shell.run_line_magic("config", "SeedMagics.peek = 50")
    assert magics.peek == 8
    assert "SeedMagics.peek must be from 1 to 20, got 50" in caplog.text
    shell.run_line_magic("config", "SeedMagics.show_panel = True")
    capsys.readouterr()
    del shell.kernel
    shell.run_line_magic("seed", "10")
    assert "session seed: 10" in capsys.readouterr().out


def test_settings_from_a_config_file():
    config = Config()
    config.SeedMagics.peek = 7
    config.SeedMagics.precision = 2
    ip = new_shell(config)
    try:
        ip.run_line_magic("load_ext", "seedmagic")
        magics = ip.magics_manager.registry["SeedMagics"]
        assert (magics.peek, magics.precision) == (7, 2)
    finally:
        ip.run_line_magic("unload_ext", "seedmagic")
        InteractiveShell.clear_instance()


def test_a_generator_that_cannot_be_read_does_not_break_the_panel(shell, panel):
    class Refusing(random.Random):
        """It redefines what random.Random's getstate reads: refused without running it."""

        @property
        def gauss_next(self):
            raise RuntimeError("no peeking")

        @gauss_next.setter
        def gauss_next(self, value):
            pass

    shell.user_ns["odd"] = Refusing(3)
    result = shell.run_cell("x = 1")
    assert result.success
    assert rows(panel)["odd"].note == "cannot preview: TypeError: Refusing redefines how a random.Random's state is read"
    assert "cannot preview: TypeError: Refusing redefines" in repr(panel)


def test_the_shared_panel_follows_the_current_shell(shell, panel):
    old_shell = shell
    other = new_shell()
    try:
        moved = widget.shared_panel(other)
        assert moved is not panel and not panel.is_open
        assert panel.refresh not in follow(old_shell).listeners
        assert moved.refresh in follow(other).listeners
    finally:
        widget.close_shared_panel()
