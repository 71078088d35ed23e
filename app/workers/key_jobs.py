"""Jobs that change the vault's keys: a passphrase change or a new recovery key (both rotate every
key and re-wrap every blob key, with progress). New recovery codes and a new authenticator are
one call each: `CallJob`s on the same lane, from `app/ui/key_dialogs.py`.

On the vault-write lane, one at a time, and started by the UI only once no other job runs: a key
rotation copies the database, and a write made elsewhere meanwhile would be lost (see
`Vault._rotate_keys`).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core import crypto
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

