"""Finding the tile lattice (period and rotation) of a marked copy.

* Synchronisation from periodicity. The decoder whitens the luminance and computes its
  spectrum: the repeated tile shows up as a square lattice of peaks whose spacing and angle
  give the scale and rotation (the self-reference idea of Kutter, 1998). No separate
  template is needed, so all the mark's energy is payload or sync.
* Phase-aware period scan. On busy photos and small copies the comb of the mark's power
  sinks into the photo's spectrum although the tile is still there. When the comb
  candidates fail, `sync_scan` samples the complex spectrum at the harmonics of each
  upright period hypothesis and correlates it with the keyed sync chips (one small
  inverse FFT each), and the best few periods are folded (`fold.py`) and decoded.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import fft as sp_fft
from scipy import ndimage

from app.core.watermark.layout import CHIP_GRID, TILE_SIZE, TileLayout, dihedral

# Lattice search ranges, in decoder pixels / degrees. The period is 64 at the working
# scale; 0.35x .. 2.8x covers downscales to 25 % (for photos above the working size),
# and crops down to ~1/8 of the area.
MIN_PERIOD = 22.0
MAX_PERIOD = 200.0
MAX_ROTATION_DEG = 7.0
# How many lattice candidates are tried (each with the best of 8 dihedral variants).
N_LATTICE_CANDIDATES = 4
# How many more come from the phase-aware sync scan (upright lattices only).
N_SCAN_CANDIDATES = 3


def whiten(luma: np.ndarray) -> np.ndarray:
    """Band-pass and contrast-normalise, so the spectrum shows the mark rather than the
    photo (whose energy is mostly at low frequencies and in a few strong edges)."""
    band = cv2.GaussianBlur(luma, (0, 0), 0.6) - cv2.GaussianBlur(luma, (0, 0), 2.5)
    local_power = cv2.GaussianBlur(band * band, (0, 0), 4.0)
    normalised = band / np.sqrt(local_power + 0.25)
    return np.clip(normalised, -3.0, 3.0).astype(np.float32)


@dataclass(frozen=True)
class Lattice:
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


class Spectrum:
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


def _comb_score(spectrum: Spectrum, ks: np.ndarray, period: float,
                thetas: np.ndarray) -> np.ndarray:
    """Mean whitened power at the harmonics `ks` of lattices (period, each theta)."""
    if len(ks) == 0:
        return np.full(len(thetas), -np.inf)
    b1, b2 = _reciprocal(np.full(len(thetas), 1.0 / period), thetas)  # [A, 2]
    freqs = ks[:, 0, None, None] * b1[None] + ks[:, 1, None, None] * b2[None]  # [m, A, 2]
    values = spectrum.sample(freqs)
    return (values.mean(axis=0) - spectrum.noise_mean) * math.sqrt(len(ks)) / spectrum.noise_std


def _coarse_candidates(spectrum: Spectrum, max_period: float) -> list[tuple[float, float, float]]:
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


def _resolve_submultiple(spectrum: Spectrum, period: float, theta: float, score: float,
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


def _fit_reciprocal_basis(spectrum: Spectrum, basis: np.ndarray, window: int) -> np.ndarray | None:
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


def lattice_candidates(spectrum: Spectrum, shape: tuple[int, int]) -> Iterator[Lattice]:
    """Distinct refined lattices, most likely first (lazily: a marked photo usually
    decodes on the first one, so the others are never refined)."""
    max_period = _max_period(shape)
    if max_period <= MIN_PERIOD:
        return
    found: list[Lattice] = []
    for period, theta, score in _coarse_candidates(spectrum, max_period):
        b1, b2 = _reciprocal(np.array(1.0 / period), np.array(theta))
        reciprocal = np.stack([b1, b2])
        for window in (2, 1):
            fitted = _fit_reciprocal_basis(spectrum, reciprocal, window)
            if fitted is None:
                break
            reciprocal = fitted
        spatial = np.linalg.inv(reciprocal).T  # rows v1, v2 with v_i . b_j = delta_ij
        lattice = Lattice(spatial, score)
        if all(abs(lattice.period / other.period - 1) > 0.01
               or abs(lattice.angle_deg - other.angle_deg) > 0.5 for other in found):
            found.append(lattice)
            yield lattice
        if len(found) == N_LATTICE_CANDIDATES:
            return


@functools.lru_cache(maxsize=8)
def _sync_spectra(sync_tile_bytes: bytes) -> np.ndarray:
    """Conjugate 2-D spectra of the sync tile and of its mirror image."""
    sync_tile = np.frombuffer(sync_tile_bytes, dtype=np.float64).reshape(TILE_SIZE, TILE_SIZE)
    # Upright and mirrored only: the scan is for upright lattices (quarter turns are left
    # to the comb search).
    variants = [np.fft.fft2(np.ascontiguousarray(dihedral(sync_tile, d))) for d in (0, 4)]
    return np.conj(np.stack(variants)).astype(np.complex64)


_SCAN_K = np.arange(-(CHIP_GRID // 2) + 1, CHIP_GRID // 2)


def sync_scan(spectrum: Spectrum, layout: TileLayout, shape: tuple[int, int],
               tried: list[Lattice]) -> list[tuple[float, float]]:
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
    conj_sync = _sync_spectra(layout.sync_tile.astype(np.float64).tobytes())
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
