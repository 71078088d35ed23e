"""Panic lock: one key press, from any Sanctum window or dialog (a configurable global shortcut
from other apps too), and everything goes at once.

What a panic does, in this order:
1. the session locks (`Session.lock("panic")`, as Ctrl+L): the screen is cleared and the unlock
   screen shown now, running jobs are cancelled, and the keys are dropped as soon as the last
   job has stopped — nothing here waits for a job;
2. every dialog, file dialog, menu and tooltip closes, modal ones included (a dialog's
   `close_for_lock` wipes the photos it holds first);
3. what Sanctum put on the clipboard leaves it (`SecretClipboard.clear`), and only that;
4. optionally, Sanctum's windows are hidden behind a blank "Untitled" window (`neutral_window`).

The screen locking or the computer going to sleep locks too (steps 1 and 2), where the system
says so (`session_events`).

The key is watched by an application event filter: it sees keys on their way to every window,
including a modal dialog's, before any shortcut of Sanctum's. It looks at `ShortcutOverride` on
a `QWindow`, which Qt sends once per key press before shortcuts and key presses (a widget sees
the same event again as it travels up to its parents).
"""

from __future__ import annotations

import logging
import time

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QApplication, QDialog, QToolTip, QWidget

from .. import settings
from ..global_hotkey import GlobalHotkey, availability
from ..neutral_window import NeutralWindow
from ..session import Session
from ..session_events import ScreenLockWatcher

log = logging.getLogger(__name__)

_KEY_EVENTS = frozenset({QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress})
_SINGLE_KEYS = {"f12": Qt.Key.Key_F12, "pause": Qt.Key.Key_Pause}
#: Escape twice within this many seconds: quick enough under pressure, rare by accident.
ESCAPE_TWICE_SECONDS = 0.6


class PanicKeyFilter(QObject):
    """Emits `pressed` when the panic key (`choice`, a `settings.PANIC_KEY` value) is pressed in
    any window of the app."""

    pressed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.choice: str = settings.PANIC_KEY.default
        self.clock = time.monotonic  # seconds; tests put a clock they move by hand here
        self._escape_at: float | None = None
        self._swallow: int | None = None  # the panic key's own KeyPress, which follows
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        # Runs for every event in the app: one set lookup before anything else.
        if event.type() not in _KEY_EVENTS or not isinstance(obj, QWindow):
            return False
        if event.type() == QEvent.Type.KeyPress:
            if self._swallow is not None and event.key() == self._swallow:
                self._swallow = None
                return True
            return False
        if event.isAutoRepeat() or not self._is_panic(event.key(), event.modifiers()):
            return False
        # Accepted: no shortcut of Sanctum's acts on this key (Escape closes the viewer, say).
        event.accept()
        self._swallow = event.key()
        self.pressed.emit()
        return True

    def _is_panic(self, key: int, modifiers: Qt.KeyboardModifier) -> bool:
        if self.choice != "escape-twice":
            return key == _SINGLE_KEYS.get(self.choice)
        if key != Qt.Key.Key_Escape or modifiers != Qt.KeyboardModifier.NoModifier:
            self._escape_at = None  # another key in between: not "twice"
            return False
        now = self.clock()
        if self._escape_at is not None and now - self._escape_at <= ESCAPE_TWICE_SECONDS:
            self._escape_at = None
            return True
        self._escape_at = now  # the first one does what Escape does (closes a dialog)
        return False

    def uninstall(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)


def close_every_dialog() -> None:
    """Close every dialog, file dialog, menu and tooltip of the app, modal ones included: an
    `exec()` waiting on one returns as if cancelled."""
    QToolTip.hideText()
    for _ in range(16):  # a menu opened from a menu: each close reveals the next
        popup = QApplication.activePopupWidget()
        if popup is None:
            break
        popup.close()
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            getattr(widget, "close_for_lock", widget.reject)()


