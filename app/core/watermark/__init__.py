"""Watermarks for shared copies.

* `embed_watermark` / `read_watermark`: the robust invisible mark carrying a share ID
  (survives JPEG, resizing, cropping, small rotations, mirroring, colour edits).
* `fragile`: an LSB mark that proves a copy is bit-for-bit untouched.

Qt-free; numpy, scipy and OpenCV only.
"""

from app.core.watermark.embed import embed_watermark
from app.core.watermark.errors import (
    FragileMessageTooLong,
    ImageTooSmallForWatermark,
    InvalidWatermarkImage,
    InvalidWatermarkKey,
    InvalidWatermarkPayload,
    WatermarkError,
)
from app.core.watermark.fragile import FragileResult, FragileState, check_fragile, embed_fragile
from app.core.watermark.layout import PAYLOAD_BITS
from app.core.watermark.read import WatermarkInspection, WatermarkResult, inspect_watermark, read_watermark

__all__ = [
    "PAYLOAD_BITS",
    "FragileMessageTooLong",
    "FragileResult",
    "FragileState",
    "ImageTooSmallForWatermark",
    "InvalidWatermarkImage",
    "InvalidWatermarkKey",
    "InvalidWatermarkPayload",
    "WatermarkError",
    "WatermarkInspection",
    "WatermarkResult",
    "check_fragile",
    "embed_fragile",
    "embed_watermark",
    "inspect_watermark",
    "read_watermark",
]
