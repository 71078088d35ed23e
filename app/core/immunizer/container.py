"""The signed recovery stream both modes embed, and the compressed reference photo inside it.

Layout (big-endian):

    magic "SIMv1" | mode (1) | width (4) | height (4) | params (variable, mode-specific, length-prefixed)
    | digest of the pre-immunization pixels (16) | exceptions (length-prefixed)
    | reference format (1) | reference scale ×1000 (2) | reference (length-prefixed)
    | Ed25519 public key (32) | signature over everything before it (64)

The signature is what makes the stream trustworthy: a forger can copy blocks around or
recompute keyless block tags, but cannot produce a new stream that verifies under the owner's
key. Anyone can check the signature against the public key the owner exported.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass

import numpy as np
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from PIL import Image

from app.core.immunizer.types import checkpoint

MAGIC = b"SIMv1"
MODE_CODES = {"lossless": 1, "robust": 2}
_FORMAT_AVIF = 1
_SIGNATURE_BYTES = 64
_PUBLIC_BYTES = 32


class StreamError(ValueError):
    """The decoded bytes are not a well-formed, correctly signed stream."""


@dataclass(frozen=True)
class Stream:
    mode: str
    width: int
    height: int
    params: bytes
    digest: bytes
    exceptions: bytes
    reference_scale: float
    reference: bytes
    public_key: bytes = b""

    def _body(self) -> bytes:
        return b"".join([
            MAGIC, bytes([MODE_CODES[self.mode]]), struct.pack(">II", self.width, self.height),
            _prefixed(self.params), self.digest, _prefixed(self.exceptions),
            bytes([_FORMAT_AVIF]), struct.pack(">H", int(round(self.reference_scale * 1000))),
            _prefixed(self.reference)])

    def sign(self, signing_private: bytes) -> bytes:
        key = Ed25519PrivateKey.from_private_bytes(signing_private)
        body = self._body() + key.public_key().public_bytes_raw()
        return body + key.sign(body)

    @staticmethod
    def parse(data: bytes) -> Stream:
        """Parse and check the signature; raises StreamError."""
        try:
            if not data.startswith(MAGIC):
                raise StreamError("no immunization stream")
            pos = len(MAGIC)
            mode_code = data[pos]
            pos += 1
            width, height = struct.unpack_from(">II", data, pos)
            pos += 8
            params, pos = _read_prefixed(data, pos)
            digest = data[pos:pos + 16]
            pos += 16
            exceptions, pos = _read_prefixed(data, pos)
            pos += 1  # reference format (AVIF is the only one so far)
            (scale,) = struct.unpack_from(">H", data, pos)
            pos += 2
            reference, pos = _read_prefixed(data, pos)
            public_key = data[pos:pos + _PUBLIC_BYTES]
            signature = data[pos + _PUBLIC_BYTES:pos + _PUBLIC_BYTES + _SIGNATURE_BYTES]
            if len(signature) != _SIGNATURE_BYTES:
                raise StreamError("stream is truncated")
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data[:pos + _PUBLIC_BYTES])
        except (IndexError, struct.error) as exc:
            raise StreamError("stream is truncated") from exc
        except InvalidSignature as exc:
            raise StreamError("signature does not match") from exc
        modes = {code: name for name, code in MODE_CODES.items()}
        if mode_code not in modes:
            raise StreamError("unknown mode")
        return Stream(modes[mode_code], width, height, params, digest, exceptions, scale / 1000.0,
                      reference, public_key)


def _prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _read_prefixed(data: bytes, pos: int) -> tuple[bytes, int]:
    (length,) = struct.unpack_from(">I", data, pos)
    end = pos + 4 + length
    if end > len(data):
        raise StreamError("stream is truncated")
    return data[pos + 4:end], end


def pixel_digest(pixels: np.ndarray) -> bytes:
    h, w = pixels.shape[:2]
    return hashlib.blake2b(struct.pack(">II", w, h) + np.ascontiguousarray(pixels).tobytes(),
                           digest_size=16, person=b"sanctum-imm-px").digest()


# --- the compressed reference photo ------------------------------------------------------------

# The search for size and quality encodes a dozen or more times, so it runs at a fast encoder
# speed; the chosen size is then encoded again at a slower one, which on 8 evaluation photos
# gave 0.36 dB more for the same bytes (speed 6 against 8; speed 5 gave 0.52 dB for 11x the time).
SEARCH_SPEED = 8
FINAL_SPEED = 6
# Slower still, for the one reference that goes into the photo once everything else is settled
# (`robust.immunize`): on 8 evaluation photos at 0.08 bit per pixel, speed 2 came 0.21 dB closer
# to the photo than speed 6 (speed 4: 0.11 dB, speed 0: 0.24 dB), for 7.7 s against 1.3 s.
POLISH_SPEED = 2
POLISH_MAX_PIXELS = 300_000  # of the reference; a 12 MP photo's would take minutes


def encode_reference(pixels: np.ndarray, budget_bytes: int, *, polish: bool = False) -> tuple[bytes, float]:
    """The AVIF of the photo that fits the budget and looks closest to it (PSNR): at full size
    a tight budget forces a very coarse quality, where a smaller size at a finer quality wins.
    `polish`: encode the chosen size at POLISH_SPEED if it is small enough.
    Returns (bytes in the compact form of `compact_avif`, scale)."""
    image = Image.fromarray(pixels)
    best: tuple[float, Image.Image, int, float] | None = None
    for scale in (1.0, 0.5, 0.25, 0.125):
        size = (max(8, round(image.width * scale)), max(8, round(image.height * scale)))
        source = image if scale == 1.0 else image.resize(size, Image.LANCZOS)
        fitted = _best_fit(source, budget_bytes, SEARCH_SPEED)
        if fitted is None:
            continue
        data, quality = fitted
        rebuilt = decode_reference(data, image.width, image.height)
        psnr = _psnr(rebuilt, pixels)
        if best is None or psnr > best[0]:
            best = (psnr, source, quality, scale)
        elif best is not None:
            break  # smaller sizes only get worse from here
    if best is None:
        raise ValueError("no reference fits the budget")
    _, source, quality, scale = best
    slow = polish and can_polish(image.width, image.height, scale)
    final = _best_fit(source, budget_bytes, POLISH_SPEED if slow else FINAL_SPEED, around=quality)
    if final is None:  # the slower speed never came out larger so far; keep the search's own
        final = _best_fit(source, budget_bytes, SEARCH_SPEED, around=quality)
    return final[0], scale


def can_polish(width: int, height: int, scale: float) -> bool:
    """Whether a reference of a `width` × `height` photo at `scale` is small enough to encode
    at POLISH_SPEED."""
    return width * height * scale * scale <= POLISH_MAX_PIXELS


def _best_fit(source: Image.Image, budget_bytes: int, speed: int,
              around: int | None = None) -> tuple[bytes, int] | None:
    """(compact AVIF, quality) of the highest quality whose file fits the budget, or None.
    Without `around`: a binary search over 0-95 (size grows with quality), to within 2 steps;
    with it: from that quality up while it fits, or down until it does."""
    def encoded(quality: int) -> bytes:
        checkpoint()  # a search is a dozen encodes of a fraction of a second each
        return compact_avif(_avif(source, quality, speed))

    if around is None:
        low, high, fitted = 0, 95, None
        for _ in range(6):
            if low > high:
                break
            quality = (low + high) // 2
            data = encoded(quality)
            if len(data) <= budget_bytes:
                fitted, low = (data, quality), quality + 1
            else:
                high = quality - 1
        return fitted
    quality, data = around, encoded(around)
    while len(data) > budget_bytes:
        if quality == 0:
            return None
        quality = max(0, quality - 2)
        data = encoded(quality)
    fitted = (data, quality)
    for higher in range(quality + 1, min(quality + 6, 95) + 1):
        data = encoded(higher)
        if len(data) > budget_bytes:
            break
        fitted = (data, higher)
    return fitted


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def _avif(image: Image.Image, quality: int, speed: int = SEARCH_SPEED) -> bytes:
    out = io.BytesIO()
    image.save(out, "AVIF", quality=quality, speed=speed)
    return out.getvalue()


# --- compact AVIF: the AV1 data and the few header fields that vary --------------------------
#
# An AVIF file from libavif spends 283 bytes on its container (file type, item and property
# boxes, media box header) around the AV1 data, 7-9 % of a robust photo's budget. Only the
# image size, the AV1 configuration and the colour description vary between our encodes, so
# the reference keeps those (15 bytes) and the AV1 data; reading it rebuilds the container. The
# compact form is used only when the rebuilt file equals libavif's byte for byte; otherwise the
# whole file is kept (a whole AVIF starts with its size and "ftyp", which tells the two apart).

_COMPACT_FIELDS = struct.Struct(">HH4s7s")  # width, height, av1C configuration, nclx colour


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full_box(kind: bytes, version: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", version << 24), *parts)


def _avif_file(width: int, height: int, av1c: bytes, nclx: bytes, av1_data: bytes) -> bytes:
    """A still-image AVIF as libavif writes one for an 8-bit RGB photo without alpha or ICC."""
    properties = _box(b"ipco",
                      _full_box(b"ispe", 0, struct.pack(">II", width, height)),
                      _full_box(b"pixi", 0, bytes([3, 8, 8, 8])),
                      _box(b"av1C", av1c),
                      _box(b"colr", b"nclx", nclx))
    # Item 1 has four properties: ispe, pixi, av1C (essential, hence the high bit) and colr.
    associations = _full_box(b"ipma", 0, struct.pack(">IHB", 1, 1, 4), bytes([0x01, 0x02, 0x83, 0x04]))

    def meta(data_offset: int) -> bytes:
        return _full_box(
            b"meta", 0,
            _full_box(b"hdlr", 0, b"\0" * 4, b"pict", b"\0" * 13),
            _full_box(b"pitm", 0, struct.pack(">H", 1)),
            # offset and length sizes 4, no base offset; one item with one extent
            _full_box(b"iloc", 0, bytes([0x44, 0x00]), struct.pack(">HHHHII", 1, 1, 0, 1, data_offset, len(av1_data))),
            _full_box(b"iinf", 0, struct.pack(">H", 1),
                      _full_box(b"infe", 2, struct.pack(">HH", 1, 0), b"av01", b"Color\0")),
            _box(b"iprp", properties, associations))

    file_type = _box(b"ftyp", b"avif", struct.pack(">I", 0), b"avifmif1miafMA1B")
    header_length = len(file_type) + len(meta(0)) + 8
    return file_type + meta(header_length) + _box(b"mdat", av1_data)


def compact_avif(avif: bytes) -> bytes:
    """The compact form of a libavif file (size, configuration, colour and the AV1 data), or the
    file as it is when the rebuilt one would differ."""
    try:
        ispe = avif.index(b"ispe") + 8
        width, height = struct.unpack_from(">II", avif, ispe)
        av1c = avif[avif.index(b"av1C") + 4:][:4]
        nclx = avif[avif.index(b"colrnclx") + 8:][:7]
        av1_data = avif[avif.index(b"mdat") + 4:]
    except (ValueError, struct.error):
        return avif
    if max(width, height) > 0xFFFF or _avif_file(width, height, av1c, nclx, av1_data) != avif:
        return avif
    return _COMPACT_FIELDS.pack(width, height, av1c, nclx) + av1_data


def expand_reference(reference: bytes) -> bytes:
    """The AVIF file of a reference: rebuilt from the compact form, or the whole file as stored."""
    if reference[4:8] == b"ftyp":
        return reference
    width, height, av1c, nclx = _COMPACT_FIELDS.unpack_from(reference)
    return _avif_file(width, height, av1c, nclx, reference[_COMPACT_FIELDS.size:])


def decode_reference(data: bytes, width: int, height: int) -> np.ndarray:
    """The reference (compact or whole AVIF) as RGB pixels at width × height. Raises
    ValueError if it can't be read (the signed stream makes that unlikely, but it is bytes)."""
    try:
        avif = expand_reference(data)
    except struct.error as exc:
        raise ValueError("the reference is truncated") from exc
    with Image.open(io.BytesIO(avif)) as image:
        image = image.convert("RGB")
        if image.size != (width, height):
            image = image.resize((width, height), Image.BICUBIC)
        return np.asarray(image, dtype=np.uint8).copy()
