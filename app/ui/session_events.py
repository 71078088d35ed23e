"""The screen locked or the computer is going to sleep: what the system tells apps about it.

Linux, through D-Bus (QtDBus):
- the system bus: systemd-logind's `org.freedesktop.login1.Manager.PrepareForSleep(true)`
  (suspend and hibernate) and `org.freedesktop.login1.Session.Lock` (`loginctl lock-session`,
  and most desktops' lock screens);
- the session bus: `ActiveChanged(true)` of `org.freedesktop.ScreenSaver` (KDE, Xfce, LXQt and
  others) and of `org.gnome.ScreenSaver` (GNOME, Cinnamon).

Signals are matched by interface and name from any sender and object path: a lock screen's
object path differs between desktops, and a login1 `Lock` may name another session of the same
user (`loginctl lock-sessions` locks them all). Anyone on the bus can send such a signal; the
worst it can do is lock the vault, never open it.

Windows (WM_WTSSESSION_CHANGE, WM_POWERBROADCAST) and macOS (NSWorkspace notifications) are
not done yet: the user guide says so.
"""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import SLOT, QObject, Signal, Slot

log = logging.getLogger(__name__)

#: (interface, signal, the watcher's slot that hears it)
SYSTEM_SIGNALS = (("org.freedesktop.login1.Manager", "PrepareForSleep", "_sleep(bool)"),
                  ("org.freedesktop.login1.Session", "Lock", "_locked()"))
SESSION_SIGNALS = (("org.freedesktop.ScreenSaver", "ActiveChanged", "_screen_saver(bool)"),
                   ("org.gnome.ScreenSaver", "ActiveChanged", "_screen_saver(bool)"))


def supported(system: str = sys.platform) -> bool:
    """Whether this platform's screen-lock and sleep notices are listened to."""
    return system.startswith("linux") or system.startswith("freebsd")


class ScreenLockWatcher(QObject):
    """Emits `screen_locked("sleep" | "screen")` when the system says the screen locked or the
    computer is about to sleep. `watch()` with no argument listens on the real system and
    session buses; tests pass connections to a private bus."""

    screen_locked = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.listening: list[str] = []  # "interface.signal" of every match in place

    def watch(self, system_bus=None, session_bus=None) -> list[str]:
        if system_bus is None and session_bus is None:
            if not supported():
                return []
            try:
                from PySide6.QtDBus import QDBusConnection
            except ImportError:  # a Qt without its D-Bus module: the panic key still works
                log.warning("cannot listen for screen lock and sleep: Qt's D-Bus module is missing")
                return []
            system_bus, session_bus = QDBusConnection.systemBus(), QDBusConnection.sessionBus()
        for bus, signals in ((system_bus, SYSTEM_SIGNALS), (session_bus, SESSION_SIGNALS)):
            if bus is None or not bus.isConnected():
                continue  # no such bus here (a container, a minimal desktop): nothing to hear
            for interface, name, slot in signals:
                if bus.connect("", "", interface, name, self, SLOT(slot)):
                    self.listening.append(f"{interface}.{name}")
                else:
                    log.info("cannot listen to %s.%s", interface, name)
        return self.listening

    @Slot(bool)
    def _sleep(self, going_to_sleep: bool) -> None:
        if going_to_sleep:  # false: waking up, nothing to do
            self.screen_locked.emit("sleep")

    @Slot()
    def _locked(self) -> None:
        self.screen_locked.emit("screen")

    @Slot(bool)
    def _screen_saver(self, active: bool) -> None:
        if active:
            self.screen_locked.emit("screen")
