"""Settings → Keys: change the passphrase, make a new recovery key, new recovery codes, a new
authenticator. The work runs in jobs (app/workers/key_jobs.py); new secrets are shown once, the
way the setup wizard shows them, and the window cannot be closed before the user says they are
stored."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.vault import KeysRotated
from app.workers.base import CallJob
from app.workers.key_jobs import KeyChangeRequest, RotateKeysJob

from .clipboard import SecretClipboard
from .errors import describe
from .qr import qr_pixmap
from .secrets_panel import SecretsPanel
from .session import Session
from .strength import pair_hint

log = logging.getLogger(__name__)



def _para(text: str, muted: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if muted:
        label.setProperty("muted", True)
    return label


def _password_field(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setObjectName(name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field



def _cancel_and_start(dialog: QDialog, layout: QVBoxLayout, start_text: str, object_name: str
                      ) -> tuple[QPushButton, QPushButton]:
    """The dialogs' bottom row: Cancel (closes) and the button that starts the change."""
    buttons = QHBoxLayout()
    buttons.addStretch(1)
    cancel = QPushButton("Cancel")
    cancel.clicked.connect(dialog.reject)
    start = QPushButton(start_text)
    start.setObjectName(object_name)
    start.clicked.connect(dialog.start)
    buttons.addWidget(cancel)
    buttons.addWidget(start)
    layout.addLayout(buttons)
    return cancel, start

