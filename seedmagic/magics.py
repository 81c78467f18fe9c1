"""IPython glue: the ``%seed`` and ``%%seeded`` magics over ``seedmagic.core``.

Imported only by ``load_ipython_extension``. Every error the user can cause
is a plain ``UsageError`` with a one-line message, raised before anything is
seeded; the cell's own exceptions pass through untouched.
"""

from __future__ import annotations

import argparse
import ast
import functools
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import CodeType
from typing import Any

from IPython.core.displayhook import DisplayHook
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import (
    Magics,
    cell_magic,
    line_magic,
    magics_class,
    needs_local_scope,
    no_var_expand,
)
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.utils.text import DollarFormatter
from traitlets import Bool, Int, TraitError, observe, validate

from . import core, state
from .state import Snapshot, seeding_as
from .status import MAX_K, MIN_K, collect, history_text, text_table

_SCOPE_OPTIONS = (
    argument("--only", metavar="NAMES", help="seed only these generators (comma-separated, e.g. numpy,torch)"),
    argument("--skip", metavar="NAMES", help="leave these generators alone (comma-separated)"),
    argument("--keep", action="store_true", help="do not restore: the streams go on from where the code left them"),
    argument("--name", metavar="LABEL", help="run under a seed derived from the seed (or session seed) and LABEL"),
    argument("--deterministic", action="store_true",
             help="torch deterministic algorithms and cuDNN settings (for the scope; on the line form they stay on)"),
)
_LINE_ONLY_OPTIONS = (
    argument("--history", action="store_true", help="list every seeding of this session"),
    argument("--save", metavar="PATH", help="write every generator's full state to PATH (JSON)"),
    argument("--load", metavar="PATH", help="put every generator back in the state saved in PATH"),
)


def _with(options: tuple[Any, ...]) -> Any:
    """Add ``options`` to a magic, in the order they are listed."""

    def add(magic: Any) -> Any:
        for option in reversed(options):
            magic = option(magic)
        return magic

    return add


#: What IPython's input transformers act on: magics, shell escapes, help, autocall escapes, pasted
#: prompts, blank lines that hold spaces, and line breaks other than "\n".
_IPYTHON_SYNTAX = re.compile(
    r"[%!?\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]|^[ \t]*(?:>>>|\.\.\.|In \[|[/,;])|^[ \t]+$", re.MULTILINE)


@functools.lru_cache(maxsize=1)
def _default_cleanup_transforms() -> list[Any]:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().cleanup_transforms


def is_plain(shell: InteractiveShell, source: str) -> bool:
    """Whether IPython's input transformers would leave ``source`` as it is (but for a final newline).

    They take longer than the rest of a ``%%seeded`` cell's own work, and
    only act on IPython syntax, on blank or indented leading lines, and where
    a user added transformers of their own.
    """
    return not (shell.input_transformers_post or shell.input_transformers_cleanup != _default_cleanup_transforms()
                or not source[:1] or source[:1].isspace() or _IPYTHON_SYNTAX.search(source))


def transform(shell: InteractiveShell, source: str) -> str:
    """``shell.transform_cell(source)``, skipped where it would change nothing."""
    if is_plain(shell, source):
        return source if source.endswith("\n") else source + "\n"
    return shell.transform_cell(source)


def _silenced(source: str, transformed: str, last: ast.Expr) -> bool:
    """Whether a ``;`` after the last expression hides its value, as in any cell.

    Plain Python is read from the AST's end position; anything else asks
    IPython, which tokenizes the cell (that costs more than a scope).
    """
    if transformed.rstrip("\n") != source.rstrip("\n"):
        return DisplayHook.semicolon_at_end_of_expression(source)
    lines = transformed.splitlines(keepends=True)
    end_line = lines[last.end_lineno - 1] if last.end_lineno else ""
    rest = end_line.encode("utf-8")[last.end_col_offset or 0:].decode("utf-8", "replace")
    rest += "".join(lines[last.end_lineno or len(lines):])  # only blanks, comments and ';' can follow
    return re.sub(r"#[^\n]*", "", rest).lstrip().startswith(";")


