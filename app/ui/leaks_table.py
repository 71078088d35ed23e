"""The table of every found copy: its model (one `LeakMatchInfo` per row), filter proxy and view."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from PySide6.QtCore import (
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QColor,
    QPainter,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableView,
    QWidget,
)

from app.core.vault import LeakMatchInfo

from .leak_words import METHOD_NAMES, METHOD_TIPS, STATUS_COLORS, STATUS_TIPS, STATUS_WORDS, place_of
from .record_table import RecordFilterProxy, RecordTableModel
from .shares_view import short_date


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


