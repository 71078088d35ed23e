"""The job manager: keeps running jobs referenced, runs them in lanes, cancels and waits.

Lanes:
- "fast": short reads (thumbnails, the viewer, unlocking) on a few threads;
- "vault-write": import, export and delete, one at a time, so SQLite sees one writer and a
  thumbnail never waits behind a long import;
- "backup": backups and their checks, one at a time: they only read the vault (a consistent
  snapshot), so they run beside imports rather than hold them up for minutes.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable

from PySide6.QtCore import QObject, QThreadPool, Signal

from .base import Job

log = logging.getLogger(__name__)

_ALL_POOLS: weakref.WeakSet[QThreadPool] = weakref.WeakSet()


def all_pools() -> list[QThreadPool]:
    """Every pool a manager made that still exists (tests check that none has a thread still
    running). A pool deleted with its owner has none, though its wrapper may linger."""
    import shiboken6

    return [pool for pool in list(_ALL_POOLS) if shiboken6.isValid(pool)]


class JobManager(QObject):
    job_started = Signal(object)  # the Job
    job_ended = Signal(object)
    idle = Signal()  # no job left

    def __init__(self, parent: QObject | None = None, fast_threads: int | None = None):
        super().__init__(parent)
        self._pools: dict[str, QThreadPool] = {}
        fast = fast_threads or max(2, min(4, os.cpu_count() or 2))
        # "watch": the watch list's scheduled checks, one at a time, never in the way of the user's own.
        for lane, threads in (("fast", fast), ("vault-write", 1), ("backup", 1), ("watch", 1)):
            pool = QThreadPool(self)
            pool.setMaxThreadCount(threads)
            self._pools[lane] = pool
            _ALL_POOLS.add(pool)
        self._jobs: set[Job] = set()
        self._when_idle: list[Callable[[], None]] = []

    @property
    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def busy(self, lane: str | None = None) -> bool:
        """Whether a job of `lane` (any lane if None) is queued or still working. A job whose
        work is over no longer counts, though its `ended` may not have reached us yet: slots
        connected before ours (a dialog's) run first and may already let the user go on."""
        return any((lane is None or j.lane == lane) and not j.done_event.is_set() for j in self._jobs)

    def start(self, job: Job, priority: int = 0) -> Job:
        self._jobs.add(job)
        job.signals.ended.connect(lambda job=job: self._on_ended(job))
        self._pools[job.lane].start(job, priority)
        self.job_started.emit(job)
        return job

    def cancel_all(self, lane: str | None = None) -> None:
        for job in list(self._jobs):
            if lane is not None and job.lane != lane:
                continue
            job.cancel()
            if self._pools[job.lane].tryTake(job):
                # Never started: it ends here, with its one terminal signal, like the others.
                job.outcome = "cancelled"
                job.done_event.set()
                job.signals.cancelled.emit()
                job.signals.ended.emit()

    def call_when_idle(self, callback: Callable[[], None]) -> None:
        """Run `callback` on the UI thread once every job has ended (now if none runs)."""
        if not self._jobs:
            callback()
        else:
            self._when_idle.append(callback)

    def wait_all(self, timeout_ms: int = 10_000) -> bool:
        """Block until every pool is empty (quit only: the UI thread stops serving events)."""
        ok = True
        for pool in self._pools.values():
            ok = pool.waitForDone(timeout_ms) and ok
        return ok

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel everything and wait: called on quit and before the vault is locked."""
        self.cancel_all()
        ok = self.wait_all(timeout_ms)
        if not ok:
            log.warning("some background jobs did not stop in time")
        self._jobs.clear()
        self._run_idle_callbacks()
        return ok

    def _on_ended(self, job: Job) -> None:
        self._jobs.discard(job)
        self.job_ended.emit(job)
        if not self._jobs:
            self._run_idle_callbacks()
            self.idle.emit()

    def _run_idle_callbacks(self) -> None:
        callbacks, self._when_idle = self._when_idle, []
        for callback in callbacks:
            callback()
