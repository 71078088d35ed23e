"""Predictors of the integer coupling layers (the lossless mode's invertible network).

The lossless transform is a chain of six integer coupling steps per 8×8 block: the pixels
of one checkerboard parity, one colour channel at a time, are shifted by a function of the
pixels the decoder already knows at that point. A predictor is that function. It sees:

* every channel at the *other* parity (unchanged during the step), and
* the channels before `channel` at the *same* parity (already transformed; the decoder
  undoes the steps in reverse order, so it sees them in exactly that state).

It must never read `channel` or later channels at the step's own parity, and it must use
integer arithmetic only: the decoder on another machine has to compute bit-identical
predictions, or restoration stops being exact. Neighbours outside the 8×8 block are
replaced by their mirror image inside it, so a block can be restored without its
neighbours (that is what keeps untouched blocks exact next to a tampered one).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

BLOCK = 8


class Predictor(Protocol):
    name: str

    def predict(self, blocks: np.ndarray, parity: int, channel: int) -> tuple[np.ndarray, np.ndarray]:
        """blocks: int32 (N, 8, 8, 3). Returns (prediction, complexity), both int32 (N, 8, 8);
        only positions with (row + col) % 2 == parity are used."""
        ...


def mirrored_neighbours(plane: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """North, south, west, east neighbours of every pixel of (N, 8, 8) planes, mirrored at the
    block border (row -1 reads row 1), so a neighbour always has the other parity."""
    padded = np.pad(plane, ((0, 0), (1, 1), (1, 1)), mode="reflect")
    north = padded[:, :-2, 1:-1]
    south = padded[:, 2:, 1:-1]
    west = padded[:, 1:-1, :-2]
    east = padded[:, 1:-1, 2:]
    return north, south, west, east


class ClassicalPredictor:
    """Rhombus (four-neighbour mean) prediction plus an inter-channel correction: once the red
    value of a pixel is known, green is predicted as its own rhombus mean shifted by how far red
    stood from red's rhombus mean (colour edges line up across channels)."""

    name = "classical"

    def predict(self, blocks: np.ndarray, parity: int, channel: int) -> tuple[np.ndarray, np.ndarray]:
        plane = blocks[..., channel]
        n, s, w, e = mirrored_neighbours(plane)
        sum4 = n + s + w + e
        complexity = np.abs(n - s) + np.abs(w - e) + np.abs(n + s - w - e) // 2
        if channel == 0:
            return (sum4 + 2) >> 2, complexity
        # Residual of the previous channel at this pixel (already transformed at this parity,
        # exactly as the decoder will see it), scaled by 3/4: full weight overshoots on photos.
        prev = blocks[..., channel - 1]
        pn, ps, pw, pe = mirrored_neighbours(prev)
        residual4 = 4 * prev - (pn + ps + pw + pe)
        prediction = (4 * sum4 + 3 * residual4 + 8) >> 4
        complexity = complexity + np.abs(residual4) // 4
        return prediction, complexity

