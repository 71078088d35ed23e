"""The learned predictor of the integer coupling layers: a tiny MLP on the local 5×5 window.

For the pixels of one parity and one channel it predicts the rhombus mean (four-neighbour
mean) plus a learned correction. The correction is a one-hidden-layer ReLU network with a
linear skip path (one head per channel, shared by both parities), fed with integer features
of the mirrored 5×5 window around the pixel, each as ``4·x − sum4_k`` (sum4_k = the pixel's
four-neighbour sum in channel k, so the features do not depend on the brightness level):

* for ``channel`` itself, the 12 other-parity pixels of the window;
* for every channel k < ``channel``, all 25 pixels of the window (the pixel itself included):
  those channels are already known to the decoder at this parity;
* for every channel k > ``channel``, its four rhombus neighbours (other parity).

That is 20, 41 and 62 features for the R, G and B heads.

It never reads ``channel`` or later channels at the step's own parity (see ``predictors.py``).
Neighbours outside the 8×8 block are mirrored inside it (reflect padding by two, which keeps
every neighbour's parity), so each block is predicted on its own.

The weights are fixed-point integers (``immunizer_predictor.npz`` beside this module, shipped
as package data in every installation; trained by ``models/train_immunizer_predictor.py``). Inference is bit-exact on any machine: the matrix
products run in float64, but every input and weight is an integer and every partial sum is
bounded below 2**50 for any pixel values (checked when the weights load), so the summation
order of the BLAS does not matter (verified identical with 1 or 2 OpenBLAS threads and with
non-FMA kernels); ReLU, scaling by powers of two and floor then act on exact values. Since the first
layer is linear, its weights are folded at load time (exactly, in integers) onto the raw
window pixels, which spares building the relative features at inference.
"""

from __future__ import annotations

import threading
import zipfile
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np

from app.core.immunizer.errors import ImmunizerError
from app.core.immunizer.predictors import mirrored_neighbours

# Package data, so a wheel, an sdist and the PyInstaller build carry it like the source tree.
MODEL_PATH: Traversable = resources.files("app.core.immunizer") / "immunizer_predictor.npz"


class PredictorWeightsMissing(ImmunizerError):
    """The learned predictor's weights are missing or damaged in this installation.

    Raised rather than falling back to the classical predictor: copies made with a fallback
    would verify elsewhere, but this installation could not verify copies made by a complete one,
    and nobody would know why."""

    default_message = ("The immunizer's model file is missing or damaged in this installation. "
                       "Reinstall Sanctum.")

# Window offsets (row, col) around the predicted pixel; the first four are the rhombus.
OTHER_PARITY_OFFSETS = ((-1, 0), (1, 0), (0, -1), (0, 1),
                        (-2, -1), (-2, 1), (2, -1), (2, 1),
                        (-1, -2), (1, -2), (-1, 2), (1, 2))
SAME_PARITY_OFFSETS = ((0, 0), (-1, -1), (-1, 1), (1, -1), (1, 1),
                       (-2, 0), (2, 0), (0, -2), (0, 2),
                       (-2, -2), (-2, 2), (2, -2), (2, 2))
EXACT_LIMIT = 2 ** 50            # every partial sum must stay below this (float64 is exact to 2**53)
_CHUNK_BLOCKS = 512              # small reused work arrays (fresh large ones cost page faults)


def feature_layout(channel: int) -> list[tuple[int, int, int]]:
    """(channel k, row offset, col offset) of every feature of a `channel` head, in order."""
    layout = []
    for k in range(3):
        if k > channel:      # later channels: only their rhombus (local structure hints)
            layout += [(k, r, c) for r, c in OTHER_PARITY_OFFSETS[:4]]
        else:
            layout += [(k, r, c) for r, c in OTHER_PARITY_OFFSETS]
        if k < channel:      # earlier channels: their whole 5×5 window
            layout += [(k, r, c) for r, c in SAME_PARITY_OFFSETS]
    return layout


def feature_count(channel: int) -> int:
    return len(feature_layout(channel))


