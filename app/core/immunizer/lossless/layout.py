"""What each 8×8 block carries in the lossless mode: a 16-bit tag of its original content, in
some blocks the meta word (stream length, slots, configuration), then byte symbols of the
signed stream, named by block and slot."""

from __future__ import annotations

import hashlib
import struct

import numpy as np

from app.core.immunizer import lifting
from app.core.immunizer.predictors import BLOCK

TAG_BITS = 16
SYMBOL_BITS = 8          # byte symbols: busy blocks carry only a few dozen bits
META_BITS = 48           # k (24 bits), symbol slots per block (8), config (8), check (8); in up to META_BLOCKS blocks
META_BLOCKS = 64
MIN_META_BLOCKS = 4     # fewer and one edit could take every copy of the word
META_MARGIN_BITS = 8    # room a meta block should have to spare in the dry run


def block_region(pixels: np.ndarray, index: int, bw: int) -> np.ndarray:
    """What a block's tag covers: its 8×8 pixels, plus for edge blocks the strip of pixels
    beyond the last whole block (so those are covered too)."""
    h, w = pixels.shape[:2]
    bh = h // BLOCK
    r, c = divmod(index, bw)
    y1 = (r + 1) * BLOCK if r < bh - 1 else h
    x1 = (c + 1) * BLOCK if c < bw - 1 else w
    return pixels[r * BLOCK:y1, c * BLOCK:x1]


def block_tags(pixels: np.ndarray, indices=None) -> np.ndarray:
    """16-bit keyless tag of each block's content (of the blocks in `indices`, default all)."""
    h, w = pixels.shape[:2]
    bw = w // BLOCK
    if indices is None:
        indices = range((h // BLOCK) * bw)
    return np.array([tag_bytes(w, h, int(i), block_region(pixels, int(i), bw)) for i in indices],
                    dtype=np.int64)


def meta_block_order(n_blocks: int, width: int, height: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(struct.pack(">II", width, height) + b"meta").digest()[:8], "big")
    return np.random.default_rng(seed).permutation(n_blocks)


def meta_blocks(order: np.ndarray, has_room: np.ndarray) -> np.ndarray:
    """The blocks that carry the meta word: the first META_BLOCKS, in an order seeded by the
    size, of those with room for it. On busy photos most blocks carry fewer than the 64 bits
    a tag and the word take, so a fixed set would lose the word; verify needs no list, it
    recognises these blocks by the word itself (see `read_meta`)."""
    return np.sort(order[has_room[order]][:META_BLOCKS])


def fountain_seed(width: int, height: int, k: int) -> int:
    return int.from_bytes(hashlib.sha256(struct.pack(">III", width, height, k)).digest()[:4], "big")


def meta_word(k: int, per_block: int, config: int) -> int:
    """k: stream bytes; per_block: symbol slots used per block; config: predictor and parameters
    (16 × predictor index + parameter index). Smooth photos decode alike under several
    parameter sets, so the sampled guess is confirmed from here."""
    check = hashlib.sha256(k.to_bytes(3, "big") + bytes([per_block, config]) + b"k").digest()[0]
    return (k << 24) | (per_block << 16) | (config << 8) | check


def read_meta(bits, capacity, valid) -> tuple[tuple[int, int, int], np.ndarray] | None:
    """(k, per_block, config) and the blocks that carry them. The word is the self-checking
    one that the most intact blocks hold whole in the bits after their tag (other blocks hold
    symbol bits there, which repeat a 48-bit word by chance about never)."""
    rich = np.flatnonzero(valid & (capacity >= TAG_BITS + META_BITS))
    if len(rich) == 0:
        return None
    words = from_bits(bits[rich, TAG_BITS:TAG_BITS + META_BITS])
    values, counts = np.unique(words, return_counts=True)
    for index in np.argsort(-counts, kind="stable")[:64]:
        word = int(values[index])
        fields = (word >> 24, (word >> 16) & 0xFF, (word >> 8) & 0xFF)
        if meta_word(*fields) == word:
            return fields, _meta_carriers(bits, capacity, valid, word)
    return None


def _meta_carriers(bits, capacity, valid, word: int) -> np.ndarray:
    """Blocks holding the meta word, or as much of it as they had room for: a chosen block
    can end up with less room than planned (capacity depends a little on the payload). Such a
    block carries no symbols, and verify must not read the word's bits as symbols. A symbol
    block that matches a short prefix by chance is only skipped, which costs a symbol or two,
    never a wrong one."""
    room = np.clip(capacity - TAG_BITS, 0, META_BITS)
    expected = to_bits(np.array(word), META_BITS)
    matches = bits[:, TAG_BITS:TAG_BITS + META_BITS] == expected[None, :]
    within = np.arange(META_BITS)[None, :] < room[:, None]
    return np.flatnonzero(valid & (room > 0) & np.all(matches | ~within, axis=1))


def header_bits(n_blocks: int, meta: np.ndarray) -> np.ndarray:
    bits = np.full(n_blocks, TAG_BITS)
    bits[meta] += META_BITS
    return bits


def to_bits(values: np.ndarray, width: int) -> np.ndarray:
    shifts = np.arange(width - 1, -1, -1)
    return ((values[..., None].astype(np.int64) >> shifts) & 1).astype(np.uint8)


def from_bits(bits: np.ndarray) -> np.ndarray:
    weights = 1 << np.arange(bits.shape[-1] - 1, -1, -1, dtype=np.int64)
    return (bits.astype(np.int64) * weights).sum(axis=-1)


MAX_SLOTS = (lifting.MAX_BITS - TAG_BITS) // SYMBOL_BITS


def symbol_ids(n_blocks: int) -> np.ndarray:
    return (np.arange(n_blocks, dtype=np.int64)[:, None] * MAX_SLOTS + np.arange(MAX_SLOTS)[None, :])


def tag_bytes(w: int, h: int, index: int, region: np.ndarray) -> int:
    data = struct.pack(">III", w, h, index) + np.ascontiguousarray(region, dtype=np.uint8).tobytes()
    digest = hashlib.blake2b(data, digest_size=2, person=b"sanctum-imm-tag").digest()
    return int.from_bytes(digest, "big") >> (16 - TAG_BITS)



def next_to_edit(valid: np.ndarray, bw: int, bh: int) -> np.ndarray:
    """Intact-looking blocks with an edited (tag-failing) block among their eight neighbours."""
    edited = np.pad(~valid.reshape(bh, bw), 1)
    near = np.zeros((bh, bw), dtype=bool)
    for dy in range(3):
        for dx in range(3):
            near |= edited[dy:dy + bh, dx:dx + bw]
    return (near & valid.reshape(bh, bw)).ravel()
