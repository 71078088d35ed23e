"""Reading photos safely: type sniffing, limits, one decode, thumbnails, capture date.

Everything here works on bytes in memory, so no decoded pixels ever touch the disk.
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import warnings
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageFile, UnidentifiedImageError

from .errors import ImageTooLarge, NotARegularFile, UnsupportedImage

try:  # HEIC/HEIF is what phones produce
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_AVAILABLE = True
except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
    HEIF_AVAILABLE = False

# A 200-megapixel panorama is plausible; a 2.5-gigapixel "photo" is a decompression bomb.
MAX_PIXELS = 200_000_000
MAX_FILE_BYTES = 512 * 1024 * 1024
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, never half a photo

THUMB_SIZES = {"thumb_small": 320, "thumb_large": 1280}
THUMB_QUALITY = 85

MIME_BY_KIND = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "heic": "image/heic",
    "heif": "image/heif",
    "avif": "image/avif",
}

_HEIF_BRANDS = {
    b"heic": "heic", b"heix": "heic", b"hevc": "heic", b"heim": "heic", b"heis": "heic",
    b"hevm": "heic", b"hevs": "heic", b"mif1": "heif", b"msf1": "heif", b"avif": "avif",
}


def not_regular_reason(mode: int) -> str | None:
    """Why a file of this `st_mode` is never read as a photo; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "a named pipe, not a photo file (never read)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a photo file (never read)"
    if stat.S_ISSOCK(mode):
        return "a socket, not a photo file (never read)"
    return "not a regular file (never read)"


def too_large_reason(cap: int = MAX_FILE_BYTES) -> str:
    return f"the file is larger than {cap // 2**20} MB"


# O_NONBLOCK: opening a FIFO otherwise waits for a writer, for ever. It does nothing to a
# regular file's reads. O_NOCTTY: a terminal device never becomes our controlling terminal.
# (Neither exists on Windows, which has no FIFOs in the file system.)
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0))
_READ_CHUNK = 1 << 20


def read_image_file(path: str | os.PathLike, cap: int = MAX_FILE_BYTES) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most `cap` bytes, and its stat.

    Checks the opened file itself (fstat), so a path swapped for a pipe or a device after the
    caller looked at it is still refused, and a symlink is followed only to a regular file.
    Never reads more than cap + 1 bytes, even from a file that grows while it is read.
    Raises NotARegularFile, ImageTooLarge, or OSError.
    """
    with open(os.open(path, _OPEN_FLAGS), "rb", closefd=True) as f:
        st = os.fstat(f.fileno())
        reason = not_regular_reason(st.st_mode)
        if reason:
            raise NotARegularFile(reason)
        if st.st_size > cap:
            raise ImageTooLarge(too_large_reason(cap))
        want = st.st_size + 1  # one byte more than announced tells whether it grew
        data = f.read(want)
        if len(data) == want:  # it grew (or is a /proc-style file of size 0): read on, bounded
            parts, total = [data], len(data)
            while total <= cap:
                chunk = f.read(min(_READ_CHUNK, cap + 1 - total))
                if not chunk:
                    break
                parts.append(chunk)
                total += len(chunk)
            data = b"".join(parts)
    if len(data) > cap:
        raise ImageTooLarge(too_large_reason(cap))
    return data, st


def sniff_kind(head: bytes) -> str | None:
    """The image type from the first bytes of a file; file names are never trusted."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:2] == b"BM" and len(head) >= 26:
        return "bmp"
    if head[4:8] == b"ftyp":
        brand = _HEIF_BRANDS.get(head[8:12])
        if brand:
            return brand
    return None


def describe_unknown(head: bytes) -> str:
    """A reason a person understands for a file that is not a supported image."""
    if not head:
        return "the file is empty"
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "the file is a web page (HTML), not an image"
    if stripped.startswith(b"%pdf"):
        return "the file is a PDF, not an image"
    if head.startswith(b"PK\x03\x04"):
        return "the file is a ZIP archive, not an image"
    return "the file is not a supported image (JPEG, PNG, WebP, GIF, TIFF, BMP, HEIC)"


@dataclass
class DecodedPhoto:
    kind: str
    mime: str
    width: int  # full size as stored, before EXIF orientation
    height: int
    pixels: Image.Image  # RGB or RGBA, not yet oriented; reduced when decode() was asked to
    reduced: bool
    oriented: Image.Image  # displayed orientation (EXIF honoured), for thumbnails
    exif_taken_at: datetime | None
    # The image as Pillow opened and loaded it, for its metadata: a PNG's text chunks come after
    # its pixels, and reading them from a freshly opened file decodes the whole image again.
    source: Image.Image | None = None

    @property
    def display_size(self) -> tuple[int, int]:
        """Full-size width and height as displayed (EXIF orientation applied)."""
        swapped = self.oriented.size != self.pixels.size and self.oriented.size == self.pixels.size[::-1]
        return (self.height, self.width) if swapped else (self.width, self.height)


