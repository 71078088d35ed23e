"""QR codes drawn in the window: made with segno as PNG bytes in memory, never on disk."""

from __future__ import annotations

import io

import segno
from PySide6.QtGui import QImage, QPixmap


def qr_png(text: str, scale: int = 6) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=scale, border=3, dark="#1d2733", light="#ffffff")
    return out.getvalue()


def qr_pixmap(text: str, scale: int = 6) -> QPixmap:
    return QPixmap.fromImage(QImage.fromData(qr_png(text, scale), "PNG"))
