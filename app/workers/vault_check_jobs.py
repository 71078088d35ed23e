"""Jobs on the vault as a whole: the integrity check (and its repair) and setting the second
passphrase. On the vault-write lane: the repair removes files and photos, and setting the second
passphrase points the database models at the new database while it makes it (see
`Vault.set_second_passphrase`); the UI starts the latter only once no other job runs."""

from __future__ import annotations

from dataclasses import dataclass

from app.core import crypto
from app.core.vault import CheckReport, RepairReport, Vault

from .base import Job


@dataclass(frozen=True)
class CheckRequest:
    repair: bool = False
    remove_unreadable: bool = False  # only with repair: photos whose original cannot be read


class CheckVaultJob(Job):
    lane = "vault-write"
    title = "Checking the vault…"

    def __init__(self, vault: Vault, request: CheckRequest):
        super().__init__(vault)
        self.request = request

    def work(self) -> CheckReport | RepairReport:
        if self.request.repair:
            return self.vault.repair_vault(remove_unreadable=self.request.remove_unreadable,
                                           progress=self.report_progress, cancel=self.cancel_event)
        return self.vault.check_vault(progress=self.report_progress, cancel=self.cancel_event)


class SecondPassphraseJob(Job):
    lane = "vault-write"
    title = "Setting the decoy passphrase…"
    cancellable = False  # a second or two; its commit point is atomic either way

    def __init__(self, vault: Vault, passphrase: str, kdf: crypto.KdfParams | None = None):
        super().__init__(vault)
        self.passphrase = passphrase
        self.kdf = kdf

    def work(self) -> bool:
        self.vault.set_second_passphrase(self.passphrase, self.kdf)
        return True