def decode(data: bytes, min_long_side: int | None = None) -> DecodedPhoto:
    """Validate and decode image bytes once.

    With `min_long_side`, a JPEG is decoded with libjpeg's DCT scaling (1/2, 1/4, 1/8) to the
    smallest size whose long side is still at least that: 4x to 16x less work for a camera
    photo, and all that thumbnails need. Other formats are decoded at full size.

    Raises UnsupportedImage (with a reason) for anything that is not a sound image:
    wrong type, truncated data, bombs, oversized metadata chunks.
    """
    if len(data) > MAX_FILE_BYTES:
        raise ImageTooLarge(too_large_reason())
    kind = sniff_kind(data[:32])
    if kind is None:
        raise UnsupportedImage(describe_unknown(data[:64]))
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; treat it as fatal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width <= 0 or height <= 0:
                raise UnsupportedImage("the image declares no pixels")
            if width * height > MAX_PIXELS:
                raise ImageTooLarge(
                    f"the image declares {width:,} × {height:,} pixels, more than the "
                    f"{MAX_PIXELS // 1_000_000} megapixel limit (a decompression bomb?)"
                )
            exif_taken_at = _exif_taken_at(image)
            if min_long_side and kind == "jpeg" and max(width, height) > min_long_side:
                scale = min_long_side / max(width, height)
                image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
            image.load()
    except (ImageTooLarge, UnsupportedImage):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refuses far-too-large images inside open(), before we see the size.
        declared = re.search(r"\((\d+) pixels\)", str(exc))
        amount = f"{int(declared.group(1)):,} pixels" if declared else "too many pixels"
        raise ImageTooLarge(
            f"the image declares {amount}, more than the {MAX_PIXELS // 1_000_000} megapixel "
            "limit (a decompression bomb?)"
        ) from None
    except UnidentifiedImageError:
        raise UnsupportedImage(f"the file looks like {kind.upper()} but cannot be read") from None
    except OSError as exc:
        raise UnsupportedImage(_reason_from_pillow(kind, exc)) from None
    except (ValueError, SyntaxError, EOFError, struct.error, IndexError, MemoryError) as exc:
        # Pillow raises ValueError for an oversized text chunk ("Decompressed Data Too Large"),
        # SyntaxError for malformed headers, struct.error / IndexError for short fields.
        raise UnsupportedImage(_reason_from_pillow(kind, exc)) from None

    pixels = _to_rgb(image)
    try:
        oriented = _orient(pixels, int(image.getexif().get(0x0112, 1)))
    except Exception:  # a broken orientation tag must not lose the photo
        oriented = pixels
    reduced = pixels.size != (width, height)
    return DecodedPhoto(kind, MIME_BY_KIND[kind], width, height, pixels, reduced, oriented, exif_taken_at, image)


def _reason_from_pillow(kind: str, exc: BaseException) -> str:
    text = str(exc)
    if "truncated" in text or isinstance(exc, EOFError):
        return f"the {kind.upper()} file is truncated (incomplete download or copy?)"
    if "Decompressed Data Too Large" in text or "too large" in text.lower():
        return f"the {kind.upper()} file has an oversized metadata chunk (refused for safety)"
    return f"the {kind.upper()} file is damaged and cannot be decoded"


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode in ("LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        return image.convert("RGBA")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits before converting (Pillow would clip otherwise)
        return image.point(lambda v: v / 256).convert("L").convert("RGB")
    return image.convert("RGB")


_ORIENT_OPS = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


def _orient(image: Image.Image, orientation: int) -> Image.Image:
    for op in _ORIENT_OPS.get(orientation, ()):
        image = image.transpose(op)
    return image


def _exif_taken_at(image: Image.Image) -> datetime | None:
    try:
        exif = image.getexif()
        sub = exif.get_ifd(0x8769)  # Exif IFD: DateTimeOriginal lives here
        for value in (sub.get(0x9003), sub.get(0x9004), exif.get(0x0132)):
            parsed = parse_exif_datetime(value)
            if parsed:
                return parsed
    except Exception:  # malformed EXIF is common and never a reason to refuse a photo
        return None
    return None


def parse_exif_datetime(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    text = value.strip().rstrip("\x00")
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d %H:%M"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if 1900 < parsed.year < 2200 else None
    return None


def _shrink(image: Image.Image, long_side: int) -> Image.Image:
    # Box-reduce by an integer factor first (cheap), then a high-quality resample of the rest.
    factor = max(image.width, image.height) // (long_side * 2)
    if factor >= 2:
        image = image.reduce(factor)
    if max(image.width, image.height) > long_side:
        image = image.copy()
        image.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    if image.mode == "RGBA":
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    return image


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=THUMB_QUALITY)
    return out.getvalue()


def make_thumbnails(oriented: Image.Image) -> dict[str, bytes]:
    """Both thumbnail sizes as JPEG bytes in memory; the small one is made from the large one."""
    large = _shrink(oriented, THUMB_SIZES["thumb_large"])
    small = _shrink(large, THUMB_SIZES["thumb_small"])
    return {"thumb_large": _jpeg(large), "thumb_small": _jpeg(small)}
