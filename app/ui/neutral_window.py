"""The blank window a panic lock may switch to: an empty text window titled "Untitled".

Why this and not minimising: a minimised Sanctum still sits in the taskbar under its name and
icon, and its unlock screen says "Sanctum" the moment someone clicks it. Someone who walks in
should see an ordinary, empty window that invites no question. It shows nothing of Sanctum:
no name, no icon of its own (the platform's plain file icon), no text. The user can type in it
(nothing is kept); Ctrl+L brings Sanctum's unlock screen back; closing it quits Sanctum, since
the vault is already locked.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QPlainTextEdit, QStyle, QWidget

TITLE = "Untitled"


class NeutralWindow(QMainWindow):
    restore_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("neutralWindow")
        self.setWindowTitle(TITLE)
        # An explicit plain icon: without one the window would take the app's (Sanctum's).
        self.setWindowIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon))
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("neutralText")
        self.editor.setFrameShape(QPlainTextEdit.Shape.NoFrame)
        self.setCentralWidget(self.editor)
        restore = QShortcut(QKeySequence("Ctrl+L"), self)
        restore.setContext(Qt.ShortcutContext.WindowShortcut)
        restore.activated.connect(self.restore_requested)

    def cover(self, geometry) -> None:
        """Show in the place of the window it replaces (a window swapped in the same spot)."""
        self.editor.clear()
        if geometry is not None and geometry.isValid():
            self.setGeometry(geometry)
        self.show()
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt name
        self.editor.clear()  # what was typed to look busy is kept nowhere
        super().closeEvent(event)
