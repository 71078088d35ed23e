"""The backup folder's layout and its signed manifest.

    DEST/
      sanctum-backup.json      the manifest: every file of the backup with its size and SHA-256,
                               signed with the vault's Ed25519 key; replacing it is the commit
                               point of a backup run
      README-sanctum-backup.txt  says what the folder is (and marks it as a backup folder)
      blobs/xx/<name>          the vault's encrypted blobs, under their own (random) names
      files/<sha256>           every other file of the vault folder (the header, the database
                               snapshot, files this version does not know), named by the hash of
                               their bytes; the manifest says which vault path each one is
      tmp/                     files being written by a run; emptied at the start of the next

The manifest holds what the vault folder shows anyway (file names, sizes) plus hashes of
encrypted bytes, the signing public key (already public: it is in every protected copy's
signature check) and the time of the backup.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

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
    "(Settings > Backup, or `sanctum restore THIS-FOLDER --to NEW-FOLDER`), and check it with\n"
    "`sanctum backup --verify THIS-FOLDER`. Do not change or rename files here.\n"
)

_HEX64 = re.compile(r"[0-9a-f]{64}")
_BLOB_NAME = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Entry:
    size: int
    sha256: str  # of the bytes as stored (encrypted, except the header, which is public anyway)


@dataclass(frozen=True)
class Manifest:
    created_at: str
    generation: int  # 1 for the first backup into a folder, then one more per completed run
    signing_public_key: bytes
    database: str  # the vault path of the database snapshot (the header names it too)
    files: dict[str, Entry] = field(default_factory=dict)  # vault path ("vault.json") -> entry
    blobs: dict[str, Entry] = field(default_factory=dict)  # blob name -> entry
    signature: bytes = b""

    def canonical(self) -> bytes:
        """The signed bytes: every field but the signature, sorted, no whitespace. The format
        name is inside, so a backup signature can never pass for a signed share claim."""
        body = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": self.created_at,
            "generation": self.generation,
            "signing_public_key": _b64e(self.signing_public_key),
            "database": self.database,
            "files": {k: [e.size, e.sha256] for k, e in sorted(self.files.items())},
            "blobs": {k: [e.size, e.sha256] for k, e in sorted(self.blobs.items())},
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")

    def signed(self, private_raw: bytes) -> Manifest:
        signature = Ed25519PrivateKey.from_private_bytes(private_raw).sign(self.canonical())
        return Manifest(self.created_at, self.generation, self.signing_public_key, self.database,
                        self.files, self.blobs, signature)

    def signature_ok(self, public_raw: bytes | None = None) -> bool:
        """Whether the signature checks with `public_raw` (default: the key the manifest names,
        which only proves it was not changed by accident: anyone can sign with a key of their own)."""
        try:
            Ed25519PublicKey.from_public_bytes(public_raw or self.signing_public_key).verify(
                self.signature, self.canonical())
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_bytes(self) -> bytes:
        document = json.loads(self.canonical())
        document["signature"] = _b64e(self.signature)
        return json.dumps(document, indent=1, sort_keys=True).encode("ascii")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            d = json.loads(data)
            if d["format"] != FORMAT or int(d["version"]) != VERSION:
                raise ValueError
            manifest = cls(
                str(d["created_at"]), int(d["generation"]), _b64d(d["signing_public_key"]), str(d["database"]),
                {k: _entry(v) for k, v in d["files"].items()},
                {k: _entry(v) for k, v in d["blobs"].items()},
                _b64d(d["signature"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            raise BackupDamaged("The backup's manifest (sanctum-backup.json) is damaged.") from None
        # Names reach file paths: refuse anything that could point outside the backup or vault.
        if (not all(_BLOB_NAME.fullmatch(n) for n in manifest.blobs)
                or not all(safe_vault_path(p) for p in manifest.files)
                or manifest.database not in manifest.files):
            raise BackupDamaged("The backup's manifest (sanctum-backup.json) is damaged.")
        return manifest


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
    return dest / FILES_DIR / entry.sha256


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
