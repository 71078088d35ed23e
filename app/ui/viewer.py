"""The viewer: one photo, decrypted in memory by a worker, with its details beside it."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QKeySequence, QPainter, QPixmap, QShortcut
from PySide6.QtWidgets import QFormLayout, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.vault import PhotoInfo, ShareInfo
from app.workers.jobs import FullImage, FullImageJob

from .errors import explain
from .session import Session
from .shares_view import share_line

log = logging.getLogger(__name__)


class ImageCanvas(QWidget):
    """Paints a pixmap scaled to fit, centred; a short message while there is none."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("imageCanvas")
        self._pixmap: QPixmap | None = None
        self.message = ""
        self.setMinimumSize(QSize(200, 200))

    def set_pixmap(self, pixmap: QPixmap | None) -> None:
        self._pixmap = pixmap
        self.update()

    @property
    def pixmap(self) -> QPixmap | None:
        return self._pixmap

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        if self._pixmap is not None and not self._pixmap.isNull():
            area = self.rect().adjusted(16, 16, -16, -16)
            size = self._pixmap.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            if size.width() > self._pixmap.width():  # never blow small photos up
                size = self._pixmap.size()
            x = area.x() + (area.width() - size.width()) / 2
            y = area.y() + (area.height() - size.height()) / 2
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawPixmap(QRectF(x, y, size.width(), size.height()), self._pixmap,
                               QRectF(self._pixmap.rect()))
        elif self.message:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
        painter.end()


