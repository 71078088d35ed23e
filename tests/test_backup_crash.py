"""Backups and restores killed with SIGKILL at random moments: the backup folder always holds the
previous complete backup or the new one, and a restore leaves the whole vault or none."""

from __future__ import annotations

import json
import os
import random
import shlex
import shutil
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


def test_a_full_destination_leaves_the_previous_backup(vault_path, tmp_path):
    """A real ENOSPC: the backup goes to a 3 MB tmpfs (the first, 1.7 MB, fits; the second needs 2 MB more), mounted in a user namespace (no root needed
    where unprivileged namespaces are allowed; skipped elsewhere)."""
    if not shutil.which("unshare"):
        pytest.skip("no unshare here")
    incoming = tmp_path / "incoming"
    first = _photos(incoming, 0, 1)
    vault, _ = Vault.create(vault_path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())
    with vault:
        vault.import_paths(first)
    more = _photos(incoming, 1, 3)
    small = tmp_path / "small"
    small.mkdir()
    app = f"{shlex.quote(sys.executable)} -m app"
    vault_arg = f"--vault {shlex.quote(str(vault_path))}"
    dest = shlex.quote(str(small / "backup"))
    script = " && ".join([
        f"mount -t tmpfs -o size=3m tmpfs {shlex.quote(str(small))}",
        f"{app} backup {dest} {vault_arg} --json",
        f"{app} import {' '.join(shlex.quote(str(p)) for p in more)} {vault_arg} --json >/dev/null",
        f"{{ {app} backup {dest} {vault_arg} --json; echo \"exit=$?\"; }}",
        f"{app} backup --verify {dest} --json",
    ])
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], env=ENV, capture_output=True, text=True,
                            timeout=300)
    if "mount" in result.stderr and "exit=" not in result.stdout:
        pytest.skip(f"cannot mount a small file system here: {result.stderr.strip()[:200]}")
    assert "exit=1" in result.stdout, result.stdout + result.stderr
    assert "backup destination is full" in result.stderr
    verified = json.loads(result.stdout[result.stdout.index("exit=1") + len("exit=1"):])
    assert verified == {"ok": True, "problems": []}  # the first backup, whole
    with Vault.unlock(vault_path, PASSPHRASE) as opened:  # and the vault untouched
        assert opened.count() == 4 and opened.check_consistency() == []
