"""Pictures for the screen, made in memory with Pillow: a sensitive photo blurred beyond
recognition, a face cut out for the People view, an original decoded at display size.

Qt-free: the workers turn the results into `QImage`s (`app.workers.pictures`).
"""

from __future__ import annotations

import io

from PIL import Image, ImageFilter, ImageOps

from . import imaging  # noqa: F401 - registers the HEIC opener


def blurred(data: bytes) -> Image.Image:
    """Decode image bytes and blur them beyond recognition (RGB, the original's size).

    The picture is first shrunk to a few dozen pixels, so the detail is gone, not just softened;
    the blur then hides the blocks.
    """
    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB")
        size = im.size
        im.thumbnail((24, 24), Image.Resampling.BOX)
        im = im.filter(ImageFilter.GaussianBlur(1.5))
        im = im.resize(size, Image.Resampling.BICUBIC)
        return im.filter(ImageFilter.GaussianBlur(max(2.0, max(size) / 40)))


def for_display(data: bytes, max_side: int) -> Image.Image:
    """Decode original bytes at up to `max_side` pixels, EXIF orientation applied (RGB or RGBA)."""
    with Image.open(io.BytesIO(data)) as opened:
        opened.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale, much faster
        im = ImageOps.exif_transpose(opened)
        if im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB")
        if max(im.size) > max_side:
            im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        if im is opened:  # closing the file would take these pixels with it
            im = im.copy()
        return im


def face_square(large_thumbnail: bytes, box, edge: int, blur: bool) -> Image.Image:
    """A square around the face (with some margin), `edge` pixels, blurred when asked (RGB)."""
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
        return crop


def frame_size(data: bytes) -> tuple[int, int]:
    """An image's size in pixels from its header: nothing is decoded."""
    with Image.open(io.BytesIO(data)) as im:
        return im.size
