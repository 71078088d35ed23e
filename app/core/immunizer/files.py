"""Immunize and verify image *files*: safe decoding, PNG output, mask and recovered images."""

from __future__ import annotations

import io
import threading

import numpy as np
from PIL import Image

from app.core import imaging
from app.core.immunizer.api import immunize, verify
from app.core.immunizer.types import Mode, Verification
from app.core.progress import Progress


def rgb_of(data: bytes) -> np.ndarray:
    """Decode untrusted bytes (bombs and truncation refused by `imaging.decode`) to RGB pixels
    as displayed. Alpha is dropped: immunization covers colour only."""
    decoded = imaging.decode(data)
    return np.asarray(decoded.oriented.convert("RGB"), dtype=np.uint8).copy()


def png_bytes(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG", compress_level=6)
    return out.getvalue()


def mask_png(mask: np.ndarray) -> bytes:
    """White where tampered, black elsewhere, the size of the suspect photo."""
    out = io.BytesIO()
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), "L").save(out, "PNG")
    return out.getvalue()


def immunize_bytes(data: bytes, mode: Mode | str, signing_private: bytes, *,
                   progress: Progress | None = None, cancel: threading.Event | None = None) -> bytes:
    """Immunized PNG of an image file."""
    return png_bytes(immunize(rgb_of(data), mode, signing_private=signing_private,
                              progress=progress, cancel=cancel))


def verify_bytes(data: bytes, *, progress: Progress | None = None,
                 cancel: threading.Event | None = None) -> Verification:
    return verify(rgb_of(data), progress=progress, cancel=cancel)
