"""Pictures for the screen, made on the worker thread, and what the user chose to see sharp.

A sensitive photo is blurred here, before any `QImage` of it exists, unless the user revealed
it: no sharp copy of it is ever in this process until then. Pillow decodes and blurs
(`app.core.previews`); the result becomes a `QImage`, which is implicitly shared and safe to
hand to the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage

from app.core import previews
from app.core.vault import Vault


@dataclass(frozen=True)
class RevealState:
    """A snapshot of what the user chose to see sharp: every photo, or these ids."""

    reveal_all: bool = False
    revealed: frozenset[int] = frozenset()

    def shows(self, photo_id: int | None) -> bool:
        return self.reveal_all or photo_id in self.revealed


#: The default: every sensitive photo blurred.
NOTHING_REVEALED = RevealState()


def sensitive_ids(vault: Vault, photo_ids) -> set[int]:
    """Which of these photos are flagged (the model's verdict, or the user's when set)."""
    ids = [i for i in photo_ids if i is not None]
    if not ids:
        return set()
    return {p.id for p in vault.list_photos(ids=ids, sensitive=True)}


def qimage_from_pil(im) -> QImage:
    """An RGB or RGBA Pillow image as a `QImage` that owns its pixels (anything else as RGB)."""
    if im.mode != "RGBA":
        im = im.convert("RGB")
    fmt = QImage.Format.Format_RGBA8888 if im.mode == "RGBA" else QImage.Format.Format_RGB888
    bytes_per_line = im.width * (4 if im.mode == "RGBA" else 3)
    return QImage(im.tobytes(), im.width, im.height, bytes_per_line, fmt).copy()  # copy: own the pixels


def blurred_image(data: bytes) -> QImage:
    """Image bytes blurred beyond recognition (`previews.blurred`): only this copy becomes a `QImage`."""
    return qimage_from_pil(previews.blurred(data))


def square_thumbnail(data: bytes | QImage, edge: int) -> QImage:
    """Decode a JPEG thumbnail (or take a decoded one) and centre-crop it to a square of `edge` pixels."""
    image = data if isinstance(data, QImage) else QImage.fromData(data)
    if image.isNull():
        return image
    scaled = image.scaled(QSize(edge, edge), Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                          Qt.TransformationMode.SmoothTransformation)
    x = (scaled.width() - edge) // 2
    y = (scaled.height() - edge) // 2
    return scaled.copy(x, y, edge, edge)


def decode_for_display(data: bytes, max_side: int) -> QImage:
    """Decode original bytes in memory at up to `max_side` pixels, EXIF orientation applied."""
    return qimage_from_pil(previews.for_display(data, max_side))


def face_crop(large_thumbnail: bytes, box, edge: int, blur: bool) -> QImage:
    """A square around the face (with some margin), `edge` pixels, blurred when asked."""
    return qimage_from_pil(previews.face_square(large_thumbnail, box, edge, blur))
