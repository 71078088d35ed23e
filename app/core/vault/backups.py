"""Backups of the open vault: make one (app.core.backup.writer) and check one with this vault's keys.

A mixin of `Vault`: the database snapshot is taken on this thread's connection of the open
database, under the vault's own SQLCipher key.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .. import crypto, db
from ..db import Blob
from ..errors import AuthenticationFailed, BackupDamaged
from .header import AUTH_STATE_NAME, HEADER_NAME, LOCK_NAME, database_name, sqlcipher_key
from .records import Progress, no_progress

BACKUP_KEY = "backup_mac_key"  # in the DB: survives passphrase changes

if TYPE_CHECKING:
    from ..backup import BackupCheck, BackupReport, Snapshot


class VaultBackups:
    """Backups of an open `Vault`; the facade sets `path`, `_header`, the keys and `_require_open`."""

    path: Path
    _header: dict
    _master: bytes | None
    _private_key: bytes | None

    def backup(self, dest: str | Path, progress: Progress = no_progress,
               cancel: threading.Event | None = None) -> BackupReport:
        """An incremental, signed backup of this vault into the folder `dest` (see
        app/core/backup/writer.py). Safe while other jobs import into the vault."""
        from ..backup import VaultSource, write_backup

        self._require_open()
        source = VaultSource(
            folder=self.path, header=HEADER_NAME, database=database_name(self._header),
            skip=frozenset({LOCK_NAME, AUTH_STATE_NAME}), mac_key=self._backup_key(),
            snapshot=self._snapshot_database,
        )
        return write_backup(source, Path(dest), progress, cancel)

    def _snapshot_database(self, target: Path) -> Snapshot:
        """The database as of one moment, encrypted under the same key, written to `target`.

        `sqlcipher_export` inside one transaction reads a single snapshot of the database (in WAL
        mode, imports committing meanwhile neither wait nor show). The copy uses a rollback
        journal, so it is one self-contained file that opens read-only.
        """
        from ..backup import Snapshot

        conn = db.database
        conn.execute_sql("ATTACH DATABASE ? AS snapshot KEY ?",
                         (str(target), db.raw_key_pragma(sqlcipher_key(self._master))))
        try:
            conn.execute_sql("PRAGMA snapshot.journal_mode = DELETE")
            with conn.atomic():
                conn.execute_sql("SELECT sqlcipher_export('snapshot')")
                names = frozenset(name for (name,) in conn.execute_sql("SELECT name FROM snapshot.blob"))
                (photos,) = conn.execute_sql("SELECT count(*) FROM snapshot.photo").fetchone()
        finally:
            with contextlib.suppress(Exception):
                conn.execute_sql("DETACH DATABASE snapshot")
        return Snapshot(names, photos)

    def verify_backup(self, dest: str | Path, progress: Progress = no_progress,
                      cancel: threading.Event | None = None) -> BackupCheck:
        """Check a backup of this vault with its keys, no passphrase needed: the manifest's MAC is
        this vault's; every file matches; every blob authenticates. A backup made before
        a passphrase change cannot have its database opened with today's keys: its blobs are
        then authenticated with the keys this vault still has for them (the blobs' own keys do
        not change)."""
        from ..backup import BackupKeys, open_backup, read_manifest, verify_backup

        self._require_open()
        keys = None
        with contextlib.suppress(BackupDamaged):
            keys = open_backup(Path(dest), read_manifest(Path(dest)), master=self._master)
        if keys is None:
            keys = BackupKeys(self._backup_key(), self._blob_keys(), photos=None, complete=False)
        return verify_backup(Path(dest), keys=keys, progress=progress, cancel=cancel)

    def _backup_key(self) -> bytes:
        """The key of backup manifests' MACs: random, made at the first backup, kept in the DB
        (before the snapshot is taken, so every backup's database holds it)."""
        stored = db.get_setting(BACKUP_KEY)
        if stored is None:
            with db.database.atomic():
                stored = db.get_setting(BACKUP_KEY)
                if stored is None:
                    stored = crypto.b64e(os.urandom(crypto.KEY_BYTES))
                    db.put_setting(BACKUP_KEY, stored)
        return crypto.b64d(stored)

    def _blob_keys(self) -> dict[str, bytes]:
        keys = {}
        for name, wrapped in Blob.select(Blob.name, Blob.wrapped_key).tuples():
            with contextlib.suppress(AuthenticationFailed):
                keys[name] = crypto.unwrap_key(self._private_key, bytes(wrapped))
        return keys
