"""Copies of vault photos found by leak scans: the words for a match, the side-by-side evidence
with the matched region outlined, and the "Leaks" view (table of every match, the selected one's
evidence and removal requests).

The found copy kept as evidence is small (≤ 480 px); a match's region is in the found image's
full-size pixels (`found_size`), so it is scaled by evidence width / found width before it is
painted. The vault side shows the part of the photo the found copy holds: the found picture's
frame mapped back through the same homography.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from enum import IntEnum
from pathlib import Path

from PySide6.QtCore import (
    QPointF,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QImage,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
    QTransform,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.files import SHAREABLE_MODE, write_atomically
from app.core.leaks.enums import MatchMethod, MatchStatus, TakedownStatus
from app.core.urls import is_url
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

from . import dialogs
from .errors import describe, place_problem, reason_words
from .record_table import RecordFilterProxy, RecordTableModel
from .resources import repolish
from .shares_view import short_date

log = logging.getLogger(__name__)

# --- words ---------------------------------------------------------------------------------------

STATUS_WORDS = {
    MatchStatus.FOUND: "Found",
    MatchStatus.DRAFTED: "Request drafted",
    MatchStatus.SENT: "Request sent",
    MatchStatus.REMOVED: "Removed",
    TakedownStatus.FAILED: "Request failed",
}

STATUS_TIPS = {
    MatchStatus.FOUND: "Found by a scan; no removal request yet",
    MatchStatus.DRAFTED: "A removal request was drafted but not sent yet",
    MatchStatus.SENT: "A removal request was sent; “Check again” tells whether it is gone",
    MatchStatus.REMOVED: "The address no longer shows your photo",
    TakedownStatus.FAILED: "The last removal request failed: see its reason below",
}

STATUS_COLORS = {MatchStatus.FOUND: "#b42318", MatchStatus.DRAFTED: "#8a4b0f", MatchStatus.SENT: "#4456b8", MatchStatus.REMOVED: "#1e7a46",
                 TakedownStatus.FAILED: "#b42318"}

TAKEDOWN_KINDS = {
    "deletion_link": "Deletion link",
    "imgur_api": "Host API (delete-hash)",
    "notice": "Removal notice by email",
}

METHOD_NAMES = {
    MatchMethod.METADATA: "Hidden ID",
    MatchMethod.WATERMARK: "Watermark",
    MatchMethod.PDQ: "Fingerprint",
    MatchMethod.FEATURES: "Local features",
}

METHOD_TIPS = {
    MatchMethod.METADATA: "The share ID Sanctum hid in the copy's metadata",
    MatchMethod.WATERMARK: "The share ID Sanctum hid in the pixels of a shared copy",
    MatchMethod.PDQ: "The same picture, resized or re-compressed (perceptual fingerprint)",
    MatchMethod.FEATURES: "Matching details: a crop, rotation, screenshot or collage",
}


LOCAL_COPY_WORDS = ("This copy is a file on this computer: there is no site to ask. Delete the file, or ask "
                    "whoever sent it to you.")
REQUEST_LIST_MAX_HEIGHT = 160


def is_local(match: LeakMatchInfo) -> bool:
    """A file on this computer: there is no host to ask for removal."""
    return not is_url(match.source)


def share_words(share: ShareInfo | None, share_id: str | None) -> str:
    if share is not None:
        where = f" on {share.platform}" if share.platform else ""
        return f"this is the copy you shared with {share.recipient}{where} on {short_date(share.created_at)}"
    if share_id:
        return f"it carries share ID {share_id}, of which this vault has no record any more"
    return ""


def method_words(match: LeakMatchInfo, share: ShareInfo | None = None) -> str:
    """One sentence: how the copy was recognised, and whose copy it was when that is known."""
    if match.method == MatchMethod.WATERMARK:
        return f"Found by its invisible watermark — {share_words(share, match.share_id)}."
    if match.method == MatchMethod.METADATA:
        exact = " (the very file, unchanged)" if "exact" in (match.detail or "") else ""
        return f"Found by the ID hidden in the file — {share_words(share, match.share_id)}{exact}."
    if match.method == MatchMethod.PDQ:
        return "Found by its fingerprint: the same picture, resized or re-compressed."
    if match.method == MatchMethod.FEATURES:
        if match.region and match.found_size and _inside(match.region, match.found_size):
            return "Found by its local features: your photo appears inside a larger picture (a screenshot or collage)."
        return "Found by its local features (a crop, rotation or screenshot)."
    return match.detail or "Found."


def _inside(region: list, size: tuple[int, int]) -> bool:
    """The whole vault photo lies well inside the found picture (a screenshot, a collage)."""
    w, h = size
    xs, ys = [p[0] for p in region], [p[1] for p in region]
    area = abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs)))) / 2
    return min(xs) > -0.03 * w and min(ys) > -0.03 * h and max(xs) < 1.03 * w and max(ys) < 1.03 * h \
        and area < 0.8 * w * h


def strength_words(match: LeakMatchInfo) -> str:
    """Score and distances, for the curious: "124 matching points, score 1.00"."""
    parts = []
    if match.inliers:
        parts.append(f"{match.inliers} matching points")
    if match.pdq_distance is not None:
        parts.append(f"fingerprint distance {match.pdq_distance} of 256")
    parts.append(f"score {match.score:.2f}")
    return ", ".join(parts)


def place_of(match: LeakMatchInfo) -> str:
    """Where it was found, short: a file's name, or the host and path of a URL."""
    source = match.source
    if is_url(source):
        return source.split("://", 1)[1]
    return Path(source).name or source


