"""Traces Sanctum must not leave on the computer: secrets on the clipboard, folder history in
Qt's plain-text settings."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

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
