"""Encrypted blob store: one file per blob under `blobs/xx/`, written atomically.

Blob names are random, not content hashes: a content-addressed name (e.g. SHA-256 of the
photo) would let anyone holding a copy of a photo confirm it is in the vault by its file name.
Duplicates are recognised through the SHA-256 kept in the encrypted DB instead.

Two vaults share the folder when a second passphrase is set. A name is 8 random bytes and 8 bytes
of a MAC of them under the vault's own tag key, so a vault tells its own files from the other's
(which it must never remove) without a list of them, and a name says nothing to anyone else.
Names from before tags (untagged) are treated like the other vault's: never taken for orphans.
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import logging
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

from . import crypto, hardening
from .errors import AuthenticationFailed
from .files import TEMP_SUFFIX, write_atomically

log = logging.getLogger(__name__)

class BlobStore:
    def __init__(self, root: Path, tag_key: bytes = b""):
        self.root = root
        self.tmp_dir = root / "tmp"
        self.tag_key = tag_key  # set from the vault's DB once it is open

    def ensure(self) -> None:
        hardening.make_private_dir(self.root)
        hardening.make_private_dir(self.tmp_dir)

    def new_name(self) -> str:
        if not self.tag_key:
            raise ValueError("the blob store has no tag key yet")
        nonce = secrets.token_bytes(8)
        return nonce.hex() + self._tag(nonce).hex()

    def _tag(self, nonce: bytes) -> bytes:
        return hmac.new(self.tag_key, nonce, "sha256").digest()[:8]

    def is_own(self, name: str) -> bool:
        """Whether this vault named the blob `name` (see the module's docstring)."""
        try:
            raw = bytes.fromhex(name)
        except ValueError:
            return False
        return bool(self.tag_key) and len(raw) == 16 and hmac.compare_digest(raw[8:], self._tag(raw[:8]))

    def path_of(self, name: str) -> Path:
        if len(name) != 32 or any(c not in "0123456789abcdef" for c in name):
            raise ValueError("bad blob name")
        return self.root / name[:2] / name

    def write(self, name: str, file_key: bytes, plaintext: bytes) -> int:
        """Encrypt and store; the blob appears under its name complete or not at all."""
        final = self.path_of(name)
        if not final.parent.is_dir():
            hardening.make_private_dir(final.parent)
        # The temporary file goes to tmp/, where clean_temporary() finds what a crash left.
        return write_atomically(final, crypto.encrypt_chunks(file_key, plaintext), temp_dir=self.tmp_dir)

    def open_stream(self, name: str, file_key: bytes) -> Iterator[bytes]:
        """Authenticated plaintext chunks of a blob (see crypto.decrypt_stream)."""
        try:
            handle = open(self.path_of(name), "rb")
        except FileNotFoundError:
            # A missing blob is reported like a damaged one: the photo cannot be authenticated.
            raise AuthenticationFailed("The encrypted file of this photo is missing.") from None
        with handle:
            yield from crypto.decrypt_stream(file_key, handle)

    def read(self, name: str, file_key: bytes) -> bytes:
        return b"".join(self.open_stream(name, file_key))

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            path = self.path_of(name)
            _overwrite(path)
            path.unlink()

    def names_on_disk(self) -> Iterable[str]:
        for sub in self.root.iterdir():
            if sub.is_dir() and len(sub.name) == 2 and sub != self.tmp_dir:
                for f in sub.iterdir():
                    if len(f.name) == 32:
                        yield f.name

    def temporary_files(self) -> list[Path]:
        return sorted(self.tmp_dir.glob("*" + TEMP_SUFFIX)) if self.tmp_dir.is_dir() else []

    def clean_temporary(self) -> int:
        """Remove half-written blobs left by a crash."""
        removed = 0
        for f in self.tmp_dir.glob("*" + TEMP_SUFFIX):
            with contextlib.suppress(OSError):
                f.unlink()
                removed += 1
        return removed


def _overwrite(path: Path) -> None:
    # Best effort only: on SSDs and copy-on-write file systems old blocks may survive. The
    # blob is ciphertext anyway and its key (in the DB row) is destroyed; this just avoids
    # leaving it around longer than needed.
    try:
        size = path.stat().st_size
        with open(path, "r+b") as f:
            f.write(b"\0" * size)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.EACCES, errno.EROFS, errno.ENOSPC):
            raise
