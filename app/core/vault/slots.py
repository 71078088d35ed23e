"""The vault's two key slots: the second passphrase (a decoy vault in the same folder), the
layout every vault keeps whether or not one is set, and the database sizes that must not tell.

Every vault folder holds two slots in vault.json and two database files. The vault that made the
folder (or upgraded it) records in its own encrypted database which slot is its partner and,
once a second passphrase is set, that vault's master secret: it alone can replace the second
vault, keep its authenticator in step and pad its database. The second vault records nothing of
the kind, so opening it (or reading its database with its passphrase) shows an ordinary vault.

Database sizes: every database is padded with an encrypted `padding` table up to a size class
(a power of two, at least `MIN_DB_CLASS`), the class of the larger of the two; the unused slot's
database is random bytes of the same class. See docs/threat-model.md for what this hides.

A mixin of `Vault`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import peewee

from .. import crypto, db, fingerprint, hardening, strength
from ..blobs import BlobStore
from ..db import RecoveryCode
from ..errors import AuthenticationFailed, SecondPassphraseRefused
from .header import (
    MIN_PASSPHRASE_LENGTH,
    build_header,
    database_name,
    destroy_stale_databases,
    file_header,
    new_database_name,
    other_slot,
    read_header,
    recovery_fields,
    slot_databases,
    slot_of,
    slot_views,
    sqlcipher_key,
    unseal_master_with_passphrase,
    unused_slot,
    write_header,
    write_slot,
)

log = logging.getLogger(__name__)

MIN_DB_CLASS = 1 << 20  # an empty vault's database (~200 KB) and a few hundred photos' rows
_PARTNER = "second_slot"  # in the first vault's DB only: {"index": n, "master": base64 or null}
# Copied into the second vault's DB at creation (same authenticator and codes for both, so the
# unlock screen behaves the same whichever passphrase is typed).
_SHARED_SECRETS = ("totp_secret", "totp_last_step", "recovery_code_key")
_PAGE = 4096  # SQLCipher's default page size: database sizes are multiples of it


def size_class(size: int) -> int:
    """The size every database of a vault is padded to: a power of two, at least MIN_DB_CLASS."""
    return max(MIN_DB_CLASS, 1 << max(0, size - 1).bit_length())


def pad_database(conn: peewee.Database, target: int) -> None:
    """Grow the database file to within a few pages below `target` with an encrypted padding
    table, then empty it again: SQLite never shrinks a file by itself (no auto-vacuum), so the
    size stays and the freed pages (zeroed by secure_delete, encrypted like any other) take the
    next imports' rows. Halves the gap each step, so the last insert cannot overshoot into the
    next class."""
    page_size = int(conn.execute_sql("PRAGMA page_size").fetchone()[0])
    conn.execute_sql("CREATE TABLE IF NOT EXISTS padding (id INTEGER PRIMARY KEY, data BLOB)")
    for _ in range(64):
        pages = int(conn.execute_sql("PRAGMA page_count").fetchone()[0])
        free = int(conn.execute_sql("PRAGMA freelist_count").fetchone()[0])
        missing = target - pages * page_size
        if missing <= 8 * page_size:
            break
        conn.execute_sql("INSERT INTO padding (data) VALUES (zeroblob(?))", (missing // 2 + free * (page_size // 2),))
    conn.execute_sql("DELETE FROM padding")
    conn.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def fill_random(path: Path, target: int) -> None:
    """Extend (or create) the unused slot's database, random bytes, to a padded database's size:
    a few pages below `target`, as `pad_database` leaves a real one."""
    size = target - _PAGE * secrets.randbelow(8)
    current = path.stat().st_size if path.exists() else 0
    if current >= size:
        return
    with hardening.open_private(path) if not path.exists() else open(path, "r+b") as out:
        out.seek(current)
        while current < size:
            piece = min(1 << 20, size - current)
            out.write(os.urandom(piece))
            current += piece
        out.flush()
        os.fsync(out.fileno())


class VaultSlots:
    """The second passphrase and the two-slot layout of an open `Vault`."""

    path: Path
    blobs: BlobStore
    _header: dict
    _slot: int
    _master: bytes | None
    _code_key: bytes
    _db: peewee.Database | None

    # --- what this vault knows about the other slot ---------------------------------------------

    def _partner(self) -> dict | None:
        # Through this vault's own connection: lock() may run after another vault rebound the models.
        row = self._db.execute_sql("SELECT value FROM setting WHERE key = ?", (_PARTNER,)).fetchone()
        return json.loads(row[0]) if row else None

    def _partner_database(self) -> Path:
        return self.path / database_name(slot_views(read_header(self.path))[other_slot(self._slot)])

    @contextlib.contextmanager
    def _partner_connection(self) -> Iterator[peewee.Database | None]:
        """The second vault's database (raw SQL), when this vault set it and its key still opens
        it (the second vault may have changed its own passphrase since: then None)."""
        partner = self._partner()
        if partner is None or not partner.get("master"):
            yield None
            return
        try:
            conn = db.connect_database(self._partner_database(), sqlcipher_key(crypto.b64d(partner["master"])))
        except (AuthenticationFailed, OSError):
            yield None
            return
        try:
            yield conn
        finally:
            conn.close()

    def has_second_passphrase(self) -> bool:
        """Whether this vault set a second passphrase (False in the second vault itself)."""
        self._require_open()
        partner = self._partner()
        return bool(partner and partner.get("master"))

    # --- setting the second passphrase -----------------------------------------------------------

    def set_second_passphrase(self, passphrase: str, kdf: crypto.KdfParams | None = None) -> None:
        """Make the other slot a new, empty vault opened by `passphrase` (replacing any earlier
        one and its photos). Crash-safe like a key rotation: its database is complete before the
        header, the commit point, names it.

        Run with nothing else using the vault (the GUI's vault-write lane when idle): the
        database models point at the new database while its schema is made.
        """
        self._require_open()
        partner = self._partner()
        if partner is None:
            # The second vault cannot tell an unused slot from the first vault's: writing it
            # would destroy that vault.
            raise SecondPassphraseRefused()
        strength.require_strong(passphrase, MIN_PASSPHRASE_LENGTH)
        with contextlib.suppress(AuthenticationFailed):
            unseal_master_with_passphrase(self._header, passphrase)
            raise SecondPassphraseRefused("The second passphrase must be different from this vault's passphrase.")
        own = crypto.KdfParams.from_json(self._header["kdf"])
        kdf = kdf or crypto.KdfParams(own.time_cost, own.memory_kib, own.parallelism, secrets.token_bytes(16))
        master = crypto.new_file_key()
        name = new_database_name()
        view = build_header(
            passphrase, kdf, master, crypto.new_keypair(),
            # Its own recovery key, never shown: the first vault's recovery key is the way back.
            recovery_fields(crypto.new_recovery_key(), os.urandom(16), master),
            database=name, totp_hint=bool(self._header.get("totp_hint")),
            created_at=self._header.get("created_at", ""),
        )
        with self._partner_connection() as replaced:  # the earlier second vault, if this one set it
            self._make_partner_database(self.path / name, sqlcipher_key(master))
            write_slot(self.path, partner["index"], view)  # the commit point
            if replaced is not None:
                # Its blobs, listed by its database (which is destroyed just below).
                for (blob,) in replaced.execute_sql("SELECT name FROM blob").fetchall():
                    with contextlib.suppress(ValueError):
                        self.blobs.delete(blob)
        db.put_setting(_PARTNER, json.dumps({"index": partner["index"], "master": crypto.b64e(master)}))
        destroy_stale_databases(self.path, keep=slot_databases(self.path))
        self._even_out_sizes()
        hardening.restrict_tree(self.path)
        log.info("second passphrase set")

    def _make_partner_database(self, target: Path, key: bytes) -> None:
        from .keys import ROLLBACK_KEY, ROLLBACK_PARTNER_KEY, SIGNING_KEY

        copied = {k: db.get_setting(k) for k in _SHARED_SECRETS}
        copied["recovery_code_key"] = crypto.b64e(self._code_key)
        # The rollback record's two entries swap roles: the entry kept so far for the unused
        # slot becomes the second vault's own, so the record keeps two entries per folder.
        copied[ROLLBACK_KEY] = db.get_setting(ROLLBACK_PARTNER_KEY)
        copied[ROLLBACK_PARTNER_KEY] = db.get_setting(ROLLBACK_KEY)
        codes = list(RecoveryCode.select(RecoveryCode.code_hash, RecoveryCode.used_at).tuples())
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        own = db.database.obj
        try:
            made = db.open_database(target, key)  # the models point at it until `finally`
            with made.atomic():
                for k, value in copied.items():
                    if value is not None:
                        db.put_setting(k, value)
                db.put_setting(SIGNING_KEY, crypto.b64e(fingerprint.new_signing_key()))
                db.put_setting("uid_key", crypto.b64e(crypto.new_file_key()))
                db.put_setting("header_version", str(self._header.get("version")))
                db.put_setting("blob_format", str(crypto.BLOB_VERSION))
                for code_hash, used_at in codes:
                    RecoveryCode.create(code_hash=code_hash, used_at=used_at)
            made.close()
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            raise
        finally:
            db.database.initialize(own)
        hardening.restrict(target)

    def _sync_partner_second_factor(self) -> None:
        """After a new authenticator or new codes here: the same in the second vault, so both
        passphrases keep asking for the same code."""
        with self._partner_connection() as conn:
            if conn is None:
                return
            with conn.atomic():
                for key in ("totp_secret", "totp_last_step"):
                    value = db.get_setting(key)
                    if value is not None:
                        conn.execute_sql("REPLACE INTO setting (key, value) VALUES (?, ?)", (key, value))
                conn.execute_sql("DELETE FROM recoverycode")
                for code_hash, used_at in RecoveryCode.select(RecoveryCode.code_hash, RecoveryCode.used_at).tuples():
                    conn.execute_sql("INSERT INTO recoverycode (code_hash, used_at) VALUES (?, ?)", (code_hash, used_at))

    # --- the layout --------------------------------------------------------------------------------

    def _upgrade_layout(self) -> None:
        """A header before version 3 (one key set): becomes the same two-slot layout as a new
        vault's. Its database is copied under a new name (the names of both slots' databases
        then look alike), the unused slot and database are made, then the new header, the commit
        point, names both; the old file is destroyed after. A crash before it leaves the old
        vault as it was (the copies are removed at the next unlock)."""
        index = secrets.randbelow(2)
        partner = other_slot(index)
        db.put_setting(_PARTNER, json.dumps({"index": partner, "master": None}))
        db.database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        name = new_database_name()
        target = self.path / name
        old_name = database_name(self._header)
        with open(self.path / old_name, "rb") as source, hardening.open_private(target) as out:
            shutil.copyfileobj(source, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        size = target.stat().st_size
        view = {**self._header, "database": name}
        view.pop("mac", None)
        view["version"] = 3
        from .header import header_mac

        view["mac"] = header_mac(self._master, view)
        kdf = crypto.KdfParams.from_json(view["kdf"])
        slots: list[dict] = [{}, {}]
        slots[index] = slot_of(view)
        slots[partner] = unused_slot(kdf)
        fill_random(self.path / slots[partner]["database"], size_class(size))
        write_header(self.path, file_header(view, slots))  # the commit point
        # Schema backups taken under the same key follow the database's new name (else they would
        # go with the old one as stale).
        for backup in self.path.glob(f"{old_name}.before-v*.bak"):
            os.replace(backup, self.path / (name + backup.name[len(old_name):]))
        old = self._db
        self._db = db.open_database(target, sqlcipher_key(self._master))
        if old is not None:
            with contextlib.suppress(Exception):
                old.close()
        self._header = view
        self._slot = index
        log.info("vault header migrated to two slots")

    def _even_out_sizes(self) -> None:
        """Pad this vault's database, and the other slot's (random bytes when unused, padding
        when this vault set the second passphrase), up to the class of the larger one."""
        other = self._partner_database()
        own = self.path / database_name(self._header)
        self._db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        sizes = [own.stat().st_size, other.stat().st_size if other.exists() else 0]
        target = size_class(max(sizes))
        pad_database(self._db, target)
        partner = self._partner()
        if partner is None:
            return  # the second vault: the other file is not its business
        if not partner.get("master"):
            fill_random(other, target)
            return
        with self._partner_connection() as conn:
            if conn is not None:
                pad_database(conn, target)


def new_layout(view: dict, kdf: crypto.KdfParams) -> tuple[dict, int]:
    """The header file of a new vault whose first slot is `view`, at a random position, and the
    index it took; the unused slot's database is made here too."""
    index = secrets.randbelow(2)
    slots: list[dict] = [{}, {}]
    slots[index] = slot_of(view)
    slots[other_slot(index)] = unused_slot(kdf)
    return file_header(view, slots), index


def partner_record(index: int) -> str:
    return json.dumps({"index": other_slot(index), "master": None})
