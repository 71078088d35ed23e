"""Starting the app: QApplication, the look, error hooks, and wizard vs unlock screen.

`run_gui()` is what `sanctum` / `python -m app` run with no arguments. With `--smoke-test`
(or SANCTUM_SMOKE_TEST=1) it opens the first window and quits after a second: the packaged
build's smoke test uses it. With SANCTUM_STARTUP_TRACE=1 it prints, on stderr, the wall-clock
time of the first window's first paint and of the first idle turn of the event loop after it
(the screen takes input): bench/startup.py measures the start time with them.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QtMsgType, Signal, qInstallMessageHandler
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox, QVBoxLayout, QWidget

from app.core.paths import default_vault_path

from .controllers.panic import PanicController
from .errors import describe, notifier
from .resources import app_icon, stylesheet
from .session import Session

if TYPE_CHECKING:
    from app.core import crypto

    from .main_window import MainWindow
    from .wizard import SetupWizard

log = logging.getLogger(__name__)


def apply_look(app: QApplication) -> None:
    """Fusion with a calm light palette, then the stylesheet for the finer points."""
    app.setStyle("Fusion")
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#f6f7f9",
        QPalette.ColorRole.WindowText: "#1d2733",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f0f2f5",
        QPalette.ColorRole.Text: "#1d2733",
        QPalette.ColorRole.Button: "#ffffff",
        QPalette.ColorRole.ButtonText: "#1d2733",
        QPalette.ColorRole.Highlight: "#5b6fd6",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#1d2733",
        QPalette.ColorRole.ToolTipText: "#ffffff",
        QPalette.ColorRole.PlaceholderText: "#7b8594",
        QPalette.ColorRole.Link: "#4456b8",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#9aa3ae"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#9aa3ae"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#9aa3ae"))
    app.setPalette(palette)
    app.setStyleSheet(stylesheet())
    app.setWindowIcon(app_icon())


_QT_LEVELS = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}
# A mailto: address carries a whole removal notice (name, email, addresses); a URL's query can
# carry a token. Qt quotes URLs it failed to open in full.
# Qt shows them decoded (spaces and all): a mailto: is cut to the closing quote or the line's end.
_PRIVATE_URL = re.compile(r"(mailto:)[^'\"\n]*|([a-z]+://[^\s'\"?]*\?)[^\s'\"]*", re.IGNORECASE)

qt_log = logging.getLogger("qt")


def qt_message_to_log(mode, _context, message: str) -> None:
    """Qt's own messages go to the log like everyone else's, without what a URL carries."""
    text = _PRIVATE_URL.sub(lambda m: (m.group(1) or m.group(2)) + "…", str(message))
    qt_log.log(_QT_LEVELS.get(mode, logging.WARNING), "%s", text)


class _ErrorBridge(QObject):
    """Carries uncaught exceptions from any thread to the UI thread (queued signal)."""

    raised = Signal(object)

    def __init__(self, show_dialogs: bool):
        super().__init__()
        self.show_dialogs = show_dialogs
        self.raised.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def _show(self, exc: BaseException) -> None:
        if not self.show_dialogs:
            return
        message = describe(exc)
        box = QMessageBox(QApplication.activeWindow())
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(message.title)
        box.setText(message.text)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()


def install_error_hooks(show_dialogs: bool = True) -> _ErrorBridge:
    bridge = _ErrorBridge(show_dialogs)
    notifier.set_sink(bridge.raised.emit)
    sys.excepthook = notifier.excepthook
    threading.excepthook = notifier.thread_excepthook
    return bridge


class UnlockWindow(QWidget):
    """The unlock screen on its own, shown at start: it opens without waiting for the main
    window, which is built while the passphrase is being checked and then takes its place.
    Later locks show the main window's own unlock page."""

    def __init__(self, session: Session, note: str = ""):
        super().__init__()
        from .unlock import UnlockPage

        self.setWindowTitle("Sanctum")
        self.setWindowIcon(app_icon())
        self.resize(1280, 820)  # the main window's size: it opens in the same place
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.unlock_page = UnlockPage(session)
        layout.addWidget(self.unlock_page)
        self.unlock_page.reset()
        if note:  # e.g. after a restore: how many photos came back
            self.unlock_page.show_note(note)