class _Code:
    """A cell compiled the way IPython runs one: a body, then its last expression."""

    def __init__(self, shell: InteractiveShell, source: str, what: str) -> None:
        try:
            transformed = transform(shell, source)
            tree = shell.transform_ast(shell.compile.ast_parse(transformed))
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            filename = shell.compile.cache(transformed, shell.execution_count, raw_code=source)
            self.body: CodeType = shell.compile(tree, filename, "exec")
            self.last: CodeType | None = (
                None if last is None or _silenced(source, transformed, last)
                else shell.compile(ast.Expression(last.value), filename, "eval")
            )
        except SyntaxError as error:
            raise UsageError(f"{what} is not valid Python: {error.msg} (line {error.lineno})") from None

    def run(self, globals_: dict[str, Any], locals_: dict[str, Any] | None) -> Any:
        """Execute and return the last expression's value (None if the code ends in a statement)."""
        __tracebackhide__ = True  # the user's traceback starts in their own code
        exec(self.body, globals_, locals_)
        return None if self.last is None else eval(self.last, globals_, locals_)


def _tokens(line: str) -> list[tuple[int, str]]:
    """Split on whitespace, keeping quoted text and ``{expr}`` groups whole; with start offsets.

    Like ``arg_split(posix=False)``, but a ``{n + 1}`` seed stays one token
    and an unbalanced quote or brace just runs to the end of the line.
    """
    tokens: list[tuple[int, str]] = []
    position = 0
    while position < len(line):
        if line[position].isspace():
            position += 1
            continue
        start, depth, quote = position, 0, ""
        while position < len(line) and (depth or quote or not line[position].isspace()):
            char = line[position]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "{":
                depth += 1
            elif char == "}" and depth:
                depth -= 1
            position += 1
        tokens.append((start, line[start:position]))
    return tokens


def _parse_options(magic: Any, line: str) -> argparse.Namespace:
    try:
        return parse_argstring(magic, line)
    except ValueError as error:  # shlex: unbalanced quotes
        raise UsageError(f"cannot read the options: {error}") from None


def _unquote(path: str) -> str:
    """A path as typed, without the quotes that keep its spaces together."""
    return path[1:-1] if len(path) > 1 and path[0] == path[-1] and path[0] in "'\"" else path


def _seed_arg(text: str | None) -> int | None:
    return None if text is None else core.parse_seed(text)


@contextmanager
def _usage_errors() -> Iterator[None]:
    """Turn the core's ``SeedError`` into the one-line ``UsageError`` IPython prints plainly."""
    try:
        yield
    except core.SeedError as error:
        raise UsageError(str(error)) from None


