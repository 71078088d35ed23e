"""The keyed tile: where the sync chips and the data chips sit, and their signs.

The mark is one square tile of `TILE_SIZE` x `TILE_SIZE` working pixels, repeated over
the whole image. The tile is made of `CHIP_GRID` x `CHIP_GRID` chips (±1 values) turned
into pixels by ideal band-limited (Fourier) upsampling, so every chip is a smooth blob
about two working pixels wide: that keeps the mark out of the highest frequencies, which
JPEG and downscaling remove first.

Some chips are a fixed pseudo-random *sync* pattern (they let the decoder find where the
tile starts and whether the image was mirrored); the others carry the coded bits, each
coded bit spread over several chips far apart in the tile, with pseudo-random signs. All
positions and signs come from the secret key, so without the key nobody can tell which
chip means what, or write a valid mark.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import numpy as np

from app.core.watermark.codec import CRC_BITS, coded_length
from app.core.watermark.errors import InvalidWatermarkKey

TILE_SIZE = 64
CHIP_GRID = 32
N_CHIPS = CHIP_GRID * CHIP_GRID
N_SYNC_CHIPS = 256
N_DATA_CHIPS = N_CHIPS - N_SYNC_CHIPS

PAYLOAD_BITS = 56
MESSAGE_BITS = PAYLOAD_BITS + CRC_BITS
N_CODED_BITS = coded_length(MESSAGE_BITS)

_DOMAIN = b"sanctum/watermark/robust/v1/"


def _keyed_rng(key: bytes, purpose: bytes) -> np.random.Generator:
    if not isinstance(key, (bytes, bytearray)) or len(key) == 0:
        raise InvalidWatermarkKey()
    seed = hmac.new(bytes(key), _DOMAIN + purpose, hashlib.sha256).digest()
    return np.random.default_rng(np.frombuffer(seed, dtype=np.uint32))


def upsample_chips(chips: np.ndarray, size: int = TILE_SIZE) -> np.ndarray:
    """CHIP_GRID² chip values -> periodic size² tile, by zero-padding the spectrum.

    The Nyquist row and column of the chip grid are dropped (they would be split
    ambiguously between +f and -f and are the first thing any filter removes).
    """
    half = CHIP_GRID // 2
    spectrum = np.fft.fft2(chips)
    padded = np.zeros((size, size), dtype=complex)
    low = slice(0, half)
    high_small, high_big = slice(CHIP_GRID - half + 1, None), slice(size - half + 1, None)
    padded[low, low] = spectrum[low, low]
    padded[low, high_big] = spectrum[low, high_small]
    padded[high_big, low] = spectrum[high_small, low]
    padded[high_big, high_big] = spectrum[high_small, high_small]
    return np.fft.ifft2(padded).real * (size * size) / N_CHIPS


def downsample_to_chips(tile: np.ndarray) -> np.ndarray:
    """Inverse of `upsample_chips`: the matched filter of each chip, for an aligned tile."""
    half = CHIP_GRID // 2
    spectrum = np.fft.fft2(tile)
    small = np.zeros((CHIP_GRID, CHIP_GRID), dtype=complex)
    low = slice(0, half)
    high_small, high_big = slice(CHIP_GRID - half + 1, None), slice(TILE_SIZE - half + 1, None)
    small[low, low] = spectrum[low, low]
    small[low, high_small] = spectrum[low, high_big]
    small[high_small, low] = spectrum[high_big, low]
    small[high_small, high_small] = spectrum[high_big, high_big]
    return np.fft.ifft2(small).real * N_CHIPS / (TILE_SIZE * TILE_SIZE)


@dataclass(frozen=True)
class TileLayout:
    sync_chips: np.ndarray  # flat chip indices of the sync pattern
    sync_values: np.ndarray  # ±1
    data_chips: np.ndarray  # flat chip indices carrying coded bits
    data_signs: np.ndarray  # ±1 scrambling per data chip
    coded_bit_of_data_chip: np.ndarray  # which coded bit each data chip carries
    sync_tile: np.ndarray  # TILE_SIZE² pixels of the sync chips alone

    @classmethod
    def from_key(cls, key: bytes) -> TileLayout:
        rng = _keyed_rng(key, b"layout")
        order = rng.permutation(N_CHIPS)
        sync_chips, data_chips = order[:N_SYNC_CHIPS], order[N_SYNC_CHIPS:]
        sync_values = rng.choice([-1.0, 1.0], size=N_SYNC_CHIPS)
        data_signs = rng.choice([-1.0, 1.0], size=N_DATA_CHIPS)
        # data_chips is already a random order, so "chip i carries coded bit i mod n"
        # scatters each coded bit's copies across the tile.
        coded_bit_of_data_chip = np.arange(N_DATA_CHIPS) % N_CODED_BITS
        sync_grid = np.zeros(N_CHIPS)
        sync_grid[sync_chips] = sync_values
        sync_tile = upsample_chips(sync_grid.reshape(CHIP_GRID, CHIP_GRID))
        return cls(sync_chips, sync_values, data_chips, data_signs, coded_bit_of_data_chip,
                   sync_tile)

    def chips_for(self, coded_bits: np.ndarray) -> np.ndarray:
        """CHIP_GRID x CHIP_GRID chip values (±1, sync + data) for one codeword."""
        grid = np.zeros(N_CHIPS)
        grid[self.sync_chips] = self.sync_values
        grid[self.data_chips] = self.data_signs * (2.0 * coded_bits[self.coded_bit_of_data_chip] - 1.0)
        return grid.reshape(CHIP_GRID, CHIP_GRID)

    def soft_coded_bits(self, chips: np.ndarray) -> np.ndarray:
        """Combine the copies of each coded bit (positive = 1)."""
        flat = chips.reshape(-1)
        contributions = flat[self.data_chips] * self.data_signs
        return np.bincount(self.coded_bit_of_data_chip, weights=contributions,
                           minlength=N_CODED_BITS)


def dihedral(tile: np.ndarray, index: int) -> np.ndarray:
    """The tile's eight symmetries: index 0-3 quarter turns; 4-7 mirrored, then quarter turns."""
    if index >= 4:
        tile = tile[:, ::-1]
    return np.rot90(tile, index % 4)

