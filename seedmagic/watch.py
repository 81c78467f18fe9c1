"""The cell watch: after every cell, which generators it advanced or reseeded.

``CellWatch`` compares state fingerprints taken after each cell (pure, no
IPython); ``Follower`` runs it from one shell's ``pre_run_cell`` and
``post_run_cell`` events and then its listeners (the panel). The extension
and the panel share one follower per shell (``follow``), so that neither
needs the other: this module imports neither the magics nor the widget.
"""

from __future__ import annotations

import builtins
import functools
import re
import sys
import types
import weakref
from collections.abc import Callable, Collection, Mapping
from typing import Any

from IPython.core.interactiveshell import InteractiveShell

from .adapters import digester, fingerprint, object_state, registry
from .adapters.catalog import BUILTIN_NAMES
from .importhook import fresh_states
from .session import book, describe, in_cell, lock
from .status import INERT, MAX_CONTAINER, UNREADABLE, Status, generators_among, global_states, variables


@functools.cache
def _patterns() -> tuple[re.Pattern[str], ...]:
    """What the watch looks for in a cell's text, compiled at the first cell (at import it would cost
    ``%load_ext`` a millisecond): ``dynamic``, ``first_word``, ``defines``, ``identifier``, ``declared``.

    ``dynamic`` is text that can bind names the cell does not spell out (``exec``, ``globals()`` under any
    alias, a star import, a magic or shell line; seedmagic's own only when nothing else on its line is
    one): after such a cell every variable is looked at. ``first_word`` is the word a line starts with:
    with automagic on, ``run script.py`` is ``%run script.py``. A function or class defined with such text
    (``defines``) can bind names whenever it is called, from any later cell. ``declared`` finds the names a
    cell declares ``global`` or ``nonlocal``.
    """
    return (re.compile(r"\b(?:exec|eval|\w*globals\w*|vars|\w*locals\w*|setattr|get_ipython|__dict__|__main__|"
                       r"user_ns|__builtins__|builtins|__import__|__self__|modules|InteractiveShell)\b|"
                       r"import\s*\*|=[ \t]*[%!]|"
                       r"^[ \t]*(?:(?!%%?seed(?:ed)?\b)[%!]|%%?seed(?:ed)?\b[^\n]*[%!])", re.M),
            re.compile(r"^[ \t]*([^\W\d]\w*)(?:[ \t]+(?![ \t=(])|[ \t]*$)", re.M),
            re.compile(r"\b(?:def|lambda|class)\b"),
            re.compile(r"[^\W\d]\w*"),
            re.compile(r"\b(?:global|nonlocal)\s+([^\W\d]\w*(?:[ \t]*,[ \t]*[^\W\d]\w*)*)"))


