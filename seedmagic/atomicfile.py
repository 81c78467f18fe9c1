"""Writing a file so that a crash, a full disk or Ctrl-C leaves either the old file or the new one, never half."""

from __future__ import annotations

import os
import pathlib
import tempfile


def replace_text(path: str | os.PathLike[str], text: str) -> pathlib.Path:
    """Write ``text`` to a temporary file beside the target, flush it to disk, then rename it over the target.

    A symbolic link stays a link: the file it points to is replaced. The
    target's permissions are kept. Returns the path written; an ``OSError``
    leaves the target as it was and no temporary file behind.
    """
    where = pathlib.Path(path)
    if where.is_symlink():
        where = pathlib.Path(os.path.realpath(where))
    temporary: str | None = None
    try:
        mode = where.stat().st_mode & 0o777 if where.exists() else 0o644
        descriptor, temporary = tempfile.mkstemp(dir=where.parent, prefix=f".{where.name}.", suffix=".tmp")
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, where)
        temporary = None
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
    return where
