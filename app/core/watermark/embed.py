"""Embedding the robust mark.

* The mark is a keyed periodic tile (`layout.py`) laid over the working image (`working.py`),
  multiplied by a perceptual mask, enlarged back to the photo's size and added equally to
  R, G and B (so only luminance changes).
* Informed embedding. The photo itself projects onto the chips (the decoder reads photo
  + mark), and the embedder can compute that projection with the decoder's own folding.
  Where it pushes a chip against its sign, part of it is cancelled (`_cancel_host`);
  where it agrees it is left alone, so the spectral peaks stay visible.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from app.core.watermark import codec
from app.core.watermark.errors import (
    ImageTooSmallForWatermark,
    InvalidWatermarkImage,
    InvalidWatermarkPayload,
)
from app.core.watermark.fold import fold
from app.core.watermark.lattice import Lattice
from app.core.watermark.layout import PAYLOAD_BITS, TILE_SIZE, TileLayout, downsample_to_chips, upsample_chips
from app.core.watermark.working import WORK_AREA, luminance_u8, resize_to_area, validate_rgb

# Smallest working side that still holds two tiles in each direction.
MIN_WORK_SIDE = 2 * TILE_SIZE

# Informed embedding: fraction of the photo's own projection on the chips cancelled, and
# the largest share of the energy budget the cancellation may take.
HOST_CANCELLATION = 0.6
MAX_CANCEL_SHARE = 0.6
# Tile period in working pixels (2 px chips), whatever the photo's size: longer periods
# (80-128, chips of 2.5-4 px) lose more to the photo's stronger low frequencies than they
# gain after downscaling (measured on the benchmark photos).
EMBED_PERIOD = 64

# RMS luminance change in 8-bit grey levels: as much as the PSNR bar allows, with a margin
# for clipping and 8-bit rounding (docs/benchmarks.md).
STRENGTH = 2.4


def perceptual_mask(luma: np.ndarray) -> np.ndarray:
    """Relative mark amplitude per working pixel: more in texture, little on flat areas.

    Local contrast hides noise (contrast masking), but a plain local-std map also spills
    onto the flat side of every edge, where a halo of pattern would show. Eroding the map
    (a local minimum) keeps flat areas next to edges quiet.
    """
    mean = cv2.GaussianBlur(luma, (0, 0), 1.5)
    variance = cv2.GaussianBlur(luma * luma, (0, 0), 1.5) - mean * mean
    activity = np.sqrt(np.maximum(variance, 0.0))
    activity = cv2.erode(activity, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    reference = float(np.median(activity)) + 1.0
    mask = ((activity + 0.5) / reference) ** 0.8
    return np.clip(mask, 0.15, 3.0).astype(np.float32)


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(values, dtype=np.float64))))


def _decoder_chips(work_luma: np.ndarray, period: int) -> np.ndarray:
    """The chip values the decoder would read from an unattacked image whose tiles start
    at pixel (0, 0) with this period (same resampling, whitening and folding)."""
    lattice = Lattice(np.eye(2) * float(period), 0.0)
    return downsample_to_chips(fold(work_luma, lattice))


def _cancel_host(work_luma, period, chips, amplitude, render, target_rms):
    """Informed embedding: the photo itself projects onto the chips (the decoder reads
    host + mark), and the embedder knows that projection. Subtract a part of it, then
    rescale so the total change keeps its RMS budget."""
    host = _decoder_chips(work_luma, period)
    response = _decoder_chips(work_luma + render(chips * amplitude), period) - host
    gain = float(np.mean(response * chips)) / amplitude  # decoder units per chip unit
    if gain <= 0:
        return chips * amplitude
    # Only where the photo pushes a chip against its sign: where it already agrees, it
    # helps the decoder and keeps the spectral peaks that give away the tile period.
    opposing = host * chips < 0
    correction = -HOST_CANCELLATION * np.where(opposing, host, 0.0) / gain
    unit, extra = render(chips), render(correction)
    # Solve rms(a * unit + extra) = target for the mark amplitude a.
    uu = float(np.mean(np.square(unit, dtype=np.float64)))
    ue = float(np.mean(unit.astype(np.float64) * extra))
    ee = float(np.mean(np.square(extra, dtype=np.float64)))
    budget = target_rms**2
    if ee > MAX_CANCEL_SHARE * budget:
        shrink = math.sqrt(MAX_CANCEL_SHARE * budget / ee)
        correction, extra, ue, ee = correction * shrink, extra * shrink, ue * shrink, ee * shrink**2
    disc = ue * ue - uu * (ee - budget)
    a = (-ue + math.sqrt(max(disc, 0.0))) / uu
    return chips * a + correction


def embed_watermark(rgb: np.ndarray, payload: int, key: bytes) -> np.ndarray:
    """Return a copy of `rgb` carrying `payload` (0 <= payload < 2**PAYLOAD_BITS), changing
    luminance by `STRENGTH` grey levels RMS."""
    rgb = validate_rgb(rgb)
    if rgb.ndim != 3:
        raise InvalidWatermarkImage()
    if not isinstance(payload, int) or not 0 <= payload < (1 << PAYLOAD_BITS):
        raise InvalidWatermarkPayload()
    layout = TileLayout.from_key(key)
    height, width = rgb.shape[:2]

    work_luma = resize_to_area(luminance_u8(rgb), WORK_AREA)
    work_h, work_w = work_luma.shape
    if min(work_h, work_w) < MIN_WORK_SIDE:
        raise ImageTooSmallForWatermark()

    message = codec.add_crc(codec.int_to_bits(payload, PAYLOAD_BITS))
    period = EMBED_PERIOD
    chips = layout.chips_for(codec.conv_encode(message))
    mask = perceptual_mask(work_luma)
    reps = (-(-work_h // period), -(-work_w // period))

    def render(chip_values: np.ndarray) -> np.ndarray:
        tile = upsample_chips(chip_values, period).astype(np.float32)
        return np.tile(tile, reps)[:work_h, :work_w] * mask

    target_rms = STRENGTH
    unit = render(chips)
    amplitude = target_rms / max(_rms(unit), 1e-6)
    chip_values = _cancel_host(work_luma, period, chips, amplitude, render, target_rms)
    delta = render(chip_values)
    if (work_h, work_w) != (height, width):
        delta = cv2.resize(delta, (width, height), interpolation=cv2.INTER_LINEAR)
    delta *= target_rms / max(_rms(delta), 1e-6)
    marked = rgb.astype(np.float32) + delta[:, :, None]
    return np.clip(np.rint(marked), 0, 255).astype(np.uint8)
