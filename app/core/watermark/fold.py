"""Folding: the copy resampled so the tile is `TILE_SIZE` pixels again, and all tiles summed
into one, so every tile of the picture votes and any crop that keeps a few tiles keeps the
whole payload. The start of the tile (translation) and the mirror / quarter-turn state are
then found by correlating the folded tile with the keyed sync chips (`synchronise`)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from app.core.watermark.lattice import Lattice
from app.core.watermark.layout import TILE_SIZE, TileLayout, dihedral

# Whitening before folding (in tile pixels, TILE_SIZE per period): a high-pass that
# removes most of the photo, then division by the local residual power, so every area
# votes with a weight that matches how much the photo masks the mark there.
FOLD_HIGHPASS_SIGMA = 2.0
FOLD_POWER_SIGMA = 4.0
FOLD_POWER_FLOOR = 0.25
FOLD_CLIP = 3.0


def refine_upright(luma: np.ndarray, layout: TileLayout, period: float) -> tuple[Lattice, SyncHit]:
    """Best spatial fold near `period` (the scan's step is coarser than folding needs)."""
    best: tuple[Lattice, SyncHit] | None = None
    for factor in 1.0 + np.linspace(-0.003, 0.003, 5):
        lattice = Lattice(np.eye(2) * period * factor, 0.0)
        hit = synchronise(fold(luma, lattice), layout)
        if best is None or hit.z > best[1].z:
            best = (lattice, hit)
    return best


def fold(luma: np.ndarray, lattice: Lattice) -> np.ndarray:
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


def _parabolic_offset(left: float, centre: float, right: float) -> float:
    denominator = left - 2.0 * centre + right
    if denominator >= 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / denominator, -0.5, 0.5))


@dataclass(frozen=True)
class SyncHit:
    z: float
    dihedral: int
    aligned_tile: np.ndarray


def synchronise(folded: np.ndarray, layout: TileLayout) -> SyncHit:
    sync_spectrum_conj = np.conj(np.fft.fft2(layout.sync_tile))
    best: SyncHit | None = None
    for index in range(8):
        variant = np.ascontiguousarray(dihedral(folded, index))
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
        best = SyncHit(z, index, aligned)
    return best if best is not None else SyncHit(0.0, 0, np.zeros_like(folded))
