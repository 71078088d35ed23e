"""The vault's keys: an authenticated header, key rotation on a passphrase change, recovery-key
and recovery-code renewal, authenticator re-enrolment, padded blobs, owner-only files, no core
dumps, and the migration of a vault made before all of that (tests/data/legacy-vault-v1)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyotp
import pytest

from app.core import crypto, db
from app.core.errors import (
    Cancelled,
    HeaderTampered,
    TotpRequired,
    VaultIncomplete,
    WeakPassphrase,
    WrongPassphrase,
    WrongRecoveryKey,
    WrongTotp,
)
from app.core.vault import HEADER_NAME, Vault
from app.core.vault.header import slot_databases, slot_views, unseal_any_slot, unseal_master_with_passphrase

from .conftest import DATA, PASSPHRASE, PHOTOS, fast_kdf

LEGACY = DATA / "legacy-vault-v1"
NEW_PASSPHRASE = "a brand new passphrase"
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _header(path: Path) -> dict:
    return json.loads((path / HEADER_NAME).read_text())


def _put_header(path: Path, header: dict) -> None:
    (path / HEADER_NAME).write_text(json.dumps(header, indent=2))


def _own_slot(path: Path, passphrase: str = PASSPHRASE) -> int:
    """Which of the header's slots `passphrase` opens."""
    views = slot_views(_header(path))
    return unseal_any_slot(views, lambda view: unseal_master_with_passphrase(view, passphrase))[0]


def _own_view(path: Path, passphrase: str = PASSPHRASE) -> dict:
    return slot_views(_header(path))[_own_slot(path, passphrase)]


def _blob_versions(vault: Vault) -> set[int]:
    versions = set()
    for name in vault.blobs.names_on_disk():
        with open(vault.blobs.path_of(name), "rb") as f:
            versions.add(crypto.blob_version(f.read(crypto.HEADER_SIZE)))
    return versions


@pytest.fixture
def legacy_vault(tmp_path) -> tuple[Path, dict]:
    target = tmp_path / "legacy"
    shutil.copytree(LEGACY / "vault", target)
    return target, json.loads((LEGACY / "secrets.json").read_text())


def _totp_now(secret: str) -> str:
    return pyotp.TOTP(secret, interval=30).now()


# --- item 4: the header is authenticated -------------------------------------------------------


def test_replaced_public_key_is_refused(vault_path):
    vault, _ = Vault.create(vault_path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())
    vault.lock()
    header = _header(vault_path)
    header["slots"][_own_slot(vault_path)]["public_key"] = crypto.b64e(crypto.new_keypair()[1])  # an attacker's key
    _put_header(vault_path, header)
    with pytest.raises(HeaderTampered):
        Vault.unlock(vault_path, PASSPHRASE)


@pytest.mark.parametrize("field", ["recovery_salt", "recovery_public_key", "database"])
def test_any_altered_header_field_is_refused(vault_path, field):
    vault, _ = Vault.create(vault_path, PASSPHRASE, enable_totp=True, kdf=fast_kdf())
    vault.lock()
    header = _header(vault_path)
    slot = header["slots"][_own_slot(vault_path)]
    slot[field] = {
        "recovery_salt": crypto.b64e(os.urandom(16)),
        "recovery_public_key": crypto.b64e(crypto.new_keypair()[1]),
        "database": "vault-0badc0de.db",
    }[field]
    _put_header(vault_path, header)
    with pytest.raises(HeaderTampered) as caught:
        Vault.unlock(vault_path, PASSPHRASE)
    assert "vault.json" in str(caught.value)


def test_totp_hint_is_only_a_hint(vault_path):
    # Outside both slots' MACs (either vault may set it); the code is enforced from the database.
    vault, _ = Vault.create(vault_path, PASSPHRASE, enable_totp=True, kdf=fast_kdf())
    vault.lock()
    header = _header(vault_path)
    header["totp_hint"] = False
    _put_header(vault_path, header)
    with pytest.raises(TotpRequired):
        Vault.unlock(vault_path, PASSPHRASE)


def _downgraded(path: Path, passphrase: str = PASSPHRASE) -> dict:
    """The slot `passphrase` opens as a one-slot header of version 1 (no MAC)."""
    view = _own_view(path, passphrase)
    del view["mac"]
    view["version"] = 1
    return view


def test_header_stripped_of_its_mac_is_refused(vault_path):
    # A "downgrade" to the pre-MAC format would otherwise switch the check off.
    vault, _ = Vault.create(vault_path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())
    vault.lock()
    header = _downgraded(vault_path)
    _put_header(vault_path, header)
    with pytest.raises(HeaderTampered):
        Vault.unlock(vault_path, PASSPHRASE)