def load_vault_modules_in_background() -> None:
    """Import the vault (numpy, Pillow, SQLCipher, the ciphers: ~0.4 s) on a thread while the
    user types, so that pressing Unlock or Create does not wait for it. The first window shows
    without it (bench/startup.py); the core never imports Qt, so it may load off the UI thread.
    Should Unlock come first, its own import waits for this one (Python's import lock)."""
    if "app.core.vault" in sys.modules:
        return

    def load() -> None:
        try:
            import app.core.vault  # noqa: F401
        except Exception:  # noqa: BLE001 - the UI thread's own import reports it, where it is needed
            log.warning("could not load the vault modules in the background", exc_info=True)

    threading.Thread(target=load, name="sanctum-load-vault", daemon=True).start()


class _WhenIdleAfterPaint(QObject):
    """Calls `callback` once `window` has painted for the first time and the event loop has
    gone idle after it: the moment the window takes input."""

    def __init__(self, window: QWidget, callback) -> None:
        super().__init__(window)
        self._window = window
        self._callback = callback
        window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if watched is self._window and event.type() == QEvent.Type.Paint:
            self._window.removeEventFilter(self)
            QTimer.singleShot(0, self._callback)
        return False


class AppController(QObject):
    """Chooses the first window: the setup wizard when there is no vault, else the unlock screen.

    The main window (most of the UI: ~0.3 s to import and build) is not built before the first
    window shows: on a first run it waits until the vault exists; on an existing vault it is
    built when the unlock job starts, while the passphrase KDF runs on a worker thread, and
    replaces the unlock window once the vault is open (bench/startup.py)."""

    def __init__(self, vault_path: Path, kdf: crypto.KdfParams | None = None):
        super().__init__()
        self.session = Session(vault_path, kdf=kdf, parent=self)
        # Application-wide: the unlock window, the main window and every dialog, from the start.
        self.panic = PanicController(self.session, self, listen_to_system=True)
        self.window: MainWindow | None = None
        self.wizard: SetupWizard | None = None
        self.unlock_window: UnlockWindow | None = None

    def _main_window(self) -> MainWindow:
        if self.window is None:
            from .main_window import MainWindow

            self.window = MainWindow(self.session)
        return self.window

    def start(self) -> QWidget:
        first = self._first_window()
        _WhenIdleAfterPaint(first, load_vault_modules_in_background)
        first.show()
        return first

    def _first_window(self) -> QWidget:
        if self.session.status().exists:
            return self._unlock_window()
        from .wizard import SetupWizard

        self.wizard = SetupWizard(self.session, self.session.vault_path)
        self.wizard.vault_ready.connect(self._vault_created)
        self.wizard.vault_restored.connect(self._vault_restored)
        self.wizard.rejected.connect(self._wizard_cancelled)
        return self.wizard

    def _unlock_window(self, note: str = "") -> UnlockWindow:
        self.unlock_window = UnlockWindow(self.session, note)
        # Every way in (passphrase, recovery key or code) runs a job: the first job start
        # is the moment to build the main window, before `unlocked` which it listens to.
        self.session.jobs.job_started.connect(self._prepare_main_window)
        self.session.unlocked.connect(self._first_unlock)
        return self.unlock_window

    def _prepare_main_window(self, _job=None) -> None:
        self.session.jobs.job_started.disconnect(self._prepare_main_window)
        self._main_window()

    def _first_unlock(self) -> None:
        self.session.unlocked.disconnect(self._first_unlock)
        window = self.window
        if window is None:  # not reached: unlocking always starts a job first
            raise RuntimeError("the main window was not built before the vault was unlocked")
        unlock_window, self.unlock_window = self.unlock_window, None
        window.setGeometry(unlock_window.geometry())
        window.show()  # turns to the library itself: it listens to `unlocked` too
        unlock_window.close()
        unlock_window.deleteLater()

    def _vault_created(self, vault) -> None:
        window = self._main_window()  # before open(): it turns to the library on `unlocked`
        self.session.open(vault)
        window.show()
        self.wizard = None

    def _vault_restored(self, report) -> None:
        """The wizard restored a backup: its vault is locked, and opens like any other, on the
        unlock screen (with the authenticator code, when it has one)."""
        by_key = self.wizard is not None and self.wizard.restore_page.use_recovery_key
        self.session.vault_path = Path(report.vault)
        window = self._unlock_window(restored_note(report, self.session.status().totp_hint, by_key))
        if self.wizard is not None:
            window.move(self.wizard.pos())
        window.show()
        self.wizard = None

    def _wizard_cancelled(self) -> None:
        if self.window is None or not self.window.isVisible():
            self.session.shutdown()
            QApplication.quit()

    def shutdown(self) -> None:
        self.panic.shutdown()
        self.session.shutdown()


