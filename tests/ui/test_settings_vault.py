"""Settings → Decoy passphrase and integrity, driven as a user would: set a decoy passphrase, lock,
unlock with it (an empty, ordinary library: no word of "decoy" anywhere), lock, unlock with the
real one (the real photos); the integrity check and its repair; the warning after an older copy."""

from __future__ import annotations

import shutil

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QMessageBox, QWidget

from app.core import db
from app.ui.settings_dialog import SettingsDialog

DECOY = "orchard kettle under snow"


def _settings(qtbot, session, window) -> SettingsDialog:
    dialog = SettingsDialog(session, window)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _lock(qtbot, session) -> None:
    with qtbot.waitSignal(session.locked, timeout=20_000):
        session.lock()


def _unlock(qtbot, window, passphrase: str) -> None:
    window.unlock_page.passphrase.setText(passphrase)
    with qtbot.waitSignal(window.photos_loaded, timeout=20_000):
        window.unlock_page.unlock_button.click()


def _texts(root: QWidget) -> list[str]:
    """Every word a person can see or hover in `root`: labels, buttons, fields, actions, tips."""
    texts = [root.windowTitle()]
    for widget in root.findChildren(QWidget):
        if not widget.isVisible():
            continue  # (dialogs closed earlier in the test stay children until deleted)
        texts.append(widget.toolTip())
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        if isinstance(widget, QLineEdit):
            texts += [widget.placeholderText(), widget.text()]
    for action in root.findChildren(QAction):
        if not isinstance(action.parent(), QWidget) or action.parent().isVisible():
            texts += [action.text(), action.toolTip()]
    return [t for t in texts if t]


def test_second_passphrase_walk(qtbot, unlocked, photo_dir):
    session, window, made = unlocked
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.start_import([str(photo_dir / "photo00.jpg"), str(photo_dir / "photo01.jpg")])
    real_settings = _settings(qtbot, session, window)
    real_words = sorted(_texts(real_settings))
    real_settings.vault_tools.buttons["decoyPassphrase"].click()
    dialog = real_settings.vault_tools.dialog
    assert dialog.objectName() == "decoyDialog" and not dialog.start_button.isEnabled()
    dialog.first.setText(made.passphrase)  # its own passphrase: refused in words
    dialog.second.setText(made.passphrase)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: "different" in dialog.message.text(), timeout=30_000)
    dialog.first.setText(DECOY)
    dialog.second.setText(DECOY)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: "Decoy passphrase set" in dialog.message.text(), timeout=30_000)
    dialog.reject()
    real_settings.reject()
    _lock(qtbot, session)

    _unlock(qtbot, window, DECOY)
    assert window.model.rowCount() == 0
    assert not [t for t in _texts(window) if "decoy" in t.lower()]
    decoy_settings = _settings(qtbot, session, window)
    # Settings read the same, word for word, whichever passphrase opened the vault.
    assert sorted(_texts(decoy_settings)) == real_words
    decoy_settings.reject()
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.start_import([str(photo_dir / "photo02.jpg")])
    assert [p.filename for p in window.model.photos] == ["photo02.jpg"]
    _lock(qtbot, session)

    _unlock(qtbot, window, made.passphrase)
    assert sorted(p.filename for p in window.model.photos) == ["photo00.jpg", "photo01.jpg"]


def test_check_vault_and_repair(qtbot, unlocked, photo_dir):
    session, window, _ = unlocked
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.start_import([str(photo_dir / "photo00.jpg"), str(photo_dir / "photo01.jpg")])
    settings = _settings(qtbot, session, window)
    settings.vault_tools.buttons["checkVault"].click()
    dialog = settings.vault_tools.dialog
    progress = []
    session.jobs.job_started.connect(lambda job: job.signals.progress.connect(lambda d, t: progress.append((d, t))))
    with qtbot.waitSignal(dialog.report_shown, timeout=30_000) as shown:
        dialog.start_button.click()
    assert shown.args[0].ok
    qtbot.waitUntil(lambda: progress[-1:] == [(6, 6)], timeout=5_000)  # queued like the report
    assert "read back intact" in dialog.text.toPlainText() and not dialog.repair_button.isVisible()

    vault = session.vault
    qtbot.waitUntil(lambda: len(window.model.photos) == 2, timeout=10_000)  # the gallery reloads after the import
    photo_id = window.model.photos[0].id
    row = db.Blob.get((db.Blob.photo == photo_id) & (db.Blob.kind == "original"))
    vault.blobs.path_of(row.name).unlink()
    orphan = vault.blobs.new_name()
    vault.blobs.write(orphan, b"k" * 32, b"left by a crash")
    with qtbot.waitSignal(dialog.report_shown, timeout=30_000) as shown:
        dialog.start_button.click()
    assert len(shown.args[0].problems) == 2
    assert "original file is missing" in dialog.text.toPlainText()
    assert dialog.repair_button.isVisible() and dialog.remove_unreadable.isVisible()
    with qtbot.waitSignal(dialog.report_shown, timeout=30_000) as shown:
        dialog.repair_button.click()  # box unticked: the orphan goes, the photo stays
    assert [p.kind for p in shown.args[0].problems] == ["missing"] and vault.count() == 2
    dialog.remove_unreadable.setChecked(True)
    with qtbot.waitSignal(dialog.report_shown, timeout=30_000) as shown:
        dialog.repair_button.click()
    assert shown.args[0].ok and vault.count() == 1
    assert "Removed 1 photo" in dialog.text.toPlainText()
    dialog.reject()
    settings.reject()


def test_an_older_copy_is_said_after_unlocking(qtbot, plain_vault, make_window, tmp_path, photo_dir):
    older = tmp_path / "older"
    shutil.copytree(plain_vault.path, older)
    session, window = make_window(plain_vault.path)
    _unlock(qtbot, window, plain_vault.passphrase)
    assert window.findChild(QMessageBox, "rollbackWarning") is None
    _lock(qtbot, session)
    shutil.rmtree(plain_vault.path)
    shutil.copytree(older, plain_vault.path)
    _unlock(qtbot, window, plain_vault.passphrase)
    box = window.findChild(QMessageBox, "rollbackWarning")
    assert box is not None and box.isVisible() and "older than the one last opened" in box.text()
    box.accept()
