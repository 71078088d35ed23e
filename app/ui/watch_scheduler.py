"""The watch list while the vault is unlocked: re-checks the places that are due in the
background, on the "watch" lane, and says when a check found a copy not recorded before.

Owned by the session, like `BackupScheduler`: the timer starts at unlock and stops at lock (the
session cancels a running check itself; a stopped place stays due). Every few minutes it starts
a `WatchJob` unless one runs; the job asks the core which places are due, so an empty or
not-yet-due list costs one small database read. Addresses never reach a log or a signal here:
`new_copies` carries only the ids of the found copies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal

from app.workers.watch_jobs import WatchJob

from .errors import describe
from .session_scheduler import SessionScheduler

if TYPE_CHECKING:
    from app.core.leaks.watch import WatchOutcome

    from .session import Session

log = logging.getLogger(__name__)

CHECK_INTERVAL_MS = 10 * 60 * 1000  # how often the list is asked what is due
FIRST_CHECK_DELAY_MS = 60_000  # after unlocking: the gallery and the user's own work first


class WatchScheduler(SessionScheduler):
    checked = Signal(object)  # WatchOutcome of a check that ran to its end (or was stopped)
    new_copies = Signal(list)  # ids of copies found for the first time

    def __init__(self, session: Session):
        super().__init__(session, self.check_due, CHECK_INTERVAL_MS, FIRST_CHECK_DELAY_MS)
        self.policy = None  # FetchPolicy (tests shorten the timeouts); None: the core's defaults
        #: The time checks take as "now" (local, naive like the database); None: the clock. Tests set one.
        self.clock: Callable[[], datetime] | None = None

    def check_due(self) -> WatchJob | None:
        """Check the places that are due, unless a check already runs."""
        return self._start(due_only=True)

    def check_all(self) -> WatchJob | None:
        """Check every watched place now ("Check now" in the watch list)."""
        return self._start(due_only=False)

    def _start(self, *, due_only: bool) -> WatchJob | None:
        if not self.session.is_unlocked or self.job is not None:
            return None
        job = WatchJob(self.session.vault, due_only=due_only, now=self.clock() if self.clock else None,
                       policy=self.policy)
        job.signals.finished.connect(self._finished)
        job.signals.failed.connect(self._failed)
        self._track(job)
        return self.session.jobs.start(job)

    def _finished(self, outcome: WatchOutcome) -> None:
        if not self.session.is_unlocked:
            return
        if outcome.results:
            n = len(outcome.new)
            self._set_status(f"Watched places checked: {len(outcome.results)} place(s), "
                             + (f"{n} new cop{'ies' if n != 1 else 'y'} found." if n else "nothing new."))
        self.checked.emit(outcome)
        if outcome.new:
            self.new_copies.emit(list(outcome.new))

    def _failed(self, exc: BaseException) -> None:
        message = describe(exc)
        log.info("a watch list check failed: %s", type(exc).__name__)  # never the place
        self._set_status(f"Watched places: {message.title}. {message.text}")
