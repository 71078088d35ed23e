"""Verifying in the robust mode: read the copy, check the signed stream, compare every expected
bit with what each block holds, and rebuild the blocks an edit reached from the reference."""

from __future__ import annotations

import threading

import numpy as np
from PIL import Image
from scipy import ndimage

from app.core.immunizer import container, lifting
from app.core.immunizer.robust.channel import block_pixels, luminance
from app.core.immunizer.robust.layout import (
    DATA_PER_BLOCK,
    PILOT_SPACING,
    PILOTS_PER_BLOCK,
    Layout,
    pilot_keys,
    unpack_excused,
)
from app.core.immunizer.robust.reader import (
    PILOT_AGREEMENT,
    WINDOW_AGREEMENT,
    decode_under_any_code,
    find_scale,
    read_copy,
)
from app.core.immunizer.types import Mode, Verdict, Verification, stepper
from app.core.progress import Progress

BLOCK_ERRORS_TAMPERED = 4            # of 13 bits; untouched blocks after JPEG 75 show 0–2
MIN_REGION_BLOCKS = 12
# What a flagged region needs, its blocks taken together, to be kept: 5 of 12 bits wrong on
# average, or 5 in 12 of its data bits wrong. The first was set on 30 evaluation photos with the
# benchmark's attacks after JPEG 75 and a 0.75x resize: 182 edited regions averaged 5.75 to 6.8
# wrong, the clusters JPEG 75 left in untouched areas 3.2 to 4.1. The second is for a region
# pasted from another photo immunized at the same size, at the same place: its pilots are right
# (they depend on the size only), it averages 4.9 of 12, and the copy would verify AUTHENTIC; by
# its data bits it reads as coin flips. Data bits alone would drop one in-painted region of 90,
# whose smooth fill agrees with a few more of them: hence both tests.
REGION_MEAN_ERRORS = 5.0
REGION_DATA_ERROR_RATE = 5 / 12
# The recovered photo takes the reference this many blocks beyond the flagged ones: a block an
# edit only grazes can keep enough bits to pass, and would leave slivers of the edit in the
# recovered photo. One block takes most of the gain; two cost twice the ring for little more
# (docs/benchmarks.md, "Recovery one block beyond the flags").
RECOVERY_MARGIN_BLOCKS = 1


def verify(pixels: np.ndarray, *, progress: Progress | None = None,
           cancel: threading.Event | None = None) -> Verification | None:
    step = stepper(progress, cancel, "verifying")

    h, w = pixels.shape[:2]
    best_size, best_agreement = find_scale(pixels, step)
    if best_size is None or best_agreement < WINDOW_AGREEMENT:
        return None
    work, layout, soft, unreliable, agreement = read_copy(pixels, best_size)
    if agreement < PILOT_AGREEMENT:
        return None
    h0, w0 = work.shape[:2]
    step(0.4)

    layout, decoded = decode_under_any_code(work, soft, unreliable, layout)
    stream, message = decoded if decoded is not None else (None, None)
    bh, bw, _, pilots = layout[:4]
    values, pilot_mask = pilots
    step(0.75)
    if stream is None or (stream.width, stream.height) != (w0, h0) or stream.mode != "robust":
        # The pilots prove the photo was immunized, but the signed data can't be read back:
        # say where the pilots fail (coarser: 1 bit a block) and recover nothing. Pinned blocks
        # count too: without the reference, a pasted black box and a dark sky look alike.
        pilot_errors = (((soft > 0) != (values == 1)) & pilot_mask).sum(axis=1).reshape(bh, bw)
        flagged = _tampered_blocks(pilot_errors * PILOT_SPACING, pilot_errors / PILOTS_PER_BLOCK)
        mask = _to_input_size(lifting.grid_mask(flagged, w0, h0), w, h)
        return Verification(Verdict.TAMPERED, Mode.ROBUST, mask, None, float(mask.mean()),
                            details={"recovery": "too much of the photo was changed to read its recovery data"})

    layout = layout.with_keys(pilot_keys(stream.digest, layout.code))  # the signed keys, should the read ones be off
    reference = container.decode_reference(stream.reference, w, h)
    reference_on_grid = reference if (w, h) == (w0, h0) else container.decode_reference(stream.reference, w0, h0)
    tampered = tampered_map(layout, soft, unreliable, stream, message, reference_on_grid)
    mask = _to_input_size(lifting.grid_mask(tampered, w0, h0), w, h)
    margin = 2 * RECOVERY_MARGIN_BLOCKS + 1
    rebuilt = _to_input_size(lifting.grid_mask(ndimage.binary_dilation(tampered, np.ones((margin, margin))), w0, h0), w, h)
    recovered = np.where(rebuilt[..., None], reference, pixels)
    step(1.0)
    verdict = Verdict.TAMPERED if mask.any() else Verdict.AUTHENTIC
    return Verification(verdict, Mode.ROBUST, mask, recovered, float(mask.mean()), signer=stream.public_key,
                        signature_valid=True, details={"scale": round(w / w0, 4), "tampered_blocks": int(tampered.sum())})


