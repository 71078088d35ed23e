"""The vault folder's header (vault.json) and the files beside it, and the keys the header seals.

Since version 3 the header holds two key slots. Each slot holds the KDF parameters, the master
secret sealed under a passphrase and under a recovery key, the public key, the sealed private
key, its database's file name, and a MAC over its own fields under a key from its master secret.
A slot nobody uses is sealed under random keys nobody has: the same fields, lengths and kinds of
values as a used one. One passphrase opens one slot; an open vault only ever reads and rewrites
its own slot and leaves the other as it found it. No photo data, no names.

The rest of the code sees one slot at a time as a flat "view" shaped like a version-2 header
(`slot_views`), so key rotation and migrations work on it as before; `write_slot` puts it back
in its place.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from .. import crypto, files
from ..errors import AuthenticationFailed, HeaderTampered
from ..paths import (  # noqa: F401 - the folder's names live in paths (light: the start screens read them)
    AUTH_STATE_NAME,
    BLOBS_DIR,
    DB_NAME,
    FORMAT_NAME,
    FORMAT_VERSION,
    HEADER_NAME,
    LOCK_NAME,
    SLOT_COUNT,
    default_vault_path,
    read_header,
)
from ..strength import MIN_PASSPHRASE_LENGTH  # noqa: F401 - re-exported

log = logging.getLogger(__name__)


_DB_NAME_PATTERN = re.compile(r"vault(-[0-9a-f]{8})?\.db")
_DB_FILE_PATTERN = re.compile(r"(vault(?:-[0-9a-f]{8})?\.db)(-wal|-shm|-journal|\.before-v\d+\.bak)?")

_PURPOSE_MASTER_PASSPHRASE = "sanctum master secret, passphrase v1"
_PURPOSE_MASTER_RECOVERY = "sanctum master secret, recovery key v1"
_PURPOSE_PRIVATE_KEY = "sanctum x25519 private key v1"
_HEADER_MAC_INFO = "sanctum vault header mac v2"
_SLOT_MAC_INFO = "sanctum vault slot mac v3"
# Beside the slots, shared by both and under neither MAC: totp_hint is read before anything is
# decrypted (the code itself is enforced from the database), created_at is for people.
_SHARED_FIELDS = ("format", "version", "created_at", "totp_hint")
_UNMACED_FIELDS = ("mac", "created_at", "totp_hint")
_SQLCIPHER_INFO = "sanctum sqlcipher key v1"
_PRIVATE_SEAL_INFO = "sanctum private key seal v1"



def unseal_master_with_passphrase(header: dict, passphrase: str) -> bytes:
    """The master secret; AuthenticationFailed when `passphrase` is not this header's."""
    kdf = crypto.KdfParams.from_json(header["kdf"])
    return crypto.unseal(
        crypto.derive_passphrase_key(passphrase, kdf),
        crypto.b64d(header["sealed_master_passphrase"]),
        _PURPOSE_MASTER_PASSPHRASE,
    )


def sqlcipher_key(master: bytes) -> bytes:
    return crypto.hkdf(master, _SQLCIPHER_INFO)


def _recovery_kek(raw: bytes, salt: bytes) -> bytes:
    # Header version 1 only (read, never written). The recovery key is 256 random bits: no slow
    # KDF is needed to make guessing it hopeless.
    return crypto.hkdf(raw, "sanctum recovery key v1", salt=salt)


def recovery_fields(raw: bytes, salt: bytes, master: bytes) -> dict:
    """Header fields that let the recovery key `raw` unseal `master` (ECIES to its public half)."""
    _, public = crypto.recovery_keypair(raw, salt)
    return {
        "recovery_salt": crypto.b64e(salt),
        "recovery_public_key": crypto.b64e(public),
        "sealed_master_recovery": crypto.b64e(crypto.wrap_key(public, master)),
    }


def unseal_master_with_recovery(header: dict, raw: bytes) -> bytes:
    salt = crypto.b64d(header["recovery_salt"])
    sealed = crypto.b64d(header["sealed_master_recovery"])
    if "recovery_public_key" in header:
        private, public = crypto.recovery_keypair(raw, salt)
        if public != crypto.b64d(header["recovery_public_key"]):
            raise AuthenticationFailed()
        return crypto.unwrap_key(private, sealed)
    return crypto.unseal(_recovery_kek(raw, salt), sealed, _PURPOSE_MASTER_RECOVERY)


def unseal_private_key(header: dict, master: bytes) -> bytes:
    return crypto.unseal(
        crypto.hkdf(master, _PRIVATE_SEAL_INFO), crypto.b64d(header["sealed_private_key"]), _PURPOSE_PRIVATE_KEY
    )


