"""Writing a file all or nothing: the one temp-file-and-rename of the core.

A reader (another Sanctum, a file manager, the next start after a crash) sees the old file or
the new one, never half of one: the data goes to a temporary file first, which is then renamed
over the target in one step.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

PRIVATE_MODE = 0o600  # owner only: the mode of every file of the vault
SHAREABLE_MODE = 0o644  # exports meant for others (a public key, hashes)
TEMP_SUFFIX = ".part"  # what a half-written file left by a crash is recognised by


def write_atomically(path: Path | str, data: bytes | Iterable[bytes], *, mode: int = PRIVATE_MODE,
                     durable: bool = True, temp_dir: Path | None = None) -> int:
    """Write `data` (bytes, or pieces of it) to `path` all or nothing; returns the bytes written.

    The temporary file is created with `mode` already set (never readable by others in between),
    in `temp_dir` (default: the target's folder, as a rename only stays atomic within one file
    system). `durable` also flushes the file and then its folder to the disk, so the new content
    survives a power cut once this returns. On any failure the temporary file is removed and the
    target is untouched.
    """
    path = Path(path)
    folder = Path(temp_dir) if temp_dir is not None else path.parent
    handle, tmp = tempfile.mkstemp(prefix=".sanctum-", suffix=TEMP_SUFFIX, dir=folder)
    written = 0
    try:
        with os.fdopen(handle, "wb") as out:
            if os.name == "posix" and mode != PRIVATE_MODE:  # mkstemp creates 0600
                with contextlib.suppress(OSError):  # some file systems have no modes
                    os.fchmod(out.fileno(), mode)
            for piece in [data] if isinstance(data, bytes | bytearray | memoryview) else data:
                out.write(piece)
                written += len(piece)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(tmp, path)
        if durable:
            fsync_folder(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return written


def fsync_folder(path: Path) -> None:
    """Make a rename or a new entry in `path` durable (a no-op where folders cannot be synced)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
