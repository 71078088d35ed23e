"""A key combination that reaches Sanctum while another app is in front (the global panic shortcut).

pynput's `GlobalHotKeys` does the listening: on X11 through the RECORD extension, on Windows
through a low-level keyboard hook, on macOS through a Quartz event tap (the user must allow
"Input Monitoring" for Sanctum in System Settings). Wayland gives no app the keys pressed in
another one, by design: there it is not offered, and the settings say why.

Listening means seeing every key pressed on the computer. So it runs only while the vault is
unlocked (locked, there is nothing to lock), and only the chosen combination is matched: no
key is kept or logged.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str = ""  # why not, in words for the settings


def availability(platform_name: str | None = None, environ: dict[str, str] | None = None,
                 system: str = sys.platform) -> Availability:
    """Whether this platform lets Sanctum see a key pressed in another app, and if not why."""
    env = os.environ if environ is None else environ
    if system in ("win32", "darwin"):
        return Availability(True)
    name = QGuiApplication.platformName() if platform_name is None else platform_name
    if name == "wayland" or env.get("XDG_SESSION_TYPE") == "wayland" or (name != "xcb" and env.get("WAYLAND_DISPLAY")):
        return Availability(False, "Not available on Wayland: it lets no app see keys pressed in another "
                                   "app. Use the panic key inside Sanctum, or your desktop's own shortcut "
                                   "to lock the screen (Sanctum locks with it).")
    if name != "xcb":
        return Availability(False, "Not available here: Sanctum is not running on a desktop it can listen "
                                   f"to (display “{name}”).")
    return Availability(True)


class GlobalHotkey(QObject):
    """Emits `triggered` (on the UI thread) when `combo` (pynput's spelling, e.g.
    "<ctrl>+<shift>+<f12>") is pressed anywhere, between `start` and `stop`."""

    triggered = Signal()
    failed = Signal(str)  # the listener could not start: words for the settings

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._listener = None
        self.combo = ""

    @property
    def running(self) -> bool:
        return self._listener is not None

    def start(self, combo: str) -> bool:
        self.stop()
        if not combo:
            return False
        try:
            # pynput connects to the display when imported: not before it is needed.
            from pynput import keyboard

            # Called on pynput's thread: a signal crosses to the UI thread queued.
            listener = keyboard.GlobalHotKeys({combo: self.triggered.emit})
            listener.daemon = True
            # Not `wait()`ed for: it blocks for ever if the hook cannot be set up. A failure
            # there is logged by pynput's thread and the in-app panic key still works.
            listener.start()
        except Exception as exc:  # noqa: BLE001 - any failure: say it in the settings, go on
            log.warning("global shortcut unavailable: %s", type(exc).__name__)
            self.failed.emit("The shortcut could not be set up on this computer.")
            return False
        self._listener = listener
        self.combo = combo
        return True

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # Not joined: on X11 pynput's thread only sees the stop at the next key pressed on
            # the computer, and the lock must not wait for one. It is a daemon thread that
            # ends then, and listens to nothing more meanwhile.
            listener.stop()
