"""The Vault facade: create, unlock, lock, import, list, read, export, delete.

A vault is a folder:

    vault.json          header: KDF parameters, sealed master secret (passphrase and recovery
                        key), public key, sealed private key, the database's file name, and a MAC
                        over all of it under a key from the master secret. No photo data, no names.
    vault.db            SQLCipher database (photos, blob keys, TOTP state), keyed from the master;
                        after a passphrase change it is vault-<8 hex>.db (the header names it)
    vault.db-wal        its write-ahead log (encrypted too)
    blobs/xx/<name>     encrypted originals and thumbnails, random names
    blobs/tmp/          blobs being written; emptied at every unlock
    auth-state.json     failed-attempt counter for the back-off (no secrets)
    vault.lock          held while the vault is open, so two processes never write at once

Core code only: no Qt. Long operations take `progress(done, total)` and a cancel `Event`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import hashlib
import hmac
import io
import json
import logging
import os
import re
import stat as stat_module
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import filelock
import peewee

from .leaks import takedown
from .leaks.matcher import Matcher, ShareReference, ShareSource, VaultReference
from .local_features import LocalFeatures, local_features

if TYPE_CHECKING:
    from . import sharing
    from .leaks.fetch import Fetcher
    from .leaks.scan import ScanCache

from . import auth, crypto, db, fingerprint, hardening, imaging, strength
from .blobs import BlobStore
from .db import (
    Blob,
    LeakMatch,
    Photo,
    PhotoFeatures,
    PhotoFingerprint,
    RecoveryCode,
    Share,
    TakedownRequest,
)
from .errors import (
    AuthenticationFailed,
    Cancelled,
    ExportError,
    HeaderTampered,
    NotAVault,
    PhotoNotFound,
    SanctumError,
    TotpRequired,
    UnsupportedImage,
    UnsupportedVaultVersion,
    VaultBusy,
    VaultExists,
    VaultIncomplete,
    VaultLocked,
    VaultNotFound,
    WrongPassphrase,
    WrongRecoveryKey,
    WrongTotp,
)

log = logging.getLogger(__name__)

HEADER_NAME = "vault.json"
DB_NAME = "vault.db"
BLOBS_DIR = "blobs"
AUTH_STATE_NAME = "auth-state.json"
LOCK_NAME = "vault.lock"
FORMAT_NAME = "sanctum-vault"
FORMAT_VERSION = 2  # 2: the header carries a MAC and names its database; 1 is migrated at unlock
MIN_PASSPHRASE_LENGTH = 8
_DB_NAME_PATTERN = re.compile(r"vault(-[0-9a-f]{8})?\.db")
_DB_FILE_PATTERN = re.compile(r"(vault(?:-[0-9a-f]{8})?\.db)(-wal|-shm|-journal|\.before-v\d+\.bak)?")

_PURPOSE_MASTER_PASSPHRASE = "sanctum master secret, passphrase v1"
_PURPOSE_MASTER_RECOVERY = "sanctum master secret, recovery key v1"
_PURPOSE_PRIVATE_KEY = "sanctum x25519 private key v1"
_HEADER_MAC_INFO = "sanctum vault header mac v2"
_SQLCIPHER_INFO = "sanctum sqlcipher key v1"
_PRIVATE_SEAL_INFO = "sanctum private key seal v1"

# Kept in the (encrypted) DB so they survive a new master secret: photo ids stay stable and
# recovery codes stay valid across passphrase changes.
_UID_KEY = "uid_key"
_RECOVERY_CODE_KEY = "recovery_code_key"
# The header version this vault has reached, kept where an attacker cannot edit it: a header
# stripped of its MAC ("downgraded" to version 1) is refused once the DB says 2.
_HEADER_VERSION = "header_version"
# The blob format every blob of this vault has reached (1: unpadded, 2: PADME-padded).
_BLOB_FORMAT = "blob_format"

_TOTP_SECRET = "totp_secret"
_SIGNING_KEY = "ed25519_private"
_TOTP_LAST_STEP = "totp_last_step"

Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    pass


def _json_fields(record) -> dict:
    """A result dataclass as JSON-ready fields: datetimes as ISO 8601, tuples as lists."""
    def plain(value):
        if isinstance(value, datetime):
            return value.isoformat(timespec="seconds")
        return list(value) if isinstance(value, tuple) else value

    return {name: plain(value) for name, value in dataclasses.asdict(record).items()}


# --- results crossing thread boundaries are plain dataclasses -----------------------------------


@dataclass(frozen=True)
class PhotoInfo:
    id: int
    filename: str
    sha256: str
    image_uid: str
    mime: str
    size_bytes: int
    width: int
    height: int
    taken_at: datetime
    taken_at_source: str
    imported_at: datetime

    def to_json(self) -> dict:
        # tags and people fill in once the organize features store them
        return {**_json_fields(self), "tags": [], "people": []}


@dataclass(frozen=True)
class FileProblem:
    path: str
    reason: str


@dataclass(frozen=True)
class Duplicate:
    path: str
    photo_id: int


@dataclass
class ImportReport:
    imported: list[int] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    errors: list[FileProblem] = field(default_factory=list)
    cancelled: bool = False

    def to_json(self) -> dict:
        return {
            "imported": self.imported,
            "duplicates": [{"path": d.path, "photo_id": d.photo_id} for d in self.duplicates],
            "errors": [{"path": e.path, "reason": e.reason} for e in self.errors],
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True)
class ExportedFile:
    photo_id: int
    path: str


@dataclass
class ExportReport:
    exported: list[ExportedFile] = field(default_factory=list)
    errors: list[FileProblem] = field(default_factory=list)  # path holds the photo id
    cancelled: bool = False

    def to_json(self) -> dict:
        return {
            "exported": [{"photo_id": e.photo_id, "path": e.path} for e in self.exported],
            "errors": [{"photo_id": int(e.path), "reason": e.reason} for e in self.errors],
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True)
class VaultCreated:
    """What the user must see once at creation and never again."""

    recovery_key: str
    recovery_codes: list[str]
    totp: auth.TotpEnrollment | None


@dataclass(frozen=True)
class KeysRotated:
    """The outcome of a passphrase change or a recovery-key rotation.

    `recovery_key` is set when a new recovery key was made: it must be shown once, like at
    setup; the previous one no longer opens the vault.
    """

    recovery_key: str | None
    rewrapped: int  # blob keys re-wrapped to the new key pair


@dataclass(frozen=True)
class VaultStatus:
    """What can be known about a vault folder without any secret."""

    path: Path
    exists: bool
    totp_hint: bool  # whether the unlock screen should ask for a code (enforced from the DB)


@dataclass(frozen=True)
class ShareInfo:
    share_id: str
    photo_id: int | None  # None once the photo was deleted; the record stays
    recipient: str
    platform: str | None
    created_at: datetime
    width: int
    height: int
    options: dict

    def to_json(self) -> dict:
        return _json_fields(self)


@dataclass(frozen=True)
class ShareOutcome:
    share: ShareInfo
    out: str
    embedded: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class LeakMatchInfo:
    id: int
    source: str
    found_on: str | None
    photo_id: int | None
    share_id: str | None
    method: str
    score: float
    pdq_distance: int | None
    inliers: int | None
    region: list | None  # corners in the found image's full-size pixels
    found_size: tuple[int, int] | None
    detail: str
    first_seen: datetime
    last_seen: datetime
    status: str

    def to_json(self) -> dict:
        return _json_fields(self)


@dataclass(frozen=True)
class TakedownInfo:
    id: int
    match_id: int
    kind: str
    subject: str
    text: str
    html: str
    mailto: str | None
    status: str
    detail: str
    updated_at: datetime

    def to_json(self) -> dict:
        fields = _json_fields(self)
        del fields["html"]  # the text and mailto carry the same notice
        return fields


@dataclass(frozen=True)
class ScanOutcome:
    scanned: int
    errors: list[FileProblem]
    matches: list[LeakMatchInfo]
    cancelled: bool


@dataclass
class _PreparedPhoto:
    """Everything computed off the DB thread for one file, ready for a short transaction."""

    path: Path
    sha256: str
    photo_fields: dict
    fingerprint: fingerprint.PerceptualFingerprint
    features: bytes  # local_features.LocalFeatures, serialised
    blobs: list[tuple[str, str, bytes, int]]  # (kind, name, wrapped key, stored size)


class Vault:
    """An unlocked vault. Obtain one with `Vault.create`, `Vault.unlock` or `Vault.recover`."""

    def __init__(self, path: Path, header: dict, master: bytes, *, lock: filelock.BaseFileLock):
        self.path = path
        self._header = header
        self._master: bytes | None = master
        self._private_key: bytes | None = _unseal_private_key(header, master)
        self._public_key = crypto.b64d(header["public_key"])
        # Replaced by the copies kept in the DB once it is open (see _load_durable_keys).
        self._uid_key = crypto.hkdf(master, "sanctum image uid v1")
        self._code_key = crypto.hkdf(master, "sanctum recovery codes v1")
        # Only when opened with a legacy (v1) recovery key: lets the next key rotation keep it.
        self._legacy_recovery_raw: bytes | None = None
        self._lock = lock
        self.blobs = BlobStore(path / BLOBS_DIR)
        self._db: peewee.Database | None = None

    # --- life cycle ------------------------------------------------------------------------

    @staticmethod
    def status(path: Path) -> VaultStatus:
        path = Path(path)
        try:
            header = _read_header(path)
        except (VaultNotFound, NotAVault, UnsupportedVaultVersion):
            return VaultStatus(path, False, False)
        return VaultStatus(path, True, bool(header.get("totp_hint")))

    @classmethod
    def create(
        cls,
        path: Path,
        passphrase: str,
        *,
        enable_totp: bool = True,
        kdf: crypto.KdfParams | None = None,
    ) -> tuple[Vault, VaultCreated]:
        path = Path(path)
        strength.require_strong(passphrase, MIN_PASSPHRASE_LENGTH)
        if (path / HEADER_NAME).exists():
            raise VaultExists()
        if path.exists() and any(p for p in path.iterdir() if not p.name.startswith(".")):
            raise VaultExists("This folder is not empty; choose an empty or new folder for the vault.")
        hardening.make_private_dir(path)
        kdf = kdf or crypto.KdfParams.new()
        master = os.urandom(crypto.KEY_BYTES)
        recovery_raw = crypto.new_recovery_key()
        header = _build_header(
            passphrase, kdf, master, crypto.new_keypair(), _recovery_fields(recovery_raw, os.urandom(16), master),
            database=DB_NAME, totp_hint=enable_totp, created_at=_utcnow().isoformat(timespec="seconds"),
        )
        _write_header(path, header)
        vault = cls._open(path, header, master, new=True)
        codes = auth.new_recovery_codes()
        enrollment = auth.new_totp() if enable_totp else None
        with db.database.atomic():
            if enrollment:
                db.put_setting(_TOTP_SECRET, enrollment.secret)
                db.put_setting(_TOTP_LAST_STEP, "-1")
            code_key = vault._recovery_code_key()
            for code in codes:
                RecoveryCode.create(code_hash=auth.hash_recovery_code(code_key, code))
            db.put_setting(_SIGNING_KEY, crypto.b64e(fingerprint.new_signing_key()))
        return vault, VaultCreated(crypto.format_recovery_key(recovery_raw), codes, enrollment)

    @classmethod
    def unlock(
        cls,
        path: Path,
        passphrase: str,
        *,
        totp_code: str | None = None,
        recovery_code: str | None = None,
        clock: auth.Clock = time.time,
    ) -> Vault:
        """Passphrase first (it decrypts), then the second factor (it gates)."""
        path = Path(path)
        header = _read_header(path)
        gate = auth.BackoffGate(path / AUTH_STATE_NAME, clock)
        gate.check()
        kdf = crypto.KdfParams.from_json(header["kdf"])
        try:
            master = crypto.unseal(
                crypto.derive_passphrase_key(passphrase, kdf),
                crypto.b64d(header["sealed_master_passphrase"]),
                _PURPOSE_MASTER_PASSPHRASE,
            )
        except AuthenticationFailed:
            gate.record_failure()
            raise WrongPassphrase() from None
        vault = cls._open(path, header, master)
        try:
            vault._check_second_factor(totp_code, recovery_code, clock())
        except BaseException as exc:
            if isinstance(exc, SanctumError) and not isinstance(exc, TotpRequired):
                gate.record_failure()
            vault.lock()
            raise
        gate.record_success()
        return vault

    @classmethod
    def recover(cls, path: Path, recovery_key: str) -> Vault:
        """Open with the recovery key alone (lost passphrase and phone). Set a new passphrase next."""
        path = Path(path)
        header = _read_header(path)
        gate = auth.BackoffGate(path / AUTH_STATE_NAME)
        gate.check()
        raw = crypto.parse_recovery_key(recovery_key)
        try:
            master = _unseal_master_with_recovery(header, raw)
        except (AuthenticationFailed, ValueError, KeyError, TypeError):
            gate.record_failure()
            raise WrongRecoveryKey() from None
        gate.record_success()
        vault = cls._open(path, header, master)
        if "recovery_public_key" not in vault._header:
            vault._legacy_recovery_raw = raw
        return vault

    @classmethod
    def _open(cls, path: Path, header: dict, master: bytes, *, new: bool = False) -> Vault:
        # Not thread-local: the GUI unlocks on a worker thread and locks on the UI thread.
        lock = filelock.FileLock(str(path / LOCK_NAME), timeout=0, thread_local=False)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise VaultBusy() from None
        vault = None
        try:
            _check_header(header, master)
            # Keys are about to be in memory: keep them out of core dumps from now on.
            hardening.disable_core_dumps()
            hardening.restrict(path)
            vault = cls(path, header, master, lock=lock)
            vault.blobs.ensure()
            database = _database_name(header)
            if not new and not (path / database).is_file():
                # Never let SQLite create an empty database here: the garbage collection below
                # would take every blob for an orphan. An old vault.json put back after a key
                # rotation names a database that no longer exists.
                raise VaultIncomplete()
            vault._db = db.open_database(path / database, crypto.hkdf(master, _SQLCIPHER_INFO))
            vault._check_header_version()
            vault._load_durable_keys()
            # A key rotation interrupted before or after its switch leaves one database that the
            # header does not name: it is either never used (before) or replaced (after).
            _destroy_stale_databases(path, keep=database)
            vault._pad_legacy_blobs()
            vault._collect_garbage()
            # Vaults made before 0700/0600 (and SQLite's own -wal/-shm, created with the umask).
            hardening.restrict_tree(path)
        except BaseException:
            if vault is not None and vault._db is not None:
                with contextlib.suppress(Exception):
                    vault._db.close()
            lock.release()
            raise
        return vault

    def lock(self) -> None:
        """Close the DB and drop the keys. Python cannot wipe memory; dropping references is
        the best it offers (the threat model says so)."""
        if self._db is not None:
            with contextlib.suppress(Exception):
                self._db.close()
            self._db = None
        self._master = None
        self._private_key = None
        self._uid_key = b""
        self._session_scan_cache = None  # validators live for one session only
        if self._lock.is_locked:
            self._lock.release()

    @property
    def is_open(self) -> bool:
        return self._master is not None

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock()

    def _require_open(self) -> None:
        if self._master is None:
            raise VaultLocked()

    def _recovery_code_key(self) -> bytes:
        self._require_open()
        return self._code_key

    def _check_second_factor(self, totp_code: str | None, recovery_code: str | None, now: float) -> None:
        secret = db.get_setting(_TOTP_SECRET)
        if secret is None:
            return
        if recovery_code:
            code_hash = auth.hash_recovery_code(self._recovery_code_key(), recovery_code)
            updated = (
                RecoveryCode.update(used_at=_utcnow())
                .where((RecoveryCode.code_hash == code_hash) & RecoveryCode.used_at.is_null())
                .execute()
            )
            if updated != 1:
                raise WrongTotp("That recovery code is wrong or was already used.")
            return
        if not totp_code:
            raise TotpRequired()
        last_step = int(db.get_setting(_TOTP_LAST_STEP, "-1"))
        step = auth.check_totp(secret, totp_code, last_step, now)
        db.put_setting(_TOTP_LAST_STEP, str(step))

    # --- keys: passphrase, recovery key, recovery codes, authenticator -------------------------

    def verify_passphrase(self, passphrase: str) -> None:
        """Raise WrongPassphrase unless `passphrase` is the current one (asked before changes,
        so a moment at an unlocked computer is not enough to take the vault over)."""
        self._require_open()
        gate = auth.BackoffGate(self.path / AUTH_STATE_NAME)
        gate.check()
        kdf = crypto.KdfParams.from_json(self._header["kdf"])
        try:
            master = crypto.unseal(
                crypto.derive_passphrase_key(passphrase, kdf),
                crypto.b64d(self._header["sealed_master_passphrase"]),
                _PURPOSE_MASTER_PASSPHRASE,
            )
        except AuthenticationFailed:
            gate.record_failure()
            raise WrongPassphrase() from None
        if not hmac.compare_digest(master, self._master):
            raise WrongPassphrase()
        gate.record_success()

    def change_passphrase(
        self,
        new_passphrase: str,
        kdf: crypto.KdfParams | None = None,
        *,
        progress: Progress = _no_progress,
        cancel: threading.Event | None = None,
    ) -> KeysRotated:
        """Set a new passphrase and rotate every key under it (see `_rotate_keys`).

        The recovery key is kept; only a vault made before header version 2 and unlocked with
        the passphrase gets a new one (the old scheme cannot be re-sealed without the key).
        """
        self._require_open()
        strength.require_strong(new_passphrase, MIN_PASSPHRASE_LENGTH)
        return self._rotate_keys(new_passphrase, kdf, new_recovery_key=False, progress=progress, cancel=cancel)

    def rotate_recovery_key(
        self,
        passphrase: str,
        kdf: crypto.KdfParams | None = None,
        *,
        progress: Progress = _no_progress,
        cancel: threading.Event | None = None,
    ) -> KeysRotated:
        """Replace the recovery key (the current passphrase stays). The whole key set rotates
        too, so an old recovery key together with an old copy of vault.json opens nothing."""
        self.verify_passphrase(passphrase)
        return self._rotate_keys(passphrase, kdf, new_recovery_key=True, progress=progress, cancel=cancel)

    def _rotate_keys(
        self,
        passphrase: str,
        kdf: crypto.KdfParams | None,
        *,
        new_recovery_key: bool,
        progress: Progress,
        cancel: threading.Event | None,
    ) -> KeysRotated:
        """New master secret, new SQLCipher key, new X25519 key pair, every blob key re-wrapped.

        Crash-safe by construction: the re-keyed database is written complete under a new file
        name beside the current one, then the new header (which names it) replaces the old one
        atomically -- the single commit point. A crash before it leaves the old header and
        database untouched (the half-made copy is destroyed at the next unlock); a crash after
        it leaves the new pair complete (the old database is destroyed at the next unlock).

        No other operation may write to the vault meanwhile (the GUI runs this on the
        vault-write lane with nothing else running): a write to the old database after the copy
        would be lost.
        """
        self._require_open()
        cancel = cancel or threading.Event()
        kdf = kdf or crypto.KdfParams.new()
        master = os.urandom(crypto.KEY_BYTES)
        private, public = crypto.new_keypair()
        shown_key: str | None = None
        if new_recovery_key or ("recovery_public_key" not in self._header and self._legacy_recovery_raw is None):
            raw = crypto.new_recovery_key()
            shown_key = crypto.format_recovery_key(raw)
            recovery = _recovery_fields(raw, os.urandom(16), master)
        elif "recovery_public_key" in self._header:
            # The recovery key is a public key in the header: seal the new master to it.
            recovery = {
                "recovery_salt": self._header["recovery_salt"],
                "recovery_public_key": self._header["recovery_public_key"],
                "sealed_master_recovery": crypto.b64e(
                    crypto.wrap_key(crypto.b64d(self._header["recovery_public_key"]), master)
                ),
            }
        else:
            recovery = _recovery_fields(self._legacy_recovery_raw, os.urandom(16), master)
        old_database = _database_name(self._header)
        new_database = f"vault-{os.urandom(4).hex()}.db"
        new_path = self.path / new_database
        sql_key = crypto.hkdf(master, _SQLCIPHER_INFO)
        rewrapped = self._write_rekeyed_database(new_path, sql_key, public, progress, cancel)
        header = _build_header(
            passphrase, kdf, master, (private, public), recovery, database=new_database,
            totp_hint=bool(self._header.get("totp_hint")),
            created_at=self._header.get("created_at", _utcnow().isoformat(timespec="seconds")),
        )
        _write_header(self.path, header)  # the commit point
        # From here on the new key set is the vault; switch to it, then destroy the old one.
        old_db = self._db
        self._db = db.open_database(new_path, sql_key)
        if old_db is not None:
            with contextlib.suppress(Exception):
                old_db.close()
        self._header = header
        self._master = master
        self._private_key = private
        self._public_key = public
        self._legacy_recovery_raw = None
        _destroy_stale_databases(self.path, keep=new_database)
        hardening.restrict_tree(self.path)
        log.info("vault keys rotated (%d blob keys re-wrapped; database %s replaced)", rewrapped, old_database)
        return KeysRotated(shown_key, rewrapped)

    def _write_rekeyed_database(
        self, target: Path, sql_key: bytes, public: bytes, progress: Progress, cancel: threading.Event
    ) -> int:
        """Copy the DB under `sql_key` into `target` with every blob key re-wrapped to `public`."""
        for stale in (target, target.with_name(target.name + "-journal")):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        total = Blob.select().count()
        progress(0, total)
        conn = db.database
        conn.execute_sql("ATTACH DATABASE ? AS rotation KEY ?", (str(target), db.raw_key_pragma(sql_key)))
        done = 0
        try:
            # One transaction: the copy is complete, or (on a crash) a file the next unlock
            # destroys because no header names it.
            with conn.atomic():
                conn.execute_sql("SELECT sqlcipher_export('rotation')")
                last_id = 0
                while True:
                    if cancel.is_set():
                        raise Cancelled()
                    rows = conn.execute_sql(
                        "SELECT id, wrapped_key FROM rotation.blob WHERE id > ? ORDER BY id LIMIT 256",
                        (last_id,),
                    ).fetchall()
                    if not rows:
                        break
                    for row_id, wrapped in rows:
                        file_key = crypto.unwrap_key(self._private_key, bytes(wrapped))
                        conn.execute_sql(
                            "UPDATE rotation.blob SET wrapped_key = ? WHERE id = ?",
                            (crypto.wrap_key(public, file_key), row_id),
                        )
                        last_id = row_id
                    done += len(rows)
                    progress(done, total)
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute_sql("DETACH DATABASE rotation")
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            raise
        conn.execute_sql("DETACH DATABASE rotation")
        hardening.restrict(target)
        _fsync_dir(self.path)
        return done

    def new_recovery_codes(self) -> list[str]:
        """Replace all one-time recovery codes (used or not) by new ones; shown once."""
        self._require_open()
        codes = auth.new_recovery_codes()
        with db.database.atomic():
            RecoveryCode.delete().execute()
            for code in codes:
                RecoveryCode.create(code_hash=auth.hash_recovery_code(self._code_key, code))
        return codes

    def begin_totp_enrollment(self) -> auth.TotpEnrollment:
        """A new authenticator secret, not yet in use: `finish_totp_enrollment` stores it once
        a code from it proves the app was set up (so a mistake cannot lock the user out)."""
        self._require_open()
        return auth.new_totp()

    def finish_totp_enrollment(self, enrollment: auth.TotpEnrollment, code: str, *, now: float | None = None) -> None:
        """Replace the authenticator (or add one) after checking `code` against the new secret.
        The old authenticator app stops working."""
        self._require_open()
        step = auth.match_totp_step(enrollment.secret, code, time.time() if now is None else now)
        if step is None:
            raise WrongTotp("That code does not match the new authenticator entry. Check the app's clock and "
                            "that you scanned the new code.")
        with db.database.atomic():
            db.put_setting(_TOTP_SECRET, enrollment.secret)
            db.put_setting(_TOTP_LAST_STEP, str(step))
        if not self._header.get("totp_hint"):
            self._rewrite_header(totp_hint=True)

    @property
    def has_totp(self) -> bool:
        self._require_open()
        return db.get_setting(_TOTP_SECRET) is not None

    def _rewrite_header(self, **changes) -> None:
        header = {k: v for k, v in self._header.items() if k != "mac"}
        header.update(changes)
        header["version"] = FORMAT_VERSION
        header["mac"] = _header_mac(self._master, header)
        _write_header(self.path, header)
        self._header = header

    def _check_header_version(self) -> None:
        """Refuse a header without a MAC once this vault had one; give a legacy header its MAC."""
        reached = int(db.get_setting(_HEADER_VERSION, "1"))
        if "mac" not in self._header:
            if reached >= 2:
                raise HeaderTampered()
            # Migration from header version 1: the MAC covers the fields as they are now, which
            # unlocking just proved (the passphrase or recovery key unsealed the master secret,
            # and the key pair matches).
            self._rewrite_header(database=_database_name(self._header))
            log.info("vault header migrated to version %d", FORMAT_VERSION)
        if reached < FORMAT_VERSION:
            db.put_setting(_HEADER_VERSION, str(FORMAT_VERSION))

    def _load_durable_keys(self) -> None:
        """Keys that must outlive a master-secret rotation live in the encrypted DB."""
        stored_uid = db.get_setting(_UID_KEY)
        stored_code = db.get_setting(_RECOVERY_CODE_KEY)
        if stored_uid is None or stored_code is None:
            with db.database.atomic():
                if stored_uid is None:
                    db.put_setting(_UID_KEY, crypto.b64e(self._uid_key))
                if stored_code is None:
                    db.put_setting(_RECOVERY_CODE_KEY, crypto.b64e(self._code_key))
        else:
            self._uid_key = crypto.b64d(stored_uid)
            self._code_key = crypto.b64d(stored_code)

    def _pad_legacy_blobs(self, budget_seconds: float = 3.0) -> int:
        """Migration to blob format 2: re-encrypt unpadded (v1) blobs, padded, under the same
        name and key. Each file is replaced atomically, so a crash leaves each blob either v1
        or v2, both readable.

        Lazy and bounded: each unlock spends at most about `budget_seconds` on it (a large vault
        must not make the first unlock after an upgrade take minutes); the next unlock goes on,
        and the DB flag is set once no v1 blob is left. Returns how many blobs it padded.
        """
        if int(db.get_setting(_BLOB_FORMAT, "1")) >= crypto.BLOB_VERSION:
            return 0
        deadline = time.monotonic() + budget_seconds
        padded = 0
        finished = True
        for row_id, name, wrapped in Blob.select(Blob.id, Blob.name, Blob.wrapped_key).order_by(Blob.id).tuples():
            path = self.blobs.path_of(name)
            try:
                with open(path, "rb") as f:
                    version = crypto.blob_version(f.read(crypto.HEADER_SIZE))
            except FileNotFoundError:
                continue  # reported by check_consistency; nothing to pad
            if version != 1:
                continue
            if padded and time.monotonic() > deadline:  # at least one per unlock: always progress
                finished = False
                break
            try:
                file_key = crypto.unwrap_key(self._private_key, bytes(wrapped))
                size = self.blobs.write(name, file_key, self.blobs.read(name, file_key))
            except (AuthenticationFailed, OSError) as exc:
                # A damaged blob fails alone (its photo reports it); it must not stop the unlock.
                log.warning("could not pad a blob: %s", type(exc).__name__)
                continue
            Blob.update(size_bytes=size).where(Blob.id == row_id).execute()
            padded += 1
        if finished:
            db.put_setting(_BLOB_FORMAT, str(crypto.BLOB_VERSION))
        if padded:
            log.info("padded %d blobs of an earlier format%s", padded, "" if finished else " (more next unlock)")
        return padded

    def remaining_recovery_codes(self) -> int:
        self._require_open()
        return RecoveryCode.select().where(RecoveryCode.used_at.is_null()).count()

    def release_thread_connection(self) -> None:
        """Close this thread's DB connection (worker threads call this when a job ends)."""
        if self._db is not None:
            with contextlib.suppress(Exception):
                self._db.close()

    # --- consistency -------------------------------------------------------------------------

    def _collect_garbage(self) -> None:
        """Remove what an interrupted import or delete left behind.

        Blobs are written before their DB rows and deleted after them, so a crash can only
        leave blob files without rows, never rows without blobs. Those files are unreadable
        anyway (their keys were never committed, or are already destroyed).
        """
        removed_tmp = self.blobs.clean_temporary()
        referenced = {name for (name,) in Blob.select(Blob.name).tuples()}
        orphans = [name for name in self.blobs.names_on_disk() if name not in referenced]
        for name in orphans:
            self.blobs.delete(name)
        if removed_tmp or orphans:
            log.info("cleaned %d partial and %d orphaned blobs", removed_tmp, len(orphans))

    def check_consistency(self) -> list[str]:
        """Problems found between DB rows and blob files (empty when consistent)."""
        self._require_open()
        problems = []
        on_disk = set(self.blobs.names_on_disk())
        for name, photo_id in Blob.select(Blob.name, Blob.photo).tuples():
            if name not in on_disk:
                problems.append(f"photo {photo_id}: blob {name} missing")
        referenced = {name for (name,) in Blob.select(Blob.name).tuples()}
        problems += [f"blob {name} has no row" for name in on_disk - referenced]
        for photo_id, count in (
            Photo.select(Photo.id, peewee.fn.COUNT(Blob.id)).join(Blob, peewee.JOIN.LEFT_OUTER)
            .group_by(Photo.id).tuples()
        ):
            if count != 3:
                problems.append(f"photo {photo_id}: {count} blobs instead of 3")
        return problems

    # --- import ------------------------------------------------------------------------------

    def import_paths(
        self,
        paths: Iterable[str | Path],
        progress: Progress = _no_progress,
        cancel: threading.Event | None = None,
        workers: int | None = None,
        on_imported: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import files and folders (recursively). Bad files are reported, never fatal.

        Decoding and encryption run on a small thread pool (Pillow, hashlib and AES release
        the GIL); each photo is then committed in its own short transaction on this thread.
        """
        self._require_open()
        cancel = cancel or threading.Event()
        report = ImportReport()
        files = expand_paths(paths, report.errors)
        total = len(files)
        progress(0, total)
        workers = workers or min(2, os.cpu_count() or 1)
        done = 0
        # Bounded look-ahead: at most a few decoded photos in memory at once.
        max_in_flight = workers + 1
        pending: dict[Future, Path] = {}
        queue = iter(files)
        known = {sha for (sha,) in Photo.select(Photo.sha256).tuples()}
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sanctum-import") as pool:
            try:
                while True:
                    while len(pending) < max_in_flight and not cancel.is_set():
                        path = next(queue, None)
                        if path is None:
                            break
                        pending[pool.submit(self._prepare_photo, path, known)] = path
                    if not pending:
                        break
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        path = pending.pop(future)
                        self._finish_import(path, future, report, on_imported)
                        done += 1
                        progress(done, total)
            finally:
                for future in pending:
                    future.cancel()
                # Prepared photos whose commit will never happen must not leave blobs behind.
                for future, path in pending.items():
                    if not future.cancelled():
                        self._finish_import(path, future, report, on_imported, discard=True)
        report.cancelled = cancel.is_set() and done < total
        return report

    def import_file(self, path: str | Path) -> ImportReport:
        return self.import_paths([path], workers=1)

    def _finish_import(
        self,
        path: Path,
        future: Future,
        report: ImportReport,
        on_imported: Callable[[int], None] | None,
        discard: bool = False,
    ) -> None:
        try:
            prepared = future.result()
        except _DuplicateFound as dup:
            report.duplicates.append(Duplicate(str(path), self._photo_id_by_sha(dup.sha256) or 0))
            return
        except (UnsupportedImage, OSError) as exc:
            report.errors.append(FileProblem(str(path), _reason(exc)))
            return
        if discard:
            self._discard_blobs(prepared)
            return
        try:
            photo_id = self._commit_photo(prepared)
        except _DuplicateFound as dup:
            report.duplicates.append(Duplicate(str(path), self._photo_id_by_sha(dup.sha256) or 0))
            return
        except Exception as exc:
            report.errors.append(FileProblem(str(path), _reason(exc)))
            return
        report.imported.append(photo_id)
        if on_imported:
            on_imported(photo_id)

    def _prepare_photo(self, path: Path, known_sha256: set[str]) -> _PreparedPhoto:
        """Read, validate, decode, fingerprint and encrypt one file (runs on a pool thread).

        Touches no DB: the pool threads never open a database connection of their own.
        """
        # Regular files only, never more than the cap (a pipe or /dev/zero behind a name must
        # not hang or exhaust memory); the check is on the opened file, not the name.
        data, stat = imaging.read_image_file(path)
        sha256 = hashlib.sha256(data).hexdigest()
        if sha256 in known_sha256:
            raise _DuplicateFound(sha256)
        decoded = imaging.decode(data, min_long_side=imaging.THUMB_SIZES["thumb_large"])
        # Keyed hash of the decoded pixels (see image_uid_of): nobody without the vault key can
        # compute or forge it, and the same picture stored again gets the same id.
        image_uid = image_uid_of(self._uid_key, decoded)
        thumbnails = imaging.make_thumbnails(decoded.oriented)
        prints = fingerprint.perceptual_fingerprint(decoded.oriented)
        features = local_features(decoded.oriented).to_bytes()
        if decoded.exif_taken_at:
            taken_at, taken_source = decoded.exif_taken_at, "exif"
        else:
            taken_at, taken_source = datetime.fromtimestamp(stat.st_mtime), "file"
        fields = {
            "image_uid": image_uid,
            "sha256": sha256,
            "filename": path.name,
            "mime": decoded.mime,
            "size_bytes": len(data),
            "width": decoded.display_size[0],  # full size as displayed
            "height": decoded.display_size[1],
            "taken_at": taken_at,
            "taken_at_source": taken_source,
        }
        del decoded
        prepared = _PreparedPhoto(path, sha256, fields, prints, features, [])
        try:
            for kind, content in (("original", data), *thumbnails.items()):
                prepared.blobs.append(self._store_blob(kind, content))
        except BaseException:
            self._discard_blobs(prepared)
            raise
        return prepared

    def _store_blob(self, kind: str, content: bytes) -> tuple[str, str, bytes, int]:
        file_key = crypto.new_file_key()
        name = self.blobs.new_name()
        size = self.blobs.write(name, file_key, content)
        return kind, name, crypto.wrap_key(self._public_key, file_key), size

    def _discard_blobs(self, prepared: _PreparedPhoto) -> None:
        for _, name, _, _ in prepared.blobs:
            self.blobs.delete(name)

    def _commit_photo(self, prepared: _PreparedPhoto) -> int:
        try:
            with db.database.atomic():
                photo = Photo.create(imported_at=_utcnow_naive(), **prepared.photo_fields)
                for kind, name, wrapped, size in prepared.blobs:
                    Blob.create(name=name, photo=photo, kind=kind, wrapped_key=wrapped, size_bytes=size)
                _save_fingerprint(photo.id, prepared.fingerprint)
                PhotoFeatures.replace(photo=photo.id, data=prepared.features).execute()
        except peewee.IntegrityError:
            self._discard_blobs(prepared)
            if self._photo_id_by_sha(prepared.sha256) is not None:  # same bytes twice in a batch
                raise _DuplicateFound(prepared.sha256) from None
            raise
        except BaseException:
            self._discard_blobs(prepared)
            raise
        return photo.id

    def _photo_id_by_sha(self, sha256: str) -> int | None:
        row = Photo.select(Photo.id).where(Photo.sha256 == sha256).tuples().first()
        return row[0] if row else None

    # --- queries -----------------------------------------------------------------------------

    def list_photos(
        self,
        *,
        after: datetime | None = None,
        before: datetime | None = None,
        ids: Sequence[int] | None = None,
        newest_first: bool = False,
        limit: int | None = None,
        tag: str | None = None,
        person: str | None = None,
        sensitive: bool | None = None,
    ) -> list[PhotoInfo]:
        """Photos by date range, ids, tag (category or fine label), person (id or name) and the
        sensitive flag; filters combine."""
        from . import organize

        self._require_open()
        query = Photo.select()
        if tag or person or sensitive is not None:
            query = query.where(organize.photo_filter(tag, person, sensitive))
        if after is not None:
            query = query.where(Photo.taken_at >= after)
        if before is not None:
            query = query.where(Photo.taken_at < before)
        if ids is not None:
            query = query.where(Photo.id.in_(list(ids)))
        order = (Photo.taken_at.desc(), Photo.id.desc()) if newest_first else (Photo.taken_at, Photo.id)
        query = query.order_by(*order)
        if limit:
            query = query.limit(limit)
        return [_photo_info(p) for p in query]

    def find_photos(self, query) -> set[int]:
        """Ids of the photos a `search.PhotoQuery` selects: tag, person, flag and search text
        combined (every word of the text must match)."""
        from . import search

        self._require_open()
        return search.find_photo_ids(query)

    def photo(self, photo_id: int) -> PhotoInfo:
        self._require_open()
        row = Photo.get_or_none(Photo.id == photo_id)
        if row is None:
            raise PhotoNotFound(f"No photo with id {photo_id} in this vault.")
        return _photo_info(row)

    def count(self) -> int:
        self._require_open()
        return Photo.select().count()

    def _blob_row(self, photo_id: int, kind: str) -> Blob:
        self._require_open()
        row = Blob.get_or_none((Blob.photo == photo_id) & (Blob.kind == kind))
        if row is None:
            if Photo.get_or_none(Photo.id == photo_id) is None:
                raise PhotoNotFound(f"No photo with id {photo_id} in this vault.")
            raise AuthenticationFailed("A stored part of this photo is missing.")
        return row

    def _stream(self, photo_id: int, kind: str) -> Iterator[bytes]:
        row = self._blob_row(photo_id, kind)
        file_key = crypto.unwrap_key(self._private_key, bytes(row.wrapped_key))
        return self.blobs.open_stream(row.name, file_key)

    def read_original(self, photo_id: int) -> bytes:
        """The original bytes, bit-exact, in memory; only after every chunk authenticated."""
        return b"".join(self._stream(photo_id, "original"))

    def read_thumbnail(self, photo_id: int, size: str = "small") -> bytes:
        return b"".join(self._stream(photo_id, f"thumb_{size}"))

    # --- export and delete -------------------------------------------------------------------

    def export(
        self,
        photo_ids: Sequence[int],
        out_dir: str | Path,
        progress: Progress = _no_progress,
        cancel: threading.Event | None = None,
    ) -> ExportReport:
        """Write originals, bit-exact, into `out_dir`. Existing files are never overwritten."""
        self._require_open()
        out_dir = Path(out_dir)
        report = ExportReport()
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExportError(f"Cannot create {out_dir}: {_os_reason(exc)}") from None
        total = len(photo_ids)
        progress(0, total)
        for done, photo_id in enumerate(photo_ids, 1):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            try:
                report.exported.append(ExportedFile(photo_id, str(self._export_one(photo_id, out_dir))))
            except (SanctumError, OSError) as exc:
                report.errors.append(FileProblem(str(photo_id), _reason(exc)))
            progress(done, total)
        return report

    def _export_one(self, photo_id: int, out_dir: Path) -> Path:
        info = self.photo(photo_id)
        target = _free_name(out_dir, _safe_filename(info.filename, photo_id))
        tmp = out_dir / f".{target.name}.sanctum-part"
        try:
            # Owner-only (0600): an exported private photo must not be readable by other accounts.
            with hardening.open_private(tmp) as out:
                for chunk in self._stream(photo_id, "original"):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if target.exists():  # appeared meanwhile: pick another name, never overwrite
                target = _free_name(out_dir, target.name)
            os.replace(tmp, target)
        except BaseException:
            # A partial file would look like a photo; a failed export leaves nothing behind.
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return target

    def delete(self, photo_ids: Sequence[int], *, keep_leak_records: bool = True) -> list[int]:
        """Delete photos: rows (with the wrapped keys) first, then the blob files.

        Copies of a photo found by leak scans lose their evidence images with it (a picture of
        the photo, kept in the DB). With `keep_leak_records` their text record stays — where
        the copy was, when it was seen, how it was recognised, removal requests — as proof for
        a report; without it the records go too. Cached scan results naming the photo go
        either way (they would point a later scan at a photo that no longer exists).
        """
        self._require_open()
        deleted = []
        for photo_id in photo_ids:
            with db.database.atomic():
                names = [name for (name,) in Blob.select(Blob.name).where(Blob.photo == photo_id).tuples()]
                Blob.delete().where(Blob.photo == photo_id).execute()
                if keep_leak_records:
                    # The row itself loses its photo through the foreign key (SET NULL).
                    LeakMatch.update(evidence=None).where(LeakMatch.photo == photo_id).execute()
                else:
                    LeakMatch.delete().where(LeakMatch.photo == photo_id).execute()  # requests cascade
                if Photo.delete().where(Photo.id == photo_id).execute() == 0:
                    raise PhotoNotFound(f"No photo with id {photo_id} in this vault.")
            if self._session_scan_cache is not None:
                self._session_scan_cache.forget_photo(photo_id)
            for name in names:
                self.blobs.delete(name)
            deleted.append(photo_id)
        if deleted:
            # Push the WAL into the main file so freed pages (zeroed by secure_delete) replace
            # the old ones; otherwise the WAL could hold the deleted wrapped keys for a while.
            db.database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted


    # --- protected copies ------------------------------------------------------------------

    def share_keys(self) -> sharing.ShareKeys:
        from . import sharing  # the watermark's numeric stack loads only when sharing is used

        self._require_open()
        return sharing.ShareKeys(
            watermark=crypto.hkdf(self._master, "sanctum robust watermark v1"),
            fragile=crypto.hkdf(self._master, "sanctum fragile watermark v1"),
            mac=crypto.hkdf(self._master, "sanctum share hmac v1"),
            signing_private=self._signing_key(),
        )

    def _signing_key(self) -> bytes:
        # Made with the vault and kept in the encrypted DB; vaults made before sharing existed
        # get one on first use.
        stored = db.get_setting(_SIGNING_KEY)
        if stored is None:
            with db.database.atomic():
                stored = db.get_setting(_SIGNING_KEY)
                if stored is None:
                    stored = crypto.b64e(fingerprint.new_signing_key())
                    db.put_setting(_SIGNING_KEY, stored)
        return crypto.b64d(stored)

    def signing_public_key(self) -> bytes:
        return fingerprint.public_key_of(self._signing_key())

    def immunize_image(self, data: bytes, mode: str, *, progress=None, cancel=None) -> bytes:
        """An immunized PNG of any image file, signed with this vault's key (the key never
        leaves the vault object)."""
        from app.core.immunizer.files import immunize_bytes
        return immunize_bytes(data, mode, self._signing_key(), progress=progress, cancel=cancel)

    def share(self, photo_id: int, out_path: str | Path, options: sharing.ShareOptions, *,
              progress=None, cancel=None) -> ShareOutcome:
        """Write a protected copy of a photo and record who it is for.

        The record is committed before the file appears: a copy that exists always has a
        record, so a leaked copy can always be traced. A failed write removes the record.
        """
        from . import sharing

        self._require_open()
        out_path = Path(out_path)
        info = self.photo(photo_id)
        original = self.read_original(photo_id)
        keys = self.share_keys()
        with db.database.atomic():
            taken = {sid for (sid,) in Share.select(Share.share_id).tuples()}
        share_int = fingerprint.new_share_id()
        while fingerprint.format_share_id(share_int) in taken:
            share_int = fingerprint.new_share_id()
        copy = sharing.make_protected_copy(
            original, share_id=share_int, keys=keys, options=options,
            progress=progress, cancel=cancel,  # immunizing takes seconds: Cancel stops it (`Cancelled`)
        )
        # "srgb": the copy was made from the photo's pixels converted to sRGB (share_sources).
        options_json = {**options.to_json(), "removed": list(copy.removed), "srgb": True}
        with db.database.atomic():
            row = Share.create(
                share_id=copy.share_id,
                photo=photo_id,
                image_uid=info.image_uid,
                recipient=options.recipient,
                platform=options.platform,
                created_at=copy.signed_at.astimezone().replace(tzinfo=None),
                options=json.dumps(options_json),
                pixel_sha256=copy.pixel_sha256,
                width=copy.width,
                height=copy.height,
                pdq=copy.fingerprint.pdq,
                pdq_quality=copy.fingerprint.pdq_quality,
            )
        try:
            written = _write_new_file(out_path, copy.data)
        except BaseException:
            Share.delete().where(Share.id == row.id).execute()
            raise
        return ShareOutcome(_share_info(row), str(written), copy.embedded, copy.removed)

    def list_shares(self, photo_id: int | None = None) -> list[ShareInfo]:
        self._require_open()
        query = Share.select().order_by(Share.created_at.desc(), Share.id.desc())
        if photo_id is not None:
            query = query.where(Share.photo == photo_id)
        return [_share_info(row) for row in query]

    def find_share(self, share_id: str) -> ShareInfo | None:
        self._require_open()
        row = Share.get_or_none(Share.share_id == share_id.lower())
        return _share_info(row) if row else None

    def inspect(self, data: bytes) -> tuple[sharing.InspectReport, ShareInfo | None]:
        """What a (possibly leaked) copy carries, and which of this vault's shares it is."""
        from . import sharing

        share_ids = [share_id for (share_id,) in Share.select(Share.share_id).tuples()]
        report = sharing.inspect_image(data, keys=self.share_keys(), known_share_ids=share_ids)
        matches = functools.cache(lambda: self.build_matcher().match_bytes(data, thorough=True))
        if report.watermark_share_id is None and share_ids:
            # Too damaged to read alone: if the copy shows a shared photo, read it again against
            # the pixels that photo's shares were made from.
            for match in matches():
                if match.read_against_original and match.share_id:
                    report = dataclasses.replace(report, watermark_share_id=match.share_id,
                                                 watermark_confidence=round(match.score, 3),
                                                 watermark_matched=False, watermark_against_original=True)
                    break
        if report.metadata is not None and report.mac == "other-image":
            # A genuine claim of ours about other pixels: an edit of the shared copy when the
            # matcher finds the claimed share's photo in them, or the share's own PDQ.
            claimed = self.find_share(report.metadata.ids.share_id)
            if claimed is not None and any(
                    m.share_id == claimed.share_id or (claimed.photo_id is not None and m.photo_id == claimed.photo_id)
                    for m in matches()):
                report = dataclasses.replace(
                    report, mac="pixels-changed",
                    signature="pixels-changed" if report.signature == "other-image" else report.signature)
        share = self.find_share(report.share_id) if report.share_id else None
        return report, share

    def share_sources(self, photo_id: int) -> list[ShareSource]:
        """The pixels this photo's shares were made from, before their marks: one entry per
        size they were made at, with the shares made at it."""
        from . import sharing

        self._require_open()
        by_size: dict[tuple[int | None, bool], list[str]] = {}
        for share_id, options in Share.select(Share.share_id, Share.options).where(Share.photo == photo_id).tuples():
            recorded = json.loads(options or "{}")
            # Older shares were made from the pixels as decoded, newer ones converted to sRGB.
            key = (recorded.get("max_long_side"), bool(recorded.get("srgb")))
            by_size.setdefault(key, []).append(share_id)
        if not by_size:
            return []
        original = self.read_original(photo_id)
        return [ShareSource(sharing.share_source_pixels(original, size, to_srgb=srgb), tuple(ids))
                for (size, srgb), ids in by_size.items()]

    def fingerprint_of(self, photo_id: int) -> fingerprint.PerceptualFingerprint | None:
        row = PhotoFingerprint.get_or_none(PhotoFingerprint.photo == photo_id)
        if row is None:
            return None
        return fingerprint.PerceptualFingerprint(bytes(row.pdq), row.pdq_quality)

    def index_fingerprints(
        self, progress: Progress = _no_progress, cancel: threading.Event | None = None
    ) -> int:
        """Compute fingerprints and local features of photos that lack them (imported by an
        older version); returns how many photos were indexed."""
        self._require_open()
        no_prints = {pid for (pid,) in Photo.select(Photo.id).join(PhotoFingerprint, peewee.JOIN.LEFT_OUTER)
                     .where(PhotoFingerprint.id.is_null()).tuples()}
        no_features = {pid for (pid,) in Photo.select(Photo.id).join(PhotoFeatures, peewee.JOIN.LEFT_OUTER)
                       .where(PhotoFeatures.id.is_null()).tuples()}
        missing = sorted(no_prints | no_features)
        progress(0, len(missing))
        from PIL import Image

        for done, photo_id in enumerate(missing, 1):
            if cancel is not None and cancel.is_set():
                return done - 1
            with Image.open(io.BytesIO(self.read_thumbnail(photo_id, "large"))) as thumb:
                thumb.load()
                prints = fingerprint.perceptual_fingerprint(thumb) if photo_id in no_prints else None
                features = local_features(thumb).to_bytes() if photo_id in no_features else None
            with db.database.atomic():
                if prints is not None:
                    _save_fingerprint(photo_id, prints)
                if features is not None:
                    PhotoFeatures.replace(photo=photo_id, data=features).execute()
            progress(done, len(missing))
        return len(missing)

    # --- organising ---------------------------------------------------------------------------

    def analyze(self, progress: Progress = _no_progress, cancel: threading.Event | None = None):
        """Tags, faces, people and the sensitive flag for photos not analysed yet (resumable).
        Raises VisionUnavailable when the recognition models are not installed."""
        from . import organize

        self._require_open()
        return organize.analyze_pending(lambda pid: self.read_thumbnail(pid, "large"), progress, cancel)

    def photo_details(self, photo_ids: Sequence[int]):
        from . import organize

        self._require_open()
        return organize.photo_details(photo_ids)

    # --- leak scans --------------------------------------------------------------------------

    def build_matcher(self) -> Matcher:
        """A matcher over every vault photo and shared copy (built once per scan)."""
        self._require_open()
        features = {row.photo_id: bytes(row.data) for row in PhotoFeatures.select()}
        references = [
            VaultReference(row.photo_id, bytes(row.pdq), row.pdq_quality,
                           LocalFeatures.from_bytes(features[row.photo_id]) if row.photo_id in features else None)
            for row in PhotoFingerprint.select()
        ]
        shares = [ShareReference(row.share_id, row.photo_id, bytes(row.pdq)) for row in Share.select()]
        # A page often shows one photo several times: decrypt and rebuild its share pixels once.
        return Matcher(references, shares, self.share_keys(), share_sources=functools.lru_cache(maxsize=2)(
            self.share_sources))

    # What scans of this session fetched: ETag / Last-Modified validators and what was found
    # with them, so a re-scan of unchanged images costs one short request. Memory only, and
    # gone with the session: validators replayed across sessions would let a host recognise the
    # user, like a cookie (db migration 5 dropped the ones older versions stored).
    _session_scan_cache: ScanCache | None = None

    def scan(
        self,
        sources: Sequence[str],
        progress: Progress = _no_progress,
        cancel: threading.Event | None = None,
        fetcher: Fetcher | None = None,
    ) -> ScanOutcome:
        """Look for vault photos in files, folders, image URLs and pages; record what is found.

        A copy already recorded (same source, same photo) is updated, not duplicated."""
        from .leaks.scan import ScanCache, run_scan

        matcher = self.build_matcher()
        if self._session_scan_cache is None:
            self._session_scan_cache = ScanCache()
        report = run_scan(sources, matcher, fetcher=fetcher, cache=self._session_scan_cache,
                          progress=progress, cancel=cancel)
        now = _utcnow_naive()
        recorded: list[LeakMatchInfo] = []
        for finding in report.findings:
            match = finding.match
            with db.database.atomic():
                row = (LeakMatch.select().where((LeakMatch.source == finding.source)
                                                & (LeakMatch.photo == match.photo_id)).first())
                if row is None:
                    row = LeakMatch.create(
                        source=finding.source, found_on=finding.found_on, photo=match.photo_id,
                        share_id=match.share_id, method=match.method, score=match.score,
                        pdq_distance=match.pdq_distance, inliers=match.inliers,
                        region=json.dumps(match.region) if match.region else None, detail=match.detail,
                        found_width=match.found_size[0] if match.found_size else None,
                        found_height=match.found_size[1] if match.found_size else None,
                        first_seen=now, last_seen=now, evidence=finding.evidence or None,
                    )
                else:
                    row.last_seen = now
                    row.save()
            recorded.append(_leak_info(row))
        return ScanOutcome(report.scanned, [FileProblem(e.source, e.reason) for e in report.errors],
                           recorded, report.cancelled)

    def list_matches(self) -> list[LeakMatchInfo]:
        self._require_open()
        return [_leak_info(row) for row in LeakMatch.select().order_by(LeakMatch.last_seen.desc())]

    def dismiss_match(self, match_id: int) -> None:
        """The user says a found image is not their photo: keep the record, marked dismissed."""
        self._require_open()
        if LeakMatch.update(status="dismissed").where(LeakMatch.id == match_id).execute() != 1:
            raise SanctumError(f"No found copy with id {match_id}.")

    def match_evidence(self, match_id: int) -> bytes | None:
        row = LeakMatch.get_or_none(LeakMatch.id == match_id)
        return bytes(row.evidence) if row and row.evidence else None

    # --- removal requests ---------------------------------------------------------------------

    def draft_takedown(self, match_id: int, contact: takedown.TakedownContact,
                       requester: takedown.Requester, notice_kind: str | None = None) -> TakedownInfo:
        """Draft a removal request for a found copy (nothing is sent yet). `notice_kind` is one
        of `takedown.NOTICE_KINDS`; by default it follows the photo's sensitive flag."""
        self._require_open()
        match = LeakMatch.get_or_none(LeakMatch.id == match_id)
        if match is None:
            raise SanctumError(f"No found copy with id {match_id}.")
        if notice_kind is None:
            flagged = bool(match.photo_id) and bool(self.list_photos(ids=[match.photo_id], sensitive=True))
            notice_kind = takedown.default_notice_kind(flagged)
        share = Share.get_or_none(Share.share_id == match.share_id) if match.share_id else None
        prints = self.fingerprint_of(match.photo_id) if match.photo_id else None
        evidence = takedown.Evidence(
            url=match.source, found_on=match.found_on, found_at=_as_datetime(match.first_seen),
            method=match.method, detail=match.detail, share_recipient=share.recipient if share else None,
            share_date=_as_datetime(share.created_at) if share else None,
            pdq_hex=prints.pdq.hex() if prints else None,
        )
        drafted = takedown.draft(contact, requester, evidence, notice_kind)
        now = _utcnow_naive()
        with db.database.atomic():
            row = TakedownRequest.create(
                match=match_id, kind=drafted.kind, contact=json.dumps(dataclasses.asdict(contact)),
                subject=drafted.subject, text=drafted.text, html=drafted.html, mailto=drafted.mailto,
                created_at=now, updated_at=now,
            )
            LeakMatch.update(status="drafted").where(
                (LeakMatch.id == match_id) & (LeakMatch.status == "found")).execute()
        return _takedown_info(row)

    def send_takedown(self, takedown_id: int, fetcher: Fetcher | None = None) -> TakedownInfo:
        """Send a direct request (deletion link, Imgur API), or record that the user sent the
        notice email. Failures are recorded with their reason, and raised."""
        from .leaks.fetch import Fetcher as _Fetcher

        row = self._takedown_row(takedown_id)
        contact = takedown.TakedownContact(**json.loads(row.contact))
        if row.kind == "notice":
            return self._set_takedown_status(row, "sent", "notice sent by email")
        own = fetcher is None
        fetcher = fetcher or _Fetcher()
        try:
            detail = takedown.send(contact, fetcher)
        except takedown.TakedownError as exc:
            self._set_takedown_status(row, "failed", str(exc))
            raise
        finally:
            if own:
                fetcher.close()
        return self._set_takedown_status(row, "sent", detail)

    def recheck_takedown(self, takedown_id: int, fetcher: Fetcher | None = None) -> TakedownInfo:
        """Look at the URL again. Removed means gone (404 / 410) or showing another image; a
        refusal (403), a rate limit (429), a server error or a page instead of an image is
        "could not check", never "removed"."""
        from .leaks.fetch import Fetcher as _Fetcher
        from .leaks.fetch import FetchError

        row = self._takedown_row(takedown_id)
        match = row.match
        own = fetcher is None
        fetcher = fetcher or _Fetcher()
        try:
            gone, content = takedown.is_gone(match.source, fetcher, origin=match.found_on)
        except FetchError as exc:
            return self._set_takedown_status(row, row.status, f"could not check: {exc}")
        finally:
            if own:
                fetcher.close()
        if gone:
            return self._set_takedown_status(row, "removed", "the address no longer serves the image")
        try:
            found = self.build_matcher().match_bytes(content or b"")
        except UnsupportedImage as exc:
            # A login, error or rate-limit page answered with 200: it shows nothing either way.
            return self._set_takedown_status(
                row, row.status, f"could not check: {exc} (open the address to see whether your photo "
                                 "is still there)")
        if not any(m.photo_id == match.photo_id for m in found):
            return self._set_takedown_status(row, "removed", "the address no longer shows your photo")
        return self._set_takedown_status(row, row.status, "still online")

    def list_takedowns(self, match_id: int | None = None) -> list[TakedownInfo]:
        self._require_open()
        query = TakedownRequest.select().order_by(TakedownRequest.updated_at.desc())
        if match_id is not None:
            query = query.where(TakedownRequest.match == match_id)
        return [_takedown_info(row) for row in query]

    def hash_export(self, photo_id: int) -> dict:
        """PDQ + MD5 of a photo for hash-sharing programmes; the photo never leaves."""
        prints = self.fingerprint_of(photo_id)
        if prints is None:
            raise SanctumError("This photo has no fingerprint yet: run “index” first.")
        md5 = hashlib.md5(self.read_original(photo_id), usedforsecurity=False).hexdigest()
        return takedown.hash_export(prints.pdq.hex(), prints.pdq_quality, md5)

    def _takedown_row(self, takedown_id: int) -> TakedownRequest:
        self._require_open()
        row = TakedownRequest.get_or_none(TakedownRequest.id == takedown_id)
        if row is None:
            raise SanctumError(f"No removal request with id {takedown_id}.")
        return row

    def _set_takedown_status(self, row: TakedownRequest, status: str, detail: str) -> TakedownInfo:
        with db.database.atomic():
            row.status, row.detail, row.updated_at = status, detail, _utcnow_naive()
            row.save()
            if status in ("sent", "removed"):
                LeakMatch.update(status=status).where(LeakMatch.id == row.match_id).execute()
        return _takedown_info(row)


