"""Jobs that change the vault's keys: a passphrase change or a new recovery key (both rotate every
key and re-wrap every blob key, with progress), new recovery codes, a new authenticator.

On the vault-write lane, one at a time, and started by the UI only once no other job runs: a key
rotation copies the database, and a write made elsewhere meanwhile would be lost (see
`Vault._rotate_keys`).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core import auth, crypto
from app.core.vault import KeysRotated, Vault

from .base import Job


@dataclass(frozen=True)
class KeyChangeRequest:
    """Snapshotted on the UI thread. `new_passphrase` None: keep the passphrase, new recovery key."""

    current_passphrase: str
    new_passphrase: str | None
    kdf: crypto.KdfParams | None = None


class RotateKeysJob(Job):
    lane = "vault-write"
    title = "Replacing the vault's keys…"
    cancellable = False  # seconds at most; the commit point is atomic either way

    def __init__(self, vault: Vault, request: KeyChangeRequest):
        super().__init__(vault)
        self.request = request

    def work(self) -> KeysRotated:
        r = self.request
        if r.new_passphrase is None:
            return self.vault.rotate_recovery_key(r.current_passphrase, r.kdf, progress=self.report_progress,
                                                  cancel=self.cancel_event)
        # Asked first, so a moment at an unlocked computer is not enough to take the vault over.
        self.vault.verify_passphrase(r.current_passphrase)
        return self.vault.change_passphrase(r.new_passphrase, r.kdf, progress=self.report_progress,
                                            cancel=self.cancel_event)


@dataclass(frozen=True)
class RecoveryCodes:
    codes: tuple[str, ...]


class NewRecoveryCodesJob(Job):
    lane = "vault-write"
    cancellable = False

    def work(self) -> RecoveryCodes:
        return RecoveryCodes(tuple(self.vault.new_recovery_codes()))


class FinishTotpJob(Job):
    """Stores a new authenticator secret once a code from it checks out."""

    lane = "vault-write"
    cancellable = False

    def __init__(self, vault: Vault, enrollment: auth.TotpEnrollment, code: str):
        super().__init__(vault)
        self.enrollment = enrollment
        self.code = code

    def work(self) -> bool:
        self.vault.finish_totp_enrollment(self.enrollment, self.code)
        return True
