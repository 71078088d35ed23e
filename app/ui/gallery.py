"""The gallery: a list model of photos, a filter proxy, a thumbnail loader with an LRU cache,
a delegate that paints, and the `QListView` that shows them.

Thumbnails are requested lazily by the delegate, so only rows the view actually paints are
ever decrypted; the newest requests go first, and requests for rows scrolled far away are
dropped. Workers hand back `QImage`s; `QPixmap`s are made here, on the UI thread.
"""

from __future__ import annotations

import bisect
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from enum import IntEnum

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.core.vault import PhotoInfo
from app.workers.library_jobs import Thumbnail, ThumbnailJob
from app.workers.manager import JobManager
from app.workers.pictures import RevealState

log = logging.getLogger(__name__)


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


class PixmapCache:
    """LRU of thumbnails by photo id, bounded by memory (decoded pixels are big)."""

    def __init__(self, budget_bytes: int = 160 * 1024 * 1024):
        self.budget = budget_bytes
        self._items: OrderedDict[int, QPixmap] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, photo_id: int) -> bool:
        return photo_id in self._items

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def get(self, photo_id: int) -> QPixmap | None:
        pixmap = self._items.get(photo_id)
        if pixmap is not None:
            self._items.move_to_end(photo_id)
        return pixmap

    def put(self, photo_id: int, pixmap: QPixmap) -> None:
        old = self._items.pop(photo_id, None)
        if old is not None:
            self._bytes -= _pixmap_bytes(old)
        self._items[photo_id] = pixmap
        self._bytes += _pixmap_bytes(pixmap)
        while self._bytes > self.budget and len(self._items) > 1:
            _, evicted = self._items.popitem(last=False)
            self._bytes -= _pixmap_bytes(evicted)

    def discard(self, photo_id: int) -> None:
        old = self._items.pop(photo_id, None)
        if old is not None:
            self._bytes -= _pixmap_bytes(old)

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0


def _pixmap_bytes(pixmap: QPixmap) -> int:
    return pixmap.width() * pixmap.height() * 4


class ThumbnailLoader(QObject):
    """Schedules `ThumbnailJob`s for requested photos; keeps the decoded results in an LRU."""

    ready = Signal(int)  # photo id

    MAX_JOBS = 2
    BATCH = 12
    MAX_PENDING = 240

    def __init__(self, jobs: JobManager, parent: QObject | None = None):
        super().__init__(parent)
        self.jobs = jobs
        self.vault = None
        self.edge = 176
        self.cache = PixmapCache()
        #: what the user chose to see sharp (the main window sets its SensitiveState here)
        self.reveal: Callable[[], RevealState] = RevealState
        self._blurred: set[int] = set()  # cached pixmaps that are blurred (sensitive, hidden)
        self._flagged: set[int] = set()
        self._pending: OrderedDict[int, None] = OrderedDict()
        self._in_flight: set[int] = set()
        self._broken: set[int] = set()
        self._running: set[ThumbnailJob] = set()
        self._dispatch_timer = QTimer(self)
        self._dispatch_timer.setSingleShot(True)
        self._dispatch_timer.setInterval(0)
        self._dispatch_timer.timeout.connect(self._dispatch)

    def set_vault(self, vault, edge: int) -> None:
        self.clear()
        self.vault = vault
        self.edge = edge

    def set_edge(self, edge: int) -> None:
        if edge != self.edge:
            vault = self.vault
            self.clear()
            self.vault = vault
            self.edge = edge

    def pixmap(self, photo_id: int) -> QPixmap | None:
        return self.cache.get(photo_id)

    def is_broken(self, photo_id: int) -> bool:
        return photo_id in self._broken

    def is_blurred(self, photo_id: int) -> bool:
        """The cached thumbnail is the blurred one (the photo is sensitive and not revealed)."""
        return photo_id in self._blurred

    def is_flagged(self, photo_id: int) -> bool:
        return photo_id in self._flagged

    def reload(self, photo_ids: Iterable[int] | None = None) -> None:
        """Sensitivity or reveal changed: drop these thumbnails (all: None) so they load again,
        blurred or sharp; the views repaint and ask for them."""
        ids = list(self.cache._items) if photo_ids is None else list(photo_ids)
        for photo_id in ids:
            self.cache.discard(photo_id)
            self._blurred.discard(photo_id)
            self._in_flight.discard(photo_id)  # a result already on its way is stale: ignored
            self.ready.emit(photo_id)

    def request(self, photo_id: int) -> None:
        if (self.vault is None or photo_id in self._in_flight or photo_id in self._broken
                or photo_id in self.cache):
            return
        self._pending[photo_id] = None
        self._pending.move_to_end(photo_id)
        while len(self._pending) > self.MAX_PENDING:
            self._pending.popitem(last=False)  # scrolled far away: not worth decrypting now
        if not self._dispatch_timer.isActive():
            self._dispatch_timer.start(0)

    def hold(self, ms: int = 80) -> None:
        """The view is scrolling: forget what was asked for and wait until it settles.

        While the user flings through thousands of rows, decrypting cells that are gone a frame
        later only competes with the UI thread; the cells still visible when the scrolling stops
        ask again in their next paint and are the only ones loaded.
        """
        self._pending.clear()
        self._dispatch_timer.start(ms)

    def forget(self, photo_ids: Iterable[int]) -> None:
        for photo_id in photo_ids:
            self.cache.discard(photo_id)
            self._blurred.discard(photo_id)
            self._pending.pop(photo_id, None)

    def clear(self) -> None:
        """Drop every decrypted pixmap and stop loading (lock, vault change)."""
        for job in list(self._running):
            job.cancel()
        self._running.clear()
        self._pending.clear()
        self._in_flight.clear()
        self._broken.clear()
        self._dispatch_timer.stop()
        self.cache.clear()
        self._blurred.clear()
        self._flagged.clear()
        self.vault = None

    def _dispatch(self) -> None:
        while self._pending and len(self._running) < self.MAX_JOBS and self.vault is not None:
            ids = []
            while self._pending and len(ids) < self.BATCH:
                photo_id, _ = self._pending.popitem(last=True)  # newest request first
                ids.append(photo_id)
            job = ThumbnailJob(self.vault, ids, self.edge, self.reveal())
            self._in_flight.update(ids)
            self._running.add(job)
            job.signals.loaded.connect(self._on_loaded)
            job.signals.finished.connect(lambda failed, job=job: self._on_job_done(job, failed))
            job.signals.failed.connect(lambda exc, job=job: self._on_job_done(job, []))
            job.signals.cancelled.connect(lambda job=job: self._on_job_done(job, []))
            self.jobs.start(job)

    def _on_loaded(self, thumbs: list[Thumbnail]) -> None:
        for thumb in thumbs:
            if thumb.photo_id not in self._in_flight or thumb.size != self.edge:
                continue  # cleared or resized meanwhile
            self._in_flight.discard(thumb.photo_id)
            (self._flagged.add if thumb.sensitive else self._flagged.discard)(thumb.photo_id)
            if thumb.image.isNull():
                self._broken.add(thumb.photo_id)
            else:
                (self._blurred.add if thumb.blurred else self._blurred.discard)(thumb.photo_id)
                self.cache.put(thumb.photo_id, QPixmap.fromImage(thumb.image))
            self.ready.emit(thumb.photo_id)

    def _on_job_done(self, job: ThumbnailJob, failed: list[int]) -> None:
        if job not in self._running:
            return  # cleared meanwhile
        self._running.discard(job)
        for photo_id in job.photo_ids:
            self._in_flight.discard(photo_id)
        self._broken.update(failed or [])
        for photo_id in failed or []:
            self.ready.emit(photo_id)
        if self._pending and not self._dispatch_timer.isActive():
            self._dispatch_timer.start(0)


