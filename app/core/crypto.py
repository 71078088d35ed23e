"""Keys and encrypted formats.

Key hierarchy (see docs/threat-model.md):

    passphrase --Argon2id--> passphrase KEK --AES-GCM--> master secret <--AES-GCM-- recovery KEK <--HKDF-- recovery key
    master secret --HKDF--> SQLCipher key, private-key seal key, image-uid key, recovery-code key
    X25519 key pair: private half sealed under the master secret; per-blob keys wrapped to the
    public half (ECIES: ephemeral X25519 + HKDF-SHA256 + AES-256-GCM).

Blob format v1 (one file per stored object, modelled on age's STREAM construction):

    header  = MAGIC (8) | version (1) | log2(chunk size) (1) | salt (16)
    payload = chunk_0 | chunk_1 | ... each = AES-256-GCM(payload key, nonce_i, plaintext_i, aad=header)
    payload key = HKDF-SHA256(file key, salt, "sanctum blob payload v1")
    nonce_i     = i as 11 big-endian bytes | 0x01 for the final chunk else 0x00

Every chunk is authenticated before its plaintext is released; the final-chunk flag makes
truncation detectable, the counter makes reordering detectable, and the random file key per
blob makes a blob swapped with another one fail to authenticate.

Blob format v2 (written since v2; v1 is still read) encrypts a padded stream instead of the bare
plaintext, so a blob's size no longer tells its content's exact size:

    padded stream = length of plaintext (8, big-endian) | plaintext | zero bytes
    len(padded stream) = padme(8 + length)   (PADME: at most ~12 % larger, leaks O(log log n) bits)

Someone holding the vault folder and a candidate photo could otherwise confirm the photo is
inside by its exact size; now only sizes within the same PADME bucket are indistinguishable, and
the threat model says what still leaks.
"""

from __future__ import annotations

import base64
import hmac
import os
import secrets
import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import BinaryIO

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import AuthenticationFailed, WrongRecoveryKey

KEY_BYTES = 32

# --- passphrase KDF ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KdfParams:
    """Argon2id parameters, stored in the vault header so they can be raised later."""

    time_cost: int
    memory_kib: int
    parallelism: int
    salt: bytes

    @classmethod
    def new(cls, time_cost: int = 3, memory_kib: int = 256 * 1024, parallelism: int = 2) -> KdfParams:
        # 256 MiB, 3 passes: about half a second on a 2-core laptop, which is the point: every
        # passphrase guess an attacker makes costs the same.
        return cls(time_cost, memory_kib, parallelism, secrets.token_bytes(16))

    def to_json(self) -> dict:
        d = asdict(self)
        d["salt"] = b64e(self.salt)
        d["algorithm"] = "argon2id"
        return d

    @classmethod
    def from_json(cls, d: dict) -> KdfParams:
        if d.get("algorithm") != "argon2id":
            raise ValueError("unknown KDF")
        return cls(int(d["time_cost"]), int(d["memory_kib"]), int(d["parallelism"]), b64d(d["salt"]))