def takedown_line(request: TakedownInfo) -> str:
    status = request.status
    detail = f" — {reason_words(request.detail)}" if request.detail else ""
    return (f"{TAKEDOWN_KINDS.get(request.kind, request.kind)}: {status}{detail} "
            f"({short_date(request.updated_at)}, {request.updated_at:%H:%M})")


def rescan_places(matches: Iterable[LeakMatchInfo]) -> list[str]:
    """The places already recorded, once each: the page a copy was on, else the copy itself."""
    places: list[str] = []
    for match in matches:
        place = match.found_on or match.source
        if place not in places:
            places.append(place)
    return places


# --- the side-by-side evidence --------------------------------------------------------------------


def region_in_evidence(match: LeakMatchInfo, evidence_width: int,
                       evidence_height: int | None = None) -> list[tuple[float, float]] | None:
    """The region's corners in the evidence image's pixels (None when it cannot be placed)."""
    if not match.region or not match.found_size or not all(match.found_size) or evidence_width <= 0:
        return None
    found_w, found_h = match.found_size
    if evidence_height and abs(evidence_width / evidence_height - found_w / found_h) > 0.05 * found_w / found_h:
        # Not the same frame (an EXIF-rotated original kept unrotated): an outline would lie.
        return None
    factor = evidence_width / found_w
    return [(float(x) * factor, float(y) * factor) for x, y in match.region]


def _fit(image_size: QSize, area: QRectF) -> QRectF:
    """The picture scaled to fit `area`, centred across and at the top (under its caption)."""
    if image_size.isEmpty() or area.width() <= 0 or area.height() <= 0:
        return QRectF()
    scale = min(area.width() / image_size.width(), area.height() / image_size.height())
    w, h = image_size.width() * scale, image_size.height() * scale
    return QRectF(area.x() + (area.width() - w) / 2, area.y(), w, h)


def _rect_polygon(rect: QRectF) -> QPolygonF:
    return QPolygonF([rect.topLeft(), rect.topRight(), rect.bottomRight(), rect.bottomLeft()])