def restored_note(report, totp: bool, by_recovery_key: bool = False) -> str:
    """The unlock screen's line after a restore (`report`: app.core.backup.RestoreReport)."""
    photos = f"{report.photos} photo{'' if report.photos == 1 else 's'}"
    text = (f"Restored {photos} from the backup. Unlock with the passphrase the vault had"
            f"{' and a code from your authenticator app' if totp else ''}.")
    if by_recovery_key:  # who restored with the key may not know the passphrase: the key opens it too
        text += " Don't know it? “Forgot your passphrase?” opens it with the recovery key again."
    if report.problems:
        count = len(report.problems)
        text += (f" {count} file{' was' if count == 1 else 's were'} damaged in the backup: the photos "
                 "concerned will say so; every other one is whole.")
    return text


class StartupTrace(QObject):
    """Prints `sanctum-startup first-window T` at the first paint of `window` and
    `sanctum-startup ready T FOCUS` once the event loop has gone idle after it (T: time.time();
    FOCUS: the class of the widget that takes the keyboard, e.g. the passphrase field)."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self._window = window
        window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if watched is self._window and event.type() == QEvent.Type.Paint:
            self._window.removeEventFilter(self)
            self._mark("first-window")
            QTimer.singleShot(0, self._ready)  # runs once the events queued so far are done
        return False

    def _ready(self) -> None:
        # The window's own focus widget: without a window manager (Xvfb) no window is active,
        # so QApplication.focusWidget() would be None even though the field has the focus.
        focus = self._window.focusWidget()
        self._mark("ready", type(focus).__name__ if focus is not None else "none")

    @staticmethod
    def _mark(*what: str) -> None:
        import time

        print("sanctum-startup", what[0], f"{time.time():.6f}", *what[1:], file=sys.stderr, flush=True)


def run_gui(argv: list[str] | None = None, vault_path: Path | None = None) -> int:
    """Open the app on `vault_path` (default: $SANCTUM_VAULT, else the platform data folder)."""
    argv = list(sys.argv if argv is None else argv)
    smoke = "--smoke-test" in argv or os.environ.get("SANCTUM_SMOKE_TEST") == "1"
    argv = [a for a in argv if a != "--smoke-test"]
    logging.basicConfig(level=os.environ.get("SANCTUM_LOG", "WARNING").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    qInstallMessageHandler(qt_message_to_log)
    app = QApplication.instance() or QApplication(argv or ["sanctum"])
    app.setApplicationName("Sanctum")
    app.setOrganizationName("Sanctum")
    app.setDesktopFileName("sanctum")
    apply_look(app)
    bridge = install_error_hooks(show_dialogs=not smoke)
    controller = AppController(vault_path if vault_path is not None else default_vault_path())
    app.aboutToQuit.connect(controller.shutdown)
    first = controller.start()
    if os.environ.get("SANCTUM_STARTUP_TRACE") == "1":
        StartupTrace(first)
    if smoke:
        def finish() -> None:
            shown = first.isVisible()
            print(f"sanctum smoke test: {'ok' if shown else 'FAILED'} "
                  f"({type(first).__name__} shown, platform {app.platformName()}, "
                  f"vault {controller.session.vault_path})", flush=True)
            app.exit(0 if shown else 1)

        QTimer.singleShot(1000, finish)
    code = app.exec()
    del bridge
    return code