class _DuplicateFound(Exception):
    def __init__(self, sha256: str):
        super().__init__(sha256)
        self.sha256 = sha256


# --- helpers ---------------------------------------------------------------------------------------


def default_vault_path() -> Path:
    env = os.environ.get("SANCTUM_VAULT")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("Sanctum", appauthor=False)) / "vault"


def expand_paths(paths: Iterable[str | Path], errors: list[FileProblem]) -> list[Path]:
    """Files as given, folders walked recursively in a stable order; hidden files skipped.

    Only regular files within the size cap are kept; a symlink counts as what it points to.
    Anything else — pipes, devices, sockets, links to nothing, links to folders inside a
    walked folder (not followed, so no loops) — is reported in `errors`, never opened.
    `_prepare_photo` checks the opened file again, in case a name changes meanwhile.
    """
    files: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        st = _stat_or_report(path, errors)
        if st is None:
            continue
        if stat_module.S_ISDIR(st.st_mode):
            def unreadable(exc: OSError) -> None:  # a subfolder that cannot be listed
                errors.append(FileProblem(str(exc.filename), _os_reason(exc)))

            for root, dirs, names in os.walk(path, onerror=unreadable):
                linked = sorted(d for d in dirs if not d.startswith(".") and os.path.islink(os.path.join(root, d)))
                for name in linked:
                    errors.append(FileProblem(os.path.join(root, name), "a link to a folder (not followed)"))
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in linked)
                for name in sorted(names):
                    if not name.startswith("."):
                        _add_file(Path(root) / name, files, seen, errors)
        else:
            _add_file(path, files, seen, errors, st)
    return files