class CellWatch:
    """Tells which generators the last cell advanced or reseeded, from the states after each cell.

    A changed state shows that something happened, not what: a draw, a
    seeding by hand (``np.random.seed(3)``) and a ``set_state`` look alike,
    so "advanced" means any of them. The state after one cell is the state
    before the next, so one reading per cell is enough; whatever seeds
    between cells (the panel's button) calls ``rebaseline``. A library
    imported during the cell is compared with the state it was imported in.

    The cost of a cell does not grow with the namespace: given the cell's
    text, the watch looks only at the variables it names (a name a cell
    binds is in its text), the ones that held generators before, and the
    ones any cell declared ``global``. Text that can bind names unseen
    (``exec``, ``globals()``, ``import *``, a magic or ``!`` line other than
    seedmagic's own, or a magic's name alone while automagic is on), naming a
    variable that opens the namespace itself (``ns = globals()``, ``import
    __main__``, the shell), and every cell after a function or class defined
    with such text, makes it look at every variable, as it does without a text
    and on ``rebaseline``. Variables holding lists and dicts are looked at
    after every cell (a function may add a generator to them), and the text is
    read as Python reads identifiers (NFKC: ``ｒｎｇ`` is ``rng``). A generator
    that code outside the notebook (a module's function) puts into the
    namespace is seen once a cell names it.

    A plain class, not a dataclass: making one costs ``%load_ext`` half a millisecond.
    """

    def __init__(self, magic_words: Callable[[], Collection[str]] = tuple,
                 hidden: Mapping[str, Any] | None = None) -> None:
        #: Comparable states by (whose, name): seedmagic's generators ("global") and the user's variables
        #: ("user") apart, as a variable may be called ``numpy``. None: no baseline (before the first cell, or
        #: after a cell the watch skipped).
        self.last: dict[tuple[str, str], Any] | None = None
        #: What the last cell is judged from, compared only when asked (``advanced``): the states before it, the
        #: states after it, and the global generators seedmagic had not seeded (``book.seeds``) when it ended.
        self._pending: tuple[dict[tuple[str, str], Any], dict[tuple[str, str], Any], frozenset[str]] | None = None
        self._advanced: frozenset[tuple[str, str]] = frozenset()
        self._unseeded: tuple[str, ...] = ()
        #: Variables that held generators, lists or dicts at the last look: looked at after every cell.
        self.holders: frozenset[str] = frozenset()
        #: Variables that held the namespace itself (``globals()``, the user module, the shell, ``exec``) when last
        #: looked at: a cell naming one is looked at in full.
        self.gateways: frozenset[str] = frozenset()
        #: The names a line may start with to run a magic (automagic on), asked only of a cell with such a line.
        self.magic_words = magic_words
        #: Names some cell declared ``global`` or ``nonlocal``: a function may rebind them from any cell.
        self.declared: set[str] = set()
        #: Set once a cell defined a function or class with text that can bind names unseen.
        self.always_all = False
        #: The shell's ``user_ns_hidden``: IPython's own variables there (``In``, ``Out``) hold no generators of the
        #: user's (``generators_among``).
        self.hidden = hidden

    def rebaseline(self, namespace: Mapping[str, Any], cell: str | None = None) -> None:
        """Take the present states as the "before" of the next cell (all variables, or those ``cell`` may bind)."""
        with lock:
            names = self._names(cell)
            looked = variables(namespace, names)
            found = generators_among(looked, self.hidden)
            self.holders = frozenset([name.split("[", 1)[0] for name in found] +
                                     [name for name, value in looked if (type(value) is list or type(value) is dict)
                                      and type(name) is str and not name.startswith("_")])
            opening = frozenset(str.__str__(name) for name, value in looked  # a str subclass's key as the str it is
                                if issubclass(type(name), str) and _opens(value, namespace))
            # a variable not looked at holds what it held: ``e = exec`` stays a way in until a cell rebinds ``e``
            self.gateways = opening if names is None else (self.gateways - names) | opening
            self.last = {**{("global", name): state for name, state in global_states(comparable).items()},
                         **{("user", name): state for name, state in _user_states(found).items()}}

    def _names(self, cell: str | None) -> set[str] | None:
        """The variables worth a look after ``cell`` (None: all of them)."""
        if cell is None or self.always_all:
            return None
        dynamic, first_word, defines, identifier, declared = _patterns()
        if "\\" in cell:  # a backslash continues a line: ``global \<newline> rng``
            cell = cell.replace("\\\r\n", " ").replace("\\\n", " ")
        if not cell.isascii():
            import unicodedata  # rarely needed: not at load

            cell = unicodedata.normalize("NFKC", cell)
            if any(not char.isascii() and ("a" + char).isidentifier() and not char.isalnum() for char in set(cell)):
                return None  # a name with a character the pattern does not know (``a·b``, ``℘``)
        for names in declared.findall(cell):
            self.declared.update(name.strip() for name in names.split(","))
        identifiers = set(identifier.findall(cell))
        first_words = first_word.findall(cell)
        magics = self.magic_words() if first_words else ()
        if (dynamic.search(cell) or not self.gateways.isdisjoint(identifiers)
                or any(word in magics for word in first_words)):
            self.always_all = self.always_all or bool(defines.search(cell))
            return None
        return identifiers | self.holders | self.declared

    def forget(self) -> None:
        """Skip a cell the watch could not finish: no markers, and no baseline until ``rebaseline``."""
        with lock:
            self.last, self._pending, self._advanced, self._unseeded = None, None, frozenset(), ()

    def after_cell(self, namespace: Mapping[str, Any], cell: str | None = None) -> None:
        """Take the states after the cell; what moved is worked out when asked (most cells nobody asks: comparing
        Python's 625-word key alone costs about a tenth of the watch)."""
        with lock:
            before = self.last
            self.rebaseline(namespace, cell)
            if before is None:
                self._pending, self._advanced, self._unseeded = None, frozenset(), ()
                return
            now = self.last or {}
            imported = {key: comparable(registry()[key[1]], fresh_states[key[1]]) for key in now
                        if before.get(key) is None and key[0] == "global" and key[1] in fresh_states}
            if imported:  # a library imported during the cell: compared with the state it was imported in
                before = {**before, **imported}
            self._pending = (before, now, frozenset(name for name in registry() if book.seeds.get(name) is None))

    @property
    def advanced(self) -> frozenset[tuple[str, str]]:
        """The generators whose state the last cell changed (drew from, seeded or set)."""
        self._settle()
        return self._advanced

    @property
    def unseeded(self) -> tuple[str, ...]:
        """The global generators among them that seedmagic had not seeded when the cell ended."""
        self._settle()
        return self._unseeded

    def _settle(self) -> None:
        """Compare the states the last cell was left with, once."""
        with lock:
            if self._pending is None:
                return
            before, now, not_seeded = self._pending
            moved = [(whose, name) for (whose, name), state in now.items()
                     if (baseline := before.get((whose, name))) is not None and baseline is not UNREADABLE
                     and state is not UNREADABLE and baseline != state]
            self._advanced = frozenset(moved)
            self._unseeded = tuple(name for whose, name in moved if whose == "global" and name in not_seeded)
            self._pending = None

    def mark(self, status: Status) -> Status:
        """``status`` with the last cell's markers and warning."""
        rows = tuple(row._replace(advanced=("global" if row.kind == "global" else "user", _generator(row.label))
                                  in self.advanced) for row in status.rows)
        return status._replace(rows=rows, unseeded=self.unseeded)