class PanicController(QObject):
    """Owns the panic key, the global shortcut, the screen-lock watcher and the blank window."""

    panicked = Signal()

    def __init__(self, session: Session, parent: QObject | None = None, *, listen_to_system: bool = False):
        super().__init__(parent)
        self.session = session
        self.neutral_window = settings.PANIC_NEUTRAL_WINDOW.default
        self.lock_on_screen_lock = settings.LOCK_ON_SCREEN_LOCK.default
        self.global_shortcut = settings.PANIC_GLOBAL_SHORTCUT.default
        self.key = PanicKeyFilter(self)
        self.key.pressed.connect(self.panic)
        self.hotkey = GlobalHotkey(self)
        self.hotkey.triggered.connect(self.panic)
        self.screen = ScreenLockWatcher(self)
        self.screen.screen_locked.connect(self._screen_locked)
        if listen_to_system:
            self.screen.watch()
        self.neutral: NeutralWindow | None = None
        self._hidden: list[QWidget] = []
        session.unlocked.connect(self.load_settings)
        session.settings_changed.connect(self.load_settings)
        # Locked, there is nothing to lock: no reason to watch keys pressed in other apps.
        session.locking.connect(lambda _reason: self.hotkey.stop())

    def load_settings(self) -> None:
        """The preferences live in the vault: read at unlock and whenever Settings saves."""
        if not self.session.is_unlocked:
            return
        self.key.choice = settings.read(settings.PANIC_KEY)
        self.neutral_window = bool(settings.read(settings.PANIC_NEUTRAL_WINDOW))
        self.lock_on_screen_lock = bool(settings.read(settings.LOCK_ON_SCREEN_LOCK))
        self.global_shortcut = settings.read(settings.PANIC_GLOBAL_SHORTCUT)
        if self.global_shortcut and availability().available:
            if not self.hotkey.running or self.hotkey.combo != self.global_shortcut:
                self.hotkey.start(self.global_shortcut)
        else:
            self.hotkey.stop()

    def panic(self) -> None:
        log.info("panic lock")
        self.session.lock("panic")
        close_every_dialog()
        # Already done by the lock when the vault was open; the clipboard may hold a copy made
        # on the unlock screen (or a panic pressed twice): again, at no cost.
        self.session.clipboard.clear()
        self.session.clipboard.clear_selection()
        if self.neutral_window:
            self.switch_to_neutral()
        self.panicked.emit()

    def _screen_locked(self, what: str) -> None:
        if self.lock_on_screen_lock and self.session.is_unlocked:
            log.info("locking: the %s", "computer is going to sleep" if what == "sleep" else "screen locked")
            self.session.lock(what)
            close_every_dialog()

    # --- the blank window ---------------------------------------------------------------------

    def switch_to_neutral(self) -> None:
        """Hide every Sanctum window behind the blank one, in the place of the first."""
        if self.neutral is None:
            self.neutral = NeutralWindow()
            self.neutral.restore_requested.connect(self.restore_from_neutral)
        shown = [w for w in QApplication.topLevelWidgets()
                 if w.isVisible() and w is not self.neutral
                 and w.windowType() not in (Qt.WindowType.Popup, Qt.WindowType.ToolTip)]
        self.neutral.cover(shown[0].geometry() if shown else None)  # before hiding: never no window
        for widget in shown:
            widget.hide()
        self._hidden += shown

    def restore_from_neutral(self) -> None:
        """Ctrl+L in the blank window: Sanctum's windows (the unlock screen) come back."""
        hidden, self._hidden = self._hidden, []
        for widget in hidden:
            if shiboken6.isValid(widget):
                widget.show()
                widget.raise_()
                widget.activateWindow()
        if self.neutral is not None:
            self.neutral.editor.clear()
            self.neutral.hide()

    def shutdown(self) -> None:
        self.hotkey.stop()
        self.key.uninstall()
        if self.neutral is not None:
            self.neutral.close()
            self.neutral.deleteLater()
            self.neutral = None
