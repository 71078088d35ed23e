"""The exception list of the lossless stream: blocks whose tag travels in the signed stream
instead of in the block itself."""

from __future__ import annotations

import struct
import zlib

import numpy as np

# Blocks whose tag travels in the signed stream instead of in the block itself:
EXC_RAW = 1      # left untouched (embedding would push a pixel past 0 or 255)
EXC_LOWCAP = 2   # too busy to carry its own tag
# How the list is written: bitmaps of both kinds (zlib) then the tags, ~2.2 bytes a block on
# photos with many (see `pack_exceptions`). The first format spent 7 bytes on each (index, kind,
# tag), which left busy photos with clipped areas no room for a reference; verify still reads it.
_EXC_COMPACT = 2
EXC_ENTRY = struct.Struct(">IBH")  # the first format's entry; its index's top byte is 0


def pack_exceptions(raw: np.ndarray, lowcap: np.ndarray, tags: np.ndarray) -> bytes:
    """The exception list: format byte, length-prefixed zlib of the two block bitmaps (raw,
    then low-capacity; they cluster in clipped or busy areas and compress to a few hundred
    bytes), then the 16-bit tag of every listed block in block order."""
    listed = raw | lowcap
    if not listed.any():
        return b""
    bitmaps = zlib.compress(np.packbits(np.concatenate([raw, lowcap & ~raw])).tobytes(), 9)
    tag_bytes = tags[listed].astype(">u2").tobytes()
    return bytes([_EXC_COMPACT]) + struct.pack(">I", len(bitmaps)) + bitmaps + tag_bytes


def parse_exceptions(data: bytes, n: int) -> list[tuple[int, int, int]]:
    """(block index, kind, tag) of every listed block. The list is signed, so it is ours, but
    its lengths are still checked rather than trusted."""
    if not data:
        return []
    if data[0] != _EXC_COMPACT:  # the first format: fixed entries
        entries = (EXC_ENTRY.unpack_from(data, offset)
                   for offset in range(0, len(data) - EXC_ENTRY.size + 1, EXC_ENTRY.size))
        return [(index, kind, tag) for index, kind, tag in entries if index < n]
    if len(data) < 5:
        return []
    (zlen,) = struct.unpack_from(">I", data, 1)
    try:
        packed = zlib.decompressobj().decompress(data[5:5 + zlen], (2 * n + 7) // 8)
        bits = np.unpackbits(np.frombuffer(packed, dtype=np.uint8))
    except zlib.error:
        return []
    if len(bits) < 2 * n:
        return []
    raw, lowcap = bits[:n].astype(bool), bits[n:2 * n].astype(bool)
    listed = np.flatnonzero(raw | lowcap)
    tag_bytes = data[5 + zlen:]
    if len(tag_bytes) != 2 * len(listed):
        return []
    tags = np.frombuffer(tag_bytes, dtype=">u2")
    return [(int(i), EXC_RAW if raw[i] else EXC_LOWCAP, int(t)) for i, t in zip(listed, tags, strict=True)]
