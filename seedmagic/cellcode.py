"""A magic's cell or statement compiled as IPython compiles a cell.

IPython's own pipeline, as ``%%time`` uses it: ``transform_cell``,
``transform_ast``, the ``ast_node_interactivity`` setting and the ``;`` rule
of the display hook; lines cached for tracebacks under the running cell.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from types import CodeType
from typing import Any

from IPython.core.displayhook import DisplayHook
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from .watch import running_cell


def _display_split(body: list[ast.stmt], interactivity: str) -> tuple[list[ast.stmt], list[ast.stmt]]:
    """Which statements run plainly and which show their value, by ``ast_node_interactivity`` (as IPython)."""
    if not body:
        return [], []
    if interactivity == "last_expr_or_assign":
        last = body[-1]
        target = None
        if isinstance(last, ast.Assign) and len(last.targets) == 1:
            target = last.targets[0]
        elif isinstance(last, (ast.AnnAssign, ast.AugAssign)):
            target = last.target
        if isinstance(target, ast.Name):
            shown = ast.Expr(ast.Name(target.id, ast.Load()))
            body = [*body, ast.fix_missing_locations(ast.copy_location(shown, last))]
        interactivity = "last_expr"
    if interactivity == "last_expr":
        interactivity = "last" if isinstance(body[-1], ast.Expr) else "none"
    if interactivity == "all":
        return [], body
    if interactivity == "last":
        return body[:-1], body[-1:]
    return body, []


class CellCode:
    """Code compiled the way IPython runs a cell: transformed, AST-transformed, values shown as configured."""

    def __init__(self, shell: InteractiveShell, source: str, what: str, first_line: str | None = None) -> None:
        """``first_line``: the magic's own line above the body, so line numbers match the cell's."""
        try:
            transformed = shell.transform_cell(source)
            offset = "" if first_line is None else "\n"
            tree = shell.transform_ast(shell.compile.ast_parse(offset + transformed))
            shown_text = transformed if first_line is None else first_line + "\n" + transformed
            filename = shell.compile.cache(shown_text, running_cell(shell) or 0, raw_code=source)
            # A trailing ';' silences the whole cell, as IPython's display hook does for a plain cell (with
            # the default interactivity, @output_can_be_silenced alone hides the one value shown).
            interactivity = shell.ast_node_interactivity
            if interactivity != "last_expr" and DisplayHook.semicolon_at_end_of_expression(source):
                interactivity = "last_expr"
            plain, displayed = _display_split(tree.body, interactivity)
            build: Callable[[ast.mod, str, str], CodeType] = shell.compile  # type: ignore[assignment]
            self.body: CodeType = build(ast.Module(plain, type_ignores=[]), filename, "exec")
            last = displayed.pop() if displayed and isinstance(displayed[-1], ast.Expr) else None
            assert last is None or isinstance(last, ast.Expr)
            self.last = None if last is None else build(ast.Expression(last.value), filename, "eval")
            self.shown = [build(ast.Interactive([node]), filename, "single") for node in displayed]
        except SyntaxError as error:
            message = error.msg or ""
            if "outside" in message and ("await" in message or "async" in message):
                raise UsageError(f"{what} uses await, which %%seeded and %seed cannot run (IPython runs magics "
                                 "synchronously); use 'with seedmagic.seeded(N):' around code without await") from None
            raise UsageError(f"{what} is not valid Python: {message} (line {error.lineno})") from None

    def run(self, globals_: dict[str, Any], locals_: dict[str, Any] | None) -> Any:
        """Execute, showing values as a cell would; return the last expression's value (None if none)."""
        __tracebackhide__ = True  # the user's traceback starts in their own code
        exec(self.body, globals_, locals_)
        for code in self.shown:
            exec(code, globals_, locals_)
        return None if self.last is None else eval(self.last, globals_, locals_)