class _JobDialog(QDialog):
    """A dialog that runs one key job at a time and shows its progress and its error in words."""

    def __init__(self, session: Session, parent: QWidget | None):
        super().__init__(parent)
        self.session = session
        self._running = False
        self.progress = QProgressBar()
        self.progress.setObjectName("keyProgress")
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.message = QLabel(" ")
        self.message.setObjectName("keyMessage")
        self.message.setWordWrap(True)
        # Locking (by hand or when idle) clears the screen: no passphrase field or new secret stays.
        session.locking.connect(self._session_locking)

    def _session_locking(self, _reason: str = "") -> None:
        self._running = False
        QDialog.reject(self)

    def _run(self, job, waiting_text: str) -> None:
        """Start `job` once no other job runs (a key rotation must have the vault to itself)."""
        self._running = True
        self._update_enabled()
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.progress.show()
        self.message.setText(waiting_text)
        job.signals.progress.connect(self._on_progress)
        job.signals.finished.connect(self._job_finished)
        job.signals.failed.connect(self._job_failed)
        job.signals.cancelled.connect(self._job_cancelled)
        self.session.jobs.call_when_idle(lambda: self.session.jobs.start(job))

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _job_finished(self, result) -> None:
        self._running = False
        self.progress.hide()
        self._update_enabled()
        self.succeeded(result)

    def _job_failed(self, exc: BaseException) -> None:
        self._running = False
        self.progress.hide()
        message = describe(exc)
        self.message.setText(f"{message.title}: {message.text}")
        self.message.setProperty("role", "error")
        self._update_enabled()

    def _job_cancelled(self) -> None:
        # Only the vault locking cancels these jobs; a rotation cancelled before its switch
        # leaves every old key in place.
        self._running = False
        self.progress.hide()
        self.message.setText("Stopped because the vault was locked. Nothing was changed.")
        self._update_enabled()

    def reject(self) -> None:
        if not self._running:  # never walk away from a rotation half-way (it finishes either way)
            super().reject()

    def succeeded(self, result) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _update_enabled(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class ChangeKeysDialog(_JobDialog):
    """Change the passphrase (`new_recovery_key=False`) or make a new recovery key (True).

    Either way every key of the vault is replaced, so an old passphrase, an old recovery key and
    an old copy of vault.json all stop working."""

    secrets_shown = Signal(object)  # the SecretsDialog, for tests

    def __init__(self, session: Session, *, new_recovery_key: bool, parent: QWidget | None = None):
        super().__init__(session, parent)
        self.new_recovery_key = new_recovery_key
        self.rotated: KeysRotated | None = None
        self.secrets_dialog: SecretsDialog | None = None
        self.setObjectName("recoveryKeyDialog" if new_recovery_key else "changePassphraseDialog")
        self.setWindowTitle("New recovery key" if new_recovery_key else "Change passphrase")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        if new_recovery_key:
            layout.addWidget(_para(
                "Sanctum will make a new recovery key and show it once. Your current recovery key, "
                "and any copy of it someone may have found, stops working. Your passphrase stays "
                "the same."))
        else:
            layout.addWidget(_para(
                "Your old passphrase stops working everywhere, including on any old copy of the "
                "vault folder's key file. Your recovery key keeps working."))
        form = QFormLayout()
        self.current = _password_field("currentPassphrase")
        form.addRow("Current passphrase", self.current)
        self.first = _password_field("newPassphrase")
        self.second = _password_field("newPassphraseAgain")
        self.hint = QLabel(" ")
        self.hint.setObjectName("newPassphraseHint")
        self.hint.setWordWrap(True)
        if not new_recovery_key:
            form.addRow("New passphrase", self.first)
            form.addRow("Type it again", self.second)
            form.addRow("", self.hint)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        self.cancel_button, self.start_button = _cancel_and_start(self, layout, "Make a new recovery key" if new_recovery_key else "Change passphrase", "startKeyChange")
        self.start_button.setDefault(True)
        for field in (self.current, self.first, self.second):
            field.textChanged.connect(self._update_enabled)
        self._update_enabled()

    def _new_ok(self) -> bool:
        if self.new_recovery_key:
            return True
        return pair_hint(self.first.text(), self.second.text())[1]

    def _update_enabled(self) -> None:
        if not self.new_recovery_key:
            self.hint.setText(pair_hint(self.first.text(), self.second.text())[0])
        ready = bool(self.current.text()) and self._new_ok() and not self._running
        self.start_button.setEnabled(ready)
        self.cancel_button.setEnabled(not self._running)
        for field in (self.current, self.first, self.second):
            field.setEnabled(not self._running)

    def start(self) -> None:
        if not self.start_button.isEnabled() or self.session.vault is None:
            return
        request = KeyChangeRequest(self.current.text(), None if self.new_recovery_key else self.first.text(),
                                   self.session.kdf)
        self.message.setProperty("role", None)
        self._run(RotateKeysJob(self.session.vault, request),
                  "Replacing the vault's keys… (strengthening the passphrase takes a moment)")

    def succeeded(self, rotated: KeysRotated) -> None:
        self.rotated = rotated
        for field in (self.current, self.first, self.second):
            field.clear()
        if rotated.recovery_key:
            intro = ("This is your new recovery key. The old one no longer opens the vault."
                     if self.new_recovery_key else
                     "Your passphrase was changed. Your vault was made by an earlier version of "
                     "Sanctum, so it also needs a new recovery key; the old one no longer opens it.")
            self.secrets_dialog = SecretsDialog("Your new recovery key", intro, self.session.vault_path,
                                                clipboard=self.session.clipboard,
                                                recovery_key=rotated.recovery_key, parent=self)
            self.session.locking.connect(self.secrets_dialog.close_now)
            self.secrets_dialog.finished.connect(lambda _r: self.accept())
            self.secrets_shown.emit(self.secrets_dialog)
            self.secrets_dialog.open()
        else:
            self.message.setText("Passphrase changed. Use the new one from now on.")
            self.message.setProperty("role", "ok")
            QTimer.singleShot(0, self.accept)


class RecoveryCodesDialog(_JobDialog):
    """Replace the one-time codes: asks, then shows the new ones once."""

    secrets_shown = Signal(object)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(session, parent)
        self.setObjectName("recoveryCodesDialog")
        self.setWindowTitle("New recovery codes")
        self.secrets_dialog: SecretsDialog | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(_para(
            "One-time recovery codes stand in for an authenticator code if you lose your phone. New "
            "codes replace all the current ones: the codes you have now stop working, used or not."))
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        self.cancel_button, self.start_button = _cancel_and_start(self, layout, "Make new codes", "startNewCodes")

    def _update_enabled(self) -> None:
        self.start_button.setEnabled(not self._running)
        self.cancel_button.setEnabled(not self._running)

    def start(self) -> None:
        if self.session.vault is not None:
            vault = self.session.vault
            self._run(CallJob(vault, vault.new_recovery_codes, lane="vault-write"), "Making new codes…")

    def succeeded(self, codes: list[str]) -> None:
        self.secrets_dialog = SecretsDialog(
            "Your new recovery codes", "Each code works once instead of an authenticator code. The old "
            "codes no longer work.", self.session.vault_path, clipboard=self.session.clipboard,
            codes=list(codes), parent=self)
        self.session.locking.connect(self.secrets_dialog.close_now)
        self.secrets_dialog.finished.connect(lambda _r: self.accept())
        self.secrets_shown.emit(self.secrets_dialog)
        self.secrets_dialog.open()


class AuthenticatorDialog(_JobDialog):
    """Set up a new authenticator entry: scan, then type a code from it to confirm. The old entry
    keeps working until the new one is confirmed, so a mistake cannot lock anyone out."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(session, parent)
        self.setObjectName("authenticatorDialog")
        self.setWindowTitle("New authenticator")
        self.enrollment = session.vault.begin_totp_enrollment()
        layout = QVBoxLayout(self)
        layout.addWidget(_para(
            "Scan this code with your authenticator app (for example on a new phone). Once "
            "confirmed, codes from the old entry stop working: delete it from the old app."))
        qr = QLabel()
        qr.setObjectName("totpQr")
        qr.setPixmap(qr_pixmap(self.enrollment.uri, scale=4))
        qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(qr)
        secret = QLabel(f"Or enter this key by hand: <code>{self.enrollment.secret}</code>")
        secret.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        secret.setProperty("muted", True)
        layout.addWidget(secret)
        form = QFormLayout()
        self.code = QLineEdit()
        self.code.setObjectName("newTotpCode")
        self.code.setMaxLength(7)
        self.code.setPlaceholderText("6 digits")
        self.code.textChanged.connect(self._update_enabled)
        form.addRow("Code from the new entry", self.code)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        self.cancel_button, self.start_button = _cancel_and_start(self, layout, "Confirm", "confirmTotp")
        self._update_enabled()

    def _update_enabled(self) -> None:
        digits = sum(ch.isdigit() for ch in self.code.text())
        self.start_button.setEnabled(digits == 6 and not self._running)
        self.cancel_button.setEnabled(not self._running)

    def start(self) -> None:
        if self.start_button.isEnabled() and self.session.vault is not None:
            vault = self.session.vault  # stores the new secret once a code from it checks out
            self._run(CallJob(vault, vault.finish_totp_enrollment, self.enrollment, self.code.text(),
                              lane="vault-write"), "Checking the code…")

    def succeeded(self, _result) -> None:
        self.message.setText("Authenticator replaced.")
        QTimer.singleShot(0, self.accept)

    def _job_failed(self, exc: BaseException) -> None:
        super()._job_failed(exc)
        self.code.clear()
        self.code.setFocus()


class SecretsDialog(QDialog):
    """A new recovery key and/or recovery codes, shown once (`SecretsPanel`: copy, save as an
    owner-only text file, QR code). It closes only once the user ticks that they stored it."""

    def __init__(self, title: str, intro: str, vault_path: Path, *, clipboard: SecretClipboard,
                 recovery_key: str | None = None, codes: list[str] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("secretsDialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        self.recovery_key = recovery_key
        self.codes = list(codes or [])
        self.vault_path = vault_path
        layout = QVBoxLayout(self)
        layout.addWidget(_para(intro))
        self.panel = SecretsPanel(clipboard, self.text_to_keep)
        self.panel.show_secrets(recovery_key, self.codes)
        layout.addWidget(self.panel)
        layout.addWidget(_para("Write it down or print it, and keep it somewhere safe away from this computer "
                               "— not in a photo on your phone. It is shown only now.", muted=True))
        self.confirm_box = QCheckBox("I have stored it somewhere safe")
        self.confirm_box.setObjectName("secretsStored")
        layout.addWidget(self.confirm_box)
        close_row = QHBoxLayout()
        close_row.addStretch(1)
        self.done_button = QPushButton("Done")
        self.done_button.setObjectName("secretsDone")
        self.done_button.setEnabled(False)
        self.done_button.clicked.connect(self.accept)
        self.confirm_box.toggled.connect(self.done_button.setEnabled)
        close_row.addWidget(self.done_button)
        layout.addLayout(close_row)

    def text_to_keep(self) -> str:
        lines = []
        if self.recovery_key:
            lines += ["Sanctum recovery key", "", self.recovery_key, ""]
        if self.codes:
            lines += ["Sanctum one-time codes (each works once instead of an authenticator code):", "",
                      *self.codes, ""]
        lines += [f"Vault: {self.vault_path}", ""]
        return "\n".join(lines)

    def reject(self) -> None:
        if self.confirm_box.isChecked():  # shown once: Escape must not lose it by accident
            super().reject()

    def close_now(self, _reason: str = "") -> None:
        """The vault is locking: a secret must not stay on screen. (A lost new recovery key can
        be replaced by another after unlocking; the user guide says so.)"""
        QDialog.reject(self)
