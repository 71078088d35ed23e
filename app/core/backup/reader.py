"""Checking a backup and restoring it into a working vault.

What a check can tell depends on what it is given:
- nothing: every file is there with the size and BLAKE3 hash the manifest lists (that finds damage;
  someone who changes a file can change the manifest's hash too);
- the passphrase or the recovery key: the backup's own header and database open, the manifest's
  MAC is under the backup key in that database (nobody else could have written it), every blob
  the database lists is in the backup, and every blob authenticates (each chunk's AES-GCM tag,
  under the blob's own key);
- the open vault (Vault.verify_backup): the same, with the vault's keys; when the backup was made
  before a passphrase change, its database does not open with today's keys, and the blobs are
  authenticated with the keys the vault has for them (a blob's own key never changes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .. import crypto, hardening
from ..db import raw_key_pragma
from ..errors import (
    AuthenticationFailed,
    BackupDamaged,
    BackupError,
    HeaderTampered,
    VaultExists,
    WrongPassphrase,
    WrongRecoveryKey,
)
from ..files import fsync_folder
from ..progress import Progress, raise_if_cancelled
from ..vault.backups import BACKUP_KEY
from ..vault.header import (
    BLOBS_DIR as VAULT_BLOBS_DIR,
)
from ..vault.header import (
    HEADER_NAME,
    check_header,
    database_name,
    slot_views,
    sqlcipher_key,
    unseal_any_slot,
    unseal_master_with_passphrase,
    unseal_master_with_recovery,
    unseal_private_key,
)
from .copying import FULL, Tee, copy_hashed, make_durable, new_file
from .manifest import Entry, Manifest, blob_path, read_manifest, stored_file


@dataclass(frozen=True)
class BackupKeys:
    """What opens a backup's content: from its own header and database (see open_backup)."""

    mac_key: bytes | None  # the backup key: the manifest's MAC must be under it (None: see open_backup)
    blob_keys: dict[str, bytes]  # blob name -> file key, for every blob the database lists
    photos: int | None
    # False: keys of the open vault, not of the backup's own database (which could not be opened
    # with them): blobs it has that the backup lacks are newer, not missing.
    complete: bool = True


@dataclass(frozen=True)
class BackupCheck:
    ok: bool
    problems: tuple[str, ...]
    generation: int
    created_at: str
    files_checked: int
    blobs_checked: int
    blobs_authenticated: int  # 0 when no keys were given: only hashes were checked
    photos: int | None  # from the backup's database, when it could be opened
    manifest_authenticated: bool  # its MAC was checked (needs keys); else only hashes were


@dataclass(frozen=True)
class RestoreReport:
    vault: str
    photos: int
    problems: tuple[str, ...] = field(default_factory=tuple)


def open_backup(dest: Path, manifest: Manifest, *, passphrase: str | None = None,
                recovery_key: str | None = None, master: bytes | None = None) -> BackupKeys:
    """The backup's keys from its own header (WrongPassphrase / WrongRecoveryKey when the secret
    does not open it; with `master`, HeaderTampered when it is not that master's header).

    The header holds two slots (a decoy passphrase's or an unused one): whichever the secret
    opens is the vault restored, with its database — the snapshot when that vault made the
    backup, else its file as copied. Only the vault that made the backup holds the key of its
    manifest's MAC; the other one's keys leave the MAC unchecked (`mac_key` None), its header,
    database pages and blobs still authenticate."""
    views = slot_views(_header(dest, manifest))
    try:
        if master is not None:
            index = _slot_of_master(views, master)
        elif passphrase is not None:
            index, master = unseal_any_slot(views, lambda view: unseal_master_with_passphrase(view, passphrase))
        elif recovery_key is not None:
            raw = crypto.parse_recovery_key(recovery_key)
            index, master = unseal_any_slot(views, lambda view: unseal_master_with_recovery(view, raw))
        else:
            raise ValueError("open_backup needs a passphrase, a recovery key or a master secret")
    except AuthenticationFailed:
        if passphrase is not None:
            raise WrongPassphrase("That passphrase does not open this backup.") from None
        raise WrongRecoveryKey("That recovery key does not open this backup.") from None
    except (KeyError, TypeError):  # a recovery key of the wrong shape
        raise WrongRecoveryKey("That recovery key does not open this backup.") from None
    header = views[index]
    try:
        check_header(header, master)
        database = database_name(header)
    except HeaderTampered:
        raise BackupDamaged("The backup's copy of the vault header was changed or damaged.") from None
    if database not in manifest.files:
        raise BackupDamaged("The backup holds no database for this vault.")
    private = unseal_private_key(header, master)
    rows, backup_key, photos = _read_database(stored_file(dest, manifest.files[database]), sqlcipher_key(master),
                                              need_backup_key=database == manifest.database)
    keys = {}
    for name, wrapped in rows:
        with contextlib.suppress(AuthenticationFailed):  # reported as that blob's problem
            keys[name] = crypto.unwrap_key(private, bytes(wrapped))
    return BackupKeys(crypto.b64d(backup_key) if backup_key else None, keys, photos)


