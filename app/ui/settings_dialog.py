"""Settings: auto-lock time, thumbnail size, showing sensitive photos, the sharing default (stored in the vault, see
settings.py), the export of the vault's public key so others can check its signatures, and the vault's keys: change
the passphrase, a new recovery key, new recovery codes, a new authenticator (app/ui/key_dialogs.py), and backups
(app/ui/backup_section.py)."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core import fingerprint
from app.core.files import SHAREABLE_MODE, write_atomically

from . import dialogs, settings
from .action_rows import add_action_rows
from .backup_section import BackupSection
from .errors import describe
from .key_dialogs import AuthenticatorDialog, ChangeKeysDialog, RecoveryCodesDialog
from .panic_section import PanicSection
from .session import Session
from .vault_tools import VaultToolsSection

log = logging.getLogger(__name__)


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: 600; margin-top: 8px;")
    return label


def _scrolling(body: QWidget) -> QScrollArea:
    """The sections scroll, the buttons stay: all of them are taller than a laptop's screen, and
    a window is never opened taller than 2/3 of it (Qt squeezes the rest into overlapping rows)."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(body)
    area.setMinimumWidth(body.sizeHint().width() + area.verticalScrollBar().sizeHint().width())
    screen = QGuiApplication.primaryScreen()
    room = screen.availableGeometry().height() if screen is not None else 800
    area.setMinimumHeight(min(body.sizeHint().height(), int(room * 0.6)))  # opens tall, not as a slit
    return area


