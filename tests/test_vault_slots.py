"""The second passphrase (two vaults in one folder), the layout every vault keeps whether or not
one is set, the integrity check and its repair, and the rollback warning."""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from pathlib import Path

import pyotp
import pytest

from app.core import crypto, db
from app.core.errors import SecondPassphraseRefused, TotpRequired, WrongPassphrase, WrongRecoveryKey
from app.core.vault import HEADER_NAME, Vault
from app.core.vault.header import slot_databases
from app.core.vault.slots import MIN_DB_CLASS, size_class

from .conftest import DATA, PASSPHRASE, fast_kdf

SECOND = "orchard kettle under snow"
LEGACY = DATA / "legacy-vault-v1"


def _make(path: Path, photos: list[Path], *, second: bool, totp: bool = False):
    vault, created = Vault.create(path, PASSPHRASE, enable_totp=totp, kdf=fast_kdf())
    vault.import_paths(photos)
    if second:
        vault.set_second_passphrase(SECOND, kdf=fast_kdf())
    vault.lock()
    return created


def _shape(path: Path) -> dict:
    """What someone holding the folder sees, names' random parts and blob files left out."""
    files = sorted(re.sub(r"[0-9a-f]{8}", "X", str(p.relative_to(path)))
                   for p in path.rglob("*") if p.is_file() and "blobs" not in p.parts)
    header = json.loads((path / HEADER_NAME).read_text())
    slots = [{k: (len(json.dumps(v)) if k != "kdf" else {n: len(str(x)) for n, x in v.items()})
              for k, v in slot.items()} for slot in header["slots"]]
    classes = sorted(size_class((path / name).stat().st_size) for name in slot_databases(path))
    return {"files": files, "top": sorted(header), "slots": slots, "classes": classes}


def test_each_passphrase_opens_only_its_own_vault(vault_path, photo_dir):
    created = _make(vault_path, [photo_dir / "cat.jpg", photo_dir / "dog.jpg"], second=True)
    with Vault.unlock(vault_path, SECOND) as second:
        assert second.count() == 0  # starts empty
        second.import_paths([photo_dir / "horses.jpg"])
        assert [p.filename for p in second.list_photos()] == ["horses.jpg"]
        assert not second.has_second_passphrase()
    with Vault.unlock(vault_path, PASSPHRASE) as first:
        assert sorted(p.filename for p in first.list_photos()) == ["cat.jpg", "dog.jpg"]
        assert first.has_second_passphrase()
        assert first.check_vault().ok  # the second vault's blobs are not its orphans
    with Vault.recover(vault_path, created.recovery_key) as recovered:  # the recovery key: the first vault
        assert recovered.count() == 2
    with pytest.raises(WrongPassphrase):
        Vault.unlock(vault_path, "neither of the two passphrases")
    with Vault.unlock(vault_path, SECOND) as second:  # unlocking the first kept the second's photo
        assert second.count() == 1 and second.check_vault().ok


def test_folder_looks_the_same_with_and_without_a_second_passphrase(tmp_path, photo_dir):
    photos = [photo_dir / "cat.jpg", photo_dir / "dog.jpg"]
    plain, double = tmp_path / "plain", tmp_path / "double"
    _make(plain, photos, second=False)
    _make(double, photos, second=True)
    with Vault.unlock(double, SECOND) as second:
        second.import_paths([photo_dir / "horses.jpg"])
    assert _shape(plain) == _shape(double)
    assert _shape(plain)["classes"] == [MIN_DB_CLASS, MIN_DB_CLASS]
    # And across unlocks of either, in either order.
    for path, passphrase in ((plain, PASSPHRASE), (double, PASSPHRASE), (double, SECOND)):
        Vault.unlock(path, passphrase).lock()
        assert _shape(plain) == _shape(double)


