"""What the panel and the status table show, computed without IPython or widgets.

Rows for the global generators and for the generators the user holds in
their namespace; what a cell advanced, found by comparing state fingerprints
taken before and after it. All previews draw from copies: nothing here moves
a generator.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from .adapters import digester, fingerprint, is_loaded, object_state, peek_object, registry, user_kind
from .session import book, describe, history, lock

#: Draws shown per generator: the panel's selector and ``SeedMagics.peek`` allow this range.
MIN_K, MAX_K = 1, 20
#: Decimals a draw may be shown with (``SeedMagics.precision``, the panel's ``precision``): a double's digits.
MIN_PRECISION, MAX_PRECISION = 1, 17


class Row(NamedTuple):
    """One generator as the status shows it (a NamedTuple: a frozen dataclass costs ``%load_ext`` a millisecond)."""

    label: str
    #: "global" for seedmagic's generators, else the class of a user's generator.
    kind: str
    seed: str
    #: "global", or "seeded N" inside a scope; "" for a user's generator.
    scope: str
    state: str
    draws: tuple[float, ...]
    digits: int
    note: str = ""
    advanced: bool = False

    def draws_text(self, precision: int | None = None) -> str:
        if self.note:
            return self.note
        digits = self.digits if precision is None else precision
        return " ".join(f"{value:.{digits}f}" for value in self.draws)


class Status(NamedTuple):
    """Everything the panel shows at one moment (a NamedTuple, as ``Row``)."""

    k: int
    session_seed: int | None
    rows: tuple[Row, ...]
    #: Global generators whose state the last cell changed while seedmagic had not seeded them.
    unseeded: tuple[str, ...] = ()


#: The seed column of a generator seedmagic has not seeded. Whether the user seeded it by hand
#: (``np.random.seed(3)``) cannot be seen from its state, so the status claims nothing more.
NOT_SEEDED = "not seeded by seedmagic"


def _seed_text(name: str) -> str:
    seed = book.seeds.get(name)
    return NOT_SEEDED if seed is None else str(seed)


def state_fingerprint(adapter: Any, state: Any) -> str:
    """The fingerprint of one global generator's state (an adapter may say how: CUDA's pending queue)."""
    digest = digester(adapter) or fingerprint
    return str(digest(state))


#: Stands for the state of a global generator that exists but cannot be read or converted now (a bit generator
#: swapped into NumPy whose ``state`` raises, a failing plugin): neither it nor the next state is a change.
UNREADABLE = "<unreadable>"


def global_states(convert: Callable[[Any, Any], Any]) -> dict[str, Any]:
    """``convert(adapter, state)`` of each global generator that exists now, by name; ``UNREADABLE`` for one
    whose state cannot be read or converted, so that the cell markers and the status go on for the others."""
    states = {}
    for name, adapter in registry().items():
        try:
            if is_loaded(adapter) and adapter.is_available():
                states[name] = convert(adapter, adapter.get_state())
        except Exception:
            states[name] = UNREADABLE
    return states


def global_fingerprints() -> dict[str, str]:
    """State fingerprint of each global generator that exists now, by name (see ``global_states``)."""
    return global_states(state_fingerprint)


#: Types whose values are never generators, hold none and cannot bind names, by ``id``: hashing a user's type
#: could run its metaclass's ``__hash__``; these built-in types live as long as the process, so no other
#: object ever has their ``id``.
INERT = frozenset(map(id, (int, float, str, bytes, bool, type(None), complex, range, slice, set, frozenset)))
#: Those and functions and modules: never generators nor holding them, passed over at once.
_PLAIN = INERT | frozenset(map(id, (type(len), type(lambda: None), type(sys))))

#: Stands for a variable the shell did not put there.
_ABSENT = object()

#: The variables IPython's ``init_user_ns`` puts in every namespace (``_ih`` and its kin are private anyway).
SHELL_VARIABLES = frozenset({"In", "Out", "exit", "quit", "get_ipython", "open"})

#: Lists, tuples and dicts up to this size are looked into for generators (``rngs[0]``, ``rngs['train']``).
MAX_CONTAINER = 64


def variables(namespace: Mapping[str, Any], names: Iterable[str] | None = None) -> list[tuple[Any, Any]]:
    """The variables of ``namespace`` (all, or those of ``names`` it holds) as (name, value) pairs, taken at once:
    a thread may bind and unbind names while they are looked at (iterating the namespace itself would then
    fail with "dictionary changed size", and ``name in``/``[name]`` with a KeyError)."""
    if names is None:
        # A dict is copied in C without making objects, so no garbage collection (which runs ``__del__`` methods,
        # Python code after which another thread may run) can start halfway; ``list(namespace.items())`` can.
        return list((dict.copy(namespace) if isinstance(namespace, dict) else namespace).items())
    pairs = [(name, namespace.get(name, _ABSENT)) for name in names]
    return [(name, value) for name, value in pairs if value is not _ABSENT]


def user_generators(namespace: Mapping[str, Any], names: Iterable[str] | None = None,
                    hidden: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The generators the user holds in ``namespace``, by variable name (private names skipped).

    Variables (all, or only ``names``) and the items of small plain lists,
    tuples and dicts are looked at, by their type alone
    (``adapters.user_kind``): no user code runs, whatever the namespace
    holds. Values of the commonest plain types are passed over at once.
    ``hidden``: the shell's ``user_ns_hidden``; IPython's own variables
    there (``SHELL_VARIABLES``) are skipped while they still hold what
    IPython put there, as ``%who`` skips them (``Out`` holds every
    generator a cell showed, under its cell's number: not a generator of
    the user's own, and a second row for one). What startup files and
    ``exec_lines`` bind is hidden from ``%who`` too, but is the user's.
    """
    return generators_among(variables(namespace, names), hidden)