class EvidenceView(QWidget):
    """The vault photo and the found copy side by side, with the matched region outlined.

    On the found copy the outline is where the vault photo sits (a crop shows only the edges
    that fall inside); on the vault photo it is the part of the photo the found copy shows.
    A whole-picture match (hidden ID, watermark, fingerprint) outlines the whole found copy.
    """

    OUTLINE = QColor("#ffb000")
    HALO = QColor(0, 0, 0, 150)
    CAPTION = 22

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("evidenceView")
        self.setMinimumSize(QSize(320, 160))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.match: LeakMatchInfo | None = None
        self.photo: QPixmap | None = None
        self.found: QPixmap | None = None
        self.photo_caption = "In your vault"
        self.found_caption = "Found copy"
        self.message = ""
        #: what was last painted, in widget coordinates (tests read it)
        self.found_outline: QPolygonF | None = None
        self.photo_outline: QPolygonF | None = None

    def set_evidence(self, match: LeakMatchInfo | None, photo: QImage | None, found: QImage | None,
                     photo_name: str = "") -> None:
        self.match = match
        self.photo = QPixmap.fromImage(photo) if photo is not None and not photo.isNull() else None
        self.found = QPixmap.fromImage(found) if found is not None and not found.isNull() else None
        self.photo_caption = f"In your vault: {photo_name}" if photo_name else "In your vault"
        if match is not None and match.found_size:
            self.found_caption = f"Found copy ({match.found_size[0]:,} × {match.found_size[1]:,})"
        else:
            self.found_caption = "Found copy"
        self.message = ""
        self.update()

    def clear(self, message: str = "") -> None:
        self.match = self.photo = self.found = None
        self.found_outline = self.photo_outline = None
        self.message = message
        self.update()

    def found_region(self) -> list[tuple[float, float]] | None:
        """The outline on the found copy, in the evidence image's pixels."""
        if self.match is None or self.found is None:
            return None
        region = region_in_evidence(self.match, self.found.width(), self.found.height())
        if region is None and self.match.method in (MatchMethod.METADATA, MatchMethod.WATERMARK, MatchMethod.PDQ):
            w, h = self.found.width(), self.found.height()
            region = [(0.0, 0.0), (float(w), 0.0), (float(w), float(h)), (0.0, float(h))]
        return region

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        rect = QRectF(self.rect())
        placeholder = self.palette().color(QPalette.ColorRole.PlaceholderText)
        if self.match is None:
            if self.message:
                painter.setPen(placeholder)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
            painter.end()
            return
        gap = 16.0
        half = (rect.width() - gap) / 2
        columns = (QRectF(rect.x(), rect.y(), half, rect.height()),
                   QRectF(rect.x() + half + gap, rect.y(), half, rect.height()))
        painted: list[QRectF] = []
        for column, pixmap, caption, missing in (
                (columns[0], self.photo, self.photo_caption, "The photo is no longer in the vault"),
                (columns[1], self.found, self.found_caption, "No picture was kept")):
            painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
            text_rect = QRectF(column.x(), column.y(), column.width(), self.CAPTION)
            elided = self.fontMetrics().elidedText(caption, Qt.TextElideMode.ElideMiddle, int(column.width()))
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided)
            area = column.adjusted(0, self.CAPTION + 4, 0, 0)
            if pixmap is None:
                painter.fillRect(area, self.palette().color(QPalette.ColorRole.AlternateBase))
                painter.setPen(placeholder)
                painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, missing)
                painted.append(QRectF())
                continue
            target = _fit(pixmap.size(), area)
            painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
            painted.append(target)
        self._paint_outlines(painter, painted[0], painted[1])
        painter.end()

    def _paint_outlines(self, painter: QPainter, photo_rect: QRectF, found_rect: QRectF) -> None:
        self.found_outline = self.photo_outline = None
        region = self.found_region()
        if region is None or found_rect.isEmpty() or self.found is None:
            return
        scale = found_rect.width() / self.found.width()
        found_quad = QPolygonF([QPointF(found_rect.x() + x * scale, found_rect.y() + y * scale) for x, y in region])
        # Only what lies on the picture is drawn: a crop's region runs past its edges.
        self.found_outline = found_quad.intersected(_rect_polygon(found_rect))
        self._stroke(painter, self.found_outline, found_rect)
        if photo_rect.isEmpty() or len(region) != 4:
            return
        # The homography from the vault photo to the found copy, from the four corners; its
        # inverse takes the found copy's frame into the photo: the part of the photo it shows.
        transform = QTransform()
        if not QTransform.quadToQuad(_rect_polygon(photo_rect), found_quad, transform):
            return
        inverse, invertible = transform.inverted()
        if not invertible:
            return
        shown = inverse.map(_rect_polygon(found_rect)).intersected(_rect_polygon(photo_rect))
        self.photo_outline = shown
        self._stroke(painter, shown, photo_rect)

    def _stroke(self, painter: QPainter, polygon: QPolygonF, clip: QRectF) -> None:
        painter.save()
        path = QPainterPath()
        path.addRect(clip.adjusted(-1, -1, 1, 1))
        painter.setClipPath(path)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(self.HALO, 5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        painter.drawPolygon(polygon)
        painter.setPen(QPen(self.OUTLINE, 2.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                            Qt.PenJoinStyle.RoundJoin))
        painter.drawPolygon(polygon)
        painter.restore()


# --- the table -------------------------------------------------------------------------------------


class LeakColumn(IntEnum):
    Status = 0
    Photo = 1
    Source = 2
    Method = 3
    FirstSeen = 4
    LastSeen = 5


HEADERS = {
    LeakColumn.Status: "Status",
    LeakColumn.Photo: "Photo",
    LeakColumn.Source: "Found at",
    LeakColumn.Method: "Recognised by",
    LeakColumn.FirstSeen: "First seen",
    LeakColumn.LastSeen: "Last seen",
}


class LeakRoles(IntEnum):
    Match = Qt.ItemDataRole.UserRole + 1  # the LeakMatchInfo
    MatchId = Qt.ItemDataRole.UserRole + 2
    SortKey = Qt.ItemDataRole.UserRole + 3


class LeaksTableModel(RecordTableModel):
    """Every recorded match, most recently seen first. Holds `LeakMatchInfo`s (frozen)."""

    columns = LeakColumn
    headers = HEADERS
    photo_column = LeakColumn.Photo

    def cell(self, match: LeakMatchInfo, column: LeakColumn, role: int):
        if role == LeakRoles.Match:
            return match
        if role == LeakRoles.MatchId:
            return match.id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(match, column)
        if role == LeakRoles.SortKey:
            if column == LeakColumn.FirstSeen:
                return match.first_seen.timestamp()
            if column == LeakColumn.LastSeen:
                return match.last_seen.timestamp()
            return (self._text(match, column) or "").casefold()
        if role == Qt.ItemDataRole.ForegroundRole and column == LeakColumn.Status:
            return QColor(STATUS_COLORS.get(match.status, "#1d2733"))
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == LeakColumn.Status:
                return STATUS_TIPS.get(match.status)
            if column == LeakColumn.Source:
                return match.source if not match.found_on else f"{match.source}\non the page {match.found_on}"
            if column == LeakColumn.Method:
                return METHOD_TIPS.get(match.method, match.detail or None)
            if column in (LeakColumn.FirstSeen, LeakColumn.LastSeen):
                when = match.first_seen if column == LeakColumn.FirstSeen else match.last_seen
                return f"{when:%d %B %Y, %H:%M}"
            if column == LeakColumn.Photo and match.photo_id is None:
                return "The photo was deleted from the vault; the record of the copy is kept"
        return None

    def _text(self, match: LeakMatchInfo, column: LeakColumn) -> str:
        if column == LeakColumn.Status:
            return STATUS_WORDS.get(match.status, match.status)
        if column == LeakColumn.Photo:
            return self.photo_name(match.photo_id)
        if column == LeakColumn.Source:
            return place_of(match)
        if column == LeakColumn.Method:
            return METHOD_NAMES.get(match.method, match.method)
        return short_date(match.first_seen if column == LeakColumn.FirstSeen else match.last_seen)

    # --- our API -----------------------------------------------------------------------------

    @property
    def matches(self) -> list[LeakMatchInfo]:
        return list(self._records)

    def match_at(self, row: int) -> LeakMatchInfo:
        return self._records[row]

    def row_of(self, match_id: int) -> int | None:
        for row, match in enumerate(self._records):
            if match.id == match_id:
                return row
        return None

    def set_matches(self, matches: Iterable[LeakMatchInfo]) -> None:
        self.beginResetModel()
        self._thumbs.clear()
        self._records = sorted(matches, key=lambda m: (m.last_seen, m.id), reverse=True)
        self.endResetModel()

    def clear(self) -> None:
        self.set_matches([])

    def set_status(self, match_id: int, status: str) -> None:
        """A removal request moved on: update the one row (the vault updated its record)."""
        import dataclasses

        row = self.row_of(match_id)
        if row is None or self._records[row].status == status:
            return
        self._records[row] = dataclasses.replace(self._records[row], status=status)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(LeakColumn) - 1))