def _slot_of_master(views: list[dict], master: bytes) -> int:
    for index, view in enumerate(views):
        try:
            check_header(view, master)
        except HeaderTampered:
            continue
        return index
    # The backup's header was sealed under another master: changed, or made before a key change.
    raise BackupDamaged("The backup's copy of the vault header was changed or damaged.")


def _header(dest: Path, manifest: Manifest) -> dict:
    entry = manifest.files.get(HEADER_NAME)
    try:
        data = stored_file(dest, entry).read_bytes() if entry else b""
        if not entry or len(data) != entry.size:
            raise ValueError
        return json.loads(data)
    except (OSError, ValueError):
        raise BackupDamaged("The backup's copy of the vault header is missing or damaged.") from None


def _read_database(path: Path, key: bytes, need_backup_key: bool = True
                   ) -> tuple[list[tuple[str, bytes]], str | None, int]:
    """Blob rows, the backup key and the photo count of a database snapshot, opened read-only
    (immutable: nothing is written beside it, the backup stays as it is)."""
    import sqlcipher3

    try:
        conn = sqlcipher3.connect(f"{path.absolute().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlcipher3.Error:
        raise BackupDamaged("The backup's database is missing.") from None
    try:
        quoted = raw_key_pragma(key).replace("'", "''")
        conn.execute(f"PRAGMA key = '{quoted}'")
        rows = conn.execute("SELECT name, wrapped_key FROM blob").fetchall()
        backup_key = conn.execute("SELECT value FROM setting WHERE key = ?", (BACKUP_KEY,)).fetchone()
        photos = conn.execute("SELECT count(*) FROM photo").fetchone()[0]
    except sqlcipher3.Error:
        raise BackupDamaged("The backup's database is damaged or not this vault's.") from None
    finally:
        conn.close()
    if backup_key is None and need_backup_key:
        raise BackupDamaged("The backup's database holds no backup key.")
    return rows, backup_key[0] if backup_key else None, photos


def verify_backup(dest: Path, *, keys: BackupKeys | None = None, progress: Progress = lambda done, total: None,
                  cancel: threading.Event | None = None) -> BackupCheck:
    """Check every file of the backup (see the module's docstring for what `keys` adds)."""
    dest = Path(dest)
    try:
        manifest = read_manifest(dest)
    except BackupDamaged as exc:
        return BackupCheck(False, (str(exc),), 0, "", 0, 0, 0, None, False)
    problems: list[str] = []
    if keys is not None and keys.mac_key is not None and not manifest.mac_ok(keys.mac_key):
        problems.append("The manifest was changed or damaged, or is not this vault's (its MAC does not match).")
    total = len(manifest.files) + len(manifest.blobs)
    progress(0, total)
    for done, (relative, entry) in enumerate(sorted(manifest.files.items()), 1):
        raise_if_cancelled(cancel)
        problem = _check_stored(stored_file(dest, entry), entry, f"the copy of {relative}")
        problems += [problem] if problem else []
        progress(done, total)
    authenticated = 0
    for done, (name, entry) in enumerate(sorted(manifest.blobs.items()), len(manifest.files) + 1):
        raise_if_cancelled(cancel)
        key = keys.blob_keys.get(name) if keys else None
        problem = _check_stored(blob_path(dest, name), entry, f"blob {name}", key)
        problems += [problem] if problem else []
        authenticated += key is not None and problem is None
        progress(done, total)
    if keys and keys.complete:
        missing = sorted(set(keys.blob_keys) - set(manifest.blobs))
        problems += [f"blob {name}: listed by the backup's database but not in the backup" for name in missing]
    return BackupCheck(not problems, tuple(problems), manifest.generation, manifest.created_at,
                       len(manifest.files), len(manifest.blobs), authenticated,
                       keys.photos if keys else None, keys is not None and keys.mac_key is not None)


def check_backup(dest: Path, *, passphrase: str | None = None, recovery_key: str | None = None,
                 progress: Progress = lambda done, total: None,
                 cancel: threading.Event | None = None) -> BackupCheck:
    """verify_backup with the backup's own keys, from the passphrase or the recovery key
    (WrongPassphrase / WrongRecoveryKey when it does not open the backup). A header or database
    too damaged to open is one more problem, and the files are still checked by their hashes."""
    dest = Path(dest)
    try:
        keys = open_backup(dest, read_manifest(dest), passphrase=passphrase, recovery_key=recovery_key)
    except BackupDamaged as exc:
        check = verify_backup(dest, progress=progress, cancel=cancel)
        return dataclasses.replace(check, ok=False, problems=(str(exc), *check.problems))
    return verify_backup(dest, keys=keys, progress=progress, cancel=cancel)


def _check_stored(path: Path, entry: Entry, what: str, key: bytes | None = None,
                  out=None) -> str | None:
    """One pass over a stored file: its size and hash, and (with `key`) its authentication."""
    try:
        with open(path, "rb") as f:
            tee = Tee(f, out)
            failed = False
            if key is not None:
                try:
                    for _ in crypto.decrypt_stream(key, tee):
                        pass
                except AuthenticationFailed:
                    failed = True
            found = tee.drain()
    except FileNotFoundError:
        return f"{what}: missing"
    if found != entry:
        return f"{what}: changed or damaged (its size or hash differs from the manifest)"
    if failed:
        return f"{what}: failed its integrity check"
    return None


def restore_backup(dest: Path, target: Path, *, passphrase: str | None = None, recovery_key: str | None = None,
                   progress: Progress = lambda done, total: None,
                   cancel: threading.Event | None = None) -> RestoreReport:
    """Restore the backup in `dest` as a new vault folder `target` (which must not hold anything).

    The secret is checked before anything is written. The vault is assembled in a hidden folder
    beside `target` and renamed to it when complete: killed at any moment, `target` is the whole
    vault or absent (the next restore removes the partial folder). A blob that fails its check
    is restored as it is and reported (its photo then says it is damaged; the others open).
    """
    dest = Path(dest)
    manifest = read_manifest(dest)
    keys = open_backup(dest, manifest, passphrase=passphrase, recovery_key=recovery_key)
    if keys.mac_key is not None and not manifest.mac_ok(keys.mac_key):
        # Words for a person: the restore page shows this text as it is.
        raise BackupDamaged("The backup's list of files (sanctum-backup.json) was changed or damaged since "
                            "the backup was made, so it cannot be restored as it is.")
    target = Path(target).expanduser().absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise VaultExists(f"{target} is not empty: restore into a new or empty folder (nothing was changed).")
    partial = target.with_name(f".{target.name}.sanctum-restore")
    try:
        if partial.exists():
            shutil.rmtree(partial)  # a restore killed earlier: ours, by its name
        problems = _assemble(dest, manifest, keys, partial, progress, cancel)
        hardening.restrict_tree(partial)
        fsync_folder(partial)
        if target.exists():
            target.rmdir()  # empty (checked above); Windows cannot rename onto a folder
        os.replace(partial, target)
        fsync_folder(target.parent)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if exc.errno in FULL:  # the commonest failure on a new computer's small disk: say what to do
            raise BackupError(f"There is not enough free space for the restored vault at {target.parent}. "
                              "Nothing was left there: free some space, or choose another place.") from None
        raise BackupError(f"The vault could not be written to {target}: {exc.strerror or exc}.") from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return RestoreReport(str(target), keys.photos, tuple(problems))


def _assemble(dest: Path, manifest: Manifest, keys: BackupKeys, partial: Path, progress: Progress,
              cancel: threading.Event | None) -> list[str]:
    hardening.make_private_dir(partial / VAULT_BLOBS_DIR / "tmp")
    tmp = partial / VAULT_BLOBS_DIR / "tmp"
    total = len(manifest.files) + len(manifest.blobs)
    problems: list[str] = []
    progress(0, total)
    for done, (relative, entry) in enumerate(sorted(manifest.files.items()), 1):
        raise_if_cancelled(cancel)
        hardening.make_private_dir((partial / relative).parent)
        try:
            copied = copy_hashed(stored_file(dest, entry), partial / relative, tmp)
        except FileNotFoundError:
            copied = None
        if copied != entry:
            if relative in (HEADER_NAME, manifest.database):
                raise BackupDamaged(f"The backup's copy of {relative} is missing or damaged.")
            problems.append(f"{relative}: missing or damaged in the backup")
        progress(done, total)
    folders = {partial, partial / VAULT_BLOBS_DIR}
    written = [partial / relative for relative in manifest.files]
    for done, (name, entry) in enumerate(sorted(manifest.blobs.items()), len(manifest.files) + 1):
        raise_if_cancelled(cancel)
        target = blob_path(partial, name)
        folders.add(target.parent)
        if blob_path(dest, name).is_file():
            with new_file(target, tmp) as out:
                problem = _check_stored(blob_path(dest, name), entry, f"blob {name}", keys.blob_keys.get(name), out)
            written.append(target)
        else:  # not made at all: the restored vault reports that photo's blob as missing
            problem = f"blob {name}: missing"
        if problem:
            problems.append(problem)
        progress(done, total)
    make_durable(partial, written, folders)
    return problems

