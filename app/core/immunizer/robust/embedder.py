"""Immunizing in the robust mode: the signed stream embedded under the weakest code that the
photo's own platform copies (JPEG 75, a 0.75× downscale) still read back."""

from __future__ import annotations

import threading

import numpy as np
from scipy import ndimage

from app.core.immunizer import container
from app.core.immunizer.errors import ImageTooSmallToImmunize
from app.core.immunizer.robust.channel import BLOCK, embed_bits, platform_copies, recompressed
from app.core.immunizer.robust.layout import CODES, make_layout, pack_excused, pilot_keys
from app.core.immunizer.robust.reader import decode_stream, read_copy
from app.core.immunizer.robust.verifier import tampered_map
from app.core.immunizer.types import checkpoint, stepper
from app.core.progress import Progress

MAX_EXCUSED_SHARE = 0.05             # of the blocks; more and the photo is checked as it is
EXCUSE_ROUNDS = 2
_TOO_SMALL = "this photo is too small to carry its recovery data in the robust mode (it needs about 400 × 300 pixels)"


def immunize(pixels: np.ndarray, signing_private: bytes, *, progress: Progress | None = None,
             cancel: threading.Event | None = None) -> np.ndarray:
    """Embed, then test the result the way a platform would treat it (JPEG 75 and a 0.75×
    downscale, both read back in full) and adjust:

    * The stream goes under the weakest code of CODES that survives: the weaker the code, the
      more room for the reference, the better the recovery. A code must survive both platform
      copies untouched, and a JPEG 75 copy with a quarter of the photo replaced (an edit that
      large must still be recovered). Very busy photos (fur, foliage), whose bits JPEG 75
      scrambles most, end with rate 1/4.
    * Where an untouched copy still reads as edited (sharp white-on-black text such as camera
      captions, whose ringing clips at 0 and 255), the blocks are listed in the signed stream
      and verify does not judge them: at most MAX_EXCUSED_SHARE of the photo, and nobody but
      the signer can extend the list."""
    step = stepper(progress, cancel, "immunizing")
    step(0.0)
    h, w = pixels.shape[:2]
    digest = container.pixel_digest(pixels)

    reference_scale = 1.0

    def embed(code: str, excused: np.ndarray | None, polish: bool = False) -> np.ndarray:
        nonlocal reference_scale
        immunized, reference_scale = _immunize_with_code(pixels, signing_private, digest, code, excused, polish)
        return immunized

    out = code = flagged = None
    for tried, candidate_code in enumerate(CODES):
        try:
            candidate = embed(candidate_code, None)
        except ImageTooSmallToImmunize:
            if out is None:
                raise
            return out  # no room for a stronger code: the best this photo allows
        out, code = candidate, candidate_code
        step(0.5 * (tried + 1) / len(CODES))
        flagged = flagged_after_processing(out, code)
        if flagged is not None and _survives_tampering(out, code):
            break
    step(0.6)
    excused = np.zeros((h // BLOCK, w // BLOCK), dtype=bool)
    for _ in range(EXCUSE_ROUNDS):
        if flagged is None or not flagged.any():
            break
        # One block of margin: re-embedding moves the failing blocks a little.
        wider = excused | ndimage.binary_dilation(flagged)
        if wider.mean() > MAX_EXCUSED_SHARE:
            break
        try:
            candidate = embed(code, wider)
        except ImageTooSmallToImmunize:
            break  # the list took the last bytes the reference needed
        candidate_flagged = flagged_after_processing(candidate, code)
        if candidate_flagged is None:
            break
        excused, out, flagged = wider, candidate, candidate_flagged
        step(0.8)
    # Everything settled, the reference is encoded once more at a slower, closer setting. Same
    # code, same length: it survives as the last one did, which is checked all the same.
    if flagged is None or not container.can_polish(w, h, reference_scale):
        return out  # not even the strongest code reads back, or a large reference: as it is
    try:
        polished = embed(code, excused if excused.any() else None, polish=True)
    except ImageTooSmallToImmunize:
        return out
    step(0.9)
    polished_flagged = flagged_after_processing(polished, code)
    if (polished_flagged is not None and not (polished_flagged & ~excused & ~flagged).any()
            and _survives_tampering(polished, code)):
        out = polished
    step(1.0)
    return out


def _immunize_with_code(pixels: np.ndarray, signing_private: bytes, digest: bytes, code: str,
                        excused: np.ndarray | None, polish: bool = False) -> tuple[np.ndarray, float]:
    """The photo immunized with the stream under `code`, and the scale of its reference."""
    h, w = pixels.shape[:2]
    layout = make_layout(w, h, code).with_keys(pilot_keys(digest, code))
    fixed = container.Stream("robust", w, h, b"qim14/15", digest, pack_excused(excused), 1.0, b"")
    budget = layout.payload_bytes - len(fixed.sign(signing_private))
    if budget < 150:
        raise ImageTooSmallToImmunize(_TOO_SMALL)
    try:
        reference, scale = container.encode_reference(pixels, budget, polish=polish)
    except ValueError:
        raise ImageTooSmallToImmunize(_TOO_SMALL) from None
    stream = container.Stream("robust", w, h, fixed.params, digest, fixed.exceptions, scale, reference)
    checkpoint()
    message = layout.protect(stream.sign(signing_private))
    return embed_bits(pixels, layout.all_bits(message), layout.dither, layout.bh, layout.bw), scale



def _survives_tampering(immunized: np.ndarray, code: str) -> bool:
    """Whether the stream can still be read from a JPEG 75 copy whose middle quarter was
    replaced (by the photo turned upside down: real content whose bits are wrong for here)."""
    checkpoint()
    h, w = immunized.shape[:2]
    edited = immunized.copy()
    rows, cols = slice(h // 4, h // 4 + h // 2), slice(w // 4, w // 4 + w // 2)
    edited[rows, cols] = immunized[::-1, ::-1][rows, cols]
    work, layout, soft, unreliable, _ = read_copy(recompressed(edited), (w, h), code)
    return decode_stream(work, layout, soft, unreliable) is not None


def flagged_after_processing(immunized: np.ndarray, code: str) -> np.ndarray | None:
    """Blocks that untouched platform copies of `immunized` would report as edited, or None
    if the signed stream can't be read back from one of them."""
    h, w = immunized.shape[:2]
    flagged = np.zeros((h // BLOCK, w // BLOCK), dtype=bool)
    reference = None  # both copies carry the same signed stream: decode its reference once
    for copy in platform_copies(immunized):
        checkpoint()
        work, layout, soft, unreliable, _ = read_copy(copy, (w, h), code)
        decoded = decode_stream(work, layout, soft, unreliable)
        if decoded is None:
            return None
        stream, message = decoded
        if reference is None:
            reference = container.decode_reference(stream.reference, w, h)
        layout = layout.with_keys(pilot_keys(stream.digest, layout.code))
        flagged |= tampered_map(layout, soft, unreliable, stream, message, reference)
    return flagged
