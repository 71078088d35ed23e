"""The vault's keys once it is open: passphrase and recovery-key rotation, recovery codes, the
authenticator, and the migrations that unlocking runs (header version, durable keys, padding).

A mixin of `Vault`: it works on the open vault's header, master secret and key pair.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import threading
import time
from pathlib import Path

import peewee

from .. import auth, crypto, db, files, fingerprint, hardening, rollback, strength
from ..blobs import BlobStore
from ..db import Blob, RecoveryCode
from ..errors import AuthenticationFailed, Cancelled, HeaderTampered, TotpRequired, WrongPassphrase, WrongTotp
from .header import (
    AUTH_STATE_NAME,
    FORMAT_VERSION,
    MIN_PASSPHRASE_LENGTH,
    build_header,
    database_name,
    destroy_stale_databases,
    header_mac,
    recovery_fields,
    slot_databases,
    sqlcipher_key,
    unseal_master_with_passphrase,
    write_slot,
)
from .records import KeysRotated, Progress, no_progress, utc_now

log = logging.getLogger(__name__)

# Kept in the (encrypted) DB so they survive a new master secret: photo ids stay stable and
# recovery codes stay valid across passphrase changes.
_UID_KEY = "uid_key"
_RECOVERY_CODE_KEY = "recovery_code_key"
# The header version this vault has reached, kept where an attacker cannot edit it: a header
# stripped of its MAC ("downgraded" to version 1) is refused once the DB says 2.
_HEADER_VERSION = "header_version"
# The blob format every blob of this vault has reached (1: unpadded, 2: PADME-padded).
_BLOB_FORMAT = "blob_format"

TOTP_SECRET = "totp_secret"
SIGNING_KEY = "ed25519_private"
TOTP_LAST_STEP = "totp_last_step"
# Random keys made once per vault, kept in its DB: the tag in its blob names (so it can tell its
# own files from the other slot's), and the two entries of the rollback record (rollback.py).
BLOB_TAG_KEY = "blob_tag_key"
ROLLBACK_KEY = "rollback_key"
ROLLBACK_PARTNER_KEY = "rollback_partner_key"
_UNLOCK_COUNT = "unlock_count"



class VaultKeys:
    """Key management of an open `Vault`; the facade sets these attributes and `_require_open`."""

    path: Path
    blobs: BlobStore
    _header: dict
    _slot: int
    _master: bytes | None
    _private_key: bytes | None
    _public_key: bytes
    _uid_key: bytes
    _code_key: bytes
    _legacy_recovery_raw: bytes | None
    _db: peewee.Database | None

    def _store_first_secrets(self, codes: list[str], enrollment: auth.TotpEnrollment | None, partner: str) -> None:
        """A new vault's authenticator, recovery codes, signing key and which slot is its
        partner (slots.py), in one transaction."""
        with db.database.atomic():
            db.put_setting("second_slot", partner)
            if enrollment:
                db.put_setting(TOTP_SECRET, enrollment.secret)
                db.put_setting(TOTP_LAST_STEP, "-1")
            code_key = self._recovery_code_key()
            for code in codes:
                RecoveryCode.create(code_hash=auth.hash_recovery_code(code_key, code))
            db.put_setting(SIGNING_KEY, crypto.b64e(fingerprint.new_signing_key()))

    def _recovery_code_key(self) -> bytes:
        self._require_open()
        return self._code_key

    def _check_second_factor(self, totp_code: str | None, recovery_code: str | None, now: float) -> None:
        secret = db.get_setting(TOTP_SECRET)
        if secret is None:
            return
        if recovery_code:
            code_hash = auth.hash_recovery_code(self._recovery_code_key(), recovery_code)
            updated = (
                RecoveryCode.update(used_at=utc_now())
                .where((RecoveryCode.code_hash == code_hash) & RecoveryCode.used_at.is_null())
                .execute()
            )
            if updated != 1:
                raise WrongTotp("That recovery code is wrong or was already used.")
            return
        if not totp_code:
            raise TotpRequired()
        last_step = int(db.get_setting(TOTP_LAST_STEP, "-1"))
        step = auth.check_totp(secret, totp_code, last_step, now)
        db.put_setting(TOTP_LAST_STEP, str(step))

    def verify_passphrase(self, passphrase: str) -> None:
        """Raise WrongPassphrase unless `passphrase` is the current one (asked before changes,
        so a moment at an unlocked computer is not enough to take the vault over)."""
        self._require_open()
        gate = auth.BackoffGate(self.path / AUTH_STATE_NAME)
        gate.check()
        try:
            master = unseal_master_with_passphrase(self._header, passphrase)
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
        progress: Progress = no_progress,
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
        progress: Progress = no_progress,
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
            recovery = recovery_fields(raw, os.urandom(16), master)
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
            recovery = recovery_fields(self._legacy_recovery_raw, os.urandom(16), master)
        old_database = database_name(self._header)
        new_database = f"vault-{os.urandom(4).hex()}.db"
        new_path = self.path / new_database
        sql_key = sqlcipher_key(master)
        rewrapped = self._write_rekeyed_database(new_path, sql_key, public, progress, cancel)
        header = build_header(
            passphrase, kdf, master, (private, public), recovery, database=new_database,
            totp_hint=bool(self._header.get("totp_hint")),
            created_at=self._header.get("created_at", utc_now().isoformat(timespec="seconds")),
        )
        write_slot(self.path, self._slot, header)  # the commit point; the other slot stays as it is
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
        destroy_stale_databases(self.path, keep=slot_databases(self.path))
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
        files.fsync_folder(self.path)
        return done

    def new_recovery_codes(self) -> list[str]:
        """Replace all one-time recovery codes (used or not) by new ones; shown once."""
        self._require_open()
        codes = auth.new_recovery_codes()
        with db.database.atomic():
            RecoveryCode.delete().execute()
            for code in codes:
                RecoveryCode.create(code_hash=auth.hash_recovery_code(self._code_key, code))
        self._sync_partner_second_factor()
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
            db.put_setting(TOTP_SECRET, enrollment.secret)
            db.put_setting(TOTP_LAST_STEP, str(step))
        self._sync_partner_second_factor()
        if not self._header.get("totp_hint"):
            self._rewrite_header(totp_hint=True)

    @property
    def has_totp(self) -> bool:
        self._require_open()
        return db.get_setting(TOTP_SECRET) is not None

    def remaining_recovery_codes(self) -> int:
        self._require_open()
        return RecoveryCode.select().where(RecoveryCode.used_at.is_null()).count()

    def _rewrite_header(self, **changes) -> None:
        header = {k: v for k, v in self._header.items() if k != "mac"}
        header.update(changes)
        header["version"] = FORMAT_VERSION
        header["mac"] = header_mac(self._master, header)
        write_slot(self.path, self._slot, header)
        self._header = header

    def _check_header_version(self) -> None:
        """Refuse a header older than this vault's (a MAC stripped, a slot posing as a one-slot
        header); a legacy header is migrated next (`_upgrade_layout`: the MAC it gets covers the
        fields as they are now, which unlocking just proved)."""
        reached = int(db.get_setting(_HEADER_VERSION, "1"))
        version = int(self._header.get("version", 1))
        if ("mac" not in self._header and reached >= 2) or version < min(reached, FORMAT_VERSION):
            raise HeaderTampered()

    def _header_migrated(self) -> None:
        if int(db.get_setting(_HEADER_VERSION, "1")) < FORMAT_VERSION:
            db.put_setting(_HEADER_VERSION, str(FORMAT_VERSION))

    def _durable_key(self, name: str) -> bytes:
        stored = db.get_setting(name)
        if stored is None:
            key = os.urandom(crypto.KEY_BYTES)
            db.put_setting(name, crypto.b64e(key))
            return key
        return crypto.b64d(stored)

    def _check_rollback(self) -> rollback.RollbackWarning | None:
        """Count this unlock, and compare with the highest count this computer saw."""
        count = int(db.get_setting(_UNLOCK_COUNT, "0"))
        following, warning = rollback.record_unlock(
            self._durable_key(ROLLBACK_KEY), self._durable_key(ROLLBACK_PARTNER_KEY), count)
        db.put_setting(_UNLOCK_COUNT, str(following))
        if warning is not None:
            log.warning("this vault is older than the one last opened on this computer")
        return warning

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
        self.blobs.tag_key = self._durable_key(BLOB_TAG_KEY)

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
