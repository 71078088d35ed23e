"""Traces Sanctum must not leave on the computer: secrets on the clipboard, folder history in
Qt's plain-text settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, QStandardPaths, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog

from app.ui import dialogs
from app.ui.clipboard import SecretClipboard


def test_lock_and_quit_take_a_copied_secret_off_the_clipboard(qtbot, unlocked):
    session, window, _made = unlocked
    board = QGuiApplication.clipboard()
    session.clipboard.copy("RECOVERY-KEY-ON-LOCK")
    assert board.text() == "RECOVERY-KEY-ON-LOCK"
    session.lock()
    qtbot.waitUntil(lambda: session.state == "locked", timeout=5000)
    assert board.text() == ""
    session.clipboard.copy("RECOVERY-KEY-ON-QUIT")
    session.shutdown()
    assert board.text() == ""


def test_the_guard_never_wipes_what_the_user_copied_since(qtbot):
    guard = SecretClipboard(clear_ms=60_000)
    board = QGuiApplication.clipboard()
    guard.copy("RECOVERY-KEY-LATER-REPLACED")
    assert guard.pending
    board.setText("a shopping list")
    guard.clear()
    assert board.text() == "a shopping list"
    assert not guard.pending


# --- file dialogs --------------------------------------------------------------------------------


@pytest.fixture
def qt_settings_dir(tmp_path):
    """Qt's user settings (where QFileDialog writes QtProject.conf) redirected to tmp_path."""
    config = tmp_path / "config"
    config.mkdir()
    formats = (QSettings.Format.NativeFormat, QSettings.Format.IniFormat)
    for fmt in formats:
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(config))
    dialogs.last_folders.forget()
    yield config
    dialogs.last_folders.forget()
    default = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    for fmt in formats:
        QSettings.setPath(fmt, QSettings.Scope.UserScope, default)


def answer_next_file_dialog(respond) -> dict:
    """When the next file dialog opens (inside its own modal loop), note the folder it starts
    in and let `respond(dialog)` pick and accept, or reject."""
    seen: dict = {}

    def handle(tries: int = 0) -> None:
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, QFileDialog) and w.isVisible()]
        if not shown:
            if tries < 250:  # 5 s, then give up: the test fails on `seen` instead of hanging
                QTimer.singleShot(20, lambda: handle(tries + 1))
            return
        dialog = shown[0]
        seen["start"] = Path(dialog.directory().absolutePath())
        seen["native"] = not dialog.testOption(QFileDialog.Option.DontUseNativeDialog)
        respond(dialog)

    QTimer.singleShot(0, handle)
    return seen


def pick_folder(folder: Path):
    def respond(dialog: QFileDialog) -> None:
        dialog.setDirectory(str(folder))
        dialog.accept()
    return respond


def pick_file(path: Path):
    def respond(dialog: QFileDialog) -> None:
        dialog.setDirectory(str(path.parent))
        dialog.selectFile(path.name)
        dialog.accept()
    return respond


