"""The verdict on two runs: reproducible, an error, or the first divergent cell with why, the evidence and the fix."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from .compare import Divergence, Runs
from .explain import LOAD, Explainer
from .model import ERROR, NOT_REPRODUCIBLE, REPRODUCIBLE, Options, Result, Run
from .normalise import normaliser, same_error
from .notebooks import IGNORE_OUTPUT_TAGS, tags
from .report import evidence, output_text

#: IPython's answer to a magic it does not know; the check runs the notebook as written, so it meets it too.
_MISSING_MAGIC = re.compile(r"(?:Line magic function|Cell magic) `%{1,2}(seed|seeded)` not found")


def divergences(notebook: Any, runs: Runs, normalise: Callable[[Sequence[Any]], list[Any]]) -> list[Divergence]:
    """Every cell that diverges, in order."""
    found = []
    for position, (a, _) in enumerate(runs.pairs):
        ignore = bool(tags(notebook.cells[a.index]) & IGNORE_OUTPUT_TAGS)
        divergence = runs.divergence(position, normalise, ignore)
        if divergence:
            found.append(divergence)
    return found


def failed_alike(runs: Runs, found: list[Divergence]) -> Result | None:
    """A cell that raised in both runs, before anything diverged or as the first divergence (the message differs):
    the notebook does not run. (With ``--rerun``, a cell whose rerun raised went through once: not this.)"""
    for position, (a, b) in enumerate(runs.pairs):
        if found and found[0].position < position:
            return None
        if a.error is not None and b.error is not None and not b.failed_on_rerun:
            label = f"cell {a.index} (In [{a.count}])"
            missing = _MISSING_MAGIC.search(a.error)
            fix = (f"add {LOAD} above it (at the top of the notebook): plain Jupyter does not know %{missing.group(1)} "
                   "without it") if missing else "fix the cell, or tag it raises-exception if the error is expected"
            what = (f"raised {a.error} in both runs" if same_error(a.error, b.error) else
                    f"raised in both runs, with another message in each: {a.error} in the first, {b.error} in the "
                    "second")
            return Result("", ERROR, a.index, None, "error", f"{label} {what}", fix)
    return None


def verdict(path: str, notebook: Any, a: Run, b: Run, options: Options, hash_order: bool | None = None) -> Result:
    """Compare two runs of ``notebook`` (``b`` reran each cell with ``options.rerun``) and explain the first divergence.

    Runs that agree are not reproducible when a cell seeds from a value that
    varies by nature (the clock): they agreed by chance.

    ``hash_order`` is what two more kernels, given the two runs'
    PYTHONHASHSEED values, showed: True when each reproduced the outputs of
    the run with its hash seed up to the divergent cell (a chance match of a
    varying value in both is unlikely), None where they were not run.
    """
    runs = Runs(a, b, options.rerun)
    normalise = normaliser(options.images, options.sanitisers)
    explainer = Explainer(notebook, runs, hash_order)
    found = [divergence for divergence in divergences(notebook, runs, normalise)
             if not explainer.unseen_states(divergence)]
    failed = failed_alike(runs, found)
    if failed is not None:
        failed.notebook = path
        return failed
    if not found and len(a.cells) != len(b.cells):
        shorter, longer = sorted((a.cells, b.cells), key=len)
        cell = longer[len(shorter)]
        return Result(path, NOT_REPRODUCIBLE, cell.index, None, "error",
                      f"cell {cell.index} (In [{cell.count}]) ran in one run only",
                      "find what the earlier cells' failure depends on")
    chance = None if found else (explainer.first_varying_seeding() or explainer.first_unseeded_value()
                                 or explainer.first_timed_draws())
    if chance is not None:
        position, explained = chance
        return Result(path, NOT_REPRODUCIBLE, runs.pairs[position][0].index, explained.generator, explained.cause,
                      explained.reason, explained.fix)
    if not found:
        what = "a fresh run and one that reran every cell" if options.rerun else "two fresh runs"
        return Result(path, REPRODUCIBLE, reason=f"{what} gave identical outputs and generator states after all "
                                                 f"{len(a.cells)} code cells")
    first = found[0]
    updater = explainer.updater(first.position) if first.a.updated or first.b.updated else None
    root = None if updater is None else next((divergence for divergence in found[1:]
                                              if divergence.position <= updater[0]), None)
    if root is not None:  # a display a later cell updates: what made that cell differ comes first
        found = [root, *(divergence for divergence in found if divergence is not root)]
        first = root
    explained = explainer.explain(first)
    same = normalise(first.a.outputs) == normalise(first.b.outputs)  # what differs is the machinery's: %timeit's times
    shown, lines = evidence(output_text(first.a.outputs), output_text((first.a if same else first.b).outputs))
    if not lines:
        lines = states_evidence(runs, first)
    shifting = [runs.pairs[position][0].index for position in range(len(runs.pairs)) if runs.shifts(position)]
    unnamed = [index for index in shifting if f"cell {index} " not in explained.reason + " "]
    if options.rerun and unnamed:
        lines += (f"cells whose rerun moves a generator: {', '.join(map(str, shifting))}",)
    return Result(path, NOT_REPRODUCIBLE, first.a.index, explained.generator, explained.cause, explained.reason,
                  explained.fix, tuple(d.a.index for d in found[1:]), shown, lines,
                  provisional=explained.provisional)


def states_evidence(runs: Runs, divergence: Divergence) -> tuple[str, ...]:
    """Where outputs agree, the generators' states after the cell are the evidence."""
    after_a, after_b = runs.after(divergence.position, "a"), runs.after(divergence.position, "b")
    return tuple(f"{name} after the cell: {after_a.get((whose, name), 'absent')} in the first run, "
                 f"{after_b.get((whose, name), 'absent')} in the second" for whose, name in divergence.streams[:3])


def needs_hash_order(result: Result, a: Run, b: Run) -> bool:
    """Whether two more kernels could tell that the divergence follows str hash order."""
    return result.provisional and a.hash_seed is not None and a.hash_seed != b.hash_seed


def same_outputs(notebook: Any, a: Run, c: Run, cell: int, options: Options) -> bool:
    """Whether run ``c`` showed what run ``a`` showed in every cell up to ``cell``."""
    normalise = normaliser(options.images, options.sanitisers)
    pairs = [(x, y) for x, y in zip(a.cells, c.cells, strict=False) if x.index <= cell]
    return bool(pairs) and pairs[-1][0].index == cell and all(
        normalise(x.outputs) == normalise(y.outputs) and same_error(x.error, y.error) for x, y in pairs)