def _stat_or_report(path: Path, errors: list[FileProblem]) -> os.stat_result | None:
    """stat() following links (it never opens the file, so a FIFO cannot block it)."""
    try:
        return path.stat()
    except FileNotFoundError:
        reason = "a link to nothing" if path.is_symlink() else "no such file or folder"
    except OSError as exc:
        reason = _os_reason(exc)
    errors.append(FileProblem(str(path), reason))
    return None


def _add_file(path: Path, files: list[Path], seen: set[Path], errors: list[FileProblem],
              st: os.stat_result | None = None) -> None:
    st = st or _stat_or_report(path, errors)
    if st is None:
        return
    reason = imaging.not_regular_reason(st.st_mode)
    if reason is None and st.st_size > imaging.MAX_FILE_BYTES:
        reason = imaging.too_large_reason()
    if reason:
        errors.append(FileProblem(str(path), reason))
    else:
        _add_unique(path, files, seen)


def image_uid_of(uid_key: bytes, decoded: imaging.DecodedPhoto) -> str:
    """HMAC-SHA256 (vault key) over the decoded pixels, as 128 bits of hex.

    The pixels are those of the import decode: full size for lossless formats, libjpeg's
    DCT-scaled decode for JPEG (a function of the JPEG's coefficients, so lossless JPEG
    re-encodes and metadata edits keep the id). Hashing a full 12 MP decode instead would
    cost more than the rest of the import put together.
    """
    digest = crypto.keyed_digest(
        uid_key,
        b"sanctum image uid v1",
        f"{decoded.pixels.mode}:{decoded.width}x{decoded.height}:{decoded.pixels.size}".encode(),
        decoded.pixels.tobytes(),
    )
    return digest.hex()[:32]