class GalleryDelegate(QStyledItemDelegate):
    """Paints one square thumbnail (or a calm placeholder while it is decrypted)."""

    PADDING = 6

    def __init__(self, loader: ThumbnailLoader, parent: QObject | None = None):
        super().__init__(parent)
        self.loader = loader
        self.placeholder = QColor("#e4e7ec")
        self.broken = QColor("#f3d9d6")

    def cell_size(self) -> QSize:
        edge = self.loader.edge + 2 * self.PADDING
        return QSize(edge, edge)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        return self.cell_size()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        photo_id = index.data(Roles.PhotoId)
        if photo_id is None:
            return
        rect: QRect = option.rect.adjusted(self.PADDING, self.PADDING, -self.PADDING, -self.PADDING)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        path = QPainterPath()
        path.addRoundedRect(rect, 8, 8)
        pixmap = self.loader.pixmap(photo_id)
        if pixmap is not None:
            painter.setClipPath(path)
            painter.drawPixmap(rect, pixmap)
            painter.setClipping(False)
        else:
            painter.fillPath(path, self.broken if self.loader.is_broken(photo_id) else self.placeholder)
            if not self.loader.is_broken(photo_id):
                self.loader.request(photo_id)
        if pixmap is not None and self.loader.is_blurred(photo_id):
            self._paint_hidden_badge(painter, rect)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            pen = QPen(option.palette.color(QPalette.ColorRole.Highlight), 4)
            painter.setPen(pen)
            painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 7, 7)
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.setPen(QPen(QColor(255, 255, 255, 160), 2))
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 8, 8)
        painter.restore()


    @staticmethod
    def _paint_hidden_badge(painter: QPainter, rect: QRect) -> None:
        """A small "Sensitive" tag on a blurred thumbnail, so it reads as hidden, not broken."""
        font = painter.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        font.setBold(True)
        painter.setFont(font)
        text = "Sensitive"
        width = painter.fontMetrics().horizontalAdvance(text) + 14
        height = painter.fontMetrics().height() + 6
        badge = QRect(rect.left() + (rect.width() - width) // 2, rect.top() + (rect.height() - height) // 2,
                      width, height)
        path = QPainterPath()
        path.addRoundedRect(badge, height / 2, height / 2)
        painter.fillPath(path, QColor(20, 24, 32, 170))
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)


class GalleryView(QListView):
    """A wrapping grid with uniform cells: layout stays cheap at 10,000 photos."""

    activated_photo = Signal(int)

    def __init__(self, delegate: GalleryDelegate, parent=None):
        super().__init__(parent)
        self.setObjectName("gallery")
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)
        self.setItemDelegate(delegate)
        self.delegate = delegate
        self.empty_text = ""
        self.apply_cell_size()
        self.verticalScrollBar().valueChanged.connect(lambda _v: delegate.loader.hold())
        self.activated.connect(self._on_activated)

    def apply_cell_size(self) -> None:
        size = self.delegate.cell_size()
        self.setGridSize(size)
        self.verticalScrollBar().setSingleStep(max(20, size.height() // 3))
        self.doItemsLayout()

    def _on_activated(self, index: QModelIndex) -> None:
        photo_id = index.data(Roles.PhotoId)
        if photo_id is not None:
            self.activated_photo.emit(photo_id)

    def selected_photo_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        model = self.model()
        return [model.index(r, 0).data(Roles.PhotoId) for r in rows]

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0 and self.empty_text:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.15)
            painter.setFont(font)
            painter.drawText(self.viewport().rect().adjusted(40, 40, -40, -40),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
            painter.end()
