"""PDQ perceptual hash (Meta ThreatExchange), in numpy.

PDQ turns an image into a 256-bit hash plus a 0..100 quality score. Near-identical images
(re-encoded, resized, mildly filtered) land within a small Hamming distance of each other;
ThreatExchange suggests treating distance <= 31 as a match and discarding hashes with
quality <= 49. It is the hash StopNCII and many platforms exchange for image-based abuse,
which is why Sanctum follows the reference implementation closely rather than inventing
its own variant: a hash computed here should be usable by those systems.

Pipeline (ThreatExchange ``hashing.pdf`` and the C++ reference ``pdqhashing.cpp``):

1. luminance ``Y = 0.299 R + 0.587 G + 0.114 B`` (grey images are used as they are);
2. two X/Y passes of a Jarosz box filter (a tent filter) with a window of about
   1/128 of each side, then point sampling at the centres of a 64x64 grid;
3. quality: the sum of quantised neighbour differences on that 64x64 grid;
4. a 2-D DCT of which only frequencies 1..16 x 1..16 are kept (DC dropped);
5. each of the 256 coefficients becomes a bit: 1 when it is above the median.

The eight dihedral hashes (rotations and flips) come from the 16x16 DCT directly:
reversing an axis negates the odd-frequency basis functions and transposing the image
transposes the coefficients, so no extra filtering or DCT is needed.

Agreement with Meta's published hashes (bench/hash_index_eval.py, tests/test_pdq.py):
fed the same pixels as each reference implementation, this code gives the same bits on
nearly all of Meta's test images (Java unit test: full resolution; WASM: reduce_to_512,
one image 2 bits off; Python: Pillow ``thumbnail(512)``, checked once by hand). So what
differs between implementations is how pixels reach the hash. The default
filters the full-resolution image, as the algorithm is specified and as the C++ reference
did when its test hashes were published (within 0-8 bits of them; the rest is JPEG
decoder differences). ``reduce_to_512=True`` mimics the C++ code since 2024, which first
reduces images larger than 512 px to 512x512 by nearest-neighbour sampling (bit-exact
with its WASM build) at the price of aliasing.

Decoding (``load_rgb_for_pdq``): alpha is ignored and Pillow converts other colour modes,
as the reference decoders do. Unlike the reference, EXIF orientation is applied by
default: a leaked copy is usually re-encoded upright by the platform, so the upright
pixels are what should be compared.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from PIL import Image, ImageOps

__all__ = [
    "HASH_BITS",
    "MATCH_DISTANCE",
    "MIN_USEFUL_QUALITY",
    "Dihedral",
    "apply_dihedral_to_pixels",
    "PdqHash",
    "hamming_distance",
    "load_rgb_for_pdq",
    "pdq_hash",
    "pdq_hash_dihedral",
]

HASH_BITS = 256
#: ThreatExchange's suggested starting point for "same image" (pdq/README.md).
MATCH_DISTANCE = 31
#: Hashes with quality at or below this are mostly flat/featureless and match too easily.
MIN_USEFUL_QUALITY = 49

# Since 2024 the C++ reference reduces larger images to 512x512 before filtering
# (pdqio.cpp); only used when a caller asks for reduce_to_512.
_REFERENCE_MAX_SIDE = 512
# Below this the reference declares the image unhashable (zero hash, quality 0).
_MIN_HASHABLE_SIDE = 5
_GRID = 64  # image-domain downsample size
_DCT_SIZE = 16  # coefficients kept per axis
_LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# Rows of pixels converted to luminance at a time (bounds temporary memory).
_LUMA_STRIP_ROWS = 256
# Shorter side kept when a JPEG is decoded at reduced scale (see load_rgb_for_pdq).
_FAST_DECODE_MIN_SIDE = 1024


# --------------------------------------------------------------------------------------
# Result type


@dataclass(frozen=True, slots=True)
class PdqHash:
    """A 256-bit PDQ hash and its quality (0..100, higher means more structure).

    ``bits`` is big-endian: the first byte holds hash bits 255..248, matching the
    reference's 64-hex-digit text form, so ``bits.hex() == hex``.
    """

    bits: bytes
    quality: int

    def __post_init__(self) -> None:
        if len(self.bits) != HASH_BITS // 8:
            raise ValueError(f"PDQ hash must be 32 bytes, got {len(self.bits)}")

    @property
    def hex(self) -> str:
        return self.bits.hex()

    @classmethod
    def from_hex(cls, text: str, quality: int = 100) -> PdqHash:
        raw = bytes.fromhex(text.strip())
        return cls(bits=raw, quality=quality)

    def distance(self, other: PdqHash) -> int:
        return hamming_distance(self.bits, other.bits)


def hamming_distance(a: bytes, b: bytes) -> int:
    """Number of differing bits between two equal-length byte strings."""
    if len(a) != len(b):
        raise ValueError("hashes differ in length")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


# --------------------------------------------------------------------------------------
# Dihedral transforms. Each is written as a sequence of three primitive operations so the
# same recipe can be applied to pixels (numpy) and to DCT coefficients (sign flips and a
# transpose); tests check the two stay in step.


class Dihedral(IntEnum):
    """The eight symmetries of a rectangle, in the reference implementation's order.

    Names are the reference's; the docstring of ``DIHEDRAL_PIXEL_OPS`` says what each one
    does to a numpy image ``a[row, col]``.
    """

    ORIGINAL = 0
    ROTATE_90 = 1
    ROTATE_180 = 2
    ROTATE_270 = 3
    FLIP_X = 4
    FLIP_Y = 5
    TRANSPOSE = 6  # reference: "flip plus 1" (mirror about the main diagonal)
    TRANSVERSE = 7  # reference: "flip minus 1" (mirror about the anti-diagonal)


# Primitive ops applied left to right: "T" transpose, "R" reverse rows (upside down),
# "C" reverse columns (left-right mirror).
_DIHEDRAL_RECIPES: dict[Dihedral, str] = {
    Dihedral.ORIGINAL: "",
    Dihedral.ROTATE_90: "TR",  # == np.rot90(a, 1): 90 degrees counter-clockwise
    Dihedral.ROTATE_180: "RC",  # == np.rot90(a, 2)
    Dihedral.ROTATE_270: "TC",  # == np.rot90(a, 3): 90 degrees clockwise
    Dihedral.FLIP_X: "R",  # == np.flipud(a)
    Dihedral.FLIP_Y: "C",  # == np.fliplr(a)
    Dihedral.TRANSPOSE: "T",  # == a.swapaxes(0, 1)
    Dihedral.TRANSVERSE: "TRC",  # == np.rot90(a, 2).swapaxes(0, 1)
}


def apply_dihedral_to_pixels(image: np.ndarray, variant: Dihedral) -> np.ndarray:
    """Apply ``variant`` to an image array (rows, cols[, channels])."""
    out = image
    for op in _DIHEDRAL_RECIPES[variant]:
        if op == "T":
            out = out.swapaxes(0, 1)
        elif op == "R":
            out = out[::-1]
        else:
            out = out[:, ::-1]
    return out


# A DCT-II basis function of frequency k is symmetric about the centre for even k and
# antisymmetric for odd k. We keep frequencies 1..16 at indices 0..15, so reversing an
# axis negates the coefficients at even *indices*.
_SIGN_WHEN_AXIS_REVERSED = np.where(np.arange(_DCT_SIZE) % 2 == 0, -1.0, 1.0)


def _apply_dihedral_to_dct(coefficients: np.ndarray, variant: Dihedral) -> np.ndarray:
    out = coefficients
    for op in _DIHEDRAL_RECIPES[variant]:
        if op == "T":
            out = out.T
        elif op == "R":
            out = out * _SIGN_WHEN_AXIS_REVERSED[:, None]
        else:
            out = out * _SIGN_WHEN_AXIS_REVERSED[None, :]
    return out


# --------------------------------------------------------------------------------------
# Core algorithm


def _jarosz_box_window(length: int) -> int:
    # Two passes, so each pass covers half of a 64th of the side: ceil(length / 128).
    return (length + 2 * _GRID - 1) // (2 * _GRID)


def _box_bounds(length: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Half-open input range [start, stop) averaged by each output of one box pass.

    Output i averages inputs i - before .. i + after, clipped to the array and divided by
    the number of inputs actually inside; for an even window the extra sample is on the
    right, as in the reference's box1DFloat.
    """
    after = (window + 2) // 2 - 1
    before = window - 1 - after
    index = np.arange(length)
    return np.maximum(index - before, 0), np.minimum(index + after + 1, length)