def _size_text(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


class MetadataPanel(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("metadataPanel")
        layout = QVBoxLayout(self)
        self.title = QLabel()
        self.title.setObjectName("metadataTitle")
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        self.fields: dict[str, QLabel] = {}
        for key, label in (("taken", "Taken"), ("size", "Dimensions"), ("file", "File"),
                           ("imported", "Added to the vault"), ("uid", "Photo ID")):
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = value
            caption = QLabel(label)
            caption.setProperty("muted", True)
            form.addRow(caption, value)
        layout.addLayout(form)
        layout.addSpacing(8)
        shared_caption = QLabel("Shared")
        shared_caption.setProperty("muted", True)
        self.shares = QLabel()
        self.shares.setObjectName("photoShares")
        self.shares.setWordWrap(True)
        self.shares.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(shared_caption)
        layout.addWidget(self.shares)
        #: photo id -> its shares, newest first (the main window's shares model answers)
        self.shares_lookup: Callable[[int], list[ShareInfo]] = lambda _pid: []
        self.photo_id: int | None = None
        later = QLabel("Tags and people appear here once those features arrive.")
        later.setWordWrap(True)
        later.setProperty("muted", True)
        layout.addSpacing(8)
        layout.addWidget(later)
        layout.addStretch(1)

    def show_info(self, info: PhotoInfo | None) -> None:
        self.photo_id = info.id if info is not None else None
        self.refresh_shares()
        if info is None:
            self.title.setText("")
            for value in self.fields.values():
                value.setText("")
            return
        self.title.setText(info.filename)
        source = "from the camera" if info.taken_at_source == "exif" else "file date; the camera gave none"
        self.fields["taken"].setText(f"{info.taken_at:%d %B %Y, %H:%M}\n({source})")
        self.fields["size"].setText(f"{info.width:,} × {info.height:,} pixels "
                                    f"({info.width * info.height / 1e6:.1f} MP)")
        self.fields["file"].setText(f"{info.mime.split('/')[-1].upper()}, {_size_text(info.size_bytes)}")
        self.fields["imported"].setText(f"{info.imported_at:%d %B %Y, %H:%M}")
        self.fields["uid"].setText(info.image_uid[:16])

    def refresh_shares(self) -> None:
        shares = self.shares_lookup(self.photo_id) if self.photo_id is not None else []
        if self.photo_id is None:
            self.shares.setText("")
        elif not shares:
            self.shares.setText("Not shared. Protected copies you make with Share… are listed here.")
        else:
            shown = shares[:8]
            lines = [share_line(s) for s in shown]
            if len(shares) > len(shown):
                lines.append(f"and {len(shares) - len(shown)} more (see Shared)")
            self.shares.setText("\n".join(lines))
        self.shares.setProperty("muted", not shares)
        self.shares.style().unpolish(self.shares)
        self.shares.style().polish(self.shares)


class ViewerPage(QWidget):
    closed = Signal()
    navigate = Signal(int)  # -1 previous, +1 next
    share_requested = Signal(int)  # photo id

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("viewerPage")
        self.session = session
        self.photo_id: int | None = None
        self._job: FullImageJob | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QFrame()
        bar.setObjectName("viewerBar")
        bar_layout = QHBoxLayout(bar)
        self.back = QPushButton("‹  All photos")
        self.back.setObjectName("viewerBack")
        self.back.clicked.connect(self.closed)
        self.prev_button = QPushButton("Previous")
        self.prev_button.clicked.connect(lambda: self.navigate.emit(-1))
        self.next_button = QPushButton("Next")
        self.next_button.clicked.connect(lambda: self.navigate.emit(1))
        self.name = QLabel()
        self.name.setObjectName("viewerName")
        self.share_button = QPushButton("Share…")
        self.share_button.setObjectName("viewerShare")
        self.share_button.setToolTip("Save a protected copy of this photo for one person")
        self.share_button.clicked.connect(self._request_share)
        bar_layout.addWidget(self.back)
        bar_layout.addStretch(1)
        bar_layout.addWidget(self.name)
        bar_layout.addStretch(1)
        bar_layout.addWidget(self.share_button)
        bar_layout.addWidget(self.prev_button)
        bar_layout.addWidget(self.next_button)
        layout.addWidget(bar)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        self.canvas = ImageCanvas()
        self.panel = MetadataPanel()
        self.panel.setFixedWidth(280)
        body.addWidget(self.canvas, 1)
        body.addWidget(self.panel)
        layout.addLayout(body, 1)
        for keys, slot in ((Qt.Key.Key_Escape, self.closed.emit), (Qt.Key.Key_Left, lambda: self.navigate.emit(-1)),
                           (Qt.Key.Key_Right, lambda: self.navigate.emit(1))):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def show_photo(self, info: PhotoInfo) -> None:
        if self._job is not None:
            self._job.cancel()
        self.photo_id = info.id
        self.name.setText(info.filename)
        self.panel.show_info(info)
        self.canvas.set_pixmap(None)
        self.canvas.message = "Decrypting…"
        self.canvas.update()
        vault = self.session.vault
        if vault is None:
            return
        screen = self.screen()
        longest = 2560
        if screen is not None:
            geo = screen.geometry()
            longest = int(max(geo.width(), geo.height()) * screen.devicePixelRatio())
        job = FullImageJob(vault, info.id, max_side=max(1024, min(longest, 4096)))
        job.signals.finished.connect(self._loaded)
        job.signals.failed.connect(lambda exc, pid=info.id: self._failed(pid, exc))
        self._job = job
        self.session.jobs.start(job, priority=1)

    def _request_share(self) -> None:
        if self.photo_id is not None:
            self.share_requested.emit(self.photo_id)

    def _loaded(self, result: FullImage) -> None:
        if result.photo_id != self.photo_id:
            return
        self._job = None
        self.canvas.set_pixmap(QPixmap.fromImage(result.image))

    def _failed(self, photo_id: int, exc: BaseException) -> None:
        if photo_id != self.photo_id:
            return
        self._job = None
        self.canvas.message = explain(exc)
        self.canvas.update()

    def clear(self) -> None:
        """Lock: the decrypted photo leaves memory and the screen."""
        if self._job is not None:
            self._job.cancel()
            self._job = None
        self.photo_id = None
        self.canvas.set_pixmap(None)
        self.canvas.message = ""
        self.panel.show_info(None)
        self.name.setText("")