def test_databases_grow_together_in_size_classes(vault_path, photo_dir):
    vault, _ = Vault.create(vault_path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())
    # Rows large enough to take the database past the smallest class.
    db.database.execute_sql("CREATE TABLE filler (data BLOB)")
    db.database.execute_sql("INSERT INTO filler VALUES (zeroblob(?))", (MIN_DB_CLASS + 4096,))
    vault.lock()
    sizes = [(vault_path / name).stat().st_size for name in slot_databases(vault_path)]
    assert {size_class(s) for s in sizes} == {2 * MIN_DB_CLASS}
    assert all(s % 4096 == 0 for s in sizes)


def test_the_authenticator_step_is_the_same_for_both(vault_path, photo_dir):
    created = _make(vault_path, [photo_dir / "cat.jpg"], second=True, totp=True)
    totp = pyotp.TOTP(created.totp.secret)
    for passphrase in (PASSPHRASE, SECOND):
        with pytest.raises(TotpRequired):
            Vault.unlock(vault_path, passphrase)
    now = time.time()
    Vault.unlock(vault_path, SECOND, totp_code=totp.at(now), clock=lambda: now).lock()
    Vault.unlock(vault_path, SECOND, recovery_code=created.recovery_codes[0]).lock()
    # A new authenticator set in the first vault reaches the second one too.
    later = now + 120
    with Vault.unlock(vault_path, PASSPHRASE, totp_code=totp.at(later), clock=lambda: later) as first:
        enrollment = first.begin_totp_enrollment()
        first.finish_totp_enrollment(enrollment, pyotp.TOTP(enrollment.secret).at(later), now=later)
    new = pyotp.TOTP(enrollment.secret)
    latest = later + 120
    with pytest.raises(Exception):  # noqa: B017 - WrongTotp: the old entry no longer opens either
        Vault.unlock(vault_path, SECOND, totp_code=totp.at(latest), clock=lambda: latest)
    Vault.unlock(vault_path, SECOND, totp_code=new.at(latest + 30), clock=lambda: latest + 30).lock()


def test_changing_one_passphrase_keeps_the_other_vault(vault_path, photo_dir):
    _make(vault_path, [photo_dir / "cat.jpg"], second=True)
    with Vault.unlock(vault_path, SECOND) as second:
        second.import_paths([photo_dir / "dog.jpg"])
        second.change_passphrase("second one changed again", kdf=fast_kdf())
    with Vault.unlock(vault_path, PASSPHRASE) as first:
        first.change_passphrase("first one changed again", kdf=fast_kdf())
        first.rotate_recovery_key("first one changed again", kdf=fast_kdf())
    with Vault.unlock(vault_path, "second one changed again") as second:
        assert [p.filename for p in second.list_photos()] == ["dog.jpg"]
        assert second.read_original(second.list_photos()[0].id) == (photo_dir / "dog.jpg").read_bytes()
    with Vault.unlock(vault_path, "first one changed again") as first:
        assert [p.filename for p in first.list_photos()] == ["cat.jpg"] and first.check_vault().ok
    assert len(slot_databases(vault_path)) == 2 and len(list(vault_path.glob("vault*.db"))) == 2


def test_second_vault_cannot_overwrite_the_first(vault_path, photo_dir):
    _make(vault_path, [photo_dir / "cat.jpg"], second=True)
    with Vault.unlock(vault_path, SECOND) as second, pytest.raises(SecondPassphraseRefused):
        second.set_second_passphrase("a third passphrase here", kdf=fast_kdf())
    with Vault.unlock(vault_path, PASSPHRASE) as first:
        assert first.count() == 1
        with pytest.raises(SecondPassphraseRefused):  # its own passphrase would open two slots
            first.set_second_passphrase(PASSPHRASE, kdf=fast_kdf())