@functools.lru_cache(maxsize=64)
def _downsample_matrix(length: int) -> np.ndarray:
    """(64 x length) float32 matrix: two box passes along one axis, then centre sampling.

    The blur is linear and separable, so the reference's X,Y,X,Y passes followed by
    decimation equal ``M_rows @ luma @ M_cols.T`` (row and column passes commute). Only
    the 64 sampled outputs are needed, so each matrix has 64 rows: building it costs
    O(64 * length) and applying it is one matrix product, with no full-size temporaries.
    """
    start, stop = _box_bounds(length, _jarosz_box_window(length))
    weight = 1.0 / (stop - start)
    # Sample at the centre of each of the 64 cells (reference: int((i + 0.5) * n / 64)).
    sample_at = ((2 * np.arange(_GRID) + 1) * length) // (2 * _GRID)

    # Second (outer) pass, restricted to the sampled outputs: row r spreads weight over
    # the first-pass outputs inside its window.
    outer = np.zeros((_GRID, length))
    for row, at in enumerate(sample_at):
        outer[row, start[at] : stop[at]] = weight[at]
    # First (inner) pass: first-pass output i spreads outer[:, i] * weight[i] over
    # inputs [start[i], stop[i]); a difference array and a cumulative sum do that for all
    # i at once.
    # Worked on transposed (input index first) so repeated start/stop indices accumulate.
    spread = (outer * weight[None, :]).T
    edges = np.zeros((length + 1, _GRID))
    np.add.at(edges, start, spread)
    np.subtract.at(edges, stop, spread)
    matrix = np.cumsum(edges[:length], axis=0).T.astype(np.float32)
    matrix.setflags(write=False)
    return matrix


