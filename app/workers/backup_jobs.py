"""Backup jobs: make a backup of the open vault, check one with its keys, or restore one into a
new vault folder (from the setup wizard: no vault is open then).

On the "backup" lane, one at a time: a backup reads a consistent snapshot of the vault, so it
runs beside imports; a key rotation waits for every job to end before it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .base import Job

if TYPE_CHECKING:  # the session makes the scheduler at start-up: the unlock screen loads no vault code
    from app.core.backup import BackupCheck, BackupReport, RestoreReport
    from app.core.vault import Vault


@dataclass(frozen=True)
class BackupRequest:
    dest: Path
    #: Automatic: only into a folder that already holds this vault's backup (an unplugged drive's
    #: empty mount point must not receive a first backup on the internal disk).
    automatic: bool = False


class BackupJob(Job):
    lane = "backup"
    title = "Backing up the vault…"

    def __init__(self, vault: Vault, request: BackupRequest):
        super().__init__(vault)
        self.request = request
        if request.automatic:
            self.title = "Backing up automatically…"

    def work(self) -> BackupReport | None:
        """None: an automatic backup whose folder is not connected (nothing to do)."""
        from app.core.backup import MANIFEST_NAME

        if self.request.automatic and not (self.request.dest / MANIFEST_NAME).is_file():
            return None
        return self.vault.backup(self.request.dest, progress=self.report_progress, cancel=self.cancel_event)


class VerifyBackupJob(Job):
    lane = "backup"
    title = "Checking the backup…"

    def __init__(self, vault: Vault, dest: Path):
        super().__init__(vault)
        self.dest = dest

    def work(self) -> BackupCheck:
        return self.vault.verify_backup(self.dest, progress=self.report_progress, cancel=self.cancel_event)


@dataclass(frozen=True)
class RestoreRequest:
    backup: Path  # the backup folder (it holds sanctum-backup.json)
    target: Path  # the new vault folder: absent or empty
    passphrase: str | None = field(default=None, repr=False)  # one of the two
    recovery_key: str | None = field(default=None, repr=False)


class RestoreJob(Job):
    """The whole backup into a new vault folder; cancelled or failed, nothing is left there (the
    core assembles it in a hidden folder beside the target and renames it when complete)."""

    lane = "backup"
    title = "Restoring the vault…"

    def __init__(self, request: RestoreRequest):
        super().__init__()
        self.request = request

    def work(self) -> RestoreReport:
        from app.core.backup import restore_backup

        r = self.request
        return restore_backup(r.backup, r.target, passphrase=r.passphrase, recovery_key=r.recovery_key,
                              progress=self.report_progress, cancel=self.cancel_event)