def test_replacing_the_second_vault_destroys_its_photos(vault_path, photo_dir):
    _make(vault_path, [photo_dir / "cat.jpg"], second=True)
    with Vault.unlock(vault_path, SECOND) as second:
        second.import_paths([photo_dir / "dog.jpg"])
    blobs_before = len(list(vault_path.glob("blobs/??/*")))
    with Vault.unlock(vault_path, PASSPHRASE) as first:
        first.set_second_passphrase("another second passphrase", kdf=fast_kdf())
    assert len(list(vault_path.glob("blobs/??/*"))) == blobs_before - 3
    with pytest.raises(WrongPassphrase):
        Vault.unlock(vault_path, SECOND)
    with Vault.unlock(vault_path, "another second passphrase") as second:
        assert second.count() == 0


def test_legacy_vault_gets_the_same_layout_and_a_second_passphrase(tmp_path, photo_dir):
    path = tmp_path / "legacy"
    shutil.copytree(LEGACY / "vault", path)
    secrets = json.loads((LEGACY / "secrets.json").read_text())
    code = pyotp.TOTP(secrets["totp_secret"]).now()
    with Vault.unlock(path, PASSPHRASE, totp_code=code) as vault:
        assert vault.check_vault().ok
        vault.set_second_passphrase(SECOND, kdf=fast_kdf())
    header = json.loads((path / HEADER_NAME).read_text())
    assert header["version"] == 3 and len(header["slots"]) == 2
    assert not (path / "vault.db").exists() and len(slot_databases(path)) == 2
    with Vault.unlock(path, SECOND, recovery_code=secrets["recovery_codes"][1]) as second:
        assert second.count() == 0
    with Vault.recover(path, secrets["recovery_key"]) as first:
        assert first.count() == 1
    with pytest.raises(WrongRecoveryKey):
        Vault.recover(path, crypto.format_recovery_key(crypto.new_recovery_key()))


# --- the integrity check -------------------------------------------------------------------------


def _blob(vault: Vault, photo_id: int, kind: str) -> Path:
    return vault.blobs.path_of(db.Blob.get((db.Blob.photo == photo_id) & (db.Blob.kind == kind)).name)


def test_check_finds_damage_missing_files_and_own_orphans_only(vault_path, photo_dir):
    _make(vault_path, [photo_dir / "cat.jpg"], second=True)
    with Vault.unlock(vault_path, SECOND) as second:
        second.import_paths([photo_dir / "dog.jpg"])  # the other vault's blobs, in the same folder
    with Vault.unlock(vault_path, PASSPHRASE) as vault:
        ids = vault.import_paths([photo_dir / "horses.jpg", photo_dir / "pizza.jpg",
                                  photo_dir / "coffee.jpg"]).imported
        damaged, thumbless, lost = ids
        target = _blob(vault, damaged, "original")
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        _blob(vault, thumbless, "thumb_small").unlink()
        _blob(vault, lost, "original").unlink()
        orphan = vault.blobs.new_name()
        vault.blobs.write(orphan, crypto.new_file_key(), b"left by a crash")
        (vault.blobs.tmp_dir / "x.part").write_bytes(b"half")
        progress = []
        report = vault.check_vault(progress=lambda d, t: progress.append((d, t)))
        assert progress[-1] == (12, 12)
        found = {(p.kind, p.photo_id, p.part) for p in report.problems}
        assert found == {("damaged", damaged, "original"), ("missing", thumbless, "thumb_small"),
                         ("missing", lost, "original"), ("orphan", None, None), ("temporary", None, None)}
        assert [p.blob for p in report.problems if p.kind == "orphan"] == [orphan]
        assert not report.ok and report.unreadable_photos() == [damaged, lost]
        document = report.to_json()
        assert document["ok"] is False and len(document["problems"]) == 5

        # Repair without removing photos: orphans and temporary files only.
        repaired = vault.repair_vault()
        assert (repaired.removed_orphans, repaired.removed_temporary, repaired.removed_photos) == (1, 1, ())
        assert vault.count() == 4
        # Removing unreadable photos: never one whose original reads (the one without a thumbnail).
        repaired = vault.repair_vault(remove_unreadable=True)
        assert sorted(repaired.removed_photos) == [damaged, lost]
        assert vault.read_original(thumbless) == (photo_dir / vault.photo(thumbless).filename).read_bytes()
        assert [(p.kind, p.photo_id) for p in repaired.after.problems] == [("missing", thumbless)]
    with Vault.unlock(vault_path, SECOND) as second:  # the other vault lost nothing
        assert second.check_vault().ok
        assert second.read_original(second.list_photos()[0].id) == (photo_dir / "dog.jpg").read_bytes()


