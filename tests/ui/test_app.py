"""Starting the app, the error table, and the Qt-free parts of the UI package."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core import errors as core_errors
from app.ui.errors import ErrorNotifier, describe
from app.ui.strength import estimate

from .conftest import make_vault

ROOT = Path(__file__).resolve().parents[2]


def _smoke(vault: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SANCTUM_VAULT=str(vault), SANCTUM_SMOKE_TEST="1")
    return subprocess.run([sys.executable, "-m", "app"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_python_m_app_opens_the_wizard_on_first_run(tmp_path):
    result = _smoke(tmp_path / "new-vault")
    assert result.returncode == 0, result.stderr
    assert "ok (SetupWizard shown" in result.stdout
    assert not (tmp_path / "new-vault").exists()  # nothing created just by looking


def test_python_m_app_opens_the_unlock_screen_when_a_vault_exists(tmp_path):
    made = make_vault(tmp_path / "vault")
    result = _smoke(made.path)
    assert result.returncode == 0, result.stderr
    assert "ok (UnlockWindow shown" in result.stdout


def test_every_core_error_has_words():
    classes = [c for _, c in inspect.getmembers(core_errors, inspect.isclass)
               if issubclass(c, core_errors.SanctumError)]
    assert len(classes) > 10
    for cls in classes:
        exc = cls(12.0, 3.0) if cls is core_errors.LockedOut else cls()
        message = describe(exc)
        assert message.title and message.text and "Traceback" not in message.text
    assert "3 seconds" in describe(core_errors.LockedOut(0, 3)).text
    assert "disk is full" in describe(OSError(28, "No space left on device")).text
    assert "unexpected" in describe(KeyError("x")).text.lower()


def test_notifier_forwards_uncaught_errors_from_threads():
    import threading

    notifier = ErrorNotifier()
    got = []
    notifier.set_sink(got.append)
    previous = threading.excepthook
    threading.excepthook = notifier.thread_excepthook
    try:
        thread = threading.Thread(target=lambda: 1 / 0)
        thread.start()
        thread.join()
    finally:
        threading.excepthook = previous
    assert len(got) == 1 and isinstance(got[0], ZeroDivisionError)


@pytest.mark.parametrize("text, at_least, at_most", [
    ("short", 0, 0), ("password", 1, 1), ("Summer2024!", 1, 2), ("correct horse battery staple", 3, 4),
    ("kx8#Lm2p-Qz9!vR", 3, 4),
])
def test_strength_meter(text, at_least, at_most):
    assert at_least <= estimate(text).score <= at_most


def test_resources_exist():
    from app.ui.resources import app_icon, resources_dir, stylesheet

    folder = resources_dir()
    assert folder is not None
    assert "QListView#gallery" in stylesheet()
    assert "\nExec=sanctum\n" in (folder / "sanctum.desktop").read_text()
    assert not app_icon().isNull()


def test_binding_bug_guard_keeps_true_and_none_alive(qapp):
    """PySide6 6.12.0 on Python 3.11 leaks references to True/None (see app/qtcompat.py)."""
    import sys

    from PySide6.QtCore import QObject, Signal

    from app import qtcompat

    class Emitter(QObject):
        ping = Signal(object)

    emitter = Emitter()
    emitter.ping.connect(lambda _x: None)
    for _ in range(5000):  # more than True's natural reference count
        emitter.ping.emit(None)
    assert sys.getrefcount(True) > 1000 and sys.getrefcount(None) > 1000
    if sys.version_info < (3, 12) and any(qtcompat.leaks.values()):
        assert sys.getrefcount(True) > 1 << 39  # the guard is in place


def test_first_run_builds_the_main_window_only_once_the_vault_exists(qtbot, tmp_path):
    from app.core.vault import Vault
    from app.ui.application import AppController
    from app.ui.main_window import PAGE_LIBRARY
    from app.ui.wizard import SetupWizard

    from .conftest import FAST_KDF, PASSPHRASE

    controller = AppController(tmp_path / "vault", kdf=FAST_KDF)
    first = controller.start()
    # Start time: the wizard opens without the main window (most of the UI) being built.
    assert isinstance(first, SetupWizard) and controller.window is None
    vault, _ = Vault.create(tmp_path / "vault", PASSPHRASE, enable_totp=False, kdf=FAST_KDF)
    first.vault_ready.emit(vault)
    window = controller.window
    qtbot.waitUntil(lambda: not controller.session.jobs.busy(), timeout=20_000)  # the first listing
    assert window.isVisible() and controller.session.is_unlocked
    assert window.stack.currentIndex() == PAGE_LIBRARY  # straight to the library, no unlock screen
    window.close()
    window.deleteLater()
    controller.shutdown()
    controller.session.idle.uninstall()
    qtbot.wait(100)  # the ended jobs' queued signals reach the manager while it still exists


def test_unlock_screen_opens_first_and_the_main_window_takes_over(qtbot, tmp_path):
    import shiboken6

    from app.ui.application import AppController, UnlockWindow
    from app.ui.main_window import PAGE_LIBRARY

    from .conftest import FAST_KDF

    made = make_vault(tmp_path / "vault", enable_totp=False)
    controller = AppController(made.path, kdf=FAST_KDF)
    first = controller.start()
    # Start time: the unlock screen opens before the main window (most of the UI) is built.
    assert isinstance(first, UnlockWindow) and controller.window is None
    assert first.focusWidget() is first.unlock_page.passphrase
    page = first.unlock_page
    page.passphrase.setText(made.passphrase)
    with qtbot.waitSignal(controller.session.unlocked, timeout=20_000):
        page.unlock_button.click()
        assert controller.window is not None  # built as the unlock job started
    window = controller.window
    qtbot.waitUntil(lambda: not controller.session.jobs.busy(), timeout=20_000)  # the first listing
    assert window.isVisible() and controller.unlock_window is None
    qtbot.waitUntil(lambda: not shiboken6.isValid(first), timeout=5_000)  # the start's unlock window goes
    assert window.stack.currentIndex() == PAGE_LIBRARY
    # Later locks use the main window's own unlock page.
    controller.session.lock("manual")
    qtbot.waitUntil(lambda: window.stack.currentIndex() != PAGE_LIBRARY, timeout=10_000)
    assert window.isVisible()
    window.close()
    window.deleteLater()
    controller.shutdown()
    controller.session.idle.uninstall()
    qtbot.wait(100)  # the ended jobs' queued signals reach the manager while it still exists


def test_every_immunizer_and_watermark_error_has_its_own_row():
    from app.core.immunizer import errors as immunizer_errors
    from app.core.watermark import errors as watermark_errors

    for module in (immunizer_errors, watermark_errors):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, core_errors.SanctumError) and cls.__module__ == module.__name__:
                message = describe(cls())
                assert message.title != "Something went wrong", cls
                assert message.text and "Traceback" not in message.text


def _every_core_error_class() -> list[type[core_errors.SanctumError]]:
    """Every SanctumError subclass the core defines, with each core module imported first."""
    import importlib
    import pkgutil

    import app.core

    for module in pkgutil.walk_packages(app.core.__path__, "app.core."):
        importlib.import_module(module.name)
    found, todo = [], [core_errors.SanctumError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("app.core.") and not sub.__name__.startswith("_"):
                found.append(sub)
            todo.append(sub)
    return sorted(set(found), key=lambda cls: (cls.__module__, cls.__name__))


def test_every_core_error_has_words_in_the_error_table():
    special = {"LockedOut": (0, 3), "HttpStatusError": ("404", 404), "NotFound": ("gone", 404),
               "Refused": ("forbidden", 403)}
    classes = _every_core_error_class()
    assert len(classes) > 30
    for cls in classes:
        message = describe(cls(*special.get(cls.__name__, ())))
        assert message.title != "Something went wrong", cls
        assert message.text and "Traceback" not in message.text, cls
        if issubclass(cls, core_errors.Cancelled):  # every kind of cancel reads the same
            assert (message.title, message.severity) == ("Cancelled", "info"), cls
