"""Running a notebook in a fresh kernel, as a colleague's machine would, with the probe reading between cells.

Each kernel starts from a clean environment: nothing of seedmagic's
(``SEEDMAGIC_*``) is inherited from the process that runs the check, and
each kernel gets its own ``PYTHONHASHSEED``, as two machines do, unless the
kernelspec sets one itself. The probe observes only (``seedmagic.probe``):
the notebook runs exactly as written.
"""

from __future__ import annotations

import ast
import asyncio
import copy
import json
import math
import os
import pathlib
import secrets
import signal
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .folders import WorkingCopy
from .model import BadInput, CellRun, KernelDied, Options, Run, Stopped
from .notebooks import RAISES_TAGS, executes, one_line, tags

T = TypeVar("T")
#: Starts the probe; its argument is the run's copy of the folder and the folder (``WorkingCopy.moved``).
_SETUP = "__import__('seedmagic.probe').probe.start(get_ipython(), {!r})"
_TAKE = "__import__('seedmagic.probe').probe.take()"
_VERSIONS = "__import__('seedmagic.probe').probe.versions()"
#: Longer than this (about 24 days) is no limit: the transports count in milliseconds on 32 bits.
LONGEST = 2**31 / 1000

#: Kernels running now, so that an interrupted check kills them all.
_running: set[Kernel] = set()
#: What Ctrl-C does while a check runs (set by ``interruptible``); None: Python's own KeyboardInterrupt.
_on_interrupt: Callable[[], None] | None = None


def kill_all() -> None:
    """Kill every kernel a check still runs (an interrupt may cut its own clean-up short)."""
    for kernel in list(_running):
        kernel.kill()
    _running.clear()


#: The signals that stop a check as Ctrl-C does: kernels killed, the runs' copies of the folder removed.
STOPPING = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


#: The signals the check stops on while it runs (``interruptible``): those of ``STOPPING`` not ignored when it
#: began (``nohup seedmagic check`` ignores SIGHUP, and so does the check).
_claimed: tuple[int, ...] = ()


def _claim_signals() -> None:
    """Put the check's Ctrl-C handler (back) on the loop, for SIGTERM and SIGHUP too: nbclient sets and removes
    its own around each kernel."""
    if _on_interrupt is None:
        return
    try:
        for stopping in _claimed:
            asyncio.get_running_loop().add_signal_handler(stopping, _on_interrupt)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such support here
        pass


async def interruptible(work: Awaitable[T]) -> T:
    """Await ``work``; Ctrl-C (or SIGTERM, SIGHUP) kills every kernel at once, then raises KeyboardInterrupt once
    all has unwound."""
    global _on_interrupt
    task = asyncio.current_task()
    interrupted = False

    def interrupt() -> None:  # kill first: every await on a kernel then ends at once
        nonlocal interrupted
        interrupted = True
        kill_all()
        if task is not None:
            task.cancel()

    global _claimed
    before = {stopping: signal.getsignal(stopping) for stopping in STOPPING}
    _on_interrupt = interrupt
    _claimed = tuple(stopping for stopping, handler in before.items() if handler is not signal.SIG_IGN)
    _claim_signals()
    try:
        result = await work
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        _on_interrupt = None
        try:
            for stopping in _claimed:
                asyncio.get_running_loop().remove_signal_handler(stopping)
                if before[stopping] is not None:  # the loop leaves SIG_DFL: what was there comes back
                    signal.signal(stopping, before[stopping])
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    if interrupted:
        raise KeyboardInterrupt
    return result


@dataclass(frozen=True)
class KernelChoice:
    name: str
    #: Whether the kernelspec sets PYTHONHASHSEED itself (then every kernel runs with its value).
    pins_hash_seed: bool