def sublattices(parity: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The 32 positions of one parity are two 4×4 sub-lattices: rows r0::2, cols c0::2."""
    return (0, parity), (1, 1 - parity)


def window_rows(blocks: np.ndarray, parity: int, channel: int, dtype=np.float64,
                out: np.ndarray | None = None) -> np.ndarray:
    """Raw window pixels of every position of `parity`, one row per entry of
    `feature_layout(channel)`: shape (d, 32 * N). Column order: sub-lattice (see
    `sublattices`), row and column inside the 4×4 sub-lattice, then block (blocks last keeps
    every copy contiguous). `out`, if given, is a reusable (d, 2, 4, 4, N) buffer."""
    blocks = np.asarray(blocks)
    n = blocks.shape[0]
    planes = np.ascontiguousarray(blocks.transpose(3, 1, 2, 0), dtype=dtype)      # (3, 8, 8, N)
    padded = np.pad(planes, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    layout = feature_layout(channel)
    if out is None:
        out = np.empty((len(layout), 2, 4, 4, n), dtype=dtype)
    for i, (r0, c0) in enumerate(sublattices(parity)):
        for j, (k, r, c) in enumerate(layout):
            rr, cc = 2 + r0 + r, 2 + c0 + c
            out[j, i] = padded[k, rr:rr + 8:2, cc:cc + 8:2]
    return out.reshape(len(layout), 32 * n)


def parity_values(plane: np.ndarray, parity: int) -> np.ndarray:
    """Values of an (N, 8, 8) plane at the positions of `parity`, in `window_rows` column order."""
    return np.stack([plane[:, r0::2, c0::2].transpose(1, 2, 0) for r0, c0 in sublattices(parity)]).reshape(-1)


def training_samples(blocks: np.ndarray, parity: int, channel: int):
    """For the training script: (features int32 (M, d) as ``4·x − sum4_k``, sum4 int32 (M,),
    target pixel int32 (M,)), M = 32 * N, in the column order of `window_rows`."""
    blocks = np.asarray(blocks, dtype=np.int32)
    raw = window_rows(blocks, parity, channel, np.int32)
    layout = feature_layout(channel)
    sum4 = {}
    for k in range(3):
        rows = [j for j, (kk, r, c) in enumerate(layout) if kk == k and abs(r) + abs(c) == 1]
        sum4[k] = raw[rows].sum(axis=0)
    feats = np.stack([4 * raw[j] - sum4[k] for j, (k, r, c) in enumerate(layout)], axis=1)
    target = parity_values(blocks[..., channel], parity)
    return feats.astype(np.int32), sum4[channel].astype(np.int32), target.astype(np.int32)


class _Head:
    """Fixed-point weights of one channel's head (x = the integer features described in the
    module docstring):

    acc  = x · w1 + b1                        (hidden units, scale 2**q1)
    out  = max(acc, 0) · w2 + x · skip + b2   (the correction, scale 2**q)
    pred = clip(floor((sum4 · 2**(q - 2) + out + 2**(q - 1)) / 2**q), 0, 255)
    """

    def __init__(self, data, channel: int):
        p = f"c{channel}_"
        w1 = np.asarray(data[p + "w1"], dtype=np.int64)            # (d, H)
        b1 = np.asarray(data[p + "b1"], dtype=np.int64)             # (H,)
        w2 = np.asarray(data[p + "w2"], dtype=np.int64)             # (H,)
        skip = np.asarray(data[p + "skip"], dtype=np.int64)         # (d,)
        b2 = int(data[p + "b2"])
        self.q = int(data[p + "q"])
        layout = feature_layout(channel)
        d = len(layout)
        if w1.ndim != 2 or w1.shape[0] != d or skip.shape != (d,) or w2.shape != b1.shape \
                or w1.shape[1] != w2.shape[0]:
            raise ValueError(f"immunizer predictor: bad weight shapes for channel {channel}")
        if not 2 <= self.q <= 40:
            raise ValueError("immunizer predictor: bad output scale")
        # Fold "4·x_j − sum4_k" into weights on the raw pixels x_j (exact integer algebra):
        # Σ_j w_j (4 x_j − sum4_k(j)) = Σ_j 4 w_j x_j − Σ_k (Σ_{j in k} w_j) · Σ_{rhombus of k} x.
        both = np.concatenate([w1, skip[:, None]], axis=1)         # (d, H + 1)
        folded = 4 * both
        for k in range(3):
            in_k = [j for j, (kk, _, _) in enumerate(layout) if kk == k]
            rhombus = [j for j in in_k if abs(layout[j][1]) + abs(layout[j][2]) == 1]
            folded[rhombus] -= both[in_k].sum(axis=0)
        # The biases ride along as the weights of a constant-one input row.
        folded = np.concatenate([folded, np.append(b1, b2)[None, :]], axis=0)   # (d + 1, H + 1)
        # Worst case over all pixel values in [0, 255]: every partial sum must be exact.
        acc_max = np.abs(folded[:-1]).sum(axis=0) * 255 + np.abs(folded[-1])
        out_max = int((np.abs(w2) * acc_max[:-1]).sum()) + int(acc_max[-1])
        if out_max + 2 * 1020 * 2 ** self.q >= EXACT_LIMIT:
            raise ValueError("immunizer predictor: weights too large for exact arithmetic")
        self.first = np.ascontiguousarray(folded.T).astype(np.float64)   # (H + 1, d + 1)
        self.w2 = w2.astype(np.float64)

    def correction(self, raw: np.ndarray) -> np.ndarray:
        """raw: float64 (d + 1, M) window pixels (last row all ones) -> float64 (M,) holding
        the exact integer correction at scale 2**q."""
        prod = self.first @ raw                                      # (H + 1, M), exact
        hidden = prod[:-1]
        np.maximum(hidden, 0, out=hidden)
        return self.w2 @ hidden + prod[-1]


_lock = threading.Lock()
_heads: dict[str, list[_Head]] = {}


def load_heads(path: Path | str | Traversable = MODEL_PATH) -> list[_Head]:
    """The three channel heads of a weights file (loaded once, then cached). Raises
    `PredictorWeightsMissing` when the file is absent or not a valid weights file."""
    key = str(path)
    with _lock:
        heads = _heads.get(key)
        if heads is None:
            try:
                # as_file: the path itself for files on disk, a temporary copy otherwise (zip).
                with resources.as_file(Path(path) if isinstance(path, str) else path) as real, \
                        np.load(real, allow_pickle=False) as data:
                    heads = [_Head(data, c) for c in range(3)]
            except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
                raise PredictorWeightsMissing(
                    f"{PredictorWeightsMissing.default_message} ({path}: {exc})") from exc
            _heads[key] = heads
        return heads


class LearnedPredictor:
    """Rhombus mean plus a small learned correction (see the module docstring); the
    complexity is the classical one (four-neighbour gradients plus the previous channel's
    residual), which obeys the same read rules. Pixel values are clipped to 0..255 first, so
    for in-range blocks the complexity equals `ClassicalPredictor`'s."""

    name = "learned"

    def __init__(self, model_path: Path | str | None = None):
        self.model_path = Path(model_path) if model_path is not None else MODEL_PATH

    def predict(self, blocks: np.ndarray, parity: int, channel: int) -> tuple[np.ndarray, np.ndarray]:
        if parity not in (0, 1) or channel not in (0, 1, 2):
            raise ValueError("parity must be 0 or 1 and channel 0, 1 or 2")
        blocks = np.asarray(blocks)
        if blocks.ndim != 4 or blocks.shape[1:] != (8, 8, 3):
            raise ValueError("blocks must have shape (N, 8, 8, 3)")
        # The lifting's intermediate states may leave 0..255 for a while; everything here is
        # computed from the clipped values (a per-pixel function, so the read rules still
        # hold), which keeps the exactness bound valid for any input.
        blocks = np.clip(blocks, 0, 255).astype(np.int32)
        head = load_heads(self.model_path)[channel]
        n = blocks.shape[0]

        plane = blocks[..., channel]
        pn, ps, pw, pe = mirrored_neighbours(plane)
        sum4 = pn + ps + pw + pe
        complexity = np.abs(pn - ps) + np.abs(pw - pe) + np.abs(pn + ps - pw - pe) // 2
        if channel > 0:
            prev = blocks[..., channel - 1]
            qn, qs, qw, qe = mirrored_neighbours(prev)
            complexity = complexity + np.abs(4 * prev - (qn + qs + qw + qe)) // 4

        # Positions of the other parity keep the rhombus mean; the caller ignores them.
        prediction = (sum4 + 2) >> 2
        scale = float(2 ** (head.q - 2))
        half = float(2 ** (head.q - 1))
        inverse = 2.0 ** -head.q
        d = feature_count(channel)
        size = 32 * min(n, _CHUNK_BLOCKS)
        buffer = np.empty((d + 1) * size)
        for start in range(0, n, _CHUNK_BLOCKS):
            part = blocks[start:start + _CHUNK_BLOCKS]
            m = part.shape[0]
            raw = buffer[:(d + 1) * 32 * m].reshape(d + 1, 2, 4, 4, m)
            window_rows(part, parity, channel, out=raw[:d])
            raw[d] = 1.0
            out = head.correction(raw.reshape(d + 1, 32 * m)).reshape(2, 4, 4, m)
            for i, (r0, c0) in enumerate(sublattices(parity)):
                s4 = sum4[start:start + m, r0::2, c0::2].transpose(1, 2, 0)
                # All terms are integers below 2**50: float64 sums, scaling and floor are exact.
                pred = np.floor((s4 * scale + out[i] + half) * inverse)
                prediction[start:start + m, r0::2, c0::2] = np.clip(pred, 0, 255).transpose(2, 0, 1)
        return prediction.astype(np.int32), complexity.astype(np.int32)