def settle_deleted_dialogs() -> None:
    """Qt writes its settings when a file dialog is destroyed: destroy them now."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


def trace_files(config: Path, secrets: list[str]) -> list[str]:
    found = []
    for path in config.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            found += [f"{path.name}: {s}" for s in secrets if s in text]
    return found


def test_file_dialogs_write_no_folder_to_qt_settings(qtbot, qt_settings_dir, tmp_path):
    """Every kind of file dialog, accepted on a folder whose name must not be recorded."""
    imports = tmp_path / "import-from-this-secret-folder"
    exports = tmp_path / "export-to-this-secret-folder"
    checks = tmp_path / "check-this-secret-folder"
    shares = tmp_path / "share-into-this-secret-folder"
    for folder in (imports, exports, checks, shares):
        folder.mkdir()
    photo = imports / "holiday.png"
    Image.new("RGB", (8, 8), "white").save(photo)
    # What an older version left behind: the first dialog overwrites it.
    old = QSettings(QSettings.Scope.UserScope, "QtProject")
    old.setValue("FileDialog/history", ["file:///home/someone/old-secret-folder"])
    old.setValue("FileDialog/lastVisited", "file:///home/someone/old-secret-folder")
    old.sync()
    del old
    suspect = checks / "suspect.png"
    Image.new("RGB", (8, 8), "black").save(suspect)

    seen = answer_next_file_dialog(pick_folder(imports))
    assert dialogs.choose_folder(None, "Add a folder", purpose="import") == str(imports)
    assert seen and not seen["native"]
    answer_next_file_dialog(pick_file(photo))
    assert dialogs.choose_files(None, "Add photos", purpose="import") == [str(photo)]
    answer_next_file_dialog(pick_folder(exports))
    assert dialogs.choose_folder(None, "Export to", purpose="export") == str(exports)
    answer_next_file_dialog(pick_file(suspect))
    assert dialogs.open_file(None, "Check an image", "Images (*.png)", purpose="check") == str(suspect)
    answer_next_file_dialog(pick_file(shares / "for-alex.png"))
    assert dialogs.save_file(None, "Save", "for-alex.png", "PNG (*.png)", purpose="share") \
        == str(shares / "for-alex.png")
    settle_deleted_dialogs()

    secret_names = [imports.name, exports.name, checks.name, shares.name, "holiday", "suspect", "for-alex",
                    "old-secret-folder"]
    assert trace_files(qt_settings_dir, secret_names) == []
    assert trace_files(qt_settings_dir, [str(tmp_path)]) == []


def test_dialogs_start_in_the_last_folder_per_purpose_until_lock(qtbot, qt_settings_dir, tmp_path, unlocked):
    session, window, _made = unlocked
    imports = tmp_path / "camera-roll"
    exports = tmp_path / "usb-stick"
    imports.mkdir()
    exports.mkdir()
    photo = imports / "one.png"
    Image.new("RGB", (8, 8), "white").save(photo)

    # The library's "Add photos" remembers where it was, for the next import only.
    seen = answer_next_file_dialog(pick_file(photo))
    files = dialogs.choose_files(window, "Add photos", purpose="import")
    assert files == [str(photo)] and seen["start"] == Path.home()
    seen = answer_next_file_dialog(lambda dialog: dialog.reject())
    window.choose_and_import_folder()  # the real button's path: starts where the last import was
    assert seen["start"] == imports
    seen = answer_next_file_dialog(pick_folder(exports))
    assert dialogs.choose_folder(window, "Export", purpose="export") == str(exports)
    assert seen["start"] == Path.home(), "export has its own memory"
    seen = answer_next_file_dialog(lambda dialog: dialog.reject())
    assert dialogs.choose_folder(window, "Export", purpose="export") == ""
    assert seen["start"] == exports

    # Locked (idle) while a dialog is still open: what is picked then is not remembered either.
    def lock_then_pick(dialog):
        session.lock()
        pick_folder(imports)(dialog)

    answer_next_file_dialog(lock_then_pick)
    assert dialogs.choose_folder(None, "Export", purpose="export") == str(imports)
    qtbot.waitUntil(lambda: session.state == "locked", timeout=5000)
    seen = answer_next_file_dialog(lambda dialog: dialog.reject())
    dialogs.choose_folder(None, "Export", purpose="export")
    assert seen["start"] == Path.home(), "a locked session forgets where the user was"
    settle_deleted_dialogs()
    assert trace_files(qt_settings_dir, [imports.name, exports.name]) == []


def test_plain_copies_outlive_the_secret_timer_and_leave_on_clear(qtbot):
    """A removal notice must stay until pasted; the recovery key goes after its delay."""
    guard = SecretClipboard(clear_ms=50)
    board = QGuiApplication.clipboard()
    guard.copy("RECOVERY-KEY-TIMED")
    with qtbot.waitSignal(guard.cleared, timeout=5000):
        pass  # the secret's timer
    assert board.text() == ""
    guard.copy("Subject: Removal request", secret=False)
    guard.copy("RECOVERY-KEY-TIMED-2")
    guard.copy("Subject: Removal request, again", secret=False)  # replaces the key on the clipboard
    qtbot.waitUntil(lambda: not guard.pending, timeout=5000)  # the key's timer ran: nothing of it left
    assert board.text() == "Subject: Removal request, again"
    guard.clear()  # lock, panic or quit
    assert board.text() == ""
