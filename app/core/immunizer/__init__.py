"""Image immunizer: vaccinate a photo before sharing, later tell whether a copy was tampered
with, where, and what was there before.

Public API (Qt-free; all arrays are RGB uint8 of shape (H, W, 3)):

    immunized = immunize(pixels, Mode.LOSSLESS, signing_private=key32, progress=progress, cancel=event)
    result = verify(suspect_pixels, progress=progress, cancel=event)  # progress(done, total), a threading.Event
    result.verdict            # Verdict.NOT_IMMUNIZED | AUTHENTIC | TAMPERED
    result.mode               # Mode.LOSSLESS | Mode.ROBUST | None
    result.mask               # bool (H, W), True where tampered; same size as the input
    result.recovered          # uint8 (H, W, 3) or None; same size as the input
    result.tampered_fraction  # float in [0, 1]
    result.signer             # 32-byte Ed25519 public key found in the image, or None
    result.to_json()          # {"verdict", "mode", "tampered_fraction", ...}
"""

from app.core.immunizer.api import (  # noqa: F401
    Mode,
    Verdict,
    Verification,
    immunize,
    verify,
)