def _opens(value: Any, namespace: Mapping[str, Any], depth: int = 1) -> bool:
    """Whether ``value`` can bind names in ``namespace`` unseen: the namespace itself, its module, the shell,
    ``exec`` and its kin under another name, the ``builtins`` module, a method of the namespace
    (``globals().update``, ``globals().__setitem__``) or of the shell (``get_ipython``, ``get_ipython().push``),
    or a small list, tuple or dict or a ``functools.partial`` holding one (by type and identity only: no user
    code runs)."""
    kind = type(value)
    if value is namespace or issubclass(kind, InteractiveShell) or id(value) in _BINDERS or value is builtins:
        return True
    if issubclass(kind, types.ModuleType):
        return _MODULE_DICT.__get__(value) is namespace
    if kind is types.BuiltinMethodType or kind is types.MethodWrapperType:
        return _METHOD_SELF[kind].__get__(value) is namespace
    if kind is types.MethodType:  # ``get_ipython`` itself, ``get_ipython().push``: a method of the shell
        return issubclass(type(_METHOD_SELF[kind].__get__(value)), InteractiveShell)
    if depth and (kind is list or kind is tuple or kind is dict) and len(value) <= MAX_CONTAINER:
        items = list(value.values()) if kind is dict else value
        return any(_opens(item, namespace, 0) for item in items if id(type(item)) not in INERT)  # ``In``: strings
    if depth and kind is functools.partial:  # ``partial(exec)``, ``partial(setattr, module)``
        held = (_PARTIAL_FUNC.__get__(value), *_PARTIAL_ARGS.__get__(value))
        return any(_opens(item, namespace, 0) for item in held)
    return False


#: The builtins that bind names a cell's text need not spell: held under another name, each opens the
#: namespace as a variable holding it would.
_BINDERS = frozenset(map(id, (exec, eval, setattr, globals, vars, locals, __import__)))


