"""Local features of a photo: ORB keypoints and descriptors, computed at import and stored.

The leak matcher (`leaks.matcher`) compares them with found images; importing a photo only
needs to compute and serialise them, so this module does not depend on leak scanning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

FEATURES_PER_REFERENCE = 500
REFERENCE_SIDE = 640  # vault photos are described at this long side (finer detail is noise-like)


@dataclass(frozen=True)
class LocalFeatures:
    """ORB keypoints (x, y in a `width` × `height` rendering) and 32-byte descriptors."""

    width: int
    height: int
    points: np.ndarray  # (n, 2) float32
    descriptors: np.ndarray  # (n, 32) uint8

    def to_bytes(self) -> bytes:
        header = np.array([self.width, self.height, len(self.points)], dtype=np.int32).tobytes()
        return header + self.points.astype(np.float16).tobytes() + self.descriptors.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> LocalFeatures:
        width, height, n = np.frombuffer(data[:12], dtype=np.int32)
        points = np.frombuffer(data[12 : 12 + n * 4], dtype=np.float16).reshape(n, 2).astype(np.float32)
        descriptors = np.frombuffer(data[12 + n * 4 :], dtype=np.uint8).reshape(n, 32)
        return cls(int(width), int(height), points, descriptors)


def grey_at(image: Image.Image, long_side: int) -> tuple[np.ndarray, float]:
    """The grey pixels local features are found in (at most `long_side`), and the scale used:
    the matcher looks for text in the same pixels its query points refer to."""
    scale = min(1.0, long_side / max(image.size))
    if scale < 1.0:
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.BILINEAR)
    return np.asarray(image.convert("L")), scale


def local_features(image: Image.Image, long_side: int = REFERENCE_SIDE,
                   count: int = FEATURES_PER_REFERENCE) -> LocalFeatures:
    """ORB features spread over the whole picture.

    Plain ORB keeps the strongest corners, which cluster in the most textured region; a crop
    of a calmer region would then share almost no features with the original. Detecting many
    and keeping the best few of every cell of a grid makes any large-enough crop carry its
    share of the features.
    """
    import cv2  # here, not at the top: OpenCV takes ~0.1 s to load and opening the app needs none

    grey, _ = grey_at(image, long_side)
    orb = cv2.ORB_create(nfeatures=count * 6, scaleFactor=1.25, nlevels=10, edgeThreshold=15,
                         patchSize=31, fastThreshold=20)
    keypoints, descriptors = orb.detectAndCompute(grey, None)
    if descriptors is None or not keypoints:
        return LocalFeatures(grey.shape[1], grey.shape[0], np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))
    points = np.array([kp.pt for kp in keypoints], dtype=np.float32)
    keep = _spread(points, np.array([kp.response for kp in keypoints]), grey.shape[1], grey.shape[0], count)
    return LocalFeatures(grey.shape[1], grey.shape[0], points[keep], descriptors[keep])


def _spread(points: np.ndarray, response: np.ndarray, width: int, height: int, count: int,
            grid: int = 8) -> np.ndarray:
    """Indices of up to `count` keypoints: the strongest of each grid cell first."""
    if len(points) <= count:
        return np.arange(len(points))
    cell = (np.minimum(points[:, 1] * grid // max(height, 1), grid - 1) * grid
            + np.minimum(points[:, 0] * grid // max(width, 1), grid - 1)).astype(int)
    order = np.lexsort((-response, cell))  # by cell, strongest first within a cell
    rank_in_cell = np.empty(len(points), dtype=int)
    sorted_cells = cell[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_cells)) + 1]
    lengths = np.diff(np.r_[starts, len(order)])
    rank_in_cell[order] = np.arange(len(order)) - np.repeat(starts, lengths)
    # Round-robin over cells: every cell's best, then every cell's second best, ...
    chosen = np.lexsort((-response, rank_in_cell))[:count]
    return np.sort(chosen)
