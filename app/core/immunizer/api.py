"""The immunizer's entry points: check the photo, dispatch to the mode (imported on first use:
they bring scipy and ldpc). The types both modes share live in `types`, the errors in
`errors`; both are re-exported here."""

from __future__ import annotations

import threading

import numpy as np

from app.core.immunizer.errors import ImageTooSmallToImmunize, ImmunizeCancelled, ImmunizerError
from app.core.immunizer.types import (
    Mode,
    Verdict,
    Verification,
    cancellable,
    checkpoint,
    stepper,
)
from app.core.progress import Progress

__all__ = [
    "ImageTooSmallToImmunize",
    "ImmunizeCancelled",
    "ImmunizerError",
    "Mode",
    "Verdict",
    "Verification",
    "cancellable",
    "checkpoint",
    "immunize",
    "stepper",
    "verify",
]


def _check_pixels(pixels: np.ndarray) -> np.ndarray:
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ImmunizerError("expected an RGB uint8 array of shape (H, W, 3)")
    if min(pixels.shape[:2]) < 64:
        raise ImageTooSmallToImmunize(f"a photo needs at least 64×64 pixels to be immunized, this one is "
                                      f"{pixels.shape[1]}×{pixels.shape[0]}")
    return np.ascontiguousarray(pixels)


def immunize(pixels: np.ndarray, mode: Mode | str, *, signing_private: bytes,
             progress: Progress | None = None, cancel: threading.Event | None = None) -> np.ndarray:
    """Return the immunized photo (same size, RGB uint8). Save it losslessly (PNG)."""
    pixels = _check_pixels(pixels)
    mode = Mode(mode)
    with cancellable(cancel, "immunizing"):
        if mode is Mode.LOSSLESS:
            from app.core.immunizer import lossless
            return lossless.immunize(pixels, signing_private, progress=progress, cancel=cancel)
        from app.core.immunizer import robust
        return robust.immunize(pixels, signing_private, progress=progress, cancel=cancel)


def verify(pixels: np.ndarray, *, progress: Progress | None = None,
           cancel: threading.Event | None = None) -> Verification:
    """Look for immunization data in either mode; report verdict, mask and recovered photo."""
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ImmunizerError("expected an RGB uint8 array of shape (H, W, 3)")
    h, w = pixels.shape[:2]
    from app.core.immunizer import lossless, robust
    if min(h, w) >= 64:
        with cancellable(cancel, "verifying"):
            found = lossless.verify(pixels, progress=progress, cancel=cancel)
            if found is not None:
                return found
            found = robust.verify(pixels, progress=progress, cancel=cancel)
            if found is not None:
                return found
    return Verification(Verdict.NOT_IMMUNIZED, None, np.zeros((h, w), bool), None, 0.0)
