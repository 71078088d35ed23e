"""The robust mode's channel: bits held by quantization index modulation on the lowest DCT
frequencies of each 8×8 block of luminance, in the resize-proof view of the photo.

`luminance`, `resize_proof`, `block_dct`, `embed_nearest` and `platform_copies` are the channel
as bench/robust_channel_study.py measures it, for ways of embedding this mode does not use.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image
from scipy import fft

BLOCK = 8
# Low frequencies whose JPEG-75 quantisation step is at most 8 (standard luminance table / 2),
# the DC last.
COEFFS = [(0, 1), (1, 0), (1, 1), (0, 2), (2, 0), (1, 2), (2, 1), (2, 2), (0, 3), (3, 0), (1, 3), (3, 1), (0, 0)]
# QIM step, orthonormal DCT units on 0..255 luminance. A larger step survives JPEG better and
# costs SSIM and PSNR: at 22 every edited region of the benchmark is recovered after JPEG 75, at
# 20 one is not (docs/benchmarks.md, robust mode).
STEP = 22.0
EMBED_PASSES = 4
SELF_CHECK_JPEG_QUALITY = 75         # the lowest quality the robust mode promises to survive
_LUMA = np.array([0.299, 0.587, 0.114])
# How a change of luminance is shared out among R, G and B: the least change of the three that
# moves luminance by that much (the same change to all three costs more energy, so PSNR and
# SSIM, for bits that read back no better; docs/benchmarks.md, "The change shared out by
# channel weight"). The change is tinted a little green and purple, which the eye sees less
# than the same energy in luminance.
_LUMA_CHANGE = _LUMA / (_LUMA @ _LUMA)


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64) @ _LUMA


def resize_proof(luma: np.ndarray) -> np.ndarray:
    """What of the luminance a 0.75× downscale keeps (scaled down and back up with Lanczos).

    Bits are embedded in, and read from, the blocks of this view rather than of the photo: a
    downscale blurs fine detail into the low block frequencies that carry the bits, so busy
    areas of an untouched copy would read a quarter of their bits wrong after a resize. This
    view has already lost that detail, so a resize changes it little, for a little PSNR
    (docs/benchmarks.md, "Figures behind the robust mode's constants")."""
    h, w = luma.shape
    view = Image.fromarray(luma.astype(np.float32), "F")
    small = view.resize((max(1, round(w * 0.75)), max(1, round(h * 0.75))), Image.LANCZOS)
    return np.asarray(small.resize((w, h), Image.LANCZOS), dtype=np.float64)


def block_dct(luma: np.ndarray, bh: int, bw: int) -> np.ndarray:
    """[block, 8, 8]: the orthonormal DCT of each of the `bh` × `bw` blocks of `luma`."""
    core = luma[: bh * BLOCK, : bw * BLOCK].reshape(bh, BLOCK, bw, BLOCK).transpose(0, 2, 1, 3)
    return fft.dctn(core.reshape(-1, BLOCK, BLOCK), axes=(1, 2), norm="ortho")


def coefficients(dct: np.ndarray) -> np.ndarray:
    return np.stack([dct[:, u, v] for u, v in COEFFS], axis=1)


def soft_bits(values: np.ndarray, dither: np.ndarray) -> np.ndarray:
    """+1 for a clean 1, -1 for a clean 0, near 0 halfway between."""
    return -np.cos(2 * np.pi * (values - dither) / STEP)


def embed_bits(rgb: np.ndarray, bits: np.ndarray, dither: np.ndarray, bh: int, bw: int) -> np.ndarray:
    """QIM: each carrier frequency to the nearest point of its bit's lattice, `dither` +
    `bits` × STEP / 2 + STEP × integers."""
    offset = dither + bits * (STEP / 2)
    return embed_nearest(rgb, lambda coeffs: np.round((coeffs - offset) / STEP) * STEP + offset, bh, bw)


def embed_nearest(rgb: np.ndarray, nearest: Callable[[np.ndarray], np.ndarray], bh: int, bw: int) -> np.ndarray:
    """`rgb` with the carrier frequencies of its `bh` × `bw` blocks moved to `nearest(values)`:
    [block, frequency] (COEFFS order) in, the targets out. The frequencies are read in the
    resize-proof view, and the change is shared out over R, G and B by `_LUMA_CHANGE`."""
    out = rgb.astype(np.float64)
    # Each pass corrects what rounding, clipping to 0..255 and the resize-proof view's blur
    # left of the last one.
    for _ in range(EMBED_PASSES):
        dct = block_dct(resize_proof(luminance(out)), bh, bw)
        coeffs = coefficients(dct)
        target = nearest(coeffs)
        delta = np.zeros_like(dct)
        for j, (u, v) in enumerate(COEFFS):
            delta[:, u, v] = target[:, j] - coeffs[:, j]
        change = fft.idctn(delta, axes=(1, 2), norm="ortho")
        change = change.reshape(bh, bw, BLOCK, BLOCK).transpose(0, 2, 1, 3).reshape(bh * BLOCK, bw * BLOCK)
        out[: bh * BLOCK, : bw * BLOCK] += change[..., None] * _LUMA_CHANGE
        out = np.clip(np.round(out), 0, 255)
    return out.astype(np.uint8)

def recompressed(pixels: np.ndarray) -> np.ndarray:
    """`pixels` saved as JPEG at the lowest quality the robust mode promises to survive, read back."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=SELF_CHECK_JPEG_QUALITY)
    with Image.open(buffer) as reloaded:
        return np.asarray(reloaded.convert("RGB"))


def platform_copies(immunized: np.ndarray) -> list[np.ndarray]:
    """What the robust mode promises to survive: JPEG 75, and a 0.75× downscale."""
    h, w = immunized.shape[:2]
    downscaled = np.asarray(Image.fromarray(immunized).resize((round(w * 0.75), round(h * 0.75)), Image.LANCZOS))
    return [recompressed(immunized), downscaled]


def block_pixels(luma: np.ndarray, bh: int, bw: int) -> np.ndarray:
    return luma[: bh * BLOCK, : bw * BLOCK].reshape(bh, BLOCK, bw, BLOCK).transpose(0, 2, 1, 3).reshape(-1, BLOCK**2)


def unreliable_blocks(luma_blocks: np.ndarray) -> np.ndarray:
    """Blocks pinned at black or white can't move, so their bits say nothing either way."""
    flat = luma_blocks.reshape(len(luma_blocks), -1)
    return (flat.max(axis=1) > 252) & (flat.min(axis=1) > 240) | (flat.min(axis=1) < 3) & (flat.max(axis=1) < 15)