@functools.lru_cache(maxsize=1)
def _dct_matrix() -> np.ndarray:
    """(16 x 64) DCT-II rows for frequencies 1..16, scaled by sqrt(2/64) as the reference."""
    frequency = np.arange(1, _DCT_SIZE + 1)[:, None]
    sample = np.arange(_GRID)[None, :]
    matrix = np.sqrt(2.0 / _GRID) * np.cos(np.pi / (2 * _GRID) * frequency * (2 * sample + 1))
    matrix.setflags(write=False)
    return matrix


def _quality(grid: np.ndarray) -> int:
    """Count significant gradients on the 64x64 grid, scaled to 0..100.

    Each neighbour difference is quantised to whole percent of full scale (truncating
    toward zero, like the reference's float-to-int conversion) so that many tiny
    differences from noise or JPEG ringing do not add up to a high score.
    """
    vertical = np.trunc((grid[:-1, :] - grid[1:, :]) * 100.0 / 255.0)
    horizontal = np.trunc((grid[:, :-1] - grid[:, 1:]) * 100.0 / 255.0)
    gradient_sum = int(np.abs(vertical).sum() + np.abs(horizontal).sum())
    return min(gradient_sum // 90, 100)


def _bits_from_dct(coefficients: np.ndarray) -> bytes:
    flat = coefficients.reshape(-1)
    # The reference's median (Torben's algorithm) returns the lower median for 256
    # values, i.e. the 128th smallest; bits are strictly greater than it.
    median = np.partition(flat, HASH_BITS // 2 - 1)[HASH_BITS // 2 - 1]
    bits = flat > median  # bit k = coefficient (k // 16, k % 16)
    # Reference text form prints bit 255 first; packbits is MSB-first per byte.
    return np.packbits(bits[::-1]).tobytes()


def _luma_rows(image: np.ndarray, first: int, stop: int) -> np.ndarray:
    """Luminance (float32) of rows [first, stop) of a grey, RGB or RGBA image."""
    strip = image[first:stop]
    if strip.ndim == 2:
        return strip.astype(np.float32)
    # Alpha (if any) is ignored, as in the reference.
    return strip[:, :, :3].astype(np.float32) @ _LUMA_WEIGHTS


def _check_image(image: np.ndarray) -> None:
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4)):
        return
    raise ValueError(f"expected a grey (H, W) or colour (H, W, 3|4) image, got {image.shape}")


