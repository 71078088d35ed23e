"""The setup wizard's authenticator page: a QR code and the key to type by hand, a code from
the app checked before going on, and a skip only after a plain warning (the new, empty vault is
then made again without an authenticator)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWizardPage

from app.core import auth

from . import dialogs
from .errors import explain
from .secrets_panel import key_font
from .wizard_pages import busy_bar, para

if TYPE_CHECKING:
    from app.workers.vault_jobs import CreatedVault

    from .wizard import SetupWizard


class TotpPage(QWizardPage):
    def __init__(self, wizard: SetupWizard):
        super().__init__()
        self._wizard = wizard
        self.setTitle("Add your authenticator app")
        # A gate, not a key (docs/threat-model.md): promise only what the code really stops.
        self.setSubTitle("A second lock on the door: someone who learns your passphrase also needs "
                         "a code from your phone to open the vault in Sanctum. Your passphrase is "
                         "still what encrypts your photos.")
        layout = QHBoxLayout(self)
        self.qr = QLabel()
        self.qr.setObjectName("totpQr")
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setMinimumSize(220, 220)
        layout.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignTop)
        right = QVBoxLayout()
        right.addWidget(para("1. Open an authenticator app (Aegis, Google Authenticator, "
                             "Microsoft Authenticator, 1Password…) and scan this code."))
        right.addWidget(para("Can't scan? Enter this key by hand:", muted=True))
        self.secret = QLabel()
        self.secret.setObjectName("totpSecret")
        self.secret.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.secret.setFont(key_font(1.15))
        right.addWidget(self.secret)
        self.secret_hint = para("Letters A–Z and digits 2–7 only: a round character is always the "
                                "letter O, never a zero.", muted=True)
        right.addWidget(self.secret_hint)
        right.addSpacing(10)
        right.addWidget(para("2. Type the 6-digit code the app shows:"))
        self.code = QLineEdit()
        self.code.setObjectName("totpCode")
        self.code.setPlaceholderText("123 456")
        self.code.setMaxLength(7)
        self.code.setMaximumWidth(160)
        self.code.textChanged.connect(self._check)
        right.addWidget(self.code)
        self.result = QLabel(" ")
        self.result.setObjectName("totpResult")
        right.addWidget(self.result)
        right.addStretch(1)
        self.busy = busy_bar()
        right.addWidget(self.busy)
        self.skip = QPushButton("Skip the authenticator…")
        self.skip.setObjectName("skipTotp")
        self.skip.setFlat(True)
        self.skip.clicked.connect(self._skip)
        right.addWidget(self.skip, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(right, 1)
        self._verified = False
        self._working = False

    def initializePage(self) -> None:  # noqa: N802
        created = self._wizard.created
        totp = created.created.totp if created else None
        self._verified = totp is None
        if totp is not None:
            from .qr import qr_pixmap  # segno: once there is a code to show

            self.qr.setPixmap(qr_pixmap(totp.uri, scale=5))
            self.secret.setText(" ".join(totp.secret[i:i + 4] for i in range(0, len(totp.secret), 4)))
        self.code.clear()
        self.result.setText(" ")

    def _check(self) -> None:
        created = self._wizard.created
        totp = created.created.totp if created else None
        if totp is None:
            return
        digits = "".join(ch for ch in self.code.text() if ch.isdigit())
        if len(digits) < 6:
            self._verified = False
            self.result.setText(" ")
        elif auth.match_totp_step(totp.secret, digits, time.time()) is not None:
            self._verified = True
            self.result.setText("✓ That code is right. Your authenticator is set up.")
            self.result.setProperty("role", "ok")
        else:
            self._verified = False
            self.result.setText("That code does not match. Check the phone's clock, or wait for the next code.")
            self.result.setProperty("role", "error")
        self.result.style().unpolish(self.result)
        self.result.style().polish(self.result)
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        return self._verified and not self._working

    def _skip(self) -> None:
        if not dialogs.confirm(
            self, "Skip the authenticator?",
            "Without an authenticator, anyone who learns or guesses your passphrase — by watching "
            "you type it, or because you use it elsewhere — can open all your photos in Sanctum "
            "on this computer.",
            "Skip it anyway", destructive=True,
            # The authenticator is a gate in the app, not part of the encryption: say so, so
            # nobody trusts it to stop someone who copies the vault folder.
            informative="The authenticator only stops them from opening the vault in Sanctum. It "
                        "is not part of the encryption: someone who has your passphrase and a "
                        "copy of the vault folder can decrypt your photos without your phone, "
                        "either way. Only a strong passphrase you use nowhere else protects "
                        "against that.\n\n"
                        "This version cannot add an authenticator later. To add one, you would "
                        "need to make a new vault and move your photos into it."):
            return
        self._working = True
        self.busy.show()
        self.skip.setEnabled(False)
        self.code.setEnabled(False)
        self.completeChanged.emit()
        from app.workers.vault_jobs import CreateRequest, RecreateWithoutTotpJob

        wizard = self._wizard
        request = CreateRequest(wizard.location_page.path(), wizard.passphrase_for_recreate(), False,
                                wizard.session.kdf)
        old = wizard.created.vault
        wizard.created = None
        job = RecreateWithoutTotpJob(old, request)
        job.signals.finished.connect(self._recreated)
        job.signals.failed.connect(self._recreate_failed)
        wizard.session.jobs.start(job)

    def _recreated(self, result: CreatedVault) -> None:
        self._working = False
        self.busy.hide()
        self._wizard.set_created(result)
        self._wizard.forget_passphrase()
        self._verified = True
        self.completeChanged.emit()
        self._wizard.next()

    def _recreate_failed(self, exc: BaseException) -> None:
        self._working = False
        self.busy.hide()
        self.result.setText(explain(exc))
        dialogs.show_error(self, exc)
        self._wizard.reject_without_asking()