def choose_kernel(notebook: Any, options: Options, path: pathlib.Path) -> KernelChoice:
    """The kernel to run, refused at once if it is not installed here."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    name = options.kernel or notebook.metadata.get("kernelspec", {}).get("name") or "python3"
    manager = KernelSpecManager()
    try:
        spec = manager.get_kernel_spec(name)
    except NoSuchKernel:
        where = "--kernel" if options.kernel else "the notebook's metadata"
        installed = manager.find_kernel_specs()
        raise BadInput(f"{path}: no kernel named {name!r} is installed (named by {where}; installed: "
                       f"{', '.join(sorted(installed)) or 'none'}); pass --kernel NAME") from None
    return KernelChoice(name, "PYTHONHASHSEED" in (spec.env or {}))


def hash_seeds(count: int) -> list[str]:
    """``count`` distinct PYTHONHASHSEED values, none 0 (0 turns hash randomisation off)."""
    seeds: set[str] = set()
    while len(seeds) < count:
        seeds.add(str(1 + secrets.randbelow(2**32 - 1)))
    return sorted(seeds)


def kernel_environment(hash_seed: str | None = None) -> dict[str, str]:
    """A kernel's environment: this one without ``SEEDMAGIC_*``, with its own hash seed and this seedmagic.

    An installed seedmagic is found by the kernel's Python as any package
    is; one run from a checkout is put first on the kernel's path, so the
    kernel's probe is the same seedmagic that compares.
    """
    import seedmagic

    env = {key: value for key, value in os.environ.items() if not key.startswith("SEEDMAGIC_")}
    if hash_seed is not None:
        env["PYTHONHASHSEED"] = hash_seed
    root = pathlib.Path(seedmagic.__file__).resolve().parent.parent
    if root.name not in ("site-packages", "dist-packages"):
        parts = [part for part in env.get("PYTHONPATH", "").split(os.pathsep) if part]
        if str(root) not in parts:
            env["PYTHONPATH"] = os.pathsep.join([str(root), *parts])
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # ipykernel's debugger warning, on stderr only
    return env


def error_of(reply: dict[str, Any], outputs: list[Any]) -> str | None:
    """The cell's error as "Name: message" ("Name" alone when the message is empty), or None.

    The reply's status decides, as it decides whether Jupyter's "Run All"
    goes on: a ``UsageError`` (an unknown magic) shows only on stderr.
    """
    failed = reply if reply.get("status") == "error" else next(
        (output for output in outputs if output.get("output_type") == "error"), None)
    if failed is None:
        return None
    name = failed.get("ename") or "Error"
    message = one_line(failed.get("evalue") or "")
    return f"{name}: {message}" if message else name


class Kernel:
    """One fresh kernel running the notebook's cells, with silent requests in between."""

    def __init__(self, notebook: Any, path: pathlib.Path, kernel: KernelChoice, options: Options,
                 hash_seed: str | None, folder: WorkingCopy) -> None:
        """``folder``: the run's own copy of the notebook's folder, which the kernel works in."""
        from nbclient import NotebookClient

        self.path = path
        self.folder = folder
        self.options = options
        self.hash_seed = None if kernel.pins_hash_seed else hash_seed
        timeout = options.timeout if options.timeout is not None and options.timeout < LONGEST else None
        self.client = NotebookClient(
            copy.deepcopy(notebook), timeout=None, timeout_func=lambda cell: timeout, kernel_name=kernel.name,
            allow_errors=True, shutdown_kernel="immediate", resources={"metadata": {"path": str(folder.path)}},
            startup_timeout=math.ceil(min(options.start_timeout, LONGEST)),
        )
        self.client.on_cell_executed = self._replied
        #: The content of the last cell's execute_reply.
        self.reply: dict[str, Any] = {}
        #: The kernel process's own stdout and stderr (not the cells'), kept out of the report.
        self.log = tempfile.TemporaryFile()
        self.stopped = False
        #: The last cell to run (None: every one).
        self.last: int | None = None

    def _replied(self, cell: Any, cell_index: int, execute_reply: dict[str, Any]) -> None:
        self.reply = execute_reply.get("content", {})

    def finish_at(self, index: int) -> None:
        """Run no cell after cell ``index``."""
        self.last = index if self.last is None else min(self.last, index)

    async def stop(self) -> None:
        """End the run early: no further cell starts, and the running one is interrupted."""
        from jupyter_core.utils import ensure_async

        self.stopped = True
        km = self.client.km
        if km is not None and km.has_kernel:
            try:
                await ensure_async(km.interrupt_kernel())
            except Exception:  # the kernel may be gone already: the run's own clean-up handles that
                pass

    def kill(self) -> None:
        """Kill the kernel and what it started (its process group) at once: nothing may outlive an interrupted check."""
        provisioner = getattr(self.client.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        if process is None or process.poll() is not None:
            return
        group = getattr(provisioner, "pgid", None)
        try:
            if group and hasattr(os, "killpg"):
                os.killpg(group, signal.SIGKILL)
            else:
                process.kill()
        except OSError:  # gone meanwhile
            pass

    def last_words(self) -> str:
        """The kernel's last line on stderr (its warnings about transport and debugger left out)."""
        self.log.seek(0)
        lines = [line.strip() for line in self.log.read().decode(errors="replace").splitlines()
                 if line.strip() and "WARNING" not in line]
        return f": {lines[-1][:200]}" if lines else ""

    async def silent(self, code: str, expressions: dict[str, str], what: str) -> dict[str, Any]:
        """Run ``code`` silently (no output, history or count) and return ``expressions``' values."""
        from jupyter_core.utils import ensure_async
        from nbformat.v4 import new_code_cell

        kc = self.client.kc
        if kc is None:
            raise Stopped(f"{self.path}: the kernel is gone")
        msg_id = await ensure_async(kc.execute(code, silent=True, store_history=False, user_expressions=expressions,
                                               stop_on_error=False))
        reply = await self.client.async_wait_for_reply(msg_id, new_code_cell(code))
        content = (reply or {}).get("content", {})
        if content.get("status") != "ok":
            message = f"{content.get('ename', 'no reply')}: {one_line(content.get('evalue', ''))}".rstrip(": ")
            raise BadInput(f"{self.path}: the kernel could not {what} ({message}); is seedmagic installed "
                           f"for the kernel's Python?")
        values = {}
        for key, value in content.get("user_expressions", {}).items():
            if value.get("status") != "ok":
                raise BadInput(f"{self.path}: the kernel could not {what} "
                               f"({value.get('ename')}: {one_line(value.get('evalue', ''))})")
            values[key] = json.loads(ast.literal_eval(value["data"]["text/plain"]))
        return values

    def _take_updates(self, run: Run) -> None:
        """A display that a later cell updated (``display(..., display_id=True)``, then ``.update(...)``) is compared
        as the notebook ends, as Jupyter saves it."""
        for cell_run in run.cells:
            final = self.folder.relocate(list(self.client.nb.cells[cell_run.index].outputs))
            if final != cell_run.outputs:
                cell_run.outputs, cell_run.updated = final, True

    async def _connect(self) -> None:
        """Wait for the started kernel to answer, up to ``--start-timeout``; its death or silence is one line."""
        try:
            await self.client.async_start_new_kernel_client()
        except RuntimeError as error:  # jupyter_client's wait_for_ready: the kernel died, or did not answer in time
            if "died" in str(error):
                raise BadInput(f"{self.path}: the kernel died as it started{self.last_words()}") from None
            limit = self.options.start_timeout
            raise BadInput(f"{self.path}: the kernel did not start within "
                           f"{_seconds(limit if limit < LONGEST else None)} (--start-timeout)") from None

    async def run(self, rerun: bool = False, progress: Callable[[int], None] | None = None,
                  last: int | None = None) -> Run:
        """Run the cells in order (up to cell ``last``), the probe after each; with ``rerun`` each cell twice."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if last is not None:
            self.finish_at(last)
        run = Run(hash_seed=self.hash_seed)
        client = self.client
        env = kernel_environment(self.hash_seed)
        values: dict[str, str] = {}
        _running.add(self)
        try:
            # Started here, so that nbclient's SIGINT handler (set on entering ``async_setup_kernel``, which then
            # finds the kernel running) is replaced by the check's at once, with no await in between.
            client.km = client.create_kernel_manager()
            await client.async_start_new_kernel(env=env, stdout=self.log, stderr=self.log)
            await self._connect()
            async with client.async_setup_kernel():
                _claim_signals()
                await self.silent(_SETUP.format(self.folder.moved), {}, "start seedmagic's probe")
                cells = [(index, cell) for index, cell in enumerate(client.nb.cells) if executes(cell)]
                for count, (index, cell) in enumerate(cells, 1):
                    if self.last is not None and index > self.last:
                        break
                    if self.stopped:
                        raise Stopped(f"{self.path}: stopped because the other run failed")
                    outputs, first, probe, error, moved = None, None, {}, None, ()
                    for attempt in range(2 if rerun else 1):
                        try:
                            self.reply = {}
                            await client.async_execute_cell(cell, index, execution_count=count)
                        except CellTimeoutError:
                            raise BadInput(f"{self.path}: cell {index} (In [{count}]) did not finish within "
                                           f"{_seconds(self.options.timeout)} (--timeout)") from None
                        except DeadKernelError:
                            words = self.last_words()
                            raise KernelDied(f"{self.path}: the kernel died in cell {index} (In [{count}]){words}",
                                             index, count, words) from None
                        if outputs is None:  # a rerun's own outputs (say, "already loaded") are not compared
                            outputs = self.folder.relocate(list(cell.outputs))
                        error = None if tags(cell) & RAISES_TAGS else error_of(self.reply, cell.outputs)
                        error = None if error is None else self.folder.relocate_text(error)
                        if error is not None:
                            break
                        probe = (await self.silent("", {"take": _TAKE}, "record the cell"))["take"]
                        changed, gone = probe.pop("values"), probe.pop("gone")
                        values.update(changed)
                        for name in gone:
                            values.pop(name, None)
                        first = probe if attempt == 0 else first
                        moved = tuple(sorted({*changed, *gone})) if attempt == 1 else ()
                    run.cells.append(CellRun(index, count, outputs or [], error, {} if error else probe,
                                             dict(values), first if rerun and error is None else None, moved,
                                             error is not None and attempt == 1))
                    if error is not None:
                        break  # as "Run All" stops at an error the cell was not tagged to raise
                    if progress is not None:
                        progress(count)
                if not self.options.rerun:  # a rerun replaces a cell's outputs: the first ones are compared
                    self._take_updates(run)
                versions = await self.silent("", {"versions": _VERSIONS}, "read library versions")
                run.versions = versions["versions"]
        finally:
            _running.discard(self)
            _claim_signals()
            self.log.close()
        return run


def _seconds(value: float | None) -> str:
    return "no limit" if value is None else f"{value:g} s"
