"""Jobs of the immunizer: verify a suspect file, immunize a file, save a result as PNG.

Each wraps one core call (`app.core.immunizer`) on the job base: the core's progress (a fraction)
becomes `report_progress(done, 1000)`, its cancel callback reads the job's cancel event, and
its `ImmunizeCancelled` becomes the base's `Cancelled`. Files are decoded and written by
`app.core.immunizer.files`, as the CLI does: `imaging.decode`'s size, bomb and truncation checks,
EXIF orientation applied; PNGs written atomically (a temporary file in the same folder, then
`os.replace`), so a failure or a cancel never leaves half a file behind.

Imported only when the verify dialog (or a test) needs it: the immunizer brings numpy and scipy.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtGui import QImage

from app.core import imaging
from app.core.errors import Cancelled
from app.core.immunizer import Mode, Verification, files, verify
from app.core.immunizer.api import ImmunizeCancelled

from .base import Job

log = logging.getLogger(__name__)

#: Longest side of the pictures the dialog shows; the full-size arrays stay in the result.
PREVIEW_SIDE = 1600
#: Tampered areas in the preview: translucent red inside, a solid red line around.
OVERLAY_RGB = (230, 32, 32)
OVERLAY_ALPHA = 0.45
OUTLINE_RGB = (200, 0, 0)


# --- reading and writing files (no Qt) ----------------------------------------------------------


def read_image_bytes(path: str | Path) -> bytes:
    """A file's bytes, refusing a huge one, a pipe or a device before reading (the import's
    reader: it never blocks and never reads past the cap)."""
    return imaging.read_image_file(path)[0]


def read_rgb(path: str | Path) -> np.ndarray:
    """A file's pixels as RGB uint8 (H, W, 3), decoded exactly as `sanctum verify` does
    (`imaging.decode`'s checks, EXIF orientation applied, alpha dropped).

    Raises `UnsupportedImage` (not an image, truncated, damaged) or `ImageTooLarge`."""
    return files.rgb_of(read_image_bytes(path))


# --- pictures for the dialog ----------------------------------------------------------------


def _qimage(rgb: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, w * 3, QImage.Format.Format_RGB888).copy()  # copy: own the pixels


def _preview_size(h: int, w: int, side: int) -> tuple[int, int]:
    scale = min(1.0, side / max(h, w))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _shrink_rgb(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (rgb.shape[1], rgb.shape[0]) == size:
        return rgb
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


def _shrink_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (mask.shape[1], mask.shape[0]) == size:
        return mask.astype(bool)
    # Any tampered pixel under a preview pixel marks it: a small edit must not vanish.
    small = Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), "L").resize(size, Image.Resampling.BOX)
    return np.asarray(small) > 0


def overlay_preview(suspect: np.ndarray, mask: np.ndarray, side: int = PREVIEW_SIDE) -> tuple[QImage, QImage]:
    """The suspect shrunk to `side`, and the same with the tampered areas shown: a translucent
    red fill and a solid outline a few pixels wide around each area."""
    from scipy import ndimage

    size = _preview_size(*suspect.shape[:2], side)
    small = _shrink_rgb(suspect, size)
    marked = _shrink_mask(mask, size)
    out = small.astype(np.float32)
    if marked.any():
        red = np.array(OVERLAY_RGB, np.float32)
        out[marked] = out[marked] * (1 - OVERLAY_ALPHA) + red * OVERLAY_ALPHA
        width = max(2, round(max(size) / 120))  # still visible when the pane shrinks the preview
        ring = ndimage.binary_dilation(marked, iterations=width) & ~marked
        out[ring] = OUTLINE_RGB
    return _qimage(small), _qimage(np.clip(out, 0, 255).astype(np.uint8))


# --- verifying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedImage:
    """A suspect file checked for immunization data (what the verify dialog shows)."""

    path: str
    suspect: QImage  # the file as decoded, shrunk to PREVIEW_SIDE
    result: Verification  # full-size mask and recovered pixels
    signed_by_this_vault: bool  # a valid signature by this vault's key
    overlay: QImage  # `suspect` with the tampered areas marked
    recovered: QImage | None  # the recovered photo, shrunk like `suspect`
    width: int  # the file's size in pixels (displayed orientation)
    height: int


class _CoreProgress:
    """The core's fractions as `report_progress(done, 1000)`, only when the permille moves."""

    def __init__(self, job: Job, start: float = 0.0, end: float = 1.0):
        self.job, self.start, self.end = job, start, end
        self.last = -1

    def __call__(self, fraction: float) -> None:
        done = int(1000 * (self.start + (self.end - self.start) * min(1.0, max(0.0, float(fraction)))))
        if done != self.last:
            self.last = done
            self.job.report_progress(done, 1000)


class VerifyImageJob(Job):
    """Decode a suspect file and look for immunization data (seconds for a large photo)."""

    title = "Verifying an image"

    def __init__(self, path: str | Path, vault=None):
        super().__init__(vault)
        self.path = str(path)

    def work(self) -> VerifiedImage:
        self.report_progress(0, 1000)
        pixels = read_rgb(self.path)
        self.check_cancelled()
        try:
            result = verify(pixels, progress=_CoreProgress(self, 0.02, 0.95), cancel=lambda: self.is_cancelled)
        except ImmunizeCancelled:
            raise Cancelled() from None
        self.check_cancelled()
        ours = False
        if self.vault is not None and result.signer is not None and result.signature_valid:
            ours = bytes(result.signer) == self.vault.signing_public_key()
        suspect, overlay = overlay_preview(pixels, result.mask)
        recovered = None
        if result.recovered is not None:
            size = (suspect.width(), suspect.height())
            recovered = _qimage(_shrink_rgb(result.recovered, size))
        self.report_progress(1000, 1000)
        h, w = pixels.shape[:2]
        return VerifiedImage(self.path, suspect, result, ours, overlay, recovered, w, h)


# --- immunizing a file ------------------------------------------------------------------------


@dataclass(frozen=True)
class ImmunizedFile:
    source: str
    path: str  # the PNG written
    mode: Mode
    width: int
    height: int


class ImmunizeFileJob(Job):
    """Immunize any photo file into a PNG signed with the vault's key.

    Nothing is added to the vault (the fast lane): `Vault.immunize_image` only lends its key,
    which never leaves the vault object."""

    title = "Immunizing a photo"

    def __init__(self, vault, src_path: str | Path, dst_path: str | Path, mode: Mode | str):
        super().__init__(vault)
        self.src_path = str(src_path)
        self.dst_path = str(dst_path)
        self.mode = Mode(mode)

    def work(self) -> ImmunizedFile:
        self.report_progress(0, 1000)
        data = read_image_bytes(self.src_path)
        self.check_cancelled()
        try:
            png = self.vault.immunize_image(data, self.mode, progress=_CoreProgress(self, 0.0, 0.97),
                                            cancel=lambda: self.is_cancelled)
        except ImmunizeCancelled:
            raise Cancelled() from None
        del data
        self.check_cancelled()  # the last moment a cancel leaves no file at all
        files.write_atomically(Path(self.dst_path), png)
        self.report_progress(1000, 1000)
        with Image.open(io.BytesIO(png)) as written:
            width, height = written.size
        return ImmunizedFile(self.src_path, self.dst_path, self.mode, width, height)


# --- saving what the dialog shows ---------------------------------------------------------------


class SavePngJob(Job):
    """Write a recovered photo (RGB) or a mask (bool, white = tampered) as PNG, atomically
    (a 12 MP PNG takes a second or two to encode: not on the UI thread)."""

    cancellable = False

    def __init__(self, pixels: np.ndarray, path: str | Path):
        super().__init__()
        self.pixels = pixels
        self.path = str(path)

    def work(self) -> str:
        png = files.mask_png(self.pixels) if self.pixels.dtype == bool else files.png_bytes(self.pixels)
        files.write_atomically(Path(self.path), png)
        return self.path


__all__ = ["ImmunizeFileJob", "ImmunizedFile", "SavePngJob", "VerifiedImage", "VerifyImageJob",
           "overlay_preview", "read_image_bytes", "read_rgb"]
