"""The blob format and key handling: every defect is one opaque authentication error."""

from __future__ import annotations

import io
import os

import pytest

from app.core import crypto
from app.core.errors import AuthenticationFailed, WrongRecoveryKey

CHUNK = 1 << crypto.CHUNK_LOG2
SEALED_CHUNK = CHUNK + crypto.TAG_SIZE


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17])
def test_blob_round_trip(size):
    key = crypto.new_file_key()
    plaintext = os.urandom(size)
    sealed = crypto.encrypt_bytes(key, plaintext)
    assert crypto.decrypt_bytes(key, sealed) == plaintext
    assert sealed[:8] == crypto.BLOB_MAGIC
    assert size < 64 or plaintext[:64] not in sealed  # shorter runs turn up in random bytes by chance


def _sealed(size=3 * CHUNK + 100):
    key = crypto.new_file_key()
    return key, crypto.encrypt_bytes(key, os.urandom(size))


def test_flipped_byte_anywhere_fails():
    key, sealed = _sealed()
    for position in (0, 9, 12, crypto.HEADER_SIZE + 5, len(sealed) // 2, len(sealed) - 1):
        damaged = bytearray(sealed)
        damaged[position] ^= 0x01
        with pytest.raises(AuthenticationFailed):
            crypto.decrypt_bytes(key, bytes(damaged))


def test_truncation_at_a_chunk_boundary_fails():
    # Dropping whole trailing chunks leaves every remaining chunk intact: only the
    # final-chunk flag can tell that the stream was cut.
    key, sealed = _sealed()
    for cut in (crypto.HEADER_SIZE + SEALED_CHUNK, crypto.HEADER_SIZE + 2 * SEALED_CHUNK, len(sealed) - 1, 10):
        with pytest.raises(AuthenticationFailed):
            crypto.decrypt_bytes(key, sealed[:cut])


def test_reordered_chunks_fail():
    key, sealed = _sealed()
    h = crypto.HEADER_SIZE
    first, second = sealed[h : h + SEALED_CHUNK], sealed[h + SEALED_CHUNK : h + 2 * SEALED_CHUNK]
    swapped = sealed[:h] + second + first + sealed[h + 2 * SEALED_CHUNK :]
    with pytest.raises(AuthenticationFailed):
        crypto.decrypt_bytes(key, swapped)


def test_blob_under_another_key_fails():
    _, sealed = _sealed()
    with pytest.raises(AuthenticationFailed):
        crypto.decrypt_bytes(crypto.new_file_key(), sealed)


def test_appended_garbage_fails():
    key, sealed = _sealed(100)
    with pytest.raises(AuthenticationFailed):
        crypto.decrypt_bytes(key, sealed + b"\0" * 40)


def test_streamed_chunks_are_released_only_after_authentication():
    key, sealed = _sealed(2 * CHUNK + 5)
    damaged = bytearray(sealed)
    damaged[-1] ^= 0xFF  # last chunk damaged: the first two still come out, then the error
    stream = crypto.decrypt_stream(key, io.BytesIO(bytes(damaged)))
    assert len(next(stream)) == CHUNK - 8  # the first chunk starts with the 8-byte length (v2)
    assert len(next(stream)) == CHUNK
    with pytest.raises(AuthenticationFailed):
        next(stream)


def test_key_wrapping_round_trip_and_tamper():
    private, public = crypto.new_keypair()
    file_key = crypto.new_file_key()
    wrapped = crypto.wrap_key(public, file_key)
    assert crypto.unwrap_key(private, wrapped) == file_key
    other_private, _ = crypto.new_keypair()
    with pytest.raises(AuthenticationFailed):
        crypto.unwrap_key(other_private, wrapped)
    damaged = bytearray(wrapped)
    damaged[40] ^= 1
    with pytest.raises(AuthenticationFailed):
        crypto.unwrap_key(private, bytes(damaged))


def test_seal_binds_purpose():
    key = crypto.new_file_key()
    sealed = crypto.seal(key, b"secret", "purpose A")
    assert crypto.unseal(key, sealed, "purpose A") == b"secret"
    with pytest.raises(AuthenticationFailed):
        crypto.unseal(key, sealed, "purpose B")


def test_recovery_key_text_survives_sloppy_typing():
    raw = crypto.new_recovery_key()
    text = crypto.format_recovery_key(raw)
    assert crypto.parse_recovery_key(text) == raw
    assert crypto.parse_recovery_key(" " + text.lower().replace("-", " ") + "\n") == raw
    with pytest.raises(WrongRecoveryKey):
        crypto.parse_recovery_key(text[:-5])


def test_kdf_parameters_round_trip_and_matter():
    params = crypto.KdfParams.new(time_cost=1, memory_kib=8192, parallelism=1)
    again = crypto.KdfParams.from_json(params.to_json())
    assert again == params
    key = crypto.derive_passphrase_key("pass phrase", params)
    assert key == crypto.derive_passphrase_key("pass phrase", again)
    assert key != crypto.derive_passphrase_key("pass phrasE", params)
    assert key != crypto.derive_passphrase_key("pass phrase", crypto.KdfParams.new(1, 8192, 1))


# --- padding (blob format v2) -------------------------------------------------------------------


def test_blob_size_does_not_reveal_the_exact_photo_size():
    # Someone with the vault folder and a candidate photo must not confirm it by its exact size:
    # nearby sizes land in the same PADME bucket and give blobs of identical length.
    key = crypto.new_file_key()
    sizes = [2_950_000 + delta for delta in (0, 1, 777, 60_000)]
    lengths = {len(crypto.encrypt_bytes(key, os.urandom(n))) for n in sizes}
    assert len(lengths) == 1
    for n in (0, 1, 100, 5000, CHUNK - 8, CHUNK, 1_234_567):
        plaintext = os.urandom(n)
        assert crypto.decrypt_bytes(key, crypto.encrypt_bytes(key, plaintext)) == plaintext


def test_padme_bounds_the_overhead_and_the_leak():
    previous = 0
    for n in [*range(1, 5000), *range(10_000, 20_000_000, 9973)]:
        padded = crypto.padme(n)
        assert padded >= n and padded >= previous
        previous = padded
        if n >= 256:
            assert (padded - n) / n < 0.12
    # Around a typical photo size, a 64 KiB range of sizes maps onto at most 2 blob sizes.
    assert len({crypto.padme(n) for n in range(3_000_000, 3_000_000 + 65536)}) <= 2


def test_unpadded_v1_blobs_still_read_and_padding_is_authenticated():
    key = crypto.new_file_key()
    plaintext = os.urandom(CHUNK + 123)
    v1 = b"".join(crypto.encrypt_chunks(key, plaintext, version=1))
    assert crypto.blob_version(v1) == 1
    assert crypto.decrypt_bytes(key, v1) == plaintext
    v2 = crypto.encrypt_bytes(key, plaintext)
    assert crypto.blob_version(v2) == 2
    # The version byte is authenticated: relabelling a v2 blob as v1 fails, it is not misread.
    relabelled = bytearray(v2)
    relabelled[8] = 1
    with pytest.raises(AuthenticationFailed):
        crypto.decrypt_bytes(key, bytes(relabelled))


def test_recovery_keypair_is_deterministic_per_key_and_salt():
    raw, salt = crypto.new_recovery_key(), os.urandom(16)
    assert crypto.recovery_keypair(raw, salt) == crypto.recovery_keypair(raw, salt)
    assert crypto.recovery_keypair(raw, os.urandom(16))[1] != crypto.recovery_keypair(raw, salt)[1]
    private, public = crypto.recovery_keypair(raw, salt)
    assert crypto.public_of(private) == public