# --- rollback ------------------------------------------------------------------------------------


def test_an_older_copy_of_the_folder_is_noticed(vault_path, tmp_path, photo_dir):
    _make(vault_path, [photo_dir / "cat.jpg"], second=True)
    with Vault.unlock(vault_path, PASSPHRASE) as vault:
        assert vault.rollback_warning is None
    old_copy = tmp_path / "older"
    shutil.copytree(vault_path, old_copy)
    with Vault.unlock(vault_path, PASSPHRASE) as vault:
        vault.import_paths([photo_dir / "dog.jpg"])
    Vault.unlock(vault_path, SECOND).lock()  # the second vault's count is its own
    shutil.rmtree(vault_path)
    shutil.copytree(old_copy, vault_path)
    with Vault.unlock(vault_path, PASSPHRASE) as vault:
        assert vault.count() == 1
        warning = vault.rollback_warning
        assert warning is not None and warning.opened_at < warning.seen
    with Vault.unlock(vault_path, SECOND) as second:
        assert second.rollback_warning is not None
    with Vault.unlock(vault_path, PASSPHRASE) as vault:  # said once, then this copy is the one
        assert vault.rollback_warning is None


def test_rollback_record_has_two_entries_per_folder_either_way(tmp_path, photo_dir, monkeypatch):
    counts = []
    for second in (False, True):
        record = tmp_path / f"seen-{second}.json"
        monkeypatch.setenv("SANCTUM_SEEN_FILE", str(record))
        path = tmp_path / f"v{second}"
        _make(path, [photo_dir / "cat.jpg"], second=second)
        Vault.unlock(path, PASSPHRASE).lock()
        if second:
            Vault.unlock(path, SECOND).lock()
        entries = json.loads(record.read_text())["entries"]
        counts.append((len(entries), {len(v) for v in entries.values()}))
    assert counts[0] == counts[1] and counts[0][0] == 2


_SET_SECOND_FOREVER = """
import sys
from pathlib import Path
from app.core import crypto
from app.core.vault import Vault
path, first, second = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
kdf = crypto.KdfParams.new(time_cost=1, memory_kib=8192, parallelism=1)
vault = Vault.unlock(path, first)
print("ready", flush=True)
n = 0
while True:
    vault.set_second_passphrase(f"{second} {n % 2}", kdf=kdf)
    n += 1
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_while_setting_the_second_passphrase(vault_path, photo_dir):
    import random
    import signal
    import subprocess

    _make(vault_path, [photo_dir / "cat.jpg"], second=False)
    rng = random.Random(20261207)
    for _ in range(3):
        process = subprocess.Popen([sys.executable, "-c", _SET_SECOND_FOREVER, str(vault_path), PASSPHRASE, SECOND],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=Path(__file__).parent.parent)
        assert process.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait()
        with Vault.unlock(vault_path, PASSPHRASE) as first:  # the first vault is always whole
            assert first.check_vault().ok
            assert first.read_original(first.list_photos()[0].id) == (photo_dir / "cat.jpg").read_bytes()
        opened = 0
        for n in (0, 1):
            try:
                with Vault.unlock(vault_path, f"{SECOND} {n}") as second:
                    assert second.count() == 0
                    opened += 1
            except WrongPassphrase:
                pass
        assert opened <= 1
        assert len(slot_databases(vault_path)) == 2
        assert {p.name for p in vault_path.glob("vault*.db")} == slot_databases(vault_path)