def build_header(
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
    return _build_view(crypto.derive_passphrase_key(passphrase, kdf), kdf, master, keypair, recovery,
                       database=database, totp_hint=totp_hint, created_at=created_at)


def _build_view(
    passphrase_key: bytes,
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
        "sealed_master_passphrase": crypto.b64e(crypto.seal(passphrase_key, master, _PURPOSE_MASTER_PASSPHRASE)),
        **recovery,
        "public_key": crypto.b64e(public),
        "sealed_private_key": crypto.b64e(
            crypto.seal(crypto.hkdf(master, _PRIVATE_SEAL_INFO), private, _PURPOSE_PRIVATE_KEY)
        ),
        "database": database,
        "totp_hint": totp_hint,
    }
    header["mac"] = header_mac(master, header)
    return header


def header_mac(master: bytes, header: dict) -> str:
    """HMAC-SHA256 over the canonical JSON of the header's fields: since version 3, a slot's own
    fields with the format and version (the other slot, which this master cannot know, and the
    shared hint are left out); before, every field but the MAC itself."""
    if int(header.get("version", 1)) >= 3:
        body = {k: v for k, v in header.items() if k not in _UNMACED_FIELDS}
        info = _SLOT_MAC_INFO
    else:
        body = {k: v for k, v in header.items() if k != "mac"}
        info = _HEADER_MAC_INFO
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return crypto.b64e(hmac.new(crypto.hkdf(master, info), data, "sha256").digest())


# --- the two slots -------------------------------------------------------------------------------


def slot_views(file_header: dict) -> list[dict]:
    """Each slot of a header as a flat view (a header before version 3 is its one slot)."""
    if int(file_header.get("version", 1)) < 3:
        return [dict(file_header)]
    shared = {k: file_header[k] for k in _SHARED_FIELDS if k in file_header}
    return [{**shared, **slot} for slot in file_header["slots"]]


def slot_of(view: dict) -> dict:
    return {k: v for k, v in view.items() if k not in _SHARED_FIELDS}


def new_database_name() -> str:
    return f"vault-{os.urandom(4).hex()}.db"


def unused_slot(kdf: crypto.KdfParams) -> dict:
    """A slot sealed under random keys that are then forgotten: the same fields, lengths and
    kinds of values (real X25519 public keys, a valid KDF) as a used slot, opened by nothing."""
    view = _build_view(
        crypto.new_file_key(), crypto.KdfParams(kdf.time_cost, kdf.memory_kib, kdf.parallelism,
                                                secrets.token_bytes(16)),
        crypto.new_file_key(), crypto.new_keypair(),
        recovery_fields(crypto.new_recovery_key(), os.urandom(16), crypto.new_file_key()),
        database=new_database_name(), totp_hint=False, created_at="",
    )
    return slot_of(view)


def file_header(view: dict, slots: list[dict]) -> dict:
    """The header file's content: the shared fields (from `view`) and the slots in order."""
    shared = {k: view[k] for k in _SHARED_FIELDS if k in view}
    return {**shared, "version": FORMAT_VERSION, "slots": slots}


def write_slot(path: Path, index: int, view: dict) -> None:
    """Put `view` back as slot `index` of the header on disk; the other slot is kept as it is
    (this master cannot tell whether anyone uses it)."""
    current = read_header(path)
    if int(current.get("version", 1)) < 3:
        raise HeaderTampered()
    slots = list(current["slots"])
    slots[index] = slot_of(view)
    write_header(path, file_header({**view, "created_at": current.get("created_at", "")}, slots))


def unseal_any_slot(views: list[dict], unseal) -> tuple[int, bytes]:
    """(index, master secret) of the slot `unseal(view)` opens; AuthenticationFailed if none.
    Every slot is tried, whichever opens, so the time taken does not tell which one did."""
    found: tuple[int, bytes] | None = None
    for index, view in enumerate(views):
        try:
            master = unseal(view)
        except (AuthenticationFailed, ValueError, KeyError, TypeError):
            continue
        if found is None:
            found = (index, master)
    if found is None:
        raise AuthenticationFailed()
    return found


def slot_databases(path: Path) -> set[str]:
    """The database file names the header on disk names, in any slot."""
    names = set()
    for view in slot_views(read_header(path)):
        try:
            names.add(database_name(view))
        except HeaderTampered:
            continue
    return names


def other_slot(index: int) -> int:
    return (index + 1) % SLOT_COUNT


def check_header(header: dict, master: bytes) -> None:
    """Refuse a header changed by anyone but this vault: its MAC (when it has one, see
    Vault._check_header_version for the downgrade check), and its public key against its
    private key (a swapped public key would make later imports undecryptable)."""
    if "mac" in header:
        expected = header_mac(master, header)
        if not hmac.compare_digest(expected.encode(), str(header["mac"]).encode()):
            raise HeaderTampered()
    try:
        private = unseal_private_key(header, master)
        public = crypto.b64d(header["public_key"])
    except (AuthenticationFailed, ValueError, TypeError):
        raise HeaderTampered() from None
    if not hmac.compare_digest(crypto.public_of(private), public):
        raise HeaderTampered()
    database_name(header)


def database_name(header: dict) -> str:
    name = header.get("database", DB_NAME)
    if not isinstance(name, str) or not _DB_NAME_PATTERN.fullmatch(name):
        raise HeaderTampered()
    return name


def destroy_stale_databases(path: Path, keep: Iterable[str]) -> None:
    """Overwrite and remove every database file but those in `keep` (every slot's) and their own
    companions: copies left by an interrupted key rotation, the database of the previous key set,
    and DB backups taken under it. Under an old key, they would let an old passphrase read
    current blob keys."""
    keep = set(keep)
    for entry in path.iterdir():
        match = _DB_FILE_PATTERN.fullmatch(entry.name)
        if match is None or match.group(1) in keep or not entry.is_file():
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


def write_header(path: Path, header: dict) -> None:
    # Durable (file and folder synced): writing the header is the commit point of a rotation.
    files.write_atomically(path / HEADER_NAME, json.dumps(header, indent=2).encode("utf-8"))
