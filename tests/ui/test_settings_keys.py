"""Settings → Passphrase and recovery, driven as a user would: change the passphrase (with the
rewrap's progress), a new recovery key and new recovery codes shown once, a new authenticator,
and no command-line text in the dialog."""

from __future__ import annotations

import os
import re
import stat
import time

import pyotp
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.core.errors import TotpRequired, WrongPassphrase, WrongRecoveryKey
from app.core.vault import Vault
from app.ui.clipboard import SecretClipboard
from app.ui.settings_dialog import SettingsDialog

NEW_PASSPHRASE = "violet tundra sings softly"


def _settings(qtbot, session, window) -> SettingsDialog:
    dialog = SettingsDialog(session, window)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _lock(qtbot, session) -> None:
    with qtbot.waitSignal(session.locked, timeout=20_000):
        session.lock()


def test_change_passphrase_from_settings(qtbot, unlocked, photo_dir):
    session, window, made = unlocked
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.start_import([str(photo_dir / "photo00.jpg"), str(photo_dir / "photo01.jpg")])
    photo_ids = [p.id for p in window.model.photos]
    settings = _settings(qtbot, session, window)
    settings.key_buttons["changePassphrase"].click()
    dialog = settings.key_dialog
    assert dialog.objectName() == "changePassphraseDialog"
    assert not dialog.start_button.isEnabled()

    # A wrong current passphrase: refused in words, nothing changed, the dialog stays.
    dialog.current.setText("not my passphrase at all")
    dialog.first.setText("password1")
    assert not dialog.start_button.isEnabled() and "common" in dialog.hint.text().lower()
    dialog.first.setText(NEW_PASSPHRASE)
    dialog.second.setText(NEW_PASSPHRASE)
    assert dialog.start_button.isEnabled()
    progress = []
    session.jobs.job_started.connect(lambda job: job.signals.progress.connect(lambda d, t: progress.append((d, t))))
    dialog.start_button.click()
    qtbot.waitUntil(lambda: "Wrong passphrase" in dialog.message.text(), timeout=30_000)
    assert dialog.isVisible() and dialog.start_button.isEnabled()

    dialog.current.setText(made.passphrase)
    with qtbot.waitSignal(dialog.finished, timeout=30_000):
        dialog.start_button.click()
    assert dialog.rotated is not None and dialog.rotated.recovery_key is None
    assert progress and progress[-1] == (6, 6)  # the rewrap of 2 photos × 3 blobs reported its progress
    for photo_id in photo_ids:  # the open window goes on reading through the new keys
        assert session.vault.read_thumbnail(photo_id)
    settings.reject()
    _lock(qtbot, session)
    with pytest.raises(WrongPassphrase):
        Vault.unlock(made.path, made.passphrase)
    Vault.unlock(made.path, NEW_PASSPHRASE).lock()
    Vault.recover(made.path, made.created.recovery_key).lock()  # the recovery key was kept


def test_new_recovery_key_is_shown_once_and_replaces_the_old_one(qtbot, unlocked):
    session, window, made = unlocked
    settings = _settings(qtbot, session, window)
    settings.key_buttons["newRecoveryKey"].click()
    dialog = settings.key_dialog
    dialog.current.setText(made.passphrase)
    with qtbot.waitSignal(dialog.secrets_shown, timeout=30_000) as shown:
        dialog.start_button.click()
    secrets = shown.args[0]
    key = secrets.panel.key_label.text()
    assert key and key != made.created.recovery_key
    assert secrets.text_to_keep().startswith("Sanctum recovery key")
    qtbot.keyClick(secrets, Qt.Key.Key_Escape)  # shown once: not lost by a stray Escape
    assert secrets.isVisible() and not secrets.done_button.isEnabled()
    secrets.confirm_box.setChecked(True)
    with qtbot.waitSignal(dialog.finished, timeout=5_000):
        secrets.done_button.click()
    settings.reject()
    _lock(qtbot, session)
    with pytest.raises(WrongRecoveryKey):
        Vault.recover(made.path, made.created.recovery_key)
    Vault.recover(made.path, key).lock()
    Vault.unlock(made.path, made.passphrase).lock()  # the passphrase did not change