@magics_class
class SeedMagics(Magics):
    """``%seed`` and ``%%seeded``; errors are ``UsageError`` and come before any seeding.

    Settings are traitlets: ``%config SeedMagics.peek = 8`` in a session, or
    ``c.SeedMagics.peek = 8`` in ``ipython_config.py``.
    """

    peek = Int(5, help=f"Draws the status shows per generator ({MIN_K} to {MAX_K}).").tag(config=True)
    show_panel = Bool(False, help="Whether %seed N also shows the status (panel or table).").tag(config=True)
    precision = Int(
        None, allow_none=True,
        help="Decimals for every draw shown (1 to 17); None shows each library's own (NumPy 8, torch 4).",
    ).tag(config=True)

    @property
    def ip(self) -> InteractiveShell:
        """The shell (always set: the magics are registered on one)."""
        assert self.shell is not None
        return self.shell

    @validate("peek")
    def _valid_peek(self, proposal: dict[str, Any]) -> int:
        if not MIN_K <= proposal["value"] <= MAX_K:
            raise TraitError(f"SeedMagics.peek must be from {MIN_K} to {MAX_K}, got {proposal['value']}")
        return proposal["value"]

    @validate("precision")
    def _valid_precision(self, proposal: dict[str, Any]) -> int | None:
        value = proposal["value"]
        if value is not None and not 1 <= value <= 17:
            raise TraitError(f"SeedMagics.precision must be from 1 to 17 or None, got {value}")
        return value

    @observe("peek", "precision")
    def _settings_changed(self, _change: dict[str, Any]) -> None:
        """An open panel takes new settings at once (without a panel, ipywidgets stays unimported)."""
        if not widget_module_loaded():
            return
        from . import widget

        if widget._shared is not None and widget._shared.is_open:
            widget.shared_panel(self.ip, k=self.peek, precision=self.precision)

    def show_status(self) -> None:
        """The live panel where widgets render (a Jupyter kernel), else the text table."""
        if _widgets_render(self.ip):
            from IPython.display import display

            from .widget import shared_panel

            display(shared_panel(self.ip, k=self.peek, precision=self.precision))
        else:
            print(text_table(collect(self.peek, self.ip.user_ns), self.precision))

    @magic_arguments()
    @_with(_SCOPE_OPTIONS + _LINE_ONLY_OPTIONS)
    @argument("seed", nargs="?", help="an integer from 0 to 4294967295; $var and {expr} work")
    @argument("statement", nargs=argparse.REMAINDER, help="run only this statement under the seed, then restore")
    @no_var_expand
    @needs_local_scope
    @line_magic
    def seed(self, line: str = "", local_ns: dict[str, Any] | None = None) -> Any:
        """Seed Python's random, NumPy and PyTorch (every device) at once, or show their status.

        ``%seed`` shows each generator's last seed and its next draws, taken
        without consuming them. ``%seed 10`` is ``random.seed(10)``,
        ``np.random.seed(10)`` and ``torch.manual_seed(10)`` bit for bit, and
        makes 10 the session seed that ``%%seeded`` uses by default; a library
        imported later is seeded with it on import. ``%seed 10 expr`` runs one
        statement under seed 10, restores every generator and returns the value.
        The statement itself is not ``$``-expanded, like ``%time``'s.

        Examples::

            %seed 10
            %seed --only numpy,torch 10
            %seed 10 np.random.rand(5)
            %seed --save state.json
            %seed --history
        """
        __tracebackhide__ = True
        args, statement = self._parse_line(line, local_ns)
        actions = [option for option in ("history", "save", "load") if getattr(args, option)]
        if actions:
            return self._file_or_history(args, actions, statement)
        if args.seed is None:
            if any((args.only, args.skip, args.keep, args.name, args.deterministic)):
                raise UsageError("give a seed: %seed [options] SEED [statement]")
            self.show_status()
            return None
        if not statement:
            if args.keep or args.name:
                option = "--keep" if args.keep else "--name"
                raise UsageError(f"{option} needs a statement or a %%seeded cell; %seed SEED alone already keeps")
            with _usage_errors(), seeding_as("%seed"):
                core.seed(core.parse_seed(args.seed), only=args.only, skip=args.skip,
                          deterministic=args.deterministic)
            if self.show_panel:
                self.show_status()
            return None
        code = self._compile_statement(statement)
        return self._run_scoped("%seed", args, code, local_ns)

    def _file_or_history(self, args: argparse.Namespace, actions: list[str], statement: str) -> None:
        """``%seed --history``, ``--save PATH``, ``--load PATH``: alone, without seed or other options."""
        others = [f"--{name}" for name in ("only", "skip", "keep", "name", "deterministic") if getattr(args, name)]
        if len(actions) > 1 or others or args.seed is not None or statement:
            extra = (others + [f"--{name}" for name in actions[1:]] + ([args.seed] if args.seed else []))
            raise UsageError(f"--{actions[0]} goes alone: drop {' '.join(extra) or statement!s}")
        with _usage_errors():
            if args.history:
                print(history_text())
            elif args.save:
                path = _unquote(args.save)
                snapshot = core.snapshot()
                snapshot.save(path)
                print(f"saved {', '.join(snapshot.names)} to {path}")
            else:
                path = _unquote(args.load)
                snapshot = Snapshot.load(path)
                snapshot.restore()
                print(f"loaded {', '.join(snapshot.names)} from {path}")

    @magic_arguments()
    @_with(_SCOPE_OPTIONS)
    @argument("seed", nargs="?", help="an integer from 0 to 4294967295; default: the session seed, else a fresh one")
    @cell_magic
    def seeded(self, line: str, cell: str) -> Any:
        """Run the cell under a seed, then put every generator back exactly as it was.

        The cell behaves as in a normal cell: its last expression is shown and
        its exceptions stop "Run All"; generators are restored even then.
        With no seed the session seed (``%seed N``) is used; with none of those
        a fresh seed is drawn from OS entropy and printed so the run can be
        replayed.

        Examples::

            %%seeded 10
            %%seeded --only numpy 10
            %%seeded --keep 10
            %%seeded --name train --deterministic
        """
        __tracebackhide__ = True
        args = _cell_options(line)
        code = _Code(self.ip, cell, "the cell")
        return self._run_scoped("%%seeded", args, code, None)

    def _parse_line(self, line: str, local_ns: dict[str, Any] | None) -> tuple[argparse.Namespace, str]:
        """Options and seed ($-expanded), and the statement's raw text (not expanded)."""
        tokens = _tokens(line)
        args = self.seed.parser.parse_args([token for _, token in tokens])
        head = tokens[: len(tokens) - len(args.statement)]
        statement = line[tokens[len(head)][0] :].strip() if args.statement else ""
        written = " ".join(token for _, token in head)
        namespace = {**self.ip.user_ns, **(local_ns or {})}
        try:
            expanded = DollarFormatter().vformat(written, args=[], kwargs=namespace)
        except Exception:  # as IPython does: an expression that fails stays as written
            expanded = written
        args = _parse_options(self.seed, expanded)
        if args.statement:
            raise UsageError(f"{' '.join(args.statement)!r} came from expanding the seed; give one integer")
        return args, statement

    def _compile_statement(self, statement: str) -> _Code:
        first = statement.split(None, 1)[0].split("=", 1)[0]
        if first in self.seed.parser._option_string_actions:
            raise UsageError(f"{first} must come before the seed: %seed [options] SEED [statement]")
        return _Code(self.ip, statement, "the statement")

    def _run_scoped(self, source: str, args: argparse.Namespace, code: _Code, local_ns: dict[str, Any] | None) -> Any:
        __tracebackhide__ = True
        with _usage_errors():
            scope = core.seeded(_seed_arg(args.seed), only=args.only, skip=args.skip, keep=args.keep,
                                name=args.name, deterministic=args.deterministic)
        scope.source = source
        with scope as number:
            self._announce(scope, number)
            return code.run(self.ip.user_ns, local_ns)

    @staticmethod
    def _announce(scope: core.seeded, number: int) -> None:
        """Say which seed ran when the user could not know it from what they typed."""
        if scope.name is not None:
            base = "entropy seed" if scope.drawn else "seed"
            print(f"seeded with {number} (derived from {base} {scope.base} and {scope.name!r}): "
                  f"rerun with %%seeded {number}")
        elif scope.drawn:
            print(f"seeded with {number}: rerun with %%seeded {number}")


