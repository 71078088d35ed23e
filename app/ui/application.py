"""Starting the app: QApplication, the look, error hooks, and wizard vs unlock screen.

`run_gui()` is what `sanctum` / `python -m app` run with no arguments. With `--smoke-test`
(or SANCTUM_SMOKE_TEST=1) it opens the first window and quits after a second: the packaged
build's smoke test uses it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.core import crypto
from app.core.vault import default_vault_path

from .errors import describe, notifier
from .main_window import MainWindow
from .resources import app_icon, stylesheet
from .session import Session
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


class AppController(QObject):
    """Chooses the first window: the setup wizard when there is no vault, else the unlock screen."""

    def __init__(self, vault_path: Path, kdf: crypto.KdfParams | None = None):
        super().__init__()
        self.session = Session(vault_path, kdf=kdf, parent=self)
        self.window = MainWindow(self.session)
        self.wizard: SetupWizard | None = None

    def start(self) -> QWidget:
        if self.session.status().exists:
            self.window.show()
            return self.window
        self.wizard = SetupWizard(self.session, self.session.vault_path)
        self.wizard.vault_ready.connect(self._vault_created)
        self.wizard.rejected.connect(self._wizard_cancelled)
        self.wizard.show()
        return self.wizard

    def _vault_created(self, vault) -> None:
        self.session.open(vault)
        self.window.show()
        self.wizard = None

    def _wizard_cancelled(self) -> None:
        if not self.window.isVisible():
            self.session.shutdown()
            QApplication.quit()

    def shutdown(self) -> None:
        self.session.shutdown()


def run_gui(argv: list[str] | None = None, vault_path: Path | None = None) -> int:
    """Open the app on `vault_path` (default: $SANCTUM_VAULT, else the platform data folder)."""
    argv = list(sys.argv if argv is None else argv)
    smoke = "--smoke-test" in argv or os.environ.get("SANCTUM_SMOKE_TEST") == "1"
    argv = [a for a in argv if a != "--smoke-test"]
    logging.basicConfig(level=os.environ.get("SANCTUM_LOG", "WARNING").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(argv or ["sanctum"])
    app.setApplicationName("Sanctum")
    app.setOrganizationName("Sanctum")
    app.setDesktopFileName("sanctum")
    apply_look(app)
    bridge = install_error_hooks(show_dialogs=not smoke)
    controller = AppController(vault_path if vault_path is not None else default_vault_path())
    app.aboutToQuit.connect(controller.shutdown)
    first = controller.start()
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
