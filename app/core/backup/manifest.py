"""The backup folder's layout and its signed manifest.

    DEST/
      sanctum-backup.json      the manifest: every file of the backup with its size and BLAKE3,
                               under a MAC (HMAC-SHA256) with the vault's backup key; replacing
                               it is the commit point of a backup run
      README-sanctum-backup.txt  says what the folder is (and marks it as a backup folder)
      blobs/xx/<name>          the vault's encrypted blobs, under their own (random) names
      files/<blake3>           every other file of the vault folder (the header, the database
                               snapshot, files this version does not know), named by the hash of
                               their bytes; the manifest says which vault path each one is
      tmp/                     files being written by a run; emptied at the start of the next

The manifest holds what the vault folder shows anyway (file names, sizes) plus hashes of
encrypted bytes, the time of the backup, and a vault id derived from the backup key (it tells
backups of this vault from those of another one; the blob names they share say as much).

A MAC, not an Ed25519 signature: a signature can be checked against any candidate public key,
and the vault's signing key is in every immunized photo and signed copy, so a signed backup
could be tied to its owner by anyone holding one of them; the vault folder cannot. The MAC key
is random, made at the first backup and kept in the encrypted database (so it survives
passphrase changes, like the image-uid key): only the passphrase, the recovery key or the open
vault can check it. Without them, verify checks sizes and hashes (accidents, not an attacker).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .. import files
from ..errors import BackupDamaged, NotABackup

MANIFEST_NAME = "sanctum-backup.json"
README_NAME = "README-sanctum-backup.txt"
FILES_DIR = "files"
BLOBS_DIR = "blobs"
TMP_DIR = "tmp"
FORMAT = "sanctum-backup"
VERSION = 1

README_TEXT = (
    "This folder holds an encrypted backup of a Sanctum vault.\n\n"
    "It opens only with the vault's passphrase or its recovery key. Restore it with Sanctum\n"
    "(on a computer without a vault, choose \"Restore from a backup\" when it starts, or run\n"
    "`sanctum restore THIS-FOLDER --to NEW-FOLDER`), and check it with\n"
    "`sanctum backup --verify THIS-FOLDER`. Do not change or rename files here.\n"
)

_HEX64 = re.compile(r"[0-9a-f]{64}")
_BLOB_NAME = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Entry:
    size: int
    # BLAKE3 (256 bits, hex) of the bytes as stored (encrypted, except the header, public anyway):
    # a cryptographic hash five times faster than SHA-256 here, so hashing every byte costs little.
    digest: str


@dataclass(frozen=True)
class Manifest:
    created_at: str
    generation: int  # 1 for the first backup into a folder, then one more per completed run
    vault_id: str  # HMAC of a fixed label under the backup key: the same for every backup of a vault
    database: str  # the vault path of the database snapshot (the header names it too)
    files: dict[str, Entry] = field(default_factory=dict)  # vault path ("vault.json") -> entry
    blobs: dict[str, Entry] = field(default_factory=dict)  # blob name -> entry
    mac: bytes = b""

    def canonical(self) -> bytes:
        """The MAC'ed bytes: every field but the MAC, sorted, no whitespace, the format name and
        version included."""
        body = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": self.created_at,
            "generation": self.generation,
            "vault_id": self.vault_id,
            "database": self.database,
            "files": {k: [e.size, e.digest] for k, e in sorted(self.files.items())},
            "blobs": {k: [e.size, e.digest] for k, e in sorted(self.blobs.items())},
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")

    def sealed(self, key: bytes) -> Manifest:
        return Manifest(self.created_at, self.generation, self.vault_id, self.database, self.files, self.blobs,
                        _mac(key, self.canonical()))

    def mac_ok(self, key: bytes) -> bool:
        return hmac.compare_digest(_mac(key, self.canonical()), self.mac)

    def to_bytes(self) -> bytes:
        document = json.loads(self.canonical())
        document["mac"] = _b64e(self.mac)
        return json.dumps(document, indent=1, sort_keys=True).encode("ascii")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            d = json.loads(data)
            if d["format"] != FORMAT or int(d["version"]) != VERSION:
                raise ValueError
            manifest = cls(
                str(d["created_at"]), int(d["generation"]), str(d["vault_id"]), str(d["database"]),
                {k: _entry(v) for k, v in d["files"].items()},
                {k: _entry(v) for k, v in d["blobs"].items()},
                _b64d(d["mac"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            raise BackupDamaged("The backup's manifest (sanctum-backup.json) is damaged.") from None
        # Names reach file paths: refuse anything that could point outside the backup or vault.
        if (not all(_BLOB_NAME.fullmatch(n) for n in manifest.blobs)
                or not all(safe_vault_path(p) for p in manifest.files)
                or manifest.database not in manifest.files):
            raise BackupDamaged("The backup's manifest (sanctum-backup.json) is damaged.")
        return manifest


def vault_id(key: bytes) -> str:
    return hmac.new(key, b"sanctum backup vault id v1", hashlib.sha256).hexdigest()[:32]


def _mac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, b"sanctum backup manifest v1\0" + data, hashlib.sha256).digest()


def _entry(value) -> Entry:
    size, digest = value
    if not isinstance(size, int) or size < 0 or not _HEX64.fullmatch(digest):
        raise ValueError
    return Entry(size, digest)


def safe_vault_path(relative: str) -> bool:
    """A relative path inside the vault folder, outside blobs/ (which the manifest lists apart)."""
    path = PurePosixPath(relative)
    return (bool(relative) and not path.is_absolute() and ".." not in path.parts and "\\" not in relative
            and path.parts[0] != BLOBS_DIR and all(part not in ("", ".") for part in path.parts))


def blob_path(root: Path, name: str) -> Path:
    return root / BLOBS_DIR / name[:2] / name


def stored_file(dest: Path, entry: Entry) -> Path:
    return dest / FILES_DIR / entry.digest


def read_manifest(dest: Path) -> Manifest:
    path = Path(dest) / MANIFEST_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotABackup(f"{dest} holds no Sanctum backup ({MANIFEST_NAME} is missing).") from None
    return Manifest.from_bytes(data)


def write_manifest(dest: Path, manifest: Manifest) -> None:
    # Durable and atomic: the previous manifest stays until this one is complete on the disk.
    files.write_atomically(dest / MANIFEST_NAME, manifest.to_bytes(), temp_dir=dest / TMP_DIR)


def _b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
