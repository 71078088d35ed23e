"""Status-bar progress for long jobs, and the panel listing files that could not be imported."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core.vault import ExportProblem, FileProblem
from app.workers.base import Job


class JobProgress(QWidget):
    """Label, progress bar and Cancel for the running long job (one at a time: one writer)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("jobProgress")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setObjectName("jobBar")
        self.bar.setFixedWidth(220)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("jobCancel")
        self.cancel_button.clicked.connect(self._cancel)
        self.cancel_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.job: Job | None = None  # the one shown; others wait their turn (one writer)
        self._queue: list[Job] = []
        self.hide()

    def track(self, job: Job) -> None:
        job.signals.progress.connect(lambda done, total, job=job: self._progress(job, done, total))
        job.signals.ended.connect(lambda job=job: self._ended(job))
        self._queue.append(job)
        if self.job is None:
            self._show_next()

    def _show_next(self) -> None:
        self.job = self._queue[0] if self._queue else None
        if self.job is None:
            self.hide()
            return
        waiting = len(self._queue) - 1
        self.label.setText(f"{self.job.title}…" + (f" ({waiting} waiting)" if waiting else ""))
        self.bar.setRange(0, 0)
        self.cancel_button.setVisible(self.job.cancellable)
        self.cancel_button.setEnabled(not self.job.is_cancelled)
        self.show()

    def _progress(self, job: Job, done: int, total: int) -> None:
        if job is not self.job:
            return
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
            if not job.is_cancelled:
                self.label.setText(f"{job.title}: {done:,} of {total:,}")

    def _cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText("Stopping…")

    def _ended(self, job: Job) -> None:
        if job in self._queue:
            self._queue.remove(job)
        if job is self.job:
            self._show_next()


class ProblemsPanel(QFrame):
    """Per-file problems from the last import or export, listed without stopping the batch."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("problemsPanel")
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("problemsTitle")
        close = QPushButton("Dismiss")
        close.clicked.connect(self._dismiss)
        head.addWidget(self.title, 1)
        head.addWidget(close)
        layout.addLayout(head)
        self.list = QListWidget()
        self.list.setObjectName("problemsList")
        self.list.setMaximumHeight(150)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        layout.addWidget(self.list)
        self.hide()

    def show_problems(self, title: str, problems: list[FileProblem] | list[ExportProblem]) -> None:
        self.title.setText(title)
        self.list.clear()
        for problem in problems:
            where = problem.path if isinstance(problem, FileProblem) else str(problem.photo_id)
            item = QListWidgetItem(f"{where} — {problem.reason}")
            item.setToolTip(f"{where}\n{problem.reason}")
            self.list.addItem(item)
        self.list.setFixedHeight(min(150, 8 + self.list.sizeHintForRow(0) * max(1, len(problems))))
        self.setVisible(bool(problems))

    def _dismiss(self) -> None:
        self.hide()
        self.list.clear()
        self.dismissed.emit()
