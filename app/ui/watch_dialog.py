"""The "Watched places" dialog, from the Leaks view: the pages, image addresses and folders Sanctum
checks again while it is open, when each was last checked and what that found; remove one, or
check them all now. Places join the list from the scan dialog ("Watch these places") or with
`sanctum watch add`. The list and its changes go through jobs: the UI thread never waits on
the database."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.workers.base import CallJob
from app.workers.watch_jobs import list_watched, unwatch

from .errors import describe

COLUMNS = ("Place", "Reads", "Checked every", "Last checked", "Last check found")


def every_words(hours: float) -> str:
    if hours % 24 == 0:
        days = int(hours // 24)
        return "day" if days == 1 else f"{days} days"
    return "hour" if hours == 1 else f"{hours:g} hours"


def reads_words(place) -> str:
    if place.kind == "files":
        return "changed files"
    pages = place.pages
    words = "this page" if pages.depth == 0 else f"{pages.depth} click(s) deep, ≤ {pages.max_pages} pages"
    return words + (", in a browser" if pages.browser else "")


def result_words(place) -> str:
    result = place.last_result
    if result is None:
        return "not checked yet"
    words = (f"{len(result.new)} new cop{'ies' if len(result.new) != 1 else 'y'}" if result.new
             else "nothing new")
    words += f" ({result.scanned} looked at, {result.skipped} already seen"
    return words + (f", {result.errors} could not be read)" if result.errors else ")")


class WatchDialog(QDialog):
    listed = Signal(int)  # places shown (tests wait on it)

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("watchDialog")
        self.setWindowTitle("Watched places")
        self.session = session
        self.places: list = []
        self.resize(860, 420)
        layout = QVBoxLayout(self)
        intro = QLabel("While Sanctum is open and unlocked, it checks these places again on their schedule. "
                       "Pages are read again each time; only images not looked at before are downloaded, and "
                       "only changed files are read. Each check is made from this computer's internet address. "
                       "You are told when a new copy of one of your photos appears.")
        intro.setWordWrap(True)
        intro.setProperty("muted", True)
        layout.addWidget(intro)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("watchTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)
        self.status = QLabel()
        self.status.setObjectName("watchStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.remove_button = QPushButton("Stop watching")
        self.remove_button.setObjectName("watchRemove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.check_button = QPushButton("Check all now")
        self.check_button.setObjectName("watchCheckNow")
        self.check_button.clicked.connect(self.check_now)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.check_button)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        scheduler = session.watch
        scheduler.running_changed.connect(self._running)
        scheduler.checked.connect(lambda _outcome: self.reload())
        self._running(scheduler.running)
        self.reload()

    def reload(self) -> CallJob | None:
        if not self.session.is_unlocked:
            return None
        job = CallJob(self.session.vault, list_watched, self.session.vault)
        job.signals.finished.connect(self._show)
        job.signals.failed.connect(self._failed)
        self.session.jobs.start(job, priority=1)
        return job

    def _show(self, places: list) -> None:
        if not self.session.is_unlocked:
            return
        self.places = list(places)
        self.table.setRowCount(len(self.places))
        for row, place in enumerate(self.places):
            cells = (place.source, reads_words(place), every_words(place.every_hours),
                     f"{place.checked_at:%a %d %b %Y, %H:%M}" if place.checked_at else "never", result_words(place))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        if not self.places:
            self.status.setText("No watched places. In “Scan for leaks…”, tick “Watch these places” to add the "
                                "places of a scan.")
        self._update_buttons()
        self.listed.emit(len(self.places))

    def selected(self):
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        return self.places[min(rows)] if rows else None

    def remove_selected(self) -> CallJob | None:
        place = self.selected()
        if place is None or not self.session.is_unlocked:
            return None
        job = CallJob(self.session.vault, unwatch, self.session.vault, place.id, lane="vault-write")
        job.signals.finished.connect(self._show)
        job.signals.failed.connect(self._failed)
        self.session.jobs.start(job)
        return job

    def check_now(self) -> None:
        if self.session.watch.check_all() is None and not self.session.watch.running:
            self.status.setText("The vault is locked.")

    def _running(self, running: bool) -> None:
        self.check_button.setEnabled(not running)
        if running:
            self.status.setText("Checking the watched places…")
        elif self.session.watch.status:
            self.status.setText(self.session.watch.status)

    def _failed(self, exc: BaseException) -> None:
        message = describe(exc)
        self.status.setText(f"{message.title}: {message.text}")

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(self.selected() is not None)
