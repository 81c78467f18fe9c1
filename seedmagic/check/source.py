"""What a cell's source says: the names it reads and assigns, the libraries it uses, the reseeds it makes.

The explanations quote evidence from the source; this module finds it. A
cell is parsed as IPython runs it: magics are turned into Python by
IPython's own ``TransformerManager``, and the body of a cell magic
(``%%seeded 10``) is read as the cell's code. A cell that does not parse
reads nothing and assigns nothing: no explanation relies on it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import cast

from ..adapters import KINDS, check_facts

#: Calls whose result differs from run to run by nature, and what it comes from.
VARYING = {"id": "an object's address", "hash": "hash seeds", "os.getpid": "the process id",
           "os.getppid": "the parent process id",
           **dict.fromkeys(("time.time", "time.time_ns", "time.perf_counter", "time.perf_counter_ns", "time.monotonic",
                            "time.monotonic_ns", "time.process_time", "time.process_time_ns", "time.localtime",
                            "time.clock_gettime", "time.clock_gettime_ns", "time.thread_time", "time.thread_time_ns",
                            "time.gmtime", "time.strftime", "time.ctime", "time.asctime", "datetime.datetime.now",
                            "datetime.datetime.utcnow", "datetime.datetime.today", "datetime.date.today",
                            "uuid.uuid1", "pandas.Timestamp.now", "pandas.Timestamp.utcnow", "pandas.Timestamp.today",
                            "pandas.Period.now"), "the clock"),
           **dict.fromkeys(("os.urandom", "uuid.uuid4", "secrets.randbits", "secrets.randbelow", "secrets.token_bytes",
                            "secrets.token_hex", "random.SystemRandom"), "OS entropy")}
#: Calls that read the clock only when given the text "now" or "today": ``np.datetime64('now')``,
#: ``pd.Timestamp('today')``; given a date they do not vary.
_CLOCK_TEXT = frozenset({"numpy.datetime64", "pandas.Timestamp", "pandas.to_datetime", "pandas.Period"})
VARYING.update(dict.fromkeys(_CLOCK_TEXT, "the clock"))
#: Keywords by which libraries take a seed (scikit-learn's and pandas' ``random_state``); ``seed=`` is left out: it
#: names a setting as often as it seeds (``Config(seed=...)``).
SEED_KEYWORDS = frozenset({"random_state", "random_seed"})
#: Calls that start worker processes, whose draws come from their own generators (copied at fork, or seeded from
#: OS entropy); a DataLoader only with ``num_workers``.
WORKER_POOLS = frozenset({"multiprocessing.Pool", "multiprocessing.pool.Pool", "multiprocessing.get_context",
                          "concurrent.futures.ProcessPoolExecutor", "joblib.Parallel", "multiprocess.Pool",
                          "torch.utils.data.DataLoader"})
#: Calls that read or put back a generator's state: draws between them leave no trace in the state after.
RESTORES = frozenset({"fork_rng", "get_state", "set_state", "getstate", "setstate", "get_rng_state", "set_rng_state"})
#: Constructors of the generators users hold, which seed from OS entropy when given no seed.
CONSTRUCTORS = frozenset(name for kind in KINDS for name in kind.entropy_constructors)
#: The libraries each constructor comes from: ``torch.Generator`` or a notebook's own ``Generator`` class is not
#: NumPy's.
_LIBRARY_OF: dict[str, frozenset[str]] = {
    name: frozenset(kind.module for kind in KINDS if name in kind.entropy_constructors) for name in CONSTRUCTORS}
#: Names in a generator's module that do not draw from its global generator: constructors, and the calls that
#: seed it or read, put back or swap its state.
_NOT_DRAWING = CONSTRUCTORS | RESTORES | {"seed", "manual_seed", "initial_seed", "SeedSequence", "get_bit_generator",
                                         "set_bit_generator"}
#: Built-in calls that draw from no generator: what may stand between a seeding and the fixed one that replaces it.
_NOT_DRAWING_BUILTINS = frozenset({"print", "display", "len", "int", "float", "str", "repr", "bool", "range", "list",
                                   "dict", "set", "tuple", "sorted", "round", "abs", "min", "max", "sum", "isinstance",
                                   "format", "enumerate", "zip"})
#: What may not run where it is written: a branch, a loop, a ``try``, a function or lambda only defined.
_MAY_NOT_RUN = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.Match, ast.FunctionDef, ast.AsyncFunctionDef,
                ast.Lambda)
_CELL_MAGIC = re.compile(r"\A\s*%%(\w+)([^\n]*)(?:\n|\Z)")
#: Cell magics whose body is Python run in the kernel; another's body (``%%writefile``, ``%%bash``) is not.
PYTHON_BODIES = frozenset({"seeded", "time", "timeit", "capture", "prun", "debug"})
#: ``%timeit``'s options before the statement it times (``-n 10 -r 3 -q``).
_TIMEIT_OPTIONS = re.compile(r"(?:\s*-(?:[nrp]\s*\d+|[tcqo]))*\s*")
#: What IPython expands in a magic's line: ``$name`` and ``{expression}``.
_EXPANDED = re.compile(r"\$(\w+)|\{([^{}]+)\}")


def seedings() -> dict[str, tuple[str, bool]]:
    """Calls that seed a global generator, by dotted name: the generator, and whether it is then seeded from
    OS entropy when the call is given no seed (or None); from each adapter's ``facts``."""
    return {call: (name, entropy) for name, facts in check_facts().items() for call, entropy in facts.seedings.items()}


def swaps() -> dict[str, str]:
    """Calls that put another generator object in a global generator's place, by dotted name: the generator."""
    return {call: name for name, facts in check_facts().items() for call in facts.swaps}


def draw_namespace(generator: str) -> str | None:
    """Where the functions that draw from a global generator live: the module its seeding calls are in
    (``numpy.random`` for NumPy's, ``torch`` for torch's, ``random``); None where its adapter gives no seedings."""
    known = check_facts().get(generator)
    parents = [call.rsplit(".", 1)[0] for call in known.seedings] if known is not None else []
    return min(parents, key=len) if parents else None


def _varies(called: str, call: ast.Call) -> bool:
    """Whether ``call`` (of the dotted name ``called``) gives a value that varies by nature from run to run."""
    if called in _CLOCK_TEXT:
        first = call.args[0] if call.args else None
        return isinstance(first, ast.Constant) and isinstance(first.value, str) \
            and first.value.strip().lower() in ("now", "today")
    return called in VARYING


def _may_be_text(value: ast.expr) -> bool:
    """Whether ``value`` may be (or hold) a str, whose hash follows PYTHONHASHSEED: a str written out, an f-string, a
    name (its type unknown); a tuple only with text written in it (``hash((fold, 17))`` of numbers is fixed)."""
    if isinstance(value, (ast.Tuple, ast.List)):
        return any(isinstance(node, ast.JoinedStr) or isinstance(node, ast.Constant) and isinstance(node.value, str)
                   for node in ast.walk(value))
    return isinstance(value, (ast.JoinedStr, ast.Name, ast.Attribute, ast.Subscript)) or (
        isinstance(value, ast.Constant) and isinstance(value.value, str))


