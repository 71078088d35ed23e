"""The selected found copy: both pictures, what it is in words, its removal requests, actions."""

from __future__ import annotations

from PySide6.QtCore import (
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QImage,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.leaks.enums import MatchStatus
from app.core.vault import LeakMatchInfo, ShareInfo, TakedownInfo

from .evidence_view import EvidenceView
from .leak_words import (
    LOCAL_COPY_WORDS,
    REQUEST_LIST_MAX_HEIGHT,
    STATUS_WORDS,
    is_local,
    method_words,
    place_of,
    strength_words,
    takedown_line,
)
from .resources import repolish
from .shares_view import short_date

# --- one match: evidence, words, requests, buttons ---------------------------------------------------

_PANEL_STYLE = ("QFrame#matchPanel { background: #ffffff; border: 1px solid #dfe3e8; border-radius: 8px; }"
                "QLabel#matchHeadline { font-weight: 600; }")


class FittedList(QListWidget):
    """A list as tall as its rows once wrapped, up to `cap` pixels (then it scrolls), so no row is
    cut off half-way. QListView's own size hint measures rows unwrapped, on one line each."""

    def __init__(self, cap: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.cap = cap
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self._fitting = False

    def fit(self) -> None:
        if self._fitting:
            return
        self._fitting = True
        try:
            self.doItemsLayout()  # the rows' wrapped heights at the current width
            rows = sum(self.visualItemRect(self.item(r)).height() for r in range(self.count()))
            height = min(self.cap, rows + 2 * self.frameWidth() + 2)
            if height != self.height() or self.minimumHeight() != height:
                self.setFixedHeight(height)
        finally:
            self._fitting = False

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            QTimer.singleShot(0, self.fit)  # narrower means taller: after this resize settles


class MatchPanel(QFrame):
    """The selected match: both pictures, what it is in words, its removal requests, actions."""

    request_deletion = Signal(object)  # LeakMatchInfo
    check_again = Signal(object)  # LeakMatchInfo
    export_hashes = Signal(object)  # LeakMatchInfo
    watch_page = Signal(object)  # LeakMatchInfo: add the page it was on (or its address) to the watch list
    open_request = Signal(object)  # TakedownInfo (double-click on a request)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("matchPanel")
        self.setStyleSheet(_PANEL_STYLE)
        self.match: LeakMatchInfo | None = None
        self.share: ShareInfo | None = None
        self.requests: list[TakedownInfo] = []
        # The pictures across the whole width (they are the evidence), the words and the
        # requests below them side by side, the actions last.
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        self.evidence = EvidenceView()
        self.evidence.setMinimumHeight(180)
        layout.addWidget(self.evidence, 1)
        info = QHBoxLayout()
        info.setSpacing(18)
        side = QVBoxLayout()
        side.setSpacing(4)
        requests_box = QVBoxLayout()
        requests_box.setSpacing(4)
        side.setSpacing(6)
        self.headline = QLabel()
        self.headline.setObjectName("matchHeadline")
        self.headline.setWordWrap(True)
        self.words = QLabel()
        self.words.setObjectName("matchWords")
        self.words.setWordWrap(True)
        self.where = QLabel()
        self.where.setObjectName("matchWhere")
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.where.setProperty("muted", True)
        side.addWidget(self.headline)
        side.addWidget(self.words)
        side.addWidget(self.where)
        self.requests_title = QLabel("Removal requests")
        self.requests_title.setObjectName("matchHeadline")
        requests_box.addWidget(self.requests_title)
        self.request_list = FittedList(REQUEST_LIST_MAX_HEIGHT)
        self.request_list.setObjectName("takedownList")
        self.request_list.itemActivated.connect(self._request_activated)
        requests_box.addWidget(self.request_list)
        self.no_requests = QLabel("None yet.")
        self.no_requests.setObjectName("noRequests")
        self.no_requests.setWordWrap(True)
        self.no_requests.setProperty("muted", True)
        requests_box.addWidget(self.no_requests)
        requests_box.addStretch(1)
        side.addStretch(1)
        info.addLayout(side, 3)
        info.addLayout(requests_box, 2)
        layout.addLayout(info)
        buttons = QHBoxLayout()
        self.request_button = QPushButton("Request deletion…")
        self.request_button.setObjectName("requestDeletion")
        self.request_button.setProperty("primary", True)
        self.request_button.clicked.connect(lambda: self.match and self.request_deletion.emit(self.match))
        self.check_button = QPushButton("Check again")
        self.check_button.setObjectName("checkAgain")
        self.check_button.clicked.connect(lambda: self.match and self.check_again.emit(self.match))
        self.hashes_button = QPushButton("Export hashes…")
        self.hashes_button.setObjectName("exportHashes")
        self.hashes_button.setToolTip("Save the photo's fingerprints (PDQ and MD5) for hash-sharing "
                                      "programmes such as StopNCII; the photo itself never leaves")
        self.hashes_button.clicked.connect(lambda: self.match and self.export_hashes.emit(self.match))
        buttons.addWidget(self.request_button)
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.hashes_button)
        self.watch_button = QPushButton("Watch this page")
        self.watch_button.setObjectName("watchPage")
        self.watch_button.setToolTip("Check the page this copy was on again every day while Sanctum is open, "
                                     "and say when a new copy of one of your photos appears there")
        self.watch_button.clicked.connect(lambda: self.match and self.watch_page.emit(self.match))
        buttons.addWidget(self.watch_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        # Why "Request deletion…" is greyed out, in words on the panel (not only in a tooltip).
        self.request_note = QLabel()
        self.request_note.setObjectName("requestNote")
        self.request_note.setWordWrap(True)
        self.request_note.setProperty("muted", True)
        self.request_note.hide()
        layout.addWidget(self.request_note)
        self.status = QLabel()
        self.status.setObjectName("matchStatus")
        self.status.setWordWrap(True)
        self.status.setProperty("muted", True)
        layout.addWidget(self.status)
        self.show_match(None)

    def show_match(self, match: LeakMatchInfo | None, share: ShareInfo | None = None,
                   requests: list[TakedownInfo] | None = None, photo_name: str = "") -> None:
        same = match is not None and self.match is not None and match.id == self.match.id
        self.match, self.share = match, share
        if match is None:
            self.evidence.clear("Select a found copy to see it beside your photo.")
            self.headline.setText("")
            self.words.setText("")
            self.where.setText("")
        else:
            if not same:
                self.evidence.clear("Loading…")
            self.headline.setText(f"{STATUS_WORDS.get(match.status, match.status)}: "
                                  f"{photo_name or 'your photo'} at {place_of(match)}")
            self.words.setText(method_words(match, share))
            lines = [f"Address: {match.source}"]
            if match.found_on and match.found_on != match.source:
                lines.append(f"On the page: {match.found_on}")
            lines.append(f"First seen {short_date(match.first_seen)}, last seen {short_date(match.last_seen)}"
                         f" — {strength_words(match)}")
            self.where.setText("\n".join(lines))
        self.set_requests(requests or [])
        self.status.setText("")
        self._update_buttons()

    def set_evidence(self, photo: QImage | None, found: QImage | None, photo_name: str = "") -> None:
        if self.match is not None:
            self.evidence.set_evidence(self.match, photo, found, photo_name)

    def set_requests(self, requests: list[TakedownInfo]) -> None:
        self.requests = list(requests)
        self.request_list.clear()
        for request in self.requests:
            item = QListWidgetItem(takedown_line(request))
            item.setData(Qt.ItemDataRole.UserRole, request)
            item.setToolTip("Double-click to open the request")
            self.request_list.addItem(item)
        self.request_list.setVisible(bool(self.requests))
        self.no_requests.setVisible(not self.requests)
        self.request_list.fit()
        self._update_buttons()

    def set_busy(self, text: str) -> None:
        self.status.setText(text)
        for button in (self.request_button, self.check_button, self.hashes_button):
            button.setEnabled(False)

    def set_status_text(self, text: str) -> None:
        self.status.setText(text)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.match is not None
        local = has and is_local(self.match)
        self.request_button.setEnabled(has and not local)
        self.request_button.setToolTip(LOCAL_COPY_WORDS if local else
                                       "Ask the site to remove this copy: a deletion link, the host's API, "
                                       "or a removal notice by email")
        deleted = has and self.match.photo_id is None
        notes = [LOCAL_COPY_WORDS] if local else []
        if deleted:
            notes.append("Export hashes… needs the photo, and it was deleted from your vault.")
        self.request_note.setText("\n".join(notes))
        self.request_note.setVisible(bool(notes))
        # Once the copy is gone, asking again is the exception: "Check again" is what is left to do.
        removed = has and self.match.status == MatchStatus.REMOVED
        if bool(self.request_button.property("primary")) == removed:
            self.request_button.setProperty("primary", not removed)
            repolish(self.request_button)
        self.check_button.setEnabled(has)
        self.check_button.setToolTip(
            "Look at the address again: marks the copy removed when it is gone or no longer your photo"
            if self.requests else "Scan the address again to see whether the copy is still there")
        self.hashes_button.setEnabled(has and self.match.photo_id is not None)
        self.watch_button.setEnabled(has and not local)

    def _request_activated(self, item: QListWidgetItem) -> None:
        request = item.data(Qt.ItemDataRole.UserRole)
        if request is not None:
            self.open_request.emit(request)


