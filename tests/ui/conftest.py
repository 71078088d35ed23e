"""Fixtures for the UI tests: offscreen Qt, real vaults in tmp_path, real photos, and a guard
that fails any test leaving a job thread running."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import pyotp  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QThreadPool  # noqa: E402

from app.core import crypto  # noqa: E402
from app.core.vault import Vault, VaultCreated  # noqa: E402

FAST_KDF = crypto.KdfParams.new(time_cost=1, memory_kib=8192, parallelism=1)
PASSPHRASE = "quiet harbour lamps at dusk"
DATA = Path(__file__).resolve().parents[1] / "data"
# The shared evaluation set lives next to the checkout (../shared/data), as for the benchmarks.
SHARED_KODAK = Path(__file__).resolve().parents[3] / "shared" / "data" / "natural" / "kodak"


def source_photos() -> list[Path]:
    """Real photos: the 24 Kodak photos of the shared evaluation set when it is present, else
    the photos the repo ships in tests/data/photos."""
    for folder, pattern in ((SHARED_KODAK, "kodim*"), (DATA / "photos", "*")):
        files = sorted(p for p in folder.glob(pattern) if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
        if files:
            return files
    return []


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory) -> Path:
    """Eight real photos as camera-like JPEGs with capture dates."""
    out = tmp_path_factory.mktemp("photos")
    sources = source_photos()[:8]
    if not sources:  # pragma: no cover - the repo ships photos
        pytest.skip("no photos in tests/data/photos")
    for n in range(8):
        img = Image.open(sources[n % len(sources)]).convert("RGB")
        if n >= len(sources):
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        exif = Image.Exif()
        exif[0x8769] = {0x9003: f"20{20 + n % 4}:{1 + n:02d}:1{n} 12:00:00"}
        img.save(out / f"photo{n:02d}.jpg", "JPEG", quality=88, exif=exif.tobytes())
    return out


@pytest.fixture(scope="session")
def big_photo_dir(tmp_path_factory) -> Path:
    """Larger JPEGs (~6 MP) so an import takes long enough to cancel half-way."""
    out = tmp_path_factory.mktemp("big")
    sources = source_photos()[:10]
    if not sources:  # pragma: no cover - the repo ships photos
        pytest.skip("no photos in tests/data/photos")
    for n, src in enumerate(sources):
        img = Image.open(src).convert("RGB").resize((3072, 2048), Image.Resampling.BICUBIC)
        img.save(out / f"big{n:02d}.jpg", "JPEG", quality=90)
    return out


@dataclass
class MadeVault:
    path: Path
    passphrase: str
    created: VaultCreated

    def totp_code(self, offset_steps: int = 0) -> str:
        assert self.created.totp is not None
        return pyotp.TOTP(self.created.totp.secret).at(time.time() + 30 * offset_steps)


def make_vault(path: Path, enable_totp: bool = True) -> MadeVault:
    vault, created = Vault.create(path, PASSPHRASE, enable_totp=enable_totp, kdf=FAST_KDF)
    vault.lock()
    return MadeVault(path, PASSPHRASE, created)


@pytest.fixture
def made_vault(tmp_path) -> MadeVault:
    return make_vault(tmp_path / "vault")


@pytest.fixture
def plain_vault(tmp_path) -> MadeVault:
    return make_vault(tmp_path / "vault", enable_totp=False)


@pytest.fixture
def make_window(qtbot):
    """Build a MainWindow on a vault path; closes it (cancel, wait, lock) at teardown."""
    from app.ui.main_window import MainWindow
    from app.ui.session import Session

    made = []

    def factory(path: Path):
        session = Session(path, kdf=FAST_KDF)
        window = MainWindow(session)
        qtbot.addWidget(window)
        window.resize(1100, 760)
        window.show()
        made.append((session, window))
        return session, window

    yield factory
    for session, window in made:
        window.close()
        session.shutdown()
        session.idle.uninstall()


@pytest.fixture
def unlocked(qtbot, plain_vault, make_window):
    """A window on an unlocked vault without TOTP (most tests need no second factor)."""
    session, window = make_window(plain_vault.path)
    window.unlock_page.passphrase.setText(plain_vault.passphrase)
    with qtbot.waitSignal(window.photos_loaded, timeout=20_000):
        window.unlock_page.unlock_button.click()
    return session, window, plain_vault


@pytest.fixture(autouse=True)
def organise_only_where_asked(request, monkeypatch):
    """Organising (tags, faces: ~0.5 s a photo and the models to load) starts after every
    import; only test modules that set `ORGANISE = True` want that, the rest stay fast."""
    from app.ui.organize_ui import OrganiseController

    monkeypatch.setattr(OrganiseController, "AUTO_START", bool(getattr(request.module, "ORGANISE", False)))


@pytest.fixture
def image_host():
    """The fake image host of tests/leakhost.py on 127.0.0.1 (nothing in tests goes further)."""
    from tests.leakhost import ImageHost

    host = ImageHost().start()
    yield host
    host.stop()


def fast_fetch_policy():
    """Short timeouts and no retries or pacing: the test host answers at once or never."""
    from app.core.leaks.fetch import FetchPolicy

    return FetchPolicy(read_timeout=1, connect_timeout=1, retries=0, backoff=0.05, min_host_interval=0)


@pytest.fixture(autouse=True)
def no_threads_left(request):
    """Fail any test that leaves a job running in a thread pool or an extra Python thread."""
    before = {t.ident for t in threading.enumerate()}
    yield
    from app.workers.manager import all_pools

    pools = [QThreadPool.globalInstance(), *all_pools()]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(p.activeThreadCount() for p in pools):
        time.sleep(0.02)
    busy = [p for p in pools if p.activeThreadCount()]
    extra = [t for t in threading.enumerate()
             if t.ident not in before and t.is_alive() and t.name.startswith("sanctum")]
    for pool in busy:
        pool.waitForDone(10_000)  # do not let the next test inherit it
    assert not busy, f"{len(busy)} thread pool(s) still running jobs after {request.node.name}"
    assert not extra, f"threads left running: {[t.name for t in extra]}"
