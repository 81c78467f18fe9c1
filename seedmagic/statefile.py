"""The state-file format: every generator's state as JSON, and all the checks a foreign one needs.

A state file (and a ``state_dict``) is data from anywhere. Before anything
is applied, each entry is checked here: its generator exists and is
available, and its state is one the library accepts and a real generator
can be in (``Adapter.decode``). Files are read only when they are regular
files under a size limit, and written to a temporary file that replaces the
old one only once it is complete, so a full disk never destroys a good file.
Nothing in a state file can run code: no pickle, no ``torch.load``.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import os
import pathlib
import re
import stat
import sys
from typing import Any

from .adapters import BUILTIN_NAMES, Adapter, absence, decoder, encoder, loaded_module, registry
from .adapters.states import plain
from .atomicfile import replace_text
from .ranks import current_rank
from .session import SeedError, describe

FORMAT = "seedmagic-state"
VERSION = 2
#: A state file is tens of kilobytes; anything bigger is not one of ours.
MAX_BYTES = 4 * 2**20


@functools.cache
def _rank_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The patterns of rank fields in a state-file path, compiled at the first use (at import they
    would cost ``%load_ext`` a millisecond):

    - braces that name a rank: ``{rank}``, and the misspellings that must not be written literally
      (one file for every rank): ``{rank!r}``, ``{RANK}``, ``{local_rank}``, ``{rank:{width}}``;
    - the one form replaced: ``{rank}`` or ``{rank:SPEC}``;
    - an integer format spec: fill and alignment, sign, ``#``, ``0``, a width, grouping, type b, d, o, x or X.
    """
    return (re.compile(r"\{[^{}]*(?<![a-z])rank(?![a-z])(?:[^{}]|\{[^{}]*\})*\}", re.IGNORECASE),
            re.compile(r"\{rank(?::(?P<spec>[^{}]*))?\}"),
            re.compile(r"(?:(?P<fill>.)?(?P<align>[<>=^]))?[-+ ]?#?(?P<zero>0)?\d{0,3}[,_]?[bdoxX]?", re.DOTALL))


