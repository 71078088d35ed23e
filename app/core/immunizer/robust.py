"""Robust mode: immunization that survives social networks (JPEG ≥ 70, downscaling).

Each 8×8 block of luminance carries 13 bits by quantization index modulation (QIM, Chen &
Wornell 2001) on its lowest DCT frequencies (the DC and u, v ≤ 3, u + v ≤ 4): these survive JPEG
75, whose quantisation steps there are 5–8 against our step of 22. The blocks are those of the photo as
a 0.75× downscale would leave it (`_resize_proof`): a resize blurs fine detail into these
frequencies, which made busy areas of untouched copies read as edited. One of the 13 is a
pilot bit that everybody can predict from the photo's size, in every other block also flipped by
a bit of the photo's nonce (from its pixel digest; each bit voted by blocks all over the photo).
The other twelve carry the signed stream (a reference photo plus header) under an LDPC code of
rate 3/5, 1/2 or 1/4 (`ira`), or for small photos a convolutional code with an outer Reed-Solomon code,
spread over the photo by a fixed permutation and repeated as often as space allows.

Verifying finds the scale at which the pilots line up, decodes the stream (belief propagation
on log-likelihoods the pilots calibrate, or soft Viterbi), checks
its signature, re-encodes it and compares *every* expected bit with what each block holds:
blocks an edit reached read like coin flips (about 6 of 13 wrong), untouched ones survive
re-compression with at most a few errors. Tampered blocks are rebuilt from the reference.
Honest limit: the stream is signed, but QIM bits are public, so someone who knows this scheme
could re-embed the expected bits into edited content, and the bit comparison would not see the
edit (see docs/threat-model.md).

Besides `immunize` and `verify` (reached through `api`), `carrier_view`, `block_dct`,
`embed_nearest` and `platform_copies` are public: bench/robust_channel_study.py measures the
channel itself with them, for ways of embedding this mode does not use.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from PIL import Image
from reedsolo import ReedSolomonError, RSCodec
from scipy import fft, ndimage

from app.core.immunizer import container, ira, lifting
from app.core.immunizer.errors import ImageTooSmallToImmunize
from app.core.immunizer.types import CancelFn, Mode, ProgressFn, Verdict, Verification, checkpoint, stepper
from app.core.watermark import codec

BLOCK = 8
# Low frequencies whose JPEG-75 quantisation step is at most 8 (standard luminance table / 2),
# the DC last.
COEFFS = [(0, 1), (1, 0), (1, 1), (0, 2), (2, 0), (1, 2), (2, 1), (2, 2), (0, 3), (3, 0), (1, 3), (3, 1), (0, 0)]
# Which one rotates from block to block, so the decoder can measure every frequency's error
# rate. One pilot a block leaves twelve bits for data: more pilots calibrate the soft bits
# better but leave less room for the reference: recovery after JPEG 75 comes closer to the
# original with one (docs/benchmarks.md, "One pilot a block and the DC for data").
PILOTS_PER_BLOCK = 1
DATA_PER_BLOCK = len(COEFFS) - PILOTS_PER_BLOCK
_PILOT_SPACING = len(COEFFS) // PILOTS_PER_BLOCK
# QIM step, orthonormal DCT units on 0..255 luminance. A larger step survives JPEG better and
# costs SSIM and PSNR: at 22 every edited region of the benchmark is recovered after JPEG 75, at
# 20 one is not (docs/benchmarks.md, robust mode).
STEP = 22.0
EMBED_PASSES = 4
# The stream of a large photo is cut into codewords of at most CHUNK_BITS message bits, decoded
# side by side; beyond MAX_MESSAGE_BITS (a 40 KB reference) the codewords repeat instead. On
# three 3-5 MP photos, raising that limit from 40,000 bits recovered edited regions 1.4-4.4 dB
# closer to the original after JPEG 75.
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
_FIRST_CODE = next(iter(CODES))
SCALES = (1.0, 0.75, 0.5, 0.8, 0.9, 2 / 3, 0.6, 0.7, 0.85, 0.95)
PILOT_AGREEMENT = 0.72               # random bits agree half the time
FOUND_AGREEMENT = 0.8                # stop looking for the scale (photos never immunized: ≤ 0.53)
WINDOW_AGREEMENT = 0.6               # in the scale search's window: 10 standard deviations off chance
SEARCH_BLOCKS = 48
# Where the scale search looks, as fractions of the photo: the centre first, then the middles
# of its quarters, for an edit over the centre leaves the centre window no pilots to agree.
SEARCH_WINDOWS = ((0.5, 0.5), (0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75))
SELF_CHECK_JPEG_QUALITY = 75         # the lowest quality the robust mode promises to survive
MAX_EXCUSED_SHARE = 0.05             # of the blocks; more and the photo is checked as it is
EXCUSE_ROUNDS = 2
BLOCK_ERRORS_TAMPERED = 4            # of 13 bits; untouched blocks after JPEG 75 show 0–2
MIN_REGION_BLOCKS = 12
# What a flagged region needs, its blocks taken together, to be kept: 5 of 12 bits wrong on
# average, or 5 in 12 of its data bits wrong. The first was set on 30 evaluation photos with the
# benchmark's attacks after JPEG 75 and a 0.75x resize: 182 edited regions averaged 5.75 to 6.8
# wrong, the clusters JPEG 75 left in untouched areas 3.2 to 4.1. The second is for a region
# pasted from another photo immunized at the same size, at the same place: its pilots are right
# (they depend on the size only), it averages 4.9 of 12, and the copy would verify AUTHENTIC; by
# its data bits it reads as coin flips. Data bits alone would drop one in-painted region of 90,
# whose smooth fill agrees with a few more of them: hence both tests.
REGION_MEAN_ERRORS = 5.0
REGION_DATA_ERROR_RATE = 5 / 12
# The recovered photo takes the reference this many blocks beyond the flagged ones: a block an
# edit only grazes can keep enough bits to pass, and would leave slivers of the edit in the
# recovered photo. One block takes most of the gain (22.4 -> 24.3 dB on 33 splices after
# JPEG 75; two blocks 24.5 dB, for twice the ring).
RECOVERY_MARGIN_BLOCKS = 1
_TOO_SMALL = "this photo is too small to carry its recovery data in the robust mode (it needs about 400 × 300 pixels)"
# Outer Reed-Solomon code (16 parity bytes per 255): Viterbi leaves its rare errors in short
# bursts, a few bytes long, which this cleans up so the signature can match.
RS_PARITY = 16
# Decoding again without the blocks a failed message blames (see `_decode_stream`). Measured on
# kodim04 with a same-size immunized photo spliced in at the same place, then JPEG 75: 2 rounds
# at a neighbourhood mean of 3 wrong bits read splices up to 16 % of the photo, 5 rounds at 2.5
# up to 25 %.
REDECODE_ROUNDS = 5
# The pilot of every other block is flipped by a bit of the photo's nonce (`_pilot_keys`): a region
# pasted from another photo immunized at the same size, at the same place, would otherwise carry
# pilots that all look right, so nothing would show the decoder to leave it out (belief
# propagation's failed guess agrees with the bits read, so the LDPC codes can't blame it the way
# the convolutional code does). With the key, a quarter of its blocks miss their pilot.
# Two more keyed bits name the code the stream is under (its index in CODES): verify decodes
# under that one alone when they read clearly, instead of trying every code, which on a copy
# that does not read (a busy photo edited over a large part) took 12 s a verify.
NONCE_BITS = 64
CODE_ID_BITS = 2
KEY_BITS = NONCE_BITS + CODE_ID_BITS
assert len(CODES) <= 2**CODE_ID_BITS, "more codes than the keyed pilots can name"
CODE_ID_TRUSTED = 0.25               # mean agreement of a code bit's votes (-1..1) to go by it alone
LLR_BINS = 16                        # strengths of soft bit the pilots calibrate (`_log_likelihoods`)
SUSPECT_NEIGHBOURHOOD_ERRORS = 2.5   # mean wrong bits of 12 around a block: edited ~6, untouched ~1
MAX_SUSPECT_SHARE = 0.5
_LUMA = np.array([0.299, 0.587, 0.114])
# How a change of luminance is shared out among R, G and B: the least change of the three that
# moves luminance by that much (the same change to all three is 1.34x the energy, for about
# 1.2 dB of PSNR and 0.01 of SSIM at the same step, the bits reading back as well). The change
# is tinted a little green and purple, which the eye sees less than the same energy in luminance.
_LUMA_CHANGE = _LUMA / (_LUMA @ _LUMA)


class _Layout(NamedTuple):
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

    def with_keys(self, keys: np.ndarray) -> _Layout:
        """This layout with its keyed pilots flipped by `keys` (KEY_BITS bits, `_pilot_keys`)."""
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


def _layout(width: int, height: int, code: str = _FIRST_CODE) -> _Layout:
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
        pilot_mask[np.arange(n), (np.arange(n) + j * _PILOT_SPACING) % len(COEFFS)] = True
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
        return _Layout(bh, bw, dither, pilots, message_bits, 1, position_to_bit, code, length - message_bits, **keys)
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
    return _Layout(bh, bw, dither, pilots, chunks * chunk_bits, chunks, position_to_bit, code, **keys)


def _pilot_keys(digest: bytes, code: str) -> np.ndarray:
    """What the keyed pilots carry: the photo's nonce (the first NONCE_BITS bits of its signed
    pixel digest), then the index of its code in CODES."""
    nonce = np.unpackbits(np.frombuffer(digest[: NONCE_BITS // 8], dtype=np.uint8))
    code_id = (list(CODES).index(code) >> np.arange(CODE_ID_BITS)[::-1]) & 1
    return np.concatenate([nonce, code_id.astype(np.uint8)])


def _named_code(keys: np.ndarray) -> str | None:
    index = int("".join(map(str, keys[NONCE_BITS:])), 2)
    return list(CODES)[index] if index < len(CODES) else None


def _kept_outputs(message_bits: int, code: str) -> np.ndarray:
    """The coded bits that the puncturing pattern of `code` keeps. The decoder sees a zero (no
    opinion) for the others; the code keeps most of its strength and the message gets room."""
    pattern = np.array(CODES[code].puncture, dtype=bool)
    index = np.arange(codec.coded_length(message_bits))
    step, output = np.divmod(index, codec.CODE_RATE_INVERSE)
    return index[pattern[step % len(pattern), output]]


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64) @ _LUMA


def carrier_view(rgb: np.ndarray, *, rescaled: bool = False) -> np.ndarray:
    """The luminance whose blocks carry the bits, as the decoder reads it: the resize-proof
    view of `rgb`, or the plain luminance of a copy scaled back up from a downscale
    (`rescaled`), which has lost that detail already (see `_read_blocks`)."""
    luma = _luma(rgb)
    return luma if rescaled else _resize_proof(luma)


def _resize_proof(luma: np.ndarray) -> np.ndarray:
    """What of the luminance a 0.75× downscale keeps (scaled down and back up with Lanczos).

    Bits are embedded in, and read from, the blocks of this view rather than of the photo: a
    downscale blurs fine detail into the low block frequencies that carry the bits, so busy
    areas of an untouched copy would read a quarter of their bits wrong after a resize. This
    view has already lost that detail, so a resize changes it little: on 8 training photos,
    blocks with 4 or more of 12 bits wrong after a 0.75× resize fell from 6.2 % to 1.3 %, for
    0.5 dB of PSNR."""
    h, w = luma.shape
    view = Image.fromarray(luma.astype(np.float32), "F")
    small = view.resize((max(1, round(w * 0.75)), max(1, round(h * 0.75))), Image.LANCZOS)
    return np.asarray(small.resize((w, h), Image.LANCZOS), dtype=np.float64)


def block_dct(luma: np.ndarray, bh: int, bw: int) -> np.ndarray:
    """[block, 8, 8]: the orthonormal DCT of each of the `bh` × `bw` blocks of `luma`."""
    core = luma[: bh * BLOCK, : bw * BLOCK].reshape(bh, BLOCK, bw, BLOCK).transpose(0, 2, 1, 3)
    return fft.dctn(core.reshape(-1, BLOCK, BLOCK), axes=(1, 2), norm="ortho")


def _coefficients(dct: np.ndarray) -> np.ndarray:
    return np.stack([dct[:, u, v] for u, v in COEFFS], axis=1)


def _soft(values: np.ndarray, dither: np.ndarray) -> np.ndarray:
    """+1 for a clean 1, -1 for a clean 0, near 0 halfway between."""
    return -np.cos(2 * np.pi * (values - dither) / STEP)


def _embed_bits(rgb: np.ndarray, bits: np.ndarray, dither: np.ndarray, bh: int, bw: int) -> np.ndarray:
    """QIM: each carrier frequency to the nearest point of its bit's lattice, `dither` +
    `bits` × STEP / 2 + STEP × integers."""
    offset = dither + bits * (STEP / 2)
    return embed_nearest(rgb, lambda coeffs: np.round((coeffs - offset) / STEP) * STEP + offset, bh, bw)


def embed_nearest(rgb: np.ndarray, nearest: Callable[[np.ndarray], np.ndarray], bh: int, bw: int) -> np.ndarray:
    """`rgb` with the carrier frequencies of its `bh` × `bw` blocks moved to `nearest(values)`:
    [block, frequency] (COEFFS order) in, the targets out. The frequencies are read in the
    resize-proof view, and the change is shared out over R, G and B by `_LUMA_CHANGE`."""
    out = rgb.astype(np.float64)
    # Each pass corrects what rounding, clipping to 0..255 and the resize-proof view's blur
    # left of the last one.
    for _ in range(EMBED_PASSES):
        dct = block_dct(_resize_proof(_luma(out)), bh, bw)
        coeffs = _coefficients(dct)
        target = nearest(coeffs)
        delta = np.zeros_like(dct)
        for j, (u, v) in enumerate(COEFFS):
            delta[:, u, v] = target[:, j] - coeffs[:, j]
        change = fft.idctn(delta, axes=(1, 2), norm="ortho")
        change = change.reshape(bh, bw, BLOCK, BLOCK).transpose(0, 2, 1, 3).reshape(bh * BLOCK, bw * BLOCK)
        out[: bh * BLOCK, : bw * BLOCK] += change[..., None] * _LUMA_CHANGE
        out = np.clip(np.round(out), 0, 255)
    return out.astype(np.uint8)


def immunize(pixels: np.ndarray, signing_private: bytes, *, progress: ProgressFn | None = None,
             cancel: CancelFn | None = None) -> np.ndarray:
    """Embed, then test the result the way a platform would treat it (JPEG 75 and a 0.75×
    downscale, both read back in full) and adjust:

    * The stream goes under the weakest code of CODES that survives: the weaker the code, the
      more room for the reference, the better the recovery. A code must survive both platform
      copies untouched, and a JPEG 75 copy with a quarter of the photo replaced (an edit that
      large must still be recovered). Very busy photos (fur, foliage), whose bits JPEG 75
      scrambles most, end with rate 1/4.
    * Where an untouched copy still reads as edited (sharp white-on-black text such as camera
      captions, whose ringing clips at 0 and 255), the blocks are listed in the signed stream
      and verify does not judge them: at most MAX_EXCUSED_SHARE of the photo, and nobody but
      the signer can extend the list."""
    step = stepper(progress, cancel, "immunizing")
    step(0.0)
    h, w = pixels.shape[:2]
    digest = container.pixel_digest(pixels)

    reference_scale = 1.0

    def embed(code: str, excused: np.ndarray | None, polish: bool = False) -> np.ndarray:
        nonlocal reference_scale
        immunized, reference_scale = _immunize_with_code(pixels, signing_private, digest, code, excused, polish)
        return immunized

    out = code = flagged = None
    for tried, candidate_code in enumerate(CODES):
        try:
            candidate = embed(candidate_code, None)
        except ImageTooSmallToImmunize:
            if out is None:
                raise
            return out  # no room for a stronger code: the best this photo allows
        out, code = candidate, candidate_code
        step(0.5 * (tried + 1) / len(CODES))
        flagged = _flagged_after_processing(out, code)
        if flagged is not None and _survives_tampering(out, code):
            break
    step(0.6)
    excused = np.zeros((h // BLOCK, w // BLOCK), dtype=bool)
    for _ in range(EXCUSE_ROUNDS):
        if flagged is None or not flagged.any():
            break
        # One block of margin: re-embedding moves the failing blocks a little.
        wider = excused | ndimage.binary_dilation(flagged)
        if wider.mean() > MAX_EXCUSED_SHARE:
            break
        try:
            candidate = embed(code, wider)
        except ImageTooSmallToImmunize:
            break  # the list took the last bytes the reference needed
        candidate_flagged = _flagged_after_processing(candidate, code)
        if candidate_flagged is None:
            break
        excused, out, flagged = wider, candidate, candidate_flagged
        step(0.8)
    # Everything settled, the reference is encoded once more at a slower, closer setting. Same
    # code, same length: it survives as the last one did, which is checked all the same.
    if flagged is None or not container.can_polish(w, h, reference_scale):
        return out  # not even the strongest code reads back, or a large reference: as it is
    try:
        polished = embed(code, excused if excused.any() else None, polish=True)
    except ImageTooSmallToImmunize:
        return out
    step(0.9)
    polished_flagged = _flagged_after_processing(polished, code)
    if (polished_flagged is not None and not (polished_flagged & ~excused & ~flagged).any()
            and _survives_tampering(polished, code)):
        out = polished
    step(1.0)
    return out


def _immunize_with_code(pixels: np.ndarray, signing_private: bytes, digest: bytes, code: str,
                        excused: np.ndarray | None, polish: bool = False) -> tuple[np.ndarray, float]:
    """The photo immunized with the stream under `code`, and the scale of its reference."""
    h, w = pixels.shape[:2]
    layout = _layout(w, h, code).with_keys(_pilot_keys(digest, code))
    fixed = container.Stream("robust", w, h, b"qim14/15", digest, _pack_excused(excused), 1.0, b"")
    budget = layout.payload_bytes - len(fixed.sign(signing_private))
    if budget < 150:
        raise ImageTooSmallToImmunize(_TOO_SMALL)
    try:
        reference, scale = container.encode_reference(pixels, budget, polish=polish)
    except ValueError:
        raise ImageTooSmallToImmunize(_TOO_SMALL) from None
    stream = container.Stream("robust", w, h, fixed.params, digest, fixed.exceptions, scale, reference)
    checkpoint()
    message = layout.protect(stream.sign(signing_private))
    return _embed_bits(pixels, layout.all_bits(message), layout.dither, layout.bh, layout.bw), scale


def _pack_excused(excused: np.ndarray | None) -> bytes:
    """The excused blocks as a zlib-compressed bitmap (a few dozen bytes), or nothing."""
    if excused is None or not excused.any():
        return b""
    return zlib.compress(np.packbits(excused.ravel()).tobytes(), 9)


def _unpack_excused(data: bytes, n_blocks: int) -> np.ndarray:
    if not data:
        return np.zeros(n_blocks, dtype=bool)
    try:
        bits = np.unpackbits(np.frombuffer(zlib.decompress(data), dtype=np.uint8))
    except zlib.error:
        return np.zeros(n_blocks, dtype=bool)  # signed, so ours; but never trust a length
    if len(bits) < n_blocks:
        return np.zeros(n_blocks, dtype=bool)
    return bits[:n_blocks].astype(bool)


def _recompressed(pixels: np.ndarray) -> np.ndarray:
    """`pixels` saved as JPEG at the lowest quality the robust mode promises to survive, read back."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=SELF_CHECK_JPEG_QUALITY)
    with Image.open(buffer) as reloaded:
        return np.asarray(reloaded.convert("RGB"))


