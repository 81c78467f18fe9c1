"""The kernel side of ``seedmagic check``: what each cell did to the generators, read between cells.

``seedmagic check`` starts this in every kernel it runs with one silent
request (no output, no history, no execution count), and after each cell
asks for ``take()`` through a silent request's ``user_expressions``: the
answer travels in the reply, never in the cell's outputs. Nothing here
prints, and nothing is bound in the user's namespace.

A record says which global generators the cell advanced (a library imported
during the cell is compared with the state it was imported in, so an import
seeded from OS entropy is not a draw yet), their fingerprints after it, the
generators the user holds, the seeds in force and the seedings the cell made.
"""

from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from typing import Any

from .adapters import registry, user_generator_kind
from .session import book, history
from .status import CellWatch, user_generators


class Probe:
    """What each cell did to the generators, from the panel's own cell watch."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self.watch = CellWatch()
        self.watch.rebaseline(namespace)
        self.seen = self._seedings()

    @staticmethod
    def _seedings() -> int:
        """How many seedings the session has made so far (the history keeps the last ones only)."""
        return history.dropped + len(history.events)

    def take(self) -> dict[str, Any]:
        self.watch.after_cell(self.namespace)
        fingerprints = self.watch.last or {}
        count = self._seedings()
        new_events = history.events[-(count - self.seen):] if count > self.seen else []
        self.seen = count
        holders = user_generators(self.namespace)
        return {
            "globals": {name: state for (whose, name), state in fingerprints.items() if whose == "global"},
            "advanced": [name for name in registry() if ("global", name) in self.watch.advanced],
            "unseeded": list(self.watch.unseeded),
            "users": {name: [user_generator_kind(holders[name]), state]
                      for (whose, name), state in fingerprints.items() if whose == "user" and name in holders},
            "seeds": dict(book.seeds),
            "session_seed": book.session_seed,
            "events": [[event.source, event.seed, list(event.generators), event.entropy, event.label]
                       for event in new_events],
        }


_probe: Probe | None = None


def start(shell: Any) -> None:
    """Load seedmagic into ``shell`` (as the notebook's own ``%load_ext seedmagic`` would) and start recording."""
    global _probe
    from .magics import load

    load(shell)
    _probe = Probe(shell.user_ns)


def take() -> str:
    """The record of the cell that just ran, as JSON (one line: it travels as a ``user_expressions`` value)."""
    assert _probe is not None, "seedmagic.probe.start() was not called"
    return json.dumps(_probe.take(), separators=(",", ":"))


def versions() -> str:
    """Versions of what decided the streams here, as JSON; a library the notebook did not import is None."""
    found: dict[str, str | None] = {"python": platform.python_version(), "machine": platform.machine()}
    for name in ("numpy", "torch", "seedmagic"):
        module = sys.modules.get(name)
        found[name] = None if module is None else str(getattr(module, "__version__", None) or _installed(name))
    torch = sys.modules.get("torch")
    found["cuda"] = found["cudnn"] = None
    if torch is not None:
        found["cuda"] = getattr(torch.version, "cuda", None)
        try:
            cudnn = torch.backends.cudnn.version() if found["cuda"] else None
        except Exception:
            cudnn = None
        found["cudnn"] = None if cudnn is None else str(cudnn)
    return json.dumps(found, separators=(",", ":"))


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