_DOCUMENT_FIELDS = frozenset({"format", "version", "session_seed", "generators"})
_ENTRY_FIELDS = frozenset({"state", "seed"})
_ARRAY_DTYPES = {"uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "float32", "float64"}

#: One generator in a document: its name, its state (None: not created yet) and its last seed.
Item = tuple[str, Any, "int | None"]


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def encode(items: list[Item], session_seed: int | None, tensors: bool = False) -> dict[str, Any]:
    """The document for ``items``: plain numbers, strings, lists and dicts (JSON, and ``weights_only`` safe).

    ``tensors``: a built-in's state that is a tensor (torch's generators') stays one, as
    in a ``state_dict``: ``torch.save`` writes it and ``weights_only`` reads it
    back, and turning its bytes into a list and back would cost more than the
    rest of a checkpoint round trip. A state file needs JSON: lists.
    """
    adapters = registry()
    generators = {}
    for name, state, seed in items:
        adapter = adapters[name]
        try:
            data = (None if state is None else state if tensors and name in BUILTIN_NAMES and _is_tensor(state)
                    else _encode_state(adapter, state))
        except TypeError as error:
            raise SeedError(f"cannot save the state of {name}: {error}") from None
        generators[name] = {"state": data, "seed": seed}
    return {"format": FORMAT, "version": VERSION, "session_seed": session_seed, "generators": generators}


def _is_tensor(value: Any) -> bool:
    tensor = getattr(sys.modules.get("torch"), "Tensor", None)  # None also for a folder named torch, imported
    return tensor is not None and isinstance(value, tensor)


def _encode_state(adapter: Adapter, state: Any) -> Any:
    own = encoder(adapter)
    return own(state) if own is not None else _encode_plain(state)


def decode(document: Any, where: str, noun: str = "seedmagic state file") -> tuple[list[Item], int | None]:
    """Check a whole document and return its items; ``SeedError`` (one line) names the first problem.

    An entry without a state for a generator that is not available here (a
    device this machine lacks, saved before its library was imported) is
    dropped: there is nothing to put back. A document made in memory may hold
    objects whose own methods raise (a dict subclass whose ``get`` does):
    what they raise is one more reason to refuse it.
    """
    try:
        return _decode(document, where, noun)
    except SeedError:
        raise
    except Exception as error:
        raise SeedError(f"{where} is not a usable {noun}: {describe(error)}") from None


def _decode(document: Any, where: str, noun: str) -> tuple[list[Item], int | None]:
    document = plain(document)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SeedError(f"{where} is not a {noun} (no \"format\": \"{FORMAT}\")")
    if document.get("version") != VERSION:
        raise SeedError(f"{where} is a {noun} of version {repr(document.get('version'))[:20]}; "
                        f"this seedmagic reads version {VERSION}")
    if document.keys() != _DOCUMENT_FIELDS:
        raise SeedError(f"{where} is not a usable {noun}: it must have exactly the fields "
                        "format, version, session_seed and generators")
    adapters = registry()
    try:
        session_seed = _seed_or_none(document["session_seed"], "the session seed")
        generators = plain(document["generators"])
        if not isinstance(generators, dict):
            raise ValueError("'generators' is not a mapping")
        entries = []  # everything but the states first: a state may need its library imported to be checked
        for name, item in generators.items():
            item = plain(item)
            if name not in adapters:
                raise ValueError(f"it has a state for {str(name)[:40]!r}, which is not a generator here "
                                 f"(known: {', '.join(adapters)})")
            if not isinstance(item, dict) or item.keys() != _ENTRY_FIELDS:
                raise ValueError(f"the entry for {name} is not {{'state': ..., 'seed': ...}}")
            adapter = adapters[name]
            if absence(adapter) is not None:
                if item["state"] is None:
                    continue
                raise ValueError(f"it has a state for {name}, which is not available here")
            entries.append((name, item["state"], _seed_or_none(item["seed"], f"the seed of {name}")))
        items: list[Item] = [(name, None if state is None else _decode_state(adapters[name], state), seed)
                             for name, state, seed in entries]
    except (KeyError, TypeError, ValueError, OverflowError, RecursionError) as error:
        raise SeedError(f"{where} is not a usable {noun}: {one_line(error)}") from None
    return items, session_seed


def _decode_state(adapter: Adapter, data: Any) -> Any:
    """The adapter's own check (built-ins); a plugin's generic state must at least be well formed."""
    own = decoder(adapter)
    if own is not None:
        if adapter.module is not None and loaded_module(adapter.module) is None:
            import importlib

            importlib.import_module(adapter.module)  # a state to check and apply needs its library
        return own(data)
    return _decode_plain(data)


def _seed_or_none(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not 0 <= value < 2**32:
        huge = type(value) is int and value.bit_length() > 64  # str() of a 5000-digit number raises
        shown = f"(an integer of {value.bit_length()} bits)" if huge else str(value)[:30]
        raise ValueError(f"{what} {shown} is not a seed")
    return value


def _encode_plain(value: Any) -> Any:
    """Plain JSON for a plugin's state; tuples, dicts, arrays and tensors are tagged."""
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        if not math.isfinite(value):
            raise TypeError(f"{value} is not a finite number")
        return value
    if isinstance(value, tuple):
        return {"tuple": [_encode_plain(item) for item in value]}
    if isinstance(value, list):
        return [_encode_plain(item) for item in value]
    if isinstance(value, dict):
        return {"dict": {str(key): _encode_plain(item) for key, item in value.items()}}
    kind = "tensor" if type(value).__module__.startswith("torch") else "array"
    array = value.cpu().numpy() if kind == "tensor" else value
    if not hasattr(array, "tobytes") or str(getattr(array, "dtype", "")) not in _ARRAY_DTYPES:
        if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
            return _encode_plain(value.item())  # a NumPy scalar
        raise TypeError(f"{type(value).__name__} is not a number, string, list, tuple, dict, array or tensor")
    return {kind: {"dtype": str(array.dtype), "shape": list(array.shape),
                   "data": base64.b64encode(array.tobytes()).decode("ascii")}}


def _decode_plain(value: Any) -> Any:
    """The inverse of ``_encode_plain``; anything it did not write is a ``ValueError``."""
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        if not math.isfinite(value):
            raise ValueError("a state holds a number that is not finite")
        return value
    if isinstance(value, list):
        return [_decode_plain(item) for item in value]
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"unexpected value {str(value)[:40]!r}")
    (tag, body), = value.items()
    if tag == "tuple" and isinstance(body, list):
        return tuple(_decode_plain(item) for item in body)
    if tag == "dict" and isinstance(body, dict):
        return {key: _decode_plain(item) for key, item in body.items()}
    if tag in ("array", "tensor") and isinstance(body, dict):
        return _decode_array(tag, body)
    raise ValueError(f"unexpected value tagged {str(tag)[:20]!r}")


def _decode_array(tag: str, body: dict[str, Any]) -> Any:
    import numpy as np

    if set(body) != {"dtype", "shape", "data"} or body["dtype"] not in _ARRAY_DTYPES:
        raise ValueError(f"an {tag} must have dtype (one of {', '.join(sorted(_ARRAY_DTYPES))}), shape and data")
    shape = body["shape"]
    if not isinstance(shape, list) or not all(type(n) is int and 0 <= n <= MAX_BYTES for n in shape):
        raise ValueError(f"bad {tag} shape {str(shape)[:40]}")
    if not isinstance(body["data"], str):
        raise ValueError(f"the {tag} data is not base64 text")
    try:
        data = base64.b64decode(body["data"], validate=True)
    except ValueError:
        raise ValueError(f"the {tag} data is not base64") from None
    dtype = np.dtype(body["dtype"])
    if len(data) != dtype.itemsize * math.prod(shape):
        raise ValueError(f"the {tag} data has {len(data)} bytes, not the {dtype.itemsize * math.prod(shape)} "
                         f"its shape and dtype need")
    array = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if tag == "array":
        return array
    import importlib

    return importlib.import_module("torch").from_numpy(array)


def expand(path: str | os.PathLike[str]) -> pathlib.Path:
    """A path as the user meant it: ``~`` expanded, ``{rank}`` made this process's rank; bad names refused.

    ``{rank}`` (or ``{rank:02d}``, with a format spec) lets every rank of a job
    run the same ``%seed --save rng-{rank}.json`` and write (and later read)
    its own file. Braces that name a rank any other way are refused rather
    than written literally, which would give every rank the same file; other
    braces are part of the name.
    """
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not isinstance(text, str):
        raise SeedError(f"a state-file path must be text, got {type(path).__name__}")
    if not text.strip():
        raise SeedError("give a file name (the path is empty)")
    if "\0" in text:
        raise SeedError("a file name cannot hold a NUL character")
    braces = _rank_patterns()[0]
    fields = {field: _rank_spec(field) for field in braces.findall(text)}
    if fields:
        rank = current_rank()
        text = braces.sub(lambda found: format(rank, fields[found.group()]), text)
    return pathlib.Path(text).expanduser()


def _rank_spec(field: str) -> str:
    """The format spec of a rank field; ``SeedError`` for any other form, or a spec that two ranks could share.

    Only integer presentations, and no fill that could be taken for a digit
    (``{rank:1^5}`` makes 1 and 11 both ``11111``; ``{rank:<03}`` makes 1
    and 100 both ``100``), except 0 on the left.
    """
    _, rank_field, rank_spec = _rank_patterns()
    found = rank_field.fullmatch(field)
    spec = "" if found is None else found["spec"] or ""
    shape = None if found is None else rank_spec.fullmatch(spec)
    if shape is not None:
        fill = shape["fill"] or ("0" if shape["zero"] else " ")
        on_the_left = shape["align"] in (None, ">", "=")
        try:
            format(0, spec)  # Python refuses some combinations, such as {rank:,x}
            if not fill.isalnum() or (fill == "0" and on_the_left):
                return spec
        except ValueError:
            pass
    raise SeedError(f"a state-file path takes the rank as {{rank}}, or {{rank:SPEC}} with an integer format spec "
                    f"such as {{rank:02d}} or {{rank:>3}}; {field[:40]} is neither")


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a state file: a regular file of at most ``MAX_BYTES``, JSON; never blocks, never reads more."""
    where = expand(path)
    try:
        descriptor = os.open(where, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise SeedError(f"cannot read {where}: {error.strerror or one_line(error)}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
            raise SeedError(f"cannot read {where}: it is {kind}")
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise SeedError(f"cannot read {where}: {error.strerror or one_line(error)}") from None
    finally:
        os.close(descriptor)
    if len(raw) > MAX_BYTES:
        raise SeedError(f"{where} is not a seedmagic state file: it is bigger than {MAX_BYTES} bytes")
    try:
        document: dict[str, Any] = json.loads(raw.decode("utf-8"))
        return document
    except UnicodeDecodeError:
        raise SeedError(f"{where} is not a seedmagic state file: it is not text (JSON)") from None
    except (ValueError, RecursionError) as error:
        raise SeedError(f"{where} is not a seedmagic state file: not valid JSON ({one_line(error)})") from None


def write(path: str | os.PathLike[str], document: dict[str, Any]) -> pathlib.Path:
    """Write atomically (``atomicfile.replace_text``): a temporary file beside the target, flushed to disk,
    then renamed over it; anything at the path but a regular file is refused."""
    where = expand(path)
    if where.is_symlink():  # write the file the link points to, and keep the link
        where = pathlib.Path(os.path.realpath(where))
    text = json.dumps(document, allow_nan=False) + "\n"
    try:
        replace_text(where, text)
    except OSError as error:
        raise SeedError(f"cannot write {where}: {error.strerror or one_line(error)}") from None
    return where
