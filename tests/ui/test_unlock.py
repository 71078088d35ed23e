"""The unlock screen: good and bad passphrase, bad code, back-off countdown, recovery paths."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt

from app.core.vault import Vault
from app.ui.main_window import PAGE_LIBRARY, PAGE_UNLOCK


def _try(qtbot, window, passphrase: str, code: str = "") -> None:
    page = window.unlock_page
    page.passphrase.setText(passphrase)
    page.code.setText(code)
    qtbot.waitUntil(lambda: page.unlock_button.isEnabled(), timeout=5000)
    page.unlock_button.click()
    qtbot.waitUntil(page.busy.isHidden, timeout=20_000)  # the attempt has ended: no spinner


def test_good_passphrase_and_code_unlock(qtbot, made_vault, make_window):
    session, window = make_window(made_vault.path)
    assert window.stack.currentIndex() == PAGE_UNLOCK
    assert window.unlock_page.code.isVisible()
    with qtbot.waitSignal(window.photos_loaded, timeout=20_000):
        _try(qtbot, window, made_vault.passphrase, made_vault.totp_code())
    assert session.is_unlocked
    assert window.stack.currentIndex() == PAGE_LIBRARY
    assert window.toolbar.isVisible()
    assert window.unlock_page.passphrase.text() == ""  # not kept around


def test_wrong_passphrase_says_so(qtbot, made_vault, make_window):
    session, window = make_window(made_vault.path)
    _try(qtbot, window, "not the passphrase", made_vault.totp_code())
    assert not session.is_unlocked
    assert "passphrase" in window.unlock_page.message.text().lower()
    assert window.stack.currentIndex() == PAGE_UNLOCK


def test_wrong_code_says_so(qtbot, made_vault, make_window):
    session, window = make_window(made_vault.path)
    right = made_vault.totp_code()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    _try(qtbot, window, made_vault.passphrase, wrong)
    assert not session.is_unlocked
    assert "code" in window.unlock_page.message.text().lower()
    # and a missing code is asked for without an attempt being counted
    window.unlock_page.passphrase.setText(made_vault.passphrase)
    window.unlock_page.code.setText("")
    window.unlock_page.unlock_button.click()
    assert "6-digit" in window.unlock_page.message.text()


def test_backoff_shows_a_countdown(qtbot, made_vault, make_window):
    session, window = make_window(made_vault.path)
    page = window.unlock_page
    for _ in range(3):
        if not page.unlock_button.isEnabled():
            break
        page.passphrase.setText("wrong passphrase")
        page.code.setText("123456")
        page.unlock_button.click()
        qtbot.waitUntil(page.busy.isHidden, timeout=20_000)  # the attempt has ended: no spinner
    qtbot.waitUntil(lambda: "try again in" in page.message.text(), timeout=5000)
    assert not page.unlock_button.isEnabled()
    first = page.message.text()
    seconds = lambda text: int(re.search(r"(\d+):(\d\d)", text).group(1)) * 60 + int(  # noqa: E731
        re.search(r"(\d+):(\d\d)", text).group(2))
    assert 20 <= seconds(first) <= 30
    qtbot.waitUntil(lambda: seconds(page.message.text()) < seconds(first), timeout=3000)
    # a fresh window on the same vault shows the same wait (it is persisted)
    session2, window2 = make_window(made_vault.path)
    assert "try again in" in window2.unlock_page.message.text()
    assert not window2.unlock_page.unlock_button.isEnabled()


def test_one_time_recovery_code_instead_of_authenticator(qtbot, made_vault, make_window):
    session, window = make_window(made_vault.path)
    page = window.unlock_page
    page.code_mode_link.click()
    assert "recovery code" in page.code_label.text()
    with qtbot.waitSignal(window.photos_loaded, timeout=20_000):
        _try(qtbot, window, made_vault.passphrase, made_vault.created.recovery_codes[0])
    assert session.is_unlocked


def test_recovery_key_then_new_passphrase(qtbot, made_vault, make_window):
    session, window = make_window(made_vault.path)
    page = window.unlock_page
    page.forgot_link.click()
    assert page.stack.currentIndex() == 1
    page.recovery_key.setPlainText("AAAA-BBBB")
    page.recover_button.click()
    qtbot.waitUntil(page.busy.isHidden, timeout=20_000)  # the attempt has ended: no spinner
    assert "recovery key" in page.message.text().lower()
    page.recovery_key.setPlainText(made_vault.created.recovery_key.lower())
    page.recover_button.click()
    qtbot.waitUntil(lambda: page.stack.currentIndex() == 2, timeout=20_000)
    new = "seven purple otters juggling"
    page.new_first.setText(new)
    page.new_second.setText(new)
    assert page.save_new_button.isEnabled()
    with qtbot.waitSignal(window.photos_loaded, timeout=20_000):
        page.save_new_button.click()
    assert session.is_unlocked
    session.lock()
    qtbot.waitUntil(lambda: session.state == "locked", timeout=5000)
    Vault.unlock(made_vault.path, new, totp_code=made_vault.totp_code(1)).lock()


def test_lock_then_unlock_again_in_the_same_process(qtbot, made_vault, make_window):
    """The vault's file lock, taken on a worker thread, must be released by lock()."""
    session, window = make_window(made_vault.path)
    with qtbot.waitSignal(window.photos_loaded, timeout=20_000):
        _try(qtbot, window, made_vault.passphrase, made_vault.totp_code())
    window.lock_action.trigger()
    qtbot.waitUntil(lambda: session.state == "locked", timeout=5000)
    with qtbot.waitSignal(window.photos_loaded, timeout=20_000):
        _try(qtbot, window, made_vault.passphrase, made_vault.totp_code(1))
    assert session.is_unlocked


