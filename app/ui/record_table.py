"""The base of Sanctum's record tables (protected copies, found copies).

Both hold frozen dataclasses in a list, show them in columns named by an `IntEnum`, and have a
Photo column drawn with small copies of the gallery's thumbnails. The Qt plumbing lives here;
a subclass says what each cell shows (`cell`) and how its records are ordered.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QGuiApplication, QPixmap

from app.core.vault import PhotoInfo


class RecordTableModel(QAbstractTableModel):
    #: edge of the photo thumbnails in the table, in device-independent pixels
    THUMB = 44
    #: set by subclasses: the column enum, its headers, and which column shows the photo
    columns: type[IntEnum]
    headers: dict
    photo_column: IntEnum

    def __init__(self, parent: QObject | None = None, *,
                 photo_lookup: Callable[[int], PhotoInfo | None] | None = None, thumbnails=None):
        super().__init__(parent)
        self._records: list = []
        self._thumbs: dict[int, QPixmap] = {}  # small copies of the gallery's thumbnails
        #: photo id -> PhotoInfo while the photo is in the vault (the gallery's model knows)
        self.photo_lookup = photo_lookup or (lambda _pid: None)
        #: the gallery's ThumbnailLoader (pixmap(pid), request(pid)), or None
        self.thumbnails = thumbnails

    def cell(self, record, column: IntEnum, role: int):
        """What `record` shows in `column` for `role` (None: nothing)."""
        raise NotImplementedError

    # --- Qt model API ----------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.columns):
            return self.headers[self.columns(section)]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._records) \
                or not 0 <= index.column() < len(self.columns):
            return None
        record = self._records[index.row()]
        column = self.columns(index.column())
        if role == Qt.ItemDataRole.DecorationRole and column == self.photo_column:
            return self._thumbnail(record.photo_id)
        return self.cell(record, column, role)

    # --- the photo column ----------------------------------------------------------------------

    def photo_name(self, photo_id: int | None) -> str:
        if photo_id is None:
            return "(deleted photo)"
        info = self.photo_lookup(photo_id)
        return info.filename if info is not None else f"Photo {photo_id}"

    def _thumbnail(self, photo_id: int | None) -> QPixmap | None:
        if photo_id is None or self.thumbnails is None:
            return None
        small = self._thumbs.get(photo_id)
        if small is not None:
            return small
        pixmap = self.thumbnails.pixmap(photo_id)
        if pixmap is None:
            self.thumbnails.request(photo_id)  # painted rows only: Qt asks for visible cells
            return None
        # A QPixmap decoration is drawn at its own size (only a QIcon follows iconSize): scale
        # the gallery's square thumbnail down once, sharp on high-DPI screens.
        app = QGuiApplication.instance()
        ratio = app.devicePixelRatio() if app is not None else 1.0
        edge = round(self.THUMB * ratio)
        small = pixmap.scaled(edge, edge, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                              Qt.TransformationMode.SmoothTransformation)
        small.setDevicePixelRatio(ratio)
        self._thumbs[photo_id] = small
        return small

    def thumbnail_ready(self, photo_id: int) -> None:
        self._thumbs.pop(photo_id, None)
        for row, record in enumerate(self._records):
            if record.photo_id == photo_id:
                cell = self.index(row, self.photo_column)
                self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DecorationRole])

    def photo_names_changed(self) -> None:
        """The gallery's list changed (photos listed after unlock): repaint the Photo column."""
        if self._records:
            self.dataChanged.emit(self.index(0, self.photo_column),
                                  self.index(len(self._records) - 1, self.photo_column))


class RecordFilterProxy(QSortFilterProxyModel):
    """Search over every column's text and sorting by a record table's sort-key role."""

    sort_role: int  # set by subclasses

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.setSortRole(self.sort_role)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.setDynamicSortFilter(True)

    def set_text(self, text: str) -> None:
        self.setFilterFixedString(text.strip())

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:  # noqa: N802
        a, b = left.data(self.sort_role), right.data(self.sort_role)
        if a == b:
            # Ties (records made within one second, same name…): the source's order, which is
            # newest first, stands for "later" so a new record sorts on top of its twins.
            return left.row() > right.row()
        return a < b
