"""Reading a copy: the size it was immunized at, its soft bits, and the signed stream decoded
from them (belief propagation or soft Viterbi), leaving out the blocks an edit reached."""

from __future__ import annotations

import numpy as np
from PIL import Image
from reedsolo import ReedSolomonError
from scipy import ndimage

from app.core.immunizer import container
from app.core.immunizer.robust.channel import (
    BLOCK,
    block_dct,
    block_pixels,
    coefficients,
    luminance,
    resize_proof,
    soft_bits,
    unreliable_blocks,
)
from app.core.immunizer.robust.layout import (
    CODES,
    FIRST_CODE,
    NONCE_BITS,
    PILOTS_PER_BLOCK,
    Layout,
    make_layout,
    named_code,
)
from app.core.immunizer.types import checkpoint

SCALES = (1.0, 0.75, 0.5, 0.8, 0.9, 2 / 3, 0.6, 0.7, 0.85, 0.95)
PILOT_AGREEMENT = 0.72               # random bits agree half the time
FOUND_AGREEMENT = 0.8                # stop looking for the scale (photos never immunized: ≤ 0.53)
WINDOW_AGREEMENT = 0.6               # in the scale search's window: 10 standard deviations off chance
SEARCH_BLOCKS = 48
# Where the scale search looks, as fractions of the photo: the centre first, then the middles
# of its quarters, for an edit over the centre leaves the centre window no pilots to agree.
SEARCH_WINDOWS = ((0.5, 0.5), (0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75))
# Decoding again without the blocks a failed message blames (see `decode_stream`). Measured on
# kodim04 with a same-size immunized photo spliced in at the same place, then JPEG 75: 2 rounds
# at a neighbourhood mean of 3 wrong bits read splices up to 16 % of the photo, 5 rounds at 2.5
# up to 25 %.
REDECODE_ROUNDS = 5
CODE_ID_TRUSTED = 0.25               # mean agreement of a code bit's votes (-1..1) to go by it alone
LLR_BINS = 16                        # strengths of soft bit the pilots calibrate (`_log_likelihoods`)
SUSPECT_NEIGHBOURHOOD_ERRORS = 2.5   # mean wrong bits of 12 around a block: edited ~6, untouched ~1
MAX_SUSPECT_SHARE = 0.5


def _texture_reliability(luma: np.ndarray, bh: int, bw: int, pilot_errors: np.ndarray,
                         pilots_checked: np.ndarray) -> np.ndarray:
    """Per block, a weight from 0 to 1: the log-likelihood of a correct bit in blocks of its
    texture decile, measured on the pilots (relative to the most reliable decile)."""
    dct = block_dct(luma, bh, bw)
    u, v = np.meshgrid(range(BLOCK), range(BLOCK), indexing="ij")
    texture = np.sqrt((dct[:, (u + v) >= 5] ** 2).mean(axis=1))
    decile = np.digitize(texture, np.quantile(texture, np.linspace(0, 1, 11)[1:-1]))
    errors = np.bincount(decile, weights=pilot_errors, minlength=10)
    checked = np.bincount(decile, weights=pilots_checked, minlength=10)
    rate = np.clip((errors + 1) / (checked + 2), 0.01, 0.49)
    weight = np.log((1 - rate) / rate)
    return (weight / weight.max())[decile]



def _original_lengths(length: int, scale: float) -> list[int]:
    """Lengths that a resize by `scale` (rounding or truncating) turns into `length`, nearest
    first: 682 px at 0.75× gives 512, and 512 / 0.75 rounds to 683, a grid that reads nothing."""
    if scale == 1.0:
        return [length]
    middle = length / scale
    near = range(max(1, int(middle) - 2), int(middle) + 3)
    fits = [n for n in near if round(n * scale) == length or int(n * scale) == length]
    return sorted(fits, key=lambda n: abs(n - middle)) or [round(middle)]


def _candidate_sizes(w: int, h: int):
    seen = set()
    for scale in SCALES:
        for size in ((cw, ch) for cw in _original_lengths(w, scale) for ch in _original_lengths(h, scale)):
            if size not in seen and min(size) >= 64:
                seen.add(size)
                yield size


