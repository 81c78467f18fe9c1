"""Writing a file so that a crash, a full disk or Ctrl-C leaves either the old file or the new one, never half."""

from __future__ import annotations

import errno
import os
import pathlib
import stat
import secrets


def replace_text(path: str | os.PathLike[str], text: str) -> pathlib.Path:
    """Write ``text`` to a temporary file beside the target, flush it to disk, then rename it over the target.

    A symbolic link stays a link: the file it points to is replaced. The
    target's permissions are kept. Anything at the path but a regular file
    (a folder, a device such as ``/dev/null``, a FIFO, a link in a loop) is
    refused with an ``OSError`` and left alone. A new file gets the permissions ``open`` gives one (the
    umask applies). Returns the path written; an ``OSError``
    leaves the target as it was and no temporary file behind.
    """
    where = pathlib.Path(path)
    if where.is_symlink():
        where = pathlib.Path(os.path.realpath(where))
    try:
        kind = os.lstat(where).st_mode
    except FileNotFoundError:
        kind = stat.S_IFREG
    if not stat.S_ISREG(kind):  # renaming over a device, a FIFO or a link in a loop would replace it
        raise OSError(errno.EISDIR if stat.S_ISDIR(kind) else errno.EINVAL,
                      "it is a folder" if stat.S_ISDIR(kind) else "it is not a regular file")
    temporary: str | None = None
    try:
        mode = where.stat().st_mode & 0o777 if where.exists() else None
        descriptor, temporary = _create_beside(where)
        if mode is not None:
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


def _create_beside(where: pathlib.Path) -> tuple[int, str]:
    """A new, empty temporary file beside ``where``, opened for writing, with the permissions a new file gets
    here (``0o666`` less the umask, as ``open`` gives: ``mkstemp``'s ``0o600`` would not follow the umask)."""
    for _ in range(100):
        candidate = str(where.parent / f".{where.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), candidate
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(where.parent))