def test_new_recovery_codes_from_settings(qtbot, unlocked):
    session, window, made = unlocked
    settings = _settings(qtbot, session, window)
    settings.key_buttons["newRecoveryCodes"].click()
    dialog = settings.key_dialog
    with qtbot.waitSignal(dialog.secrets_shown, timeout=30_000) as shown:
        dialog.start_button.click()
    secrets = shown.args[0]
    assert len(secrets.codes) == 10 and not set(secrets.codes) & set(made.created.recovery_codes)
    assert all(code in secrets.panel.codes_label.text() for code in secrets.codes)
    secrets.confirm_box.setChecked(True)
    with qtbot.waitSignal(dialog.finished, timeout=5_000):
        secrets.done_button.click()
    assert settings.codes_left.text() == "One-time recovery codes left: 10"
    settings.reject()


def test_new_authenticator_from_settings(qtbot, unlocked):
    session, window, made = unlocked
    settings = _settings(qtbot, session, window)
    settings.key_buttons["newAuthenticator"].click()
    dialog = settings.key_dialog
    secret = dialog.enrollment.secret
    wrong = pyotp.TOTP(pyotp.random_base32()).now()
    dialog.code.setText(wrong)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: "Wrong code" in dialog.message.text(), timeout=30_000)
    assert dialog.isVisible() and dialog.code.text() == ""
    dialog.code.setText(pyotp.TOTP(secret).now())
    with qtbot.waitSignal(dialog.finished, timeout=30_000):
        dialog.start_button.click()
    settings.reject()
    _lock(qtbot, session)
    with pytest.raises(TotpRequired):
        Vault.unlock(made.path, made.passphrase)
    later = time.time() + 60
    Vault.unlock(made.path, made.passphrase, totp_code=pyotp.TOTP(secret).at(later), clock=lambda: later).lock()


def test_settings_speak_plain_words(qtbot, unlocked):
    session, window, _ = unlocked
    settings = _settings(qtbot, session, window)
    texts = [label.text() for label in settings.findChildren(QLabel)]
    # A command line looks like "sanctum inspect FILE --pubkey KEY": a lowercase program name and
    # a subcommand, or an option.
    assert not [t for t in texts if re.search(r"\bsanctum [a-z-]+|(^|\s)--[a-z]", t)]
    settings.reject()


def test_locking_clears_a_new_secret_from_the_screen(qtbot, unlocked):
    session, window, _ = unlocked
    settings = _settings(qtbot, session, window)
    settings.key_buttons["newRecoveryCodes"].click()
    dialog = settings.key_dialog
    with qtbot.waitSignal(dialog.secrets_shown, timeout=30_000) as shown:
        dialog.start_button.click()
    secrets = shown.args[0]
    assert secrets.isVisible()
    _lock(qtbot, session)
    assert not secrets.isVisible() and not dialog.isVisible()


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_saved_recovery_key_file_is_owner_only(qtbot, tmp_path, monkeypatch):
    from app.ui import dialogs
    from app.ui.key_dialogs import SecretsDialog

    target = tmp_path / "my recovery key.txt"
    target.write_text("an older file, readable by all")
    os.chmod(target, 0o644)
    monkeypatch.setattr(dialogs, "save_file", lambda *args: str(target))
    secrets = SecretsDialog("Your new recovery key", "intro", tmp_path / "vault", clipboard=SecretClipboard(),
                            recovery_key="ABCD-EFGH")
    qtbot.addWidget(secrets)
    secrets.panel.save_button.click()
    assert target.read_text().startswith("Sanctum recovery key\n\nABCD-EFGH")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "Saved to" in secrets.panel.note.text()