def _line_magic(node: ast.AST) -> tuple[str, str] | None:
    """The magic and its line where ``node`` is a line magic as IPython runs it (``%seed 3`` becomes
    ``get_ipython().run_line_magic('seed', '3')``), else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "run_line_magic"):
        return None
    given = [argument.value for argument in node.args
             if isinstance(argument, ast.Constant) and isinstance(argument.value, str)]
    return (given[0], given[1]) if len(given) == len(node.args) == 2 else None


def _magic_seeds(node: ast.AST, generator: str) -> bool:
    """Whether ``node`` is a ``%seed`` line that seeds ``generator`` and leaves it seeded: a seed, no statement run
    under it (then restored) unless ``--keep``, and ``generator`` not left out by ``--only``/``--skip``."""
    magic = _line_magic(node)
    if magic is None or magic[0] != "seed":
        return False
    from ..magicline import split_line

    head, statement = split_line(magic[1])
    words = head.replace("=", " ").split()
    named: dict[str, list[str]] = {"--only": [], "--skip": []}
    seed = False
    for before, word in zip(["", *words], words, strict=False):
        if before in named:
            named[before] += word.split(",")
        elif not word.startswith("-") and before not in ("--name", "--save", "--load"):
            seed = True
    kept = not statement or "--keep" in words
    return seed and kept and generator not in named["--skip"] and (not named["--only"] or generator in named["--only"])


def _timed_code(call: ast.Call) -> str | None:
    """The Python a line magic runs in the kernel (``%time``, ``%prun``), else None."""
    magic = _line_magic(call)
    return magic[1] if magic is not None and magic[0] in PYTHON_BODIES else None


def _body(source: str) -> str:
    """The Python a cell runs: a cell magic's body where it is Python (``%%seeded 10``), else the magic's line."""
    magic = _CELL_MAGIC.match(source)
    if magic is None:
        return source
    if magic.group(1) in PYTHON_BODIES:
        return source[magic.end():]
    return "\n".join(name or expression for name, expression in _EXPANDED.findall(magic.group(2)))


def _unseeded(call: ast.Call) -> bool:
    """A call given no seed: no arguments, or only ``None`` (``np.random.seed(None)``, ``SFC64(seed=None)``) or a
    ``SeedSequence`` that is itself given no entropy (``PCG64(np.random.SeedSequence())``)."""
    given = _arguments(call)
    return len(call.args) <= 1 and all(_no_seed(value) for value in given) \
        and all(keyword.arg is not None for keyword in call.keywords)  # not ``**options``


def _no_seed(value: ast.expr) -> bool:
    """``None``, or ``SeedSequence()`` drawing its entropy from the OS."""
    if isinstance(value, ast.Constant):
        return value.value is None
    called = value.func if isinstance(value, ast.Call) else None
    name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", None)
    return name == "SeedSequence" and _unseeded(cast(ast.Call, value))


def _arguments(call: ast.Call) -> list[ast.expr]:
    """What a call is given, positional and by keyword."""
    return [*call.args, *(keyword.value for keyword in call.keywords)]


class _Unknown:
    """A binding whose value cannot be told from the source (a loop's variable, a part of a call's result)."""


_UNKNOWN = _Unknown()


def _part_read(node: ast.AST) -> tuple[str | None, object]:
    """The name ``node`` reads and the part of it: ``seed`` → (seed, None), ``config['seed']`` → (config, 'seed'),
    ``args.seed`` → (args, 'seed'); (None, None) for anything else."""
    if isinstance(node, ast.Name):
        return node.id, None
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id, node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        index = node.slice
        if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub):  # seeds[-1]
            operand = index.operand
            if isinstance(operand, ast.Constant) and type(operand.value) is int:
                return node.value.id, -operand.value
        if isinstance(index, ast.Constant):
            return node.value.id, index.value
    return None, None


def _part(value: ast.AST, key: object) -> ast.AST | _Unknown:
    """The part ``key`` of ``value``: an entry of a dict written out, a keyword of a call (``SimpleNamespace(seed=0)``,
    ``dict(seed=0)``), an element of a list or tuple written out; the whole for None; ``_UNKNOWN`` where the
    source does not tell."""
    if key is None:
        return value
    if isinstance(value, ast.Dict):
        if any(written is None for written in value.keys):  # {**overrides}: any key may come from it
            return _UNKNOWN
        return next((entry for written, entry in reversed(list(zip(value.keys, value.values, strict=True)))
                     if isinstance(written, ast.Constant) and written.value == key), _UNKNOWN)
    if isinstance(value, ast.Call):
        return next((keyword.value for keyword in value.keywords if keyword.arg == key), _UNKNOWN)
    if isinstance(value, (ast.List, ast.Tuple)) and type(key) is int:  # seeds = [int(time.time())]; seeds[0]
        elements = value.elts
        if any(isinstance(element, ast.Starred) for element in elements) or not -len(elements) <= key < len(elements):
            return _UNKNOWN
        return elements[key]
    return _UNKNOWN


def _targets(node: ast.AST) -> list[ast.AST | None]:
    """What a binding statement binds."""
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.AsyncFor)):
        return [node.target]
    if isinstance(node, ast.withitem):
        return [node.optional_vars] if node.optional_vars is not None else []
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [ast.Name(alias.asname or alias.name.split(".")[0]) for alias in node.names]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [None]  # binds its own name
    return []


def _own_names(node: ast.AST) -> set[str]:
    """The names a comprehension or a lambda binds for itself (its loop variables, its parameters)."""
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        return {name.id for generator in node.generators for name in ast.walk(generator.target)
                if isinstance(name, ast.Name)}
    if isinstance(node, ast.Lambda):
        return {arg.arg for arg in _parameters(node.args)}
    return set()


def _truth(node: ast.AST, known: dict[str, object]) -> bool | None:
    """Whether ``node`` is true, where constants and ``known`` names tell (``seed is None``, ``not seed``, ``a or
    b``); None where they do not."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _truth(node.operand, known)
        return None if inner is None else not inner
    if isinstance(node, ast.BoolOp):
        truths = [_truth(value, known) for value in node.values]
        if isinstance(node.op, ast.Or):
            return True if True in truths else (None if None in truths else False)
        return False if False in truths else (None if None in truths else True)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        (found_a, a), (found_b, b) = _constant(node.left, known), _constant(node.comparators[0], known)
        if not (found_a and found_b):
            return None
        comparisons = {ast.Is: lambda: a is b, ast.IsNot: lambda: a is not b, ast.Eq: lambda: a == b,
                       ast.NotEq: lambda: a != b}
        compare = comparisons.get(type(node.ops[0]))
        return None if compare is None else bool(compare())
    found, value = _constant(node, known)
    return bool(value) if found else None


