"""Backups while the vault is unlocked: the one place that starts backup jobs (Back up now,
Verify, and the automatic backup) and keeps the status line the Backup settings show.

Owned by the session, so an automatic backup and its status outlive the Settings dialog. It never
touches the backup folder on the UI thread (a network folder can hang a stat): the job looks.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal

from app.workers.backup_jobs import BackupJob, BackupRequest, VerifyBackupJob
from app.workers.base import Job

from . import settings
from .errors import describe
from .session_scheduler import SessionScheduler

if TYPE_CHECKING:
    from .session import Session

log = logging.getLogger(__name__)

CHECK_INTERVAL_MS = 5 * 60 * 1000  # how soon a drive plugged in is noticed
AUTOMATIC_EVERY = timedelta(hours=1)  # at most one automatic backup an hour
FIRST_CHECK_DELAY_MS = 20_000  # after unlocking: the gallery loads first


def when(iso: str) -> str:
    """A stored UTC time in local words ("Mon 7 Dec, 14:05"), or "" when unset or unreadable."""
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return ""
    return moment.astimezone().strftime("%a %d %b %Y, %H:%M")


class BackupScheduler(SessionScheduler):
    progress = Signal(int, int)
    last_changed = Signal(str)  # the new "last backup" time, ISO

    def __init__(self, session: Session):
        super().__init__(session, self.check_automatic, CHECK_INTERVAL_MS, FIRST_CHECK_DELAY_MS)

    # --- starting work -------------------------------------------------------------------------

    def folder(self) -> str:
        return settings.read(settings.BACKUP_FOLDER) if self.session.is_unlocked else ""

    def check_automatic(self) -> Job | None:
        """Start an automatic backup when it is on, due, and nothing else backs up."""
        if not self.session.is_unlocked or self.job is not None or not settings.read(settings.BACKUP_AUTOMATIC):
            return None
        last = settings.read(settings.BACKUP_LAST)
        if last and _age(last) < AUTOMATIC_EVERY:
            return None
        return self.back_up(automatic=True)

    def back_up(self, *, automatic: bool = False) -> Job | None:
        folder = self.folder()
        if not folder or self.job is not None:
            return None
        job = BackupJob(self.session.vault, BackupRequest(Path(folder), automatic))
        job.signals.finished.connect(self._backed_up)
        return self._start(job, "Backing up automatically…" if automatic else "Backing up…")

    def verify(self) -> Job | None:
        folder = self.folder()
        if not folder or self.job is not None:
            return None
        job = VerifyBackupJob(self.session.vault, Path(folder))
        job.signals.finished.connect(self._verified)
        return self._start(job, "Checking the backup…")

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _start(self, job: Job, status: str) -> Job:
        job.signals.progress.connect(self.progress)
        job.signals.failed.connect(self._failed)
        job.signals.cancelled.connect(self._cancelled)
        self._track(job)
        self._set_status(status)
        return self.session.jobs.start(job)

    # --- results -------------------------------------------------------------------------------

    def _backed_up(self, report) -> None:
        if report is None:
            self._set_status("Automatic backup: waiting for the backup folder to be connected.")
            return
        if self.session.is_unlocked:
            settings.write(settings.BACKUP_LAST, report.created_at)
        self.last_changed.emit(report.created_at)
        self._set_status(f"Backed up {report.photos} photos ({_megabytes(report.bytes_written)} written, "
                         f"{report.blobs_kept} files were already there).")

    def _verified(self, check) -> None:
        if check.ok:
            scope = (f"all {check.blobs_checked} encrypted files authenticated"
                     if check.blobs_authenticated == check.blobs_checked
                     else f"{check.blobs_authenticated} of {check.blobs_checked} encrypted files authenticated, "
                          "the others match their listed hashes")
            self._set_status(f"Backup checked, no problem found: {scope}; made {when(check.created_at)}.")
            return
        shown = "; ".join(check.problems[:3]) + (" …" if len(check.problems) > 3 else "")
        self._set_status(f"The backup has {len(check.problems)} problem(s): {shown}. Back up again to repair it.")

    def _failed(self, exc: BaseException) -> None:
        message = describe(exc)
        self._set_status(f"{message.title}: {message.text}")

    def _cancelled(self) -> None:
        self._set_status("Stopped. The previous backup is intact; the next one goes on from here.")


def _age(iso: str) -> timedelta:
    try:
        return datetime.now(UTC) - datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return AUTOMATIC_EVERY  # unreadable: due


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count / 1e3:.0f} kB"
