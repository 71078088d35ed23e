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

def encode_reference(pixels: np.ndarray, budget_bytes: int) -> tuple[bytes, float]:
    """The AVIF of the photo that fits the budget and looks closest to it (PSNR): at full size
    a tight budget forces a very coarse quality, where a smaller size at a finer quality wins.
    Returns (bytes, scale)."""
    image = Image.fromarray(pixels)
    best: tuple[float, bytes, float] | None = None
    for scale in (1.0, 0.5, 0.25, 0.125):
        size = (max(8, round(image.width * scale)), max(8, round(image.height * scale)))
        source = image if scale == 1.0 else image.resize(size, Image.LANCZOS)
        low, high, fitted = 0, 95, None
        for _ in range(6):  # binary search on quality (size grows with it), to within 2 steps
            if low > high:
                break
            quality = (low + high) // 2
            data = _avif(source, quality)
            if len(data) <= budget_bytes:
                fitted, low = data, quality + 1
            else:
                high = quality - 1
        if fitted is None:
            continue
        rebuilt = decode_reference(fitted, image.width, image.height)
        mse = float(np.mean((rebuilt.astype(np.float64) - pixels) ** 2))
        psnr = 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)
        if best is None or psnr > best[0]:
            best = (psnr, fitted, scale)
        elif best is not None:
            break  # smaller sizes only get worse from here
    if best is None:
        raise ValueError("no reference fits the budget")
    return best[1], best[2]


def _avif(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "AVIF", quality=quality, speed=8)
    return out.getvalue()


def decode_reference(data: bytes, width: int, height: int) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGB")
        if image.size != (width, height):
            image = image.resize((width, height), Image.BICUBIC)
        return np.asarray(image, dtype=np.uint8).copy()
