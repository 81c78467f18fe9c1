"""``SeedPanel``: the live ipywidgets panel of seeds and upcoming draws.

The panel is a thin view over ``seedmagic.status``: one HTML table, a seed
field with a "Seed all" button, and a selector for the number of draws.
While it is open it refreshes after every cell; closing it unregisters its
callbacks, so a notebook without a panel pays nothing. Traits are only
assigned when their text changed, so a refresh that changes nothing sends
no widget message. ``repr(panel)`` is the same status as a text table (the
fallback where widgets cannot render).
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import traitlets

from . import core
from .watch import Follower, follow
from .session import SeedError, seeding_as
from .status import MARKER_MEANING, MAX_K, MIN_K, Status, collect, text_table, warning_text

_STYLE = """<style>
.seedmagic-table {border-collapse: collapse; font-size: 12px; margin: 2px 0 4px 0}
.seedmagic-table th {text-align: left; font-weight: 600; padding: 2px 10px 2px 0;
  color: var(--jp-ui-font-color2, #666); border-bottom: 1px solid var(--jp-border-color2, #ddd)}
.seedmagic-table td {padding: 2px 10px 2px 0; vertical-align: top}
.seedmagic-table td.draws, .seedmagic-table td.state {font-family: var(--jp-code-font-family, monospace)}
.seedmagic-table td.note {color: var(--jp-ui-font-color2, #888); font-style: italic}
.seedmagic-table tr.user td.name {font-style: italic}
.seedmagic-table .moved, .seedmagic-legend .moved {color: #e67e22; font-weight: bold}
.seedmagic-title {font-size: 13px}
.seedmagic-legend {font-size: 11px; color: var(--jp-ui-font-color2, #888); margin-bottom: 4px}
.seedmagic-warning {background: #fff3cd; color: #664d03; border-left: 3px solid #e0a800; padding: 3px 8px;
  font-size: 12px}
.seedmagic-error {color: #b02a37; font-size: 12px}
</style>"""


def status_html(status: Status, precision: int | None = None) -> str:
    """The status table as HTML (everything escaped: variable names come from the user)."""
    rows = []
    for row in status.rows:
        marker = f'<span class="moved" title="{MARKER_MEANING}">&#9679;</span>' if row.advanced else ""
        draws_class = "note" if row.note else "draws"
        rows.append(
            f'<tr class="{"global" if row.kind == "global" else "user"}">'
            f"<td>{marker}</td><td class=\"name\">{html.escape(row.label)}</td>"
            f"<td>{html.escape(row.seed)}</td><td>{html.escape(row.scope)}</td>"
            f'<td class="state">{row.state}</td>'
            f'<td class="{draws_class}">{html.escape(row.draws_text(precision))}</td></tr>'
        )
    session = "none" if status.session_seed is None else str(status.session_seed)
    legend = (f'<div class="seedmagic-legend"><span class="moved">&#9679;</span> {MARKER_MEANING}</div>'
              if any(row.advanced for row in status.rows) else "")
    return (
        f'{_STYLE}<div class="seedmagic-title"><b>seedmagic</b> &middot; session seed: {session}</div>'
        '<table class="seedmagic-table"><thead><tr><th></th><th>generator</th><th>seed</th><th>scope</th>'
        f"<th>state</th><th>next {status.k} draws</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        + legend
    )


class SeedPanel(widgets.VBox):
    """Current seeds, scopes, state fingerprints and next draws of every generator, live.

    ``shell`` (an IPython shell) makes the panel follow the cells and list the
    generators held in the user's namespace; without it the panel shows the
    global generators and refreshes on ``refresh()`` or its button.
    """

    k = traitlets.Int(5, help="draws shown per generator")
    precision = traitlets.Int(None, allow_none=True, help="decimals for every draw; None: as each library prints")

    def __init__(self, shell: Any = None, *, k: int = 5, precision: int | None = None) -> None:
        self._shell = shell
        self._follower: Follower | None = None if shell is None else follow(shell)
        self._table = widgets.HTML()
        self._warning = widgets.HTML()
        self._error = widgets.HTML()
        self._seed_field = widgets.Text(placeholder="seed, e.g. 10", layout=widgets.Layout(width="140px"))
        self._seed_button = widgets.Button(description="Seed all", button_style="primary",
                                           tooltip="the same as %seed N", layout=widgets.Layout(width="90px"))
        self._k_field = widgets.BoundedIntText(value=k, min=MIN_K, max=MAX_K, description="draws",
                                               layout=widgets.Layout(width="130px"))
        controls = widgets.HBox([self._seed_field, self._seed_button, self._k_field])
        self._parts = (self._table, self._warning, self._error, self._seed_field, self._seed_button,
                       self._k_field, controls)
        super().__init__([self._table, self._warning, controls, self._error], k=k, precision=precision,
                         layout=widgets.Layout(border="1px solid #d9d9d9", padding="6px 12px", width="fit-content"))
        widgets.link((self, "k"), (self._k_field, "value"))
        self._seed_button.on_click(self._seed_clicked)
        self.observe(lambda _: self.refresh(), names=["k", "precision"])
        if self._follower is not None:
            self._follower.listeners.append(self.refresh)
        self.refresh()

    @traitlets.validate("k")
    def _valid_k(self, proposal: dict[str, Any]) -> int:
        value = proposal["value"]
        if not MIN_K <= value <= MAX_K:
            raise traitlets.TraitError(f"k must be from {MIN_K} to {MAX_K}, got {value}")
        return value

    def _namespace(self) -> dict[str, Any]:
        return {} if self._shell is None else self._shell.user_ns

    def status(self) -> Status:
        """What the panel shows now, with the last cell's markers."""
        status = collect(self.k, self._namespace(), None if self._shell is None else self._shell.user_ns_hidden)
        return status if self._follower is None else self._follower.watch.mark(status)

    def refresh(self) -> None:
        """Recompute and show; widget messages go out only for parts whose text changed."""
        self._show(self.status())

    def _show(self, status: Status) -> None:
        self._table.value = status_html(status, self.precision)
        warning = warning_text(status)
        self._warning.value = f'<div class="seedmagic-warning">{html.escape(warning)}</div>' if warning else ""

    def seed_all(self, text: str) -> None:
        """Do what ``%seed N`` does with the typed text; show the same one-line error if it is bad."""
        try:
            with seeding_as("panel"):
                core.seed(core.parse_seed(text))
        except SeedError as error:
            self._error.value = f'<div class="seedmagic-error">{html.escape(str(error))}</div>'
            return
        self._error.value = ""
        if self._follower is not None:
            self._follower.watch.rebaseline(self._namespace())
        self.refresh()

    def _seed_clicked(self, _button: widgets.Button) -> None:
        self.seed_all(self._seed_field.value)

    def close(self) -> None:
        """Stop following the cells, then close the widgets."""
        if self._follower is not None and self.refresh in self._follower.listeners:
            self._follower.listeners.remove(self.refresh)
        self._follower = None
        self._shell = None
        for part in self._parts:
            part.close()
        super().close()

    @property
    def is_open(self) -> bool:
        return self.comm is not None

    def __repr__(self) -> str:
        return text_table(self.status(), self.precision)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """The widget, plus the whole status as HTML and text for frontends that cannot render it."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None:
            status = self.status()
            bundle["text/plain"] = text_table(status, self.precision)
            bundle["text/html"] = status_html(status, self.precision)
        return bundle


_shared: SeedPanel | None = None


def shared_panel(shell: Any = None, **settings: Any) -> SeedPanel:
    """The one live panel of this process: the open one (refreshed, settings applied) or a new one.

    Showing it again shows the same widget, not a second set of callbacks.
    """
    global _shared
    if _shared is not None and _shared.is_open and _shared._shell is not shell:
        _shared.close()  # it follows another shell (one per kernel, but tests make many)
    if _shared is None or not _shared.is_open:
        _shared = SeedPanel(shell, **settings)
    else:
        _shared.set_trait("k", settings.get("k", _shared.k))
        _shared.set_trait("precision", settings.get("precision", _shared.precision))
        _shared.refresh()
    return _shared


def update_shared_panel(**settings: Any) -> None:
    """Give the open shared panel new settings (``%config SeedMagics.peek = 8``); none open, nothing to do."""
    if _shared is not None and _shared.is_open:
        shared_panel(_shared._shell, **settings)


def close_shared_panel() -> None:
    """Close the shared panel, if one is open (``%unload_ext`` calls this)."""
    global _shared
    if _shared is not None:
        _shared.close()
        _shared = None
