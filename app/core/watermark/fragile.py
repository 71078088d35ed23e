"""Fragile LSB watermark: proves that a copy is exactly the one Sanctum wrote.

The least significant bit of every channel of every pixel is replaced by:

    [keyed magic (32 bits)] [message length (32 bits)] [message] [HMAC tag (256 bits)]
    [keyed filler bits up to the end of the image]

The tag is HMAC-SHA256 under the key over the image shape, the message, and the seven
high bits of every sample, so any change to any pixel (or to the message) breaks it; the
filler is a keyed pseudo-random stream, so a change that only touches low bits is caught
too. Any re-encoding (JPEG, resize, even most PNG optimisers that quantise) destroys the
mark: that is the point. It never survives edits; the robust mark (`embed.py`, `read.py`) is the
one that identifies leaked copies.

`absent` vs `altered`: if the keyed magic is intact, or most filler bits still match the
keyed stream, the image *was* marked with this key and has been changed (`altered`);
otherwise no fragile mark under this key is present (`absent`).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import struct
from dataclasses import dataclass

import numpy as np

from app.core.watermark.errors import (
    FragileMessageTooLong,
    InvalidWatermarkImage,
    InvalidWatermarkKey,
)

_DOMAIN = b"sanctum/watermark/fragile/v1/"
_TAG_BYTES = 32
_HEADER_BYTES = 8  # magic (4) + message length (4)
# Filler bits agreeing with the keyed stream at a rate this high cannot be chance (an
# unmarked image agrees on ~50 %); the image carried the mark and was then changed.
_FILLER_MATCH_FOR_ALTERED = 0.75


class FragileState(enum.Enum):
    INTACT = "intact"
    ALTERED = "altered"
    ABSENT = "absent"


@dataclass(frozen=True)
class FragileResult:
    state: FragileState
    message: bytes | None  # the embedded message, only when intact
    mismatched_fraction: float  # share of low bits that differ from what was written


def _check_inputs(rgb: np.ndarray, key: bytes) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InvalidWatermarkImage()
    if not isinstance(key, (bytes, bytearray)) or len(key) == 0:
        raise InvalidWatermarkKey()


def _derive(key: bytes, purpose: bytes) -> bytes:
    return hmac.new(bytes(key), _DOMAIN + purpose, hashlib.sha256).digest()


def _magic(key: bytes) -> bytes:
    return _derive(key, b"magic")[:4]


def _filler_bits(key: bytes, shape: tuple[int, ...], count: int) -> np.ndarray:
    seed = _derive(key, b"filler" + struct.pack(">III", *shape))
    rng = np.random.default_rng(np.frombuffer(seed, dtype=np.uint32))
    return rng.integers(0, 2, size=count, dtype=np.uint8)


def _tag(key: bytes, shape: tuple[int, ...], message: bytes, high_bits: np.ndarray) -> bytes:
    mac = hmac.new(_derive(key, b"tag"), digestmod=hashlib.sha256)
    mac.update(struct.pack(">III", *shape))
    mac.update(struct.pack(">I", len(message)) + message)
    mac.update(high_bits.tobytes())
    return mac.digest()


def capacity_bytes(shape: tuple[int, ...]) -> int:
    """Longest message an image of this shape can carry."""
    return int(np.prod(shape)) // 8 - _HEADER_BYTES - _TAG_BYTES


def embed_fragile(rgb: np.ndarray, key: bytes, message: bytes) -> np.ndarray:
    _check_inputs(rgb, key)
    message = bytes(message)
    if len(message) > capacity_bytes(rgb.shape):
        raise FragileMessageTooLong()
    flat = rgb.reshape(-1)
    high_bits = flat & 0xFE
    record = (_magic(key) + struct.pack(">I", len(message)) + message
              + _tag(key, rgb.shape, message, high_bits))
    record_bits = np.unpackbits(np.frombuffer(record, dtype=np.uint8))
    low_bits = _filler_bits(key, rgb.shape, flat.size)
    low_bits[: record_bits.size] = record_bits
    return (high_bits | low_bits).reshape(rgb.shape)


def check_fragile(rgb: np.ndarray, key: bytes) -> FragileResult:
    _check_inputs(rgb, key)
    flat = rgb.reshape(-1)
    low_bits = flat & 1
    high_bits = flat & 0xFE
    filler = _filler_bits(key, rgb.shape, flat.size)

    header = np.packbits(low_bits[: _HEADER_BYTES * 8]).tobytes()
    magic_ok = header[:4] == _magic(key)
    length = struct.unpack(">I", header[4:8])[0]
    record_len = (_HEADER_BYTES + length + _TAG_BYTES) * 8
    if magic_ok and length <= capacity_bytes(rgb.shape):
        record = np.packbits(low_bits[:record_len]).tobytes()
        message = record[_HEADER_BYTES: _HEADER_BYTES + length]
        stored_tag = record[_HEADER_BYTES + length:]
        filler_ok = np.array_equal(low_bits[record_len:], filler[record_len:])
        tag_ok = hmac.compare_digest(stored_tag, _tag(key, rgb.shape, message, high_bits))
        if tag_ok and filler_ok:
            return FragileResult(FragileState.INTACT, message, 0.0)
        mismatched = float(np.mean(low_bits[record_len:] != filler[record_len:])) \
            if record_len < flat.size else 1.0
        return FragileResult(FragileState.ALTERED, None, mismatched)
    # Header gone: decide from the filler (skip a generous prefix where a record was).
    tail = slice(min(flat.size, 4096 * 8), None)
    if low_bits[tail].size == 0:
        return FragileResult(FragileState.ABSENT, None, 1.0)
    mismatched = float(np.mean(low_bits[tail] != filler[tail]))
    if 1.0 - mismatched >= _FILLER_MATCH_FOR_ALTERED:
        return FragileResult(FragileState.ALTERED, None, mismatched)
    return FragileResult(FragileState.ABSENT, None, mismatched)
