"""An import killed with SIGKILL at random moments leaves a vault that opens, is consistent,
and finishes the import when run again."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from app.core.vault import Vault

from .conftest import PASSPHRASE, PHOTOS, encode, fast_kdf

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def _many_photos(folder, count: int):
    """`count` distinct real-photo JPEGs of 6 megapixels, so an import takes seconds."""
    folder.mkdir()
    sources = [Image.open(p).convert("RGB") for p in sorted(PHOTOS.iterdir())]
    for i in range(count):
        image = sources[i % len(sources)].resize((3000, 2000)).rotate(i, expand=False)
        (folder / f"photo-{i:02d}.jpg").write_bytes(encode(image, "JPEG", quality=90))
    return folder


def _blob_files(vault_path) -> int:
    return sum(len(files) for _, _, files in os.walk(vault_path / "blobs"))


# The default run kills one import of 12 photos; `pytest -m slow` runs the full loop: eight kills
# at random moments of a 36-photo import.
@pytest.mark.parametrize(("rounds", "photos", "most_blobs"), [
    pytest.param(1, 12, 18, id="one-kill"),
    pytest.param(8, 36, 40, id="eight-kills", marks=pytest.mark.slow),
])
def test_sigkill_during_import_leaves_consistent_vault(vault_path, tmp_path, rounds, photos, most_blobs):
    many_photos = _many_photos(tmp_path / "incoming", photos)
    vault, _ = Vault.create(vault_path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())
    vault.lock()
    env = {**os.environ, "SANCTUM_PASSPHRASE": PASSPHRASE}
    command = [sys.executable, "-m", "app", "import", str(many_photos), "--vault", str(vault_path), "--json"]
    rng = random.Random(20261122)
    kills = 0
    partial_counts = set()
    for _ in range(rounds):
        # Kill when the import has written a random number of new blob files (partial ones
        # included): random moments tied to real progress, not to how loaded the machine is.
        before = _blob_files(vault_path)
        target = before + rng.randint(1, most_blobs)
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if _blob_files(vault_path) >= target:
                time.sleep(rng.uniform(0, 0.05))
                break
            time.sleep(0.005)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        with Vault.unlock(vault_path, PASSPHRASE) as reopened:
            assert reopened.check_consistency() == []
            partial_counts.add(reopened.count())
            for photo in reopened.list_photos():
                assert reopened.read_thumbnail(photo.id)  # every committed row is complete
    assert kills >= min(3, rounds), "the import finished too fast to be interrupted"
    if rounds > 1:  # one kill may land before the first commit; one of several lands mid-import
        assert any(0 < n < photos for n in partial_counts), f"no kill landed mid-import: {partial_counts}"
    with Vault.unlock(vault_path, PASSPHRASE) as reopened:
        report = reopened.import_paths([many_photos])
        assert report.errors == []
        assert len(report.imported) + len(report.duplicates) == photos
        assert reopened.count() == photos
        assert reopened.check_consistency() == []
        for photo in reopened.list_photos():
            assert reopened.read_original(photo.id) == (many_photos / photo.filename).read_bytes()
