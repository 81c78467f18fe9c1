"""One adapter per global random number generator, the kinds of generator users hold, and the plugins that add more.

An adapter seeds, captures, restores and previews one generator, and turns
its state into plain data and back (``encode``/``decode``, used by state
files and ``state_dict``); ``decode`` refuses anything the library would not
accept or that no real state can be, because some libraries crash on such
states instead of raising. Adapters never import the library they serve:
they reach it through ``sys.modules`` once it has been fully imported, and
``seedmagic.importhook`` seeds it when it is imported. Previews draw from a
private copy of the state, so they never move the real generator.

The modules, bottom to top:

- ``protocol``: the ``Adapter`` protocol, its optional members, ``UserKind``;
- ``detect``: whether a library is installed, or imported (never importing it);
- ``states``: the checks ``decode`` shares, and fingerprints;
- ``python``, ``numpy``, ``torch``: one module per library, its adapters and its users' kinds;
- ``pluginscan``: the entry points of one group, read from the installed metadata without importlib.metadata;
- ``catalog``: the registry of built-ins, plugins and kinds.
"""

from __future__ import annotations

from .catalog import (BUILTIN, BUILTIN_NAMES, ENTRY_POINT_GROUP, KIND_BY_WORD, KINDS, LIBRARIES, check_facts,
                      object_state, peek_object, plugin_failed, registry, user_generator_kind, user_kind)
from .detect import absence, is_installed, is_loaded, loaded_module, present
from .numpy import NumpyGlobal
from .protocol import (Adapter, CheckFacts, Checked, Codec, Digest, Freshness, RestoredLast, Swappable, UserKind,
                       decoder, digester, encoder, freshness, holder_of, restored_last, swappable)
from .python import PythonRandom
from .states import MAX_GAUSS, MT_WORDS, fingerprint
from .torch import TorchCPU, TorchCUDA, TorchMPS

__all__ = [
    "BUILTIN", "BUILTIN_NAMES", "ENTRY_POINT_GROUP", "KINDS", "KIND_BY_WORD", "LIBRARIES", "MAX_GAUSS", "MT_WORDS",
    "Adapter", "CheckFacts", "Checked", "Codec", "Digest", "Freshness", "NumpyGlobal", "PythonRandom", "RestoredLast",
    "Swappable", "TorchCPU", "TorchCUDA", "TorchMPS", "UserKind", "absence", "check_facts", "decoder", "digester",
    "encoder", "fingerprint", "freshness", "holder_of", "is_installed", "is_loaded", "loaded_module", "object_state",
    "peek_object", "plugin_failed", "present", "registry", "restored_last", "swappable", "user_generator_kind",
    "user_kind",
]