def test_code_already_used_keeps_the_passphrase_and_asks_for_the_next_code(qtbot, made_vault, make_window):
    session, window = make_window(made_vault.path)
    page = window.unlock_page
    code = made_vault.totp_code()
    with qtbot.waitSignal(window.photos_loaded, timeout=20_000):
        _try(qtbot, window, made_vault.passphrase, code)
    window.lock_action.trigger()
    qtbot.waitUntil(lambda: session.state == "locked", timeout=5000)
    _try(qtbot, window, made_vault.passphrase, code)  # the same code again
    assert not session.is_unlocked
    assert "already used" in page.message.text()
    # the cursor waits in the code field; the passphrase is kept, not selected to be overwritten
    assert window.focusWidget() is page.code
    assert not page.passphrase.hasSelectedText() and page.passphrase.text() == made_vault.passphrase
    qtbot.keyClicks(page.code, made_vault.totp_code(1))
    with qtbot.waitSignal(window.photos_loaded, timeout=20_000):
        qtbot.keyClick(page.code, Qt.Key.Key_Return)
    assert session.is_unlocked


def test_a_wrong_passphrase_is_selected_to_type_again(qtbot, made_vault, make_window):
    session, window = make_window(made_vault.path)
    _try(qtbot, window, "not the passphrase", made_vault.totp_code())
    assert window.focusWidget() is window.unlock_page.passphrase
    assert window.unlock_page.passphrase.hasSelectedText()


def test_auto_lock_says_why_on_the_lock_screen(qtbot, made_vault, make_window):
    session, window = make_window(made_vault.path)
    with qtbot.waitSignal(window.photos_loaded, timeout=20_000):
        _try(qtbot, window, made_vault.passphrase, made_vault.totp_code())
    session.idle.start(120)  # the limit said is the one that applied
    session.idle.timed_out.emit()
    qtbot.waitUntil(lambda: session.state == "locked", timeout=5000)
    assert window.unlock_page.message.text().startswith("Locked after 2 minutes without use.")
    # a manual lock needs no explanation
    with qtbot.waitSignal(window.photos_loaded, timeout=20_000):
        _try(qtbot, window, made_vault.passphrase, made_vault.totp_code(1))
    window.lock_action.trigger()
    qtbot.waitUntil(lambda: session.state == "locked", timeout=5000)
    assert window.unlock_page.message.text().strip() == ""
