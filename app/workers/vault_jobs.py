"""Opening a vault: create it (and, in setup, make it again without an authenticator), unlock it,
recover it with the recovery key, and the passphrase change an expired passphrase asks for."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.core import crypto
from app.core.vault import (
    AUTH_STATE_NAME,
    BLOBS_DIR,
    DB_NAME,
    HEADER_NAME,
    LOCK_NAME,
    KeysRotated,
    Vault,
    VaultCreated,
    slot_databases,
)

from .base import Job


@dataclass(frozen=True)
class CreateRequest:
    path: Path
    passphrase: str = field(repr=False)
    enable_totp: bool
    kdf: crypto.KdfParams | None = None


@dataclass(frozen=True)
class CreatedVault:
    vault: Vault
    created: VaultCreated = field(repr=False)


class CreateVaultJob(Job):
    cancellable = False

    def __init__(self, request: CreateRequest):
        super().__init__()
        self.request = request

    def work(self) -> CreatedVault:
        r = self.request
        vault, created = Vault.create(r.path, r.passphrase, enable_totp=r.enable_totp, kdf=r.kdf)
        self.vault = vault  # so the base releases this thread's DB connection
        return CreatedVault(vault, created)


class RecreateWithoutTotpJob(Job):
    """Setup only: the user skipped the authenticator after the vault was made with one.

    The vault is seconds old, empty, and its recovery key was not shown yet, so it is removed
    and made again without TOTP (the core has no "disable TOTP" call).
    """

    cancellable = False

    def __init__(self, old: Vault, request: CreateRequest):
        super().__init__()
        self.old = old
        self.request = request

    def work(self) -> CreatedVault:
        remove_new_vault(self.old)
        r = self.request
        vault, created = Vault.create(r.path, r.passphrase, enable_totp=False, kdf=r.kdf)
        self.vault = vault
        return CreatedVault(vault, created)


# Only what Vault.create writes (named by the core); anything else in the folder is left alone.
_NEW_VAULT_FILES = (HEADER_NAME, HEADER_NAME + ".tmp", DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm",
                    AUTH_STATE_NAME, str(Path(AUTH_STATE_NAME).with_suffix(".tmp")), LOCK_NAME)


def remove_new_vault(vault: Vault) -> None:
    """Remove a vault made moments ago in the setup wizard (never one holding photos)."""
    path = vault.path
    if vault.is_open and vault.count() != 0:
        raise RuntimeError("refusing to remove a vault that holds photos")
    databases = slot_databases(path)  # both slots' (vault.py's header names them)
    vault.lock()
    for name in (*_NEW_VAULT_FILES, *(f"{db}{end}" for db in databases for end in ("", "-wal", "-shm"))):
        (path / name).unlink(missing_ok=True)
    blobs = path / BLOBS_DIR
    if blobs.is_dir():
        for sub in sorted(blobs.rglob("*"), reverse=True):
            if sub.is_dir():
                sub.rmdir()
            else:
                sub.unlink()
        blobs.rmdir()
    try:
        path.rmdir()  # only if empty
    except OSError:
        pass


@dataclass(frozen=True)
class UnlockRequest:
    path: Path
    passphrase: str = field(repr=False)
    totp_code: str | None = field(default=None, repr=False)
    recovery_code: str | None = field(default=None, repr=False)


class UnlockJob(Job):
    cancellable = False

    def __init__(self, request: UnlockRequest):
        super().__init__()
        self.request = request

    def work(self) -> Vault:
        r = self.request
        vault = Vault.unlock(r.path, r.passphrase, totp_code=r.totp_code or None,
                             recovery_code=r.recovery_code or None)
        self.vault = vault
        return vault


class RecoverJob(Job):
    cancellable = False

    def __init__(self, path: Path, recovery_key: str):
        super().__init__()
        self.path = path
        self.recovery_key = recovery_key

    def work(self) -> Vault:
        vault = Vault.recover(self.path, self.recovery_key)
        self.vault = vault
        return vault


class ChangePassphraseJob(Job):
    cancellable = False

    def __init__(self, vault: Vault, new_passphrase: str, kdf: crypto.KdfParams | None = None):
        super().__init__(vault)
        self._new = new_passphrase
        self.kdf = kdf

    def work(self) -> KeysRotated:
        return self.vault.change_passphrase(self._new, kdf=self.kdf, progress=self.report_progress)


