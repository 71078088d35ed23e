"""The types both modes share with the public API (`api`), kept apart so that neither mode
imports the module that dispatches to it."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.core.immunizer.errors import ImmunizeCancelled

ProgressFn = Callable[[float], None]
CancelFn = Callable[[], bool]


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


def stepper(progress: ProgressFn | None, cancel: CancelFn | None, doing: str) -> Callable[[float], None]:
    """One call per stage of long work: raises ImmunizeCancelled when asked to stop, else
    reports how far it got."""
    def step(fraction: float) -> None:
        if cancel and cancel():
            raise ImmunizeCancelled(f"{doing} was cancelled")
        if progress:
            progress(fraction)
    return step