def test_legacy_header_with_a_swapped_public_key_is_refused(legacy_vault):
    path, _ = legacy_vault
    header = _header(path)
    header["public_key"] = crypto.b64e(crypto.new_keypair()[1])
    _put_header(path, header)
    with pytest.raises(HeaderTampered):
        Vault.unlock(path, PASSPHRASE, totp_code="000000")


# --- migration of a vault made before these changes ----------------------------------------


def test_legacy_vault_is_migrated_at_unlock(legacy_vault):
    path, secrets = legacy_vault
    before = {name: (path / "blobs" / name[:2] / name).stat().st_size
              for name in (p.name for p in (path / "blobs").rglob("*") if p.is_file())}
    with Vault.unlock(path, PASSPHRASE, totp_code=_totp_now(secrets["totp_secret"])) as vault:
        photo = vault.list_photos()[0]
        assert vault.read_original(photo.id) == (PHOTOS / "cat.jpg").read_bytes()
        assert _blob_versions(vault) == {2}  # padded in place, same names
        assert set(vault.blobs.names_on_disk()) == set(before)
        assert vault.check_consistency() == []
    header = _header(path)
    view = _own_view(path)
    assert header["version"] == 3 and "mac" in view and view["database"] != "vault.db"
    assert not (path / "vault.db").exists() and len(slot_databases(path)) == 2
    # The recovery key and the one-time codes of the old vault keep working.
    with Vault.recover(path, secrets["recovery_key"]) as vault:
        assert vault.count() == 1
    with Vault.unlock(path, PASSPHRASE, recovery_code=secrets["recovery_codes"][0]) as vault:
        assert vault.count() == 1
    # Now that it has a MAC, taking it away again is refused.
    _put_header(path, _downgraded(path))
    with pytest.raises(HeaderTampered):
        Vault.unlock(path, PASSPHRASE, totp_code=_totp_now(secrets["totp_secret"]))


def test_a_damaged_legacy_blob_does_not_stop_the_migration(legacy_vault):
    path, secrets = legacy_vault
    blobs = sorted(p for p in (path / "blobs").rglob("*") if p.is_file())
    sizes = {p.name: p.stat().st_size for p in blobs}
    thumb = min(blobs, key=lambda p: sizes[p.name])  # the small thumbnail
    damaged = bytearray(thumb.read_bytes())
    damaged[-5] ^= 0xFF
    thumb.write_bytes(bytes(damaged))
    with Vault.unlock(path, PASSPHRASE, totp_code=_totp_now(secrets["totp_secret"])) as vault:
        photo = vault.list_photos()[0]
        assert vault.read_original(photo.id) == (PHOTOS / "cat.jpg").read_bytes()
        assert _blob_versions(vault) == {1, 2}  # the damaged one is left as it was


def test_legacy_recovery_key_is_kept_when_recovered_and_replaced_otherwise(legacy_vault, tmp_path):
    path, secrets = legacy_vault
    spare = tmp_path / "spare"
    shutil.copytree(path, spare)
    # Recovered with the old key: the new header seals for that same key.
    vault = Vault.recover(path, secrets["recovery_key"])
    rotated = vault.change_passphrase(NEW_PASSPHRASE, kdf=fast_kdf())
    vault.lock()
    assert rotated.recovery_key is None
    with Vault.recover(path, secrets["recovery_key"]) as vault:
        assert vault.count() == 1
    # Unlocked with the passphrase: the old scheme cannot be re-sealed, so a new key is made.
    vault = Vault.unlock(spare, PASSPHRASE, totp_code=_totp_now(secrets["totp_secret"]))
    rotated = vault.change_passphrase(NEW_PASSPHRASE, kdf=fast_kdf())
    vault.lock()
    assert rotated.recovery_key
    with pytest.raises(WrongRecoveryKey):
        Vault.recover(spare, secrets["recovery_key"])
    with Vault.recover(spare, rotated.recovery_key) as vault:
        assert vault.count() == 1


# --- item 5: a passphrase change rotates every key ------------------------------------------------


