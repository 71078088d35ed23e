"""The "Scan for leaks" dialog: where to look, progress with Cancel, then what was found.

Sources are pasted addresses (pages or images, one per line), picked files and folders, and
optionally the places already recorded by earlier scans. A `ScanJob` runs on the vault-write
lane (it records matches); cancelling stops between images and keeps what was found so far.
Results show each copy beside the vault photo with the matched region outlined, in words, with
"Request deletion…" (`scan_results`); every source that could not be checked is listed with its
reason. What pasted lines mean as sources is `scan_addresses`.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.vault import LeakMatchInfo, ScanOutcome
from app.workers.leak_jobs import EvidenceJob, MatchEvidence, ScanJob

from . import dialogs
from .errors import describe, place_problem
from .leaks_view import rescan_places
from .page_reach import PageReach
from .scan_addresses import parse_addresses, read_addresses
from .scan_results import ScanResultRow, outcome_words
from .session import Session
from .watch_choice import WatchChoice

log = logging.getLogger(__name__)

PAGE_SOURCES, PAGE_PROGRESS, PAGE_RESULTS = range(3)

_STYLE = ("QFrame#scanResult { background: #ffffff; border: 1px solid #dfe3e8; border-radius: 8px; }"
          "QLabel#scanResultTitle { font-weight: 600; }"
          "QLabel#scanSection { font-weight: 600; margin-top: 6px; }"
          "QScrollArea#scanResults { background: transparent; border: none; }"
          "QWidget#scanResultsInner { background: transparent; }")


class ScanDialog(QDialog):
    scan_finished = Signal(object)  # ScanOutcome (also after a cancel: what was found so far)
    scan_failed = Signal(object)  # the exception
    request_deletion = Signal(object, object)  # LeakMatchInfo, ShareInfo | None
    evidence_loaded = Signal()  # every result row has its pictures (tests and screenshots wait)

    def __init__(self, session: Session, known_places: list[str] | None = None, *,
                 photo_lookup=None, policy=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("scanDialog")
        self.setWindowTitle("Scan for leaks")
        self.setStyleSheet(_STYLE)
        self.session = session
        self.known_places = list(known_places or [])
        self.photo_lookup = photo_lookup or (lambda _pid: None)
        self.policy = policy  # FetchPolicy (tests shorten the timeouts); None: the core's defaults
        self.job: ScanJob | None = None
        self.evidence_job: EvidenceJob | None = None
        self.outcome: ScanOutcome | None = None
        self.rows: list[ScanResultRow] = []
        self._waiting_rows: set[int] = set()
        self._close_when_done = False
        self._closing_for_lock = False
        self.resize(980, 720)

        layout = QVBoxLayout(self)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_sources())
        self.pages.addWidget(self._build_progress())
        self.pages.addWidget(self._build_results())
        layout.addWidget(self.pages)
        self._update_start()

    # --- building ------------------------------------------------------------------------------

    def _build_sources(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        title = QLabel("Where should Sanctum look for your photos?")
        title.setObjectName("metadataTitle")
        intro = QLabel("Sanctum downloads the images at these addresses and compares them with your vault, "
                       "on this computer. It finds copies that were resized, re-compressed, cropped, rotated "
                       "or screenshotted, and tells you whose copy it was when you shared it with Sanctum. "
                       "Nothing from your vault is uploaded.")
        intro.setWordWrap(True)
        intro.setProperty("muted", True)
        layout.addWidget(title)
        layout.addWidget(intro)
        urls_label = QLabel("Web addresses — pages or images, one per line")
        urls_label.setObjectName("scanSection")
        layout.addWidget(urls_label)
        self.urls = QPlainTextEdit()
        self.urls.setObjectName("scanUrls")
        self.urls.setPlaceholderText("https://forum.example/thread/123\nhttps://images.example/abc.jpg")
        self.urls.textChanged.connect(self._update_start)
        layout.addWidget(self.urls, 2)
        self.address_problem = QLabel()
        self.address_problem.setObjectName("scanAddressProblem")
        self.address_problem.setProperty("role", "error")
        self.address_problem.setWordWrap(True)
        self.address_problem.hide()
        layout.addWidget(self.address_problem)
        self.reach = PageReach()
        layout.addWidget(self.reach)
        self.watch_choice = WatchChoice()
        layout.addWidget(self.watch_choice)
        files_label = QLabel("Files and folders on this computer — downloads, screenshots, a phone's backup")
        files_label.setObjectName("scanSection")
        layout.addWidget(files_label)
        files_row = QHBoxLayout()
        self.paths = QListWidget()
        self.paths.setObjectName("scanPaths")
        self.paths.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.paths.itemSelectionChanged.connect(self._update_start)
        files_row.addWidget(self.paths, 1)
        path_buttons = QVBoxLayout()
        self.add_folder_button = QPushButton("Add a folder…")
        self.add_folder_button.setObjectName("scanAddFolder")
        self.add_folder_button.clicked.connect(self.choose_folder)
        self.add_files_button = QPushButton("Add files…")
        self.add_files_button.setObjectName("scanAddFiles")
        self.add_files_button.clicked.connect(self.choose_files)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove_paths)
        for button in (self.add_folder_button, self.add_files_button, self.remove_button):
            path_buttons.addWidget(button)
        path_buttons.addStretch(1)
        files_row.addLayout(path_buttons)
        layout.addLayout(files_row, 1)
        self.rescan = QCheckBox()
        self.rescan.setObjectName("scanRescan")
        self.rescan.setChecked(False)
        self._show_known_places()
        self.rescan.toggled.connect(self._update_start)
        layout.addWidget(self.rescan)
        self.error = QLabel()
        self.error.setObjectName("scanError")
        self.error.setStyleSheet("color: #b42318;")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        # Why "Start scan" is greyed out, next to it (a tooltip alone is easily missed).
        self.start_hint = QLabel()
        self.start_hint.setObjectName("scanStartHint")
        self.start_hint.setProperty("muted", True)
        self.start_hint.setWordWrap(True)
        buttons.addWidget(self.start_hint, 1)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        self.start_button = QPushButton("Start scan")
        self.start_button.setObjectName("scanStart")
        self.start_button.setProperty("primary", True)
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        buttons.addWidget(close)
        buttons.addWidget(self.start_button)
        layout.addLayout(buttons)
        return page

    def _build_progress(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        self.progress_title = QLabel("Scanning…")
        self.progress_title.setObjectName("metadataTitle")
        self.progress_label = QLabel()
        self.progress_label.setObjectName("scanProgressLabel")
        self.progress_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("scanProgress")
        self.progress.setTextVisible(False)
        layout.addWidget(self.progress_title)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress)
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("scanCancel")
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        layout.addStretch(2)
        return page

    def _build_results(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.summary = QLabel()
        self.summary.setObjectName("metadataTitle")
        self.summary.setWordWrap(True)
        self.summary_detail = QLabel()
        self.summary_detail.setObjectName("scanSummaryDetail")
        self.summary_detail.setWordWrap(True)
        self.summary_detail.setProperty("muted", True)
        layout.addWidget(self.summary)
        layout.addWidget(self.summary_detail)
        self.results_area = QScrollArea()
        self.results_area.setObjectName("scanResults")
        self.results_area.setWidgetResizable(True)
        self.results_area.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        inner.setObjectName("scanResultsInner")
        self.results_layout = QVBoxLayout(inner)
        self.results_layout.setContentsMargins(0, 0, 0, 0)
        self.results_layout.setSpacing(10)
        self.results_layout.addStretch(1)
        self.results_area.setWidget(inner)
        layout.addWidget(self.results_area, 3)
        self.problems_title = QLabel()
        self.problems_title.setObjectName("scanSection")
        self.problems = QListWidget()
        self.problems.setObjectName("scanProblems")
        self.problems.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.problems.setMaximumHeight(140)
        layout.addWidget(self.problems_title)
        layout.addWidget(self.problems, 1)
        layout.addStretch(0)  # takes what a short list of problems leaves, when nothing was found
        buttons = QHBoxLayout()
        self.again_button = QPushButton("New scan")
        self.again_button.setObjectName("scanAgain")
        self.again_button.clicked.connect(self._new_scan)
        done = QPushButton("Done")
        done.setObjectName("scanDone")
        done.setProperty("primary", True)
        done.clicked.connect(self.accept)
        buttons.addWidget(self.again_button)
        buttons.addStretch(1)
        buttons.addWidget(done)
        layout.addLayout(buttons)
        return page

    # --- sources ---------------------------------------------------------------------------------

    def add_paths(self, paths: list[str]) -> None:
        present = {self.paths.item(r).text() for r in range(self.paths.count())}
        for path in paths:
            if path and path not in present:
                item = QListWidgetItem(path)
                item.setToolTip(path)
                self.paths.addItem(item)
                present.add(path)
        self._update_start()

    def choose_folder(self) -> None:
        folder = dialogs.choose_folder(self, "Scan a folder for your photos", purpose="check")
        if folder:
            self.add_paths([folder])

    def choose_files(self) -> None:
        self.add_paths(dialogs.choose_files(self, "Scan files for your photos", purpose="check"))

    def _remove_paths(self) -> None:
        for item in self.paths.selectedItems():
            self.paths.takeItem(self.paths.row(item))
        self._update_start()

    def sources(self) -> list[str]:
        sources = parse_addresses(self.urls.toPlainText())
        sources += [self.paths.item(r).text() for r in range(self.paths.count())]
        if self.rescan.isChecked():
            sources += self.known_places
        unique: list[str] = []
        for source in sources:
            if source not in unique:
                unique.append(source)
        return unique

    def _show_known_places(self) -> None:
        n = len(self.known_places)
        if n:
            self.rescan.setText(f"Also look again at the {n:,} place{'s' if n != 1 else ''} where copies "
                                "were found before")
            self.rescan.setToolTip("\n".join(self.known_places[:15]) + ("\n…" if n > 15 else ""))
        else:
            self.rescan.setText("Look again at places where copies were found before (none yet)")
            self.rescan.setToolTip("")
            self.rescan.setChecked(False)
        self.rescan.setEnabled(bool(n))

    def add_known_places(self, matches: list[LeakMatchInfo]) -> None:
        """Places of copies just found join those offered for the next scan."""
        for place in rescan_places(matches):
            if place not in self.known_places:
                self.known_places.append(place)
        self._show_known_places()

    def refused_addresses(self) -> list[tuple[str, str]]:
        return read_addresses(self.urls.toPlainText())[1]

    def _update_start(self) -> None:
        refused = self.refused_addresses()
        if refused:
            shown = [f"“{line}” is not a web address: {why}." for line, why in refused[:3]]
            if len(refused) > 3:
                shown.append(f"…and {len(refused) - 3:,} more.")
            self.address_problem.setText("\n".join(shown) + "\nCorrect or remove "
                                         + ("it" if len(refused) == 1 else "them") + " to start.")
        self.address_problem.setVisible(bool(refused))
        sources = self.sources()
        if self.job is not None:
            hint = "A scan is running."
        elif refused:
            hint = "Correct the addresses above to start."
        elif not sources:
            hint = "Add a web address, a file or a folder to start."
        else:
            hint = ""
        self.start_hint.setText(hint)
        self.start_button.setEnabled(not hint)
        self.remove_button.setEnabled(bool(self.paths.selectedItems()))

    # --- scanning --------------------------------------------------------------------------------

    def start(self) -> ScanJob | None:
        sources = self.sources()
        if not sources or self.job is not None or self.refused_addresses():
            return None
        if not self.session.is_unlocked:
            self._show_error("The vault was locked. Unlock it and try again.")
            return None
        self.error.hide()
        job = ScanJob(self.session.vault, sources, self.policy, self.reach.options(),
                      watch_every=self.watch_choice.every_hours())
        job.signals.progress.connect(self._progress)
        job.signals.finished.connect(self._finished)
        job.signals.failed.connect(self._failed)
        job.signals.cancelled.connect(lambda: self._show_error("The scan was cancelled before it began."))
        job.signals.ended.connect(self._ended)
        self.job = job
        n = len(sources)
        self.progress_title.setText(f"Looking at {n:,} place{'s' if n != 1 else ''}…")
        self.progress_label.setText("Fetching pages and listing their images…")
        self.progress.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self.pages.setCurrentIndex(PAGE_PROGRESS)
        self.session.jobs.start(job)
        return job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText("Stopping…")
            self.progress_label.setText("Stopping after the images being checked now…")

    def _progress(self, done: int, total: int) -> None:
        if self.job is None or self.job.is_cancelled:
            return
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress_label.setText(f"Checked {done:,} of {total:,} image{'s' if total != 1 else ''}")

    def _finished(self, outcome: ScanOutcome) -> None:
        self.outcome = outcome
        self.add_known_places(outcome.matches)
        self.scan_finished.emit(outcome)
        if not self._close_when_done and not self._closing_for_lock:
            self.show_outcome(outcome)

    def _failed(self, exc: BaseException) -> None:
        message = describe(exc)
        self._show_error(f"{message.title}: {message.text}")
        self.scan_failed.emit(exc)

    def _ended(self) -> None:
        self.job = None
        if self.pages.currentIndex() == PAGE_PROGRESS:
            self.pages.setCurrentIndex(PAGE_SOURCES)
        self._update_start()
        if self._close_when_done:
            super().reject()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    # --- results ---------------------------------------------------------------------------------

    def _photo_name(self, match: LeakMatchInfo) -> str:
        if match.photo_id is None:
            return "A deleted photo"
        info = self.photo_lookup(match.photo_id)
        return info.filename if info is not None else f"Photo {match.photo_id}"

    def show_outcome(self, outcome: ScanOutcome) -> None:
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows = []
        k = len(outcome.errors)
        headline, detail = outcome_words(outcome)
        self.summary.setText(headline)
        self.summary_detail.setText(detail)
        for match in outcome.matches:
            row = ScanResultRow(match, self._photo_name(match))
            row.request_deletion.connect(self.request_deletion)
            self.results_layout.insertWidget(self.results_layout.count() - 1, row)
            self.rows.append(row)
        self.results_area.setVisible(bool(self.rows))
        self.problems.clear()
        for problem in outcome.errors:
            reason = place_problem(problem.path, problem.reason)
            item = QListWidgetItem(f"{problem.path} — {reason}")
            item.setToolTip(f"{problem.path}\n{reason}")
            self.problems.addItem(item)
        self.problems_title.setText(f"{k:,} place{'s' if k != 1 else ''} could not be checked" if k else "")
        self.problems_title.setVisible(bool(k))
        self.problems.setVisible(bool(k))
        if k:  # as tall as its lines (up to 8 beside found copies, 20 alone), then it scrolls
            shown = min(k, 8 if self.rows else 20)
            lines = sum(self.problems.sizeHintForRow(r) for r in range(shown))
            self.problems.setFixedHeight(lines + 2 * self.problems.frameWidth() + 4)
        self.pages.setCurrentIndex(PAGE_RESULTS)
        self._load_evidence(outcome.matches)

    def _load_evidence(self, matches: list[LeakMatchInfo]) -> None:
        if self.evidence_job is not None:
            self.evidence_job.cancel()
        self._waiting_rows = {m.id for m in matches}
        if not matches or not self.session.is_unlocked:
            self.evidence_loaded.emit()
            return
        job = EvidenceJob(self.session.vault, matches)
        job.signals.loaded.connect(self._evidence)
        job.signals.ended.connect(lambda job=job: self._evidence_ended(job))
        self.evidence_job = job
        self.session.jobs.start(job, priority=1)

    def _evidence(self, batch: list[MatchEvidence]) -> None:
        by_id = {row.match.id: row for row in self.rows}
        for item in batch:
            row = by_id.get(item.match.id)
            if row is not None:
                row.set_evidence(item)
                self._waiting_rows.discard(item.match.id)

    def _evidence_ended(self, job: EvidenceJob) -> None:
        if job is self.evidence_job:
            self.evidence_job = None
            self.evidence_loaded.emit()

    def _new_scan(self) -> None:
        self.pages.setCurrentIndex(PAGE_SOURCES)
        self._update_start()

    # --- closing -----------------------------------------------------------------------------------

    def reject(self) -> None:
        if self.job is not None and not self._closing_for_lock:
            # Stop the scan and close when it has stopped (a second or two): what it found is kept.
            self._close_when_done = True
            self.cancel()
            return
        if self.evidence_job is not None:
            self.evidence_job.cancel()
        super().reject()

    def accept(self) -> None:
        if self.job is not None:
            return
        if self.evidence_job is not None:
            self.evidence_job.cancel()
        super().accept()

    def close_for_lock(self) -> None:
        """The vault is locking: go now (the session cancels the jobs and waits for them)."""
        self._closing_for_lock = True
        if self.job is not None:
            self.job.cancel()
        for row in self.rows:
            row.evidence.clear()
        self.reject()