def widget_module_loaded() -> bool:
    return "seedmagic.widget" in sys.modules


def _widgets_render(shell: InteractiveShell) -> bool:
    """Widgets render only in a frontend attached to a kernel, and only if ipywidgets imports."""
    if getattr(shell, "kernel", None) is None:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=256)
def _cell_options(line: str) -> argparse.Namespace:
    """``%%seeded``'s options; the same line (``10``) comes back cell after cell, so it is parsed once."""
    return _parse_options(SeedMagics.seeded, line)


def load(ipython: InteractiveShell) -> None:
    """Register the magics; a second call does nothing."""
    if SeedMagics.__name__ not in ipython.magics_manager.registry:
        ipython.register_magics(SeedMagics)
    # The running cell's number: IPython counts up when a cell starts, as its displayhook knows.
    state.execution_count = lambda: ipython.execution_count - 1


def unload(ipython: InteractiveShell) -> None:
    """Remove everything ``load`` added, and the import hook."""
    manager = ipython.magics_manager
    manager.magics["line"].pop("seed", None)
    manager.magics["cell"].pop("seeded", None)
    magics = manager.registry.pop(SeedMagics.__name__, None)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
    if widget_module_loaded():
        from .widget import close_shared_panel

        close_shared_panel()
    core.remove_import_hook()
    state.execution_count = lambda: None
