"""A Qt app on a real X server for tests/ui/test_panic_system.py: either Sanctum's side (a text
field and the clipboard guard) or "another app" that copies something. It reads one command a
line on stdin and answers one line on stdout:

    copy-field        Ctrl+C's way: the text field's copy() (not through the guard)
    set TEXT          put TEXT on the clipboard (as any app would)
    clear             the guard's clear(), as on lock and panic
    read              print what the clipboard holds ("<empty>" if nothing)
    quit
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QSocketNotifier
from PySide6.QtWidgets import QApplication, QLineEdit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from app.ui.clipboard import SecretClipboard  # noqa: E402


def main() -> None:
    app = QApplication(["clipboard-app"])
    guard = SecretClipboard()
    field = QLineEdit("Alice Example, 12 Rose Street")
    board = QApplication.clipboard()

    def answer(text: str) -> None:
        print(text, flush=True)

    def command() -> None:
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            app.quit()
            return
        word, _, rest = line.rstrip("\n").partition(" ")
        if word == "copy-field":
            field.selectAll()
            field.copy()
            answer("owned" if board.ownsClipboard() else "not-owned")
        elif word == "set":
            board.setText(rest)
            answer("ok")
        elif word == "clear":
            guard.clear()
            answer("ok")
        elif word == "read":
            answer(board.text() or "<empty>")

    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(command)
    answer("ready")
    app.exec()


if __name__ == "__main__":
    main()
