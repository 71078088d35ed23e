"""Panic lock on a real vault: the key from the main window, a modal dialog and the viewer;
nothing showing a photo stays on screen; the clipboard loses only what Sanctum put there; a
running job does not hold the lock up; the blank window; Settings."""

from __future__ import annotations

import shutil
import threading

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from app.ui import settings
from app.ui.controllers.panic import PanicController
from app.ui.gallery import Roles
from app.ui.main_window import PAGE_UNLOCK
from app.ui.neutral_window import TITLE
from app.workers.base import CallJob


class HandClock:
    """Moves only when told: "twice quickly" no longer depends on how loaded the machine is."""

    def __init__(self):
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def panic(unlocked):
    session, window, _made = unlocked
    controller = PanicController(session)
    controller.key.clock = HandClock()
    controller.load_settings()  # the vault was unlocked before the controller existed
    yield controller
    controller.shutdown()
    controller.deleteLater()


def press(target, key=Qt.Key.Key_Escape, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A key press as the window system delivers it: to the window, then to its focus widget."""
    QTest.keyClick(target.windowHandle(), key, modifier)


def import_two(qtbot, window, photo_dir, tmp_path) -> None:
    folder = tmp_path / "two"
    folder.mkdir()
    for path in sorted(photo_dir.iterdir())[:2]:
        shutil.copy(path, folder / path.name)
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.start_import([str(folder)])
    qtbot.waitUntil(lambda: window.proxy.rowCount() == 2, timeout=20_000)


def assert_nothing_shows_a_photo(window, controller) -> None:
    """Walk every top-level window: only the main window on its unlock screen, or the blank
    window, may be visible; no dialog; no photo left in the main window."""
    visible = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    for widget in visible:
        assert not isinstance(widget, QDialog), f"{type(widget).__name__} still open"
        assert widget is window or widget is controller.neutral, f"{type(widget).__name__} still shown"
    if window.isVisible():
        assert window.stack.currentIndex() == PAGE_UNLOCK
    assert window.viewer.canvas.pixmap is None
    assert window.model.rowCount() == 0 and len(window.loader.cache) == 0


def test_escape_twice_locks_from_the_main_window_and_once_does_not(qtbot, unlocked, panic):
    session, window, _ = unlocked
    clock = panic.key.clock
    press(window)
    clock.now += 2  # a second Escape two seconds later is another single Escape
    press(window)
    press(window, Qt.Key.Key_Right)
    press(window)  # Escape, another key, Escape: not "twice" either
    assert session.is_unlocked
    clock.now += 0.3
    with qtbot.waitSignal(panic.panicked, timeout=5000):
        press(window)
    assert session.state in ("locking", "locked")
    qtbot.waitUntil(lambda: session.state == "locked", timeout=10_000)
    assert_nothing_shows_a_photo(window, panic)


def test_panic_key_inside_a_modal_dialog_showing_photos(qtbot, unlocked, panic, photo_dir, tmp_path):
    """The delete question is modal (its own event loop) and shows the photos it is about."""
    session, window, made = unlocked
    import_two(qtbot, window, photo_dir, tmp_path)
    settings.write(settings.PANIC_KEY, "f12")
    session.settings_changed.emit()
    assert panic.key.choice == "f12"
    window.gallery.selectAll()
    seen = {}

    def in_the_dialog() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, in_the_dialog)
            return
        seen["pixmap"] = not box.iconPixmap().isNull()
        press(box, Qt.Key.Key_F12)

    QTimer.singleShot(0, in_the_dialog)
    window.delete_action.trigger()  # returns once the panic has closed the question
    assert seen["pixmap"]
    assert session.state in ("locking", "locked")
    assert_nothing_shows_a_photo(window, panic)
    qtbot.waitUntil(lambda: session.state == "locked", timeout=10_000)
    from app.core.vault import Vault

    reopened = Vault.unlock(made.path, made.passphrase)
    try:  # the question was answered by nobody: nothing was deleted
        assert reopened.count() == 2
    finally:
        reopened.lock()


def test_panic_from_the_viewer_closes_it_and_the_share_dialog_over_it(qtbot, unlocked, panic, photo_dir,
                                                                     tmp_path):
    session, window, _ = unlocked
    import_two(qtbot, window, photo_dir, tmp_path)
    settings.write(settings.PANIC_KEY, "f12")  # one press: Escape would close the dialog first
    session.settings_changed.emit()
    photo_id = window.proxy.index(0, 0).data(Roles.PhotoId)
    window.open_viewer(photo_id)
    qtbot.waitUntil(lambda: window.viewer.canvas.pixmap is not None, timeout=20_000)
    share = window.share_photo(photo_id)
    assert share is not None and share.isVisible()
    assert QApplication.activeModalWidget() is share  # the keyboard goes to it
    with qtbot.waitSignal(panic.panicked, timeout=5000):
        press(share, Qt.Key.Key_F12)
    assert not share.isVisible()
    assert_nothing_shows_a_photo(window, panic)
    qtbot.waitUntil(lambda: session.state == "locked", timeout=10_000)


def test_escape_twice_in_the_viewer(qtbot, unlocked, panic, photo_dir, tmp_path):
    """The first Escape closes the viewer (its own shortcut), the second locks."""
    session, window, _ = unlocked
    import_two(qtbot, window, photo_dir, tmp_path)
    window.open_viewer(window.proxy.index(0, 0).data(Roles.PhotoId))
    qtbot.waitUntil(lambda: window.viewer.canvas.pixmap is not None, timeout=20_000)
    press(window)
    with qtbot.waitSignal(panic.panicked, timeout=5000):
        press(window)
    assert_nothing_shows_a_photo(window, panic)
    qtbot.waitUntil(lambda: session.state == "locked", timeout=10_000)


def test_panic_takes_off_only_what_sanctum_copied(qtbot, unlocked, panic):
    session, window, made = unlocked
    board = QGuiApplication.clipboard()
    session.clipboard.copy("RECOVERY-KEY-PANIC")
    press(window, Qt.Key.Key_Escape)
    press(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: session.state == "locked", timeout=10_000)
    assert board.text() == ""
    # Unlock again: a removal notice copied (as the Takedown dialog does), then the user copies
    # something of their own elsewhere; the panic leaves theirs.
    window.unlock_page.passphrase.setText(made.passphrase)
    with qtbot.waitSignal(window.photos_loaded, timeout=20_000):
        window.unlock_page.unlock_button.click()
    session.clipboard.copy("Subject: Removal request\n\nPlease remove…", secret=False)
    assert board.text().startswith("Subject: Removal request")
    press(window)
    press(window)
    assert board.text() == ""  # Sanctum's copy: gone
    session.clipboard.copy("Subject: another notice", secret=False)
    board.setText("a shopping list")  # copied by the user after Sanctum's
    press(window)
    press(window)
    assert board.text() == "a shopping list"


def test_panic_does_not_wait_for_a_running_job(qtbot, unlocked, panic):
    """A job in the middle of one long core call (which cannot stop half-way): the screen is
    cleared and the unlock screen shown at once; the keys go when the call returns."""
    session, window, _ = unlocked
    vault = session.vault
    started, gate = threading.Event(), threading.Event()

    def long_call() -> None:
        started.set()
        gate.wait(30)

    session.jobs.start(CallJob(vault, long_call, title="a long call"))
    qtbot.waitUntil(started.is_set, timeout=5000)  # running, not queued: a queued job ends at once
    with qtbot.waitSignal(panic.panicked, timeout=5000):
        press(window)
        press(window)
    assert session.state == "locking" and not session.is_unlocked
    assert window.stack.currentIndex() == PAGE_UNLOCK and not window.toolbar.isVisible()
    assert_nothing_shows_a_photo(window, panic)
    gate.set()
    qtbot.waitUntil(lambda: session.state == "locked", timeout=10_000)
    assert not vault.is_open


def test_neutral_window_hides_sanctum_and_ctrl_l_brings_it_back(qtbot, unlocked, panic):
    session, window, _ = unlocked
    settings.write(settings.PANIC_NEUTRAL_WINDOW, True)
    session.settings_changed.emit()
    press(window)
    press(window)
    neutral = panic.neutral
    assert neutral is not None and neutral.isVisible()
    assert not window.isVisible()
    visible = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert visible == [neutral]
    assert neutral.windowTitle() == TITLE and "sanctum" not in neutral.windowTitle().lower()
    assert neutral.editor.toPlainText() == ""
    qtbot.waitUntil(lambda: session.state == "locked", timeout=10_000)
    QTest.keyClicks(neutral.editor, "milk, eggs")
    press(neutral, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.isVisible() and not neutral.isVisible()
    assert window.stack.currentIndex() == PAGE_UNLOCK
    assert neutral.editor.toPlainText() == ""  # what was typed is kept nowhere


def test_the_panic_lock_section_in_settings(qtbot, unlocked, panic):
    session, window, _ = unlocked
    window.open_settings()
    dialog = window.settings_slot.dialog
    section = dialog.panic_section
    assert section.panic_key.currentData() == "escape-twice"
    assert section.screen_lock.isChecked() and not section.neutral.isChecked()
    # Offscreen there is no desktop to listen to: the shortcut is off, and the note says why.
    assert not section.global_shortcut.isEnabled()
    assert "Not available" in section.shortcut_note.text()
    section.panic_key.setCurrentIndex(section.panic_key.findData("pause"))
    section.neutral.setChecked(True)
    section.screen_lock.setChecked(False)
    dialog.accept()
    assert settings.read(settings.PANIC_KEY) == "pause"
    assert panic.key.choice == "pause" and panic.neutral_window and not panic.lock_on_screen_lock
    with qtbot.waitSignal(panic.panicked, timeout=5000):
        press(window, Qt.Key.Key_Pause)
    qtbot.waitUntil(lambda: session.state == "locked", timeout=10_000)
