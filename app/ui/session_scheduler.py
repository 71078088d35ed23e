"""What the session's background schedulers share (backups, the watch list): a periodic check
that runs only while the vault is unlocked, a first check a little after unlocking, one job at a
time, and a status line. Both timers stop at lock; the session cancels a running job itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

if TYPE_CHECKING:
    from app.workers.base import Job

    from .session import Session


class SessionScheduler(QObject):
    running_changed = Signal(bool)
    status_changed = Signal(str)

    def __init__(self, session: Session, check: Callable[[], object], interval_ms: int, first_delay_ms: int):
        super().__init__(session)
        self.session = session
        self.job: Job | None = None
        self.status = ""
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(check)
        self._first = QTimer(self)
        self._first.setSingleShot(True)
        self._first.setInterval(first_delay_ms)
        self._first.timeout.connect(check)
        session.unlocked.connect(self._unlocked)
        session.locking.connect(self._locking)

    @property
    def running(self) -> bool:
        return self.job is not None

    def _track(self, job: Job) -> None:
        """`job` is this scheduler's one running job until it ends."""
        job.signals.ended.connect(self._ended)
        self.job = job
        self.running_changed.emit(True)

    def _ended(self) -> None:
        self.job = None
        self.running_changed.emit(False)

    def _set_status(self, text: str) -> None:
        self.status = text
        self.status_changed.emit(text)

    def _unlocked(self) -> None:
        self._set_status("")
        self.timer.start()
        self._first.start()

    def _locking(self, _reason: str) -> None:
        self.timer.stop()
        self._first.stop()
