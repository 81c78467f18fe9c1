"""IPython glue: the ``%seed`` and ``%%seeded`` magics over ``seedmagic.core``.

Imported only by ``load_ipython_extension``. Every error the user can cause
is a plain ``UsageError`` with a one-line message, raised before anything is
seeded; the cell's own exceptions pass through untouched. Cells and
statements go through IPython's own pipeline (``transform_cell``,
``transform_ast``, ``ast_node_interactivity``, the ``;`` rule of
``@output_can_be_silenced``), as ``%%time`` does. The core (scopes,
snapshots, state files) is imported by the first magic that needs it, not at
``%load_ext``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import (
    Magics,
    cell_magic,
    line_magic,
    magics_class,
    needs_local_scope,
    no_var_expand,
    output_can_be_silenced,
)
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.utils.text import DollarFormatter
from traitlets import Bool, Int, TraitError, observe, validate

from . import importhook
from .cellcode import CellCode
from .magicline import LINE_ONLY_OPTIONS, SCOPE_OPTIONS, defaults, split_line, with_options
from .session import SeedError, seeding_as
from .status import MAX_K, MAX_PRECISION, MIN_K, MIN_PRECISION, collect, history_text, text_table
from .watch import follow, unfollow

if TYPE_CHECKING:
    from . import core


@contextmanager
def _usage_errors() -> Iterator[None]:
    """Turn the core's ``SeedError`` into the one-line ``UsageError`` IPython prints plainly."""
    try:
        yield
    except SeedError as error:
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
        help=f"Decimals for every draw shown ({MIN_PRECISION} to {MAX_PRECISION}); None shows each library's own "
             "(NumPy 8, torch 4).",
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
        if value is not None and not MIN_PRECISION <= value <= MAX_PRECISION:
            raise TraitError(f"SeedMagics.precision must be from {MIN_PRECISION} to {MAX_PRECISION} or None, "
                             f"got {value}")
        return value

    @observe("peek", "precision")
    def _settings_changed(self, _change: dict[str, Any]) -> None:
        """An open panel takes new settings at once (without a panel, ipywidgets stays unimported)."""
        if "seedmagic.widget" in sys.modules:
            from .widget import update_shared_panel

            update_shared_panel(k=self.peek, precision=self.precision)

    def show_status(self) -> None:
        """The live panel where widgets render (a Jupyter kernel), else the text table with the cell markers."""
        if _widgets_render(self.ip):
            from IPython.display import display

            from .widget import shared_panel

            display(shared_panel(self.ip, k=self.peek, precision=self.precision))
        else:
            status = follow(self.ip).watch.mark(collect(self.peek, self.ip.user_ns, self.ip.user_ns_hidden))
            print(text_table(status, self.precision))

    @magic_arguments()
    @with_options(SCOPE_OPTIONS + LINE_ONLY_OPTIONS)
    @argument("seed", nargs="?", help="an integer from 0 to 4294967295; $var and {expr} work")
    @output_can_be_silenced
    @no_var_expand
    @needs_local_scope
    @line_magic
    def seed(self, line: str = "", local_ns: dict[str, Any] | None = None) -> Any:
        """Seed Python's random, NumPy and PyTorch (every device) at once, or show their status.

        ``%seed`` shows each generator's last seed and its next draws, taken
        without consuming them. ``%seed 10`` is ``random.seed(10)``,
        ``np.random.seed(10)`` and ``torch.manual_seed(10)`` bit for bit, and
        makes 10 the session seed that ``%%seeded`` uses by default; a library
        imported later is seeded with it on import. ``%seed 10 stmt`` runs one
        statement under seed 10, restores every generator and returns its
        value. Options go before the statement; the statement itself is not
        ``$``-expanded, like ``%time``'s.

        Examples::

            %seed 10
            %seed --only numpy,torch 10
            %seed 10 np.random.rand(5)
            %seed --save state.json
            %seed --history
        """
        __tracebackhide__ = True
        head, statement = split_line(line)
        with self._parsing(head, local_ns) as (parse, undo):
            job = self._line_job(parse(self.seed.parser), statement, undo)
            if not statement:  # seeding, files, status: a refusal here also undoes what the expansion drew
                return job(local_ns)
        return job(local_ns)  # the statement is the user's code: its own errors are no refusal

    def _line_job(self, args: argparse.Namespace, statement: str,
                  undo: Callable[[], None]) -> Callable[[dict[str, Any] | None], Any]:
        """Check a ``%seed`` line completely and return what it asks for; nothing has moved yet (``undo``
        puts back what expanding the line drew, should the scope refuse to open)."""
        from . import core, determinism, statefile

        files = [option for option in ("history", "save", "load") if getattr(args, option) not in (None, False)]
        if files:
            self._refuse_with_file_options(args, files, statement)
            if files[0] != "history":
                statefile.expand(getattr(args, files[0]))  # an empty name, or {rank} misspelt: refused now
            return lambda _: self._file_or_history(args)
        if args.seed is None:
            if any((args.only, args.skip, args.keep, args.name is not None, args.deterministic, args.per_rank)):
                raise UsageError("give a seed: %seed [options] SEED [statement]")
            return lambda _: self.show_status()
        if statement.startswith(";"):
            raise UsageError("the statement starts with ';' (IPython would quote the rest): "
                             "put the statement on its own line after %seed SEED")
        if statement:
            code, scope = CellCode(self.ip, statement, "the statement"), self._scope(args)
            return lambda local_ns: self._run_scoped("%seed", scope, code, local_ns, undo)
        if args.keep or args.name is not None:
            option = "--keep" if args.keep else "--name"
            raise UsageError(f"{option} needs a statement or a %%seeded cell; %seed SEED alone already keeps")
        number, only, skip = core.parse_seed(args.seed), _names(args.only), _names(args.skip)
        core.select(only, skip)
        if args.deterministic:
            determinism.torch_for_determinism()
        return lambda _: self._seed_globally(number, only, skip, args)

    def _seed_globally(self, number: int, only: str | None, skip: str | None, args: argparse.Namespace) -> None:
        from . import core

        with _usage_errors(), seeding_as("%seed"):
            core.seed(number, only=only, skip=skip, deterministic=args.deterministic, per_rank=args.per_rank)
        if self.show_panel:
            self.show_status()

    @magic_arguments(name="%seeded")
    @with_options(SCOPE_OPTIONS)
    @argument("seed", nargs="?", help="an integer from 0 to 4294967295; default: the session seed, else a fresh one")
    @output_can_be_silenced
    @no_var_expand
    @cell_magic
    def seeded(self, line: str, cell: str) -> Any:
        """Run the cell under a seed, then put every generator back exactly as it was.

        The cell behaves as in a normal cell: its values are shown as
        ``ast_node_interactivity`` says (a trailing ``;`` hides the last one;
        the statement still runs), and its exceptions stop "Run All";
        generators are restored even then. With no seed the session seed
        (``%seed N``) is used; with none of those a fresh seed is drawn from
        OS entropy and printed so the run can be replayed. ``await`` is not
        supported inside the cell.

        Examples::

            %%seeded 10
            %%seeded --only numpy 10
            %%seeded --keep 10
            %%seeded --name train --deterministic
        """
        __tracebackhide__ = True
        head, rest = split_line(line)
        with self._parsing(head, None) as (parse, undo):
            if rest:
                raise UsageError(f"%%seeded takes options and one seed; {rest[:40]!r} is neither")
            scope = self._scope(parse(self.seeded.parser))
            code = CellCode(self.ip, cell, "the cell", first_line="%%seeded " + line)
        return self._run_scoped("%%seeded", scope, code, None, undo)

    @contextmanager
    def _parsing(self, head: str, local_ns: dict[str, Any] | None) -> Iterator[tuple[_Parse, Callable[[], None]]]:
        """Expand ``$var``/``{expr}`` in ``head``, then validate; a refusal undoes what the expansion drew.

        Expanding runs the user's expressions, which may draw from a
        generator: their states are captured first and put back if the line
        is then refused, so a refused line changes nothing. Gives the parser
        and the undoing, for a scope that refuses to open after the parsing
        (a bad ``RANK``).
        """
        from . import core

        expands = "$" in head or "{" in head
        with _usage_errors():  # a generator whose state cannot be read (NumPy's swapped bit generator): one line
            before = core.snapshot() if expands else None

        def parse(parser: Any) -> argparse.Namespace:
            if head.isascii() and head.isdigit():  # ``%%seeded 10``, the usual line: a seed and no option
                return argparse.Namespace(**{**defaults(parser), "seed": head})
            text = head
            if expands:
                try:
                    namespace = {**self.ip.user_ns, **(local_ns or {})}
                    text = DollarFormatter().vformat(head, args=[], kwargs=namespace)
                except Exception:  # as IPython does: an expression that fails stays as written
                    text = head
            try:
                argv = shlex.split(text)
            except ValueError as error:
                raise UsageError(f"cannot read the options: {error}") from None
            parsed: argparse.Namespace = parser.parse_args(argv)
            return parsed

        def undo() -> None:
            if before is not None:
                before.restore()

        try:
            with _usage_errors():
                yield parse, undo
        except UsageError:
            undo()
            raise

    def _scope(self, args: argparse.Namespace) -> core.seeded:
        from . import core

        seed = None if args.seed is None else core.parse_seed(args.seed)
        return core.seeded(seed, only=_names(args.only), skip=_names(args.skip), keep=args.keep, name=args.name,
                           deterministic=args.deterministic, per_rank=args.per_rank)

    @staticmethod
    def _refuse_with_file_options(args: argparse.Namespace, actions: list[str], statement: str) -> None:
        """``--history``, ``--save PATH`` and ``--load PATH`` go alone, without seed or other options."""
        others = [f"--{name.replace('_', '-')}" for name in ("only", "skip", "keep", "name", "deterministic",
                                                             "per_rank") if getattr(args, name) not in (None, False)]
        if len(actions) > 1 or others or args.seed is not None or statement:
            extra = others + [f"--{name}" for name in actions[1:]] + ([args.seed] if args.seed else [])
            raise UsageError(f"--{actions[0]} goes alone: drop {' '.join(extra) or statement[:40]}")

    def _file_or_history(self, args: argparse.Namespace) -> None:
        from . import core, statefile
        from .snapshots import Snapshot

        with _usage_errors():
            if args.history:
                print(history_text())
            elif args.save is not None:
                snapshot = core.snapshot()
                print(f"saved {', '.join(snapshot.names)} to {snapshot.save(args.save)}")
            else:
                snapshot = Snapshot.load(args.load)
                snapshot.restore()
                print(f"loaded {', '.join(snapshot.names)} from {statefile.expand(args.load)}")

    def _run_scoped(self, source: str, scope: core.seeded, code: CellCode, local_ns: dict[str, Any] | None,
                    undo: Callable[[], None]) -> Any:
        __tracebackhide__ = True
        entered = False
        try:
            with seeding_as(source), scope as number:
                entered = True
                self._announce(scope, number)
                return code.run(self.ip.user_ns, local_ns)
        except SeedError as error:
            if entered:  # the cell's own, or the scope's exit: as raised
                raise
            undo()  # refused on entry (a bad RANK, a library that cannot be seeded): the line changes nothing
            raise UsageError(str(error)) from None

    @staticmethod
    def _announce(scope: core.seeded, number: int) -> None:
        """Say which seed ran when the user could not know it from what they typed."""
        if scope.name is not None:
            base = "entropy seed" if scope.drawn else "seed"
            print(f"seeded with {number} (derived from {base} {scope.base} and {scope.name!r}): "
                  f"rerun with %%seeded {number}")
        elif scope.drawn:
            print(f"seeded with {number}: rerun with %%seeded {number}")