def _constant(node: ast.AST, known: dict[str, object]) -> tuple[bool, object]:
    if isinstance(node, ast.Constant):
        return True, node.value
    if isinstance(node, ast.Name) and node.id in known:
        return True, known[node.id]
    return False, None


def _bindings(nodes: Iterable[ast.AST]) -> dict[str, list[tuple[ast.AST, ast.AST | None]]]:
    """The statements among ``nodes`` that bind a name, by name, each with its target (None for a ``def``, a
    ``class``)."""
    found: dict[str, list[tuple[ast.AST, ast.AST | None]]] = {}
    for node in nodes:
        for target in _targets(node):
            names = [getattr(node, "name", "")] if target is None else [
                inner.id for inner in ast.walk(target) if isinstance(inner, ast.Name) and _binds_name(target, inner.id)]
            for name in names:
                found.setdefault(name, []).append((node, target))
    return found


def _binds_name(target: ast.AST, name: str) -> bool:
    """Whether ``target`` binds ``name`` itself (``x``, or ``x`` in ``x, y``), not a part of it (``x[0]``)."""
    if isinstance(target, ast.Name):
        return target.id == name
    return isinstance(target, (ast.Tuple, ast.List)) and any(_binds_name(element, name) for element in target.elts)


def _parameters(arguments: ast.arguments) -> list[ast.arg]:
    return [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
            *(arg for arg in (arguments.vararg, arguments.kwarg) if arg is not None)]


def _defaults(arguments: ast.arguments) -> list[tuple[str, ast.expr]]:
    """Each parameter that has a default, with it."""
    positional = [*arguments.posonlyargs, *arguments.args]
    given = [*zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults, strict=True),
             *zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)]
    return [(arg.arg, default) for arg, default in given if default is not None]


def _position(node: ast.AST) -> tuple[int, int]:
    """Where ``node`` is written, as (line, column); a ``with`` item's is its expression's (it has none itself)."""
    anchor = node.context_expr if isinstance(node, ast.withitem) else node
    return getattr(anchor, "lineno", 0), getattr(anchor, "col_offset", 0)


def _walk(statements: Iterable[ast.AST], stop: tuple[type, ...], keep_stops: bool) -> list[ast.AST]:
    """The nodes of ``statements``, not entering those of the types ``stop`` (kept themselves with ``keep_stops``)."""
    found, pending = [], list(statements)
    while pending:
        node = pending.pop()
        stopped = isinstance(node, stop)
        if keep_stops or not stopped:
            found.append(node)
        if not stopped:
            pending.extend(ast.iter_child_nodes(node))
    return found


def _region(statements: Iterable[ast.AST]) -> list[ast.AST]:
    """The nodes of ``statements`` in their own scope: not inside a function, lambda or class they define."""
    return _walk(statements, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef), keep_stops=True)


def _always_run(statements: Iterable[ast.AST]) -> list[ast.AST]:
    """The nodes of ``statements`` that run whenever the statements do (a seeding under ``if use_clock:`` may not)."""
    return _walk(statements, _MAY_NOT_RUN, keep_stops=False)


