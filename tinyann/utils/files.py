"""Atomic file writes: write a temporary file next to the target, then rename.

``os.replace`` swaps the file in one step, so a reader sees either the old file
or the complete new one; if anything fails before, the old file is untouched
and the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import os
import secrets


def _temp_name(filepath: str) -> str:
    directory, base = os.path.split(filepath)
    return os.path.join(directory, f".{base}.{secrets.token_hex(4)}.tmp")


@contextlib.contextmanager
def atomic_path(filepath):
    """Yields a fresh temporary path; on success it replaces ``filepath``.

    The temporary file is created empty with the permissions ``open`` would give
    (so the umask applies, unlike ``tempfile.mkstemp``'s 0600).

    Example:
        >>> with atomic_path("model.weights.h5") as tmp:
        ...     write_everything_to(tmp)
    """
    filepath = os.fspath(filepath)
    directory = os.path.dirname(filepath)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, exist_ok=True)
    while True:
        tmp = _temp_name(filepath)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
    os.close(fd)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, filepath)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_dir(directory or ".")


def atomic_write_bytes(filepath, data: bytes) -> None:
    """Writes ``data`` to ``filepath`` atomically."""
    with atomic_path(filepath) as tmp, open(tmp, "wb") as f:
        f.write(data)


def atomic_write_text(filepath, text: str) -> None:
    """Writes ``text`` as UTF-8 to ``filepath`` atomically."""
    atomic_write_bytes(filepath, text.encode("utf-8"))


def _fsync_file(path: str) -> None:
    # the data must be on disk before the rename makes it visible
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(directory: str) -> None:
    # makes the rename itself durable; not possible on every platform
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
