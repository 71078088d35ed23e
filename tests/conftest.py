"""Shared fixtures: real vaults in temporary folders, real photos in every supported format."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PIL import Image

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
