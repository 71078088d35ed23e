"""The "Leaks" view: found copies (the table of every match, the selected one's evidence and
removal requests) and, in its second tab, cases (every copy on one site, handled together:
`cases_view`).

The words, the evidence picture and the table live in `leak_words`, `evidence_view` and
`leaks_table`; their names are re-exported here for the modules that import them from here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.files import SHAREABLE_MODE, write_atomically
from app.core.leaks.enums import TakedownStatus
from app.core.vault import LeakMatchInfo, ScanOutcome, ShareInfo, TakedownInfo
from app.workers.base import CallJob
from app.workers.leak_jobs import (
    EvidenceJob,
    HashExport,
    MatchEvidence,
    MatchList,
    RecheckTakedownJob,
    ScanJob,
    hash_export,
    match_list,
)
from app.workers.pictures import RevealState
from app.workers.watch_jobs import watch_source

from . import dialogs
from .cases_view import CasesPage
from .errors import describe, place_problem
from .evidence_view import EvidenceView, _fit, region_in_evidence  # noqa: F401 - re-exported
from .leak_words import (  # noqa: F401 - re-exported
    LOCAL_COPY_WORDS,
    METHOD_NAMES,
    METHOD_TIPS,
    REQUEST_LIST_MAX_HEIGHT,
    STATUS_COLORS,
    STATUS_TIPS,
    STATUS_WORDS,
    TAKEDOWN_KINDS,
    is_local,
    method_words,
    place_of,
    rescan_places,
    share_words,
    strength_words,
    takedown_line,
)
from .leaks_table import LeakColumn, LeakRoles, LeaksFilterProxy, LeaksTable, LeaksTableModel  # noqa: F401
from .match_panel import FittedList, MatchPanel  # noqa: F401 - re-exported
from .watch_dialog import every_words


class LeaksPage(QWidget):
    """The middle of the library when "Leaks" is selected: the table over the selected match.

    It loads the matches and their removal requests (`reload`), the selected match's pictures,
    and runs "Check again" and "Export hashes…" itself; "Request deletion…" goes to the main
    window, which also opens it from the scan dialog.
    """

    match_selected = Signal(object)  # LeakMatchInfo or None
    loaded = Signal(int)  # matches listed (tests wait on it)
    checked = Signal(str)  # the words shown after "Check again"
    hashes_saved = Signal(str)  # the file written
    request_deletion = Signal(object)  # LeakMatchInfo
    open_request = Signal(object)  # TakedownInfo
    open_watched = Signal()  # the "Watched places…" button

    EMPTY = ("No copies of your photos found yet.\n\nChoose “Scan for leaks…” and paste the addresses "
             "of pages or images you are worried about, or pick folders (downloads, screenshots). "
             "Every copy found is kept here with what was done about it.")
    NO_MATCH = "No found copies match."

    def __init__(self, model: LeaksTableModel, parent: QWidget | None = None):
        super().__init__(parent)
        #: what the user revealed of sensitive photos (the main window sets its state here)
        self.reveal: Callable[[], RevealState] = RevealState
        self.setObjectName("leaksPage")
        self.model = model
        self.proxy = LeaksFilterProxy(self)
        self.proxy.setSourceModel(model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 8, 8)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        self.table = LeaksTable()
        self.table.setModel(self.proxy)
        self.table.empty_text = self.EMPTY
        self.table.setMinimumHeight(120)
        self.panel = MatchPanel()
        self.panel.setMinimumHeight(330)
        splitter.addWidget(self.table)
        splitter.addWidget(self.panel)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([250, 420])
        self.splitter = splitter
        # Found copies one by one, and the same copies as cases (one per site): two tabs.
        self.cases = CasesPage()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("leaksTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(splitter, "Found copies")
        self.tabs.addTab(self.cases, "Cases")
        self.tabs.currentChanged.connect(self._tab_changed)
        # The watch list sits with the copies it finds (watch_dialog.py).
        self.watched_button = QPushButton("Watched places…")
        self.watched_button.setObjectName("watchedPlacesButton")
        self.watched_button.setToolTip("Pages and folders Sanctum checks again while it is open")
        self.watched_button.clicked.connect(self.open_watched)
        self.tabs.setCornerWidget(self.watched_button)
        layout.addWidget(self.tabs)
        self.session = None  # the app's Session, once attached
        self._fetch_policy = None
        self.requests: dict[int, list[TakedownInfo]] = {}  # match id -> requests, newest first
        self.shares: dict[str, ShareInfo] = {}
        self._busy = False
        self._reloading = False
        self._notes: dict[int, str] = {}  # match id -> the last "Check again" / export words
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.panel.request_deletion.connect(self.request_deletion)
        self.panel.open_request.connect(self.open_request)
        self.panel.check_again.connect(self.check_again)
        self.panel.export_hashes.connect(self.export_hashes)
        self.panel.watch_page.connect(self.watch_page)

    def attach(self, session) -> None:
        self.session = session
        self.cases.attach(session)

    @property
    def fetch_policy(self):
        """FetchPolicy for "Check again" here and in the cases (tests shorten the timeouts)."""
        return self._fetch_policy

    @fetch_policy.setter
    def fetch_policy(self, policy) -> None:
        self._fetch_policy = self.cases.fetch_policy = policy

    def show_cases(self) -> None:
        self.tabs.setCurrentWidget(self.cases)

    def _tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.cases:
            self.cases.reload()  # listed when looked at: the re-check of due cases goes online

    @property
    def _ready(self) -> bool:
        return self.session is not None and self.session.is_unlocked

    # --- loading ---------------------------------------------------------------------------------

    def reload(self) -> CallJob | None:
        if not self._ready:
            return None
        job = CallJob(self.session.vault, match_list, self.session.vault)
        job.signals.finished.connect(self._listed)
        job.signals.failed.connect(lambda exc: self.panel.set_status_text(
            f"{describe(exc).title}: {describe(exc).text}"))
        self.session.jobs.start(job, priority=1)
        return job

    def _listed(self, result: MatchList) -> None:
        if not self._ready:
            return
        selected = self.panel.match.id if self.panel.match is not None else None
        self.requests = {}
        for request in result.takedowns:
            self.requests.setdefault(request.match_id, []).append(request)
        self.shares = dict(result.shares)
        self._reloading = True  # the reset clears the selection: not a new choice by the user
        try:
            self.model.set_matches(result.matches)
            kept = selected is not None and self.select_match(selected)
        finally:
            self._reloading = False
        self._show(self.table.selected_match() if kept else None)
        self.loaded.emit(len(result.matches))
        if self.tabs.currentWidget() is self.cases:
            self.cases.reload(recheck_due=False)

    def clear(self) -> None:
        self.requests, self.shares, self._notes = {}, {}, {}
        self.model.clear()
        self.cases.clear()
        self._show(None)

    def _selection_changed(self, *args) -> None:
        if self._reloading:
            return
        self._show(self.table.selected_match())

    def _photo_name(self, match: LeakMatchInfo) -> str:
        if match.photo_id is None:
            return "a deleted photo"
        info = self.model.photo_lookup(match.photo_id)
        return info.filename if info is not None else f"photo {match.photo_id}"

    def _show(self, match: LeakMatchInfo | None) -> None:
        if match is None:
            self.panel.show_match(None)
            self.match_selected.emit(None)
            return
        share = self.shares.get(match.share_id) if match.share_id else None
        same = self.panel.match is not None and self.panel.match.id == match.id
        self.panel.show_match(match, share, self.requests.get(match.id, []), self._photo_name(match))
        self.panel.status.setText(self._notes.get(match.id, ""))
        self.match_selected.emit(match)
        if not same and self._ready:
            # A sensitive photo (and its found copy) stays blurred unless the user revealed it.
            job = EvidenceJob(self.session.vault, [match], self.reveal())
            job.signals.loaded.connect(self._evidence_loaded)
            self.session.jobs.start(job, priority=1)

    def _evidence_loaded(self, batch: list[MatchEvidence]) -> None:
        for item in batch:
            if self._ready and self.panel.match is not None and self.panel.match.id == item.match.id:
                self.panel.set_evidence(item.photo, item.found, self._photo_name(item.match))

    # --- check again -------------------------------------------------------------------------------

    def check_again(self, match: LeakMatchInfo) -> None:
        """With a removal request: re-check it (gone → removed). Without: scan the address again."""
        if not self._ready or self._busy:
            return
        requests = self.requests.get(match.id, [])
        self._busy = True
        self.panel.set_busy(f"Looking at {place_of(match)} again…")
        if requests:
            live = [r for r in requests if r.status != TakedownStatus.FAILED] or requests
            job = RecheckTakedownJob(self.session.vault, live[0].id, self.fetch_policy)
            job.signals.finished.connect(lambda request, match=match: self._rechecked(match, request))
        else:
            job = ScanJob(self.session.vault, [match.source], self.fetch_policy)
            job.signals.finished.connect(lambda outcome, match=match: self._rescanned(match, outcome))
        job.signals.failed.connect(lambda exc, match=match: self._check_failed(match, exc))
        job.signals.ended.connect(self._check_ended)
        self.session.jobs.start(job)

    def _rechecked(self, match: LeakMatchInfo, request: TakedownInfo) -> None:
        if request.status == TakedownStatus.REMOVED:
            words = f"Removed: {request.detail}."
        else:
            words = f"Not removed yet: {request.detail or 'still online'}."
        self._checked(match, words)

    def _rescanned(self, match: LeakMatchInfo, outcome: ScanOutcome) -> None:
        if any(m.photo_id == match.photo_id for m in outcome.matches):
            words = "Still there: your photo was found at this address again just now."
        elif outcome.errors:
            problem = outcome.errors[0]
            words = f"Could not see it: {place_problem(problem.path, problem.reason)}."
        else:
            words = "The address no longer shows your photo."
        self._checked(match, words)

    def _checked(self, match: LeakMatchInfo | None, words: str) -> None:
        if match is not None:
            self._notes[match.id] = words
        self.panel.set_status_text(words)
        self.checked.emit(words)
        self.reload()

    def _check_failed(self, match: LeakMatchInfo | None, exc: BaseException) -> None:
        message = describe(exc)
        self._checked(match, f"{message.title}: {message.text}")

    def _check_ended(self) -> None:
        self._busy = False
        if self.panel.match is not None:
            self.panel.set_status_text(self.panel.status.text())

    def watch_page(self, match: LeakMatchInfo) -> CallJob | None:
        """The page the copy was on (or the image's address) joins the watch list."""
        if not self._ready:
            return None
        job = CallJob(self.session.vault, watch_source, self.session.vault, match.found_on or match.source,
                      lane="vault-write")
        job.signals.finished.connect(lambda place, match=match: self._checked(
            match, f"Watched: Sanctum checks this {'page' if match.found_on else 'address'} again every "
                   f"{every_words(place.every_hours)} while it is open (Watched places…)."))
        job.signals.failed.connect(lambda exc, match=match: self._check_failed(match, exc))
        self.session.jobs.start(job)
        return job

    # --- hashes ----------------------------------------------------------------------------------

    def export_hashes(self, match: LeakMatchInfo) -> None:
        if not self._ready or match.photo_id is None:
            return
        job = CallJob(self.session.vault, hash_export, self.session.vault, match.photo_id)
        job.signals.finished.connect(self._hashes_ready)
        job.signals.failed.connect(lambda exc: self.panel.set_status_text(
            f"{describe(exc).title}: {describe(exc).text}"))
        self.session.jobs.start(job)

    def _hashes_ready(self, export: HashExport) -> None:
        import json

        if not self._ready:
            return
        suggested = str(Path.home() / f"photo-{export.photo_id}-hashes.json")
        path = dialogs.save_file(self, "Save the photo's hashes", suggested, "JSON (*.json)",
                                 purpose="export")
        if not path:
            return
        if not path.lower().endswith(".json"):
            path += ".json"
        try:
            write_atomically(path, (json.dumps(export.hashes, indent=2) + "\n").encode("utf-8"), mode=SHAREABLE_MODE)
        except OSError as exc:
            self.panel.set_status_text(f"{describe(exc).title}: {describe(exc).text}")
            return
        self.panel.set_status_text(f"Hashes saved to {path}. They describe the photo without showing it: "
                                   "hash-sharing programmes use them to find and block copies.")
        self.hashes_saved.emit(path)

    def set_text(self, text: str) -> None:
        self.proxy.set_text(text)
        self.table.empty_text = self.NO_MATCH if text.strip() and self.model.rowCount() else self.EMPTY
        self.table.viewport().update()

    def select_match(self, match_id: int) -> bool:
        row = self.model.row_of(match_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.table.selectRow(index.row())
        self.table.scrollTo(index)
        return True

