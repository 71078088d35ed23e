"""The lossless mode's invertible integer network: six coupling steps per 8×8 block.

Each step takes the pixels of one checkerboard parity in one colour channel and applies
prediction-error expansion (Thodi & Rodríguez 2007) around a prediction made from pixels the
decoder will know at that point (see `predictors.py`):

    e = x - predict(context)
    |e| small (-T <= e < T):  e' = 2e + bit     (the pixel carries one payload bit)
    e >= T:                   e' = e + T        (shifted, so the two ranges never overlap)
    e < -T:                   e' = e - T
    x' = predict(context) + e'

Every step is an integer-to-integer bijection given its context, so running the steps
backwards restores every pixel bit for bit and hands back the payload. Pixels whose context
is busy (complexity > tau) or whose prediction sits near 0 or 255 are left alone: they would
cost distortion for little capacity, or overflow. A block whose pixels would still leave
0..255 is left untouched as a whole and named in the stream's exception list instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.immunizer.predictors import BLOCK, Predictor

STEPS = tuple((parity, channel) for parity in (0, 1) for channel in (0, 1, 2))
MAX_BITS = BLOCK * BLOCK * 3  # each sub-pixel carries at most one bit: 192

# Predictions this close to 0 or 255 mark near-saturated areas, where shifting a bright or dark
# pixel outward would leave 0..255; skipping them costs little capacity and saves whole blocks.
SATURATION_MARGIN = 12

_ROW, _COL = np.indices((BLOCK, BLOCK))
_PARITY_MASK = [((_ROW + _COL) % 2 == p) for p in (0, 1)]


@dataclass(frozen=True)
class LiftingParams:
    threshold: int   # T: errors in [-T, T) carry a bit
    tau: int         # contexts busier than this are skipped
    flat: int = -1   # contexts at most this busy use T = 1: noise shows most in flat areas (SSIM)

    def encode(self) -> bytes:
        return bytes([self.threshold]) + self.tau.to_bytes(2, "big") + (self.flat + 1).to_bytes(2, "big")

    def thresholds(self, complexity: np.ndarray) -> np.ndarray:
        return np.where(complexity <= self.flat, 1, self.threshold).astype(np.int32)


def to_blocks(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) → (N, 8, 8, 3) int32 over the area covered by whole blocks, row-major."""
    bh, bw = image.shape[0] // BLOCK, image.shape[1] // BLOCK
    core = image[: bh * BLOCK, : bw * BLOCK].astype(np.int32)
    return core.reshape(bh, BLOCK, bw, BLOCK, 3).transpose(0, 2, 1, 3, 4).reshape(-1, BLOCK, BLOCK, 3)


def from_blocks(blocks: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Write blocks back into a copy of `image` (the strips beyond whole blocks are kept)."""
    bh, bw = image.shape[0] // BLOCK, image.shape[1] // BLOCK
    out = image.copy()
    out[: bh * BLOCK, : bw * BLOCK] = (
        blocks.reshape(bh, bw, BLOCK, BLOCK, 3).transpose(0, 2, 1, 3, 4).reshape(bh * BLOCK, bw * BLOCK, 3)
        .astype(np.uint8))
    return out


def grid_mask(grid: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixel mask (height, width) of a (rows, cols) grid of 8×8 block flags; the strips beyond
    the last whole block follow the edge blocks."""
    bh, bw = grid.shape
    mask = np.zeros((height, width), dtype=bool)
    mask[: bh * BLOCK, : bw * BLOCK] = np.kron(grid, np.ones((BLOCK, BLOCK), dtype=bool)).astype(bool)
    if width > bw * BLOCK:
        mask[:, bw * BLOCK:] = mask[:, bw * BLOCK - 1:bw * BLOCK]
    if height > bh * BLOCK:
        mask[bh * BLOCK:, :] = mask[bh * BLOCK - 1:bh * BLOCK, :]
    return mask


def _usable(prediction: np.ndarray, complexity: np.ndarray, parity: int, params: LiftingParams) -> np.ndarray:
    margin = max(2 * params.threshold, SATURATION_MARGIN)
    return (_PARITY_MASK[parity] & (complexity <= params.tau)
            & (prediction >= margin) & (prediction <= 255 - margin))


def embed(blocks: np.ndarray, bits: np.ndarray, predictor: Predictor,
          params: LiftingParams) -> tuple[np.ndarray, np.ndarray]:
    """Run the six coupling steps forward. `bits` is (N, MAX_BITS) uint8: each block's payload in
    order; a block consumes as many as it can carry. Returns (transformed int32 blocks that may
    hold out-of-range values, capacity per block in bits)."""
    state = blocks.copy()
    n = len(state)
    used = np.zeros(n, dtype=np.int64)
    for parity, channel in STEPS:
        prediction, complexity = predictor.predict(state, parity, channel)
        t = params.thresholds(complexity)
        x = state[..., channel]
        error = x - prediction
        usable = _usable(prediction, complexity, parity, params)
        expand = usable & (error >= -t) & (error < t)
        flat = expand.reshape(n, -1)
        rank = np.cumsum(flat, axis=1) - 1
        take = np.where(flat, used[:, None] + rank, 0)
        payload = np.take_along_axis(bits, take, axis=1).reshape(expand.shape).astype(np.int32)
        new_error = np.where(expand, 2 * error + payload,
                             np.where(usable & (error >= t), error + t,
                                      np.where(usable & (error < -t), error - t, error)))
        state[..., channel] = prediction + new_error
        used += flat.sum(axis=1)
    return state, used


def extract(blocks: np.ndarray, predictor: Predictor,
            params: LiftingParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the steps backwards: (restored blocks, payload bits (N, MAX_BITS), capacity (N,))."""
    state = blocks.astype(np.int32).copy()
    n = len(state)
    step_bits = []
    step_masks = []
    for parity, channel in reversed(STEPS):
        prediction, complexity = predictor.predict(state, parity, channel)
        t = params.thresholds(complexity)
        x = state[..., channel]
        error = x - prediction
        usable = _usable(prediction, complexity, parity, params)
        carried = usable & (error >= -2 * t) & (error < 2 * t)
        original = np.where(carried, error >> 1,
                            np.where(usable & (error >= 2 * t), error - t,
                                     np.where(usable & (error < -2 * t), error + t, error)))
        state[..., channel] = prediction + original
        step_bits.append((error & 1).reshape(n, -1))
        step_masks.append(carried.reshape(n, -1))
    mask = np.concatenate(step_masks[::-1], axis=1)
    bits = np.concatenate(step_bits[::-1], axis=1).astype(np.uint8)
    # Compact each block's carried bits to the front, in the order the encoder wrote them.
    order = np.argsort(~mask, axis=1, kind="stable")
    compact = np.take_along_axis(bits, order, axis=1)[:, :MAX_BITS]
    capacity = mask.sum(axis=1)
    compact[np.arange(MAX_BITS)[None, :] >= capacity[:, None]] = 0
    return state, compact, capacity


def in_range(blocks: np.ndarray) -> np.ndarray:
    """Which transformed blocks stay within 0..255 (the others are kept untouched)."""
    return ((blocks >= 0) & (blocks <= 255)).reshape(len(blocks), -1).all(axis=1)