def _add_unique(path: Path, files: list[Path], seen: set[Path]) -> None:
    key = path.resolve()
    if key not in seen:
        seen.add(key)
        files.append(path)


def _save_fingerprint(photo_id: int, prints: fingerprint.PerceptualFingerprint) -> None:
    PhotoFingerprint.replace(photo=photo_id, pdq=prints.pdq, pdq_quality=prints.pdq_quality).execute()


def _takedown_info(row: TakedownRequest) -> TakedownInfo:
    return TakedownInfo(row.id, row.match_id, row.kind, row.subject, row.text, row.html, row.mailto,
                        row.status, row.detail, _as_datetime(row.updated_at))


def _leak_info(row: LeakMatch) -> LeakMatchInfo:
    return LeakMatchInfo(
        id=row.id, source=row.source, found_on=row.found_on, photo_id=row.photo_id, share_id=row.share_id,
        method=row.method, score=row.score, pdq_distance=row.pdq_distance, inliers=row.inliers,
        region=json.loads(row.region) if row.region else None,
        found_size=(row.found_width, row.found_height) if row.found_width else None, detail=row.detail,
        first_seen=_as_datetime(row.first_seen), last_seen=_as_datetime(row.last_seen), status=row.status,
    )


def _share_info(row: Share) -> ShareInfo:
    return ShareInfo(
        share_id=row.share_id,
        photo_id=row.photo_id,
        recipient=row.recipient,
        platform=row.platform,
        created_at=_as_datetime(row.created_at),
        width=row.width,
        height=row.height,
        options=json.loads(row.options),
    )


