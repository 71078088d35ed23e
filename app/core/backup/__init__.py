"""Encrypted, incremental, verifiable backups of a vault folder, and restoring them.

`Vault.backup` / `Vault.verify_backup` (app/core/vault/backups.py) work on the open vault;
`verify_backup` and `restore_backup` here need only the backup folder (and, to go beyond hashes,
the passphrase or the recovery key). The folder's layout and manifest: manifest.py.
"""

from .manifest import MANIFEST_NAME, Manifest, read_manifest
from .reader import (
    BackupCheck,
    BackupKeys,
    RestoreReport,
    check_backup,
    open_backup,
    restore_backup,
    verify_backup,
)
from .writer import BackupReport, Snapshot, VaultSource, write_backup

__all__ = [
    "MANIFEST_NAME", "BackupCheck", "BackupKeys", "BackupReport", "Manifest", "RestoreReport", "Snapshot",
    "VaultSource", "check_backup", "open_backup", "read_manifest", "restore_backup", "verify_backup", "write_backup",
]
