"""The magics' line: its options, where the seed and options end and a statement starts.

``%seed`` and ``%%seeded`` read their line with ``magic_arguments`` (argparse)
once ``split_line`` has cut off the statement; a line that is a seed alone,
the usual one, skips argparse for the parser's own defaults (``defaults``).
"""

from __future__ import annotations

import argparse
import weakref
from typing import Any

from IPython.core.magic_arguments import argument


class _Once(argparse.Action):
    """An option that may be given once: a second value would silently replace the first."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        if getattr(namespace, self.dest) is not None:
            raise argparse.ArgumentError(self, "given twice; give it once")
        setattr(namespace, self.dest, values)


SCOPE_OPTIONS = (
    argument("--only", metavar="NAMES", action="append",
             help="seed only these generators (comma-separated, e.g. numpy,torch; may be repeated)"),
    argument("--skip", metavar="NAMES", action="append", help="leave these generators alone (may be repeated)"),
    argument("--keep", action="store_true", help="do not restore: the streams go on from where the code left them"),
    argument("--name", metavar="LABEL", action=_Once,
             help="run under a seed derived from the seed (or session seed) and LABEL"),
    argument("--deterministic", action="store_true",
             help="torch deterministic algorithms and cuDNN settings (for the scope; on the line form they stay on)"),
    argument("--per-rank", action="store_true",
             help="derive a distinct seed for this process's rank (torch.distributed, else RANK)"),
)
LINE_ONLY_OPTIONS = (
    argument("--history", action="store_true", help="list every seeding of this session"),
    argument("--save", metavar="PATH", action=_Once, help="write every generator's full state to PATH (JSON)"),
    argument("--load", metavar="PATH", action=_Once, help="put every generator back in the state saved in PATH"),
)
#: Options that take a value: the token after them belongs to them.
_VALUED = {"--only", "--skip", "--name", "--save", "--load"}


def with_options(options: tuple[Any, ...]) -> Any:
    """Add ``options`` to a magic, in the order they are listed."""

    def add(magic: Any) -> Any:
        for option in reversed(options):
            magic = option(magic)
        return magic

    return add


def _tokens(line: str) -> list[tuple[int, str]]:
    """Split on whitespace, keeping quoted text and ``{expr}`` groups whole; with start offsets."""
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


def _is_option(token: str, after_seed: bool) -> bool:
    """Before the seed anything dashed but a number is an option; after it, only ``--word``."""
    if after_seed:
        return token.startswith("--") and token[2:3].isalpha()
    return token.startswith("-") and not token[1:2].isdigit()


def split_line(line: str) -> tuple[str, str]:
    """The options and seed as written (up to a ``#`` comment), and the raw statement after the seed.

    Options may stand before or after the seed; the statement starts at the
    first token after the seed that is not an option.
    """
    head: list[str] = []
    seen_seed = value_due = False
    for start, token in _tokens(line):
        if token.startswith("#") and not value_due:
            break
        if value_due:
            value_due = False
        elif _is_option(token, seen_seed):
            value_due = token.split("=", 1)[0] in _VALUED and "=" not in token
        elif not seen_seed:
            seen_seed = True
            token = token.removesuffix(";")  # "%seed 10;" silences nothing, but is no error
        else:
            statement = line[start:].strip()
            return " ".join(head), "" if _says_nothing(statement) else statement
        head.append(token)
    return " ".join(head), ""


def _says_nothing(statement: str) -> bool:
    """``;`` and comments alone are no statement: ``%seed 10 ;`` seeds, as ``%seed 10`` does."""
    return statement.replace(";", " ").strip().startswith("#") or not statement.replace(";", " ").strip()


def defaults(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """What ``parser`` gives for an empty line, worked out once per parser (a magic's parser never changes)."""
    defaults = _parser_defaults.get(parser)
    if defaults is None:
        defaults = _parser_defaults[parser] = vars(parser.parse_args([]))
    return defaults


_parser_defaults: weakref.WeakKeyDictionary[argparse.ArgumentParser, dict[str, Any]] = weakref.WeakKeyDictionary()