#: Parses a magic's line with the magic's parser.
_Parse = Callable[[Any], argparse.Namespace]


def _names(values: list[str] | None) -> str | None:
    """Repeated ``--only a --only b`` merged into ``a,b``."""
    return None if values is None else ",".join(values)


def _widgets_render(shell: InteractiveShell) -> bool:
    """Widgets render only in a frontend attached to a kernel, and only if ipywidgets imports."""
    if getattr(shell, "kernel", None) is None:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def load(ipython: InteractiveShell) -> None:
    """Register the magics and start the cell watch; a second call does nothing."""
    if SeedMagics.__name__ not in ipython.magics_manager.registry:
        ipython.register_magics(SeedMagics)
    follow(ipython)
    importhook.install()  # notes the state each library is imported in, for the cell markers


def unload(ipython: InteractiveShell) -> None:
    """Remove what ``load`` added. Seeds already due stay due: the import hook is the core's, not the glue's."""
    manager = ipython.magics_manager
    manager.magics["line"].pop("seed", None)
    manager.magics["cell"].pop("seeded", None)
    magics = manager.registry.pop(SeedMagics.__name__, None)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
    if "seedmagic.widget" in sys.modules:
        from .widget import close_shared_panel

        close_shared_panel()
    unfollow(ipython)