def _read_blocks(luma: np.ndarray, rescaled: bool, dither: np.ndarray, values: np.ndarray,
                 pilot_mask: np.ndarray, bh: int, bw: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Soft bits, pinned blocks and pilot agreement of `bh` × `bw` blocks of luminance.

    Read at the size it was immunized at, a copy is seen as the embedder saw it; one scaled back
    up from a downscale (`rescaled`) has lost that detail already, and filtering it again would
    only blur it more."""
    view = luma if rescaled else resize_proof(luma)
    soft = soft_bits(coefficients(block_dct(view, bh, bw)), dither)
    unreliable = unreliable_blocks(block_pixels(luma, bh, bw))
    agree = ((soft > 0) == (values == 1))[pilot_mask & ~unreliable[:, None]]
    return soft, unreliable, float(agree.mean()) if agree.size else 0.0


def read_copy(rgb: np.ndarray, size: tuple[int, int], code: str = FIRST_CODE):
    w0, h0 = size
    rescaled = (w0, h0) != (rgb.shape[1], rgb.shape[0])
    work = np.asarray(Image.fromarray(rgb).resize((w0, h0), Image.LANCZOS)) if rescaled else rgb
    layout = make_layout(w0, h0, code)
    bh, bw, dither, (values, _) = layout[:4]
    soft, unreliable, agreement = _read_blocks(luminance(work), rescaled, dither, values, layout.fixed_pilots, bh, bw)
    layout = layout.with_keys(layout.read_keys(soft, unreliable)[0])
    return work, layout, soft, unreliable, agreement


def _window_agreement(rgb: np.ndarray, size: tuple[int, int], layout: Layout, centre: tuple[float, float]) -> float:
    """Pilot agreement in a window of up to SEARCH_BLOCKS² blocks around `centre` (fractions of
    width and height), were the photo immunized at `size`: enough bits to tell (random ones
    agree 50 ± 1 %), and the scale search need not resize the whole photo for each of its ~30
    candidate sizes."""
    w0, h0 = size
    h, w = rgb.shape[:2]
    bh, bw = h0 // BLOCK, w0 // BLOCK
    sh, sw = min(bh, SEARCH_BLOCKS), min(bw, SEARCH_BLOCKS)
    by = min(max(0, round(bh * centre[1] - sh / 2)), bh - sh)
    bx = min(max(0, round(bw * centre[0] - sw / 2)), bw - sw)
    x0, y0, x1, y1 = bx * BLOCK, by * BLOCK, (bx + sw) * BLOCK, (by + sh) * BLOCK
    rescaled = (w0, h0) != (w, h)
    if rescaled:
        box = (x0 * w / w0, y0 * h / h0, x1 * w / w0, y1 * h / h0)
        window = np.asarray(Image.fromarray(rgb).resize((x1 - x0, y1 - y0), Image.LANCZOS, box=box))
    else:
        window = rgb[y0:y1, x0:x1]
    dither, values, fixed = layout.dither, layout.pilots[0], layout.fixed_pilots
    rows = ((by + np.arange(sh))[:, None] * bw + bx + np.arange(sw)[None, :]).ravel()
    return _read_blocks(luminance(window), rescaled, dither[rows], values[rows], fixed[rows], sh, sw)[2]


def _log_likelihoods(soft: np.ndarray, pilots: tuple[np.ndarray, np.ndarray], counted: np.ndarray) -> np.ndarray:
    """[block, frequency]: how sure each soft bit is (log-likelihood ratio, positive for a 1),
    learnt from the pilots of the `counted` blocks: the share of them read wrong at each
    strength of soft bit. Belief propagation needs this calibration: a soft bit read at 0.9
    after JPEG 75 was wrong about once in 10,000, one at 0.1 a third of the time, which a
    straight scale of the soft bit makes far too sure of the weak ones and too unsure of the
    strong."""
    values, pilot_mask = pilots
    checked = pilot_mask & (counted > 0)[:, None]
    strength = np.minimum((np.abs(soft) * LLR_BINS).astype(int), LLR_BINS - 1)
    right = (soft > 0) == (values == 1)
    wrong_share = ((np.bincount(strength[checked], weights=~right[checked], minlength=LLR_BINS) + 0.5)
                   / (np.bincount(strength[checked], minlength=LLR_BINS) + 1))
    # Stronger soft bits are never less reliable: smooths the bins that saw few pilots.
    wrong_share = np.minimum(np.maximum.accumulate(wrong_share[::-1])[::-1], 0.5)
    return np.sign(soft) * np.log((1 - wrong_share) / wrong_share)[strength]


def decode_stream(work: np.ndarray, layout: Layout, soft: np.ndarray, unreliable: np.ndarray):
    """(stream, message bits) read from the blocks' soft bits, or None if it can't be read."""
    bh, bw = layout.bh, layout.bw
    n = bh * bw
    values, pilot_mask = layout.pilots
    wrong = ((soft > 0) != (values == 1)) & pilot_mask & ~unreliable[:, None]
    pilot_errors = wrong.sum(axis=1)
    # First try every block alike (near-white or near-black blocks often still carry their
    # bits: the embedding re-tries after clipping); then weigh each block by how often pilots
    # of its texture decile failed (re-compression scrambles busy blocks first); then also erase
    # pinned blocks and blocks whose neighbourhood misses pilots.
    texture_weight = _texture_reliability(luminance(work), bh, bw, pilot_errors,
                                          (pilot_mask & ~unreliable[:, None]).sum(axis=1))
    # (edited blocks miss half their pilots, untouched ones after JPEG 75 a few in a hundred)
    missing_pilots = ndimage.uniform_filter(pilot_errors.reshape(bh, bw).astype(float), 3).ravel() > 0.2 * PILOTS_PER_BLOCK

    def attempt(weights: np.ndarray):
        checkpoint()  # each decode takes a second or more on a large photo
        llr = _log_likelihoods(soft, layout.pilots, weights * ~unreliable) * weights[:, None]
        combined = np.bincount(layout.position_to_bit, weights=llr[~pilot_mask], minlength=layout.coded)
        message, coded = layout.decode(combined)
        try:
            return (container.Stream.parse(layout.unprotect(message)), message), (message, coded)
        except (ReedSolomonError, container.StreamError):
            return None, (message, coded)

    for weights in (np.ones(n), texture_weight,
                    np.where(missing_pilots | unreliable, 0.0, texture_weight)):
        decoded, guess = attempt(weights)
        if decoded is not None:
            return decoded
    # Still unreadable. The decoder's guess is mostly right all the same (Viterbi leaves its
    # errors in short bursts, belief propagation most bits it is sure of), so its bits show
    # which blocks an edit reached far better than one pilot a block can: leave those out and
    # decode again.
    # Each round's message is better, and blames the edit more precisely. A message that blames
    # most of the photo is no help (a stream under another code reads as noise everywhere).
    blamed = None
    for _ in range(REDECODE_ROUNDS):
        errors = layout.wrong_bits(soft, *guess).sum(axis=1).reshape(bh, bw).astype(float)
        suspect = ndimage.uniform_filter(errors, 3).ravel() >= SUSPECT_NEIGHBOURHOOD_ERRORS
        if suspect.mean() > MAX_SUSPECT_SHARE or (blamed is not None and np.array_equal(suspect, blamed)):
            return None
        blamed = suspect
        decoded, guess = attempt(np.where(suspect | unreliable, 0.0, texture_weight))
        if decoded is not None:
            return decoded
    return None


def find_scale(pixels: np.ndarray, step) -> tuple[tuple[int, int] | None, float]:
    """The size the photo was most likely immunized at, and its window's pilot agreement."""
    h, w = pixels.shape[:2]
    best_size, best_agreement = None, 0.0
    for size in _candidate_sizes(w, h):
        layout = make_layout(*size)
        for centre in SEARCH_WINDOWS:
            agreement = _window_agreement(pixels, size, layout, centre)
            if agreement > best_agreement:
                best_size, best_agreement = size, agreement
            if agreement >= FOUND_AGREEMENT:
                return best_size, best_agreement
        step(0.05)
    return best_size, best_agreement


def decode_under_any_code(work: np.ndarray, soft: np.ndarray, unreliable: np.ndarray,
                           built: Layout | None = None):
    """(layout, decoded stream or None). Two keyed pilot bits name the code the stream is under
    (see `immunize`); where they read unclearly, the other codes are tried after it (same
    blocks, same pilots: only the right one passes the signature). `built`: a layout already at
    hand for one of them (a large photo's takes a noticeable time to build)."""
    h0, w0 = work.shape[:2]
    keys, clarity = (built if built is not None else make_layout(w0, h0)).read_keys(soft, unreliable)
    named = named_code(keys)
    codes = list(CODES)
    if named is not None:
        codes.remove(named)
        codes = [named] if clarity[NONCE_BITS:].min() >= CODE_ID_TRUSTED else [named, *codes]
    for code in codes:
        layout = built if built is not None and built.code == code else make_layout(w0, h0, code).with_keys(keys)
        decoded = decode_stream(work, layout, soft, unreliable)
        if decoded is not None:
            return layout, decoded
    return layout, None
