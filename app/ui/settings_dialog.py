"""Settings: auto-lock time and thumbnail size (stored in the vault, see settings.py).

Sharing defaults will join them when sharing exists; an empty section would only confuse.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from . import settings
from .session import Session


class SettingsDialog(QDialog):
    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.session = session
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.auto_lock = QSpinBox()
        self.auto_lock.setObjectName("autoLockMinutes")
        self.auto_lock.setRange(1, 240)
        self.auto_lock.setSuffix(" minutes")
        self.auto_lock.setValue(session.auto_lock_minutes)
        self.auto_lock.setToolTip(settings.AUTO_LOCK_MINUTES.help)
        form.addRow(settings.AUTO_LOCK_MINUTES.label, self.auto_lock)
        self.thumb = QComboBox()
        self.thumb.setObjectName("thumbnailSize")
        for value, label in settings.THUMBNAIL_SIZE.choices:
            self.thumb.addItem(label, value)
        self.thumb.setCurrentIndex(max(0, self.thumb.findData(session.thumbnail_edge)))
        form.addRow(settings.THUMBNAIL_SIZE.label, self.thumb)
        layout.addLayout(form)
        if session.vault is not None:
            info = QLabel(f"Vault: {session.vault.path}")
            info.setWordWrap(True)
            info.setProperty("muted", True)
            layout.addWidget(info)
            try:
                left = session.vault.remaining_recovery_codes()
            except Exception:  # noqa: BLE001 - informational only
                left = None
            if left is not None:
                codes = QLabel(f"One-time recovery codes left: {left}")
                codes.setProperty("muted", True)
                layout.addWidget(codes)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def accept(self) -> None:
        if self.session.is_unlocked:
            self.session.save_settings(self.auto_lock.value(), int(self.thumb.currentData()))
        super().accept()