def generators_among(pairs: Iterable[tuple[Any, Any]], hidden: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``user_generators`` of (name, value) pairs already taken from the namespace (``variables``)."""
    found: dict[str, Any] = {}
    for name, value in pairs:
        kind = type(value)  # compared by identity: == would call a metaclass's __eq__
        if type(name) is not str or name.startswith("_") or id(kind) in _PLAIN:
            continue
        if hidden is not None and name in SHELL_VARIABLES and hidden.get(name, _ABSENT) is value:
            continue
        if kind is list or kind is tuple or kind is dict:
            if len(value) > MAX_CONTAINER:
                continue
            items = (list(enumerate(value)) if kind is not dict else
                     [(key, item) for key, item in list(value.items()) if _nameable(key)])
            for key, item in items:
                if id(type(item)) not in _PLAIN and user_kind(item) is not None:
                    found[f"{name}[{key!r}]"] = item
        elif user_kind(value) is not None:
            found[name] = value
    return found


def _nameable(key: object) -> bool:
    """A dict key the generator's name can show (``gens['a']``, ``gens[3]``): a short str, or an int whose ``repr``
    is short (Python refuses to write one of more than 4300 digits)."""
    if type(key) is str:
        return len(key) <= MAX_KEY
    return type(key) is int and key.bit_length() <= 64


#: The longest str key a generator in a dict is shown under.
MAX_KEY = 100


def user_fingerprints(namespace: Mapping[str, Any]) -> dict[str, str]:
    fingerprints = {}
    for name, value in user_generators(namespace).items():
        try:
            fingerprints[name] = fingerprint(object_state(value))
        except Exception:  # shown as "cannot preview" by the row itself
            continue
    return fingerprints


def collect(k: int, namespace: Mapping[str, Any] | None = None, hidden: Mapping[str, Any] | None = None) -> Status:
    """The status now: global generators first, then the user's (when a namespace is given; ``hidden`` as in
    ``user_generators``)."""
    from .core import generators, validate_k  # not needed to load the extension (the watch needs this module)

    k = validate_k(k)
    with lock:
        rows: list[Row] = []
        adapters = registry()
        for name in generators():
            adapter = adapters[name]
            scope_seed = book.scope_of(name)
            scope = "global" if scope_seed is None else f"seeded {scope_seed}"
            if not is_loaded(adapter):
                rows.append(Row(name, "global", _seed_text(name), "global", "", (), adapter.digits,
                                note=f"{adapter.module} not imported yet"))
                continue
            try:
                state = state_fingerprint(adapter, adapter.get_state())
                own = adapter.peek(k)
            except Exception as error:  # a plugin that fails, a bit generator swapped into NumPy that refuses
                rows.append(Row(name, "global", _seed_text(name), scope, "", (), adapter.digits,
                                note=f"cannot preview: {describe(error)}"))
                continue
            own = {label: values for label, values in own.items() if label == name or label.startswith(name + ":")}
            if not own:
                rows.append(Row(name, "global", _seed_text(name), scope, state, (), adapter.digits,
                                note="no state yet (device not initialised)"))
            for label, values in own.items():
                rows.append(Row(label, "global", _seed_text(name), scope, state, tuple(values), adapter.digits))
        for name, value in user_generators(namespace or {}, hidden=hidden).items():
            rows.append(_user_row(name, value, k))
        return Status(k, book.session_seed, tuple(rows))


def _user_row(name: str, value: Any, k: int) -> Row:
    """A user's generator; one that cannot be read (a device gone, a subclass that refuses) says so."""
    found = user_kind(value)
    kind = "generator" if found is None else found.display  # None only if its library went away meanwhile
    try:
        draws, digits = peek_object(value, k) or ((), 8)
        state = fingerprint(object_state(value))
    except Exception as error:  # the panel must keep working whatever the user holds
        return Row(name, kind, "", f"yours ({kind})", "", (), 8, note=f"cannot preview: {describe(error)}")
    return Row(name, kind, "", f"yours ({kind})", state, tuple(draws), digits)