def aliases(sources: Iterable[str], known: Mapping[str, str] | None = None) -> dict[str, str]:
    """What each imported name stands for across the notebook: ``np`` → ``numpy``, ``seed`` → ``numpy.random.seed``;
    also a name a cell binds at its top to a part of an import (``npr = np.random``; ``known``: the imports of the
    cells above). A name bound at the top to anything else no longer stands for an import."""
    found: dict[str, str] = {}
    for source in sources:
        tree = CellSource(source).tree
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        found[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        found[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in tree.body if tree is not None else ():
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                imported = {**(known or {}), **found}
                value = node.value
                path = CellSource("", imported).dotted(value) if isinstance(value, (ast.Name, ast.Attribute)) else None
                name = node.targets[0].id
                if path is not None and path.split(".")[0] in {module.split(".")[0] for module in imported.values()}:
                    found[name] = path
                elif name in imported:
                    found[name] = name  # rebound: it stands for itself again
    return found


@dataclass
class CellSource:
    """One cell's source, parsed once."""

    source: str
    imports: dict[str, str] = field(default_factory=dict)

    @cached_property
    def code(self) -> str:
        """The Python IPython runs for the cell (magics turned into calls by IPython's own transformer)."""
        from IPython.core.inputtransformer2 import TransformerManager

        return str(TransformerManager().transform_cell(_body(self.source)))

    @cached_property
    def tree(self) -> ast.Module | None:
        try:
            return ast.parse(self.code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # nested too deep to parse: read as nothing
            return None

    def _nodes(self) -> list[ast.AST]:
        return self._all_nodes

    @cached_property
    def _all_nodes(self) -> list[ast.AST]:
        return list(ast.walk(self.tree)) if self.tree is not None else []

    @cached_property
    def _parents(self) -> dict[int, ast.AST]:
        return {id(child): node for node in self._nodes() for child in ast.iter_child_nodes(node)}

    @cached_property
    def reads(self) -> list[str]:
        """Names the cell reads, in the order they first appear."""
        names = [node for node in self._nodes() if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)]
        return list(dict.fromkeys(node.id for node in sorted(names, key=lambda n: (n.lineno, n.col_offset))))

    def dotted(self, node: ast.AST) -> str | None:
        """``np.random.seed`` as ``numpy.random.seed``, through the notebook's imports."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        return ".".join([self.imports.get(node.id, node.id), *reversed(parts)])

    def calls(self) -> list[tuple[str, ast.Call]]:
        """The cell's calls of a dotted name, in the order they are written (found once: callers only read them)."""
        return self._all_calls

    @cached_property
    def _all_calls(self) -> list[tuple[str, ast.Call]]:
        return self._calls_in(self._nodes())

    def _calls_in(self, nodes: Iterable[ast.AST], named: bool = True) -> list[tuple[str, ast.Call]]:
        """The calls among ``nodes``, in the order they are written, with the dotted name called; ``named=False``:
        also the calls of something else (a method of a call's result: ``torch.Generator().manual_seed(...)``),
        with the name ""."""
        calls = [(name or "", node) for node in nodes if isinstance(node, ast.Call)
                 for name in [self.dotted(node.func)] if name is not None or not named]
        return sorted(calls, key=lambda found: (found[1].lineno, found[1].col_offset))

    def _binds_chained(self, name: str, call: ast.Call) -> bool:
        """Whether ``call`` seeds a generator made on the spot and binds it to ``name``:
        ``g = torch.Generator().manual_seed(...)``."""
        parent = self._parents.get(id(call))
        return isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Call) \
            and isinstance(parent, ast.Assign) and any(_binds_name(target, name) for target in parent.targets)

    def entropy_reseeds(self) -> dict[str, str]:
        """Generators the cell reseeds from OS entropy, with the line that does it."""
        return {generator: line for generator, (line, _) in self._reseeds().items()}

    def reseeds_user(self, name: str) -> str | None:
        """The line where the cell reseeds the notebook's generator ``name`` from OS entropy (``g.seed()``)."""
        return next((self.line(call.lineno) for called, call in self.calls()
                     if called == f"{name}.seed" and _unseeded(call)), None)

    def reseeds_by_swap(self, generator: str) -> bool:
        """Whether the cell reseeds ``generator`` from OS entropy by putting another one in its place (then a
        seeding before that line does not help)."""
        return self._reseeds().get(generator, ("", False))[1]

    def _reseeds(self) -> dict[str, tuple[str, bool]]:
        """Each generator the cell reseeds from OS entropy: the line, and whether it swaps another one in."""
        found: dict[str, tuple[str, bool]] = {}
        known, swapping = seedings(), swaps()
        for name, call in self.calls():
            generator, entropy = known.get(name, ("", False))
            if entropy and _unseeded(call):
                found.setdefault(generator, (self.line(call.lineno), False))
            elif name in swapping and any(self._constructs(given, seeded=False) for given in self._put_in_place(call)):
                found.setdefault(swapping[name], (self.line(call.lineno), True))  # set_bit_generator(np.random.SFC64())
        return found

    def _put_in_place(self, swap: ast.Call) -> list[ast.AST]:
        """What a swap is given: each argument, or for a name the cell binds (``bg = SFC64()``), its value."""
        given: list[ast.AST] = []
        for argument in _arguments(swap):
            bound = self._binding(argument.id) if isinstance(argument, ast.Name) else None
            given.append(getattr(bound, "value", None) or argument)
        return given

    def _constructs(self, node: ast.AST, seeded: bool, names: frozenset[str] | None = None) -> bool:
        """Whether ``node`` calls a constructor that seeds a generator from OS entropy when given no seed, with a
        seed (``seeded``) or with none; ``names``: any call of one of these names, for a generator already known
        to be the user's, of a kind these construct."""
        if not isinstance(node, ast.Call) or _unseeded(node) == seeded:
            return False
        called = (self.dotted(node.func) or "").split(".")
        if names is not None:
            return called[-1] in names
        # a name alone comes from the library a star import brought it from (``from numpy.random import *``)
        library = called[0] if len(called) > 1 else self.imports.get("*", "").split(".")[0]
        return library in _LIBRARY_OF.get(called[-1], ())

    def seeds(self, generator: str) -> bool:
        """Whether the cell seeds ``generator`` by hand (``np.random.seed(...)``, ``torch.manual_seed(...)``, or
        a generator made with a seed put in its place: ``np.random.set_bit_generator(np.random.PCG64(3))``)."""
        return self._seeds_among(self.calls(), generator)

    def always_seeds(self, generator: str, earlier: Sequence[CellSource] = ()) -> bool:
        """Whether the cell seeds ``generator`` by hand in a call it always runs (not one under ``if`` or ``try``,
        nor in a function it only defines), itself or through a plain function defined here or in ``earlier``
        cells that always does (``set_seed(42)``, one level), and puts no saved state back after (``set_state``,
        ``fork_rng``)."""
        if self.restores():
            return False
        calls = self._calls_in(_always_run(self.tree.body if self.tree is not None else []), named=False)
        if self._seeds_among(calls, generator):
            return True
        for _, call in calls:
            helper = self._plain_helper(call.func.id, call.lineno, earlier) if isinstance(call.func, ast.Name) else None
            if helper is not None:
                owner, definition, _ = helper
                if owner._seeds_among(owner._calls_in(_always_run(definition.body)), generator):
                    return True
        return False

    def _seeds_among(self, calls: Sequence[tuple[str, ast.Call]], generator: str) -> bool:
        known, swapping = seedings(), swaps()
        if any(name in known and known[name][0] == generator for name, _ in calls):
            return True
        if any(name == "seedmagic.seed" and call.args or _magic_seeds(call, generator) for name, call in calls):
            return True  # every generator: ``seedmagic.seed(n)``, ``%seed n``
        # the last generator the cell puts in its place stays there: one it saved before is not a seeding
        swapped = [call for name, call in calls if swapping.get(name) == generator]
        last = max(swapped, key=lambda call: (call.lineno, call.col_offset), default=None)
        return last is not None and any(self._constructs(given, seeded=True) for given in self._put_in_place(last))

    def unseeded_construction(self, within: set[str] | None = None) -> tuple[str, str] | None:
        """The first call in the cell that makes a generator with no seed: its line, and the call as written;
        ``within``: only in what binds these names (a helper the cell defines and nothing uses is not counted)."""
        nodes = self._nodes() if within is None else [inner for node in self._definitions(within)
                                                         for inner in ast.walk(node)]
        for node in sorted(nodes, key=_position):
            if isinstance(node, ast.Call) and self._constructs(node, seeded=False):
                return self.line(node.lineno), ast.unparse(node.func)
        return None

    def seeding_from_hash(self, generator: str, earlier: Sequence[CellSource] = ()) -> str | None:
        """The line where the cell seeds ``generator`` from ``hash()`` (``np.random.seed(hash(name) % 2**32)``),
        directly or through a name it bound, with ``%seed``/``seedmagic.seed`` or a plain helper that always seeds
        it (``set_seed(hash(name))``): a str's hash follows PYTHONHASHSEED, which differs from run to run."""
        for name, call in self._calls_in(self._nodes(), named=False):
            given: list[ast.AST] = self._seed_given(name, call, generator, earlier)
            for argument in list(given):
                read, key = _part_read(argument)
                bound = None if read is None else self._bound(read, key, None, call.lineno)
                given += [bound] if isinstance(bound, ast.AST) else []
            if any(isinstance(node, ast.Call) and self.dotted(node.func) == "hash" and node.args
                   and _may_be_text(node.args[0]) for argument in given for node in ast.walk(argument)):
                return self.line(call.lineno)
        return None

    def _seed_given(self, name: str, call: ast.Call, generator: str, earlier: Sequence[CellSource]) -> list[ast.AST]:
        """What ``call`` seeds ``generator`` with, where it does: the library's own seeding, ``%seed`` and
        ``seedmagic.seed`` (every generator, the ``{expr}`` and ``$name`` of the magic's line parsed), or a plain
        helper that always seeds it (all it is given); else nothing."""
        if seedings().get(name, ("",))[0] == generator or name == "seedmagic.seed":
            return list(_arguments(call))
        if _magic_seeds(call, generator):
            parsed = []
            for read, expression in _EXPANDED.findall(_line_magic(call)[1]):  # type: ignore[index]
                try:
                    parsed.append(ast.parse(read or expression, mode="eval").body)
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    continue
            return parsed
        helper = self._plain_helper(call.func.id, call.lineno, earlier) if isinstance(call.func, ast.Name) else None
        if helper is not None:
            owner, definition, _ = helper
            if owner._seeds_among(owner._calls_in(_always_run(definition.body)), generator):
                return list(_arguments(call))
        return []

    def reseeded_before_drawn(self, generator: str, after: str | None = None) -> bool | None:
        """Whether, after the line ``after`` (from the cell's top for None), the cell seeds ``generator`` again with a
        fixed value before any call that may draw from it: True; False where such a call comes first; None where the
        cell ends first. Only calls known not to draw (``print``, ``len``, ...) may come between. A line not in the
        cell (in a helper an earlier cell defines) is not followed: False."""
        statements = self.tree.body if self.tree is not None else []
        start = 0 if after is None else next(
            (at + 1 for at, statement in enumerate(statements) for node in ast.walk(statement)
             if isinstance(node, ast.Call) and self.line(node.lineno) == after), None)
        if start is None:
            return False
        known = seedings()
        for statement in statements[start:]:
            call = statement.value if isinstance(statement, ast.Expr) else None
            if isinstance(call, ast.Call) and self._fixed_seeding_of(generator, call, known):
                return True
            if any(isinstance(node, ast.Call) and getattr(node.func, "id", None) not in _NOT_DRAWING_BUILTINS
                   for node in ast.walk(statement)):
                return False
        return None

    def _fixed_seeding_of(self, generator: str, call: ast.Call, known: dict[str, tuple[str, bool]]) -> bool:
        """Whether ``call`` seeds ``generator`` (or every generator: ``%seed N``, ``seedmagic.seed(N)``) with a value
        that calls nothing."""
        name = self.dotted(call.func) or ""
        magic = _line_magic(call)
        if magic is not None and magic[0] == "seed":
            return magic[1].strip().isdigit()
        if name == "seedmagic.seed":  # every generator
            return len(call.args) == 1 and not call.keywords and isinstance(call.args[0], ast.Constant) \
                and type(call.args[0].value) is int
        return known.get(name, ("",))[0] == generator and not _unseeded(call) and not any(
            isinstance(node, ast.Call) for argument in _arguments(call) for node in ast.walk(argument))

    def timed_draws(self) -> list[tuple[str, str]]:
        """Each ``%timeit`` with no fixed number of loops (``-n``) whose code draws from a global generator's module
        of random functions (``%timeit np.random.rand(100)``) and does not seed it: it runs as many loops as fit in
        its time, so how many draws it takes depends on the machine. The generator, and the line."""
        cell = _CELL_MAGIC.match(self.source)
        if (cell is not None and cell.group(1) == "seeded" and "--keep" not in cell.group(2)) or self.restores() \
                or any(name.rsplit(".", 1)[-1] == "seeded" for name, _ in self.calls()):
            return []  # the state is put back after it (%%seeded, fork_rng, get_state/set_state)
        timed: list[tuple[str, str, str]] = []  # the options, the code timed, the line as written
        if cell is not None and cell.group(1) == "timeit":
            timed.append((cell.group(2), _body(self.source), cell.group(0).strip()))
        for node in _always_run(self.tree.body if self.tree is not None else []):
            magic = _line_magic(node)
            if magic is not None and magic[0] == "timeit":
                leading = _TIMEIT_OPTIONS.match(magic[1])
                assert leading is not None  # it matches the empty text too
                timed.append((leading.group(0), magic[1][leading.end():], self.line(getattr(node, "lineno", 1))))
        modules = {generator: draw_namespace(generator) for generator in check_facts()} if timed else {}
        found = []
        for options, code, line in timed:
            if re.search(r"(?:^|\s)-n\s*\d", options):
                continue
            inner = CellSource(code, self.imports)
            for generator, space in modules.items():
                if space is not None and space.rsplit(".", 1)[-1] == "random" and inner.draws_from(space) \
                        and not inner.seeds(generator):  # each loop seeding it first draws alike
                    found.append((generator, line))
        return found

    def worker_pool(self) -> str | None:
        """The line where the cell starts worker processes (``Pool(2)``, ``Parallel(n_jobs=2)``, a DataLoader given
        ``num_workers`` other than 0), else None."""
        for name, call in self.calls():
            if name not in WORKER_POOLS:
                continue
            if name.endswith("DataLoader"):
                workers = next((keyword.value for keyword in call.keywords if keyword.arg == "num_workers"), None)
                if workers is None or isinstance(workers, ast.Constant) and workers.value == 0:
                    continue
            return self.line(call.lineno)
        return None

    def varying_call(self) -> tuple[str, str] | None:
        """The first call whose result varies by nature (``id(x)``, ``time.time()``), and where it comes from."""
        for name, call in self.calls():
            if _varies(name, call):
                return name, VARYING[name]
        return None

    def shown_varying_call(self) -> tuple[str, str] | None:
        """A call whose result varies by nature (not ``hash``) that the cell shows: in what it prints or displays,
        or in its last expression, directly or through a name the cell binds (``elapsed = time.time() - t0``)."""
        if self.tree is None:
            return None
        shown: list[ast.AST] = [node for node in self._nodes() if isinstance(node, ast.Call)
                                and getattr(node.func, "id", None) in ("print", "display")]
        last = self.tree.body[-1] if self.tree.body else None
        shown += [last.value] if isinstance(last, ast.Expr) else []
        call = next((found for node in shown for found in self._varying_calls(node, every_branch=True)), None)
        return None if call is None else (call, VARYING[call])

    def varying_seeding(self, of: str | None = None,
                        earlier: Sequence[CellSource] = ()) -> tuple[str | None, str, str] | None:
        """The first of ``varying_seedings``."""
        return next(iter(self.varying_seedings(of, earlier)), None)

    def varying_seedings(self, of: str | None = None,
                         earlier: Sequence[CellSource] = ()) -> Iterator[tuple[str | None, str, str]]:
        """Each seeding given a value that varies by nature (``np.random.seed(int(time.time()))``), directly,
        through names bound in the cell or in ``earlier`` cells (latest first: ``SEED = int(time.time())`` above),
        in ``%seed {...}``/``%%seeded {...}``, or in a function called with no arguments (``seed_everything()``,
        whose default may read the clock): the global generator it seeds (None for the notebook's own or a
        magic's), the line, and the varying call; ``of``: only a seeding of the notebook's generator of that name
        (``g.seed(...)``). ``hash`` is left out: with PYTHONHASHSEED pinned, ``hash()`` of a str is fixed. Only
        what the cell runs itself counts, not the body of a function it defines (which may never run)."""
        magic = None if of is not None else self._magic_seeding(earlier)
        if magic is not None:
            yield magic
        for name, call in self._calls_in(_always_run(self.tree.body if self.tree is not None else []), named=False):
            timed = _timed_code(call)
            if timed is not None:  # %time np.random.seed(int(time.time())): the magic runs its line in the kernel
                for inner in CellSource(timed, self.imports).varying_seedings(of, (self, *earlier)):
                    yield inner[0], self.line(call.lineno), inner[2]
                continue
            if of is not None and name not in (f"{of}.seed", f"{of}.manual_seed") and not self._binds_chained(of, call):
                continue
            found = self._seeding_from_varying(name, call, earlier)
            if found is not None:
                yield found
            elif of is None and isinstance(call.func, ast.Name) and not _arguments(call):
                yield from self._called_function_seedings(call.func.id, call.lineno, earlier)

    def _seeding_from_varying(self, name: str, call: ast.Call, earlier: Sequence[CellSource],
                              scope: ast.AST | None = None) -> tuple[str | None, str, str] | None:
        """``call`` if it seeds (a global generator, a seeded constructor, a ``.seed``/``.manual_seed`` method)
        from a varying value (``scope``: the function it is in)."""
        known = seedings()
        method = isinstance(call.func, ast.Attribute) and call.func.attr in ("seed", "manual_seed") \
            and self._holds_generator(call.func.value, earlier, call.lineno)
        given = _arguments(call)
        if name not in known and not self._constructs(call, seeded=True) and not method:
            # any library's seed by keyword: train_test_split(X, random_state=...), df.sample(n, random_state=...);
            # not a value kept for later (dict(random_state=...), a Namespace), which a later line may change
            kept = name == "dict" or name.endswith("Namespace")
            given = [] if kept else [keyword.value for keyword in call.keywords if keyword.arg in SEED_KEYWORDS]
            if not given:
                return None
        around: set[str] = set()  # names a comprehension or lambda the call is in binds
        parent = self._parents.get(id(call))
        while parent is not None:
            around |= _own_names(parent)
            parent = self._parents.get(id(parent))
        varying = next((found for argument in given
                        for found in self._varying_calls(argument, earlier, scope=scope, own=frozenset(around))), None)
        return None if varying is None else (known.get(name, (None, False))[0], self.line(call.lineno), varying)

    def _holds_generator(self, receiver: ast.AST, earlier: Sequence[CellSource], line: int) -> bool:
        """Whether ``receiver`` of a ``.seed(...)`` is a random generator (``db.seed(...)`` may fill a database): a
        name last bound, in this cell or the latest earlier one that binds it, to a generator's constructor."""
        if isinstance(receiver, ast.Call):  # made on the spot: torch.Generator().manual_seed(...)
            return (self.dotted(receiver.func) or "").rsplit(".", 1)[-1] in CONSTRUCTORS
        if not isinstance(receiver, ast.Name):
            return False
        for at, owner in enumerate((self, *earlier)):
            found = owner._last_binding(receiver.id, None, line if at == 0 else None)
            if found is None:
                continue
            value = None if isinstance(found, _Unknown) else getattr(found[0], "value", None)
            made = (owner.dotted(value.func) or "").rsplit(".", 1)[-1] if isinstance(value, ast.Call) else ""
            return made in CONSTRUCTORS  # torch.Generator too: NumPy's Generator is one by name
        return False

    def _called_function_seedings(self, function: str, line: int,
                                  earlier: Sequence[CellSource]) -> Iterator[tuple[str | None, str, str]]:
        """A seeding from a varying value inside ``function``, defined in this cell or an earlier one (one level),
        that runs whenever it is called with no arguments (``_always_run``), and reads no parameter whose default
        is a fixed value (``seed=42``: ``seed or int(time.time())`` is 42; ``seed=int(time.time())`` varies)."""
        helper = self._plain_helper(function, line, earlier)
        if helper is None:
            return
        owner, definition, before = helper
        fixed = {name for name, default in _defaults(definition.args)
                 if not _no_seed(default) and next(iter(owner._varying_calls(default)), None) is None}
        yield from (found for name, call in owner._calls_in(_always_run(definition.body))
                    for found in [owner._seeding_from_varying(name, call, before, definition)]
                    if found is not None and not any(owner._reads(argument, fixed) for argument in _arguments(call)))

    def _plain_helper(self, function: str, line: int | None, earlier: Sequence[CellSource]
                      ) -> tuple[CellSource, ast.FunctionDef, Sequence[CellSource]] | None:
        """The function a call of ``function`` at ``line`` runs, where it is a plain one bound last under that name in
        this cell or the latest earlier cell that binds it: the cell that defines it, the definition, and the cells
        before that one. Not a lambda, an import or a class; not a generator (its body waits for next()), nor
        decorated (the decorator decides what a call runs)."""
        for at, owner in enumerate((self, *earlier)):
            found = owner._last_binding(function, None, line if owner is self else None)
            if found is None:
                continue
            definition = None if isinstance(found, _Unknown) else found[0]
            if isinstance(definition, ast.FunctionDef) and not definition.decorator_list and not any(
                    isinstance(node, (ast.Yield, ast.YieldFrom)) for node in _region(definition.body)):
                return owner, definition, earlier[at:]
            return None
        return None

    def _returned_varying(self, function: str, line: int | None, earlier: Sequence[CellSource],
                          depth: int) -> Iterable[str]:
        """The varying calls in what a helper called with no arguments returns (``def get_seed(): return
        int(time.time())``), where it has one ``return``, at the top of its body (an earlier one in a branch may
        return instead)."""
        helper = self._plain_helper(function, line, earlier)
        if helper is not None:
            owner, definition, before = helper
            returns = [node for node in _region(definition.body) if isinstance(node, ast.Return)]
            if len(returns) == 1 and any(returns[0] is statement for statement in definition.body) \
                    and returns[0].value is not None:
                yield from owner._varying_calls(returns[0].value, before, depth, scope=definition)

    def _reads(self, value: ast.AST, names: set[str], depth: int = 3) -> bool:
        """Whether ``value`` reads one of ``names``, directly or through names the cell binds (a few levels)."""
        read = [node.id for node in ast.walk(value) if isinstance(node, ast.Name)]
        return bool(names & set(read)) or depth > 0 and any(
            self._reads(bound, names - {name}, depth - 1) for name in read
            for bound in [getattr(self._binding(name), "value", None)] if bound is not None)

    def _magic_seeding(self, earlier: Sequence[CellSource]) -> tuple[str | None, str, str] | None:
        """``%seed {int(time.time())}`` or ``%%seeded $SEED``: IPython expands the line before the magic sees it.
        A ``%seed`` counts where the cell surely runs it (IPython turns it into a call), not in a string."""
        magics = [(f"%seed {magic[1]}", getattr(node, "lineno", 0))
                  for node in _always_run(self.tree.body if self.tree else [])
                  for magic in [_line_magic(node)] if magic is not None and magic[0] == "seed"]
        cell = _CELL_MAGIC.match(self.source)
        magics += [(cell.group(0).strip(), 0)] if cell is not None and cell.group(1) == "seeded" else []
        for line, at in magics:
            for name, expression in _EXPANDED.findall(line):
                try:
                    tree = ast.parse(name or expression, mode="eval")
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    continue
                varying = next(iter(self._varying_calls(tree, earlier, read_at=at)), None)
                if varying is not None:
                    return None, line, varying
        return None

    def _varying_calls(self, value: ast.AST, earlier: Sequence[CellSource] = (), depth: int = 3,
                       scope: ast.AST | None = None, read_at: int | None = None,
                       every_branch: bool = False, own: frozenset[str] = frozenset()) -> Iterable[str]:
        """Calls in ``value`` whose result varies by nature. A name is followed (a few levels) to the value it was
        last given before it is read in the same cell (in ``scope``: a function's locals, then its parameter's
        default; see ``_follow``); ``config['seed']``, ``args.seed`` and
        ``seed, t0 = 42, time.time()`` to that part of the value only. Only what surely runs is followed: a
        branch (``if``, ``x if c else y``, ``a or b``) only where its condition can be told from constants (a
        parameter's default in a function called with no arguments), else the trail ends; so does a binding
        the source cannot take apart (a loop's, a call's result, one changed in place since). Names a
        comprehension or a lambda binds are theirs. ``read_at``: the line the value is read at, for a magic's
        expression (parsed on its own). ``every_branch``: any branch may be what is shown, so none is pruned.
        ``own``: names bound around ``value`` (by a comprehension it is in), not followed."""
        pending: list[tuple[ast.AST, frozenset[str]]] = [(value, own)]
        while pending:
            node, own = pending.pop()
            called = self.dotted(node.func) if isinstance(node, ast.Call) else None
            if called is not None and called != "hash" and _varies(called, cast(ast.Call, node)):
                yield called
                continue
            line = read_at if read_at is not None else getattr(node, "lineno", None)
            parent = self._parents.get(id(node))
            whole = not (isinstance(parent, (ast.Subscript, ast.Attribute)) and parent.value is node)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not _arguments(node) \
                    and node.func.id not in own and depth and whole:  # a helper's return value, all of it: get_seed()
                yield from self._returned_varying(node.func.id, line, earlier, depth - 1)
            if isinstance(node, (ast.IfExp, ast.BoolOp)) and not every_branch:
                pending += [(taken, own) for taken in self._taken(node, self._known(scope, line))]
                continue
            own = own | _own_names(node)
            name, key = _part_read(node)
            if name is not None and name not in own:
                if depth:
                    yield from self._follow(name, key, line, earlier, depth - 1, scope, every_branch)
                pending += [(node.slice, own)] if isinstance(node, ast.Subscript) else []
                continue
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("get", "pop", "setdefault"):  # a default given is not what is read
                pending += [(node.func, own), *((argument, own) for argument in node.args[:1])]
                continue
            if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.value, (ast.Subscript,
                                                                                            ast.Attribute)):
                # a part of a part (trials[-1][0], run.config.seed): which one, the source does not tell at once
                pending += [(node.slice, own)] if isinstance(node, ast.Subscript) else []
                continue
            pending += [(child, own) for child in ast.iter_child_nodes(node)]

    def _follow(self, name: str, key: object, line: int | None, earlier: Sequence[CellSource], depth: int,
                scope: ast.AST | None, every_branch: bool) -> Iterable[str]:
        """The varying calls in what ``name`` (or its part ``key``) was given last before ``line``, in ``scope`` (a
        helper's locals and parameters) or the cell's top level. Not followed: an earlier cell's binding (a cell
        between may change it in ways the source hides: ``config['seed'] = 42``, injected parameters, a
        ``global`` in a function it calls), nor a global a helper reads (its value is the caller's)."""
        found = self._bound(name, key, scope, line)
        if found is not None and not isinstance(found, _Unknown):
            yield from self._varying_calls(found, earlier, depth, scope, every_branch=every_branch)

    def _last_binding(self, name: str, scope: ast.AST | None,
                      before: int | None) -> tuple[ast.AST, ast.AST | None] | _Unknown | None:
        """The statement that last bound ``name`` in ``scope`` (the cell's top level for None) before line ``before``
        and the target that binds it (None for a ``def`` or ``class``); ``_UNKNOWN`` where whether it ran cannot
        be told (under a loop, a ``try``, an ``if`` whose condition is not known); None where nothing binds it."""
        candidates = (self._top_bindings if scope is None else _bindings(self._region_of(scope))).get(name, [])
        bindings = [(node, target) for node, target in candidates
                    if before is None or _position(node)[0] < before]
        for node, target in sorted(bindings, key=lambda found: _position(found[0]), reverse=True):
            runs = self._runs(node, scope)
            if runs is None:
                return _UNKNOWN
            if runs:
                return node, target
        return None

    def _bound(self, name: str, key: object, scope: ast.AST | None, before: int | None) -> ast.AST | _Unknown | None:
        """What ``name`` (its part ``key``) was last given in ``scope`` (the cell's top level for None) before line
        ``before``: the value, ``_UNKNOWN`` where it cannot be told, None where nothing there binds it."""
        found = self._last_binding(name, scope, before)
        if found is None:
            arguments = getattr(scope, "args", None)
            if arguments is None or name not in {arg.arg for arg in _parameters(arguments)}:
                return None
            default = dict(_defaults(arguments)).get(name)  # a parameter: its default, if the call gave nothing
            return _UNKNOWN if default is None else _part(default, key)
        if isinstance(found, _Unknown):
            return found
        node, target = found
        # ``seed += int(time.time())``: what is added varies, so the sum does (what it was is not followed)
        value = getattr(node, "value", None) if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr,
                                                                  ast.AugAssign)) else None
        if value is None or self._changed(name, node, scope, before):
            return _UNKNOWN
        if isinstance(target, (ast.Tuple, ast.List)):  # seed, t0 = 42, time.time()
            index = next(i for i, element in enumerate(target.elts) if _binds_name(element, name))
            if not isinstance(value, (ast.Tuple, ast.List)) or len(value.elts) != len(target.elts) \
                    or not isinstance(target.elts[index], ast.Name):
                return _UNKNOWN
            value = value.elts[index]
        return _part(value, key)

    def _region_of(self, scope: ast.AST | None) -> list[ast.AST]:
        """The nodes in ``scope``'s own body (a function's), or at the cell's top level for None."""
        if scope is None:
            return self._top_level
        return _region(getattr(scope, "body", []))

    @cached_property
    def _top_level(self) -> list[ast.AST]:
        return _region(self.tree.body if self.tree is not None else [])

    @cached_property
    def _top_bindings(self) -> dict[str, list[tuple[ast.AST, ast.AST | None]]]:
        """The bindings at the cell's top level, by name: each notebook cell is asked of many names."""
        return _bindings(self._top_level)

    def _changed(self, name: str, binding: ast.AST, scope: ast.AST | None, before: int | None) -> bool:
        """Whether ``name`` is changed in place after ``binding`` and before line ``before`` (``config['seed'] = 0``,
        ``args.seed = 0``, ``config.update(...)``): then what it holds cannot be told from its binding."""
        start: int = getattr(binding, "end_lineno", 0) or getattr(binding, "lineno", 0)
        for node in self._region_of(scope):
            line = getattr(node, "lineno", 0)
            if line <= start or (before is not None and line >= before):
                continue
            if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)) \
                    and _part_read(node)[0] == name:
                return True
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == name:
                return True  # a method of the object (update, setdefault, pop): it may change it
        return False

    def _runs(self, node: ast.AST, scope: ast.AST | None) -> bool | None:
        """Whether ``node`` runs whenever ``scope`` (or the cell) does: True, False, or None where it cannot be told
        (under a loop, a ``try``, a ``match``, or an ``if`` whose condition is not known)."""
        child, parent = node, self._parents.get(id(node))
        while parent is not None and parent is not scope and not isinstance(parent, ast.Module):
            if isinstance(parent, (ast.For, ast.AsyncFor, ast.While, ast.Try, ast.Match)):
                return None
            if isinstance(parent, ast.If) and child is not parent.test:
                truth = _truth(parent.test, self._known(scope, parent.test.lineno))
                if truth is None:
                    return None
                if truth != any(child is statement for statement in parent.body):
                    return False
            child, parent = parent, self._parents.get(id(parent))
        return True

    def _known(self, scope: ast.AST | None, line: int | None) -> dict[str, object]:
        """Names whose value is a known constant at ``line``: in a function called with no arguments, each parameter
        whose default is a constant and which nothing in the body bound before that line."""
        arguments = getattr(scope, "args", None)
        if arguments is None:
            return {}
        assigned = {inner.id for node in _region(getattr(scope, "body", []))
                    if line is None or getattr(node, "lineno", 0) < line
                    for target in _targets(node) if target is not None
                    for inner in ast.walk(target) if isinstance(inner, ast.Name)}
        return {name: default.value for name, default in _defaults(arguments)
                if isinstance(default, ast.Constant) and name not in assigned}

    def _taken(self, node: ast.IfExp | ast.BoolOp, known: dict[str, object]) -> list[ast.AST]:
        """The operand a conditional expression or ``a or b`` / ``a and b`` evaluates to, where ``known`` tells."""
        if isinstance(node, ast.IfExp):
            truth = _truth(node.test, known)
            return [] if truth is None else [node.body if truth else node.orelse]
        for index, operand in enumerate(node.values):
            truth = _truth(operand, known)
            last = index == len(node.values) - 1
            if last or truth == isinstance(node.op, ast.Or):  # or: the first true; and: the first false
                return [operand]
            if truth is None:
                return []
        return []

    def uses(self, module: str) -> bool:
        """Whether the cell refers to ``module`` (through any name it was imported as)."""
        return any(name == module or name.startswith(module + ".")
                   for node in self._nodes() if isinstance(node, (ast.Name, ast.Attribute))
                   for name in [self.dotted(node)] if name is not None)

    def draws_from(self, namespace: str) -> bool:
        """Whether the cell names something in ``namespace`` that is not a generator's constructor nor a call
        that seeds, reads or puts back state: ``np.random.rand``, not ``np.random.RandomState`` nor ``np.empty``."""
        inner = {id(node.value) for node in self._nodes() if isinstance(node, ast.Attribute)}
        return any(name.startswith(namespace + ".") and name.rsplit(".", 1)[-1] not in _NOT_DRAWING
                   and name not in VARYING  # random.SystemRandom: the OS's entropy, not the module's generator
                   for node in self._nodes() if isinstance(node, (ast.Name, ast.Attribute)) and id(node) not in inner
                   for name in [self.dotted(node)] if name is not None)

    def restores(self) -> bool:
        """Whether the cell saves and puts back a generator's state (``fork_rng``, ``get_state``/``set_state``)."""
        return any(name.rsplit(".", 1)[-1] in RESTORES for name, _ in self.calls())

    def created_unseeded(self, name: str, constructors: frozenset[str] = CONSTRUCTORS) -> bool:
        """Whether the statement that binds ``name`` calls one of ``constructors`` (those of its kind: a
        ``torch.Generator()`` starts from a fixed seed) with no seed, and no later call in the cell seeds it."""
        node = self._binding(name)
        value = getattr(node, "value", None) if node is not None else None
        return value is not None and any(self._constructs(node, seeded=False, names=constructors)
                                         for node in ast.walk(value)) and not self.seeds_user(name)

    def seeds_user(self, name: str) -> bool:
        """Whether the cell seeds the notebook's generator ``name`` by its own method (``g.manual_seed(N)``)."""
        return any(called in (f"{name}.seed", f"{name}.manual_seed") and not _unseeded(call)
                   for called, call in self.calls())

    def binds(self, name: str) -> bool:
        """Whether the cell binds ``name``: assigns it, or defines a function or class of that name."""
        return bool(self._definitions({name}))

    def computes(self, name: str) -> bool:
        """Whether what binds ``name`` in the cell calls something (a constructor, a function), unlike a literal."""
        return any(isinstance(node, ast.Call) for definition in self._definitions({name})
                   for node in ast.walk(definition))

    def reads_within(self, names: set[str]) -> set[str]:
        """The names read by what binds ``names`` in the cell (the body of a function it defines, say)."""
        return {inner.id for node in self._definitions(names) for inner in ast.walk(node)
                if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load)}

    def _definitions(self, names: set[str]) -> list[ast.AST]:
        """The statements that bind ``names``: their assignments, and the functions and classes of those names."""
        return [*(node for name in names for node in [self._binding(name)] if node is not None),
                *(node for node in self._nodes() if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                      ast.ClassDef)) and node.name in names)]

    def assignment(self, name: str) -> str | None:
        """The line that binds ``name`` (``rngs[0]`` is bound by ``rngs = ...``), else None."""
        node = self._binding(name)
        return None if node is None else self.line(_position(node)[0] or 1)

    def _binding(self, name: str) -> ast.AST | None:
        """The statement that binds ``name`` (``rngs[0]``: ``rngs``): the last assignment to it at the cell's top
        level (what it holds after the cell, where every one ran: not a first value a branch replaced); else the
        first in the cell that assigns to it or to a part of it (``rngs[0] = ...``; a ``global`` in a function)."""
        base = name.split("[", 1)[0]
        assigned = [node for node, target in self._top_bindings.get(base, [])
                    if target is not None and not isinstance(node, (ast.Import, ast.ImportFrom))]
        if assigned:
            return max(assigned, key=_position)
        for node in sorted(self._nodes(), key=_position):
            targets: list[ast.AST | None] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.NamedExpr)):
                targets = [node.target]
            elif isinstance(node, ast.withitem):
                targets = [node.optional_vars]
            for target in targets:
                if target is not None and any(isinstance(inner, ast.Name) and inner.id == base
                                              for inner in ast.walk(target)):
                    return node
        return None

    def line(self, number: int) -> str:
        """Line ``number`` as written (as IPython runs it where the transformer changed the line count)."""
        lines = self._lines
        return lines[number - 1].strip() if 0 < number <= len(lines) else ""

    @cached_property
    def _lines(self) -> list[str]:
        written, run = _body(self.source).splitlines(), self.code.splitlines()
        return written if len(written) == len(run) else run
