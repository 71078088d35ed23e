"""Owner-only files and folders, and no core dumps while keys are in memory. Qt-free.

On POSIX, private files are created 0600 and private folders 0700 from the start (never created
readable and narrowed afterwards, which would leave a window), whatever the process umask says:
on a shared computer another account must not read the vault, an export or a saved recovery key.
On Windows the user's profile ACLs already keep other accounts out; these calls do nothing there.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
from pathlib import Path

from .files import write_atomically

log = logging.getLogger(__name__)

POSIX = os.name == "posix"
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def make_private_dir(path: Path) -> None:
    """Create `path` (and parents) if missing; the folder itself ends up owner-only."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    restrict(path)


def restrict(path: Path) -> None:
    """Make an existing file 0600 or folder 0700 (no-op off POSIX)."""
    if not POSIX:
        return
    mode = PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE
    try:
        os.chmod(path, mode)
    except FileNotFoundError:
        pass
    except OSError as exc:
        # File systems without POSIX modes (FAT/exFAT sticks, some network shares) refuse:
        # nothing to narrow there, and the vault must still open.
        log.debug("could not restrict a file's mode: %s", type(exc).__name__)


def open_private(path: Path, *, exclusive: bool = True):
    """A new binary file opened for writing, created 0600 (the mode is set at creation)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    flags |= getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, PRIVATE_FILE_MODE)
    try:
        if POSIX:
            with contextlib.suppress(OSError):  # see restrict(): some file systems have no modes
                os.fchmod(fd, PRIVATE_FILE_MODE)  # an existing file (exclusive=False) keeps its old mode
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def write_private_text(path: Path, text: str) -> None:
    """Write a small text file (e.g. a saved recovery key) readable by its owner only."""
    write_atomically(Path(path), text.encode("utf-8"), mode=PRIVATE_FILE_MODE)


def restrict_tree(root: Path) -> int:
    """Make a folder and everything in it owner-only; returns how many entries changed.

    Run at every unlock, so vaults made by earlier versions (0755 folders, 0644 files) and files
    other code created with default modes (SQLite's -wal and -shm) are corrected.
    """
    if not POSIX:
        return 0
    changed = 0
    for current, _dirs, files in os.walk(root):
        for name in [None, *files]:
            path = Path(current) if name is None else Path(current) / name
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            if os.path.islink(path):
                continue
            wanted = PRIVATE_DIR_MODE if name is None else PRIVATE_FILE_MODE
            if st.st_mode & 0o777 != wanted:
                try:
                    os.chmod(path, wanted)
                    changed += 1
                except OSError as exc:  # gone meanwhile, or a file system without modes
                    log.debug("could not restrict a file's mode: %s", type(exc).__name__)
    return changed


# --- process: no core dumps --------------------------------------------------------------------

_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3


def disable_core_dumps() -> None:
    """Keep the keys in this process's memory out of core dumps (and, on Linux, away from
    same-user debuggers: a non-dumpable process cannot be ptrace-attached without privilege).

    Called when a vault opens, and never undone: Python cannot wipe memory, so keys of a vault
    that was locked may still sit in freed memory for the rest of the process's life.
    """
    if not POSIX:
        return
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError) as exc:
        log.debug("could not lower RLIMIT_CORE: %s", type(exc).__name__)
    libc = _libc()
    if libc is not None and hasattr(libc, "prctl"):
        if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            log.debug("prctl(PR_SET_DUMPABLE) failed")


def core_dumps_disabled() -> bool:
    """Whether this process can no longer leave a core dump (for tests and diagnostics)."""
    if not POSIX:
        return False
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    if soft != 0 or hard != 0:
        return False
    libc = _libc()
    if libc is not None and hasattr(libc, "prctl"):
        return libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0) == 0
    return True


def _libc():
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
