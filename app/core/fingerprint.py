"""Identifiers and provenance: share IDs, perceptual fingerprints, signed claims.

* `image_uid` (see `vault.image_uid_of`): keyed hash of a vault photo's pixels.
* `share_id`: random per share, exactly as wide as the robust watermark's payload, so the
  watermark alone can name the share (and through it, the recipient) of a leaked copy.
* Perceptual fingerprints: PDQ (256 bits + quality) of every vault photo and every shared
  copy; the leak scanner queries them with all 8 dihedral variants of a suspect image.
* A `ProvenanceClaim` binds the share ID to the exact pixels of a shared copy and a time. It
  is signed with the vault's Ed25519 key (anyone with the exported public key can check it)
  and MAC'ed with a vault key (HMAC-SHA256, checkable by the owner only). It holds only values
  of that one share: two shares of a photo carry nothing in common a stranger could link them
  by (copies made before version 2 of the claim also carried the photo's `image_uid`; they
  are still checked).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

import numpy as np
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from PIL import Image

from . import pdq

# The robust watermark's payload width (watermark.layout.PAYLOAD_BITS, checked by a test);
# kept as a literal so reading IDs does not load the watermark's signal-processing stack.
SHARE_ID_BITS = 56
SHARE_ID_HEX_DIGITS = (SHARE_ID_BITS + 3) // 4


def new_share_id() -> int:
    while True:
        value = secrets.randbits(SHARE_ID_BITS)
        if value:  # zero is kept out: an all-zero payload is what a broken decoder would say
            return value


def format_share_id(value: int) -> str:
    return f"{value:0{SHARE_ID_HEX_DIGITS}x}"


def parse_share_id(text: str) -> int:
    value = int(text.strip().lower(), 16)
    if not 0 < value < (1 << SHARE_ID_BITS):
        raise ValueError("share id out of range")
    return value


# --- perceptual fingerprints ----------------------------------------------------------------


@dataclass(frozen=True)
class PerceptualFingerprint:
    pdq: bytes  # 32 bytes
    pdq_quality: int


HASH_SIDE = 512


def hash_view(image: Image.Image | np.ndarray) -> np.ndarray:
    """The pixels every perceptual hash is computed from: the image box-reduced to at most
    512 px. PDQ looks at a 64×64 summary anyway; hashing a 12 MP decode
    costs 10× more for a hash a few bits away. Vault photos and found images go through this
    same view, so their hashes stay comparable."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    if max(image.size) > HASH_SIDE:
        scale = HASH_SIDE / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.BOX)
    return np.asarray(image.convert("RGB"))


def perceptual_fingerprint(image: Image.Image | np.ndarray) -> PerceptualFingerprint:
    """Fingerprints of an upright image (EXIF orientation already applied)."""
    rgb = hash_view(image)
    pdq_hash = pdq.pdq_hash(rgb)
    return PerceptualFingerprint(pdq_hash.bits, pdq_hash.quality)


# Below this PDQ quality the hash describes noise or a flat picture (ThreatExchange's advice).
PDQ_MIN_QUALITY = 50

# An edited copy (re-encoded, resized, lightly cropped or retouched) stays within this many PDQ
# bits of what it was; unrelated photos sit near 128 (half the bits; independent random hashes
# fall below 64 with odds of about 1e-15, 8 standard deviations). Used to decide whether a claim
# that is genuine but about other pixels describes an edit of the shared copy or another picture.
SAME_PICTURE_PDQ = 64


def dihedral_pdq(rgb: np.ndarray) -> list[pdq.PdqHash]:
    """PDQ of each of the eight flips and rotations of the pixels themselves. PDQ can derive
    them from one hash's DCT, but that sampling is a pixel off and put mirrored copies of text
    and small photos 40–60 bits away; hashing the moved pixels puts them within 8, for 8 × 2 ms."""
    view = hash_view(rgb)
    return [pdq.pdq_hash(np.ascontiguousarray(pdq.apply_dihedral_to_pixels(view, variant)))
            for variant in pdq.Dihedral]


def same_picture(rgb: np.ndarray, reference: bytes) -> bool:
    """Whether these pixels show the picture whose PDQ is `reference`, flipped or rotated or
    not. False when the picture is too flat for PDQ to mean anything."""
    hashes = dihedral_pdq(rgb)
    if hashes[0].quality < PDQ_MIN_QUALITY:
        return False
    return min(pdq.hamming_distance(h.bits, reference) for h in hashes) <= SAME_PICTURE_PDQ


def pixel_sha256(rgb: np.ndarray) -> str:
    """SHA-256 of decoded 8-bit pixels and their shape: what a signature binds to."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    digest = hashlib.sha256(f"{rgb.shape}".encode())
    digest.update(rgb.data)
    return digest.hexdigest()


# --- signed claims --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProvenanceClaim:
    share_id: str
    pixel_sha256: str
    signed_at: str  # ISO 8601, UTC
    # Only in claims of copies made before version 2: the photo's vault-wide ID, the same in
    # every share of it, which is why new claims leave it out.
    image_uid: str | None = None

    def canonical(self) -> bytes:
        """Deterministic bytes to sign: sorted keys, no whitespace, a fixed version tag."""
        if self.image_uid is not None:  # version 1, exactly as it was signed then
            fields = {"sanctum_claim": 1, "share_id": self.share_id, "image_uid": self.image_uid,
                      "pixel_sha256": self.pixel_sha256, "signed_at": self.signed_at}
        else:
            # No perceptual hash either: it is (nearly) the same in every share of a photo, an
            # exact string to link them by.
            fields = {"sanctum_claim": 2, "share_id": self.share_id, "pixel_sha256": self.pixel_sha256,
                      "signed_at": self.signed_at}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def new_signing_key() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def public_key_of(private_raw: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(private_raw).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def public_key_pem(public_raw: bytes) -> str:
    return Ed25519PublicKey.from_public_bytes(public_raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(text_or_bytes: str | bytes) -> bytes:
    """A public key from PEM (as `sanctum pubkey` exports it) or raw base64."""
    data = text_or_bytes.encode() if isinstance(text_or_bytes, str) else text_or_bytes
    if b"BEGIN PUBLIC KEY" in data:
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raw = base64.b64decode(data.strip())
    if len(raw) != 32:
        raise ValueError("not an Ed25519 public key")
    return raw


def sign_claim(private_raw: bytes, claim: ProvenanceClaim) -> str:
    signature = Ed25519PrivateKey.from_private_bytes(private_raw).sign(claim.canonical())
    return base64.b64encode(signature).decode()


def verify_claim(public_raw: bytes, claim: ProvenanceClaim, signature_b64: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(base64.b64decode(signature_b64), claim.canonical())
    except (InvalidSignature, ValueError):
        return False
    return True


def mac_claim(key: bytes, claim: ProvenanceClaim) -> str:
    return hmac.new(key, claim.canonical(), "sha256").hexdigest()


def check_mac(key: bytes, claim: ProvenanceClaim, mac_hex: str) -> bool:
    return hmac.compare_digest(mac_claim(key, claim), mac_hex or "")
