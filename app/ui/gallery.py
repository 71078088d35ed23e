"""The gallery grid: a delegate that paints square thumbnails (or a calm placeholder) and the
`QListView` that lays them out. The model and its filter are in `photo_model`, the thumbnail
loader and its cache in `thumbnails`.

Thumbnails are requested lazily by the delegate, so only rows the view actually paints are
ever decrypted.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from .photo_model import Roles
from .thumbnails import ThumbnailLoader


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
