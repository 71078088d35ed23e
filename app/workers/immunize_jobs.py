"""Jobs of the immunizer: check a found file (marks and immunization), verify, immunize, save a PNG.

Each wraps one core call (`app.core.immunizer`) on the job base: the core's `progress(done, total)`
becomes `report_progress(done, 1000)` over the job's share of the work, it is given the job's
cancel event, and
its `ImmunizeCancelled` becomes the base's `Cancelled`. Files are decoded and written by
`app.core.immunizer.files`, as the CLI does: `imaging.decode`'s size, bomb and truncation checks,
EXIF orientation applied; PNGs written atomically (a temporary file in the same folder, then
`os.replace`), so a failure or a cancel never leaves half a file behind.

Imported only when the Check dialog (or a test) needs it: the immunizer brings numpy and scipy.
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
from app.core.files import write_atomically
from app.core.immunizer import Mode, Verification, files, verify
from app.core.immunizer.api import ImmunizeCancelled
from app.core.sharing import InspectReport
from app.core.vault import PhotoInfo, ShareInfo

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
    """The core's `progress(done, total)` as `report_progress(done, 1000)` between `start` and
    `end` (shares of the job), only when the permille moves."""

    def __init__(self, job: Job, start: float = 0.0, end: float = 1.0):
        self.job, self.start, self.end = job, start, end
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        fraction = min(1.0, max(0.0, done / total)) if total else 0.0
        done = int(1000 * (self.start + (self.end - self.start) * fraction))
        if done != self.last:
            self.last = done
            self.job.report_progress(done, 1000)


def _verify_pixels(job: Job, pixels: np.ndarray, start: float, end: float) -> VerifiedImage:
    """The immunizer's check of decoded pixels, its pictures shrunk for the dialog."""
    try:
        result = verify(pixels, progress=_CoreProgress(job, start, end), cancel=job.cancel_event)
    except ImmunizeCancelled:
        raise Cancelled() from None
    job.check_cancelled()
    ours = False
    if job.vault is not None and result.signer is not None and result.signature_valid:
        ours = bytes(result.signer) == job.vault.signing_public_key()
    suspect, overlay = overlay_preview(pixels, result.mask)
    recovered = None
    if result.recovered is not None:
        size = (suspect.width(), suspect.height())
        recovered = _qimage(_shrink_rgb(result.recovered, size))
    h, w = pixels.shape[:2]
    return VerifiedImage(job.path, suspect, result, ours, overlay, recovered, w, h)


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
        verified = _verify_pixels(self, pixels, 0.02, 0.95)
        self.report_progress(1000, 1000)
        return verified


# --- checking a found image: everything it carries ----------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """Everything a found copy carries, read in one go (what the Check dialog shows)."""

    path: str
    file_format: str | None  # "PNG", "JPEG"… as the file's bytes say (not its name)
    report: InspectReport  # metadata IDs, watermark, signature, fragile mark
    share: ShareInfo | None  # the vault's record when the copy is one of its shares
    photo: PhotoInfo | None  # the shared photo, while it is still in the vault
    verified: VerifiedImage  # the immunizer's check: tamper mask, recovered photo, previews


class CheckJob(Job):
    """Read a found file's marks and signature, find its share, and run the immunizer's check
    on it: one job, so the dialog can say in one verdict whose copy it is and whether (and
    where) it was altered. About a second for the marks, then seconds for the immunizer."""

    title = "Checking an image"

    def __init__(self, vault, path: str | Path):
        super().__init__(vault)
        self.path = str(path)

    def work(self) -> CheckResult:
        self.report_progress(0, 1000)
        data = read_image_bytes(self.path)
        self.check_cancelled()
        report, share = self.vault.inspect(data)  # raises UnsupportedImage for non-images
        self.check_cancelled()
        self.report_progress(250, 1000)
        photo = None
        if share is not None and share.photo_id is not None:  # [] once the photo was deleted
            photo = next(iter(self.vault.list_photos(ids=[share.photo_id])), None)
        with Image.open(io.BytesIO(data)) as opened:
            file_format = opened.format
        pixels = files.rgb_of(data)
        del data
        verified = _verify_pixels(self, pixels, 0.27, 0.97)
        self.report_progress(1000, 1000)
        return CheckResult(self.path, file_format, report, share, photo, verified)


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
                                            cancel=self.cancel_event)
        except ImmunizeCancelled:
            raise Cancelled() from None
        del data
        self.check_cancelled()  # the last moment a cancel leaves no file at all
        write_atomically(Path(self.dst_path), png)
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
        write_atomically(Path(self.path), png)
        return self.path


__all__ = ["CheckJob", "CheckResult", "ImmunizeFileJob", "ImmunizedFile", "SavePngJob", "VerifiedImage", "VerifyImageJob",
           "overlay_preview", "read_image_bytes", "read_rgb"]
