"""Robust invisible watermark carrying a share ID.

Design (classical, no learned model):

* Working resolution. The luminance is brought to about `WORK_AREA` pixels (never
  enlarged). The mark is a keyed periodic tile (`layout.py`) laid over that working image,
  multiplied by a perceptual mask, enlarged back to the photo's size and added equally to
  R, G and B (so only luminance changes). A 12 MP photo and a 0.3 MP copy of it carry the
  same pattern at the same relative scale, which is why downscaling hardly hurts.
* Synchronisation from periodicity. The decoder whitens the luminance and computes its
  autocorrelation: the repeated tile shows up as a square lattice of peaks whose spacing
  and angle give the scale and rotation (the self-reference idea of Kutter, 1998). No
  separate template is needed, so all the mark's energy is payload or sync.
* Folding. The image is resampled so the tile is `TILE_SIZE` pixels again and all tiles
  are summed into one: every tile of the picture votes, and any crop that keeps a few
  tiles keeps the whole payload. The start of the tile (translation) and the mirror /
  quarter-turn state are found by correlating the folded tile with the keyed sync chips.
* Informed embedding. The photo itself projects onto the chips (the decoder reads photo
  + mark), and the embedder can compute that projection with the decoder's own folding.
  Where it pushes a chip against its sign, part of it is cancelled (`_cancel_host`);
  where it agrees it is left alone, so the spectral peaks stay visible.
* Phase-aware period scan. On busy photos and small copies the comb of the mark's power
  sinks into the photo's spectrum although the tile is still there. When the comb
  candidates fail, `_sync_scan` samples the complex spectrum at the harmonics of each
  upright period hypothesis and correlates it with the keyed sync chips (one small
  inverse FFT each), and the best few periods are folded and decoded.
* Channel code. 56-bit payload + CRC-24, rate-1/3 convolutional code, soft Viterbi
  (`codec.py`). A result is returned only if the sync peak is clearly above noise *and*
  the CRC matches, which bounds false accepts (see `false_accept_bound`).
* Matching the vault's own IDs. The key that reads the mark lives in the vault, and so
  does the list of share IDs it ever embedded. When the caller passes that list, a copy
  too damaged for the Viterbi decoder (small, re-compressed copies) is still named: the
  received soft bits are correlated with each known ID's codeword, and the best one is
  accepted if its score clears a threshold set from the list's length (see
  `known_id_threshold`). A few hundred coded bits at 25-30 % errors still stand ~7
  standard deviations above noise, where free decoding of 80 bits has long failed.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Collection, Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import fft as sp_fft
from scipy import ndimage

from app.core.watermark import codec
from app.core.watermark.errors import (
    ImageTooSmallForWatermark,
    InvalidWatermarkImage,
    InvalidWatermarkPayload,
)
from app.core.watermark.layout import (
    CHIP_GRID,
    MESSAGE_BITS,
    N_CODED_BITS,
    PAYLOAD_BITS,
    TILE_SIZE,
    TileLayout,
    downsample_to_chips,
    upsample_chips,
)

log = logging.getLogger(__name__)

# Area of the working image the mark is designed at (about 768 x 512).
WORK_AREA = 768 * 512
# Area the decoder brings any input to before searching: the same as the working area,
# so an unaltered photo decodes with the tile at its native period.
DECODE_AREA = 768 * 512
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

# Default luminance change: RMS 2.4 grey levels, i.e. PSNR ~40.5 dB before rounding,
# leaving a margin over the 40 dB bar after clipping and 8-bit rounding.
DEFAULT_STRENGTH = 2.4

# Lattice search ranges, in decoder pixels / degrees. The period is 64 at the working
# scale; 0.35x .. 2.8x covers downscales to 25 % (for photos above the working size),
# and crops down to ~1/8 of the area.
MIN_PERIOD = 22.0
MAX_PERIOD = 200.0
MAX_ROTATION_DEG = 7.0
# Whitening before folding (in tile pixels, TILE_SIZE per period): a high-pass that
# removes most of the photo, then division by the local residual power, so every area
# votes with a weight that matches how much the photo masks the mark there.
FOLD_HIGHPASS_SIGMA = 2.0
FOLD_POWER_SIGMA = 4.0
FOLD_POWER_FLOOR = 0.25
FOLD_CLIP = 3.0
# How many lattice candidates are tried (each with the best of 8 dihedral variants).
N_LATTICE_CANDIDATES = 4
# How many more come from the phase-aware sync scan (upright lattices only).
N_SCAN_CANDIDATES = 3
# Sync gate: the folded tile's correlation with the sync chips must stand this many
# standard deviations above the other shifts. Noise alone passes it in roughly 1 of
# 1000 tries (measured in bench/watermark_eval.py); a real mark that can be decoded
# sits far above it (typically 8-30).
SYNC_Z_GATE = 5.0
# Matching known IDs: the target probability that an unmarked image is matched to any of
# the known IDs (the bar is 1e-6; a tenth of it leaves room for the bound's
# assumptions).
KNOWN_ID_FALSE_ACCEPT = 1e-7

@dataclass(frozen=True)
class WatermarkResult:
    payload: int
    # Normalised correlation between the received soft bits and the decoded codeword
    # (1.0 = every coded bit received cleanly; lower = a weaker, noisier mark).
    confidence: float
    sync_z: float  # height of the sync peak in standard deviations
    raw_bit_error_rate: float  # coded bits whose hard decision disagreed with the codeword
    period_px: float  # tile period found in the decoder's working image
    rotation_deg: float
    mirrored: bool
    quarter_turns: int
    # False: decoded from the mark alone (Viterbi + CRC). True: the mark was too damaged
    # to decode, and the payload is the known ID whose codeword it matched best.
    matched_known_id: bool = False


@dataclass(frozen=True)
class WatermarkInspection:
    """Best-effort decoding, kept for benchmarks and diagnostics: `payload_bits` is the
    Viterbi output of the strongest sync candidate even when its CRC failed."""

    result: WatermarkResult | None
    payload_bits: np.ndarray | None
    soft_coded_bits: np.ndarray | None
    sync_z: float
    candidates_tried: int


def known_id_threshold(n_known: int, attempts: int = N_LATTICE_CANDIDATES + N_SCAN_CANDIDATES) -> float:
    """Score a known ID must reach to be accepted, for `n_known` IDs in the list and a reader
    that makes up to `attempts` readings of the image (the blind reader: one per lattice).

    The score is soft · codeword / ‖soft‖. Without a mark (or at a wrong alignment), the
    signs of the soft bits are fair coins whatever their sizes, so for one codeword the
    score is a Rademacher sum with P(score ≥ t) ≤ exp(-t²/2) (Hoeffding). A union over
    every ID and every attempt gives the threshold for KNOWN_ID_FALSE_ACCEPT.
    """
    tests = max(n_known, 1) * max(attempts, 1)
    return math.sqrt(2.0 * math.log(tests / KNOWN_ID_FALSE_ACCEPT))


class KnownIds:
    """Codewords (±1) of the caller's known share IDs, for matching damaged marks."""

    def __init__(self, payloads: Collection[int]):
        self.payloads = np.array(sorted({int(p) for p in payloads if 0 <= int(p) < 1 << PAYLOAD_BITS}),
                                 dtype=np.uint64)
        messages = codec.add_crc_rows(codec.ints_to_bits(self.payloads, PAYLOAD_BITS))
        self.codewords = 2.0 * codec.conv_encode_rows(messages).astype(np.float32) - 1.0
        self.threshold = known_id_threshold(len(self.payloads))

    def best_match(self, soft: np.ndarray, threshold: float | None = None) -> tuple[int, float, np.ndarray] | None:
        """(payload, score, codeword) of the best-matching known ID, if it clears the
        threshold (by default the blind reader's, see `known_id_threshold`)."""
        norm = float(np.linalg.norm(soft))
        if len(self.payloads) == 0 or norm == 0:
            return None
        scores = self.codewords @ soft.astype(np.float32) / norm
        best = int(np.argmax(scores))
        if scores[best] < (self.threshold if threshold is None else threshold):
            return None
        return int(self.payloads[best]), float(scores[best]), self.codewords[best]