def tampered_map(layout: Layout, soft: np.ndarray, unreliable: np.ndarray, stream: container.Stream,
                  message: np.ndarray, reference_on_grid: np.ndarray) -> np.ndarray:
    """Blocks judged edited: every expected bit compared with what the block holds."""
    bh, bw = layout.bh, layout.bw
    wrong = layout.wrong_bits(soft, message)
    errors = wrong.sum(axis=1)
    data_error_rates = (wrong & ~layout.pilots[1]).sum(axis=1) / DATA_PER_BLOCK
    # A black or white box pasted over the photo is pinned too: excuse a pinned block only where
    # the signed reference says the photo was black or white there. Blocks the signer's own
    # platform test found unreliable are excused too (see `immunize`).
    excused = unreliable & _saturated_in_reference(reference_on_grid, bh, bw) | unpack_excused(stream.exceptions, bh * bw)
    errors[excused] = 0
    data_error_rates[excused] = 0
    return _tampered_blocks(errors.reshape(bh, bw), data_error_rates.reshape(bh, bw))


def _to_input_size(mask: np.ndarray, w: int, h: int) -> np.ndarray:
    if mask.shape == (h, w):
        return mask
    return np.asarray(Image.fromarray(mask).resize((w, h), Image.NEAREST)).astype(bool)


def _tampered_blocks(errors: np.ndarray, data_error_rates: np.ndarray) -> np.ndarray:
    """Blocks with many wrong bits (`errors`, of 13), cleaned: lone flags dropped, holes in
    flagged areas filled, and regions kept that read like coin flips (see REGION_MEAN_ERRORS)."""
    neighbourhood = ndimage.uniform_filter(errors.astype(float), 3, mode="nearest")
    flagged = (errors >= BLOCK_ERRORS_TAMPERED) & (neighbourhood >= 2.0) | (errors >= 7)
    flagged = ndimage.binary_opening(flagged, structure=np.ones((2, 2))) | (flagged & (neighbourhood >= 4.5))
    flagged = ndimage.binary_closing(flagged, structure=np.ones((3, 3)), border_value=0) | flagged
    # Re-compression leaves the odd cluster of a few failing blocks; an edit worth the name
    # covers more. Keep areas of at least MIN_REGION_BLOCKS (12 blocks: 0.05 % of a 12 MP photo)
    # whose blocks, taken together, read like coin flips: edited blocks get about half their
    # bits wrong, while clusters that JPEG 75 scrambled sit just over the per-block threshold.
    labels, count = ndimage.label(flagged)
    if count:
        sizes = np.bincount(labels.ravel())
        def region_mean(values: np.ndarray) -> np.ndarray:
            return np.bincount(labels.ravel(), weights=values.ravel().astype(float)) / np.maximum(sizes, 1)

        like_coin_flips = (region_mean(errors) >= REGION_MEAN_ERRORS) | (region_mean(data_error_rates) >= REGION_DATA_ERROR_RATE)
        keep = (sizes >= MIN_REGION_BLOCKS) & like_coin_flips
        keep[0] = False
        flagged = keep[labels]
    return flagged


def _saturated_in_reference(reference: np.ndarray, bh: int, bw: int) -> np.ndarray:
    """Blocks the signed reference shows near black or white (it is small and blurred, hence the
    margins): only there may a pinned block be excused."""
    means = block_pixels(luminance(reference), bh, bw).mean(axis=1)
    return (means <= 24) | (means >= 232)