class SettingsDialog(QDialog):
    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.setMinimumWidth(480)
        self.session = session
        self.key_dialog: QDialog | None = None  # the open key dialog, if any (tests drive it)
        outer = QVBoxLayout(self)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        self.auto_lock = QSpinBox()
        self.auto_lock.setObjectName("autoLockMinutes")
        self.auto_lock.setRange(1, 240)
        # "1 minute", "5 minutes": the suffix follows the value (a fixed one reads "1 minutes")
        self.auto_lock.valueChanged.connect(
            lambda value: self.auto_lock.setSuffix(" minute" if value == 1 else " minutes"))
        self.auto_lock.setValue(session.auto_lock_minutes)
        self.auto_lock.setSuffix(" minute" if self.auto_lock.value() == 1 else " minutes")
        self.auto_lock.setToolTip(settings.AUTO_LOCK_MINUTES.help)
        form.addRow(settings.AUTO_LOCK_MINUTES.label, self.auto_lock)
        self.thumb = QComboBox()
        self.thumb.setObjectName("thumbnailSize")
        for value, label in settings.THUMBNAIL_SIZE.choices:
            self.thumb.addItem(label, value)
        self.thumb.setCurrentIndex(max(0, self.thumb.findData(session.thumbnail_edge)))
        form.addRow(settings.THUMBNAIL_SIZE.label, self.thumb)
        layout.addLayout(form)
        self.show_sensitive = QCheckBox(settings.SHOW_SENSITIVE.label)
        self.show_sensitive.setObjectName("showSensitive")
        self.show_sensitive.setToolTip(settings.SHOW_SENSITIVE.help)
        self.show_sensitive.setChecked(bool(settings.read(settings.SHOW_SENSITIVE)))
        layout.addWidget(self.show_sensitive)
        sensitive_help = QLabel("Off: sensitive photos stay blurred until you press Reveal on one.")
        sensitive_help.setWordWrap(True)
        sensitive_help.setProperty("muted", True)
        layout.addWidget(sensitive_help)
        self.panic_section = PanicSection(self)
        layout.addWidget(self.panic_section)

        layout.addWidget(_section("Sharing"))
        self.strip_location = QCheckBox(settings.SHARE_STRIP_LOCATION.label)
        self.strip_location.setObjectName("shareStripLocationDefault")
        self.strip_location.setToolTip(settings.SHARE_STRIP_LOCATION.help)
        self.strip_location.setChecked(bool(settings.read(settings.SHARE_STRIP_LOCATION)))
        layout.addWidget(self.strip_location)
        key_row = QHBoxLayout()
        self.export_key_button = QPushButton("Export public key…")
        self.export_key_button.setObjectName("exportPublicKey")
        self.export_key_button.clicked.connect(self.export_public_key)
        key_row.addWidget(self.export_key_button)
        key_row.addStretch(1)
        layout.addLayout(key_row)
        key_help = QLabel("Your protected copies are signed. Give this key to someone (a lawyer, a "
                          "platform's support team) so they can check with Sanctum that a copy came "
                          "from you. It reveals nothing about your photos.")
        key_help.setWordWrap(True)
        key_help.setProperty("muted", True)
        layout.addWidget(key_help)
        self.key_message = QLabel()
        self.key_message.setObjectName("publicKeyMessage")
        self.key_message.setWordWrap(True)
        self.key_message.hide()
        layout.addWidget(self.key_message)

        if session.vault is not None:
            layout.addWidget(_section("Vault"))
            info = QLabel(f"Vault: {session.vault.path}")
            info.setWordWrap(True)
            info.setProperty("muted", True)
            layout.addWidget(info)
            try:
                left = session.vault.remaining_recovery_codes()
            except Exception:  # noqa: BLE001 - informational only
                left = None
            self.codes_left = QLabel()
            self.codes_left.setObjectName("recoveryCodesLeft")
            self.codes_left.setProperty("muted", True)
            self._show_codes_left(left)
            layout.addWidget(self.codes_left)
            layout.addWidget(self._keys_section())
            self.backup_section = BackupSection(session, session.backups, self)
            layout.addWidget(self.backup_section)
            layout.addWidget(_section("Decoy passphrase and integrity"))
            self.vault_tools = VaultToolsSection(session, self)  # decoy passphrase, integrity check
            layout.addWidget(self.vault_tools)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        outer.addWidget(_scrolling(body), 1)
        outer.addWidget(buttons)

    def export_public_key(self) -> str | None:
        """Save the vault's Ed25519 public key as PEM (small: written here, on the UI thread)."""
        if not self.session.is_unlocked:
            return None
        suggested = str(Path.home() / "sanctum-public-key.pem")
        path = dialogs.save_file(self, "Export your public key", suggested, "Public key (*.pem)",
                                 purpose="export")
        if not path:
            return None
        if not Path(path).suffix:
            path += ".pem"
        try:
            pem = fingerprint.public_key_pem(self.session.vault.signing_public_key())
            write_atomically(path, pem.encode("ascii"), mode=SHAREABLE_MODE)
        except Exception as exc:  # noqa: BLE001 - shown in words, here
            message = describe(exc)
            self._key_message(f"{message.title}: {message.text}", "error")
            return None
        self._key_message(f"Saved to {path}. Give this file to whoever should check your copies: "
                          "with it, Sanctum's Inspect tells whether a copy came from you.", "ok")
        return path

    # --- the vault's keys ----------------------------------------------------------------------

    def _keys_section(self) -> QWidget:
        box = QWidget()
        box.setObjectName("keysSection")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(_section("Passphrase and recovery"))
        rows = (
            ("changePassphrase", "Change passphrase…", self.change_passphrase,
             "Every key of the vault is replaced: the old passphrase stops working everywhere."),
            ("newRecoveryKey", "New recovery key…", self.new_recovery_key,
             "If someone may have seen your recovery key. The old one stops working."),
            ("newRecoveryCodes", "New recovery codes…", self.new_recovery_codes,
             "Replaces all one-time codes, used or not."),
            ("newAuthenticator", "New authenticator…", self.new_authenticator,
             "A new phone, or a code someone may have copied: set up the app again."),
        )
        self.key_buttons = add_action_rows(layout, rows)
        return box

    def _show_codes_left(self, left: int | None) -> None:
        self.codes_left.setText("" if left is None else f"One-time recovery codes left: {left}")

    def _open_key_dialog(self, dialog: QDialog) -> QDialog:
        self.key_dialog = dialog
        dialog.finished.connect(self._key_dialog_closed)
        dialog.open()
        return dialog

    def _key_dialog_closed(self, _result: int) -> None:
        if self.session.is_unlocked:
            try:
                self._show_codes_left(self.session.vault.remaining_recovery_codes())
            except Exception:  # noqa: BLE001 - informational only
                log.debug("could not count recovery codes", exc_info=True)

    def change_passphrase(self) -> QDialog | None:
        if not self.session.is_unlocked:
            return None
        return self._open_key_dialog(ChangeKeysDialog(self.session, new_recovery_key=False, parent=self))

    def new_recovery_key(self) -> QDialog | None:
        if not self.session.is_unlocked:
            return None
        return self._open_key_dialog(ChangeKeysDialog(self.session, new_recovery_key=True, parent=self))

    def new_recovery_codes(self) -> QDialog | None:
        if not self.session.is_unlocked:
            return None
        return self._open_key_dialog(RecoveryCodesDialog(self.session, parent=self))

    def new_authenticator(self) -> QDialog | None:
        if not self.session.is_unlocked:
            return None
        return self._open_key_dialog(AuthenticatorDialog(self.session, parent=self))

    def _key_message(self, text: str, role: str) -> None:
        self.key_message.setText(text)
        self.key_message.setProperty("role", role)
        self.key_message.style().unpolish(self.key_message)
        self.key_message.style().polish(self.key_message)
        self.key_message.show()

    def accept(self) -> None:
        if self.session.is_unlocked:
            settings.write(settings.SHARE_STRIP_LOCATION, self.strip_location.isChecked())
            settings.write(settings.SHOW_SENSITIVE, self.show_sensitive.isChecked())
            self.panic_section.save()  # before save_settings: its settings_changed reloads them
            self.session.save_settings(self.auto_lock.value(), int(self.thumb.currentData()))
        super().accept()