#: A module's own namespace, read past any attribute a subclass defines.
_MODULE_DICT: Any = vars(types.ModuleType)["__dict__"]

#: The object a method is bound to (``globals().update``, ``globals().__setitem__``: the namespace), read in C past
#: anything a class defines, by the method's type.
_METHOD_SELF: dict[type, Any] = {kind: vars(kind)["__self__"]
                                 for kind in (types.BuiltinMethodType, types.MethodWrapperType, types.MethodType)}


#: What a ``functools.partial`` calls, and with what, read in C.
_PARTIAL_FUNC: Any = vars(functools.partial)["func"]
_PARTIAL_ARGS: Any = vars(functools.partial)["args"]


def _user_states(found: Mapping[str, Any]) -> dict[str, Any]:
    """Comparable states of the user's generators; one that cannot be read is left out (its row says why)."""
    states = {}
    for name, generator in found.items():
        try:
            states[name] = comparable(None, object_state(generator))
        except Exception:
            continue
    return states


def comparable(adapter: Any, state: Any) -> Any:
    """A stand-in for ``state`` that compares equal exactly when the states are equal, in this process.

    Cheaper than a fingerprint (nothing is hashed; a key of words is kept as
    the tuple or bytes it is); an adapter's own ``digest`` where it has one
    (CUDA's queue of pending seeds), and a fingerprint for anything unknown.
    """
    digest = None if adapter is None else digester(adapter)
    if digest is not None:
        return digest(state)
    return _plain(state, fresh=adapter is None or adapter.name in BUILTIN_NAMES)


def _plain(state: Any, fresh: bool = True) -> Any:
    """``comparable`` of a state; ``fresh``: its tensors are copies nothing else holds (torch's ``get_state``), kept
    as they are until compared. A plugin's may be the very tensor it draws from: taken as bytes at once."""
    kind = type(state)
    if kind is int or kind is str or kind is bytes or kind is bool or state is None:
        return state
    if kind is dict:  # a library builds its state dicts in one order: no need to sort
        return tuple([(key, _plain(value, fresh)) for key, value in state.items()])
    if kind is tuple and state and type(state[0]) is int and type(state[-1]) is int:
        return state  # a key of words, as Python's random holds: immutable, compared in C
    if kind is tuple or kind is list:
        return tuple([_plain(item, fresh) for item in state])
    if kind is float:
        return state.hex()  # a NaN equals itself here
    numpy = sys.modules.get("numpy")
    if numpy is not None and kind is numpy.ndarray:
        return (state.dtype, state.shape, state.tobytes())
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(state, torch.Tensor):
        return _Tensor(state) if fresh else _Tensor(state).key()
    return fingerprint(state)


class _Tensor:
    """A tensor from ``get_state`` (a copy that nothing else holds), turned into bytes only when compared: the
    watch compares only when asked, and in a cell the conversion costs more than reading torch's state."""

    __slots__ = ("tensor", "_key")

    def __init__(self, tensor: Any) -> None:
        self.tensor = tensor
        self._key: tuple[Any, ...] | None = None

    def key(self) -> tuple[Any, ...]:
        if self._key is None:
            self._key = (self.tensor.dtype, tuple(self.tensor.shape), self.tensor.cpu().numpy().tobytes())
        return self._key

    def __eq__(self, other: object) -> bool:
        return type(other) is _Tensor and self.key() == other.key()

    __hash__ = None  # type: ignore[assignment]


def _generator(label: str) -> str:
    """The generator a row belongs to ("torch.cuda:1" belongs to "torch.cuda")."""
    return label.split(":", 1)[0]


def running_cell(shell: InteractiveShell) -> int | None:
    """The number of the running cell (``In [n]``), once IPython has stored its input.

    IPython stores a cell's input before running it, in every version,
    while the moment it counts up differs between 8.x and 9.x.
    """
    manager = shell.history_manager
    return None if manager is None else len(manager.input_hist_parsed) - 1