def test_old_header_and_passphrase_open_nothing_after_a_change(vault_path, photo_dir):
    vault, created = Vault.create(vault_path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())
    vault.import_paths([photo_dir / "cat.jpg"])
    old_header = _header(vault_path)
    old_uid_key = vault._uid_key
    progress = []
    rotated = vault.change_passphrase(NEW_PASSPHRASE, kdf=fast_kdf(), progress=lambda d, t: progress.append((d, t)))
    assert rotated.recovery_key is None and rotated.rewrapped == 3
    assert progress[-1] == (3, 3)
    vault.import_paths([photo_dir / "dog.jpg"])  # imported after the change
    assert vault._uid_key == old_uid_key  # photo ids stay stable across rotations
    vault.lock()
    new_file, old_file = _header(vault_path), old_header
    new_header, old_header = _own_view(vault_path, NEW_PASSPHRASE), slot_views(old_header)[vault._slot]
    assert new_header["public_key"] != old_header["public_key"]
    assert new_header["database"] != old_header["database"]
    assert not (vault_path / old_header["database"]).exists()

    # The old header with the old passphrase: its master secret keys nothing that exists now.
    old_master = crypto.unseal(
        crypto.derive_passphrase_key(PASSPHRASE, crypto.KdfParams.from_json(old_header["kdf"])),
        crypto.b64d(old_header["sealed_master_passphrase"]), "sanctum master secret, passphrase v1")
    current_db = vault_path / new_header["database"]
    with pytest.raises(Exception):  # noqa: B017 - SQLCipher's own error: the key does not fit
        db.open_database(current_db, crypto.hkdf(old_master, "sanctum sqlcipher key v1"))
    _put_header(vault_path, old_file)
    with pytest.raises(VaultIncomplete):
        Vault.unlock(vault_path, PASSPHRASE)
    assert len(list(vault_path.glob("blobs/??/*"))) == 6  # and nothing was lost by trying
    _put_header(vault_path, new_file)
    with pytest.raises(WrongPassphrase):
        Vault.unlock(vault_path, PASSPHRASE)
    with Vault.unlock(vault_path, NEW_PASSPHRASE) as reopened:
        assert reopened.check_consistency() == []
        for photo in reopened.list_photos():
            assert reopened.read_original(photo.id) == (photo_dir / photo.filename).read_bytes()
    with Vault.recover(vault_path, created.recovery_key) as recovered:  # the recovery key still works
        assert recovered.count() == 2


def test_weak_new_passphrase_is_refused_and_changes_nothing(vault):
    header = _header(vault.path)
    for weak in ("short", "password1", "aaaaaaaaaaaa", "12345678"):
        with pytest.raises(WeakPassphrase):
            vault.change_passphrase(weak, kdf=fast_kdf())
    assert _header(vault.path) == header


def test_cancelled_rotation_leaves_the_old_keys(vault_path, photo_dir):
    vault, _ = Vault.create(vault_path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())
    vault.import_paths([photo_dir])
    header = _header(vault_path)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        vault.change_passphrase(NEW_PASSPHRASE, kdf=fast_kdf(), cancel=cancel)
    assert _header(vault_path) == header
    own = vault._header["database"]
    assert {p.name for p in vault_path.glob("vault*.db*")} == slot_databases(vault_path) | {f"{own}-shm", f"{own}-wal"}
    assert vault.count() == len(list(photo_dir.iterdir()))  # still usable
    vault.lock()
    with Vault.unlock(vault_path, PASSPHRASE) as reopened:
        assert reopened.check_consistency() == []


def test_rotate_recovery_key(vault_path):
    vault, created = Vault.create(vault_path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())
    with pytest.raises(WrongPassphrase):
        vault.rotate_recovery_key("not the passphrase at all", kdf=fast_kdf())
    rotated = vault.rotate_recovery_key(PASSPHRASE, kdf=fast_kdf())
    vault.lock()
    assert rotated.recovery_key and rotated.recovery_key != created.recovery_key
    with pytest.raises(WrongRecoveryKey):
        Vault.recover(vault_path, created.recovery_key)
    Vault.recover(vault_path, rotated.recovery_key).lock()
    Vault.unlock(vault_path, PASSPHRASE).lock()  # the passphrase did not change


def test_new_recovery_codes_replace_the_old_ones_and_survive_a_rotation(vault_path):
    vault, created = Vault.create(vault_path, PASSPHRASE, enable_totp=True, kdf=fast_kdf())
    codes = vault.new_recovery_codes()
    assert len(codes) == 10 and not set(codes) & set(created.recovery_codes)
    vault.change_passphrase(NEW_PASSPHRASE, kdf=fast_kdf())
    vault.lock()
    with pytest.raises(WrongTotp):
        Vault.unlock(vault_path, NEW_PASSPHRASE, recovery_code=created.recovery_codes[0])
    with Vault.unlock(vault_path, NEW_PASSPHRASE, recovery_code=codes[0]) as reopened:
        assert reopened.remaining_recovery_codes() == 9


