"""Typed exceptions of the watermark package."""

from __future__ import annotations

from app.core.errors import SanctumError


class WatermarkError(SanctumError):
    default_message = "The watermark could not be processed."


class InvalidWatermarkImage(WatermarkError):
    default_message = "The image must be an RGB array of 8-bit pixels (height x width x 3)."


class ImageTooSmallForWatermark(WatermarkError):
    default_message = "The image is too small to carry a watermark."


class InvalidWatermarkPayload(WatermarkError):
    default_message = "The watermark payload does not fit in the available bits."


class InvalidWatermarkKey(WatermarkError):
    default_message = "The watermark key must be non-empty bytes."


class FragileMessageTooLong(WatermarkError):
    default_message = "The message is too long for the fragile watermark of this image."
