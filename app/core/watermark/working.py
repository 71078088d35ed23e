"""The working image: the photo's luminance at the scale the mark is designed at.

The luminance is brought to about `WORK_AREA` pixels (never enlarged) before embedding, and
to `DECODE_AREA` before reading, so a 12 MP photo and a 0.3 MP copy of it carry the same
pattern at the same relative scale: that is why downscaling hardly hurts.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from app.core.watermark.errors import InvalidWatermarkImage

# Area of the working image the mark is designed at (about 768 x 512).
WORK_AREA = 768 * 512
# Area the decoder brings any input to before searching: the same as the working area,
# so an unaltered photo decodes with the tile at its native period.
DECODE_AREA = 768 * 512


def validate_rgb(rgb: np.ndarray) -> np.ndarray:
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


def resize_to_area(image: np.ndarray, target_area: int) -> np.ndarray:
    height, width = image.shape[:2]
    scale = math.sqrt(target_area / (height * width))
    if scale >= 1.0:
        return image.astype(np.float32)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32)
