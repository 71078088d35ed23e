"""Making a backup: an incremental copy of the vault folder, consistent while the vault is in use.

One run:
1. the header is read, then the open database is exported (SQLCipher's `sqlcipher_export`, one
   read transaction: a consistent snapshot, encrypted under the same key) into tmp/, then the
   header is read again: a key rotation in between (the header changed) starts the run over;
2. every other file of the vault folder is copied as bytes, by the hash of its content, whether
   or not this version knows what it is (only the lock, the back-off counter, the live database
   and its log, and half-written files are left out);
3. blobs: every blob the snapshot names, and any other blob file on the disk, is copied unless
   the backup has it already under the same name and size (a blob never changes under its
   name: its name and size, authenticated by verify, are its content address);
4. the signed manifest replaces the previous one atomically: the commit point;
5. only then are blobs and files the new manifest no longer lists removed.

Killed at any moment, the folder holds the previous complete backup (its manifest and every
file it lists) or the new one; what a killed run copied is kept and skipped by the next.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import blake3

from .. import hardening
from ..errors import BackupError
from ..files import TEMP_SUFFIX
from ..progress import Progress, raise_if_cancelled
from .copying import (
    copy_hashed,
    destination_errors,
    empty_folder,
    hash_file,
    make_durable,
    new_file,
    prepare_destination,
)
from .manifest import (
    BLOBS_DIR,
    FILES_DIR,
    TMP_DIR,
    Entry,
    Manifest,
    blob_path,
    read_manifest,
    stored_file,
    vault_id,
    write_manifest,
)

log = logging.getLogger(__name__)

_ATTEMPTS = 3


@dataclass(frozen=True)
class Snapshot:
    """What the exported database references: the blobs that must be in the backup."""

    blobs: frozenset[str]
    photos: int


@dataclass(frozen=True)
class VaultSource:
    """What a backup needs from an open vault (see Vault.backup)."""

    folder: Path
    header: str  # the header's file name
    database: str  # the live database's file name: exported, never copied as bytes
    skip: frozenset[str]  # other top-level names never copied (lock, back-off counter)
    mac_key: bytes  # the vault's backup key (see manifest.py)
    snapshot: Callable[[Path], Snapshot]  # export the database, consistent, to this path


@dataclass(frozen=True)
class BackupReport:
    dest: str
    photos: int
    bytes_written: int
    generation: int
    files_written: int  # database snapshot, header and other files that were new
    blobs_copied: int
    blobs_kept: int  # already in the backup
    blobs_removed: int  # gone from the vault since the previous backup
    created_at: str


class _VaultChanged(Exception):
    """The vault changed under the run in a way a snapshot cannot cover: take a new one."""


def write_backup(source: VaultSource, dest: Path, progress: Progress,
                 cancel: threading.Event | None = None) -> BackupReport:
    dest = prepare_destination(dest, source.folder)
    with destination_errors(dest):
        previous = _previous(dest, source)
        for _ in range(_ATTEMPTS):
            try:
                return _Run(source, dest, previous, progress, cancel).run()
            except _VaultChanged:
                log.info("the vault changed during a backup; taking a new snapshot")
    raise BackupError("The vault kept changing during the backup (a passphrase change or photos being "
                      "deleted). Try again when it is done.")


def _previous(dest: Path, source: VaultSource) -> Manifest | None:
    """The manifest in place, if it is this vault's; hashes from it spare re-reading kept blobs."""
    from ..errors import BackupDamaged, NotABackup

    try:
        manifest = read_manifest(dest)
    except NotABackup:
        return None
    except BackupDamaged:
        log.warning("the previous backup's manifest is damaged; the new one replaces it")
        return None
    if manifest.vault_id != vault_id(source.mac_key):
        raise NotABackup(f"{dest} holds a backup of another vault. Choose another folder.")
    return manifest if manifest.mac_ok(source.mac_key) else None


