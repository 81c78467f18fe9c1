"""Why the first divergent cell diverged: explicit rules, each saying only what its evidence shows.

The rules, in the order they are tried (the first that applies explains):

1. the cell raised in one run only (with ``--rerun``: when rerun, its first run having gone through);
2. it ran under a seed seedmagic drew from OS entropy (``%%seeded`` with no seed and no session seed);
3. a global generator it drew from is in another state in each run, traced to the cell where the states
   parted: a cell that reseeds it from OS entropy (``np.random.seed()``), a cell whose rerun moved it
   (``--rerun``), seeds that differ, a seeding from a value that varies by nature (the clock), a generator
   nothing seeded since the kernel started or it was imported, or else a cell that drew from it a varying
   number of times;
4. one of the user's generators likewise: reseeded from OS entropy by its own method (``g.seed()``) or
   seeded by it from a value that varies (``g.manual_seed(os.getpid())``), created without a seed (a
   ``torch.Generator()`` starts from a fixed one), or in another state in each run, or moved by a rerun,
   or drawn from a varying number of times;
5. only the outputs differ. A reseed from OS entropy in the cell, a generator it makes without a seed, and
   a varying call whose result it shows (``print(id(z))``; unless the hash-order kernels below show hash
   order) are named first. Else the value the cell reads that differed first is traced back through the
   cells (``cell 4 prints `y`, computed in cell 2 from `t`, which first differed after cell 1``); a trace
   that ends in a cell whose rerun moved a generator blames that generator, one whose rerun changed the value
   again blames that cell (not safe to run twice), one that ends in a line making a generator without a seed
   blames it; draws the cell undid (``fork_rng``, ``get_state``/``set_state``) from a generator that was
   never seeded blame that generator; two more kernels, each with one run's PYTHONHASHSEED, that reproduce
   that run's outputs show str hash order (or ``hash()`` of a str); else a name the cell reads that an
   earlier cell made by a call whose rerun moved a generator (an object the probe does not fingerprint, such
   as a model) blames that rerun; a trace alone blames the value; a call in the cell whose result varies by
   nature blames it; a generator made without a seed in what an earlier cell defines under a name the cell
   uses (a function, a class, an object) blames its line; and last, nothing found (under ``--rerun``, naming
   a cell whose rerun changed a value).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..adapters import KIND_BY_WORD, check_facts, registry
from .compare import Divergence, Key, Runs, kinds
from .source import CONSTRUCTORS, VARYING, CellSource, aliases, draw_namespace

LOAD = "`%load_ext seedmagic`"


def seeded_form(kind: str, otherwise: str) -> str:
    """How to create a generator of ``kind`` (a word of a probe record) with a seed."""
    known = KIND_BY_WORD.get(kind)
    return known.facts.seed_call if known is not None and known.facts.seed_call else otherwise


#: The usual names the seeding calls are written with: ``np`` for ``numpy``.
_CONVENTIONAL = {"np": "numpy"}


def reseed_form(kind: str, name: str) -> str:
    """How to reseed the existing generator ``name`` of ``kind`` with a seed: ``g.manual_seed(N)`` where the kind's
    seeded form ends in such a call (torch), else ``name.seed(N)`` (``RandomState``, ``random.Random``)."""
    form = seeded_form(kind, "")
    return f"{name}.{form.rsplit(').', 1)[1]}" if ")." in form else f"{name}.seed(N)"


def seed_call(name: str) -> str | None:
    """How to seed the global generator ``name`` by hand, if its adapter says."""
    known = check_facts().get(name)
    return None if known is None else known.seed_call


@dataclass
class Explanation:
    generator: str | None
    cause: str
    reason: str
    fix: str
    #: Whether hash order, once tested by two more kernels, would be tried before this explanation.
    provisional: bool = False


class Explainer:
    """The rules above, over two runs of one notebook."""

    def __init__(self, notebook: Any, runs: Runs, hash_order: bool | None = None) -> None:
        self.notebook = notebook
        self.runs = runs
        self.hash_order = hash_order
        #: What each imported name stands for once each code cell has run (by cell index): a cell reads a name as
        #: the last import above it or in it (``seed`` from ``random`` here, from ``numpy.random`` further down).
        self.imports_at: dict[int, dict[str, str]] = {}
        imports: dict[str, str] = {}
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                imports = {**imports, **aliases([cell.source], imports)}
                self.imports_at[index] = imports
        #: The same for the whole notebook (for the fixes, and for a name no import above a cell binds yet).
        self.imports = imports
        self.sources: dict[int, CellSource] = {}
        #: Per cell showing an updated display: the cell updating it and the line (``updater``); per cell: what in
        #: it may make what it shows vary (``_why_varies``). Each is asked for by the verdict and the explanation.
        self._updaters: dict[int, tuple[int, str] | None] = {}
        self._varies: dict[int, tuple[tuple[str, str] | None, tuple[str, str] | None, list[str]]] = {}

    def source(self, position: int) -> CellSource:
        if position not in self.sources:
            index = self.runs.pairs[position][0].index
            self.sources[position] = CellSource(self.notebook.cells[index].source,
                                                {**self.imports, **self.imports_at[index]})
        return self.sources[position]

    def earlier(self, position: int) -> list[CellSource]:
        """The cells before ``position``, latest first: where a name the cell reads was last bound."""
        return [self.source(at) for at in range(position - 1, -1, -1)]

    def seed_call(self, name: str) -> str | None:
        """``seed_call(name)`` spelled with the names the notebook imported (``npr.seed(N)`` after ``import
        numpy.random as npr``, ``seed(N)`` after ``from numpy.random import *``), so that it runs as written."""
        call = seed_call(name)
        if call is None or "(" not in call:
            return call
        head, rest = call.split("(", 1)
        first, _, tail = head.partition(".")
        dotted = ".".join(part for part in (_CONVENTIONAL.get(first, first), tail) if part)
        spellings = [(value, alias) for alias, value in self.imports.items() if alias != "*"
                     and (dotted == value or dotted.startswith(value + "."))]
        if any(alias == first and value == _CONVENTIONAL.get(first, first) for value, alias in spellings):
            return call  # the notebook uses the usual name
        if spellings:
            value, alias = max(spellings, key=lambda found: len(found[0]))
            return f"{alias}{dotted[len(value):]}({rest}"
        star = self.imports.get("*", "")
        if star and dotted.rsplit(".", 1)[0] + ".*" == star:
            return f"{dotted.rsplit('.', 1)[1]}({rest}"
        return call

    def label(self, position: int) -> str:
        cell = self.runs.pairs[position][0]
        return f"cell {cell.index} (In [{cell.count}])"

    def cell(self, position: int) -> str:
        return f"cell {self.runs.pairs[position][0].index}"

    def loaded(self, position: int) -> bool:
        return bool(self.runs.pairs[position][0].probe.get("loaded"))

    def with_load(self, fix: str, position: int) -> str:
        """A fix that uses a magic says to load seedmagic first where the notebook does not."""
        return fix if self.loaded(position) else f"{fix} (after {LOAD} at the top of the notebook)"

    def rerun_fix(self, position: int, key: Key) -> str:
        """``%%seeded`` puts seedmagic's generators back after a cell; a user's generator is created afresh instead."""
        if key[0] == "user":
            kind = kinds(self.runs.pairs[position][0].probe).get(key[1], "")
            form = seeded_form(kind, "with a fixed seed")
            return f"create `{key[1]}` in {self.cell(position)} itself (`{form}`), so that every rerun starts it afresh"
        return self.with_load(f"run {self.cell(position)} under `%%seeded N`", position)

    def unseeded_fix(self, position: int, name: str) -> str:
        if self.loaded(position):
            return "add `%seed N` above it (or at the top of the notebook), or run the cell under `%%seeded N`"
        by_hand = self.seed_call(name)
        probes = (self.runs.pairs[position][0].probe, self.runs.first_run_b(position))
        where = ("right after the import in this cell" if any(name in probe.get("imported", []) for probe in probes)
                 else "above this cell")
        return (f"add {LOAD} and `%seed N` at the top of the notebook"
                + (f" (or `{by_hand}` {where})" if by_hand else ""))

    def explain(self, divergence: Divergence) -> Explanation:
        position, a, b = divergence.position, divergence.a, divergence.b
        label = self.label(position)
        if b.failed_on_rerun and a.error is None:
            return Explanation(None, "error", f"rerunning {label} raised {b.error}: its first run went through, so it "
                               "cannot run twice in a row as it does while a notebook is edited",
                               "make the cell safe to run again (say `os.makedirs(path, exist_ok=True)`, or build what "
                               "it changes afresh in the cell itself)")
        if (a.error is None) != (b.error is None) or b.failed_on_rerun:  # the second run's first went through
            happened = a.error or b.error
            return Explanation(None, "error", f"{label} raised {happened} in one run only",
                               "find what the failure depends on: run it twice and compare what differs before it")
        if divergence.entropy:
            first, second = divergence.entropy[0]
            seed = first if first is not None else second
            return Explanation(None, "entropy",
                               f"{label} ran under a seed drawn from OS entropy ({first} in one run, {second} in the "
                               "other): %%seeded without a seed, and no %seed before it",
                               f"give it the seed: `%%seeded {seed}`, or set a session seed with `%seed N` above it")
        if divergence.streams:
            return self.stream(position, divergence.streams[0])
        return self.outputs_only(position)

    # Rules 3 and 4: a stream that differs ---------------------------------------------------------------

    def stream(self, position: int, key: Key) -> Explanation:
        """Explain why stream ``key`` differs at ``position``, from the cell where the runs' states parted."""
        whose, name = key
        origin = self.runs.origin(position, key)
        if whose == "global":
            origin = self.last_seeding(position, name, origin)
        label, at = self.label(position), self.cell(origin)
        lead = f"{label} drew from {name}"
        for where in dict.fromkeys((position, origin)):
            line = self.source(where).entropy_reseeds().get(name) if whose == "global" else None
            if line:
                return self.reseeded_from_entropy(where, name, line,
                                                  "" if where == position else f", and {label} drew from it")
        varying = self.source(position).varying_seeding(earlier=self.earlier(position))
        if whose == "global" and varying is not None and varying[0] == name:  # what came before does not count
            return self.seeded_from_varying(position, varying)
        if origin < position and key in self.runs.shifts(origin):
            return Explanation(name, name, f"rerunning {at} moved {name}, which shifts the draws of {label}",
                               self.rerun_fix(origin, key))
        if whose == "user":
            return self.user_stream(position, name)
        drew = "" if origin == position else f", and {label} drew from it"
        hashed = self.source(origin).seeding_from_hash(name, self.earlier(origin))
        if hashed is not None:
            return Explanation(name, name, f"{self.label(origin)} seeds {name} from `hash()` (`{hashed}`): the hash of "
                               f"a str follows PYTHONHASHSEED, which differs from run to run{drew}",
                               "seed it from a hash that does not depend on PYTHONHASHSEED "
                               "(`zlib.crc32(text.encode())`, `hashlib`, or `seedmagic.derive_seed(N, text)`), or pin "
                               "PYTHONHASHSEED in the kernelspec's env")
        seeds = [self.runs.pairs[origin][run].probe.get("seeds", {}).get(name) for run in (0, 1)]
        if seeds[0] != seeds[1]:
            return Explanation(name, name, f"{lead}, seeded with {seeds[0]} in one run and {seeds[1]} in the other",
                               "seed it with a fixed number: `%seed N`")
        probes = [self.runs.pairs[origin][0].probe, self.runs.first_run_b(origin)]
        imported = any(name in probe.get("imported", []) for probe in probes)
        seeded = self.source(origin).always_seeds(name, self.earlier(origin))
        if not seeded and (imported or (origin == 0 and seeds[0] is None)):
            return Explanation(name, name, f"{lead} while no seed controlled it", self.unseeded_fix(position, name))
        varying = self.source(origin).varying_seeding(earlier=self.earlier(origin))
        if varying is not None and varying[0] == name:
            return self.seeded_from_varying(origin, varying, drew)
        timed = [line for generator, line in self.source(origin).timed_draws() if generator == name]
        if timed:
            return self.timed_draws(origin, name, timed[0], drew)
        if seeded:
            reason = (f"{self.label(origin)} seeds {name} by hand, yet leaves it in a different state in each run: "
                      f"it seeds it from a value that varies or then draws from it a varying number of times{drew}")
        elif origin == position:
            reason = (f"{label} started with {name} in the same state in both runs and left it in different states: "
                      "it drew from it a varying number of times (a loop over time, data or threads) or seeded it "
                      "from a value that varies")
        else:
            reason = (f"{lead}, which {at} left in a different state in each run (the same before it): {at} drew "
                      "from it a varying number of times (a loop over time, data or threads) or seeded it from a "
                      "value that varies")
        # as the last line of that cell: a cell of its own after it would leave that cell's states apart still
        return Explanation(name, name, reason, f"draw a fixed number of times, or reseed {name} at the end of {at} "
                           f"(`%seed N`, or `{self.seed_call(name) or 'a fixed seed'}`, as its last line)")

    def last_seeding(self, position: int, name: str, origin: int) -> int:
        """The last cell after ``origin`` up to ``position`` that always seeds global generator ``name`` by hand, and
        moved it in both runs, else ``origin``: a seeding puts the state the runs parted in before it out of play, so
        the difference comes from that cell on (its seed, or its draws after it), not from the import above it."""
        for at in range(position, origin, -1):
            probes = [self.runs.pairs[at][0].probe, self.runs.first_run_b(at)]
            moved = all(name in probe.get("advanced", []) for probe in probes)
            if moved and self.source(at).always_seeds(name, self.earlier(at)):
                return at
        return origin

    def timed_draws(self, position: int, generator: str, line: str, more: str = "") -> Explanation:
        """A ``%timeit`` that draws from ``generator``: as many draws as loops fit in its time."""
        return Explanation(generator, generator, f"{self.label(position)} times draws from {generator} (`{line}`): "
                           f"%timeit runs as many loops as fit in its time, so how many numbers it draws depends on "
                           f"the machine's speed{more}", f"give %timeit a fixed number of loops (`%timeit -n 100 -r 3 "
                           f"...`), or reseed {generator} after it (`%seed N`)")

    def seeded_from_varying(self, where: int, seeding: tuple[str | None, str, str], more: str = "") -> Explanation:
        """A seeding given a value that varies by nature: ``np.random.seed(int(time.time()))``."""
        generator, line, call = seeding
        fix = (f"seed it with a fixed number: `{self.seed_call(generator) or '%seed N'}`" if generator else
               f"give it a fixed number instead of `{call}()`'s")
        seeded = generator or ("the generators" if line.startswith("%") else "a generator")  # %seed, %%seeded
        return Explanation(generator, generator or "value", f"{self.label(where)} seeds {seeded} from `{call}()`, "
                           f"which comes from {VARYING[call]} and differs between runs (`{line}`){more}", fix)

    def first_unseeded_value(self) -> tuple[int, Explanation] | None:
        """Where outputs and states agree, a cell that computes a value with a generator it makes without a seed,
        and the value differs between the runs (a data split kept, or saved to a file): the first such cell."""
        for position in range(len(self.runs.pairs)):
            source = self.source(position)
            for name in sorted(self.runs.differing_values(position)):
                made = source.unseeded_construction(within={name})
                if made is not None:
                    return position, Explanation(None, "entropy", f"{self.label(position)} computes `{name}` with a "
                                                 f"generator it makes without a seed (`{made[0]}`): `{name}` differs "
                                                 "between the runs, though no output shows it",
                                                 f"give it a seed: `{made[1]}(N)`")
        return None

    def first_timed_draws(self) -> tuple[int, Explanation] | None:
        """Where runs agree, a ``%timeit`` that draws from a global generator as many times as fit in its time
        agreed only because both runs ran on one machine: the first such cell."""
        for position in range(len(self.runs.pairs)):
            for generator, line in self.source(position).timed_draws():
                if self.replaced_before_drawn(position, generator, line):
                    continue
                return position, self.timed_draws(position, generator, line)
        return None

    def first_varying_seeding(self) -> tuple[int, Explanation] | None:
        """Where runs agree, a cell that seeds from the clock (say) agreed only by chance: the first such cell."""
        for position in range(len(self.runs.pairs)):
            for seeding in self.source(position).varying_seedings(earlier=self.earlier(position)):
                if seeding[0] is None or not self.replaced_before_drawn(position, seeding[0], seeding[1]):
                    return position, self.seeded_from_varying(position, seeding, ": these two runs read the same "
                                                              "value, another run will not")
        return None

    def replaced_before_drawn(self, position: int, generator: str, line: str) -> bool:
        """Whether a global generator that ``line`` left as no other run will (a seed from a varying value, a
        ``%timeit``'s draws) is seeded again with a fixed value before anything draws from it (in the cell, or in a
        later one; cells between that the probe saw leave it alone do not count; one that moved it drew from it,
        unless its source seeds it first), or never drawn from again: what the line did then shows nowhere."""
        replaced = self.source(position).reseeded_before_drawn(generator, line)
        return replaced if replaced is not None else self.replaced_later(position, generator)

    def replaced_later(self, position: int, generator: str) -> bool:
        """Whether the cells after ``position`` seed ``generator`` again with a fixed value before they draw from it,
        or never draw from it: a cell the probe saw leave it alone does not count; one that moved it drew from it,
        unless its source seeds it first."""
        for later in range(position + 1, len(self.runs.pairs)):
            probes = [self.runs.pairs[later][0].probe, self.runs.first_run_b(later)]
            if any(generator in probe.get("advanced", []) or not probe for probe in probes):
                return bool(self.source(later).reseeded_before_drawn(generator))
        return True

    def unseen_states(self, divergence: Divergence) -> bool:
        """Whether all that differs after the cell is the state of global generators, each the same in both runs
        before it, that the cell seeds from a value that varies (or draws from in a ``%timeit``) and then does not
        draw from, and that no later cell draws from before seeding them again with a fixed value (a seed from the
        clock, replaced): it shows nowhere."""
        position = divergence.position
        if divergence.outputs or divergence.entropy or not divergence.streams:
            return False
        source = self.source(position)
        acts: dict[str | None, list[str]] = {}  # per generator, the lines that left it as no other run will
        for generator, line, _ in source.varying_seedings(earlier=self.earlier(position)):
            acts.setdefault(generator, []).append(line)
        for generator, line in source.timed_draws():  # %timeit: as many draws as fit in its time
            acts.setdefault(generator, []).append(line)
        return all(whose == "global" and name in acts and not self.runs.differs_after(position - 1, (whose, name))
                   and all(source.reseeded_before_drawn(name, line) is None for line in acts[name])
                   and self.replaced_later(position, name) for whose, name in divergence.streams)

    def reseeded_from_entropy(self, where: int, name: str, line: str, more: str = "") -> Explanation:
        fix = (f"give the generator it puts in place a seed, or seed {name} right after that line: "
               f"`{self.seed_call(name) or '%seed N'}`" if self.source(where).reseeds_by_swap(name)
               else f"give it a seed: `{self.seed_call(name) or '%seed N'}` (or `%seed N`)")
        return Explanation(name, name, f"{self.label(where)} reseeds {name} from OS entropy (`{line}`){more}", fix)

    def user_stream(self, position: int, name: str) -> Explanation:
        """A user's generator parts where a cell creates or moves it (any change is seen), so here, at ``position``."""
        label = self.label(position)
        kind = kinds(self.runs.pairs[position][0].probe).get(name) or kinds(self.runs.pairs[position][1].probe)[name]
        form = seeded_form(kind, "a fixed seed")
        key: Key = ("user", name)
        source = self.source(position)
        reseeded = source.reseeds_user(name)
        if reseeded:
            return Explanation(name, name, f"{label} reseeds your generator `{name}` from OS entropy (`{reseeded}`)",
                               f"give it a seed: `{reseed_form(kind, name)}`")
        varying = source.varying_seeding(of=name, earlier=self.earlier(position))
        if varying is not None:
            _, seeding, call = varying
            return Explanation(name, name, f"{label} seeds your generator `{name}` from `{call}()`, which comes from "
                               f"{VARYING[call]} and differs between runs (`{seeding}`)",
                               f"give it a fixed number instead: `{reseed_form(kind, name)}`")
        if any(key not in self.runs.after(position - 1, run) for run in ("a", "b")):
            known = KIND_BY_WORD.get(kind)
            line = source.assignment(name)
            unseeded = source.created_unseeded(name, known.entropy_constructors if known else CONSTRUCTORS)
            what = f"`{line}`" if line else f"`{name}` ({kind})"
            reason = (f"{label} created {what} without a seed" if unseeded else
                      f"{label} created {what} in a different state in each run: it was seeded from OS entropy "
                      "or from something that changes between runs")
            return Explanation(name, name, reason, f"give it a {'' if unseeded else 'fixed '}seed: `{form}`")
        return Explanation(name, name, f"{label} started with your generator `{name}` in the same state in both runs "
                           "and left it in different states: it drew from it a varying number of times (time, data or "
                           f"threads)", f"draw a fixed number of times from `{name}`, or create it again with `{form}` "
                           f"after {self.cell(position)}")

    # Rule 5: only the outputs differ ------------------------------------------------------------------------

    def trace(self, position: int) -> tuple[list[tuple[int, str]], int] | None:
        """The chain of (cell, variable) from the cell back to the first value that differed, and its root cell."""
        chain: list[tuple[int, str]] = []
        seen: set[tuple[int, str]] = set()
        at = position
        while True:
            differing = self.runs.differing_values(at - 1)
            read = [name for name in self.source(at).reads if name in differing]
            if not read or (at, read[0]) in seen:
                break
            seen.add((at, read[0]))
            origin = self.runs.value_origin(at, read[0])
            chain.append((origin, read[0]))
            at = origin
        return (chain, at) if chain else None

    def outputs_only(self, position: int) -> Explanation:
        label = self.label(position)
        pair = self.runs.pairs[position]
        verb = "prints" if any(output.get("output_type") == "stream" for output in pair[0].outputs) else "shows"
        source = self.source(position)
        if pair[0].updated or pair[1].updated:
            return self.updated_display(position)
        for name, line in source.entropy_reseeds().items():  # then put back, or seeded again
            kept = "" if self.runs.differs_after(position, ("global", name)) else \
                f", though the cell leaves {name} in the same state in both"
            return self.reseeded_from_entropy(position, name, line, ": its draws in the cell differ between runs"
                                              + kept)
        made = source.unseeded_construction()
        if made is not None:  # a generator that does not outlive the cell (made inside a function, say)
            return Explanation(None, "entropy", f"{label} makes a generator without a seed (`{made[0]}`): it is "
                               "seeded from OS entropy in each run, so what it draws differs",
                               f"give it a seed: `{made[1]}(N)`")
        shown = source.shown_varying_call()
        # Shown, it makes the outputs differ, unless what is shown is coarse (the year) and the hash-order kernels
        # showed str hash order instead; they cannot tell a pid apart (started in order, they share its parity).
        if shown is not None and (self.hash_order is not True or shown[0] == "os.getpid"):
            return Explanation(None, "value", f"{label} {verb} the result of `{shown[0]}()`, which comes from "
                               f"{shown[1]} and differs between runs", f"do not show `{shown[0]}()`'s result, or tag "
                               "the cell nbval-ignore-output if its output may vary",
                               self.hash_order is None and shown[0] != "os.getpid")
        traced = self.trace(position)
        story = ""
        if traced is not None:
            chain, root = traced
            story = f"{label} {verb} `{chain[0][1]}`"
            for (cell_at, _), (_, variable) in zip(chain, chain[1:], strict=False):
                story += f", computed in {self.cell(cell_at)} from `{variable}`"
            bound = self.source(root).assignment(chain[-1][1])
            story += f", which first differed after {self.cell(root)}" + (f" (`{bound}`)" if bound else "")
            for key in self.runs.shifts(root)[:1]:
                return Explanation(key[1], key[1], f"{story}: rerunning {self.cell(root)} draws new numbers from "
                                   f"{key[1]} (its first run moved {key[1]})", self.rerun_fix(root, key))
            variable = chain[-1][1]
            if variable in self.runs.pairs[root][1].rerun_moved:
                return Explanation(None, "value", f"{story}: rerunning {self.cell(root)} changes `{variable}` again, "
                                   "so the cell is not safe to run twice",
                                   f"have {self.cell(root)} build `{variable}` afresh rather than change the one it "
                                   "finds, so that every rerun gives the same result")
            made = self.source(root).unseeded_construction(within={variable})
            if made is not None:
                return Explanation(None, "entropy", f"{story}: `{made[1]}()` there makes a generator without a seed, "
                                   "seeded from OS entropy in each run", f"give it a seed in {self.cell(root)}: "
                                   f"`{made[1]}(N)`")
        undone = self.undone_draws(position)
        if undone is not None:
            return undone
        if self.hash_order:
            at = traced[1] if traced else position
            hashing = any(name == "hash" for name, _ in self.source(at).calls())
            where = f" in {self.cell(at)}" if traced else ""
            what, fix = (("str hashes (`hash()` of a str, or the order of a set)", f"iterate in a fixed order{where} "
                          "(`sorted(...)`) and hash str with what does not depend on PYTHONHASHSEED "
                          "(`zlib.crc32(text.encode())`, `hashlib`)") if hashing else
                         ("the order of str hashes (a set, or a dict built from one)",
                          f"iterate in a fixed order{where} (`sorted(...)`)"))
            return Explanation(None, "hash-order", (story + "; " if story else f"{label}: ")
                               + "the outputs differ between kernels with different PYTHONHASHSEED and agree when it "
                               f"is the same: they follow {what}", f"{fix}, or pin PYTHONHASHSEED in the kernelspec's "
                               "env")
        provisional = self.hash_order is None
        unseen = self.rerun_unseen(position) if traced is None else None
        if unseen is not None:  # the hash-order kernels do not rerun: they told apart what the rerun did
            at, key, name = unseen
            return Explanation(key[1], key[1], f"{label} {verb} what `{name}` holds (not a value the check can read), "
                               f"made in {self.cell(at)}: rerunning {self.cell(at)} draws new numbers from {key[1]} "
                               f"(its first run moved {key[1]})", self.rerun_fix(at, key), provisional)
        varying = source.varying_call()
        if traced is not None:
            return Explanation(None, "value", story,
                               f"make `{traced[0][-1][1]}` the same on every run (it comes from the clock, a file, "
                               f"the network or threads), or tag {self.cell(position)} nbval-ignore-output if its "
                               "output may vary", provisional)
        if varying is not None:
            return self.varying_call(position, varying, provisional)
        pool = source.worker_pool()
        if pool is not None:
            return Explanation(None, "output", f"{label}: outputs differ, and it runs work in other processes "
                               f"(`{pool}`): the order their results come back in, and what they draw (from their "
                               "own generators, copied from this one when they start or seeded from OS entropy), the "
                               "check cannot see", "gather the results in a fixed order (`map`, or sort them) and "
                               "give each task its own seed (or each worker its own stream: "
                               "`initializer=seedmagic.pool_initializer` for a multiprocessing Pool, "
                               "`worker_init_fn=seedmagic.worker_init_fn` for a DataLoader, after `%seed N`)",
                               provisional)
        maker = self.unseeded_maker(position)
        if maker is not None:  # made in a function or an object the cell uses
            at, made = maker
            return Explanation(None, "entropy", f"{label}: outputs differ, and it uses what {self.cell(at)} defines, "
                               f"which makes a generator without a seed (`{made[0]}`): it is seeded from OS entropy in "
                               "each run, so what it draws differs", f"give it a seed in {self.cell(at)}: "
                               f"`{made[1]}(N)`", provisional)
        same = self.runs.after(position, "a") == self.runs.after(position, "b")
        where = "every generator's state is identical after the cell" if same else \
            "every generator the cell drew from is in the same state in both runs"
        reason = (f"{label}: outputs differ but {where}, and no value it reads that the check can fingerprint differs "
                  "(numbers, strings, arrays, tensors; not objects such as a model or a DataFrame): the difference "
                  "does not come from a global random generator (time, hashing, threads, data, memory never written "
                  "such as `np.empty` gives, an object's address, or what such an object holds)")
        fix = ("pin what it reads (time, hash() of str needs PYTHONHASHSEED, thread timing, input data), or tag the "
               "cell nbval-ignore-output if its output may vary")
        rerun = next((at for at in range(position) if self.runs.pairs[at][1].rerun_moved), None)
        if rerun is not None:  # what a rerun moved that the probe cannot see (a model's weights) may be why
            moved = ", ".join(f"`{name}`" for name in self.runs.pairs[rerun][1].rerun_moved[:3])
            reason += (f"; but rerunning {self.cell(rerun)} changed {moved} again, so it likely changed what the "
                       "check cannot read too (an object such as a model trained further)")
            fix = (f"make {self.cell(rerun)} safe to run twice: build what it changes afresh in it (a model, an "
                   f"optimiser), or {fix}")
        return Explanation(None, "output", reason, fix, provisional)

    def updater(self, position: int) -> tuple[int, str] | None:
        """The later cell that updates the display the cell at ``position`` shows, and the line: of the cells that
        update it (``h.update(...)`` of a handle the cell binds, ``update_display``), the first whose source shows
        why it may differ (a call that varies, a generator made without a seed, a value that differs), else the
        first."""
        if position not in self._updaters:
            shown, updates = self.source(position), []
            for at in range(position + 1, len(self.runs.pairs)):
                source = self.source(at)
                line = next((source.line(call.lineno) for name, call in source.calls()
                             if name.rsplit(".", 1)[-1] == "update_display"
                             or name.endswith(".update") and shown.binds(name.split(".", 1)[0])), None)
                if line is not None:
                    updates.append((at, line))
            self._updaters[position] = next((update for update in updates if any(self._why_varies(update[0]))),
                                            updates[0] if updates else None)
        return self._updaters[position]

    def _why_varies(self, at: int) -> tuple[tuple[str, str] | None, tuple[str, str] | None, list[str]]:
        """What in the cell at ``at`` may make what it shows vary: a generator it makes without a seed, a call whose
        result varies by nature, the values it reads that differ between runs."""
        if at not in self._varies:
            source = self.source(at)
            self._varies[at] = (source.unseeded_construction(), source.varying_call(),
                                sorted(set(source.reads) & self.runs.differing_values(at - 1)))
        return self._varies[at]

    def updated_display(self, position: int) -> Explanation:
        """The cell shows a display a later cell updated: that cell, and what in it varies, where the source tells."""
        found = self.updater(position)
        if found is None:
            return Explanation(None, "output", f"{self.label(position)} shows a display that a later cell updates, "
                               "and what the update puts there differs between runs", "make what the update shows "
                               f"the same on every run, or tag {self.cell(position)} nbval-ignore-output if it may "
                               "vary")
        at, line = found
        made, varying, read = self._why_varies(at)
        why = (f": it makes a generator without a seed (`{made[1]}()`)" if made else
               f": it calls `{varying[0]}()`, whose result comes from {varying[1]}" if varying else
               f": it reads `{read[0]}`, which differs between runs" if read else "")
        fix = (f"give it a seed in {self.cell(at)}: `{made[1]}(N)`" if made else
               f"make what {self.cell(at)} shows the same on every run")
        return Explanation(None, "entropy" if made else "output", f"{self.label(position)} shows a display that "
                           f"{self.cell(at)} updates (`{line}`), and what the update puts there differs between "
                           f"runs{why}", f"{fix}, or tag {self.cell(position)} nbval-ignore-output if it may vary")

    def rerun_unseen(self, position: int) -> tuple[int, Key, str] | None:
        """A name the cell reads whose latest binding is in an earlier cell whose rerun moved a generator and calls
        something (a model, a DataFrame: what the probe does not fingerprint; a literal holds no draws); the cell,
        the generator and the name."""
        for name in self.source(position).reads:
            at = next((at for at in range(position - 1, -1, -1) if self.source(at).binds(name)), None)
            if at is not None and self.runs.shifts(at) and self.source(at).computes(name):
                return at, self.runs.shifts(at)[0], name
        return None

    def varying_call(self, position: int, varying: tuple[str, str], provisional: bool) -> Explanation:
        call, origin = varying
        return Explanation(None, "value", f"{self.label(position)}: outputs differ, and it calls `{call}()`, whose "
                           f"result comes from {origin} and differs between runs", f"do not show `{call}()`'s result, "
                           "or tag the cell nbval-ignore-output if its output may vary", provisional)

    def unseeded_maker(self, position: int) -> tuple[int, tuple[str, str]] | None:
        """The earlier cell that makes a generator with no seed which the cell at ``position`` uses, and the
        construction: in what it binds under a name the cell reads (a function that makes one, an object that
        holds one), followed through the names read there in turn."""
        wanted = set(self.source(position).reads)
        for at in range(position - 1, -1, -1):
            source = self.source(at)
            bound = {name for name in wanted if source.binds(name)}
            made = source.unseeded_construction(within=bound) if bound else None
            if made is not None:
                return at, made
            wanted |= source.reads_within(bound)
        return None

    def undone_draws(self, position: int) -> Explanation | None:
        """A generator never seeded, used by the cell in a way its state after does not show."""
        source, label = self.source(position), self.label(position)
        probes = [self.runs.pairs[position][0].probe, self.runs.first_run_b(position)]
        for name, adapter in registry().items():
            key: Key = ("global", name)
            module = adapter.module or name
            # where it is drawn from: NumPy's functions in numpy.random (not np.empty), a device's through torch too
            spaces = {space for space in (draw_namespace(name), draw_namespace(module)) if space} or {module}
            if not any(map(source.draws_from, spaces)) or not self.runs.differs_after(position, key):
                continue
            if any(name in probe.get("imported", []) for probe in probes):
                return Explanation(name, name, f"{label} imported {module} and its outputs differ: {name} starts "
                                   "from OS entropy, in another state in each run, and no seed controlled it",
                                   self.unseeded_fix(position, name))
            if self.runs.differs_after(position - 1, key) and source.restores():
                return Explanation(name, name, f"{label} draws from {name} inside a block that puts its state back "
                                   f"(fork_rng, get_state/set_state): {name} began that block in a different state in "
                                   "each run, as no seed controlled it", self.unseeded_fix(position, name))
        return None
