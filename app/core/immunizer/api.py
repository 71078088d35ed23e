"""The immunizer's public types and entry points; the two modes live in their own modules."""

from __future__ import annotations

import contextlib
import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.core.errors import SanctumError

ProgressFn = Callable[[float], None]
CancelFn = Callable[[], bool]


class ImmunizerError(SanctumError):
    """Base of the immunizer's errors."""


class ImageTooSmallToImmunize(ImmunizerError):
    """The photo has too few pixels to carry its own recovery data."""


class ImmunizeCancelled(ImmunizerError):
    """The user cancelled immunizing or verifying."""


class Mode(enum.StrEnum):
    LOSSLESS = "lossless"  # files kept intact: bit-exact restoration
    ROBUST = "robust"      # social networks: survives JPEG >= 70 and downscaling


class Verdict(enum.StrEnum):
    NOT_IMMUNIZED = "not_immunized"
    AUTHENTIC = "authentic"
    TAMPERED = "tampered"


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    mode: Mode | None
    mask: np.ndarray                 # bool (H, W), True = tampered
    recovered: np.ndarray | None     # uint8 (H, W, 3)
    tampered_fraction: float
    signer: bytes | None = None      # Ed25519 public key (raw 32 bytes) that signed the data
    signature_valid: bool = False
    bit_exact: bool = False          # lossless: every untampered pixel restored bit for bit
    details: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "verdict": self.verdict.value,
            "mode": self.mode.value if self.mode else None,
            "tampered_fraction": round(float(self.tampered_fraction), 6),
            "signature_valid": self.signature_valid,
            "signer": self.signer.hex() if self.signer else None,
            "bit_exact": self.bit_exact,
            "recovered": self.recovered is not None,
            **self.details,
        }


_cancel = threading.local()  # the cancel callback of the immunize / verify running on this thread


@contextlib.contextmanager
def cancellable(cancel: CancelFn | None, doing: str):
    """Make `cancel` reachable from `checkpoint()` in the code this thread runs meanwhile, so
    stages that take seconds (AVIF searches, decodes) stop between their own sub-steps without
    passing a callback through every helper."""
    previous = getattr(_cancel, "current", None)
    _cancel.current = (cancel, doing) if cancel is not None else previous
    try:
        yield
    finally:
        _cancel.current = previous


def checkpoint() -> None:
    """Raise ImmunizeCancelled if the immunize / verify running on this thread was cancelled."""
    current = getattr(_cancel, "current", None)
    if current is not None and current[0]():
        raise ImmunizeCancelled(f"{current[1]} was cancelled")


def stepper(progress: ProgressFn | None, cancel: CancelFn | None, doing: str) -> Callable[[float], None]:
    """One call per stage of long work: raises ImmunizeCancelled when asked to stop, else
    reports how far it got."""
    def step(fraction: float) -> None:
        if cancel and cancel():
            raise ImmunizeCancelled(f"{doing} was cancelled")
        if progress:
            progress(fraction)
    return step


def _check_pixels(pixels: np.ndarray) -> np.ndarray:
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ImmunizerError("expected an RGB uint8 array of shape (H, W, 3)")
    if min(pixels.shape[:2]) < 64:
        raise ImageTooSmallToImmunize(f"a photo needs at least 64×64 pixels to be immunized, this one is "
                                      f"{pixels.shape[1]}×{pixels.shape[0]}")
    return np.ascontiguousarray(pixels)


def immunize(pixels: np.ndarray, mode: Mode | str, *, signing_private: bytes,
             progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> np.ndarray:
    """Return the immunized photo (same size, RGB uint8). Save it losslessly (PNG)."""
    pixels = _check_pixels(pixels)
    mode = Mode(mode)
    with cancellable(cancel, "immunizing"):
        if mode is Mode.LOSSLESS:
            from app.core.immunizer import lossless
            return lossless.immunize(pixels, signing_private, progress=progress, cancel=cancel)
        from app.core.immunizer import robust
        return robust.immunize(pixels, signing_private, progress=progress, cancel=cancel)


def verify(pixels: np.ndarray, *, progress: ProgressFn | None = None,
           cancel: CancelFn | None = None) -> Verification:
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
