"""Backups of real vaults: incremental runs, verify (a flipped byte anywhere is found), restore
(bit-exact originals, same passphrase or recovery key), files the backup does not know, a backup
taken while photos are being imported, and the errors a person can act on."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import blake3
import pytest
from PIL import Image

from app.core import backup
from app.core.backup.copying import destination_errors
from app.core.backup.manifest import MANIFEST_NAME, blob_path, stored_file
from app.core.errors import (
    BackupDestinationFull,
    BackupDestinationGone,
    Cancelled,
    NotABackup,
    TotpRequired,
    VaultExists,
    WrongPassphrase,
    WrongRecoveryKey,
)
from app.core.vault import Vault

from .conftest import PASSPHRASE, PHOTOS, encode, fast_kdf


def _originals(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _exported(vault_path, tmp_path, recovery_key: str | None = None) -> dict[str, bytes]:
    """Every original of the vault at `vault_path`, exported (the only way out of a vault)."""
    out = tmp_path / f"export-{len(list(tmp_path.iterdir()))}"
    vault = Vault.recover(vault_path, recovery_key) if recovery_key else Vault.unlock(vault_path, PASSPHRASE)
    with vault:
        assert vault.check_consistency() == []
        report = vault.export([p.id for p in vault.list_photos()], out)
        assert report.errors == []
    return {p.name: p.read_bytes() for p in out.iterdir()}


def _flip_byte(path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2 if offset is None else offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def full_vault(vault_path):
    vault, created = Vault.create(vault_path, PASSPHRASE, enable_totp=True, kdf=fast_kdf())
    report = vault.import_paths([PHOTOS])
    assert len(report.imported) == len(list(PHOTOS.iterdir()))
    yield vault, created.recovery_key
    vault.lock()


def test_restore_round_trip_is_bit_exact_with_passphrase_and_recovery_key(full_vault, vault_path, tmp_path):
    vault, recovery_key = full_vault
    dest = tmp_path / "backup"
    made = vault.backup(dest)
    assert made.photos == len(list(PHOTOS.iterdir())) and made.generation == 1
    assert made.blobs_copied == 3 * made.photos and made.bytes_written > sum(
        len(b) for b in _originals(PHOTOS).values())
    vault.lock()

    restored = backup.restore_backup(dest, tmp_path / "restored", passphrase=PASSPHRASE)
    assert restored.photos == made.photos and restored.problems == ()
    with pytest.raises(TotpRequired):  # the same authenticator still gates the restored vault
        Vault.unlock(tmp_path / "restored", PASSPHRASE)
    assert _exported(tmp_path / "restored", tmp_path, recovery_key=recovery_key) == _originals(PHOTOS)

    by_key = backup.restore_backup(dest, tmp_path / "by-key", recovery_key=recovery_key)
    assert by_key.photos == made.photos
    assert _exported(tmp_path / "by-key", tmp_path, recovery_key=recovery_key) == _originals(PHOTOS)


def test_incremental_backup_copies_only_what_changed(vault, tmp_path, photo_dir):
    dest = tmp_path / "backup"
    vault.import_paths([photo_dir / "cat.jpg", photo_dir / "dog.jpg"])
    first = vault.backup(dest)
    assert (first.blobs_copied, first.blobs_kept) == (6, 0)
    same = vault.backup(dest)
    assert (same.blobs_copied, same.blobs_kept, same.blobs_removed) == (0, 6, 0)
    assert same.generation == 2 and same.files_written == 1  # only the new database snapshot

    vault.import_paths([photo_dir / "pizza.jpg"])
    dog = next(p.id for p in vault.list_photos() if p.filename == "dog.jpg")
    vault.delete([dog])
    after = vault.backup(dest)
    assert (after.photos, after.blobs_copied, after.blobs_kept, after.blobs_removed) == (2, 3, 3, 3)
    names_in_backup = {p.name for p in (dest / "blobs").rglob("*") if p.is_file()}
    assert names_in_backup == set(backup.read_manifest(dest).blobs)
    # The header, this run's database and the other slot's (unused: random bytes), nothing stale.
    assert len(list((dest / "files").iterdir())) == 3
    check = vault.verify_backup(dest)
    assert check.ok and check.blobs_authenticated == 6 and check.photos == 2 and check.manifest_authenticated


@pytest.mark.parametrize("target", ["blob", "database", "header", "manifest"])
def test_a_flipped_byte_is_found_by_verify(vault, tmp_path, photo_dir, target):
    vault.import_paths([photo_dir / "cat.jpg", photo_dir / "kodim04.png"])
    dest = tmp_path / "backup"
    vault.backup(dest)
    manifest = backup.read_manifest(dest)
    assert vault.verify_backup(dest).ok and backup.verify_backup(dest).ok
    if target == "blob":
        _flip_byte(blob_path(dest, sorted(manifest.blobs)[0]))
    elif target == "database":
        _flip_byte(stored_file(dest, manifest.files[manifest.database]))
    elif target == "header":
        _flip_byte(stored_file(dest, manifest.files["vault.json"]))
    else:  # a listed hash changed with the file it lists: only the MAC tells
        name, entry = sorted(manifest.blobs.items())[0]
        _flip_byte(blob_path(dest, name))
        text = (dest / MANIFEST_NAME).read_text()
        (dest / MANIFEST_NAME).write_text(text.replace(entry.digest, blake3.blake3(
            blob_path(dest, name).read_bytes()).hexdigest()))

    without_keys = backup.verify_backup(dest)  # what verify sees without the passphrase
    assert without_keys.ok is (target == "manifest") and not without_keys.manifest_authenticated
    with_keys = vault.verify_backup(dest)
    assert not with_keys.ok and with_keys.problems and with_keys.manifest_authenticated
    with_passphrase = backup.check_backup(dest, passphrase=PASSPHRASE)  # `sanctum backup --verify`
    assert not with_passphrase.ok and with_passphrase.problems


def test_restore_of_a_backup_with_a_damaged_blob_keeps_every_other_photo(full_vault, tmp_path):
    vault, recovery_key = full_vault
    dest = tmp_path / "backup"
    vault.backup(dest)
    cat = next(p.id for p in vault.list_photos() if p.filename == "cat.jpg")
    from app.core.db import Blob

    damaged = Blob.get((Blob.photo == cat) & (Blob.kind == "original")).name
    vault.lock()
    _flip_byte(blob_path(dest, damaged), offset=100)
    report = backup.restore_backup(dest, tmp_path / "restored", passphrase=PASSPHRASE)
    assert len(report.problems) == 1 and damaged in report.problems[0]
    # What the restored vault tells: that photo fails its check, every other one is intact.
    with Vault.recover(tmp_path / "restored", recovery_key) as restored:
        originals = _originals(PHOTOS)
        for photo in restored.list_photos():
            if photo.filename == "cat.jpg":
                with pytest.raises(Exception, match="integrity"):
                    restored.read_original(photo.id)
            else:
                assert restored.read_original(photo.id) == originals[photo.filename]


def test_files_the_backup_does_not_know_are_kept_as_bytes(vault, vault_path, tmp_path, photo_dir):
    vault.import_paths([photo_dir / "cat.jpg"])
    # A second database this session cannot open, and files of a later version, in a subfolder too.
    other_db = vault_path / "other.db"
    other_db.write_bytes(os.urandom(3 * 4096))
    (vault_path / "extra").mkdir()
    (vault_path / "extra" / "notes.bin").write_bytes(os.urandom(500))
    dest = tmp_path / "backup"
    vault.backup(dest)
    vault.lock()
    restored = backup.restore_backup(dest, tmp_path / "restored", passphrase=PASSPHRASE)
    assert (tmp_path / "restored" / "other.db").read_bytes() == other_db.read_bytes()
    assert (tmp_path / "restored" / "extra" / "notes.bin").read_bytes() == (vault_path / "extra" / "notes.bin").read_bytes()
    assert not (tmp_path / "restored" / "vault.lock").exists()
    assert restored.photos == 1


def test_backup_while_photos_are_imported(vault, tmp_path):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    sources = [Image.open(p).convert("RGB") for p in sorted(PHOTOS.iterdir())]
    for i in range(16):
        image = sources[i % len(sources)].resize((1200, 800)).rotate(i * 7)
        (incoming / f"p{i:02d}.jpg").write_bytes(encode(image, "JPEG", quality=90))
    done = threading.Event()
    failures: list[BaseException] = []

    def import_all():
        try:
            vault.import_paths([incoming])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            vault.release_thread_connection()
            done.set()

    thread = threading.Thread(target=import_all)
    thread.start()
    counts = []
    dest = tmp_path / "backup"
    while not done.is_set() or not counts:
        counts.append(vault.backup(dest).photos)
        assert vault.verify_backup(dest).ok
    thread.join()
    assert failures == []
    assert counts == sorted(counts) and counts[-1] <= 16
    assert any(0 < n < 16 for n in counts), f"no backup was taken mid-import: {counts}"
    final = vault.backup(dest)
    assert final.photos == 16
    restored = backup.restore_backup(dest, tmp_path / "restored", passphrase=PASSPHRASE)
    assert restored.photos == 16
    vault.lock()
    exported = _exported(tmp_path / "restored", tmp_path)
    assert exported == _originals(incoming)


def test_cancel_keeps_the_previous_backup_and_the_next_run_resumes(vault, tmp_path, photo_dir):
    dest = tmp_path / "backup"
    vault.import_paths([photo_dir / "cat.jpg"])
    vault.backup(dest)
    vault.import_paths([photo_dir / "dog.jpg", photo_dir / "pizza.jpg", photo_dir / "horses.jpg"])
    cancel = threading.Event()

    def stop_midway(done, total):
        if done == 6:
            cancel.set()

    with pytest.raises(Cancelled):
        vault.backup(dest, progress=stop_midway, cancel=cancel)
    kept = backup.verify_backup(dest, keys=None)
    assert kept.ok and kept.generation == 1 and kept.blobs_checked == 3
    resumed = vault.backup(dest)
    assert resumed.generation == 2 and resumed.blobs_copied < 9 and resumed.blobs_copied + resumed.blobs_kept == 12
    assert vault.verify_backup(dest).ok


def test_wrong_secrets_and_occupied_folders_change_nothing(full_vault, vault_path, tmp_path):
    vault, _ = full_vault
    dest = tmp_path / "backup"
    vault.backup(dest)
    with pytest.raises(WrongPassphrase):
        backup.restore_backup(dest, tmp_path / "restored", passphrase="not the passphrase at all")
    with pytest.raises(WrongRecoveryKey):
        backup.restore_backup(dest, tmp_path / "restored", recovery_key="AAAA-" * 12 + "AAAA")
    assert not (tmp_path / "restored").exists()
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "mine.txt").write_text("someone's file")
    with pytest.raises(VaultExists):
        backup.restore_backup(dest, occupied, passphrase=PASSPHRASE)
    with pytest.raises(NotABackup):
        vault.backup(occupied)  # a folder with other things in it
    assert sorted(p.name for p in occupied.iterdir()) == ["mine.txt"]
    with pytest.raises(NotABackup):
        vault.backup(vault_path / "inside")
    with pytest.raises(NotABackup):
        backup.verify_backup(occupied)
    other, _ = Vault.create(tmp_path / "other", PASSPHRASE, enable_totp=False, kdf=fast_kdf())
    vault.lock()
    with other, pytest.raises(NotABackup, match="another vault"):
        other.backup(dest)


def test_destination_gone_midway_is_a_typed_error_and_the_vault_is_untouched(vault, tmp_path, photo_dir):
    vault.import_paths([photo_dir / "cat.jpg", photo_dir / "dog.jpg"])
    (tmp_path / "drive").mkdir()
    dest = tmp_path / "drive" / "backup"

    def unplug(done, total):
        if done == 2:
            shutil.rmtree(tmp_path / "drive")

    with pytest.raises(BackupDestinationGone):
        vault.backup(dest, progress=unplug)
    assert vault.check_consistency() == [] and vault.count() == 2
    with pytest.raises(BackupDestinationGone):  # still unplugged: its place is not filled on this disk
        vault.backup(dest)
    assert not (tmp_path / "drive").exists()
    (tmp_path / "drive").mkdir()  # plugged in again
    assert vault.backup(dest).photos == 2


def test_a_full_destination_is_a_typed_error():
    # A real ENOSPC from the kernel (/dev/full), through the translation every backup write uses.
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with pytest.raises(BackupDestinationFull), destination_errors(Path("/dev")):
        with open("/dev/full", "wb") as full:
            full.write(b"x" * 4096)
            full.flush()


def test_a_photo_deleted_during_the_backup_makes_it_take_a_new_snapshot(vault, tmp_path, photo_dir):
    vault.import_paths([photo_dir / "cat.jpg", photo_dir / "dog.jpg", photo_dir / "pizza.jpg"])
    from app.core.db import Blob

    # The photo whose blobs are copied last: deleted after the snapshot, before they are copied.
    last = max(Blob.select(Blob.name, Blob.photo).tuples())[1]
    deleted = []

    def delete_once(done, total):
        if done == 1 and not deleted:
            deleted.extend(vault.delete([last]))

    report = vault.backup(tmp_path / "backup", progress=delete_once)
    assert deleted == [last] and report.photos == 2
    check = vault.verify_backup(tmp_path / "backup")
    assert check.ok and check.photos == 2 and check.blobs_checked == 6


def test_backups_across_a_passphrase_change(vault, vault_path, tmp_path, photo_dir):
    vault.import_paths([photo_dir / "cat.jpg", photo_dir / "dog.jpg"])
    dest = tmp_path / "backup"
    vault.backup(dest)
    old_header = backup.read_manifest(dest).files["vault.json"]
    new_passphrase = "violet tundra sings softly"
    vault.change_passphrase(new_passphrase, fast_kdf())
    # Made under the old keys: its database does not open with today's, its blobs still check
    # with the keys the vault has for them (a blob's key never changes).
    before = vault.verify_backup(dest)
    assert before.ok and before.blobs_authenticated == 6 and before.photos is None
    again = vault.backup(dest)
    assert (again.generation, again.blobs_copied, again.blobs_kept) == (2, 0, 6)
    manifest = backup.read_manifest(dest)
    assert manifest.files["vault.json"] != old_header and manifest.database != "vault.db"
    assert not (dest / "files" / old_header.digest).exists()  # the old header went with its generation
    assert vault.verify_backup(dest).photos == 2
    vault.lock()
    with pytest.raises(WrongPassphrase):
        backup.restore_backup(dest, tmp_path / "restored", passphrase=PASSPHRASE)
    restored = backup.restore_backup(dest, tmp_path / "restored", passphrase=new_passphrase)
    assert restored.photos == 2
    with Vault.unlock(tmp_path / "restored", new_passphrase) as opened:
        assert opened.check_consistency() == []
        assert {p.filename: opened.read_original(p.id) for p in opened.list_photos()} == {
            name: (photo_dir / name).read_bytes() for name in ("cat.jpg", "dog.jpg")}


def test_a_backup_restores_either_vault_of_a_folder_with_a_decoy(vault_path, tmp_path):
    # A backup copies the folder as it is: made from the first vault, it restores the decoy too,
    # with the decoy passphrase; each passphrase opens only its own vault, bit for bit.
    decoy_passphrase = "a different but equally long passphrase"
    vault, _ = Vault.create(vault_path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())
    with vault:
        vault.import_paths([PHOTOS / "cat.jpg", PHOTOS / "dog.jpg"])
        vault.set_second_passphrase(decoy_passphrase, kdf=fast_kdf())
    with Vault.unlock(vault_path, decoy_passphrase) as decoy:
        decoy.import_paths([PHOTOS / "horses.jpg"])
    dest = tmp_path / "backup"
    with Vault.unlock(vault_path, PASSPHRASE) as first:
        first.backup(dest)
    as_first = backup.restore_backup(dest, tmp_path / "first", passphrase=PASSPHRASE)
    as_decoy = backup.restore_backup(dest, tmp_path / "decoy", passphrase=decoy_passphrase)
    assert (as_first.photos, as_decoy.photos) == (2, 1)
    assert as_first.problems == as_decoy.problems == ()
    for folder, passphrase, names in ((tmp_path / "first", PASSPHRASE, ["cat.jpg", "dog.jpg"]),
                                      (tmp_path / "decoy", decoy_passphrase, ["horses.jpg"])):
        with Vault.unlock(folder, passphrase) as restored:
            assert restored.check_consistency() == []
            out = tmp_path / f"out-{folder.name}"
            restored.export([p.id for p in restored.list_photos()], out)
            assert sorted(p.name for p in out.iterdir()) == names
            assert all((out / name).read_bytes() == (PHOTOS / name).read_bytes() for name in names)
    # The decoy passphrase checks the backup too (all but the manifest's MAC, which only the
    # vault that made the backup can check).
    check = backup.check_backup(dest, passphrase=decoy_passphrase)
    assert check.ok and check.blobs_authenticated >= 3 and not check.manifest_authenticated
