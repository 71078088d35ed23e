"""What every controller of the main window shares: the window it works for and its session."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from app.workers.base import Job

if TYPE_CHECKING:
    from ..main_window import MainWindow


class WindowController(QObject):
    """A part of the main window's behaviour; lives as long as the window (its Qt child)."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.session = window.session

    def show_status(self, text: str, timeout_ms: int) -> None:
        self.window.statusBar().showMessage(text, timeout_ms)

    def run_job(self, job: Job, on_finished: Callable, priority: int) -> Job:
        """Start a short job; its result goes to `on_finished`, a failure to the window's error
        report (long jobs with a progress bar go through `window.start_long_job`)."""
        job.signals.finished.connect(on_finished)
        job.signals.failed.connect(self.window.job_failed)
        self.session.jobs.start(job, priority=priority)
        return job
