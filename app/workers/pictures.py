"""Pictures for the screen, made on the worker thread, and what the user chose to see sharp.

A sensitive photo is blurred here, before any `QImage` of it exists, unless the user revealed
it: no sharp copy of it is ever in this process until then. Pillow decodes and blurs; the
result becomes a `QImage`, which is implicitly shared and safe to hand to the UI thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage

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


def _qimage_from_pil(im) -> QImage:
    rgb = im.convert("RGB")
    return QImage(rgb.tobytes(), rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888).copy()


def blurred_image(data: bytes) -> QImage:
    """Decode image bytes and blur them beyond recognition (Pillow, on the worker thread).

    The picture is first shrunk to a few dozen pixels, so the detail is gone, not just softened;
    the blur then hides the blocks. Only this blurred copy ever becomes a `QImage`.
    """
    from PIL import Image, ImageFilter

    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB")
        size = im.size
        im.thumbnail((24, 24), Image.Resampling.BOX)
        im = im.filter(ImageFilter.GaussianBlur(1.5))
        im = im.resize(size, Image.Resampling.BICUBIC)
        im = im.filter(ImageFilter.GaussianBlur(max(2.0, max(size) / 40)))
        return _qimage_from_pil(im)


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
    from PIL import Image, ImageOps

    import app.core.imaging  # noqa: F401 - registers the HEIC opener

    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale, much faster
        im = ImageOps.exif_transpose(im)
        if im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB")
        if max(im.size) > max_side:
            im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        fmt = QImage.Format.Format_RGBA8888 if im.mode == "RGBA" else QImage.Format.Format_RGB888
        raw = im.tobytes()
        bpl = im.width * (4 if im.mode == "RGBA" else 3)
        return QImage(raw, im.width, im.height, bpl, fmt).copy()  # copy: own the pixels


def face_crop(large_thumbnail: bytes, box, edge: int, blur: bool) -> QImage:
    """A square around the face (with some margin), `edge` pixels, blurred when asked."""
    from PIL import Image, ImageFilter

    with Image.open(io.BytesIO(large_thumbnail)) as im:
        im = im.convert("RGB")
        left, top, right, bottom = box
        side = max(right - left, bottom - top) * 1.5
        cx, cy = (left + right) / 2, (top + bottom) / 2
        half = min(side / 2, cx, cy, im.width - cx, im.height - cy, max(im.size) / 2)
        half = max(half, min(right - left, bottom - top) / 2, 1)
        crop = im.crop((int(cx - half), int(cy - half), int(cx + half), int(cy + half)))
        crop = crop.resize((edge, edge), Image.Resampling.LANCZOS)
        if blur:
            crop.thumbnail((12, 12), Image.Resampling.BOX)
            crop = crop.resize((edge, edge), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(edge / 24))
        return _qimage_from_pil(crop)
