"""Where the robust stream goes: its codes, the pilots, and the position of every bit.

The layout is derived from the photo's size alone (and the code), so the decoder rebuilds it
from a copy; the keyed pilots then carry the photo's nonce and the code's name.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import NamedTuple

import numpy as np
from reedsolo import RSCodec

from app.core.immunizer import ira
from app.core.immunizer.robust.channel import BLOCK, COEFFS, STEP
from app.core.watermark import codec

# Pilot bits a block; which frequency carries it rotates from block to block, so the decoder can measure every frequency's error
# rate. One pilot a block leaves twelve bits for data: more pilots calibrate the soft bits
# better but leave less room for the reference: recovery after JPEG 75 comes closer to the
# original with one (docs/benchmarks.md, "One pilot a block and the DC for data").
PILOTS_PER_BLOCK = 1
DATA_PER_BLOCK = len(COEFFS) - PILOTS_PER_BLOCK
PILOT_SPACING = len(COEFFS) // PILOTS_PER_BLOCK
# The stream of a large photo is cut into codewords of at most CHUNK_BITS message bits, decoded
# side by side; beyond MAX_MESSAGE_BITS (a 40 KB reference) the codewords repeat instead. A
# larger reference recovers edited regions of large photos closer to the original after JPEG 75
# (docs/benchmarks.md, "Robust mode at full size").
CHUNK_BITS = 40_000
MAX_MESSAGE_BITS = 8 * CHUNK_BITS


class _Code(NamedTuple):
    """An IRA LDPC code of `ldpc_rate` (see `ira`), or the rate-1/3 convolutional code of
    `app.core.watermark.codec` with `puncture`: which of its three outputs each step keeps (the
    pattern repeats)."""
    ldpc_rate: float | None = None
    puncture: tuple[tuple[int, int, int], ...] | None = None


# The codes the stream can be under, weakest first. Immunize uses the first one that the photo's
# platform copies survive, and names it in two keyed pilot bits. The LDPC codes come first: on
# the soft bits of photos after JPEG 75 with a quarter of the photo replaced, they decode at
# rate 3/5 where the convolutional code needs rate 1/2 and its Reed-Solomon layer. The
# convolutional rate-1/2 code is for short codewords (photos of 256 x 256), which decode better
# under it. Very busy photos (the evaluation's giraffe) need the last, strongest code, LDPC 1/4,
# to pass immunize's own test (docs/benchmarks.md).
CODES = {
    "ldpc 3/5": _Code(ldpc_rate=0.6),
    "ldpc 1/2": _Code(ldpc_rate=0.5),
    "1/2": _Code(puncture=((1, 1, 0),)),
    "ldpc 1/4": _Code(ldpc_rate=1 / 4),
}
FIRST_CODE = next(iter(CODES))
# Outer Reed-Solomon code (16 parity bytes per 255): Viterbi leaves its rare errors in short
# bursts, a few bytes long, which this cleans up so the signature can match.
RS_PARITY = 16
# The pilot of every other block is flipped by a bit of the photo's nonce (`pilot_keys`): a region
# pasted from another photo immunized at the same size, at the same place, would otherwise carry
# pilots that all look right, so nothing would show the decoder to leave it out (belief
# propagation's failed guess agrees with the bits read, so the LDPC codes can't blame it the way
# the convolutional code does). With the key, a quarter of its blocks miss their pilot.
# Two more keyed bits name the code the stream is under (its index in CODES): verify decodes
# under that one alone when they read clearly, instead of trying every code, which on a copy
# that does not read (a busy photo edited over a large part) took seconds (docs/benchmarks.md,
# "Figures behind the robust mode's constants").
NONCE_BITS = 64
CODE_ID_BITS = 2
KEY_BITS = NONCE_BITS + CODE_ID_BITS
assert len(CODES) <= 2**CODE_ID_BITS, "more codes than the keyed pilots can name"


class Layout(NamedTuple):
    bh: int
    bw: int
    dither: np.ndarray          # [block, frequency]
    pilots: tuple[np.ndarray, np.ndarray]  # (values, mask), [block, frequency]
    message_bits: int           # in all codewords
    chunks: int                 # codewords the message is cut into (convolutional code)
    position_to_bit: np.ndarray  # data position -> index into the codewords, end to end
    code: str                   # the key of CODES it was built for
    parity_bits: int = 0        # of the LDPC codeword
    keyed: np.ndarray | None = None     # [block, frequency]: the pilots the keys flip
    unkeyed: np.ndarray | None = None   # [block, frequency]: pilot values before that
    key_bit: np.ndarray | None = None   # [block]: which of the KEY_BITS flips its keyed pilot

    @property
    def fixed_pilots(self) -> np.ndarray:
        """[block, frequency]: the pilots that depend on the size alone (the scale search's)."""
        return self.pilots[1] & ~self.keyed

    def with_keys(self, keys: np.ndarray) -> Layout:
        """This layout with its keyed pilots flipped by `keys` (KEY_BITS bits, `pilot_keys`)."""
        flips = self.keyed & keys[self.key_bit].astype(bool)[:, None]
        return self._replace(pilots=(self.unkeyed ^ flips, self.pilots[1]))

    def read_keys(self, soft: np.ndarray, unreliable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(keys, clarity): the keys a copy carries, each bit voted by the keyed pilots of its
        blocks (a dozen to thousands, strewn over the photo, so an edit or re-compression can't
        turn it), and how clearly (mean vote, 0 to 1)."""
        blocks, frequencies = np.nonzero(self.keyed)
        flipped = soft[blocks, frequencies] * (1 - 2.0 * self.unkeyed[blocks, frequencies]) * ~unreliable[blocks]
        votes = np.bincount(self.key_bit[blocks], weights=flipped, minlength=KEY_BITS)
        voters = np.bincount(self.key_bit[blocks], weights=~unreliable[blocks], minlength=KEY_BITS)
        return (votes > 0).astype(np.uint8), np.abs(votes) / np.maximum(voters, 1)

    def all_bits(self, message: np.ndarray, coded: np.ndarray | None = None) -> np.ndarray:
        """[block, frequency]: the pilots, and where the data go the message's code bits
        (`coded`, if given: a decoder's guess at them)."""
        values, pilot_mask = self.pilots
        bits = values.copy()
        bits[~pilot_mask] = (self.encode(message) if coded is None else coded)[self.position_to_bit]
        return bits

    def wrong_bits(self, soft: np.ndarray, message: np.ndarray, coded: np.ndarray | None = None) -> np.ndarray:
        """[block, frequency]: where the read soft bits disagree with what `message` put there."""
        return (soft > 0) != (self.all_bits(message, coded) == 1)

    @property
    def ldpc(self) -> bool:
        return CODES[self.code].ldpc_rate is not None

    @property
    def coded(self) -> int:
        if self.ldpc:
            return self.message_bits + self.parity_bits
        return self.chunks * codec.coded_length(self.message_bits // self.chunks)

    @property
    def payload_bytes(self) -> int:
        """Bytes of stream the message holds: all of it under an LDPC code, whose decoder
        either converges or fails; under the convolutional code, what is left once each
        255-byte chunk gives RS_PARITY to Reed-Solomon (Viterbi leaves its rare errors in short
        bursts, a few bytes long, which that cleans up)."""
        total = self.message_bits // 8
        if self.ldpc:
            return total
        full, rest = divmod(total, 255)
        return full * (255 - RS_PARITY) + max(0, rest - RS_PARITY)

    def protect(self, signed: bytes) -> np.ndarray:
        """The message bits that carry `signed` (at most `payload_bytes` long)."""
        data = signed.ljust(self.payload_bytes, b"\0")
        if not self.ldpc:
            data = bytes(RSCodec(RS_PARITY).encode(data))
        return np.unpackbits(np.frombuffer(data.ljust(self.message_bits // 8, b"\0"), dtype=np.uint8))

    def unprotect(self, message: np.ndarray) -> bytes:
        """The signed stream's bytes from decoded message bits; ReedSolomonError if they can't be."""
        received = np.packbits(message).tobytes()[: self.message_bits // 8]
        return received if self.ldpc else bytes(RSCodec(RS_PARITY).decode(received)[0])

    def encode(self, message: np.ndarray) -> np.ndarray:
        if self.ldpc:
            return ira.encode(message, self.parity_bits)
        return codec.conv_encode_rows(message.reshape(self.chunks, -1)).ravel()

    def decode(self, combined_soft: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(message bits, the decoder's guess at all code bits or None). A failed LDPC decode's
        message must not be encoded again to see which bits it expected: each parity bit
        accumulates all checks before it, so a few wrong message bits would turn half of them."""
        if self.ldpc:
            coded = ira.decode(combined_soft, self.message_bits)
            return coded[: self.message_bits], coded
        rows = combined_soft.reshape(self.chunks, -1)
        return codec.viterbi_decode_rows(rows, self.message_bits // self.chunks).ravel(), None


def make_layout(width: int, height: int, code: str = FIRST_CODE) -> Layout:
    """Everything the decoder derives from the size alone and the code (a key of CODES):
    dither, pilots, permutation, lengths. Dither and pilots are the same for every code, so the
    scale search need not know which one a photo uses."""
    bh, bw = height // BLOCK, width // BLOCK
    n = bh * bw
    seed = int.from_bytes(hashlib.sha256(struct.pack(">II", width, height) + b"robust").digest()[:8], "big")
    rng = np.random.default_rng(seed)
    dither = rng.uniform(0, STEP, (n, len(COEFFS)))
    pilot_mask = np.zeros((n, len(COEFFS)), dtype=bool)
    for j in range(PILOTS_PER_BLOCK):
        pilot_mask[np.arange(n), (np.arange(n) + j * PILOT_SPACING) % len(COEFFS)] = True
    pilots = np.zeros((n, len(COEFFS)), dtype=np.uint8)
    pilots[pilot_mask] = rng.integers(0, 2, int(pilot_mask.sum()), dtype=np.uint8)
    # The pilots of every other block (a checkerboard) are keyed.
    keyed = pilot_mask & ((np.arange(n) // bw + np.arange(n) % bw) % 2 == 1)[:, None]
    # Each key bit's blocks are strewn over the photo, so an edit takes a like share of each.
    keys = dict(keyed=keyed, unkeyed=pilots, key_bit=rng.integers(0, KEY_BITS, n))
    pilots = (pilots, pilot_mask)
    slots = n * DATA_PER_BLOCK
    rate = CODES[code].ldpc_rate
    if rate is not None:
        # One codeword as long as the slots (or as MAX_MESSAGE_BITS allows), repeated over them.
        length = min(slots, int(MAX_MESSAGE_BITS / rate))
        message_bits = int(length * rate) // 8 * 8
        position_to_bit = rng.permutation(slots) % length
        return Layout(bh, bw, dither, pilots, message_bits, 1, position_to_bit, code, length - message_bits, **keys)
    pattern = CODES[code].puncture
    kept_per_period = sum(map(sum, pattern))
    steps = slots * len(pattern) // kept_per_period  # trellis steps the slots hold, tails included
    chunks = -(-min(steps, MAX_MESSAGE_BITS) // CHUNK_BITS)
    chunk_bits = min(steps // chunks - codec.CONSTRAINT_LENGTH, MAX_MESSAGE_BITS // chunks)
    chunk_bits -= chunk_bits % 8
    kept_in_one = _kept_outputs(chunk_bits, code)
    coded_in_one = codec.coded_length(chunk_bits)
    kept = (np.arange(chunks)[:, None] * coded_in_one + kept_in_one[None, :]).ravel()
    # Each embedding position carries one of the kept (unpunctured) code bits.
    position_to_bit = kept[rng.permutation(slots) % len(kept)]
    return Layout(bh, bw, dither, pilots, chunks * chunk_bits, chunks, position_to_bit, code, **keys)


def pilot_keys(digest: bytes, code: str) -> np.ndarray:
    """What the keyed pilots carry: the photo's nonce (the first NONCE_BITS bits of its signed
    pixel digest), then the index of its code in CODES."""
    nonce = np.unpackbits(np.frombuffer(digest[: NONCE_BITS // 8], dtype=np.uint8))
    code_id = (list(CODES).index(code) >> np.arange(CODE_ID_BITS)[::-1]) & 1
    return np.concatenate([nonce, code_id.astype(np.uint8)])


def named_code(keys: np.ndarray) -> str | None:
    index = int("".join(map(str, keys[NONCE_BITS:])), 2)
    return list(CODES)[index] if index < len(CODES) else None


def _kept_outputs(message_bits: int, code: str) -> np.ndarray:
    """The coded bits that the puncturing pattern of `code` keeps. The decoder sees a zero (no
    opinion) for the others; the code keeps most of its strength and the message gets room."""
    pattern = np.array(CODES[code].puncture, dtype=bool)
    index = np.arange(codec.coded_length(message_bits))
    step, output = np.divmod(index, codec.CODE_RATE_INVERSE)
    return index[pattern[step % len(pattern), output]]


def pack_excused(excused: np.ndarray | None) -> bytes:
    """The excused blocks as a zlib-compressed bitmap (a few dozen bytes), or nothing."""
    if excused is None or not excused.any():
        return b""
    return zlib.compress(np.packbits(excused.ravel()).tobytes(), 9)


def unpack_excused(data: bytes, n_blocks: int) -> np.ndarray:
    if not data:
        return np.zeros(n_blocks, dtype=bool)
    try:
        bits = np.unpackbits(np.frombuffer(zlib.decompress(data), dtype=np.uint8))
    except zlib.error:
        return np.zeros(n_blocks, dtype=bool)  # signed, so ours; but never trust a length
    if len(bits) < n_blocks:
        return np.zeros(n_blocks, dtype=bool)
    return bits[:n_blocks].astype(bool)