def test_authenticator_reenrolment(vault_path):
    vault, created = Vault.create(vault_path, PASSPHRASE, enable_totp=True, kdf=fast_kdf())
    now = time.time()
    enrollment = vault.begin_totp_enrollment()
    with pytest.raises(WrongTotp):  # a code from the old app does not confirm the new one
        vault.finish_totp_enrollment(enrollment, pyotp.TOTP(created.totp.secret).at(now), now=now)
    vault.finish_totp_enrollment(enrollment, pyotp.TOTP(enrollment.secret).at(now), now=now)
    vault.lock()
    later = now + 90
    with pytest.raises(WrongTotp):
        Vault.unlock(vault_path, PASSPHRASE, totp_code=pyotp.TOTP(created.totp.secret).at(later), clock=lambda: later)
    Vault.unlock(vault_path, PASSPHRASE, totp_code=pyotp.TOTP(enrollment.secret).at(later), clock=lambda: later).lock()


def test_adding_an_authenticator_to_a_vault_without_one(vault):
    assert not vault.has_totp
    enrollment = vault.begin_totp_enrollment()
    now = time.time()
    vault.finish_totp_enrollment(enrollment, pyotp.TOTP(enrollment.secret).at(now), now=now)
    assert vault.has_totp and Vault.status(vault.path).totp_hint


# --- item 5: crash safety ----------------------------------------------------------------------

_ROTATE_FOREVER = """
import sys
from pathlib import Path
from app.core import crypto
from app.core.vault import Vault
path, first, second = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
kdf = crypto.KdfParams.new(time_cost=1, memory_kib=8192, parallelism=1)
vault = None
for passphrase, new in ((first, second), (second, first)):
    try:
        vault = Vault.unlock(path, passphrase)
        break
    except Exception:
        continue
print("ready", flush=True)
while True:
    vault.change_passphrase(new, kdf=kdf)
    new = first if new == second else second
"""


# The default run kills one rotation; `pytest -m slow` runs twelve kills at random moments.
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("rounds", [pytest.param(1, id="one-kill"),
                                    pytest.param(12, id="twelve-kills", marks=pytest.mark.slow)])
def test_sigkill_during_rotation_leaves_a_vault_that_opens(vault_path, photo_dir, rounds):
    import random
    import signal

    vault, _ = Vault.create(vault_path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())
    vault.import_paths([photo_dir])
    originals = {p.filename: p.id for p in vault.list_photos()}
    vault.lock()
    rng = random.Random(20261207)
    caught_mid_rotation = 0
    for _ in range(rounds):
        process = subprocess.Popen(
            [sys.executable, "-c", _ROTATE_FOREVER, str(vault_path), PASSPHRASE, NEW_PASSPHRASE],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=Path(__file__).parent.parent)
        assert process.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.4))
        process.send_signal(signal.SIGKILL)
        process.wait()
        databases = {p.name for p in vault_path.glob("vault*.db")}
        if databases != slot_databases(vault_path):
            caught_mid_rotation += 1  # a copy not yet switched to, or the old one not yet destroyed
        opened = []
        for passphrase in (PASSPHRASE, NEW_PASSPHRASE):
            try:
                opened.append(Vault.unlock(vault_path, passphrase))
            except WrongPassphrase:
                pass
        assert len(opened) == 1, "exactly one of the two passphrases must open the vault"
        with opened[0] as reopened:
            assert reopened.check_consistency() == []
            assert {p.filename: p.id for p in reopened.list_photos()} == originals
            for photo in reopened.list_photos():
                assert reopened.read_original(photo.id) == (photo_dir / photo.filename).read_bytes()
        assert {p.name for p in vault_path.glob("vault*.db")} == slot_databases(vault_path)
    if rounds > 1:  # one kill may land between two rotations; some of several land inside one
        assert caught_mid_rotation >= 2, "no kill landed inside a rotation"


# --- item 7: padded blobs ----------------------------------------------------------------------


