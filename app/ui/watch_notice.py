"""Telling the user a watched place showed a new copy of one of their photos.

A notification can appear on a lock screen or over someone's shoulder: it says only that a new
copy was found, never which photo, where, or any picture. Where the desktop has a system tray
the message goes there; the in-app banner above the window's pages shows either way (the tray
message fades, the banner stays until the user looks or the vault locks).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSystemTrayIcon, QWidget

from .resources import app_icon

NOTICE_TITLE = "Sanctum"
NOTICE_TEXT = "Sanctum found a new copy of one of your photos"

_STYLE = ("QFrame#watchBanner { background: #fdf6ea; border-bottom: 1px solid #eed5ad; }"
          "QLabel#watchBannerText { color: #6b3a06; font-weight: 600; }")


class WatchBanner(QFrame):
    """The in-app line: the notice's words, "Show" (the Leaks view) and "Dismiss"."""

    show_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("watchBanner")
        self.setStyleSheet(_STYLE)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        self.text = QLabel(NOTICE_TEXT + ".")
        self.text.setObjectName("watchBannerText")
        layout.addWidget(self.text, 1)
        self.show_button = QPushButton("Show")
        self.show_button.setObjectName("watchBannerShow")
        self.show_button.clicked.connect(self._show)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setObjectName("watchBannerDismiss")
        self.dismiss_button.clicked.connect(self.hide)
        layout.addWidget(self.show_button)
        layout.addWidget(self.dismiss_button)
        self.hide()

    def announce(self, count: int) -> None:
        self.text.setText(NOTICE_TEXT + "." if count == 1 else f"Sanctum found {count} new copies of your photos.")
        self.show()

    def _show(self) -> None:
        self.hide()
        self.show_requested.emit()


class WatchNotifier(QObject):
    """Connects the session's watch scheduler to the tray (where there is one) and the banner."""

    notified = Signal(str)  # the words shown (tests wait on it)

    def __init__(self, session, banner: WatchBanner, show_leaks: Callable[[], None], parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.banner = banner
        self.tray: QSystemTrayIcon | None = None
        banner.show_requested.connect(show_leaks)
        session.watch.new_copies.connect(self._new_copies)
        session.locking.connect(self._locking)

    def _new_copies(self, ids: list[int]) -> None:
        if not self.session.is_unlocked or not ids:
            return
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self.tray is None:
                self.tray = QSystemTrayIcon(app_icon(), self)
                self.tray.setToolTip(NOTICE_TITLE)
            self.tray.show()
            # The same words whatever was found: no photo, no address, no count of anything else.
            self.tray.showMessage(NOTICE_TITLE, NOTICE_TEXT, QSystemTrayIcon.MessageIcon.Information, 15_000)
        self.banner.announce(len(ids))
        self.notified.emit(self.banner.text.text())

    def _locking(self, _reason: str) -> None:
        self.banner.hide()
        if self.tray is not None:
            self.tray.hide()
