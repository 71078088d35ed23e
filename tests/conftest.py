"""Shared fixtures: real vaults in temporary folders, real photos in every supported format."""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PIL import Image, ImageOps

from app.core import crypto
from app.core.vault import Vault

DATA = Path(__file__).parent / "data"
PHOTOS = DATA / "photos"
PASSPHRASE = "correct horse battery staple"

# Argon2id at test strength: the real parameters cost ~0.5 s per unlock by design.
FAST_KDF = dict(time_cost=1, memory_kib=8192, parallelism=1)


def fast_kdf() -> crypto.KdfParams:
    return crypto.KdfParams.new(**FAST_KDF)


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "vault"


@pytest.fixture
def vault(vault_path: Path):
    v, _ = Vault.create(vault_path, PASSPHRASE, enable_totp=False, kdf=fast_kdf())
    yield v
    v.lock()


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    """A folder of real photos (copies, so tests may touch their times)."""
    target = tmp_path / "photos"
    shutil.copytree(PHOTOS, target)
    return target


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.fixture(scope="session")
def format_samples(tmp_path_factory) -> dict[str, Path]:
    """The same real photo saved in every supported format (HEIC via pillow-heif)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    folder = tmp_path_factory.mktemp("formats")
    base = Image.open(PHOTOS / "cat.jpg").convert("RGB")
    files = {
        "jpeg": ("cat.jpeg", "JPEG", {"quality": 90}),
        "png": ("cat.png", "PNG", {}),
        "webp": ("cat.webp", "WEBP", {"quality": 80}),
        "gif": ("cat.gif", "GIF", {}),
        "tiff": ("cat.tiff", "TIFF", {}),
        "bmp": ("cat.bmp", "BMP", {}),
        "heic": ("cat.heic", "HEIF", {"quality": 80}),
    }
    paths = {}
    for kind, (name, fmt, options) in files.items():
        # Each format gets slightly different pixels so none is a duplicate of another.
        variant = base.rotate(len(paths) * 3, expand=False)
        path = folder / name
        path.write_bytes(encode(variant, fmt, **options))
        paths[kind] = path
    return paths


@pytest.fixture
def fixed_marks(vault, monkeypatch):
    """The vault with a fixed watermark key and share IDs, for tests of damaged copies near a
    reading threshold: with random ones, a share-list match went one way or the other about
    one run in ten."""
    from app.core import fingerprint

    keys = dataclasses.replace(vault.share_keys(), watermark=b"a fixed watermark key for tests")
    monkeypatch.setattr(vault, "share_keys", lambda: keys)
    ids = iter([0x3C_5A_0F_E1_92_47_B6, 0xA5_C3_0F_1E_9B_27_64])
    monkeypatch.setattr(fingerprint, "new_share_id", lambda: next(ids))
    return vault


def framed_repost(image: Image.Image, scale: float, quality: int) -> bytes:
    """A shared copy as someone re-posted it: mirrored, shrunk, inside a screenshot of a post
    (a light frame, more above and below), re-compressed, metadata gone."""
    small = ImageOps.mirror(image.convert("RGB"))
    small = small.resize((round(small.width * scale), round(small.height * scale)), Image.Resampling.BOX)
    post = Image.new("RGB", (small.width + 40, small.height + 90), (245, 245, 245))
    post.paste(small, (20, 60))
    return encode(post, "JPEG", quality=quality)


@pytest.fixture(autouse=True)
def _seen_record(tmp_path_factory, monkeypatch):
    """The rollback record (app/core/rollback.py) of each test in its own file, never the user's."""
    monkeypatch.setenv("SANCTUM_SEEN_FILE", str(tmp_path_factory.mktemp("config") / "seen.json"))