def test_stored_blobs_do_not_reveal_exact_sizes(vault, photo_dir):
    report = vault.import_paths([photo_dir])
    for photo_id in report.imported:
        row = db.Blob.get((db.Blob.photo == photo_id) & (db.Blob.kind == "original"))
        size = vault.blobs.path_of(row.name).stat().st_size
        original = vault.photo(photo_id).size_bytes
        assert size == row.size_bytes
        # Not original + a fixed overhead: the length prefix and the photo padded to its PADME
        # bucket, then one tag per 64 KiB chunk.
        stream = crypto.padme(8 + original)
        chunks = max(1, -(-stream // (1 << crypto.CHUNK_LOG2)))
        assert size == crypto.HEADER_SIZE + stream + crypto.TAG_SIZE * chunks


def test_padding_of_older_blobs_is_lazy_and_resumes(vault, photo_dir):
    report = vault.import_paths([photo_dir / "cat.jpg", photo_dir / "dog.jpg"])
    # Make them what an earlier version wrote: unpadded v1 blobs, same names and keys.
    for row in db.Blob.select():
        file_key = crypto.unwrap_key(vault._private_key, bytes(row.wrapped_key))
        plaintext = vault.blobs.read(row.name, file_key)
        vault.blobs.path_of(row.name).write_bytes(b"".join(crypto.encrypt_chunks(file_key, plaintext, version=1)))
    db.put_setting("blob_format", "1")
    assert _blob_versions(vault) == {1}
    assert vault._pad_legacy_blobs(budget_seconds=0) == 1  # a tiny budget: one blob, then stop
    assert _blob_versions(vault) == {1, 2} and db.get_setting("blob_format") == "1"
    vault.lock()
    with Vault.unlock(vault.path, PASSPHRASE) as reopened:  # the next unlock goes on
        assert _blob_versions(reopened) == {2} and db.get_setting("blob_format") == "2"
        assert reopened.check_consistency() == []
        for photo_id in report.imported:
            name = reopened.photo(photo_id).filename
            assert reopened.read_original(photo_id) == (photo_dir / name).read_bytes()


# --- item 8: owner-only files --------------------------------------------------------------------


@posix_only
def test_vault_files_and_exports_are_owner_only(tmp_path, photo_dir):
    old_umask = os.umask(0o022)  # the usual default: files 0644, folders 0755
    try:
        path = tmp_path / "vault"
        vault, _ = Vault.create(path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())
        report = vault.import_paths([photo_dir / "cat.jpg"])
        exported = vault.export(report.imported, tmp_path / "out")
        from app.core.sharing import ShareOptions

        shared = vault.share(report.imported[0], tmp_path / "shared" / "copy.jpg", ShareOptions(recipient="Sam"))
        vault.lock()
    finally:
        os.umask(old_umask)
    for entry in [path, *path.rglob("*")]:
        mode = stat.S_IMODE(entry.stat().st_mode)
        assert mode == (0o700 if entry.is_dir() else 0o600), f"{entry.relative_to(tmp_path)}: {oct(mode)}"
    assert stat.S_IMODE(Path(exported.exported[0].path).stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(shared.out).stat().st_mode) == 0o600


@posix_only
def test_existing_vault_files_become_owner_only_at_unlock(legacy_vault):
    path, secrets = legacy_vault
    os.chmod(path, 0o755)
    for entry in path.rglob("*"):
        os.chmod(entry, 0o755 if entry.is_dir() else 0o644)
    Vault.unlock(path, PASSPHRASE, totp_code=_totp_now(secrets["totp_secret"])).lock()
    for entry in [path, *path.rglob("*")]:
        assert stat.S_IMODE(entry.stat().st_mode) == (0o700 if entry.is_dir() else 0o600)


# --- item 12: no core dumps while a vault is open ------------------------------------------------

_CORE_DUMP_PROBE = """
import sys
from pathlib import Path
from app.core import hardening
from app.core.vault import Vault
before = hardening.core_dumps_disabled()
vault = Vault.unlock(Path(sys.argv[1]), sys.argv[2])
print(before, hardening.core_dumps_disabled())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and RLIMIT_CORE as on Linux")
def test_core_dumps_are_disabled_once_a_vault_is_open(vault_path):
    Vault.create(vault_path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())[0].lock()
    result = subprocess.run([sys.executable, "-c", _CORE_DUMP_PROBE, str(vault_path), PASSPHRASE],
                            capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_legacy_vault_loses_the_unused_hash_columns(legacy_vault):
    """pHash and dHash were stored but never matched on: the migration drops their columns
    (after a backup) and keeps each photo's PDQ fingerprint."""
    path, secrets = legacy_vault

    def columns(table: str) -> set[str]:
        return {row[1] for row in db.database.execute_sql(f"PRAGMA table_info({table})").fetchall()}

    with Vault.unlock(path, PASSPHRASE, totp_code=_totp_now(secrets["totp_secret"])) as vault:
        assert db.schema_version(db.database.obj) == db.CURRENT_SCHEMA
        assert not {"phash", "dhash"} & (columns("photofingerprint") | columns("share"))
        prints = vault.fingerprint_of(vault.list_photos()[0].id)
        assert prints is not None and len(prints.pdq) == 32
    assert any(path.glob("vault-*.db.before-v*.bak"))