class LeaksFilterProxy(RecordFilterProxy):
    """Search (place, photo, method, status) and sorting by any column."""

    sort_role = LeakRoles.SortKey


class LeaksTable(QTableView):
    ICON = LeaksTableModel.THUMB

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("leaksTable")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setSortingEnabled(True)
        self.setIconSize(QSize(self.ICON, self.ICON))
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.ICON + 10)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.empty_text = ""

    def setModel(self, model) -> None:  # noqa: N802
        super().setModel(model)
        header = self.horizontalHeader()
        widths = {LeakColumn.Status: 120, LeakColumn.Photo: 160, LeakColumn.Method: 115,
                  LeakColumn.FirstSeen: 95, LeakColumn.LastSeen: 95}
        for column in LeakColumn:
            if column == LeakColumn.Source:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
            else:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
                self.setColumnWidth(column, widths[column])
        self.sortByColumn(LeakColumn.LastSeen, Qt.SortOrder.DescendingOrder)

    def selected_match(self) -> LeakMatchInfo | None:
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        return rows[0].data(LeakRoles.Match) if rows else None

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0 and self.empty_text:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect().adjusted(40, 30, -40, -30),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
            painter.end()


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

    def _request_activated(self, item: QListWidgetItem) -> None:
        request = item.data(Qt.ItemDataRole.UserRole)
        if request is not None:
            self.open_request.emit(request)


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
        layout.addWidget(splitter)
        self.splitter = splitter
        self.session = None  # the app's Session, once attached
        self.fetch_policy = None  # FetchPolicy for "Check again" (tests shorten the timeouts)
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

    def attach(self, session) -> None:
        self.session = session

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

    def clear(self) -> None:
        self.requests, self.shares, self._notes = {}, {}, {}
        self.model.clear()
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