def platform_copies(immunized: np.ndarray) -> list[np.ndarray]:
    """What the robust mode promises to survive: JPEG 75, and a 0.75× downscale."""
    h, w = immunized.shape[:2]
    downscaled = np.asarray(Image.fromarray(immunized).resize((round(w * 0.75), round(h * 0.75)), Image.LANCZOS))
    return [_recompressed(immunized), downscaled]


def _survives_tampering(immunized: np.ndarray, code: str) -> bool:
    """Whether the stream can still be read from a JPEG 75 copy whose middle quarter was
    replaced (by the photo turned upside down: real content whose bits are wrong for here)."""
    checkpoint()
    h, w = immunized.shape[:2]
    edited = immunized.copy()
    rows, cols = slice(h // 4, h // 4 + h // 2), slice(w // 4, w // 4 + w // 2)
    edited[rows, cols] = immunized[::-1, ::-1][rows, cols]
    work, layout, soft, unreliable, _ = _read(_recompressed(edited), (w, h), code)
    return _decode_stream(work, layout, soft, unreliable) is not None


def _flagged_after_processing(immunized: np.ndarray, code: str) -> np.ndarray | None:
    """Blocks that untouched platform copies of `immunized` would report as edited, or None
    if the signed stream can't be read back from one of them."""
    h, w = immunized.shape[:2]
    flagged = np.zeros((h // BLOCK, w // BLOCK), dtype=bool)
    reference = None  # both copies carry the same signed stream: decode its reference once
    for copy in platform_copies(immunized):
        checkpoint()
        work, layout, soft, unreliable, _ = _read(copy, (w, h), code)
        decoded = _decode_stream(work, layout, soft, unreliable)
        if decoded is None:
            return None
        stream, message = decoded
        if reference is None:
            reference = container.decode_reference(stream.reference, w, h)
        layout = layout.with_keys(_pilot_keys(stream.digest, layout.code))
        flagged |= _tampered_map(layout, soft, unreliable, stream, message, reference)
    return flagged


# --- verify ------------------------------------------------------------------------------------

def _block_pixels(luma: np.ndarray, bh: int, bw: int) -> np.ndarray:
    return luma[: bh * BLOCK, : bw * BLOCK].reshape(bh, BLOCK, bw, BLOCK).transpose(0, 2, 1, 3).reshape(-1, BLOCK**2)


def _unreliable_blocks(luma_blocks: np.ndarray) -> np.ndarray:
    """Blocks pinned at black or white can't move, so their bits say nothing either way."""
    flat = luma_blocks.reshape(len(luma_blocks), -1)
    return (flat.max(axis=1) > 252) & (flat.min(axis=1) > 240) | (flat.min(axis=1) < 3) & (flat.max(axis=1) < 15)


def _saturated_in_reference(reference: np.ndarray, bh: int, bw: int) -> np.ndarray:
    """Blocks the signed reference shows near black or white (it is small and blurred, hence the
    margins): only there may a pinned block be excused."""
    means = _block_pixels(_luma(reference), bh, bw).mean(axis=1)
    return (means <= 24) | (means >= 232)


def _texture_reliability(luma: np.ndarray, bh: int, bw: int, pilot_errors: np.ndarray,
                         pilots_checked: np.ndarray) -> np.ndarray:
    """Per block, a weight from 0 to 1: the log-likelihood of a correct bit in blocks of its
    texture decile, measured on the pilots (relative to the most reliable decile)."""
    dct = block_dct(luma, bh, bw)
    u, v = np.meshgrid(range(BLOCK), range(BLOCK), indexing="ij")
    texture = np.sqrt((dct[:, (u + v) >= 5] ** 2).mean(axis=1))
    decile = np.digitize(texture, np.quantile(texture, np.linspace(0, 1, 11)[1:-1]))
    errors = np.bincount(decile, weights=pilot_errors, minlength=10)
    checked = np.bincount(decile, weights=pilots_checked, minlength=10)
    rate = np.clip((errors + 1) / (checked + 2), 0.01, 0.49)
    weight = np.log((1 - rate) / rate)
    return (weight / weight.max())[decile]


def _original_lengths(length: int, scale: float) -> list[int]:
    """Lengths that a resize by `scale` (rounding or truncating) turns into `length`, nearest
    first: 682 px at 0.75× gives 512, and 512 / 0.75 rounds to 683, a grid that reads nothing."""
    if scale == 1.0:
        return [length]
    middle = length / scale
    near = range(max(1, int(middle) - 2), int(middle) + 3)
    fits = [n for n in near if round(n * scale) == length or int(n * scale) == length]
    return sorted(fits, key=lambda n: abs(n - middle)) or [round(middle)]


def _candidate_sizes(w: int, h: int):
    seen = set()
    for scale in SCALES:
        for size in ((cw, ch) for cw in _original_lengths(w, scale) for ch in _original_lengths(h, scale)):
            if size not in seen and min(size) >= 64:
                seen.add(size)
                yield size


def _read_blocks(luma: np.ndarray, rescaled: bool, dither: np.ndarray, values: np.ndarray,
                 pilot_mask: np.ndarray, bh: int, bw: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Soft bits, pinned blocks and pilot agreement of `bh` × `bw` blocks of luminance.

    Read at the size it was immunized at, a copy is seen as the embedder saw it; one scaled back
    up from a downscale (`rescaled`) has lost that detail already, and filtering it again would
    only blur it more."""
    view = luma if rescaled else _resize_proof(luma)
    soft = _soft(_coefficients(block_dct(view, bh, bw)), dither)
    unreliable = _unreliable_blocks(_block_pixels(luma, bh, bw))
    agree = ((soft > 0) == (values == 1))[pilot_mask & ~unreliable[:, None]]
    return soft, unreliable, float(agree.mean()) if agree.size else 0.0


def _read(rgb: np.ndarray, size: tuple[int, int], code: str = _FIRST_CODE):
    w0, h0 = size
    rescaled = (w0, h0) != (rgb.shape[1], rgb.shape[0])
    work = np.asarray(Image.fromarray(rgb).resize((w0, h0), Image.LANCZOS)) if rescaled else rgb
    layout = _layout(w0, h0, code)
    bh, bw, dither, (values, _) = layout[:4]
    soft, unreliable, agreement = _read_blocks(_luma(work), rescaled, dither, values, layout.fixed_pilots, bh, bw)
    layout = layout.with_keys(layout.read_keys(soft, unreliable)[0])
    return work, layout, soft, unreliable, agreement


def _window_agreement(rgb: np.ndarray, size: tuple[int, int], layout: _Layout, centre: tuple[float, float]) -> float:
    """Pilot agreement in a window of up to SEARCH_BLOCKS² blocks around `centre` (fractions of
    width and height), were the photo immunized at `size`: enough bits to tell (random ones
    agree 50 ± 1 %), and the scale search need not resize the whole photo for each of its ~30
    candidate sizes."""
    w0, h0 = size
    h, w = rgb.shape[:2]
    bh, bw = h0 // BLOCK, w0 // BLOCK
    sh, sw = min(bh, SEARCH_BLOCKS), min(bw, SEARCH_BLOCKS)
    by = min(max(0, round(bh * centre[1] - sh / 2)), bh - sh)
    bx = min(max(0, round(bw * centre[0] - sw / 2)), bw - sw)
    x0, y0, x1, y1 = bx * BLOCK, by * BLOCK, (bx + sw) * BLOCK, (by + sh) * BLOCK
    rescaled = (w0, h0) != (w, h)
    if rescaled:
        box = (x0 * w / w0, y0 * h / h0, x1 * w / w0, y1 * h / h0)
        window = np.asarray(Image.fromarray(rgb).resize((x1 - x0, y1 - y0), Image.LANCZOS, box=box))
    else:
        window = rgb[y0:y1, x0:x1]
    dither, values, fixed = layout.dither, layout.pilots[0], layout.fixed_pilots
    rows = ((by + np.arange(sh))[:, None] * bw + bx + np.arange(sw)[None, :]).ravel()
    return _read_blocks(_luma(window), rescaled, dither[rows], values[rows], fixed[rows], sh, sw)[2]


def _log_likelihoods(soft: np.ndarray, pilots: tuple[np.ndarray, np.ndarray], counted: np.ndarray) -> np.ndarray:
    """[block, frequency]: how sure each soft bit is (log-likelihood ratio, positive for a 1),
    learnt from the pilots of the `counted` blocks: the share of them read wrong at each
    strength of soft bit. Belief propagation needs this calibration: a soft bit read at 0.9
    after JPEG 75 was wrong about once in 10,000, one at 0.1 a third of the time, which a
    straight scale of the soft bit makes far too sure of the weak ones and too unsure of the
    strong."""
    values, pilot_mask = pilots
    checked = pilot_mask & (counted > 0)[:, None]
    strength = np.minimum((np.abs(soft) * LLR_BINS).astype(int), LLR_BINS - 1)
    right = (soft > 0) == (values == 1)
    wrong_share = ((np.bincount(strength[checked], weights=~right[checked], minlength=LLR_BINS) + 0.5)
                   / (np.bincount(strength[checked], minlength=LLR_BINS) + 1))
    # Stronger soft bits are never less reliable: smooths the bins that saw few pilots.
    wrong_share = np.minimum(np.maximum.accumulate(wrong_share[::-1])[::-1], 0.5)
    return np.sign(soft) * np.log((1 - wrong_share) / wrong_share)[strength]


def _decode_stream(work: np.ndarray, layout: _Layout, soft: np.ndarray, unreliable: np.ndarray):
    """(stream, message bits) read from the blocks' soft bits, or None if it can't be read."""
    bh, bw = layout.bh, layout.bw
    n = bh * bw
    values, pilot_mask = layout.pilots
    wrong = ((soft > 0) != (values == 1)) & pilot_mask & ~unreliable[:, None]
    pilot_errors = wrong.sum(axis=1)
    # First try every block alike (near-white or near-black blocks often still carry their
    # bits: the embedding re-tries after clipping); then weigh each block by how often pilots
    # of its texture decile failed (re-compression scrambles busy blocks first); then also erase
    # pinned blocks and blocks whose neighbourhood misses pilots.
    texture_weight = _texture_reliability(_luma(work), bh, bw, pilot_errors,
                                          (pilot_mask & ~unreliable[:, None]).sum(axis=1))
    # (edited blocks miss half their pilots, untouched ones after JPEG 75 a few in a hundred)
    missing_pilots = ndimage.uniform_filter(pilot_errors.reshape(bh, bw).astype(float), 3).ravel() > 0.2 * PILOTS_PER_BLOCK

    def attempt(weights: np.ndarray):
        checkpoint()  # each decode takes a second or more on a large photo
        llr = _log_likelihoods(soft, layout.pilots, weights * ~unreliable) * weights[:, None]
        combined = np.bincount(layout.position_to_bit, weights=llr[~pilot_mask], minlength=layout.coded)
        message, coded = layout.decode(combined)
        try:
            return (container.Stream.parse(layout.unprotect(message)), message), (message, coded)
        except (ReedSolomonError, container.StreamError):
            return None, (message, coded)

    for weights in (np.ones(n), texture_weight,
                    np.where(missing_pilots | unreliable, 0.0, texture_weight)):
        decoded, guess = attempt(weights)
        if decoded is not None:
            return decoded
    # Still unreadable. The decoder's guess is mostly right all the same (Viterbi leaves its
    # errors in short bursts, belief propagation most bits it is sure of), so its bits show
    # which blocks an edit reached far better than one pilot a block can: leave those out and
    # decode again.
    # Each round's message is better, and blames the edit more precisely. A message that blames
    # most of the photo is no help (a stream under another code reads as noise everywhere).
    blamed = None
    for _ in range(REDECODE_ROUNDS):
        errors = layout.wrong_bits(soft, *guess).sum(axis=1).reshape(bh, bw).astype(float)
        suspect = ndimage.uniform_filter(errors, 3).ravel() >= SUSPECT_NEIGHBOURHOOD_ERRORS
        if suspect.mean() > MAX_SUSPECT_SHARE or (blamed is not None and np.array_equal(suspect, blamed)):
            return None
        blamed = suspect
        decoded, guess = attempt(np.where(suspect | unreliable, 0.0, texture_weight))
        if decoded is not None:
            return decoded
    return None


def _find_scale(pixels: np.ndarray, step) -> tuple[tuple[int, int] | None, float]:
    """The size the photo was most likely immunized at, and its window's pilot agreement."""
    h, w = pixels.shape[:2]
    best_size, best_agreement = None, 0.0
    for size in _candidate_sizes(w, h):
        layout = _layout(*size)
        for centre in SEARCH_WINDOWS:
            agreement = _window_agreement(pixels, size, layout, centre)
            if agreement > best_agreement:
                best_size, best_agreement = size, agreement
            if agreement >= FOUND_AGREEMENT:
                return best_size, best_agreement
        step(0.05)
    return best_size, best_agreement


def _decode_under_any_code(work: np.ndarray, soft: np.ndarray, unreliable: np.ndarray,
                           built: _Layout | None = None):
    """(layout, decoded stream or None). Two keyed pilot bits name the code the stream is under
    (see `immunize`); where they read unclearly, the other codes are tried after it (same
    blocks, same pilots: only the right one passes the signature). `built`: a layout already at
    hand for one of them (a large photo's takes a noticeable time to build)."""
    h0, w0 = work.shape[:2]
    keys, clarity = (built if built is not None else _layout(w0, h0)).read_keys(soft, unreliable)
    named = _named_code(keys)
    codes = list(CODES)
    if named is not None:
        codes.remove(named)
        codes = [named] if clarity[NONCE_BITS:].min() >= CODE_ID_TRUSTED else [named, *codes]
    for code in codes:
        layout = built if built is not None and built.code == code else _layout(w0, h0, code).with_keys(keys)
        decoded = _decode_stream(work, layout, soft, unreliable)
        if decoded is not None:
            return layout, decoded
    return layout, None


def verify(pixels: np.ndarray, *, progress: ProgressFn | None = None,
           cancel: CancelFn | None = None) -> Verification | None:
    step = stepper(progress, cancel, "verifying")

    h, w = pixels.shape[:2]
    best_size, best_agreement = _find_scale(pixels, step)
    if best_size is None or best_agreement < WINDOW_AGREEMENT:
        return None
    work, layout, soft, unreliable, agreement = _read(pixels, best_size)
    if agreement < PILOT_AGREEMENT:
        return None
    h0, w0 = work.shape[:2]
    step(0.4)

    layout, decoded = _decode_under_any_code(work, soft, unreliable, layout)
    stream, message = decoded if decoded is not None else (None, None)
    bh, bw, _, pilots = layout[:4]
    values, pilot_mask = pilots
    step(0.75)
    if stream is None or (stream.width, stream.height) != (w0, h0) or stream.mode != "robust":
        # The pilots prove the photo was immunized, but the signed data can't be read back:
        # say where the pilots fail (coarser: 1 bit a block) and recover nothing. Pinned blocks
        # count too: without the reference, a pasted black box and a dark sky look alike.
        pilot_errors = (((soft > 0) != (values == 1)) & pilot_mask).sum(axis=1).reshape(bh, bw)
        flagged = _tampered_blocks(pilot_errors * _PILOT_SPACING, pilot_errors / PILOTS_PER_BLOCK)
        mask = _to_input_size(lifting.grid_mask(flagged, w0, h0), w, h)
        return Verification(Verdict.TAMPERED, Mode.ROBUST, mask, None, float(mask.mean()),
                            details={"recovery": "too much of the photo was changed to read its recovery data"})

    layout = layout.with_keys(_pilot_keys(stream.digest, layout.code))  # the signed keys, should the read ones be off
    reference = container.decode_reference(stream.reference, w, h)
    reference_on_grid = reference if (w, h) == (w0, h0) else container.decode_reference(stream.reference, w0, h0)
    tampered = _tampered_map(layout, soft, unreliable, stream, message, reference_on_grid)
    mask = _to_input_size(lifting.grid_mask(tampered, w0, h0), w, h)
    margin = 2 * RECOVERY_MARGIN_BLOCKS + 1
    rebuilt = _to_input_size(lifting.grid_mask(ndimage.binary_dilation(tampered, np.ones((margin, margin))), w0, h0), w, h)
    recovered = np.where(rebuilt[..., None], reference, pixels)
    step(1.0)
    verdict = Verdict.TAMPERED if mask.any() else Verdict.AUTHENTIC
    return Verification(verdict, Mode.ROBUST, mask, recovered, float(mask.mean()), signer=stream.public_key,
                        signature_valid=True, details={"scale": round(w / w0, 4), "tampered_blocks": int(tampered.sum())})


def _tampered_map(layout: _Layout, soft: np.ndarray, unreliable: np.ndarray, stream: container.Stream,
                  message: np.ndarray, reference_on_grid: np.ndarray) -> np.ndarray:
    """Blocks judged edited: every expected bit compared with what the block holds."""
    bh, bw = layout.bh, layout.bw
    wrong = layout.wrong_bits(soft, message)
    errors = wrong.sum(axis=1)
    data_error_rates = (wrong & ~layout.pilots[1]).sum(axis=1) / DATA_PER_BLOCK
    # A black or white box pasted over the photo is pinned too: excuse a pinned block only where
    # the signed reference says the photo was black or white there. Blocks the signer's own
    # platform test found unreliable are excused too (see `immunize`).
    excused = unreliable & _saturated_in_reference(reference_on_grid, bh, bw) | _unpack_excused(stream.exceptions, bh * bw)
    errors[excused] = 0
    data_error_rates[excused] = 0
    return _tampered_blocks(errors.reshape(bh, bw), data_error_rates.reshape(bh, bw))


def _to_input_size(mask: np.ndarray, w: int, h: int) -> np.ndarray:
    if mask.shape == (h, w):
        return mask
    return np.asarray(Image.fromarray(mask).resize((w, h), Image.NEAREST)).astype(bool)


def _tampered_blocks(errors: np.ndarray, data_error_rates: np.ndarray) -> np.ndarray:
    """Blocks with many wrong bits (`errors`, of 13), cleaned: lone flags dropped, holes in
    flagged areas filled, and regions kept that read like coin flips (see REGION_MEAN_ERRORS)."""
    neighbourhood = ndimage.uniform_filter(errors.astype(float), 3, mode="nearest")
    flagged = (errors >= BLOCK_ERRORS_TAMPERED) & (neighbourhood >= 2.0) | (errors >= 7)
    flagged = ndimage.binary_opening(flagged, structure=np.ones((2, 2))) | (flagged & (neighbourhood >= 4.5))
    flagged = ndimage.binary_closing(flagged, structure=np.ones((3, 3)), border_value=0) | flagged
    # Re-compression leaves the odd cluster of a few failing blocks; an edit worth the name
    # covers more. Keep areas of at least MIN_REGION_BLOCKS (12 blocks: 0.05 % of a 12 MP photo)
    # whose blocks, taken together, read like coin flips: edited blocks get about half their
    # bits wrong, while clusters that JPEG 75 scrambled sit just over the per-block threshold.
    labels, count = ndimage.label(flagged)
    if count:
        sizes = np.bincount(labels.ravel())
        def region_mean(values: np.ndarray) -> np.ndarray:
            return np.bincount(labels.ravel(), weights=values.ravel().astype(float)) / np.maximum(sizes, 1)

        like_coin_flips = (region_mean(errors) >= REGION_MEAN_ERRORS) | (region_mean(data_error_rates) >= REGION_DATA_ERROR_RATE)
        keep = (sizes >= MIN_REGION_BLOCKS) & like_coin_flips
        keep[0] = False
        flagged = keep[labels]
    return flagged
