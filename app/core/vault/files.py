"""Writing files out of the vault (exports, protected copies) and explaining file errors."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterable
from pathlib import Path

from .. import hardening


def write_new_file(target: Path, data: bytes | Iterable[bytes]) -> Path:
    """Write a file (bytes, or pieces of it) atomically under a name that does not exist yet:
    never overwrite, and leave nothing behind on failure (a partial file would look like a
    photo). Owner-only (0600): an exported photo or a protected copy is still private."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target = free_name(target.parent, target.name)
    tmp = target.with_name(f".{target.name}.sanctum-part")
    try:
        with hardening.open_private(tmp) as out:
            for piece in [data] if isinstance(data, bytes) else data:
                out.write(piece)
            out.flush()
            os.fsync(out.fileno())
        if target.exists():
            target = free_name(target.parent, target.name)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


def safe_filename(name: str, photo_id: int) -> str:
    base = Path(name).name.strip().lstrip(".")
    return base or f"photo-{photo_id}"


def free_name(folder: Path, name: str) -> Path:
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem} ({n}){suffix}"
        n += 1
    return candidate


def os_reason(exc: OSError) -> str:
    return {
        errno.ENOSPC: "the disk is full",
        errno.EROFS: "the destination is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOENT: "the file or folder does not exist",
        errno.EDQUOT: "the disk quota is exceeded",
    }.get(exc.errno, exc.strerror or str(exc))


def reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return os_reason(exc)
    return str(exc)