class _Run:
    def __init__(self, source: VaultSource, dest: Path, previous: Manifest | None, progress: Progress,
                 cancel: threading.Event | None):
        self.source, self.dest, self.previous = source, dest, previous
        self.progress, self.cancel = progress, cancel
        self.tmp = dest / TMP_DIR
        self.bytes_written = 0
        self.files_written = 0
        self.touched: set[Path] = {dest, dest / FILES_DIR, dest / BLOBS_DIR}
        self.written: list[Path] = []

    def run(self) -> BackupReport:
        empty_folder(self.tmp)
        folder = self.source.folder
        header = (folder / self.source.header).read_bytes()
        snapshot_path = self.tmp / f"{secrets.token_hex(8)}.db{TEMP_SUFFIX}"
        try:
            snapshot = self.source.snapshot(snapshot_path)
            if (folder / self.source.header).read_bytes() != header:
                raise _VaultChanged()
            files = {self.source.database: self._store(snapshot_path, move=True)}
        finally:
            for leftover in (snapshot_path, snapshot_path.with_name(snapshot_path.name + "-journal")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
        files[self.source.header] = self._store_bytes(header)
        for relative, path in _other_files(folder, self.source):
            raise_if_cancelled(self.cancel)
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile: not part of the vault now
                files[relative] = self._store(path)
        blobs, copied, kept = self._copy_blobs(snapshot)
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        manifest = Manifest(
            created_at, (self.previous.generation if self.previous else 0) + 1,
            vault_id(self.source.mac_key), self.source.database, files, blobs,
        ).sealed(self.source.mac_key)
        make_durable(self.dest, self.written, self.touched)
        raise_if_cancelled(self.cancel)
        write_manifest(self.dest, manifest)  # the commit point
        removed = _remove_unlisted(self.dest, manifest)
        log.info("backup generation %d: %d blobs copied, %d kept, %d removed",
                 manifest.generation, copied, kept, removed)
        return BackupReport(str(self.dest), snapshot.photos, self.bytes_written, manifest.generation,
                            self.files_written, copied, kept, removed, created_at)

    def _store(self, path: Path, *, move: bool = False) -> Entry:
        """A non-blob file under files/<its hash>, unless the backup has that content already."""
        entry = hash_file(path)
        final = stored_file(self.dest, entry)
        if self._have(final, entry):
            return entry
        if move:  # the snapshot, already written in tmp/
            hardening.restrict(path)  # SQLite created it with the umask's mode
            path.replace(final)
            self.written.append(final)
        else:
            entry = copy_hashed(path, final, self.tmp)  # the content may have changed since hashing
            if final.name != entry.digest:
                final.replace(stored_file(self.dest, entry))
            self.written.append(stored_file(self.dest, entry))
        self.bytes_written += entry.size
        self.files_written += 1
        return entry

    def _store_bytes(self, data: bytes) -> Entry:
        entry = Entry(len(data), blake3.blake3(data).hexdigest())
        final = stored_file(self.dest, entry)
        if not self._have(final, entry):
            with new_file(final, self.tmp) as out:
                out.write(data)
            self.written.append(final)
            self.bytes_written += entry.size
            self.files_written += 1
        return entry

    def _have(self, final: Path, entry: Entry) -> bool:
        """Whether files/ holds this content: listed by the previous manifest (made durable with
        it), or left by a killed run and still whole (a power cut may have torn it)."""
        if not final.is_file() or final.stat().st_size != entry.size:
            return False
        listed = self.previous is not None and entry in self.previous.files.values()
        return listed or hash_file(final) == entry

    def _copy_blobs(self, snapshot: Snapshot) -> tuple[dict[str, Entry], int, int]:
        names = sorted(snapshot.blobs | set(_blob_names(self.source.folder / BLOBS_DIR)))
        total = len(names)
        self.progress(0, total)
        previous = self.previous.blobs if self.previous else {}
        blobs: dict[str, Entry] = {}
        copied = kept = 0
        for done, name in enumerate(names, 1):
            raise_if_cancelled(self.cancel)
            name, entry, was_copied = self._copy_blob(name, name in snapshot.blobs, previous.get(name))
            if entry is not None:
                blobs[name] = entry
                if was_copied:
                    target = blob_path(self.dest, name)
                    self.touched.add(target.parent)
                    self.written.append(target)
                    self.bytes_written += entry.size
                    copied += 1
                else:
                    kept += 1
            self.progress(done, total)
        return blobs, copied, kept

    def _copy_blob(self, name: str, referenced: bool, listed: Entry | None) -> tuple[str, Entry | None, bool]:
        """(name, its entry, whether it was copied now); entry None: gone and not needed."""
        source = blob_path(self.source.folder, name)
        target = blob_path(self.dest, name)
        try:
            entry = self._kept(source.stat().st_size, target, source, listed)
            if entry is not None:
                return name, entry, False
            # A name no manifest lists is written in place: a copy killed half-way is found by its
            # size or hash at the next run and written again, and nothing listed can be hurt. A
            # listed name (a blob re-encrypted since, see Vault._pad_legacy_blobs) must not be
            # touched before the commit: it goes through tmp/ and a rename.
            return name, copy_hashed(source, target, None if listed is None else self.tmp), True
        except FileNotFoundError:
            if source.exists():
                raise
            if referenced:  # deleted after the snapshot: the run needs a new one
                raise _VaultChanged() from None
            return name, None, False  # an unreferenced blob went (an import's leftovers, cleaned)

    @staticmethod
    def _kept(size: int, target: Path, source: Path, listed: Entry | None) -> Entry | None:
        """The entry of a blob the backup already holds, None when it must be copied. One the
        previous manifest lists was made durable with it; one a killed run copied counts only
        when it is byte for byte its source (a power cut may have left it torn)."""
        if not target.is_file() or target.stat().st_size != size:
            return None
        if listed is not None and listed.size == size:
            return listed
        entry = hash_file(target)
        return entry if entry == hash_file(source) else None


def _other_files(folder: Path, source: VaultSource):
    """Every regular file of the vault folder but blobs, the live database and what `skip` names,
    as (path relative to the folder, with /, path)."""
    live = {source.database + suffix for suffix in ("", "-wal", "-shm", "-journal")}
    skip = live | set(source.skip) | {source.header, BLOBS_DIR}
    for root, dirs, names in os.walk(folder):
        top = Path(root) == folder
        dirs[:] = sorted(d for d in dirs if not (top and d in skip))  # blobs/: copied by name
        for name in sorted(names):
            path = Path(root) / name
            if (top and name in skip) or not path.is_file() or path.is_symlink():
                continue
            if name.endswith(TEMP_SUFFIX) or name.startswith(".sanctum-"):
                continue  # half-written by a crash
            yield path.relative_to(folder).as_posix(), path


def _blob_names(root: Path):
    if not root.is_dir():
        return
    for sub in root.iterdir():
        if sub.is_dir() and len(sub.name) == 2:
            for f in sub.iterdir():
                if len(f.name) == 32 and f.name.startswith(sub.name):
                    yield f.name


def _remove_unlisted(dest: Path, manifest: Manifest) -> int:
    """After the commit: blobs and stored files the new manifest does not list (deleted photos,
    an old database snapshot, copies from a run that was killed), and empty blob folders."""
    removed = 0
    for name in set(_blob_names(dest / BLOBS_DIR)) - set(manifest.blobs):
        with contextlib.suppress(OSError):
            blob_path(dest, name).unlink()
            removed += 1
    for sub in (dest / BLOBS_DIR).iterdir() if (dest / BLOBS_DIR).is_dir() else ():
        with contextlib.suppress(OSError):
            sub.rmdir()  # only when empty
    listed = {entry.digest for entry in manifest.files.values()}
    for path in (dest / FILES_DIR).iterdir() if (dest / FILES_DIR).is_dir() else ():
        if path.name not in listed:
            with contextlib.suppress(OSError):
                path.unlink()
    empty_folder(dest / TMP_DIR)
    return removed
