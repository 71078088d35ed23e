"""Copying files into and out of a backup: hashed on the way, synced before they count, and
destination failures turned into the errors a person can act on."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import blake3

from .. import hardening
from ..errors import BackupDestinationFull, BackupDestinationGone, NotABackup
from ..files import TEMP_SUFFIX, fsync_folder
from .manifest import BLOBS_DIR, FILES_DIR, MANIFEST_NAME, README_NAME, README_TEXT, TMP_DIR, Entry

CHUNK = 1 << 20

FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
# What an unplugged drive or a vanished network share answers with.
_GONE = (errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.EIO, errno.ESTALE, errno.ENOTCONN)


class Tee:
    """A reader that hashes what passes through it, and optionally writes it out: one pass over
    a blob both checks it (decrypt_stream reads through it) and copies it."""

    def __init__(self, source: BinaryIO, out: BinaryIO | None = None):
        self.source, self.out = source, out
        self.digest = blake3.blake3()
        self.size = 0

    def read(self, n: int = CHUNK) -> bytes:
        data = self.source.read(n)
        if data:
            self.digest.update(data)
            self.size += len(data)
            if self.out is not None:
                self.out.write(data)
        return data

    def drain(self) -> Entry:
        while self.read(CHUNK):
            pass
        return Entry(self.size, self.digest.hexdigest())


def hash_file(path: Path) -> Entry:
    with open(path, "rb") as f:
        return Tee(f).drain()


@contextlib.contextmanager
def new_file(final: Path, tmp_dir: Path) -> Iterator[BinaryIO]:
    """A private temporary file in `tmp_dir`, renamed to `final` when the block ends without an
    error, removed otherwise: a file appears under its name complete or not at all, so a run
    killed at any moment leaves only whole files (and parts in tmp/). Not synced here: one
    `make_durable` for the whole run costs a fraction of a sync per file (see its docstring)."""
    tmp = tmp_dir / f"{secrets.token_hex(8)}{TEMP_SUFFIX}"
    try:
        with hardening.open_private(tmp) as out:
            yield out
        make_folder(final.parent)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def make_folder(path: Path) -> None:
    """One folder level, owner-only. Never its parents: a destination that vanished (a drive
    unplugged) must fail the run, not be made again on the disk that held its mount point."""
    if not path.is_dir():
        path.mkdir(mode=0o700, exist_ok=True)
        hardening.restrict(path)


def copy_hashed(source: Path, final: Path, tmp_dir: Path | None) -> Entry:
    """Copy `source` to `final`, through `tmp_dir` (see new_file), or in place when it is None
    (cheaper by a rename and a create per file: for names nothing refers to yet); the entry
    describes the bytes written."""
    with open(source, "rb") as src:
        if tmp_dir is not None:
            with new_file(final, tmp_dir) as out:
                return Tee(src, out).drain()
        make_folder(final.parent)
        with hardening.open_private(final, exclusive=False) as out:
            return Tee(src, out).drain()


def make_durable(root: Path, files: list[Path], folders: set[Path]) -> None:
    """Put every file written (and its name) on the disk before what lists them is written.

    On Linux, one syncfs(2) of `root`'s file system: the kernel writes everything back at once
    and the disk orders it, where a sync per file waits for each in turn (7 ms each measured
    here, most of a backup's time). Elsewhere each file, then each folder. A file renamed into
    place but lost to a power cut before this is found by size or hash at the next run
    (`_copy_blobs` compares a copy no manifest lists with its source) and copied again.
    """
    if _syncfs(root):
        return
    for path in files:
        with contextlib.suppress(FileNotFoundError), open(path, "rb") as f:
            os.fsync(f.fileno())
    for folder in sorted(folders):
        with contextlib.suppress(FileNotFoundError):
            fsync_folder(folder)


def _syncfs(root: Path) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(root, os.O_RDONLY)
    try:
        if libc.syncfs(fd) == 0:
            return True
        error = ctypes.get_errno()
    finally:
        os.close(fd)
    if error == errno.EIO:  # the write-back itself failed: the files are not on the disk
        raise OSError(error, os.strerror(error))
    return False  # a file system without it (some network and FUSE mounts): file by file


@contextlib.contextmanager
def destination_errors(dest: Path) -> Iterator[None]:
    """OS errors writing to `dest` as typed errors. Files the vault itself lost raise
    FileNotFoundError before they get here (callers check their sources)."""
    try:
        yield
    except OSError as exc:
        if exc.errno in FULL:
            raise BackupDestinationFull() from None
        if exc.errno in _GONE or not dest.is_dir():
            raise BackupDestinationGone() from None
        raise


def prepare_destination(dest: Path, vault: Path) -> Path:
    """The backup folder, made if needed: refused when it is inside the vault (or holds it), or
    is a folder with other things in it (a backup never mixes with someone's files)."""
    dest = Path(dest).expanduser().absolute()
    vault_abs = Path(vault).resolve()
    resolved = dest.resolve()
    if resolved == vault_abs or vault_abs in resolved.parents or resolved in vault_abs.parents:
        raise NotABackup("A backup must go outside the vault's folder (and not around it): choose another folder.")
    if dest.exists():
        if not dest.is_dir():
            raise NotABackup(f"{dest} is a file, not a folder.")
        names = {p.name for p in dest.iterdir()}
        if names and not names & {MANIFEST_NAME, README_NAME}:
            raise NotABackup(f"{dest} holds other files. Choose an empty folder, or make a new one inside it.")
    if not dest.exists() and not dest.parent.is_dir():
        # Only the backup folder itself is made: a missing parent is a drive not connected, and
        # making it would put the backup on the disk that holds its mount point.
        raise BackupDestinationGone(f"{dest.parent} is not there. Is the drive connected?")
    with destination_errors(dest.parent):
        make_folder(dest)
        for sub in (TMP_DIR, FILES_DIR, BLOBS_DIR):
            make_folder(dest / sub)
        if not (dest / README_NAME).exists():
            (dest / README_NAME).write_text(README_TEXT, encoding="utf-8")
    return dest


def empty_folder(folder: Path) -> None:
    """Remove the files in `folder` (what a killed run left in tmp/)."""
    for entry in folder.iterdir():
        with contextlib.suppress(OSError):
            entry.unlink()
