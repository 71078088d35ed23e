"""The unlock screen: passphrase + authenticator code, the back-off countdown, and the ways
back in for someone who lost their phone (a one-time code) or their passphrase (the recovery
key, then a new passphrase)."""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core import auth
from app.core.errors import LockedOut, TotpRequired, TotpReused, WrongTotp
from app.core.paths import AUTH_STATE_NAME
from app.core.words import duration

from . import strength
from .errors import describe, explain
from .resources import app_icon, repolish
from .session import Session

if TYPE_CHECKING:  # the vault and its jobs load when a way in is tried, not to show the screen
    from app.core.vault import Vault

log = logging.getLogger(__name__)


def _link(text: str) -> QPushButton:
    button = QPushButton(text)
    button.setFlat(True)
    button.setProperty("link", True)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    return button


def _busy() -> QProgressBar:
    bar = QProgressBar()
    bar.setRange(0, 0)
    bar.setTextVisible(False)
    bar.setMaximumHeight(4)
    bar.setVisible(False)
    return bar


def format_wait(seconds: float) -> str:
    seconds = max(0, math.ceil(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}"


class UnlockPage(QWidget):
    """Emits nothing itself: a successful unlock hands the vault to the session."""

    recovered = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("unlockPage")
        self.session = session
        self._retry_at = 0.0
        self._busy_now = False
        self._use_recovery_code = False
        self._recovered_vault: Vault | None = None

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        card = QFrame()
        card.setObjectName("unlockCard")
        card.setFixedWidth(440)
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

        layout = QVBoxLayout(card)
        layout.setSpacing(10)
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(64, 64))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(icon)
        self.title = QLabel("Sanctum is locked")
        self.title.setObjectName("unlockTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.title)
        self.path_label = QLabel()
        self.path_label.setProperty("muted", True)
        self.path_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.path_label.setWordWrap(True)
        layout.addWidget(self.path_label)

        self.stack = QStackedWidget()
        layout.addWidget(self.stack)
        self.stack.addWidget(self._build_unlock_panel())
        self.stack.addWidget(self._build_recovery_panel())
        self.stack.addWidget(self._build_new_passphrase_panel())

        self.message = QLabel(" ")
        self.message.setObjectName("unlockMessage")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.message)
        self.busy = _busy()
        layout.addWidget(self.busy)

        self.countdown = QTimer(self)
        self.countdown.setInterval(250)
        self.countdown.timeout.connect(self._tick)
        self._lock_note = ""  # why Sanctum locked itself, said on this screen until the next try
        # Methods, not lambdas: Qt drops the connections when this page is deleted (the start's
        # unlock window is, once the main window takes over).
        session.locking.connect(self._on_locking)
        session.locked.connect(self.reset)

    def _on_locking(self, reason: str) -> None:
        limit = self.session.idle.limit_seconds
        self._lock_note = (f"Locked after {duration(limit)} without use. Your photos were cleared from the "
                           "screen." if reason == "idle" and limit > 0 else "")
        self._update_enabled()

    # --- panels ----------------------------------------------------------------------------------

    def _build_unlock_panel(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Passphrase"))
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("unlockPassphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.returnPressed.connect(self._submit)
        layout.addWidget(self.passphrase)
        self.code_label = QLabel("Code from your authenticator app")
        layout.addWidget(self.code_label)
        self.code = QLineEdit()
        self.code.setObjectName("unlockCode")
        self.code.setPlaceholderText("123 456")
        self.code.returnPressed.connect(self._submit)
        layout.addWidget(self.code)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.setProperty("primary", True)
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self._submit)
        layout.addSpacing(4)
        layout.addWidget(self.unlock_button)
        links = QVBoxLayout()
        links.setSpacing(0)
        self.code_mode_link = _link("Lost your phone? Use a one-time recovery code")
        self.code_mode_link.clicked.connect(self._toggle_code_mode)
        self.forgot_link = _link("Forgot your passphrase? Use your recovery key")
        self.forgot_link.clicked.connect(lambda: self._show_panel(1))
        links.addWidget(self.code_mode_link, 0, Qt.AlignmentFlag.AlignCenter)
        links.addWidget(self.forgot_link, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addLayout(links)
        return panel

    def _build_recovery_panel(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        text = QLabel("Type the recovery key you saved when you set up Sanctum. You will then "
                      "choose a new passphrase.")
        text.setWordWrap(True)
        layout.addWidget(text)
        self.recovery_key = QPlainTextEdit()
        self.recovery_key.setObjectName("recoveryKeyInput")
        self.recovery_key.setFixedHeight(70)
        self.recovery_key.setPlaceholderText("XXXX-XXXX-…")
        layout.addWidget(self.recovery_key)
        self.recover_button = QPushButton("Open with recovery key")
        self.recover_button.setProperty("primary", True)
        self.recover_button.clicked.connect(self._recover)
        layout.addWidget(self.recover_button)
        back = _link("Back to passphrase")
        back.clicked.connect(lambda: self._show_panel(0))
        layout.addWidget(back, 0, Qt.AlignmentFlag.AlignCenter)
        return panel

    def _build_new_passphrase_panel(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        text = QLabel("The vault is open. Choose a new passphrase now; the old one stops working.")
        text.setWordWrap(True)
        layout.addWidget(text)
        self.new_first = QLineEdit()
        self.new_first.setObjectName("newPassphrase")
        self.new_first.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_first.setPlaceholderText("New passphrase")
        self.new_second = QLineEdit()
        self.new_second.setObjectName("newPassphraseConfirm")
        self.new_second.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_second.setPlaceholderText("Type it again")
        self.new_hint = QLabel(" ")
        self.new_hint.setWordWrap(True)
        self.save_new_button = QPushButton("Save new passphrase")
        self.save_new_button.setProperty("primary", True)
        self.save_new_button.clicked.connect(self._save_new_passphrase)
        for w in (self.new_first, self.new_second, self.new_hint, self.save_new_button):
            layout.addWidget(w)
        for edit in (self.new_first, self.new_second):
            edit.textChanged.connect(self._update_new_hint)
        return panel

    # --- state -------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Called whenever the screen is shown: empty fields, current vault facts, back-off."""
        if self._recovered_vault is not None and self._recovered_vault is not self.session.vault:
            self._recovered_vault.lock()
        self._recovered_vault = None
        for edit in (self.passphrase, self.code, self.new_first, self.new_second):
            edit.clear()
        self.recovery_key.clear()
        self._use_recovery_code = False
        self._apply_code_mode()
        status = self.session.status()
        self.path_label.setText(str(status.path))
        self.code.setVisible(status.totp_hint)
        self.code_label.setVisible(status.totp_hint)
        self.code_mode_link.setVisible(status.totp_hint)
        self.message.setText(self._lock_note or " ")
        self.message.setProperty("role", "")
        repolish(self.message)
        self._show_panel(0)
        self._check_backoff()
        self._update_enabled()
        self.passphrase.setFocus()

    def show_note(self, text: str) -> None:
        """A line said on this screen until the next try (after a restore: what came back)."""
        self._lock_note = text
        self.message.setText(text)
        self.message.setProperty("role", "ok")
        repolish(self.message)

    def _check_backoff(self) -> None:
        try:
            auth.BackoffGate(self.session.vault_path / AUTH_STATE_NAME).check()
        except LockedOut as exc:
            self._start_countdown(exc.retry_at)

    def _show_panel(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        self.title.setText(("Sanctum is locked", "Use your recovery key", "Choose a new passphrase")[index])
        if index == 0:
            self.passphrase.setFocus()
        elif index == 1:
            self.recovery_key.setFocus()
        else:
            self.new_first.setFocus()

    def _toggle_code_mode(self) -> None:
        self._use_recovery_code = not self._use_recovery_code
        self._apply_code_mode()
        self.code.clear()
        self.code.setFocus()

    def _apply_code_mode(self) -> None:
        if self._use_recovery_code:
            self.code_label.setText("One-time recovery code")
            self.code.setPlaceholderText("XXXXX-XXXXX")
            self.code_mode_link.setText("Use the authenticator app instead")
        else:
            self.code_label.setText("Code from your authenticator app")
            self.code.setPlaceholderText("123 456")
            self.code_mode_link.setText("Lost your phone? Use a one-time recovery code")

    def _update_enabled(self) -> None:
        waiting = self._retry_at > time.time()
        can_try = not self._busy_now and not waiting and self.session.state == "locked"
        self.unlock_button.setEnabled(can_try)
        self.recover_button.setEnabled(can_try)
        self.save_new_button.setEnabled(not self._busy_now and self._new_ok())
        if hasattr(self, "busy"):
            self.busy.setVisible(self._busy_now)

    def _set_busy(self, busy: bool) -> None:
        self._busy_now = busy
        self._update_enabled()

    def _start_countdown(self, retry_at: float) -> None:
        self._retry_at = retry_at
        self._tick()
        self.countdown.start()

    def _tick(self) -> None:
        left = self._retry_at - time.time()
        if left <= 0:
            self.countdown.stop()
            self._retry_at = 0.0
            self.message.setText("You can try again now.")
            self.message.setProperty("role", "")
        else:
            self.message.setText(f"Too many failed attempts. You can try again in {format_wait(left)}.")
            self.message.setProperty("role", "error")
        repolish(self.message)
        self._update_enabled()


    def _show_error(self, exc: BaseException) -> None:
        if isinstance(exc, LockedOut):
            self._start_countdown(exc.retry_at)
            return
        message = describe(exc)
        self.message.setText(message.text)
        self.message.setProperty("role", "error" if message.severity == "error" else "")
        repolish(self.message)
        # A failure can start the back-off (the core counts it); show it at once.
        self._check_backoff()

    # --- actions --------------------------------------------------------------------------------------

    def _submit(self) -> None:
        if not self.unlock_button.isEnabled():
            return
        if not self.passphrase.text():
            self.message.setText("Type your passphrase.")
            return
        code = self.code.text().strip()
        if self.code.isVisible() and not code:
            self._show_error(TotpRequired())
            self.code.setFocus()
            return
        from app.workers.vault_jobs import UnlockJob, UnlockRequest

        request = UnlockRequest(
            self.session.vault_path, self.passphrase.text(),
            totp_code=None if self._use_recovery_code else code or None,
            recovery_code=code if self._use_recovery_code else None,
        )
        self._lock_note = ""
        self.message.setText("Unlocking…")
        self.message.setProperty("role", "")
        repolish(self.message)
        self._set_busy(True)
        job = UnlockJob(request)
        job.signals.finished.connect(self._unlocked)
        job.signals.failed.connect(self._unlock_failed)
        self.session.jobs.start(job)

    def _unlocked(self, vault: Vault) -> None:
        self._set_busy(False)
        self.passphrase.clear()
        self.code.clear()
        self.message.setText(" ")
        self.session.open(vault)

    def _unlock_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.code.clear()
        self._show_error(exc)
        if isinstance(exc, (TotpRequired, WrongTotp, TotpReused)) and self.code.isVisible():
            # The passphrase was right (it is checked first): keep it, and put the cursor where
            # the next code goes, so typing it cannot overwrite the passphrase.
            self.passphrase.deselect()
            self.code.setFocus()
            return
        self.passphrase.selectAll()
        self.passphrase.setFocus()

    def _recover(self) -> None:
        key = self.recovery_key.toPlainText().strip()
        if not key:
            self.message.setText("Type your recovery key.")
            return
        self._set_busy(True)
        self.message.setText("Checking the recovery key…")
        from app.workers.vault_jobs import RecoverJob

        job = RecoverJob(self.session.vault_path, key)
        job.signals.finished.connect(self._recovered_ok)
        job.signals.failed.connect(lambda exc: (self._set_busy(False), self._show_error(exc)))
        self.session.jobs.start(job)

    def _recovered_ok(self, vault: Vault) -> None:
        self._set_busy(False)
        self.recovery_key.clear()
        self._recovered_vault = vault
        self.message.setText(" ")
        self._show_panel(2)

    def _new_ok(self) -> bool:
        return strength.pair_hint(self.new_first.text(), self.new_second.text())[1]

    def _update_new_hint(self) -> None:
        self.new_hint.setText(strength.pair_hint(self.new_first.text(), self.new_second.text(), "below")[0])
        self._update_enabled()

    def _save_new_passphrase(self) -> None:
        vault = self._recovered_vault
        if vault is None or not self._new_ok():
            return
        self._set_busy(True)
        self.message.setText("Saving the new passphrase…")
        from app.workers.vault_jobs import ChangePassphraseJob

        job = ChangePassphraseJob(vault, self.new_first.text(), kdf=self.session.kdf)
        job.signals.finished.connect(lambda _r: self._new_passphrase_saved(vault))
        job.signals.failed.connect(lambda exc: (self._set_busy(False), self.message.setText(explain(exc))))
        self.session.jobs.start(job)

    def _new_passphrase_saved(self, vault: Vault) -> None:
        self._set_busy(False)
        self.new_first.clear()
        self.new_second.clear()
        self._recovered_vault = None
        self.message.setText(" ")
        self.session.open(vault)
        self.recovered.emit()
