"""What every controller of the main window shares: the window it works for and its session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

if TYPE_CHECKING:
    from ..main_window import MainWindow


class WindowController(QObject):
    """A part of the main window's behaviour; lives as long as the window (its Qt child)."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.session = window.session

    def show_status(self, text: str, timeout_ms: int) -> None:
        self.window.statusBar().showMessage(text, timeout_ms)