@functools.lru_cache(maxsize=4)
def _known_ids(payloads: tuple[int, ...]) -> KnownIds:
    """A leak scan reads every found image against the same share list: encode it once."""
    return KnownIds(payloads)


# --------------------------------------------------------------------------------------
# Embedding


def _validate_rgb(rgb: np.ndarray) -> np.ndarray:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8:
        raise InvalidWatermarkImage()
    if rgb.ndim == 2:
        return rgb
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InvalidWatermarkImage()
    return rgb


def luminance_u8(rgb: np.ndarray) -> np.ndarray:
    """The picture as 8-bit luma (what the mark lives in; `informed.register` takes two of these)."""
    if rgb.ndim == 2:
        return rgb
    # BT.601 luma, the Y that JPEG keeps at full resolution.
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def _resize_to_area(image: np.ndarray, target_area: int) -> np.ndarray:
    height, width = image.shape[:2]
    scale = math.sqrt(target_area / (height * width))
    if scale >= 1.0:
        return image.astype(np.float32)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32)


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
    lattice = _Lattice(np.eye(2) * float(period), 0.0)
    return downsample_to_chips(_fold(work_luma, lattice))


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


def embed_watermark(rgb: np.ndarray, payload: int, key: bytes,
                    strength: float | None = None) -> np.ndarray:
    """Return a copy of `rgb` carrying `payload` (0 <= payload < 2**PAYLOAD_BITS).

    `strength` is the RMS luminance change in 8-bit grey levels (default
    `DEFAULT_STRENGTH`, about 41 dB PSNR); higher is more robust and more visible.
    """
    rgb = _validate_rgb(rgb)
    if rgb.ndim != 3:
        raise InvalidWatermarkImage()
    if not isinstance(payload, int) or not 0 <= payload < (1 << PAYLOAD_BITS):
        raise InvalidWatermarkPayload()
    layout = TileLayout.from_key(key)
    height, width = rgb.shape[:2]

    work_luma = _resize_to_area(luminance_u8(rgb), WORK_AREA)
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

    target_rms = DEFAULT_STRENGTH if strength is None else float(strength)
    unit = render(chips)
    amplitude = target_rms / max(_rms(unit), 1e-6)
    chip_values = _cancel_host(work_luma, period, chips, amplitude, render, target_rms)
    delta = render(chip_values)
    if (work_h, work_w) != (height, width):
        delta = cv2.resize(delta, (width, height), interpolation=cv2.INTER_LINEAR)
    delta *= target_rms / max(_rms(delta), 1e-6)
    marked = rgb.astype(np.float32) + delta[:, :, None]
    return np.clip(np.rint(marked), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------
# Decoding: lattice (scale + rotation) from the autocorrelation


def _whiten(luma: np.ndarray) -> np.ndarray:
    """Band-pass and contrast-normalise, so the spectrum shows the mark rather than the
    photo (whose energy is mostly at low frequencies and in a few strong edges)."""
    band = cv2.GaussianBlur(luma, (0, 0), 0.6) - cv2.GaussianBlur(luma, (0, 0), 2.5)
    local_power = cv2.GaussianBlur(band * band, (0, 0), 4.0)
    normalised = band / np.sqrt(local_power + 0.25)
    return np.clip(normalised, -3.0, 3.0).astype(np.float32)


@dataclass(frozen=True)
class _Lattice:
    """The tile lattice in decoder pixels: rows are the spatial basis vectors v1, v2
    (x, y) such that pixel x + v1 shows the same mark as pixel x."""

    basis: np.ndarray
    score: float

    @property
    def period(self) -> float:
        return float(math.sqrt(abs(np.linalg.det(self.basis))))

    @property
    def angle_deg(self) -> float:
        return float(math.degrees(math.atan2(self.basis[0, 1], self.basis[0, 0])))


class _Spectrum:
    """Whitened power spectrum of the residual, on a 2x zero-padded grid (half plane)."""

    def __init__(self, residual: np.ndarray):
        height, width = residual.shape
        self.shape = (sp_fft.next_fast_len(2 * height), sp_fft.next_fast_len(2 * width))
        spectrum = sp_fft.rfft2(residual - residual.mean(), s=self.shape, workers=-1)
        power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
        # Divide by the local average: the photo's own spectrum falls off smoothly with
        # frequency, the mark's is a comb of sharp peaks on the reciprocal lattice.
        background = cv2.GaussianBlur(power, (0, 0), 6.0, borderType=cv2.BORDER_REFLECT)
        normalised = power / np.maximum(background, 1e-12)
        # Whitened complex spectrum, for the phase-aware sync scan.
        self.white = (spectrum / np.sqrt(np.maximum(background, 1e-12))).astype(np.complex64)
        self._suppress_artifact_lines(normalised)
        self.normalised = normalised
        # Capped so a few strong non-mark peaks (periodic textures) cannot outvote the
        # mark's many moderate ones; dilated so an off-grid hypothesis still lands on a
        # peak within one padded bin.
        self.capped_dilated = cv2.dilate(np.minimum(normalised, 12.0), np.ones((3, 3), np.uint8))
        # Statistics of a sampled value where there is no mark, to turn a mean over m
        # harmonics into a z-score: hypotheses with few harmonics (small periods) are
        # noisier and must not win just by luck.
        fy = np.fft.fftfreq(self.shape[0])[:, None]
        fx = np.arange(self.capped_dilated.shape[1])[None, :] / self.shape[1]
        radius = np.hypot(fx, fy)
        in_band = self.capped_dilated[(radius > _SEARCH_BAND[0]) & (radius < _SEARCH_BAND[1])]
        # Trimmed so the mark's own peaks barely move the estimate.
        trimmed = in_band[in_band < np.quantile(in_band, 0.98)]
        self.noise_mean = float(trimmed.mean())
        self.noise_std = float(trimmed.std()) + 1e-6

    def _suppress_artifact_lines(self, normalised: np.ndarray) -> None:
        """Neutralise frequencies where photos have peaks that are not the mark: the
        axes (horizontal/vertical structures, borders) and the 8x8 JPEG block grid."""
        rows, cols = self.shape
        normalised[:3, :] = 1.0
        normalised[-2:, :] = 1.0
        normalised[:, :3] = 1.0
        for a in range(0, 8):
            for b in range(0, 5):
                if a == 0 and b == 0:
                    continue
                y, x = round(a * rows / 8), round(b * cols / 8)
                normalised[max(0, y - 3): y + 4, max(0, x - 3): x + 4] = 1.0
                if y > 0:
                    yy = rows - y
                    normalised[max(0, yy - 3): yy + 4, max(0, x - 3): x + 4] = 1.0

    def bins(self, freqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Float bin coordinates (row, col) of frequencies (..., 2) in cycles/pixel (x, y),
        folded into the stored half plane by the symmetry P(-f) = P(f)."""
        fx, fy = freqs[..., 0], freqs[..., 1]
        flip = fx < 0
        fx = np.where(flip, -fx, fx)
        fy = np.where(flip, -fy, fy)
        return fy * self.shape[0], fx * self.shape[1]

    def sample(self, freqs: np.ndarray) -> np.ndarray:
        rows, cols = self.bins(freqs)
        rows = np.rint(rows).astype(np.int64) % self.shape[0]
        cols = np.minimum(np.rint(cols).astype(np.int64), self.capped_dilated.shape[1] - 1)
        return self.capped_dilated[rows, cols]


def _harmonics(max_radius: float, min_radius: float = 0.0) -> np.ndarray:
    """Reciprocal-lattice indices k = (k1, k2) in a half plane, min_radius <= |k| <=
    max_radius, inside the band the tile has energy in (|k1|, |k2| < CHIP_GRID / 2)."""
    limit = int(max_radius)
    ks = [(a, b) for a in range(0, limit + 1) for b in range(-limit, limit + 1)
          if (a > 0 or b > 0) and max(min_radius**2, 1) <= a * a + b * b <= max_radius**2
          and a < CHIP_GRID // 2 and abs(b) < CHIP_GRID // 2]
    return np.array(ks, dtype=np.float64).reshape(-1, 2)


_FINE_HARMONICS = _harmonics(CHIP_GRID // 2 * math.sqrt(2))
# The coarse search looks at harmonics in a fixed band of decoder frequencies (cycles per
# pixel): below it the photo's own 1/f spectrum drowns the mark, above it JPEG and
# resampling have eaten it. Each period hypothesis uses the harmonics that fall in it.
_SEARCH_BAND = (0.05, 0.30)
# More harmonics than this per hypothesis cost time without changing the ranking much.
_MAX_SEARCH_HARMONICS = 96


@functools.lru_cache(maxsize=2048)
def _band_harmonics_cached(period_key: int) -> np.ndarray:
    period = period_key / 1000.0
    ks = _harmonics(_SEARCH_BAND[1] * period, _SEARCH_BAND[0] * period)
    if len(ks) > _MAX_SEARCH_HARMONICS:
        # An even subsample over the band (sorted by radius), not just the lowest ones.
        order = np.argsort(np.hypot(ks[:, 0], ks[:, 1]), kind="stable")
        ks = ks[order[np.linspace(0, len(ks) - 1, _MAX_SEARCH_HARMONICS).astype(int)]]
    ks.setflags(write=False)
    return ks


def _band_harmonics(period: float) -> np.ndarray:
    return _band_harmonics_cached(int(round(period * 1000)))


def _reciprocal(inverse_period: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reciprocal basis b1, b2 of a square lattice with period 1/inverse_period rotated by
    theta: b1 = (cos, sin)/p, b2 = (-sin, cos)/p."""
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    b1 = np.stack([cos_t, sin_t], axis=-1) * inverse_period[..., None]
    b2 = np.stack([-sin_t, cos_t], axis=-1) * inverse_period[..., None]
    return b1, b2


def _comb_score(spectrum: _Spectrum, ks: np.ndarray, period: float,
                thetas: np.ndarray) -> np.ndarray:
    """Mean whitened power at the harmonics `ks` of lattices (period, each theta)."""
    if len(ks) == 0:
        return np.full(len(thetas), -np.inf)
    b1, b2 = _reciprocal(np.full(len(thetas), 1.0 / period), thetas)  # [A, 2]
    freqs = ks[:, 0, None, None] * b1[None] + ks[:, 1, None, None] * b2[None]  # [m, A, 2]
    values = spectrum.sample(freqs)
    return (values.mean(axis=0) - spectrum.noise_mean) * math.sqrt(len(ks)) / spectrum.noise_std


def _coarse_candidates(spectrum: _Spectrum, max_period: float) -> list[tuple[float, float, float]]:
    padded = max(spectrum.shape)
    # Steps of ~1.5 padded bins at the top of the search band; the 3x3 dilation of the
    # spectrum absorbs that much misplacement.
    relative_step = 1.5 / (_SEARCH_BAND[1] * padded)
    periods = np.exp(np.arange(math.log(MIN_PERIOD), math.log(max_period), relative_step))
    thetas = np.arange(-math.radians(MAX_ROTATION_DEG), math.radians(MAX_ROTATION_DEG) + 1e-9,
                       relative_step)
    scores = np.stack([_comb_score(spectrum, _band_harmonics(p), p, thetas) for p in periods])
    peaks = (scores == ndimage.maximum_filter(scores, size=(7, 7), mode="nearest"))
    order = np.argsort(scores[peaks])[::-1][: 3 * N_LATTICE_CANDIDATES]
    coords = np.argwhere(peaks)[order]
    candidates = []
    for i, j in coords:
        period = _resolve_submultiple(spectrum, float(periods[i]), float(thetas[j]),
                                      float(scores[i, j]), max_period)
        candidates.append((period, float(thetas[j]), float(scores[i, j])))
    return candidates


def _resolve_submultiple(spectrum: _Spectrum, period: float, theta: float, score: float,
                         max_period: float) -> float:
    """The comb of a lattice with period p contains the comb of p/2 and p/3, so the
    coarse search can lock onto a sub-multiple. Test m*p: its harmonics that are *not*
    harmonics of p sit on peaks only if m*p is the true period."""
    excess_per_harmonic = score / math.sqrt(max(len(_band_harmonics(period)), 1))
    for multiple in (2, 3, 2):
        candidate = period * multiple
        if candidate > max_period:
            continue
        ks = _band_harmonics(candidate)
        new_only = ks[(ks[:, 0] % multiple != 0) | (ks[:, 1] % multiple != 0)]
        if len(new_only) == 0:
            continue
        new_z = float(_comb_score(spectrum, new_only, candidate, np.array([theta]))[0])
        if new_z > 3.0 and new_z / math.sqrt(len(new_only)) > 0.5 * excess_per_harmonic:
            period, excess_per_harmonic = candidate, new_z / math.sqrt(len(new_only))
    return period


def _fit_reciprocal_basis(spectrum: _Spectrum, basis: np.ndarray, window: int) -> np.ndarray | None:
    """Least-squares reciprocal basis (rows b1, b2) from the sub-bin positions of the
    harmonic peaks near their predicted places. Many harmonics, each located to a fraction
    of a bin, pin the period down to ~0.05 %: folding a dozen tiles needs that."""
    ks = _FINE_HARMONICS
    predicted = ks @ basis  # (m, 2) cycles/px (x, y)
    radius = np.hypot(predicted[:, 0], predicted[:, 1])
    usable = (radius > 0.02) & (radius < 0.46)
    ks, predicted = ks[usable], predicted[usable]
    # Work in the stored half plane (fx >= 0), remembering which ones were mirrored.
    mirror = np.where(predicted[:, 0] < 0, -1.0, 1.0)
    folded = predicted * mirror[:, None]
    values = spectrum.normalised
    n_rows, n_cols = values.shape
    size = 2 * window + 1
    offsets = np.arange(-window, window + 1)
    row0 = np.rint(folded[:, 1] * spectrum.shape[0]).astype(np.int64)
    col0 = np.rint(folded[:, 0] * spectrum.shape[1]).astype(np.int64)
    keep = (col0 - window >= 1) & (col0 + window < n_cols)
    ks, mirror, row0, col0 = ks[keep], mirror[keep], row0[keep], col0[keep]
    rows = (row0[:, None, None] + offsets[None, :, None]) % n_rows
    cols = col0[:, None, None] + offsets[None, None, :]
    patches = values[rows, cols]  # [m, size, size]
    flat_peak = patches.reshape(len(ks), -1).argmax(axis=1)
    peak_row, peak_col = np.divmod(flat_peak, size)
    peak = patches.reshape(len(ks), -1)[np.arange(len(ks)), flat_peak]
    # Keep clear peaks whose maximum is inside the window (so a parabola can be fitted).
    good = (peak >= 6.0) & (peak_row > 0) & (peak_row < size - 1) & (peak_col > 0) & (peak_col < size - 1)
    if int(good.sum()) < 8:
        return None
    index = np.arange(len(ks))[good]
    pr, pc = peak_row[good], peak_col[good]
    log_patches = np.log(patches[good] + 1e-12)
    n = np.arange(len(index))
    d_row = _parabolic_offsets(log_patches[n, pr - 1, pc], log_patches[n, pr, pc], log_patches[n, pr + 1, pc])
    d_col = _parabolic_offsets(log_patches[n, pr, pc - 1], log_patches[n, pr, pc], log_patches[n, pr, pc + 1])
    found = np.stack([(col0[index] + offsets[pc] + d_col) / spectrum.shape[1],
                      (row0[index] + offsets[pr] + d_row) / spectrum.shape[0]], axis=1)
    measured = found * mirror[index, None]
    root_w = np.sqrt(np.minimum(peak[good], 60.0) - 5.0)[:, None]
    solution, *_ = np.linalg.lstsq(ks[index] * root_w, measured * root_w, rcond=None)
    return solution


def _parabolic_offsets(left: np.ndarray, centre: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Vertex of the parabola through three equally spaced samples, relative to the centre."""
    denominator = left - 2.0 * centre + right
    safe = np.where(denominator < 0, denominator, -1.0)
    return np.where(denominator < 0, np.clip(0.5 * (left - right) / safe, -0.5, 0.5), 0.0)


def _max_period(shape: tuple[int, int]) -> float:
    # At least ~2.5 periods must fit in the image for the comb to be sharp.
    return min(MAX_PERIOD, min(shape) / 2.5)


def _lattice_candidates(spectrum: _Spectrum, shape: tuple[int, int]) -> Iterator[_Lattice]:
    """Distinct refined lattices, most likely first (lazily: a marked photo usually
    decodes on the first one, so the others are never refined)."""
    max_period = _max_period(shape)
    if max_period <= MIN_PERIOD:
        return
    found: list[_Lattice] = []
    for period, theta, score in _coarse_candidates(spectrum, max_period):
        b1, b2 = _reciprocal(np.array(1.0 / period), np.array(theta))
        reciprocal = np.stack([b1, b2])
        for window in (2, 1):
            fitted = _fit_reciprocal_basis(spectrum, reciprocal, window)
            if fitted is None:
                break
            reciprocal = fitted
        spatial = np.linalg.inv(reciprocal).T  # rows v1, v2 with v_i . b_j = delta_ij
        lattice = _Lattice(spatial, score)
        if all(abs(lattice.period / other.period - 1) > 0.01
               or abs(lattice.angle_deg - other.angle_deg) > 0.5 for other in found):
            found.append(lattice)
            yield lattice
        if len(found) == N_LATTICE_CANDIDATES:
            return


@functools.lru_cache(maxsize=8)
def _sync_spectra(key_digest: bytes, sync_tile_bytes: bytes) -> np.ndarray:
    """Conjugate 2-D spectra of the sync tile and of its mirror image."""
    sync_tile = np.frombuffer(sync_tile_bytes, dtype=np.float64).reshape(TILE_SIZE, TILE_SIZE)
    # Upright and mirrored only: the scan is for upright lattices (quarter turns are left
    # to the comb search).
    variants = [np.fft.fft2(np.ascontiguousarray(_dihedral(sync_tile, d))) for d in (0, 4)]
    return np.conj(np.stack(variants)).astype(np.complex64)


_SCAN_K = np.arange(-(CHIP_GRID // 2) + 1, CHIP_GRID // 2)


def _sync_scan(spectrum: _Spectrum, layout: TileLayout, shape: tuple[int, int],
               tried: list[_Lattice]) -> list[tuple[float, float]]:
    """Phase-aware search for the tile period of an upright (unrotated) lattice.

    The comb search only sees the *power* of the mark's harmonics, which on busy photos
    and small copies sinks into the photo's own spectrum. The decoder knows the sync
    chips, though: folding the image with period P and correlating with them is the
    same as sampling the image's spectrum at the harmonics k / P and correlating with
    the sync tile's spectrum, which costs one small inverse FFT per hypothesis. That
    is done for a fine log-spaced range of periods (upright and mirrored), and the best
    few periods are returned as (period, z)."""
    max_period = _max_period(shape)
    if max_period <= MIN_PERIOD:
        return []
    conj_sync = _sync_spectra(b"", layout.sync_tile.astype(np.float64).tobytes())
    # Log step: a relative period error e moves harmonic k by k * e * (side / period)
    # bins; keep that under ~0.9 bin for the highest harmonic at the smallest period.
    step = min(0.004, 0.9 / (CHIP_GRID / 2 * max(shape) / MIN_PERIOD))
    periods = np.exp(np.arange(math.log(MIN_PERIOD), math.log(max_period), step))
    ky, kx = np.meshgrid(_SCAN_K, _SCAN_K, indexing="ij")
    usable = (kx != 0) & (ky != 0)
    kx, ky = kx[usable].astype(np.float64), ky[usable].astype(np.float64)
    rows_idx, cols_idx = ky.astype(int) % TILE_SIZE, kx.astype(int) % TILE_SIZE
    white = spectrum.white
    n_rows, n_cols = spectrum.shape[0], white.shape[1]
    zs = np.empty(len(periods))
    for start in range(0, len(periods), 48):
        chunk = periods[start: start + 48]
        fx = kx[None, :] / chunk[:, None]
        fy = ky[None, :] / chunk[:, None]
        flip = fx < 0
        cols = np.rint(np.where(flip, -fx, fx) * spectrum.shape[1]).astype(np.int64)
        rows = np.rint(np.where(flip, -fy, fy) * n_rows).astype(np.int64) % n_rows
        cols = np.minimum(cols, n_cols - 1)
        values = white[rows, cols]
        values = np.where(flip, np.conj(values), values)
        # Frequencies past the search band carry JPEG-eaten or aliased content.
        radius = np.hypot(fx, fy)
        values = np.where((radius > 0.02) & (radius < 0.45), values, 0)
        grid = np.zeros((len(chunk), TILE_SIZE, TILE_SIZE), dtype=np.complex64)
        grid[:, rows_idx, cols_idx] = values
        corr = sp_fft.ifft2(grid[:, None] * conj_sync[None], axes=(-2, -1), workers=-1).real
        corr = corr.reshape(len(chunk), len(conj_sync), -1)
        z = (corr.max(axis=2) - corr.mean(axis=2)) / (corr.std(axis=2) + 1e-12)
        zs[start: start + len(chunk)] = z.max(axis=1)
    order = np.argsort(zs)[::-1]
    picked: list[tuple[float, float]] = []
    for i in order:
        period = float(periods[i])
        if any(abs(period / p - 1) < 0.02 for p, _ in picked):
            continue
        if any(abs(period / lat.period - 1) < 0.005 and abs(lat.angle_deg) < 0.3 for lat in tried):
            continue
        picked.append((period, float(zs[i])))
        if len(picked) == N_SCAN_CANDIDATES:
            break
    return picked


def _refine_upright(luma: np.ndarray, layout: TileLayout, period: float) -> tuple[_Lattice, _SyncHit]:
    """Best spatial fold near `period` (the scan's step is coarser than folding needs)."""
    best: tuple[_Lattice, _SyncHit] | None = None
    for factor in 1.0 + np.linspace(-0.003, 0.003, 5):
        lattice = _Lattice(np.eye(2) * period * factor, 0.0)
        hit = _synchronise(_fold(luma, lattice), layout)
        if best is None or hit.z > best[1].z:
            best = (lattice, hit)
    return best


def _fold(luma: np.ndarray, lattice: _Lattice) -> np.ndarray:
    """Resample so the tile is TILE_SIZE pixels and axis-aligned, whiten, and sum all tiles."""
    # Working frame (u, v) -> decoder image (x, y): [x, y] = forward @ [u, v] + t, with
    # the tile's u and v axes along v1 and v2.
    forward = lattice.basis.T / TILE_SIZE
    zoom = lattice.period / TILE_SIZE  # decoder pixels per working pixel
    if zoom > 1.3:
        # Going down in resolution: blur first so the bilinear warp does not alias.
        luma = cv2.GaussianBlur(luma, (0, 0), 0.45 * zoom)
    height, width = luma.shape
    corners = np.array([[0, 0], [width, 0], [0, height], [width, height]], dtype=np.float64)
    corners_uv = corners @ np.linalg.inv(forward).T
    uv_min = corners_uv.min(axis=0)
    uv_size = np.ceil(corners_uv.max(axis=0) - uv_min).astype(int)
    if np.any(uv_size > 8 * TILE_SIZE * 16):
        return np.zeros((TILE_SIZE, TILE_SIZE))
    affine = np.hstack([forward, (forward @ uv_min)[:, None]])
    size = (int(uv_size[0]), int(uv_size[1]))
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    warped = cv2.warpAffine(luma, affine, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.warpAffine(np.ones_like(luma), affine, size, flags=flags,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    inside = cv2.erode((inside > 0.999).astype(np.float32), np.ones((5, 5), np.uint8))

    residual = warped - cv2.GaussianBlur(warped, (0, 0), FOLD_HIGHPASS_SIGMA)
    residual /= np.sqrt(cv2.GaussianBlur(residual * residual, (0, 0), FOLD_POWER_SIGMA)
                        + FOLD_POWER_FLOOR)
    residual = np.clip(residual, -FOLD_CLIP, FOLD_CLIP) * inside
    return sum_of_tiles(residual, TILE_SIZE)


def sum_of_tiles(image: np.ndarray, period: int) -> np.ndarray:
    """The image cut into period × period tiles from pixel (0, 0) (zero-padded) and added up."""
    rows, cols = -(-image.shape[0] // period) * period, -(-image.shape[1] // period) * period
    padded = np.zeros((rows, cols), dtype=np.float64)
    padded[: image.shape[0], : image.shape[1]] = image
    return padded.reshape(rows // period, period, cols // period, period).sum(axis=(0, 2))


def _dihedral(tile: np.ndarray, index: int) -> np.ndarray:
    """index 0-3: quarter turns; 4-7: mirrored, then quarter turns."""
    if index >= 4:
        tile = tile[:, ::-1]
    return np.rot90(tile, index % 4)


def _parabolic_offset(left: float, centre: float, right: float) -> float:
    denominator = left - 2.0 * centre + right
    if denominator >= 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / denominator, -0.5, 0.5))


@dataclass(frozen=True)
class _SyncHit:
    z: float
    dihedral: int
    aligned_tile: np.ndarray


def _synchronise(folded: np.ndarray, layout: TileLayout) -> _SyncHit:
    sync_spectrum_conj = np.conj(np.fft.fft2(layout.sync_tile))
    best: _SyncHit | None = None
    for index in range(8):
        variant = np.ascontiguousarray(_dihedral(folded, index))
        variant_spectrum = np.fft.fft2(variant)
        corr = np.fft.ifft2(variant_spectrum * sync_spectrum_conj).real
        spread = corr.std()
        if spread <= 0:
            continue
        peak_y, peak_x = np.unravel_index(np.argmax(corr), corr.shape)
        z = float((corr[peak_y, peak_x] - corr.mean()) / spread)
        if best is not None and z <= best.z:
            continue
        n = TILE_SIZE
        dy = peak_y + _parabolic_offset(corr[(peak_y - 1) % n, peak_x], corr[peak_y, peak_x],
                                        corr[(peak_y + 1) % n, peak_x])
        dx = peak_x + _parabolic_offset(corr[peak_y, (peak_x - 1) % n], corr[peak_y, peak_x],
                                        corr[peak_y, (peak_x + 1) % n])
        # variant ≈ tile shifted by (dy, dx): undo it with a phase ramp (sub-pixel).
        freqs = np.fft.fftfreq(n)
        ramp = np.exp(2j * np.pi * (freqs[:, None] * dy + freqs[None, :] * dx))
        aligned = np.fft.ifft2(variant_spectrum * ramp).real
        best = _SyncHit(z, index, aligned)
    return best if best is not None else _SyncHit(0.0, 0, np.zeros_like(folded))


def _decode_codeword(soft: np.ndarray) -> tuple[np.ndarray, bool, float, float]:
    message = codec.viterbi_decode(soft, MESSAGE_BITS)
    codeword = 2.0 * codec.conv_encode(message) - 1.0
    norm = float(np.linalg.norm(soft))
    confidence = float(soft @ codeword / (norm * math.sqrt(N_CODED_BITS))) if norm > 0 else 0.0
    raw_ber = float(np.mean(np.sign(soft) != codeword))
    return message, codec.check_crc(message), confidence, raw_ber


def inspect_watermark(rgb: np.ndarray, key: bytes, known_ids: Collection[int] = ()) -> WatermarkInspection:
    """Full decoding with diagnostics (see `WatermarkInspection`). `known_ids` are the
    share IDs this key ever embedded; a mark too damaged to decode is matched to them."""
    rgb = _validate_rgb(rgb)
    layout = TileLayout.from_key(key)
    known = _known_ids(tuple(known_ids)) if known_ids else None
    luma = _resize_to_area(luminance_u8(rgb), DECODE_AREA)
    if min(luma.shape) < 2 * MIN_PERIOD + 1 or float(luma.std()) < 0.5:
        return WatermarkInspection(None, None, None, 0.0, 0)

    best_effort: tuple[float, np.ndarray, np.ndarray] | None = None
    tried = 0
    spectrum = _Spectrum(_whiten(luma))
    seen: list[_Lattice] = []

    def attempts() -> Iterator[tuple[_Lattice, _SyncHit]]:
        for lattice in _lattice_candidates(spectrum, luma.shape):
            seen.append(lattice)
            yield lattice, _synchronise(_fold(luma, lattice), layout)
        for period, _ in _sync_scan(spectrum, layout, luma.shape, seen):
            yield _refine_upright(luma, layout, period)

    for tried, (lattice, hit) in enumerate(attempts(), start=1):
        soft = layout.soft_coded_bits(downsample_to_chips(hit.aligned_tile))
        if best_effort is None or hit.z > best_effort[0]:
            message, _, _, _ = _decode_codeword(soft)
            best_effort = (hit.z, message[:PAYLOAD_BITS], soft)
        if hit.z >= SYNC_Z_GATE:
            message, crc_ok, confidence, raw_ber = _decode_codeword(soft)
            if crc_ok:
                result = _result(codec.bits_to_int(message[:PAYLOAD_BITS]), confidence, raw_ber, lattice, hit)
                return WatermarkInspection(result, message[:PAYLOAD_BITS], soft, hit.z, tried)
        match = known.best_match(soft) if known is not None else None
        if match is not None:
            payload, score, codeword = match
            raw_ber = float(np.mean(np.sign(soft) != codeword))
            result = _result(payload, score / math.sqrt(N_CODED_BITS), raw_ber, lattice, hit,
                             matched_known_id=True)
            return WatermarkInspection(result, codec.int_to_bits(payload, PAYLOAD_BITS), soft, hit.z, tried)
    if best_effort is None:
        return WatermarkInspection(None, None, None, 0.0, 0)
    return WatermarkInspection(None, best_effort[1], best_effort[2], best_effort[0], tried)


def _result(payload: int, confidence: float, raw_ber: float, lattice: _Lattice, hit: _SyncHit,
            matched_known_id: bool = False) -> WatermarkResult:
    return WatermarkResult(
        payload=payload,
        confidence=confidence,
        sync_z=hit.z,
        raw_bit_error_rate=raw_ber,
        period_px=lattice.period,
        rotation_deg=lattice.angle_deg,
        mirrored=hit.dihedral >= 4,
        quarter_turns=hit.dihedral % 4,
        matched_known_id=matched_known_id,
    )


def read_watermark(rgb: np.ndarray, key: bytes, known_ids: Collection[int] = ()) -> WatermarkResult | None:
    """The share ID hidden in `rgb` under `key`, or None if no valid mark is found.

    Pass the share IDs this key has embedded as `known_ids` (the vault's share records):
    copies too damaged to decode on their own are then still recognised."""
    inspection = inspect_watermark(rgb, key, known_ids)
    log.debug("watermark read: found=%s sync_z=%.1f lattices_tried=%d",
              inspection.result is not None, inspection.sync_z, inspection.candidates_tried)
    return inspection.result


def false_accept_bound(sync_gate_pass_rate: float) -> float:
    """Upper bound on P(wrong ID accepted) for one unmarked image: each of the tried
    lattice candidates must pass the sync gate and then a 24-bit CRC by chance."""
    return (N_LATTICE_CANDIDATES + N_SCAN_CANDIDATES) * sync_gate_pass_rate * 2.0 ** -codec.CRC_BITS
