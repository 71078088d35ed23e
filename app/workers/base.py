"""The one job base: a `QRunnable` whose signals live on a separate `QObject`.

Rules every job follows (STYLE.md, principle 3):

- Inputs are snapshotted on the UI thread when the job is built (ids, paths, frozen
  dataclasses); a job never touches a widget or a model.
- `run()` catches everything and emits exactly one terminal signal:
  `finished(result)` when `work()` returned (a partial result after a cancel request is still a
  result: an `ImportReport` says `cancelled=True` itself), `cancelled()` when `work()` raised
  `Cancelled` or the job was cancelled before it started, `failed(error)` for anything else.
- A worker thread that used the vault releases its DB connection before the terminal signal.
- Cancelling sets a `threading.Event` that `work()` (or the core call it wraps) checks between
  items. Nothing is ever killed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal

from app.core.errors import Cancelled, SanctumError

log = logging.getLogger(__name__)


class JobSignals(QObject):
    """Created on the UI thread, so slots connected to it run on the UI thread."""

    progress = Signal(int, int)  # done, total
    finished = Signal(object)  # the result (a dataclass)
    failed = Signal(object)  # the exception; app.ui.errors turns it into words
    cancelled = Signal()
    # Emitted last, after the terminal signal: the job manager's bookkeeping.
    ended = Signal()


class Job(QRunnable):
    """Subclass and implement `work()`; return the result or raise."""

    #: Jobs in the same lane share a pool; the "vault-write" lane runs one job at a time.
    lane = "fast"
    #: Shown in the status bar while the job runs (None: a quiet background job).
    title: str | None = None
    #: Whether the status bar offers a Cancel button for this job.
    cancellable = True

    def __init__(self, vault: Any = None):
        super().__init__()
        # The manager keeps the reference; Qt must not delete a Python-owned runnable.
        self.setAutoDelete(False)
        self.signals = self.make_signals()
        self.vault = vault
        self.cancel_event = threading.Event()
        self.done_event = threading.Event()
        self.outcome: str | None = None  # "finished" / "failed" / "cancelled", for tests and logs

    def make_signals(self) -> JobSignals:
        return JobSignals()

    @property
    def name(self) -> str:
        """What the logs call this job."""
        return type(self).__name__

    # --- called on the UI thread --------------------------------------------------------------

    def cancel(self) -> None:
        self.cancel_event.set()

    # --- called on the worker thread -----------------------------------------------------------

    @property
    def is_cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check_cancelled(self) -> None:
        if self.cancel_event.is_set():
            raise Cancelled()

    def report_progress(self, done: int, total: int) -> None:
        self.signals.progress.emit(done, total)

    def work(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self) -> None:
        outcome: tuple[str, Any]
        try:
            if self.cancel_event.is_set():
                raise Cancelled()
            outcome = ("finished", self.work())
        except Cancelled:
            outcome = ("cancelled", None)
        except (SanctumError, OSError) as exc:
            # Expected (a wrong passphrase, a broken file, an unreachable site): the user is told
            # in words, so one line, and only the error's class: its message may name a file, an
            # address or a person.
            log.warning("%s failed: %s", self.name, type(exc).__name__)
            outcome = ("failed", exc)
        except BaseException as exc:  # noqa: BLE001 - a job must always end with a signal
            # A bug: the traceback is what finds it.
            log.warning("%s failed: %s", self.name, type(exc).__name__, exc_info=exc)
            outcome = ("failed", exc)
        finally:
            self._release_thread_resources()
        self.outcome = outcome[0]
        try:
            if outcome[0] == "finished":
                self.signals.finished.emit(outcome[1])
            elif outcome[0] == "cancelled":
                self.signals.cancelled.emit()
            else:
                self.signals.failed.emit(outcome[1])
        finally:
            self.done_event.set()
            self.signals.ended.emit()

    def _release_thread_resources(self) -> None:
        vault = self.vault
        if vault is not None:
            try:
                vault.release_thread_connection()
            except Exception:  # noqa: BLE001 - never let cleanup hide the outcome
                log.debug("releasing the DB connection failed", exc_info=True)


class CallJob(Job):
    """One core call as a job, instead of a class per call:
    `CallJob(vault, vault.list_matches)`, `CallJob(vault, organize.summary, lane="vault-write")`.

    `fn(*args, **kwargs)` runs on the worker thread and its return value is the result. Not
    cancellable by default: a single call has no point between items to stop at (a cancel
    before it starts still ends the job with `cancelled`).
    """

    def __init__(self, vault: Any, fn: Callable[..., Any], *args: Any, lane: str = "fast",
                 title: str | None = None, cancellable: bool = False, **kwargs: Any):
        super().__init__(vault)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.lane, self.title, self.cancellable = lane, title, cancellable

    @property
    def name(self) -> str:
        return f"CallJob({getattr(self.fn, '__qualname__', type(self.fn).__name__)})"

    def work(self) -> Any:
        return self.fn(*self.args, **self.kwargs)
