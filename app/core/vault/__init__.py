"""The vault: an encrypted photo library in a folder.

A vault is a folder:

    vault.json          header: two key slots, each with KDF parameters, sealed master secret
                        (passphrase and recovery key), public key, sealed private key, its
                        database's file name, and a MAC over the slot under a key from its master
                        secret; an unused slot is the same under random keys (slots.py). No photo
                        data, no names.
    vault-<8 hex>.db    two SQLCipher databases (photos, blob keys, TOTP state), one per slot, keyed
                        from its master, padded to the same size class; an unused slot's is random
                        bytes. Before version 3 there was one, vault.db.
    vault-<8 hex>.db-wal  the open one's write-ahead log (encrypted too)
    blobs/xx/<name>     encrypted originals and thumbnails of both slots, random names tagged
                        with the owning vault's key
    blobs/tmp/          blobs being written; emptied at every unlock
    auth-state.json     failed-attempt counter for the back-off (no secrets)
    vault.lock          held while the vault is open, so two processes never write at once

Core code only: no Qt. Long operations take `progress(done, total)` and a cancel `Event`.

`Vault` (facade.py) is the one object callers use; its records (records.py) are the results.
Both are re-exported here, so the UI, workers and CLI import them from `app.core.vault`.
"""

from ..paths import VaultStatus
from .facade import Vault
from .header import (
    AUTH_STATE_NAME,
    BLOBS_DIR,
    DB_NAME,
    FORMAT_NAME,
    FORMAT_VERSION,
    HEADER_NAME,
    LOCK_NAME,
    MIN_PASSPHRASE_LENGTH,
    default_vault_path,
    slot_databases,
)
from .importer import expand_paths, image_uid_of
from .integrity import CheckReport, RepairReport, VaultProblem
from .records import (
    Duplicate,
    ExportedFile,
    ExportProblem,
    ExportReport,
    FileProblem,
    ImportReport,
    KeysRotated,
    LeakMatchInfo,
    PhotoInfo,
    Progress,
    ReportWritten,
    ScanOutcome,
    ShareInfo,
    ShareOutcome,
    TakedownInfo,
    VaultCreated,
)

__all__ = [
    "AUTH_STATE_NAME", "BLOBS_DIR", "DB_NAME", "FORMAT_NAME", "FORMAT_VERSION", "HEADER_NAME", "LOCK_NAME",
    "MIN_PASSPHRASE_LENGTH", "CheckReport", "Duplicate", "ExportProblem", "ExportReport", "ExportedFile", "FileProblem",
    "ImportReport", "KeysRotated", "LeakMatchInfo", "PhotoInfo", "Progress", "RepairReport", "ReportWritten", "ScanOutcome",
    "ShareInfo", "ShareOutcome", "VaultProblem",
    "TakedownInfo", "Vault", "VaultCreated", "VaultStatus", "default_vault_path", "expand_paths", "image_uid_of",
    "slot_databases",
]
