"""The viewer: one photo, decrypted in memory by a worker, with its details beside it (file,
shares, tags, people and their faces). A sensitive photo shows blurred, from its thumbnail,
until the user reveals it: the original is not even decrypted before that."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPen, QPixmap, QShortcut
from PySide6.QtWidgets import QFormLayout, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.organize import FaceInfo
from app.core.vault import PhotoInfo, ShareInfo
from app.core.words import byte_size
from app.workers.library_jobs import FullImage, FullImageJob
from app.workers.people_jobs import PhotoFacesJob, PhotoOrganise

from .errors import explain
from .organize_ui import OrganisePanel, SensitiveState
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
        self.faces: list[FaceInfo] = []
        self.frame: tuple[int, int] = (0, 0)  # the large thumbnail's size: the boxes' pixels
        self.show_faces = False
        self.highlight: int | None = None  # a face id outlined while its row is hovered

    def set_faces(self, faces: list[FaceInfo], frame: tuple[int, int]) -> None:
        self.faces, self.frame = list(faces), frame
        self.update()

    def set_show_faces(self, on: bool) -> None:
        self.show_faces = on
        self.update()

    def set_highlight(self, face_id: int | None) -> None:
        self.highlight = face_id
        self.update()

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
            target = QRectF(x, y, size.width(), size.height())
            painter.drawPixmap(target, self._pixmap, QRectF(self._pixmap.rect()))
            self._paint_faces(painter, target)
        elif self.message:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
        painter.end()


    def face_rect(self, face: FaceInfo, target: QRectF) -> QRectF:
        sx = target.width() / max(1, self.frame[0])
        sy = target.height() / max(1, self.frame[1])
        left, top, right, bottom = face.box
        return QRectF(target.x() + left * sx, target.y() + top * sy, (right - left) * sx, (bottom - top) * sy)

    def _paint_faces(self, painter: QPainter, target: QRectF) -> None:
        if not self.faces or not self.frame[0]:
            return
        for face in self.faces:
            hovered = face.id == self.highlight
            if not (self.show_faces or hovered):
                continue
            rect = self.face_rect(face, target)
            painter.setPen(QPen(QColor(0, 0, 0, 120), 4))
            painter.drawRoundedRect(rect, 6, 6)
            painter.setPen(QPen(QColor("#ffd54a") if hovered else QColor(255, 255, 255), 2))
            painter.drawRoundedRect(rect, 6, 6)
            painter.drawText(rect.adjusted(0, rect.height() + 4, 0, 24),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, face.person)


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
        layout.addSpacing(8)
        self.organise = OrganisePanel()
        layout.addWidget(self.organise)
        layout.addStretch(1)
        #: set by the owner: tags and faces are read by a job on this session
        self.session: Session | None = None
        self._organise_job: PhotoFacesJob | None = None

    def show_info(self, info: PhotoInfo | None) -> None:
        self.photo_id = info.id if info is not None else None
        self.refresh_shares()
        self.refresh_organise()
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
        self.fields["file"].setText(f"{info.mime.split('/')[-1].upper()}, {byte_size(info.size_bytes)}")
        self.fields["imported"].setText(f"{info.imported_at:%d %B %Y, %H:%M}")
        self.fields["uid"].setText(info.image_uid[:16])

    def refresh_organise(self) -> None:
        """Read this photo's tags, people and faces (again: after an edit or an organise chunk)."""
        if self._organise_job is not None:
            self._organise_job.cancel()
            self._organise_job = None
        session = self.session
        if self.photo_id is None or session is None or not session.is_unlocked:
            self.organise.show_data(None)
            return
        if self.organise.data is None or self.organise.data.photo_id != self.photo_id:
            self.organise.show_data(None, waiting=True)
        job = PhotoFacesJob(session.vault, self.photo_id)
        job.signals.finished.connect(self._organise_loaded)
        self._organise_job = job
        session.jobs.start(job, priority=1)

    def _organise_loaded(self, data: PhotoOrganise) -> None:
        if data.photo_id != self.photo_id:
            return
        self._organise_job = None
        self.organise.show_data(data)

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
    sensitive_requested = Signal(int, bool)  # photo id, mark (True) or unmark (False)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("viewerPage")
        self.session = session
        self.photo_id: int | None = None
        self.panel_info: PhotoInfo | None = None
        self.blurred = False
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
        self.sensitive_button = QPushButton("Mark as sensitive")
        self.sensitive_button.setObjectName("viewerSensitive")
        self.sensitive_button.setToolTip("Sensitive photos stay blurred everywhere in Sanctum until you reveal them")
        self.sensitive_button.clicked.connect(self._toggle_sensitive)
        bar_layout.addWidget(self.back)
        bar_layout.addStretch(1)
        bar_layout.addWidget(self.name)
        bar_layout.addStretch(1)
        bar_layout.addWidget(self.sensitive_button)
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
        self.panel.session = session
        self.panel.organise.faces_toggled.connect(self.canvas.set_show_faces)
        self.panel.organise.face_hovered.connect(self.canvas.set_highlight)
        self.panel.organise.data_shown.connect(self._faces_shown)
        #: what is revealed (the main window shares its state here)
        self.sensitive = SensitiveState(self)
        self.sensitive_photo = False
        self.reveal_bar = QFrame()
        self.reveal_bar.setObjectName("revealBar")
        reveal_layout = QHBoxLayout(self.reveal_bar)
        self.reveal_text = QLabel("This photo is marked sensitive, so it is blurred.")
        self.reveal_button = QPushButton("Reveal")
        self.reveal_button.setObjectName("revealButton")
        self.reveal_button.setToolTip("Show this photo sharp (until the vault is locked)")
        self.reveal_button.clicked.connect(self.reveal)
        reveal_layout.addStretch(1)
        reveal_layout.addWidget(self.reveal_text)
        reveal_layout.addWidget(self.reveal_button)
        reveal_layout.addStretch(1)
        self.reveal_bar.hide()
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(0)
        left.addWidget(self.reveal_bar)
        left.addWidget(self.canvas, 1)
        body.addLayout(left, 1)
        body.addWidget(self.panel)
        layout.addLayout(body, 1)
        for keys, slot in ((Qt.Key.Key_Escape, self.closed.emit), (Qt.Key.Key_Left, lambda: self.navigate.emit(-1)),
                           (Qt.Key.Key_Right, lambda: self.navigate.emit(1))):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def show_photo(self, info: PhotoInfo) -> None:
        self.panel_info = info
        if self._job is not None:
            self._job.cancel()
        self.photo_id = info.id
        self.name.setText(info.filename)
        self.canvas.set_faces([], (0, 0))
        self.canvas.set_highlight(None)
        self.panel.show_info(info)
        self.reveal_bar.hide()
        self._set_sensitive_button(self.sensitive.is_flagged(info.id))
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
        reveal = self.sensitive.snapshot().shows(info.id)
        job = FullImageJob(vault, info.id, max_side=max(1024, min(longest, 4096)), reveal=reveal)
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
        self.blurred = result.blurred
        self.canvas.set_pixmap(QPixmap.fromImage(result.image))
        self.reveal_bar.setVisible(result.blurred)
        self._set_sensitive_button(result.sensitive)
        self.sensitive.update_flags([result.photo_id], [result.photo_id] if result.sensitive else [])

    def _set_sensitive_button(self, sensitive: bool) -> None:
        self.sensitive_photo = sensitive
        self.sensitive_button.setText("Not sensitive" if sensitive else "Mark as sensitive")

    def _toggle_sensitive(self) -> None:
        if self.photo_id is not None:
            self.sensitive_requested.emit(self.photo_id, not self.sensitive_photo)

    def _faces_shown(self, data) -> None:
        if data is not None and data.photo_id == self.photo_id:
            self.canvas.set_faces(data.faces, data.frame)
        else:
            self.canvas.set_faces([], (0, 0))

    def reveal(self) -> None:
        """Show this photo sharp: decrypt the original now."""
        if self.photo_id is None:
            return
        self.sensitive.reveal(self.photo_id)
        self.reload()

    def reload(self) -> None:
        """Load the current photo again (its flag or reveal changed)."""
        info = self.panel_info
        if info is not None and info.id == self.photo_id:
            self.show_photo(info)

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
        self.panel_info = None
        self.canvas.set_pixmap(None)
        self.canvas.set_faces([], (0, 0))
        self.canvas.message = ""
        self.reveal_bar.hide()
        self.panel.show_info(None)
        self.name.setText("")