def _write_new_file(target: Path, data: bytes) -> Path:
    """Write a file atomically under a name that does not exist yet (never overwrite)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target = _free_name(target.parent, target.name)
    tmp = target.with_name(f".{target.name}.sanctum-part")
    try:
        with hardening.open_private(tmp) as out:  # 0600: a protected copy is still a private photo
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if target.exists():
            target = _free_name(target.parent, target.name)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


def _photo_info(p: Photo) -> PhotoInfo:
    return PhotoInfo(
        id=p.id,
        filename=p.filename,
        sha256=p.sha256,
        image_uid=p.image_uid,
        mime=p.mime,
        size_bytes=p.size_bytes,
        width=p.width,
        height=p.height,
        taken_at=_as_datetime(p.taken_at),
        taken_at_source=p.taken_at_source,
        imported_at=_as_datetime(p.imported_at),
    )


def _as_datetime(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _utcnow_naive() -> datetime:
    return datetime.now()


def _recovery_kek(raw: bytes, salt: bytes) -> bytes:
    # Header version 1 only (read, never written). The recovery key is 256 random bits: no slow
    # KDF is needed to make guessing it hopeless.
    return crypto.hkdf(raw, "sanctum recovery key v1", salt=salt)


def _recovery_fields(raw: bytes, salt: bytes, master: bytes) -> dict:
    """Header fields that let the recovery key `raw` unseal `master` (ECIES to its public half)."""
    _, public = crypto.recovery_keypair(raw, salt)
    return {
        "recovery_salt": crypto.b64e(salt),
        "recovery_public_key": crypto.b64e(public),
        "sealed_master_recovery": crypto.b64e(crypto.wrap_key(public, master)),
    }


def _unseal_master_with_recovery(header: dict, raw: bytes) -> bytes:
    salt = crypto.b64d(header["recovery_salt"])
    sealed = crypto.b64d(header["sealed_master_recovery"])
    if "recovery_public_key" in header:
        private, public = crypto.recovery_keypair(raw, salt)
        if public != crypto.b64d(header["recovery_public_key"]):
            raise AuthenticationFailed()
        return crypto.unwrap_key(private, sealed)
    return crypto.unseal(_recovery_kek(raw, salt), sealed, _PURPOSE_MASTER_RECOVERY)


def _unseal_private_key(header: dict, master: bytes) -> bytes:
    return crypto.unseal(
        crypto.hkdf(master, _PRIVATE_SEAL_INFO), crypto.b64d(header["sealed_private_key"]), _PURPOSE_PRIVATE_KEY
    )


def _build_header(
    passphrase: str,
    kdf: crypto.KdfParams,
    master: bytes,
    keypair: tuple[bytes, bytes],
    recovery: dict,
    *,
    database: str,
    totp_hint: bool,
    created_at: str,
) -> dict:
    private, public = keypair
    header = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "created_at": created_at,
        "kdf": kdf.to_json(),
        "sealed_master_passphrase": crypto.b64e(
            crypto.seal(crypto.derive_passphrase_key(passphrase, kdf), master, _PURPOSE_MASTER_PASSPHRASE)
        ),
        **recovery,
        "public_key": crypto.b64e(public),
        "sealed_private_key": crypto.b64e(
            crypto.seal(crypto.hkdf(master, _PRIVATE_SEAL_INFO), private, _PURPOSE_PRIVATE_KEY)
        ),
        "database": database,
        "totp_hint": totp_hint,
    }
    header["mac"] = _header_mac(master, header)
    return header


def _header_mac(master: bytes, header: dict) -> str:
    """HMAC-SHA256 over the canonical JSON of every header field but the MAC itself."""
    body = {k: v for k, v in header.items() if k != "mac"}
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return crypto.b64e(hmac.new(crypto.hkdf(master, _HEADER_MAC_INFO), data, "sha256").digest())


def _check_header(header: dict, master: bytes) -> None:
    """Refuse a header changed by anyone but this vault: its MAC (when it has one, see
    Vault._check_header_version for the downgrade check), and its public key against its
    private key (a swapped public key would make later imports undecryptable)."""
    if "mac" in header:
        expected = _header_mac(master, header)
        if not hmac.compare_digest(expected.encode(), str(header["mac"]).encode()):
            raise HeaderTampered()
    try:
        private = _unseal_private_key(header, master)
        public = crypto.b64d(header["public_key"])
    except (AuthenticationFailed, ValueError, TypeError):
        raise HeaderTampered() from None
    if not hmac.compare_digest(crypto.public_of(private), public):
        raise HeaderTampered()
    _database_name(header)


def _database_name(header: dict) -> str:
    name = header.get("database", DB_NAME)
    if not isinstance(name, str) or not _DB_NAME_PATTERN.fullmatch(name):
        raise HeaderTampered()
    return name


def _destroy_stale_databases(path: Path, keep: str) -> None:
    """Overwrite and remove every database file but `keep` and its own companions: copies left by
    an interrupted key rotation, the database of the previous key set, and DB backups taken
    under it. Under an old key, they would let an old passphrase read current blob keys."""
    for entry in path.iterdir():
        match = _DB_FILE_PATTERN.fullmatch(entry.name)
        if match is None or match.group(1) == keep or not entry.is_file():
            continue
        _overwrite_and_unlink(entry)


def _overwrite_and_unlink(path: Path) -> None:
    # Best effort, like deleted blobs: SSDs and copy-on-write file systems may keep old blocks.
    try:
        size = path.stat().st_size
        with open(path, "r+b") as f:
            for offset in range(0, size, 1 << 20):
                f.write(b"\0" * min(1 << 20, size - offset))
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        pass
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        # Windows refuses while another connection still has it open: the next unlock retries.
        log.warning("could not remove an old database file yet: %s", type(exc).__name__)


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_header(path: Path) -> dict:
    header_path = path / HEADER_NAME
    if not path.exists():
        raise VaultNotFound(f"There is no Sanctum vault at {path}.")
    if not header_path.exists():
        if path.is_dir() and not any(path.iterdir()):
            raise VaultNotFound(f"There is no Sanctum vault at {path}.")
        raise NotAVault(f"{path} is not a Sanctum vault (no {HEADER_NAME}).")
    try:
        header = json.loads(header_path.read_text(encoding="utf-8"))
        if header.get("format") != FORMAT_NAME:
            raise ValueError
        for key in ("kdf", "sealed_master_passphrase", "sealed_master_recovery", "public_key", "sealed_private_key"):
            header[key]  # noqa: B018 - presence check
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise NotAVault(f"{path} is not a Sanctum vault, or its header is damaged.") from None
    if int(header.get("version", 0)) > FORMAT_VERSION:
        raise UnsupportedVaultVersion()
    return header


def _write_header(path: Path, header: dict) -> None:
    tmp = path / (HEADER_NAME + ".tmp")
    with hardening.open_private(tmp, exclusive=False) as f:
        f.write(json.dumps(header, indent=2).encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path / HEADER_NAME)
    _fsync_dir(path)  # the rename itself must be durable: it is the commit point of a rotation


def _safe_filename(name: str, photo_id: int) -> str:
    base = Path(name).name.strip().lstrip(".")
    return base or f"photo-{photo_id}"


def _free_name(folder: Path, name: str) -> Path:
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem} ({n}){suffix}"
        n += 1
    return candidate


def _os_reason(exc: OSError) -> str:
    return {
        errno.ENOSPC: "the disk is full",
        errno.EROFS: "the destination is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOENT: "the file or folder does not exist",
        errno.EDQUOT: "the disk quota is exceeded",
    }.get(exc.errno, exc.strerror or str(exc))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return _os_reason(exc)
    return str(exc)
