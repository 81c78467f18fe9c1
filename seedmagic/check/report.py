"""Reports: the table, the evidence under each verdict, JSON lines, progress and bad-input lines."""

from __future__ import annotations

import difflib
import pathlib
import sys
from collections.abc import Sequence
from typing import Any

from .model import ERROR, NOT_REPRODUCIBLE, REPRODUCIBLE, Result

#: Evidence is shortened to this many characters per run, and a diff to this many lines.
SHORT, DIFF_LINES = 300, 16


def output_text(outputs: Sequence[Any]) -> str:
    """What a cell showed, as text: streams, the plain form of results (images by type), errors."""
    parts = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            parts.append(output.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            plain = data.get("text/plain")
            rich = [mime for mime in data if mime != "text/plain"]
            parts.append((plain if isinstance(plain, str) else "") + ("\n" if plain else "")
                         + "".join(f"<{mime}>\n" for mime in rich if not plain))
        elif kind == "error":
            parts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}\n")
    return "".join(parts)


def shorten(text: str, limit: int = SHORT) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def evidence(first: str, second: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """Both runs' outputs shortened (for JSON), and the lines that show them: side by side, or as a diff."""
    shown = {"first": shorten(first), "second": shorten(second)}
    if first == second:
        return shown, ()
    a, b = first.splitlines(), second.splitlines()
    if len(a) <= 3 and len(b) <= 3:
        start = next((i for i, (x, y) in enumerate(zip(first, second, strict=False)) if x != y),
                     min(len(first), len(second)))
        if max(len(first), len(second)) > SHORT:  # one long line: show where they part
            begin = max(0, start - 60)
            first, second = "..." + first[begin:begin + 160], "..." + second[begin:begin + 160]
        return shown, (f"first run:  {first.rstrip()!s}", f"second run: {second.rstrip()!s}")
    diff = list(difflib.unified_diff(a, b, "first run", "second run", n=1, lineterm=""))
    lines = tuple(shorten(line, 160) for line in diff[:DIFF_LINES])
    return shown, lines + ((f"... ({len(diff) - DIFF_LINES} more lines of diff)",) if len(diff) > DIFF_LINES else ())


def table(results: Sequence[Result]) -> str:
    """The short table, then one paragraph per notebook that does not reproduce (bad input has its own line)."""
    results = [result for result in results if result.status != ERROR]
    if not results:
        return ""
    header = ("notebook", "result", "cell", "cause", "time")
    words = {REPRODUCIBLE: "reproducible", NOT_REPRODUCIBLE: "NOT reproducible"}
    rows = [(result.notebook, words[result.status], "-" if result.cell is None else str(result.cell),
             result.cause or "-", f"{result.seconds:.1f} s") for result in results]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    for result in results:
        if result.reproducible and not result.note:
            continue
        lines += ["", result.notebook]
        if not result.reproducible:
            lines.append(f"  {result.reason}")
            lines += [f"    {line}" for line in result.evidence]
        if result.fix:
            lines.append(f"  fix: {result.fix}")
        if result.later:
            lines.append(f"  later cells that differ too: {', '.join(map(str, result.later[:12]))}"
                         + (" ..." if len(result.later) > 12 else ""))
        if result.note:
            lines.append(f"  {result.note}")
    return "\n".join(lines)


def bad_input_lines(results: Sequence[Result]) -> list[str]:
    """One line per notebook that could not be checked (with its fix where there is one)."""
    return [f"seedmagic check: {result.notebook}: {result.reason}" + (f"; fix: {result.fix}" if result.fix else "")
            for result in results if result.status == ERROR]


def exit_code(results: Sequence[Result]) -> int:
    """2 if any notebook could not be checked, else 1 if any does not reproduce, else 0."""
    return max((result.exit_code for result in results), default=2)


class Progress:
    """A progress bar on stderr while the kernels run (plain lines when stderr is not a terminal)."""

    def __init__(self, stream: Any = None, enabled: bool = True) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.running: dict[str, list[int]] = {}

    def start(self, name: str, cells: int, runs: int) -> None:
        self.running[name] = [0] * runs + [cells]
        if self.enabled and not self.tty:
            print(f"seedmagic check: {name}: {runs} kernels, {cells} code cells", file=self.stream, flush=True)
        self._draw()

    def step(self, name: str, run: int, done: int) -> None:
        if name in self.running:
            self.running[name][run] = done
            self._draw()

    def say(self, name: str, what: str) -> None:
        """A line about a stage beyond the two runs (an extra kernel that explains a divergence)."""
        if self.enabled and not self.tty:
            print(f"seedmagic check: {name}: {what}", file=self.stream, flush=True)

    def finish(self, result: Result) -> None:
        self.running.pop(result.notebook, None)
        if self.enabled and not self.tty and result.status != ERROR:  # bad input has its own line
            print(f"seedmagic check: {result.notebook}: {result.status} ({result.seconds:.1f} s)", file=self.stream,
                  flush=True)
        elif self.tty:
            self.clear()
            self._draw()

    def clear(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def _draw(self) -> None:
        if not self.tty or not self.running:
            return
        parts = []
        for name, (*done, total) in self.running.items():
            share = min(done) / total if total else 1.0
            bar = "#" * round(20 * share) + "-" * (20 - round(20 * share))
            parts.append(f"[{bar}] {pathlib.Path(name).name} {min(done)}/{total}")
        self.stream.write("\r\033[K" + "  ".join(parts))
        self.stream.flush()