def derive_passphrase_key(passphrase: str, params: KdfParams) -> bytes:
    return hash_secret_raw(
        passphrase.encode("utf-8"),
        params.salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def hkdf(key: bytes, info: str, salt: bytes | None = None, length: int = KEY_BYTES) -> bytes:
    """One derived key per purpose: a label per use keeps keys from being reused across roles."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info.encode()).derive(key)


# --- small sealed values (master secret, private key) -----------------------------------------


def seal(key: bytes, plaintext: bytes, purpose: str) -> bytes:
    """AES-256-GCM with a random nonce; `purpose` is bound as associated data."""
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, purpose.encode())


def unseal(key: bytes, sealed: bytes, purpose: str) -> bytes:
    if len(sealed) < 12 + 16:
        raise AuthenticationFailed()
    try:
        return AESGCM(key).decrypt(sealed[:12], sealed[12:], purpose.encode())
    except InvalidTag:
        raise AuthenticationFailed() from None


# --- recovery key -------------------------------------------------------------------------------


def new_recovery_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def format_recovery_key(raw: bytes) -> str:
    """256 bits as base32 in groups of four: easy to write down, no 0/O or 1/I confusion."""
    text = base64.b32encode(raw).decode().rstrip("=")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_recovery_key(text: str) -> bytes:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.replace("0", "O").replace("1", "I").replace("8", "B")
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (ValueError, base64.binascii.Error):
        raise WrongRecoveryKey("That is not a recovery key: check it was typed in full.") from None
    if len(raw) != KEY_BYTES:
        raise WrongRecoveryKey("That is not a recovery key: check it was typed in full.")
    return raw


def recovery_keypair(raw: bytes, salt: bytes) -> tuple[bytes, bytes]:
    """The X25519 key pair a recovery key stands for: (private, public).

    The header keeps only the public half, with the master secret wrapped to it, so a new master
    secret (a passphrase change) can be sealed for the recovery key without knowing it: the key
    written down at setup keeps working, and nothing derived from an old passphrase opens it.
    """
    private = X25519PrivateKey.from_private_bytes(hkdf(raw, "sanctum recovery x25519 v2", salt=salt))
    return (
        private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        ),
        private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
    )


def public_of(private: bytes) -> bytes:
    """The X25519 public key of a raw private key."""
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


# --- X25519 key wrapping (ECIES) ----------------------------------------------------------------


def new_keypair() -> tuple[bytes, bytes]:
    """Returns (private, public) raw 32-byte X25519 keys."""
    private = X25519PrivateKey.generate()
    return (
        private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        ),
        private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
    )


_WRAP_INFO = "sanctum blob key wrap v1"


def wrap_key(recipient_public: bytes, file_key: bytes) -> bytes:
    """Wrap a blob key to the vault's public key: needs no secret, so imports could run locked."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    wrapping_key = hkdf(shared, _WRAP_INFO, salt=ephemeral_public + recipient_public)
    # The wrapping key is used once, so a fixed nonce is safe.
    return ephemeral_public + AESGCM(wrapping_key).encrypt(b"\0" * 12, file_key, None)


def unwrap_key(recipient_private: bytes, wrapped: bytes) -> bytes:
    if len(wrapped) != 32 + KEY_BYTES + 16:
        raise AuthenticationFailed()
    ephemeral_public = wrapped[:32]
    private = X25519PrivateKey.from_private_bytes(recipient_private)
    recipient_public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        wrapping_key = hkdf(shared, _WRAP_INFO, salt=ephemeral_public + recipient_public)
        return AESGCM(wrapping_key).decrypt(b"\0" * 12, wrapped[32:], None)
    except (InvalidTag, ValueError):
        raise AuthenticationFailed() from None


# --- chunked blob format ------------------------------------------------------------------------

BLOB_MAGIC = b"SNCTMBLB"
BLOB_VERSION = 2  # written; 1 (unpadded) is still read
_LENGTH = struct.Struct(">Q")
CHUNK_LOG2 = 16  # 64 KiB chunks: small enough to stream, large enough that tags cost ~0.02 %
_HEADER = struct.Struct(">8sBB16s")
HEADER_SIZE = _HEADER.size
TAG_SIZE = 16
_PAYLOAD_INFO = "sanctum blob payload v1"
_MAX_CHUNKS = 1 << 32  # far beyond any photo; keeps the 11-byte counter obviously safe


def _chunk_nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


def padme(length: int) -> int:
    """PADME (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication
    with PURBs", 2019): round `length` up so that only its top ~log2(log2(length)) bits remain.
    Overhead is at most ~12 % (much less for large files)."""
    if length < 2:
        return length
    exponent = length.bit_length() - 1  # floor(log2 length)
    mantissa_bits = exponent.bit_length()  # floor(log2 exponent) + 1
    mask = (1 << (exponent - mantissa_bits)) - 1
    return (length + mask) & ~mask


def padded_size(plaintext_size: int) -> int:
    """Size of the padded stream a v2 blob encrypts (before chunk tags and header)."""
    return padme(_LENGTH.size + plaintext_size)


def encrypt_chunks(file_key: bytes, plaintext: bytes, *, version: int = BLOB_VERSION) -> Iterator[bytes]:
    """Yield the header, then each encrypted chunk, of `plaintext` under `file_key`."""
    salt = secrets.token_bytes(16)
    header = _HEADER.pack(BLOB_MAGIC, version, CHUNK_LOG2, salt)
    aead = AESGCM(hkdf(file_key, _PAYLOAD_INFO, salt=salt))
    yield header
    if version == 2:
        size = len(plaintext)
        stream = _LENGTH.pack(size) + bytes(plaintext) + bytes(padded_size(size) - _LENGTH.size - size)
    elif version == 1:
        stream = plaintext
    else:
        raise ValueError("unknown blob version")
    chunk = 1 << CHUNK_LOG2
    view = memoryview(stream)
    count = max(1, -(-len(stream) // chunk))
    for index in range(count):
        piece = view[index * chunk : (index + 1) * chunk]
        yield aead.encrypt(_chunk_nonce(index, index == count - 1), bytes(piece), header)


def encrypt_bytes(file_key: bytes, plaintext: bytes) -> bytes:
    return b"".join(encrypt_chunks(file_key, plaintext))


def blob_version(first_bytes: bytes) -> int | None:
    """The format version of a blob from its first HEADER_SIZE bytes (None: not a blob)."""
    if len(first_bytes) < HEADER_SIZE:
        return None
    magic, version, _, _ = _HEADER.unpack(first_bytes[:HEADER_SIZE])
    return version if magic == BLOB_MAGIC else None


def decrypt_stream(file_key: bytes, source: BinaryIO) -> Iterator[bytes]:
    """Yield authenticated plaintext chunks; raise AuthenticationFailed on any defect.

    Callers that must not act on partial output (export) write to a temporary file and keep
    it only when the generator finishes: a truncated blob fails at its end, never silently.
    """
    header = source.read(HEADER_SIZE)
    if len(header) != HEADER_SIZE:
        raise AuthenticationFailed()
    magic, version, chunk_log2, salt = _HEADER.unpack(header)
    if magic != BLOB_MAGIC or version not in (1, 2) or not 10 <= chunk_log2 <= 24:
        raise AuthenticationFailed()
    chunks = _decrypt_chunks(AESGCM(hkdf(file_key, _PAYLOAD_INFO, salt=salt)), header, chunk_log2, source)
    if version == 1:
        yield from chunks
        return
    # v2: the first chunk starts with the plaintext length; everything after it is zero padding.
    remaining: int | None = None
    for piece in chunks:
        if remaining is None:
            if len(piece) < _LENGTH.size:
                raise AuthenticationFailed()
            (remaining,) = _LENGTH.unpack(piece[: _LENGTH.size])
            piece = piece[_LENGTH.size :]
        out, padding = piece[:remaining], piece[remaining:]
        if padding.strip(b"\0"):
            raise AuthenticationFailed()
        remaining -= len(out)
        if out:
            yield out
    if remaining is None or remaining != 0:
        raise AuthenticationFailed()


def _decrypt_chunks(aead: AESGCM, header: bytes, chunk_log2: int, source: BinaryIO) -> Iterator[bytes]:
    sealed_size = (1 << chunk_log2) + TAG_SIZE
    index = 0
    current = source.read(sealed_size)
    while True:
        if index >= _MAX_CHUNKS:
            raise AuthenticationFailed()
        following = source.read(sealed_size) if len(current) == sealed_size else b""
        final = not following
        # A non-final chunk must be full, and only an empty file may have an empty final chunk.
        if len(current) < TAG_SIZE or (final and index > 0 and len(current) == TAG_SIZE):
            raise AuthenticationFailed()
        try:
            yield aead.decrypt(_chunk_nonce(index, final), current, header)
        except InvalidTag:
            raise AuthenticationFailed() from None
        if final:
            return
        current = following
        index += 1


def decrypt_bytes(file_key: bytes, ciphertext: bytes) -> bytes:
    import io

    return b"".join(decrypt_stream(file_key, io.BytesIO(ciphertext)))


# --- helpers ------------------------------------------------------------------------------------


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def keyed_digest(key: bytes, *parts: bytes) -> bytes:
    """HMAC-SHA256 over length-prefixed parts, so ("ab","c") and ("a","bc") differ."""
    mac = hmac.new(key, digestmod="sha256")
    for part in parts:
        mac.update(struct.pack(">Q", len(part)))
        mac.update(part)
    return mac.digest()


def new_file_key() -> bytes:
    return os.urandom(KEY_BYTES)
