"""The side-by-side evidence of a found copy: the vault photo and the found copy, with the matched
region outlined.

The found copy kept as evidence is small (≤ 480 px); a match's region is in the found image's
full-size pixels (`found_size`), so it is scaled by evidence width / found width before it is
painted. The vault side shows the part of the photo the found copy holds: the found picture's
frame mapped back through the same homography.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QPointF,
    QRectF,
    QSize,
    Qt,
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
    QSizePolicy,
    QWidget,
)

from app.core.leaks.enums import MatchMethod
from app.core.vault import LeakMatchInfo


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


