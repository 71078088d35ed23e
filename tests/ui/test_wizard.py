"""The setup wizard, end to end, on a real vault in tmp_path."""

from __future__ import annotations

import pyotp
import pytest
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QWizard

from app.core.vault import Vault
from app.ui import dialogs
from app.ui.secrets_panel import KEY_FONTS
from app.ui.session import Session
from app.ui.wizard import PAGE_DONE, PAGE_PASSPHRASE, PAGE_RECOVERY, PAGE_TOTP, SetupWizard

from .conftest import FAST_KDF, PASSPHRASE


@pytest.fixture
def wizard(qtbot, tmp_path):
    session = Session(tmp_path / "vault", kdf=FAST_KDF)
    wizard = SetupWizard(session, tmp_path / "vault")
    qtbot.addWidget(wizard)
    wizard.show()
    yield wizard, session
    session.shutdown()
    session.idle.uninstall()


def _to_totp_page(qtbot, wizard: SetupWizard) -> None:
    assert wizard.location_page.isComplete()
    wizard.next()
    assert wizard.currentId() == PAGE_PASSPHRASE
    page = wizard.passphrase_page
    page.first.setText("password")
    page.second.setText("password")
    assert not page.isComplete(), "a common password must not be accepted"
    page.first.setText(PASSPHRASE)
    page.second.setText(PASSPHRASE[:-1])
    assert not page.isComplete(), "the confirmation must match"
    page.second.setText(PASSPHRASE)
    assert page.isComplete()
    assert page.meter.value() >= 2
    wizard.next()  # creates the vault in a worker
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_TOTP, timeout=20_000)


def test_wizard_end_to_end_with_authenticator(qtbot, wizard, tmp_path, monkeypatch):
    wizard, session = wizard
    _to_totp_page(qtbot, wizard)
    totp_page = wizard.totp_page
    assert totp_page.qr.pixmap() is not None and not totp_page.qr.pixmap().isNull()
    secret = wizard.created.created.totp.secret
    assert secret.replace(" ", "")[:4] in totp_page.secret.text().replace(" ", "")
    totp_page.code.setText("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert not totp_page.isComplete(), "a wrong code must not let the user go on"
    totp_page.code.setText(pyotp.TOTP(secret).now())
    assert totp_page.isComplete()
    wizard.next()
    assert wizard.currentId() == PAGE_RECOVERY
    recovery = wizard.recovery_page.panel
    key = recovery.key_label.text()
    assert key.count("-") >= 10
    assert not wizard.recovery_page.isComplete()
    # "Save as text" writes exactly the key and the codes where the user chose
    saved = tmp_path / "key.txt"
    monkeypatch.setattr(dialogs, "save_file", lambda *a, **k: str(saved))
    recovery.save_button.click()
    text = saved.read_text()
    assert key in text and wizard.created.created.recovery_codes[0] in text
    recovery.qr_button.click()
    assert recovery.qr.isVisible() and not recovery.qr.pixmap().isNull()
    wizard.recovery_page.confirm_box.setChecked(True)
    wizard.next()
    assert wizard.currentId() == PAGE_DONE
    assert not wizard.button(QWizard.WizardButton.BackButton).isVisible()  # the vault exists: no way back
    assert not wizard.button(QWizard.WizardButton.CancelButton).isVisible()
    with qtbot.waitSignal(wizard.vault_ready, timeout=5000) as blocker:
        wizard.accept()
    vault = blocker.args[0]
    session.open(vault)
    assert session.is_unlocked and vault.count() == 0
    assert Vault.status(tmp_path / "vault").totp_hint
    # the recovery key really opens the vault
    session.lock()
    qtbot.waitUntil(lambda: session.state == "locked", timeout=5000)
    Vault.recover(tmp_path / "vault", key).lock()


def test_skipping_authenticator_needs_the_warning(qtbot, wizard, tmp_path, monkeypatch):
    wizard, session = wizard
    _to_totp_page(qtbot, wizard)
    first_key = wizard.created.created.recovery_key
    asked = []
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: asked.append(a[2]) or False)
    wizard.totp_page.skip.click()
    assert asked and "passphrase" in asked[0]
    assert wizard.currentId() == PAGE_TOTP  # declined: nothing changed
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: True)
    wizard.totp_page.skip.click()
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_RECOVERY, timeout=20_000)
    created = wizard.created.created
    assert created.totp is None and created.recovery_key != first_key
    assert not Vault.status(tmp_path / "vault").totp_hint
    assert "One-time codes" not in wizard.recovery_page.panel.codes_label.text()
    wizard.recovery_page.confirm_box.setChecked(True)
    wizard.next()
    with qtbot.waitSignal(wizard.vault_ready, timeout=5000) as blocker:
        wizard.accept()
    blocker.args[0].lock()
    Vault.unlock(tmp_path / "vault", PASSPHRASE).lock()  # no code needed