#: What the marker on a row means: a changed state, whether drawn from or seeded by hand.
MARKER_MEANING = "advanced or reseeded by the last cell"


def warning_text(status: Status) -> str:
    """The warning about generators that moved outside seedmagic's seeds; it claims only what was seen."""
    if not status.unseeded:
        return ""
    names, them = ", ".join(status.unseeded), "it" if len(status.unseeded) == 1 else "them"
    return (f"warning: the last cell advanced or reseeded {names}, which seedmagic has not seeded: unless your "
            f"code seeds {them} itself, its results change on every run (add %seed N above it, or use %%seeded N)")


def text_table(status: Status, precision: int | None = None) -> str:
    """The status as plain text: the fallback wherever widgets cannot render."""
    header = ("", "generator", "seed", "scope", "state", f"next {status.k} draws")
    body = [("*" if row.advanced else "", row.label, row.seed, row.scope or row.kind, row.state,
             row.draws_text(precision)) for row in status.rows]
    lines = _aligned([header, *body])
    session = "none" if status.session_seed is None else str(status.session_seed)
    footer = [f"session seed: {session}"]
    if status.unseeded:
        footer.append(warning_text(status))
    if any(row.advanced for row in status.rows):
        footer.append(f"* {MARKER_MEANING}")
    return "\n".join(lines + footer)


def history_text() -> str:
    """Every seeding of the session as a table (``%seed --history``)."""
    events = history.events
    if not events:
        return "no seeding yet in this session"
    header = ("cell", "source", "seed", "scope", "generators", "how")
    body = []
    for event in events:
        if event.label is not None:
            how = f"derived from {'entropy seed ' if event.entropy else ''}{event.base} and {event.label!r}"
        else:
            how = "fresh from OS entropy" if event.entropy else ""
        cell = "" if event.count is None else f"[{event.count}]"
        body.append((cell, event.source, str(event.seed), event.scope, ",".join(event.generators), how))
    lines = _aligned([header, *body])
    if history.dropped:
        lines.append(f"({history.dropped} earlier seedings dropped: the history keeps the last {history.cap})")
    return "\n".join(lines)


def _aligned(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows as text columns two spaces apart; the last column is not padded."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    return ["  ".join([*(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1]]).rstrip()
            for row in rows]
