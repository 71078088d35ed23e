"""The photos of the open vault as a Qt list model (`PhotoListModel`, newest first, with a role
enum) and the proxy that filters it: search words, a date range, recent imports, and the ids a
database query found (`PhotoFilterProxy`)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import IntEnum

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from app.core.vault import PhotoInfo


class Roles(IntEnum):
    PhotoId = Qt.ItemDataRole.UserRole + 1
    Info = Qt.ItemDataRole.UserRole + 2
    TakenAt = Qt.ItemDataRole.UserRole + 3
    ImportedAt = Qt.ItemDataRole.UserRole + 4


def _sort_key(p: PhotoInfo) -> tuple[float, int]:
    # Newest first by capture date, ties by id (newest import first): ascending on this key.
    return (-p.taken_at.timestamp(), -p.id)


class PhotoListModel(QAbstractListModel):
    """All photos of the open vault, newest first. Holds `PhotoInfo`s (frozen dataclasses)."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._photos: list[PhotoInfo] = []
        self._keys: list[tuple[float, int]] = []
        self._row_of: dict[int, int] = {}

    # --- Qt model API ----------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._photos)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._photos) or index.column() != 0:
            return None
        p = self._photos[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return p.filename
        if role == Roles.PhotoId:
            return p.id
        if role == Roles.Info:
            return p
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{p.filename}\n{p.taken_at:%d %B %Y, %H:%M}"
        if role == Roles.TakenAt:
            return p.taken_at
        if role == Roles.ImportedAt:
            return p.imported_at
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"Photo {p.filename}, taken {p.taken_at:%d %B %Y}"
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def roleNames(self) -> dict[int, bytes]:  # noqa: N802
        names = dict(super().roleNames())
        names.update({Roles.PhotoId: b"photoId", Roles.Info: b"info", Roles.TakenAt: b"takenAt",
                      Roles.ImportedAt: b"importedAt"})
        return names

    # --- our API -----------------------------------------------------------------------------

    @property
    def photos(self) -> list[PhotoInfo]:
        return self._photos

    def photo_at(self, row: int) -> PhotoInfo:
        return self._photos[row]

    def row_of(self, photo_id: int) -> int | None:
        return self._row_of.get(photo_id)

    def set_photos(self, photos: Iterable[PhotoInfo]) -> None:
        self.beginResetModel()
        self._photos = sorted(photos, key=_sort_key)
        self._reindex()
        self.endResetModel()

    def clear(self) -> None:
        self.set_photos([])

    def add_photos(self, photos: Iterable[PhotoInfo]) -> int:
        """Insert new photos at their sorted places (the gallery fills in during an import)."""
        added = 0
        for p in sorted((p for p in photos if p.id not in self._row_of), key=_sort_key):
            key = _sort_key(p)
            row = bisect.bisect_left(self._keys, key)
            self.beginInsertRows(QModelIndex(), row, row)
            self._photos.insert(row, p)
            self._keys.insert(row, key)
            self.endInsertRows()
            added += 1
        if added:
            self._reindex()
        return added

    def remove_ids(self, photo_ids: Iterable[int]) -> int:
        rows = sorted((self._row_of[i] for i in set(photo_ids) if i in self._row_of), reverse=True)
        # Remove contiguous runs in one go each (from the bottom, so rows above stay valid).
        runs: list[tuple[int, int]] = []
        for row in rows:
            if runs and runs[-1][0] == row + 1:
                runs[-1] = (row, runs[-1][1])
            else:
                runs.append((row, row))
        for first, last in runs:
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._photos[first:last + 1]
            del self._keys[first:last + 1]
            self.endRemoveRows()
        if rows:
            self._reindex()
        return len(rows)

    def thumbnail_ready(self, photo_id: int) -> None:
        row = self._row_of.get(photo_id)
        if row is not None:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def _reindex(self) -> None:
        if len(self._keys) != len(self._photos):
            self._keys = [_sort_key(p) for p in self._photos]
        self._row_of = {p.id: row for row, p in enumerate(self._photos)}


class PhotoFilterProxy(QSortFilterProxyModel):
    """Search, a date range (sidebar years/months), "recent imports", and a set of ids from a DB
    query (a tag, a person, the sensitive flag).

    Search text looks through the whole vault unless narrowed to the scope
    (`set_search_everywhere(False)`). Its words must all match; the DB query (a job, see
    `app.core.search`) is the answer, `set_text_matches` brings it. Until it comes, photos whose
    file name or year matches every word show at once, so typing a file name feels instant.
    """

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._text = ""
        self._words: tuple[str, ...] = ()
        self._text_ids: frozenset[int] = frozenset()
        self._everywhere = True  # a search ignores the scope unless the user narrows it
        self._after: datetime | None = None
        self._before: datetime | None = None
        self._imported_after: datetime | None = None
        self._ids: frozenset[int] | None = None  # None: no query scope
        self.setDynamicSortFilter(True)

    @property
    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        text = text.strip().casefold()
        if text != self._text:
            self._begin_filter_change()
            self._text = text
            self._words = tuple(dict.fromkeys(text.split()))
            self._text_ids = frozenset()
            self._end_filter_change()

    def set_text_matches(self, text: str, ids: frozenset[int]) -> None:
        """Photos whose tags or people match `text` (ignored once the text changed)."""
        if text.strip().casefold() == self._text and ids != self._text_ids:
            self._begin_filter_change()
            self._text_ids = frozenset(ids)
            self._end_filter_change()

    @property
    def search_everywhere(self) -> bool:
        return self._everywhere

    def set_search_everywhere(self, everywhere: bool) -> None:
        """Search the whole vault (True) or only what the scope shows (False)."""
        if everywhere != self._everywhere:
            self._begin_filter_change()
            self._everywhere = everywhere
            self._end_filter_change()

    def set_scope(self, *, after: datetime | None = None, before: datetime | None = None,
                  imported_after: datetime | None = None, ids: frozenset[int] | None = None) -> None:
        self._begin_filter_change()
        self._after, self._before, self._imported_after = after, before, imported_after
        self._ids = None if ids is None else frozenset(ids)
        self._end_filter_change()

    def set_scope_ids(self, ids: frozenset[int] | None) -> None:
        """New results of the current query scope (organising found more photos)."""
        ids = None if ids is None else frozenset(ids)
        if ids != self._ids:
            self._begin_filter_change()
            self._ids = ids
            self._end_filter_change()

    # Qt >= 6.10 has begin/endFilterChange (and deprecates the rest); older ones invalidate.
    _NEW_FILTER_API = hasattr(QSortFilterProxyModel, "endFilterChange") and hasattr(
        QSortFilterProxyModel, "Direction")

    def _begin_filter_change(self) -> None:
        if self._NEW_FILTER_API:
            self.beginFilterChange()

    def _end_filter_change(self) -> None:
        if self._NEW_FILTER_API:
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateRowsFilter()

    @property
    def is_filtered(self) -> bool:
        return bool(self._text or self._after or self._before or self._imported_after or self._ids is not None)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        model = self.sourceModel()
        if not isinstance(model, PhotoListModel) or source_row >= len(model.photos):
            return True
        p = model.photos[source_row]
        if self._text:
            if p.id not in self._text_ids and not self._matches_locally(p):
                return False
            if self._everywhere:
                return True
        if self._ids is not None and p.id not in self._ids:
            return False
        if self._after is not None and p.taken_at < self._after:
            return False
        if self._before is not None and p.taken_at >= self._before:
            return False
        if self._imported_after is not None and p.imported_at < self._imported_after:
            return False
        return True

    def _matches_locally(self, p: PhotoInfo) -> bool:
        """Every word is in the file name or is the year (a subset of what the DB finds)."""
        name, year = p.filename.casefold(), str(p.taken_at.year)
        return all(word in name or word == year for word in self._words)

    def photo_ids(self, rows: Iterable[int] | None = None) -> list[int]:
        rows = range(self.rowCount()) if rows is None else rows
        return [self.index(r, 0).data(Roles.PhotoId) for r in rows]


def recent_import_cutoff(now: datetime | None = None) -> datetime:
    """What "Recent imports" shows: photos added during the last 7 days."""
    return (now or datetime.now()) - timedelta(days=7)