def _reduce_like_current_reference(image: np.ndarray) -> np.ndarray:
    """Nearest-neighbour reduction to 512x512 when a side exceeds 512.

    Since 2024 the C++ reference (and its WASM build) does this before hashing, to save
    time; source index floor(i * n / 512) for output i on each axis, aspect ignored.
    """
    rows, cols = image.shape[:2]
    if rows <= _REFERENCE_MAX_SIDE and cols <= _REFERENCE_MAX_SIDE:
        return image
    target = np.arange(_REFERENCE_MAX_SIDE)
    return image[(target * rows // _REFERENCE_MAX_SIDE)[:, None], target * cols // _REFERENCE_MAX_SIDE]


def _grid64(image: np.ndarray) -> np.ndarray:
    """The blurred and decimated 64x64 luminance grid (float64)."""
    rows, cols = image.shape[:2]
    along_rows = _downsample_matrix(rows)
    # Luminance is computed in strips so a 48-megapixel photo never needs a full-size
    # float copy; each strip contributes its columns of along_rows to the product.
    half_blurred = np.zeros((_GRID, cols), dtype=np.float32)
    for first in range(0, rows, _LUMA_STRIP_ROWS):
        stop = min(first + _LUMA_STRIP_ROWS, rows)
        half_blurred += along_rows[:, first:stop] @ _luma_rows(image, first, stop)
    return half_blurred.astype(np.float64) @ _downsample_matrix(cols).T.astype(np.float64)


def _dct16(image: np.ndarray, reduce_to_512: bool) -> tuple[np.ndarray, int] | None:
    """16x16 DCT coefficients and quality, or None when the image is too small."""
    _check_image(image)
    rows, cols = image.shape[:2]
    if rows < _MIN_HASHABLE_SIDE or cols < _MIN_HASHABLE_SIDE:
        return None
    if reduce_to_512:
        image = _reduce_like_current_reference(image)
    grid = _grid64(image)
    dct = _dct_matrix()
    return dct @ grid @ dct.T, _quality(grid)


_EMPTY_HASH = PdqHash(bits=bytes(HASH_BITS // 8), quality=0)


def pdq_hash(rgb: np.ndarray, *, reduce_to_512: bool = False) -> PdqHash:
    """PDQ hash of an image array: grey (rows, cols) or RGB[A] (rows, cols, 3|4).

    By default the whole image is filtered, as the algorithm is specified; this agrees
    with the hashes published for the C++ reference within a few bits. With
    ``reduce_to_512`` the image is first reduced to 512x512 by nearest-neighbour
    sampling, which reproduces the current C++/WASM builds bit for bit but aliases fine
    detail. Images smaller than 5 px on a side get the all-zero hash with quality 0, as in
    the reference; callers should drop hashes at or below ``MIN_USEFUL_QUALITY`` anyway.
    """
    result = _dct16(np.asarray(rgb), reduce_to_512)
    if result is None:
        return _EMPTY_HASH
    coefficients, quality = result
    return PdqHash(bits=_bits_from_dct(coefficients), quality=quality)


def pdq_hash_dihedral(rgb: np.ndarray, *, reduce_to_512: bool = False) -> list[PdqHash]:
    """The eight dihedral PDQ hashes, indexed by ``Dihedral``.

    Entry ``v`` is what the reference computes for that variant; it equals the hash of
    the transformed 64x64 grid exactly, but only approximates
    ``pdq_hash(apply_dihedral_to_pixels(rgb, v))``: the reference samples the grid about a
    pixel off-centre (and even box windows are lopsided), so a flip moves the samples by
    a pixel or two. PDQ is sensitive to such shifts when the image is small relative to
    its detail: we measured 0-8 bits on the 1600x1004 reference photo, 4-32 bits on
    768x512 Kodak photos, and up to 100 bits on 256x256 photos with a dark 1-px border.
    Querying an index with all eight still finds most rotated or mirrored copies of a
    full-size photo; for small images, hash the transformed pixels instead.
    """
    result = _dct16(np.asarray(rgb), reduce_to_512)
    if result is None:
        return [_EMPTY_HASH] * len(Dihedral)
    coefficients, quality = result
    return [
        PdqHash(bits=_bits_from_dct(_apply_dihedral_to_dct(coefficients, v)), quality=quality)
        for v in Dihedral
    ]


# --------------------------------------------------------------------------------------
# Files


def load_rgb_for_pdq(
    source: str | os.PathLike[str] | Image.Image,
    *,
    apply_exif_orientation: bool = True,
    fast_jpeg_decode: bool = True,
) -> np.ndarray:
    """Decode an image to the array PDQ hashes: uint8 grey (H, W) or RGB (H, W, 3).

    - EXIF orientation is applied by default (see the module docstring for why).
    - Colour modes are converted by Pillow: CMYK, YCbCr and P (palette) go to RGB, 1-bit
      and 16-bit grey go to 8-bit grey, and alpha is dropped rather than composited, as
      the reference decoders do.
    - ``fast_jpeg_decode``: large JPEGs are decoded at a reduced DCT scale (Pillow
      ``draft``) that still leaves at least 1024 px on the shorter side. PDQ blurs far
      more than that scaling does, so the hash barely moves (see tests), and a 12 MP
      photo decodes about 3x faster. Only applied to files opened here.
    """
    if isinstance(source, Image.Image):
        # Never change the decode scale of an image the caller owns.
        return _pillow_to_array(source, apply_exif_orientation, fast_jpeg_decode=False)
    with Image.open(source) as image:
        return _pillow_to_array(image, apply_exif_orientation, fast_jpeg_decode)


def _pillow_to_array(image: Image.Image, apply_exif_orientation: bool, fast_jpeg_decode: bool) -> np.ndarray:
    if fast_jpeg_decode and image.format == "JPEG" and image.mode in ("RGB", "L"):
        # draft() picks the largest 1/2, 1/4 or 1/8 scale that keeps both sides >= the
        # requested size.
        image.draft(image.mode, (_FAST_DECODE_MIN_SIDE, _FAST_DECODE_MIN_SIDE))
    if apply_exif_orientation:
        image = ImageOps.exif_transpose(image)
    if image.mode in ("L", "1"):
        # Grey stays grey: the luma of (g, g, g) is g, and it saves a 3x conversion.
        return np.asarray(image.convert("L"), dtype=np.uint8)
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit grey (scans, some PNGs). Pillow's convert("L") clips at 255, which would
        # turn most of such an image white; rescale the 0..65535 range instead.
        wide = np.asarray(image, dtype=np.float64)
        if image.mode.startswith("I;16") or wide.max(initial=0) > 255:
            wide = wide / 257.0
        return np.clip(np.rint(wide), 0, 255).astype(np.uint8)
    if image.mode == "LA":
        return np.asarray(image.getchannel("L"), dtype=np.uint8)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)
