"""Backup jobs: make a backup of the open vault, or check one with its keys.

On the "backup" lane, one at a time: a backup reads a consistent snapshot of the vault, so it
runs beside imports; a key rotation waits for every job to end before it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .base import Job

if TYPE_CHECKING:  # the session makes the scheduler at start-up: the unlock screen loads no vault code
    from app.core.backup import BackupCheck, BackupReport
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
