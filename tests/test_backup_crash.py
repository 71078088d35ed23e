"""Backups and restores killed with SIGKILL at random moments: the backup folder always holds the
previous complete backup or the new one, and a restore leaves the whole vault or none."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from app.core import backup
from app.core.vault import Vault

from .conftest import PASSPHRASE, PHOTOS, encode, fast_kdf

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

ENV = {**os.environ, "SANCTUM_PASSPHRASE": PASSPHRASE}


def _photos(folder, start: int, count: int) -> list:
    """Distinct real-photo JPEGs of 3 megapixels: a backup of a dozen takes long enough to kill."""
    folder.mkdir(exist_ok=True)
    sources = [Image.open(p).convert("RGB") for p in sorted(PHOTOS.iterdir())]
    paths = []
    for i in range(start, start + count):
        image = sources[i % len(sources)].resize((2100, 1400)).rotate(i * 5, expand=False)
        path = folder / f"photo-{i:03d}.jpg"
        path.write_bytes(encode(image, "JPEG", quality=92))
        paths.append(path)
    return paths


def _files_under(folder) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


def _kill_when(command: list[str], watched, target: int, rng: random.Random) -> bool:
    """Run `command`, SIGKILL it once `watched` holds `target` files (a moment tied to real
    progress, not to how loaded the machine is); False when it finished first."""
    process = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if watched.exists() and _files_under(watched) >= target:
            time.sleep(rng.uniform(0, 0.01))
            break
        time.sleep(0.003)
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)
    process.wait()
    return killed


def _check_backup(dest, allowed_photos: set[int]) -> backup.BackupCheck:
    keys = backup.open_backup(dest, backup.read_manifest(dest), passphrase=PASSPHRASE)
    check = backup.verify_backup(dest, keys=keys)
    assert check.ok, check.problems
    assert check.photos in allowed_photos
    return check


# The default run kills one backup; `pytest -m slow` kills six, with photos added between them.
@pytest.mark.parametrize(("rounds", "added"), [
    pytest.param(1, 0, id="one-kill"),
    pytest.param(6, 4, id="six-kills", marks=pytest.mark.slow),
])
def test_sigkill_during_backup_leaves_the_previous_or_the_new_backup(vault_path, tmp_path, rounds, added):
    incoming = tmp_path / "incoming"
    vault, _ = Vault.create(vault_path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())
    with vault:
        vault.import_paths(_photos(incoming, 0, 4))
        vault.backup(tmp_path / "backup")
        vault.import_paths(_photos(incoming, 4, 10))
        photos = {4, vault.count()}
    dest = tmp_path / "backup"
    command = [sys.executable, "-m", "app", "backup", str(dest), "--vault", str(vault_path), "--json"]
    rng = random.Random(20261207)
    kills = 0
    generations = set()
    for round_ in range(rounds):
        if round_ and added:
            with Vault.unlock(vault_path, PASSPHRASE) as reopened:
                reopened.import_paths(_photos(incoming, 14 + (round_ - 1) * added, added))
                photos.add(reopened.count())
        before = _files_under(dest / "blobs")
        kills += _kill_when(command, dest / "blobs", before + rng.randint(1, 10), rng)
        check = _check_backup(dest, photos)
        generations.add(check.generation)
        assert not list((dest / "blobs").rglob("*.part"))  # partial copies only ever sit in tmp/
    assert kills >= max(1, rounds // 2), f"the backups finished too fast to be interrupted ({kills} kills)"
    # Re-run: it completes; its JSON is the command's contract.
    finished = json.loads(subprocess.run(command, env=ENV, capture_output=True, text=True, check=True).stdout)
    assert finished == {"dest": str(dest), "photos": max(photos), "bytes_written": finished["bytes_written"]}
    final = _check_backup(dest, {max(photos)})
    assert final.generation > max(generations)
    restored = backup.restore_backup(dest, tmp_path / "restored", passphrase=PASSPHRASE)
    assert restored.photos == max(photos) and restored.problems == ()
    with Vault.unlock(tmp_path / "restored", PASSPHRASE) as opened:
        assert opened.check_consistency() == []
        for photo in opened.list_photos():
            assert opened.read_original(photo.id) == (incoming / photo.filename).read_bytes()


@pytest.mark.parametrize("rounds", [
    pytest.param(1, id="one-kill"),
    pytest.param(5, id="five-kills", marks=pytest.mark.slow),
])
def test_sigkill_during_restore_leaves_the_whole_vault_or_none(vault_path, tmp_path, rounds):
    incoming = tmp_path / "incoming"
    vault, _ = Vault.create(vault_path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())
    with vault:
        vault.import_paths(_photos(incoming, 0, 10))
        vault.backup(tmp_path / "backup")
    rng = random.Random(7)
    kills = 0
    for round_ in range(rounds):
        target = tmp_path / f"restored-{round_}"
        partial = tmp_path / f".restored-{round_}.sanctum-restore"
        command = [sys.executable, "-m", "app", "restore", str(tmp_path / "backup"), "--to", str(target), "--json"]
        killed = _kill_when(command, partial / "blobs", rng.randint(1, 30), rng)
        kills += killed
        if target.exists():  # finished, or killed after the final rename: a whole vault
            assert not partial.exists()
        else:  # killed before it: nothing at the target, and a re-run finishes
            subprocess.run(command, env=ENV, capture_output=True, check=True)
            assert not partial.exists()
        with Vault.unlock(target, PASSPHRASE) as opened:
            assert opened.check_consistency() == [] and opened.count() == 10
            for photo in opened.list_photos():
                assert opened.read_original(photo.id) == (incoming / photo.filename).read_bytes()
    assert kills >= 1, "the restore finished too fast to be interrupted"
