"""The types both modes share with the public API (`api`), kept apart so that neither mode
imports the module that dispatches to it."""

from __future__ import annotations

import contextlib
import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.core.immunizer.errors import ImmunizeCancelled
from app.core.progress import Progress

# Progress is reported in thousandths of the work: its stages (dry runs, reference searches,
# decodes) take very uneven time, so they are weighed rather than counted.
PROGRESS_TOTAL = 1000


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


def stepper(progress: Progress | None, cancel: threading.Event | None, doing: str) -> Callable[[float], None]:
    """One call per stage of long work, with the share of the work done by then (0 to 1):
    raises ImmunizeCancelled when asked to stop, else reports `progress(done, PROGRESS_TOTAL)`."""

    def step(fraction: float) -> None:
        if cancel is not None and cancel.is_set():
            raise ImmunizeCancelled(f"{doing} was cancelled")
        if progress:
            progress(round(fraction * PROGRESS_TOTAL), PROGRESS_TOTAL)
    return step


_cancel = threading.local()  # the cancel event of the immunize / verify running on this thread


@contextlib.contextmanager
def cancellable(cancel: threading.Event | None, doing: str):
    """Make `cancel` reachable from `checkpoint()` in the code this thread runs meanwhile, so
    stages that take seconds (AVIF searches, decodes) stop between their own sub-steps without
    passing the event through every helper."""
    previous = getattr(_cancel, "current", None)
    _cancel.current = (cancel, doing) if cancel is not None else previous
    try:
        yield
    finally:
        _cancel.current = previous


def checkpoint() -> None:
    """Raise ImmunizeCancelled if the immunize / verify running on this thread was cancelled."""
    current = getattr(_cancel, "current", None)
    if current is not None and current[0].is_set():
        raise ImmunizeCancelled(f"{current[1]} was cancelled")
