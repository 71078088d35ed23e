"""The unlocked session: which vault is open, the job manager, idle tracking and locking.

Locking is asynchronous so the UI never waits: everything that shows photos is cleared at once
(`locking`), running jobs are cancelled, and when the last one has ended the keys are dropped
and the DB closed (`locked`). Until then the unlock button stays disabled.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from app.core.paths import VaultStatus, vault_status
from app.workers.manager import JobManager

from . import dialogs, settings
from .backup_scheduler import BackupScheduler
from .clipboard import SecretClipboard
from .watch_scheduler import WatchScheduler

if TYPE_CHECKING:  # a vault is opened by a job: the unlock screen shows without loading it
    from app.core import crypto
    from app.core.vault import Vault

log = logging.getLogger(__name__)

_INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
    QEvent.Type.TouchBegin, QEvent.Type.DragMove, QEvent.Type.Drop,
})


class IdleWatcher(QObject):
    """Notices keyboard and mouse use anywhere in the app; says when the user went idle."""

    timed_out = Signal()

    def __init__(self, parent: QObject | None = None, check_ms: int = 1000):
        super().__init__(parent)
        self.limit_seconds: float = 0  # 0: never
        self.clock = time.monotonic  # seconds; tests put a clock they move by hand here
        self._last_input = self.clock()
        self._timer = QTimer(self)
        self._timer.setInterval(check_ms)
        self._timer.timeout.connect(self._check)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        # Runs for every event in the app: keep it to one set lookup and an assignment.
        if event.type() in _INPUT_EVENTS:
            self._last_input = self.clock()
        return False

    def start(self, limit_seconds: float) -> None:
        self.limit_seconds = limit_seconds
        self._last_input = self.clock()
        if limit_seconds > 0:
            self._timer.setInterval(int(min(1000, max(50, limit_seconds * 250))))
            self._timer.start()
        else:
            self._timer.stop()

    def stop(self) -> None:
        self._timer.stop()

    def poke(self) -> None:
        self._last_input = self.clock()

    def _check(self) -> None:
        if self.limit_seconds > 0 and self.clock() - self._last_input >= self.limit_seconds:
            self._timer.stop()
            self.timed_out.emit()

    def uninstall(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._timer.stop()


class Session(QObject):
    unlocked = Signal()
    locking = Signal(str)  # reason: "manual", "idle", "quit"; clear anything showing photos now
    locked = Signal()  # keys dropped, DB closed
    settings_changed = Signal()

    def __init__(self, vault_path: Path, kdf: crypto.KdfParams | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.vault_path = Path(vault_path)
        #: Argon2id parameters for new vaults and passphrase changes (None: the core's default);
        #: tests pass fast ones.
        self.kdf = kdf
        self.vault: Vault | None = None
        self.state = "locked"  # "unlocked", "locking"
        self.jobs = JobManager(self)
        self.idle = IdleWatcher(self)
        self.idle.timed_out.connect(lambda: self.lock("idle"))
        #: Owns the clearing of a copied recovery key: it outlives the wizard that copied it.
        self.clipboard = SecretClipboard(self)
        #: Backups and their status line: they outlive the Settings dialog that starts them.
        self.backups = BackupScheduler(self)
        #: The watch list's background checks while unlocked (ui/watch_scheduler.py).
        self.watch = WatchScheduler(self)
        self.thumbnail_edge = settings.THUMBNAIL_SIZE.default
        self.auto_lock_minutes = settings.AUTO_LOCK_MINUTES.default

    def status(self) -> VaultStatus:
        return vault_status(self.vault_path)

    @property
    def is_unlocked(self) -> bool:
        return self.state == "unlocked" and self.vault is not None and self.vault.is_open

    def open(self, vault: Vault) -> None:
        """Take over a vault unlocked (or created) by a job."""
        if self.vault is not None and self.vault is not vault:
            raise RuntimeError("a vault is already open")
        self.vault = vault
        self.vault_path = vault.path
        self.state = "unlocked"
        self.load_settings()
        self.idle.start(self.auto_lock_minutes * 60)
        log.info("vault unlocked")
        self.unlocked.emit()

    def load_settings(self) -> None:
        self.auto_lock_minutes = settings.read(settings.AUTO_LOCK_MINUTES)
        self.thumbnail_edge = settings.read(settings.THUMBNAIL_SIZE)

    def save_settings(self, auto_lock_minutes: int, thumbnail_edge: int) -> None:
        settings.write(settings.AUTO_LOCK_MINUTES, auto_lock_minutes)
        settings.write(settings.THUMBNAIL_SIZE, thumbnail_edge)
        self.load_settings()
        if self.is_unlocked:
            self.idle.start(self.auto_lock_minutes * 60)
        self.settings_changed.emit()

    def set_auto_lock_seconds(self, seconds: float) -> None:
        """For tests and the benchmark: a short idle limit without touching the stored setting."""
        self.idle.start(seconds)

    def lock(self, reason: str = "manual") -> None:
        if self.state != "unlocked":
            return
        self.state = "locking"
        self.idle.stop()
        self.clipboard.clear()
        self.clipboard.clear_selection()
        dialogs.last_folders.forget()  # where the user was is part of the unlocked session
        log.info("locking (%s)", reason)
        self.locking.emit(reason)
        self.jobs.cancel_all()
        self.jobs.call_when_idle(self._finish_lock)

    def _finish_lock(self) -> None:
        vault, self.vault = self.vault, None
        if vault is not None:
            vault.lock()
        self.state = "locked"
        log.info("vault locked")
        self.locked.emit()

    def shutdown(self, timeout_ms: int = 15_000) -> None:
        """Quit: cancel and wait for every job, then drop the keys."""
        self.clipboard.clear()  # before Qt hands the clipboard to a manager on exit
        self.clipboard.clear_selection()
        dialogs.last_folders.forget()
        if self.state == "unlocked":
            self.state = "locking"
            self.locking.emit("quit")
        self.idle.uninstall()
        self.jobs.shutdown(timeout_ms)
        if self.vault is not None:
            self._finish_lock()
