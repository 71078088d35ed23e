"""What the system tells Sanctum: a screen lock or sleep on a private D-Bus session bus (a real
dbus-daemon started here), and the global panic shortcut on a real X server (Xvfb, keys sent by
xdotool). Each is skipped, with the reason, where its program is not installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtDBus import QDBusConnection, QDBusMessage

from app.ui import settings
from app.ui.controllers.panic import PanicController
from app.ui.global_hotkey import GlobalHotkey, availability


@pytest.fixture
def private_bus():
    """A session bus of our own: (address, watcher's connection, sender's connection)."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (Debian: apt-get install dbus)")
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--print-address=1", "--nofork", "--nopidfile"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        address = daemon.stdout.readline().strip()
        watch = QDBusConnection.connectToBus(address, "sanctum-test-watch")
        send = QDBusConnection.connectToBus(address, "sanctum-test-send")
        assert watch.isConnected() and send.isConnected()
        yield watch, send
    finally:
        QDBusConnection.disconnectFromBus("sanctum-test-watch")
        QDBusConnection.disconnectFromBus("sanctum-test-send")
        daemon.terminate()
        daemon.wait(10)


def emit(bus, path: str, interface: str, name: str, *args) -> None:
    message = QDBusMessage.createSignal(path, interface, name)
    message.setArguments(list(args))
    assert bus.send(message)


@pytest.fixture
def controller(unlocked):
    session, _window, _made = unlocked
    made = PanicController(session)
    made.load_settings()
    yield made
    made.shutdown()
    made.deleteLater()


def test_sleep_locks_the_vault(qtbot, unlocked, controller, private_bus):
    session, _window, _ = unlocked
    watch, send = private_bus
    heard = controller.screen.watch(watch, watch)
    assert "org.freedesktop.login1.Manager.PrepareForSleep" in heard
    reasons = []
    controller.screen.screen_locked.connect(reasons.append)
    emit(send, "/org/freedesktop/login1", "org.freedesktop.login1.Manager", "PrepareForSleep", False)  # waking
    with qtbot.waitSignal(session.locked, timeout=10_000):
        emit(send, "/org/freedesktop/login1", "org.freedesktop.login1.Manager", "PrepareForSleep", True)
    assert reasons == ["sleep"]  # the wake-up signal, sent first, locked nothing
    assert session.vault is None


@pytest.mark.parametrize("interface, path", [("org.freedesktop.ScreenSaver", "/ScreenSaver"),
                                             ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver")])
def test_screen_saver_turning_on_locks_the_vault(qtbot, unlocked, controller, private_bus, interface, path):
    session, window, _ = unlocked
    watch, send = private_bus
    controller.screen.watch(watch, watch)
    with qtbot.waitSignal(session.locked, timeout=10_000):
        emit(send, path, interface, "ActiveChanged", True)
    assert window.viewer.canvas.pixmap is None


def test_login1_session_lock_locks_and_the_setting_can_turn_it_off(qtbot, unlocked, controller, private_bus):
    session, _window, _ = unlocked
    watch, send = private_bus
    controller.screen.watch(watch, watch)
    settings.write(settings.LOCK_ON_SCREEN_LOCK, False)
    session.settings_changed.emit()
    with qtbot.waitSignal(controller.screen.screen_locked, timeout=10_000):
        emit(send, "/org/freedesktop/login1/session/_32", "org.freedesktop.login1.Session", "Lock")
    assert session.is_unlocked  # heard, and left alone as asked
    settings.write(settings.LOCK_ON_SCREEN_LOCK, True)
    session.settings_changed.emit()
    with qtbot.waitSignal(session.locked, timeout=10_000):
        emit(send, "/org/freedesktop/login1/session/_32", "org.freedesktop.login1.Session", "Lock")


# --- the global shortcut ------------------------------------------------------------------------


def test_where_the_global_shortcut_is_offered():
    assert availability("xcb", {}, "linux").available
    assert availability("windows", {}, "win32").available
    assert availability("cocoa", {}, "darwin").available
    wayland = availability("wayland", {"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not wayland.available and "Wayland" in wayland.reason
    # Qt on XWayland in a Wayland session: X11 apps' keys only, so not offered either.
    assert not availability("xcb", {"XDG_SESSION_TYPE": "wayland"}, "linux").available
    offscreen = availability("offscreen", {}, "linux")
    assert not offscreen.available and "offscreen" in offscreen.reason


@pytest.fixture
def x_display():
    """A real X server (Xvfb) on a free display number; DISPLAY points to it."""
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        pytest.skip("Xvfb and xdotool are needed (Debian: apt-get install xvfb xdotool)")
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "640x480x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as numbers:
        display = ":" + numbers.readline().strip()
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    try:
        yield display
    finally:
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old
        server.terminate()
        server.wait(10)


def test_global_shortcut_is_heard_from_another_app_on_x11(qtbot, x_display):
    pytest.importorskip("pynput", reason="pynput is not installed")
    hotkey = GlobalHotkey()
    assert hotkey.start("<ctrl>+<shift>+<f12>")
    heard = []
    hotkey.triggered.connect(lambda: heard.append(True))
    env = {**os.environ, "DISPLAY": x_display}

    def pressed() -> bool:
        # xdotool is the other app. The listener hooks in on its own thread: until then a press
        # is not seen, so press again until one is.
        subprocess.run(["xdotool", "key", "ctrl+shift+F12"], env=env, check=True)
        qtbot.wait(50)
        return bool(heard)

    try:
        qtbot.waitUntil(pressed, timeout=10_000)
        with qtbot.waitSignal(hotkey.triggered, timeout=10_000):  # and again, once hooked in
            subprocess.run(["xdotool", "key", "ctrl+shift+F12"], env=env, check=True)
    finally:
        hotkey.stop()
    assert not hotkey.running
    from pynput import keyboard

    def listener_gone() -> bool:
        # Stopping does not wait: on X11 the listener's thread ends at the next key pressed.
        subprocess.run(["xdotool", "key", "shift"], env=env, check=True)
        qtbot.wait(50)
        return not any(isinstance(t, keyboard.GlobalHotKeys) for t in threading.enumerate())

    qtbot.waitUntil(listener_gone, timeout=10_000)  # before the X server goes


# --- Ctrl+C in a Sanctum field, on a real X11 clipboard -----------------------------------------


class ClipboardApp:
    """tests/ui/clipboard_app.py in its own process on the X server: one command, one answer."""

    def __init__(self, display: str):
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
        script = Path(__file__).with_name("clipboard_app.py")
        self.process = subprocess.Popen([sys.executable, str(script)], env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.ask(None) == "ready"

    def ask(self, command: str | None) -> str:
        if command is not None:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def close(self) -> None:
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        self.process.wait(20)


def test_text_copied_from_a_sanctum_field_leaves_on_lock_and_another_apps_copy_stays(x_display):
    sanctum, other = ClipboardApp(x_display), ClipboardApp(x_display)
    try:
        if sanctum.ask("copy-field") != "owned":
            pytest.skip("Qt's xcb platform did not take the X11 clipboard here")
        assert other.ask("read") == "Alice Example, 12 Rose Street"  # on the system clipboard
        sanctum.ask("clear")
        assert other.ask("read") == "<empty>"
        sanctum.ask("copy-field")
        other.ask("set a shopping list")  # copied in another app after Sanctum's copy
        assert sanctum.ask("read") == "a shopping list"
        sanctum.ask("clear")
        assert other.ask("read") == "a shopping list"
    finally:
        sanctum.close()
        other.close()