def test_skip_warning_says_the_authenticator_is_a_gate_not_a_key(qtbot, wizard, monkeypatch):
    """The threat model: TOTP stops someone with the passphrase in the app, not someone with the
    passphrase and a copy of the folder. The warning and the page must not promise more."""
    wizard, session = wizard
    _to_totp_page(qtbot, wizard)
    asked = []
    monkeypatch.setattr(dialogs, "confirm",
                        lambda *a, **k: asked.append((a[2], k.get("informative", ""))) or False)
    wizard.totp_page.skip.click()
    text, informative = asked[0]
    said = f"{wizard.totp_page.subTitle()} {text} {informative}"
    assert "in Sanctum" in text, "the risk of skipping is opening the vault in the app"
    assert "not part of the encryption" in informative
    assert "copy of the vault folder" in informative and "without your phone" in informative
    assert "cannot open the vault" not in said and "cannot open" not in said


def test_cancel_after_creation_removes_the_empty_vault(qtbot, wizard, tmp_path, monkeypatch):
    wizard, session = wizard
    _to_totp_page(qtbot, wizard)
    assert (tmp_path / "vault" / "vault.json").exists()
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: True)
    wizard.reject()
    assert not (tmp_path / "vault").exists()


def test_location_page_refuses_a_non_empty_folder(qtbot, wizard, tmp_path):
    wizard, session = wizard
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "something.txt").write_text("x")
    wizard.location_page.path_edit.setText(str(busy))
    assert not wizard.location_page.isComplete()
    assert "not empty" in wizard.location_page.problem.text()


def test_recovery_key_leaves_the_clipboard_after_the_wizard_is_gone(qtbot, tmp_path):
    """The clearing timer belongs to the session: closing (and deleting) the wizard right after
    copying must not leave the recovery key on the clipboard; the copy is marked as a secret."""
    from PySide6.QtGui import QGuiApplication

    from app.ui import clipboard as secret_clipboard

    session = Session(tmp_path / "vault", kdf=FAST_KDF)
    # Not given to qtbot: this test deletes it, as the app drops a finished wizard.
    wizard = SetupWizard(session, tmp_path / "vault")
    wizard.show()
    _to_totp_page(qtbot, wizard)
    wizard.totp_page.code.setText(pyotp.TOTP(wizard.created.created.totp.secret).now())
    wizard.next()
    assert wizard.currentId() == PAGE_RECOVERY
    session.clipboard.clear_ms = 300
    key = wizard.recovery_page.panel.key_label.text()
    wizard.recovery_page.panel.copy_button.click()
    board = QGuiApplication.clipboard()
    assert key in board.text()
    mime = board.mimeData()
    assert bytes(mime.data(secret_clipboard.KDE_SECRET_HINT)) == b"secret"
    for name in secret_clipboard.WINDOWS_HINTS:
        assert mime.hasFormat(name), name
    assert mime.hasFormat(secret_clipboard.MAC_CONCEALED_MIME)
    wizard.recovery_page.confirm_box.setChecked(True)
    wizard.next()
    with qtbot.waitSignal(wizard.vault_ready, timeout=5000) as blocker:
        wizard.accept()
    session.open(blocker.args[0])
    wizard.deleteLater()  # what the app does with a finished wizard: its page timers die here
    try:
        with qtbot.waitSignal(session.clipboard.cleared, timeout=3000):
            pass
        assert key not in board.text()
    finally:
        session.shutdown()
        session.idle.uninstall()


def test_keys_read_by_eye_use_a_font_with_a_distinct_zero(qtbot, wizard, monkeypatch):
    wizard, session = wizard
    _to_totp_page(qtbot, wizard)
    page = wizard.totp_page
    # a font whose 0 is slashed or dotted really draws the key (not a fallback where O = 0)
    assert QFontInfo(page.secret.font()).family() in KEY_FONTS
    assert "never a zero" in page.secret_hint.text() and page.secret_hint.isVisible()
    assert set(page.secret.text().replace(" ", "")) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert QFontInfo(wizard.recovery_page.panel.key_label.font()).family() in KEY_FONTS
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: True)
    wizard.reject()  # closes and removes the new vault (an open one would hold the process at exit)