class Follower:
    """Runs a ``CellWatch`` after every cell of one shell, then its listeners (the panel).

    Nothing here may reach the user's cell: an error is reported once, the
    watch stops, and the cells go on as if seedmagic were not there. A
    Ctrl-C that lands while the watch runs is dropped, as the cell it was
    meant for is over, and the watch skips that cell (no markers; the next
    cell has its own). No traceback: IPython would print one for a callback.
    The watch only reads, so an interrupt cannot leave anything half done;
    holding Ctrl-C off instead would cost two handler swaps per cell, more
    than a third of what the watch itself costs.
    """

    def __init__(self, shell: InteractiveShell) -> None:
        self.shell = shell
        self.watch = CellWatch(magic_words=self._magic_words, hidden=shell.user_ns_hidden)
        self.listeners: list[Callable[[], None]] = []
        #: True from a cell's start until the watch has finished after it, and from the start of the watch until
        #: a cell ends: the baseline may not be the next cell's start then (a callback cut short before its first
        #: line ran, by a Ctrl-C; startup files and ``exec_lines`` run after extensions load, with no cell), and
        #: the next cell takes a fresh one, looking at every variable.
        self._baseline_stale = True

    def start(self) -> None:
        for event, callback in self._callbacks():
            if callback not in self.shell.events.callbacks[event]:
                self.shell.events.register(event, callback)
        self.guarded(lambda: self.watch.rebaseline(self.shell.user_ns))

    def stop(self) -> None:
        for event, callback in self._callbacks():
            if callback in self.shell.events.callbacks[event]:
                self.shell.events.unregister(event, callback)

    def _callbacks(self) -> tuple[tuple[str, Callable[[Any], None]], ...]:
        return (("pre_run_cell", self.before_cell), ("post_run_cell", self.after_cell))

    def before_cell(self, info: Any = None) -> None:
        """Seedings from now on happen in this cell (its input is stored just after this event).

        After a cell the watch skipped, the baseline is taken here, so that this cell's markers are right.
        """
        try:
            self.guarded(lambda: self._before_cell(info))
        except KeyboardInterrupt:
            self.watch.forget()

    def _before_cell(self, info: Any) -> None:
        if self._baseline_stale:
            self.watch.forget()
        self._baseline_stale = True
        stored = running_cell(self.shell) if getattr(info, "store_history", False) else None
        in_cell(None if stored is None else stored + 1)
        if self.watch.last is None:
            self.watch.rebaseline(self.shell.user_ns)

    def after_cell(self, result: Any = None) -> None:
        try:  # first: a Ctrl-C on an earlier line would reach IPython, which prints a traceback for a callback
            self.guarded(lambda: self._after_cell(result), *self.listeners)
        except KeyboardInterrupt:
            self.watch.forget()

    def _after_cell(self, result: Any) -> None:
        cell = getattr(getattr(result, "info", None), "raw_cell", None)
        self.watch.after_cell(self.shell.user_ns, cell if type(cell) is str else None)
        self._baseline_stale = False

    def _magic_words(self) -> Collection[str]:
        return self.shell.magics_manager.magics["line"] if self.shell.automagic else ()

    def guarded(self, *steps: Callable[[], None]) -> None:
        try:
            for step in steps:
                step()
        except Exception as error:
            self.stop()
            print(f"seedmagic: the cell markers and the live panel stopped after an error ({describe(error)}); "
                  "your cells are not affected. %reload_ext seedmagic turns them back on", file=sys.stderr)


_followers: weakref.WeakKeyDictionary[InteractiveShell, Follower] = weakref.WeakKeyDictionary()


def follow(shell: InteractiveShell) -> Follower:
    """The follower of ``shell``, started if need be (the extension and the panel share it)."""
    follower = _followers.get(shell)
    if follower is None:
        follower = _followers[shell] = Follower(shell)
        follower.start()
    return follower


def unfollow(shell: InteractiveShell) -> None:
    """Stop and forget the follower of ``shell`` (``%unload_ext``); a panel still shown stops updating."""
    follower = _followers.pop(shell, None)
    if follower is not None:
        follower.stop()
