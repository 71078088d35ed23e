"""The "Shared" view: every protected copy made from this vault, newest first.

A share record outlives its photo (deleting the photo keeps the record of who received which
copy), so rows whose photo is gone stay, marked as such. Photo thumbnails come from the
gallery's `ThumbnailLoader` cache; rows ask for them when they are painted, like the gallery.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from enum import IntEnum

from PySide6.QtCore import (
    QModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from app.core.vault import ShareInfo

from .record_table import RecordFilterProxy, RecordTableModel

log = logging.getLogger(__name__)

FORMAT_NAMES = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}


def short_date(when) -> str:
    """"22 Nov 2026" (no strftime "%-d": Windows has none)."""
    return f"{when.day} {when:%b %Y}"


def share_format(share: ShareInfo) -> str:
    fmt = str(share.options.get("output_format") or "")
    return FORMAT_NAMES.get(fmt.upper(), fmt or "—")


IMMUNIZED = {
    "robust": ("Robust", "Immunized, made to survive social networks: checking this copy shows whether "
                         "it was altered, where, and roughly what was there"),
    "lossless": ("Lossless", "Immunized (lossless PNG): checking this copy shows whether it was altered, "
                             "where, and gets back what was there"),
}
NOT_IMMUNIZED = ("No", "Not immunized: the watermark still says who received it, but an altered copy "
                       "cannot be shown to be altered")


def share_immunized(share: ShareInfo) -> tuple[str, str]:
    """(word, explanation): whether and how this copy was immunized."""
    return IMMUNIZED.get(str(share.options.get("immunize") or ""), NOT_IMMUNIZED)


def share_line(share: ShareInfo) -> str:
    """"Shared with Alex on WhatsApp, 22 Nov 2026, immunized" (the viewer's details, the inspector)."""
    where = f" on {share.platform}" if share.platform else ""
    immunized = ", immunized" if share.options.get("immunize") else ""
    return f"Shared with {share.recipient}{where}, {short_date(share.created_at)}{immunized}"


class ShareColumn(IntEnum):
    Date = 0
    Photo = 1
    Recipient = 2
    Platform = 3
    ShareId = 4
    Format = 5
    Immunized = 6


HEADERS = {
    ShareColumn.Date: "Date",
    ShareColumn.Photo: "Photo",
    ShareColumn.Recipient: "Recipient",
    ShareColumn.Platform: "Platform",
    ShareColumn.ShareId: "Share ID",
    ShareColumn.Format: "Format",
    ShareColumn.Immunized: "Immunized",
}


class ShareRoles(IntEnum):
    Share = Qt.ItemDataRole.UserRole + 1  # the ShareInfo
    PhotoId = Qt.ItemDataRole.UserRole + 2  # int, or None once the photo was deleted
    SortKey = Qt.ItemDataRole.UserRole + 3


class SharesTableModel(RecordTableModel):
    """All shares, newest first. Holds `ShareInfo`s (frozen dataclasses)."""

    columns = ShareColumn
    headers = HEADERS
    photo_column = ShareColumn.Photo

    def cell(self, share: ShareInfo, column: ShareColumn, role: int):
        if role == ShareRoles.Share:
            return share
        if role == ShareRoles.PhotoId:
            return share.photo_id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(share, column)
        if role == ShareRoles.SortKey:
            if column == ShareColumn.Date:
                return share.created_at.timestamp()
            return (self._text(share, column) or "").casefold()
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == ShareColumn.Date:
                return f"{share.created_at:%d %B %Y, %H:%M}"
            if column == ShareColumn.ShareId:
                return "The ID hidden in this copy; it identifies the recipient if the copy leaks"
            if column == ShareColumn.Immunized:
                return share_immunized(share)[1]
            if column == ShareColumn.Photo and share.photo_id is None:
                return "The photo was deleted from the vault; the record of this share is kept"
            return None
        if role == Qt.ItemDataRole.ForegroundRole and (
                (column == ShareColumn.Photo and share.photo_id is None)
                or (column == ShareColumn.Immunized and share_immunized(share) == NOT_IMMUNIZED)):
            return QPalette().color(QPalette.ColorRole.PlaceholderText)
        return None

    def _text(self, share: ShareInfo, column: ShareColumn) -> str:
        if column == ShareColumn.Date:
            return f"{short_date(share.created_at)}, {share.created_at:%H:%M}"
        if column == ShareColumn.Photo:
            return self.photo_name(share.photo_id)
        if column == ShareColumn.Recipient:
            return share.recipient
        if column == ShareColumn.Platform:
            return share.platform or "—"
        if column == ShareColumn.ShareId:
            return share.share_id
        if column == ShareColumn.Immunized:
            return share_immunized(share)[0]
        return share_format(share)

    # --- our API -----------------------------------------------------------------------------

    @property
    def shares(self) -> list[ShareInfo]:
        return list(self._records)

    def share_at(self, row: int) -> ShareInfo:
        return self._records[row]

    def set_shares(self, shares: Iterable[ShareInfo]) -> None:
        self.beginResetModel()
        self._thumbs.clear()
        self._records = sorted(shares, key=lambda s: s.created_at, reverse=True)
        self.endResetModel()

    def clear(self) -> None:
        self.set_shares([])

    def add_share(self, share: ShareInfo) -> None:
        """A new share: newest, so it goes on top (unless the model already has it)."""
        if any(s.share_id == share.share_id for s in self._records):
            return
        row = 0
        while row < len(self._records) and self._records[row].created_at > share.created_at:
            row += 1
        self.beginInsertRows(QModelIndex(), row, row)
        self._records.insert(row, share)
        self.endInsertRows()

    def shares_for(self, photo_id: int | None) -> list[ShareInfo]:
        if photo_id is None:
            return []
        return [s for s in self._records if s.photo_id == photo_id]

    def photos_deleted(self, photo_ids: Iterable[int]) -> None:
        """The vault keeps the records and forgets the photo (SET NULL): mirror that."""
        gone = set(photo_ids)
        for photo_id in gone:
            self._thumbs.pop(photo_id, None)
        for row, share in enumerate(self._records):
            if share.photo_id in gone:
                self._records[row] = dataclasses.replace(share, photo_id=None)
                left, right = self.index(row, 0), self.index(row, len(ShareColumn) - 1)
                self.dataChanged.emit(left, right)


class SharesFilterProxy(RecordFilterProxy):
    """Search (recipient, platform, photo name, share ID) and sorting by any column."""

    sort_role = ShareRoles.SortKey


class SharesTable(QTableView):
    activated_share = Signal(object)  # ShareInfo

    ICON = SharesTableModel.THUMB

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sharesTable")
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
        self.empty_text = ""
        self.activated.connect(self._on_activated)

    def setModel(self, model) -> None:  # noqa: N802
        super().setModel(model)
        header = self.horizontalHeader()
        widths = {ShareColumn.Date: 150, ShareColumn.Recipient: 150, ShareColumn.Platform: 100,
                  ShareColumn.ShareId: 150, ShareColumn.Format: 70, ShareColumn.Immunized: 90}
        for column in ShareColumn:
            if column == ShareColumn.Photo:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
            else:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
                self.setColumnWidth(column, widths[column])
        self.sortByColumn(ShareColumn.Date, Qt.SortOrder.DescendingOrder)

    def _on_activated(self, index: QModelIndex) -> None:
        share = index.data(ShareRoles.Share)
        if share is not None:
            self.activated_share.emit(share)

    def selected_share(self) -> ShareInfo | None:
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        return rows[0].data(ShareRoles.Share) if rows else None

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0 and self.empty_text:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect().adjusted(40, 40, -40, -40),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
            painter.end()


class SharesPage(QWidget):
    """The middle of the library when "Shared" is selected in the sidebar."""

    EMPTY = ("No protected copies yet.\n\nSelect a photo and choose Share… to make a copy marked "
             "for one person. Every copy you make is listed here, so a leaked copy can be traced "
             "back to who received it.")
    NO_MATCH = "No shares match."

    def __init__(self, model: SharesTableModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sharesPage")
        self.model = model
        self.proxy = SharesFilterProxy(self)
        self.proxy.setSourceModel(model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 8, 8)
        self.table = SharesTable()
        self.table.setModel(self.proxy)
        self.table.empty_text = self.EMPTY
        layout.addWidget(self.table)

    def set_text(self, text: str) -> None:
        self.proxy.set_text(text)
        self.table.empty_text = self.NO_MATCH if text.strip() and self.model.rowCount() else self.EMPTY
        self.table.viewport().update()
