"""Settings > Backup: the backup folder, Back up now (with progress and Stop), Verify, the
automatic backup and a status line. The work and the status live in the session's
BackupScheduler (app/ui/backup_scheduler.py), so closing Settings stops nothing."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from . import dialogs, settings
from .backup_scheduler import BackupScheduler, when
from .session import Session


def _muted(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setProperty("muted", True)
    return label


class BackupSection(QWidget):
    def __init__(self, session: Session, scheduler: BackupScheduler, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("backupSection")
        self.session = session
        self.scheduler = scheduler
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Backup")
        title.setStyleSheet("font-weight: 600; margin-top: 8px;")
        layout.addWidget(title)

        folder_row = QHBoxLayout()
        self.folder = QLineEdit(scheduler.folder())
        self.folder.setObjectName("backupFolder")
        self.folder.setReadOnly(True)
        self.folder.setPlaceholderText("No backup folder chosen")
        folder_row.addWidget(self.folder, 1)
        self.choose = QPushButton("Choose…")
        self.choose.setObjectName("chooseBackupFolder")
        self.choose.clicked.connect(self.choose_folder)
        folder_row.addWidget(self.choose)
        layout.addLayout(folder_row)

        buttons = QHBoxLayout()
        self.back_up_button = QPushButton("Back up now")
        self.back_up_button.setObjectName("backUpNow")
        self.back_up_button.clicked.connect(lambda: self.scheduler.back_up())
        self.verify_button = QPushButton("Verify backup")
        self.verify_button.setObjectName("verifyBackup")
        self.verify_button.clicked.connect(lambda: self.scheduler.verify())
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopBackup")
        self.stop_button.clicked.connect(self.scheduler.cancel)
        self.progress = QProgressBar()
        self.progress.setObjectName("backupProgress")
        self.progress.setTextVisible(False)
        for widget in (self.back_up_button, self.verify_button, self.stop_button):
            buttons.addWidget(widget)
        buttons.addWidget(self.progress, 1)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.automatic = QCheckBox(settings.BACKUP_AUTOMATIC.label)
        self.automatic.setObjectName("backupAutomatic")
        self.automatic.setToolTip(settings.BACKUP_AUTOMATIC.help)
        self.automatic.setChecked(bool(settings.read(settings.BACKUP_AUTOMATIC)))
        self.automatic.toggled.connect(self.set_automatic)
        layout.addWidget(self.automatic)
        self.last = _muted()
        self.last.setObjectName("lastBackup")
        layout.addWidget(self.last)
        self.status = _muted(scheduler.status)
        self.status.setObjectName("backupStatus")
        layout.addWidget(self.status)
        layout.addWidget(_muted(
            "Encrypted like the vault: only your passphrase or recovery key opens it, so an external "
            "drive or a cloud-synced folder is fine. Each backup copies only what changed."))

        self._show_last(settings.read(settings.BACKUP_LAST))
        scheduler.status_changed.connect(self.status.setText)
        scheduler.progress.connect(self._progress)
        scheduler.running_changed.connect(self._running)
        scheduler.last_changed.connect(self._show_last)
        self._running(scheduler.job is not None)

    def choose_folder(self) -> str:
        chosen = dialogs.choose_folder(self, "Choose the backup folder", self.folder.text(), purpose="backup")
        if chosen:
            self.set_folder(chosen)
        return chosen

    def set_folder(self, folder: str) -> None:
        settings.write(settings.BACKUP_FOLDER, folder)
        self.folder.setText(folder)
        self._running(self.scheduler.job is not None)

    def set_automatic(self, on: bool) -> None:
        settings.write(settings.BACKUP_AUTOMATIC, on)

    def _show_last(self, iso: str) -> None:
        self.last.setText(f"Last backup: {when(iso)}" if when(iso) else "No backup made yet.")

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _running(self, running: bool) -> None:
        has_folder = bool(self.folder.text())
        self.back_up_button.setEnabled(has_folder and not running)
        self.verify_button.setEnabled(has_folder and not running)
        self.choose.setEnabled(not running)
        self.stop_button.setVisible(running)
        self.progress.setVisible(running)
        if running:
            self.progress.setRange(0, 0)  # busy until the first count arrives
