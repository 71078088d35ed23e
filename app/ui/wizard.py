"""First run: the setup wizard.

Pages: where the vault lives → passphrase (strength meter, confirmation) → the vault is made
→ authenticator (QR in the window, a code check before going on; skipping only after a plain
warning) → the recovery key, shown once (copy, save as text, QR) → done.

The authenticator page comes before the recovery key on purpose: if the user skips the
authenticator, the brand-new empty vault is made again without it, and the recovery key they
then see is the one that counts.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.core import auth
from app.core.hardening import write_private_text
from app.core.paths import default_vault_path, vault_status
from app.core.strength import MIN_PASSPHRASE_LENGTH

from . import dialogs, strength
from .clipboard import copied_note
from .errors import explain
from .resources import app_icon
from .session import Session

if TYPE_CHECKING:  # the vault and its jobs load when the vault is created, not to show the wizard
    from app.workers.vault_jobs import CreatedVault

log = logging.getLogger(__name__)

PAGE_LOCATION, PAGE_PASSPHRASE, PAGE_TOTP, PAGE_RECOVERY, PAGE_DONE = range(5)


def _para(text: str, *, muted: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setOpenExternalLinks(False)
    if muted:
        label.setProperty("muted", True)
    return label


def _busy_bar() -> QProgressBar:
    bar = QProgressBar()
    bar.setRange(0, 0)
    bar.setTextVisible(False)
    bar.setMaximumHeight(6)
    bar.hide()
    return bar


# Monospace fonts whose zero is slashed or dotted, so a key read off the screen is copied right.
KEY_FONTS = ("Cascadia Mono", "Consolas", "Menlo", "SF Mono", "DejaVu Sans Mono", "Noto Sans Mono")


def key_font(scale: float = 1.0) -> QFont:
    """The font for keys typed by hand: the first of `KEY_FONTS` installed, else any monospace."""
    installed = set(QFontDatabase.families())
    family = next((f for f in KEY_FONTS if f in installed), "monospace")
    font = QFont(family)
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSizeF(font.pointSizeF() * scale)
    return font


class LocationPage(QWizardPage):
    def __init__(self, default: Path):
        super().__init__()
        self.setTitle("Welcome to Sanctum")
        self.setSubTitle("Sanctum keeps your private photos in an encrypted vault on this computer. "
                         "Nothing in it can be read without your passphrase.")
        layout = QVBoxLayout(self)
        layout.addWidget(_para("Choose where the vault is kept. The default is fine for most "
                               "people; a folder on an encrypted or external drive works too."))
        row = QHBoxLayout()
        self.path_edit = QLineEdit(str(default))
        self.path_edit.setObjectName("vaultPath")
        self.path_edit.textChanged.connect(self._on_changed)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        layout.addLayout(row)
        self.problem = _para("")
        self.problem.setProperty("role", "error")
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addWidget(_para("Sanctum never uploads anything. Photos stay encrypted on this "
                               "computer; you decide what leaves it.", muted=True))

    def _browse(self) -> None:
        folder = dialogs.choose_folder(self, "Folder for the vault", str(Path(self.path_edit.text()).parent))
        if folder:
            self.path_edit.setText(str(Path(folder) / "Sanctum vault")
                                   if any(Path(folder).iterdir()) else folder)

    def path(self) -> Path:
        return Path(self.path_edit.text().strip()).expanduser()

    def _problem(self) -> str:
        text = self.path_edit.text().strip()
        if not text:
            return "Choose a folder."
        path = self.path()
        if vault_status(path).exists:
            return "There is already a vault here. Choose another folder, or quit and unlock that one."
        if path.exists() and not path.is_dir():
            return "That is a file, not a folder."
        if path.is_dir() and any(p for p in path.iterdir() if not p.name.startswith(".")):
            return "That folder is not empty. Choose an empty or new folder."
        return ""

    def _on_changed(self) -> None:
        self.problem.setText(self._problem())
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        return not self._problem()


class PassphrasePage(QWizardPage):
    def __init__(self, wizard: SetupWizard):
        super().__init__()
        self._wizard = wizard
        self.setTitle("Choose a passphrase")
        self.setSubTitle("It unlocks the vault. Nobody, including Sanctum, can recover it for you "
                         "— except with the recovery key you get next.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Create vault")
        grid = QGridLayout(self)
        self.first = QLineEdit()
        self.first.setObjectName("passphrase")
        self.first.setEchoMode(QLineEdit.EchoMode.Password)
        self.first.setPlaceholderText("Several unrelated words work well")
        self.second = QLineEdit()
        self.second.setObjectName("passphraseConfirm")
        self.second.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_box = QCheckBox("Show passphrase")
        self.show_box.toggled.connect(self._toggle_echo)
        self.meter = QProgressBar()
        self.meter.setObjectName("strengthMeter")
        self.meter.setRange(0, 4)
        self.meter.setTextVisible(False)
        self.meter.setMaximumHeight(8)
        self.meter_label = QLabel(" ")
        self.meter_label.setObjectName("strengthLabel")
        self.match_label = QLabel(" ")
        self.busy = _busy_bar()
        self.status = _para("")
        grid.addWidget(QLabel("Passphrase"), 0, 0)
        grid.addWidget(self.first, 0, 1)
        grid.addWidget(self.meter, 1, 1)
        grid.addWidget(self.meter_label, 2, 1)
        grid.addWidget(QLabel("Type it again"), 3, 0)
        grid.addWidget(self.second, 3, 1)
        grid.addWidget(self.match_label, 4, 1)
        grid.addWidget(self.show_box, 5, 1)
        grid.setRowStretch(6, 1)
        grid.addWidget(self.busy, 7, 0, 1, 2)
        grid.addWidget(self.status, 8, 0, 1, 2)
        self.first.textChanged.connect(self._update)
        self.second.textChanged.connect(self._update)
        self._working = False
        self._update()

    def _toggle_echo(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.first.setEchoMode(mode)
        self.second.setEchoMode(mode)

    def _update(self) -> None:
        s = strength.estimate(self.first.text(), MIN_PASSPHRASE_LENGTH)
        self.meter.setValue(s.score)
        self.meter.setProperty("level", s.score)
        self.meter.style().unpolish(self.meter)
        self.meter.style().polish(self.meter)
        self.meter_label.setText(f"<b>{s.label}</b> — {s.advice}" if self.first.text() else " ")
        if not self.second.text():
            self.match_label.setText(" ")
        elif self.second.text() == self.first.text():
            self.match_label.setText("✓ The passphrases match.")
        else:
            self.match_label.setText("The passphrases do not match yet.")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        if self._working:
            return False
        s = strength.estimate(self.first.text(), MIN_PASSPHRASE_LENGTH)
        return s.score >= 2 and self.first.text() == self.second.text()

    def validatePage(self) -> bool:  # noqa: N802
        if self._wizard.created is not None:
            return True
        self._set_working(True, "Creating your vault… (strengthening the passphrase takes a moment)")
        from app.workers.vault_jobs import CreateRequest, CreateVaultJob

        request = CreateRequest(self._wizard.location_page.path(), self.first.text(), True,
                                self._wizard.session.kdf)
        job = CreateVaultJob(request)
        job.signals.finished.connect(self._created)
        job.signals.failed.connect(self._failed)
        self._wizard.session.jobs.start(job)
        return False  # the wizard moves on when the job has finished

    def _set_working(self, working: bool, text: str = "") -> None:
        self._working = working
        self.busy.setVisible(working)
        self.status.setText(text)
        self.first.setEnabled(not working)
        self.second.setEnabled(not working)
        self.completeChanged.emit()

    def _created(self, result: CreatedVault) -> None:
        self._set_working(False)
        self._wizard.set_created(result)
        self.first.clear()
        self.second.clear()
        self._wizard.next()

    def _failed(self, exc: BaseException) -> None:
        self._set_working(False, f"<span style='color:#b42318'>{explain(exc)}</span>")

    def passphrase(self) -> str:
        return self.first.text()


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
        right.addWidget(_para("1. Open an authenticator app (Aegis, Google Authenticator, "
                              "Microsoft Authenticator, 1Password…) and scan this code."))
        right.addWidget(_para("Can't scan? Enter this key by hand:", muted=True))
        self.secret = QLabel()
        self.secret.setObjectName("totpSecret")
        self.secret.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.secret.setFont(key_font(1.15))
        right.addWidget(self.secret)
        self.secret_hint = _para("Letters A–Z and digits 2–7 only: a round character is always the "
                                 "letter O, never a zero.", muted=True)
        right.addWidget(self.secret_hint)
        right.addSpacing(10)
        right.addWidget(_para("2. Type the 6-digit code the app shows:"))
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
        self.busy = _busy_bar()
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


class RecoveryPage(QWizardPage):
    def __init__(self, wizard: SetupWizard):
        super().__init__()
        self._wizard = wizard
        self.setTitle("Your recovery key")
        self.setSubTitle("If you forget your passphrase, this key is the only way back in. "
                         "It is shown only now.")
        layout = QVBoxLayout(self)
        card = QFrame()
        card.setObjectName("recoveryCard")
        card_layout = QHBoxLayout(card)
        self.key_label = QLabel()
        self.key_label.setObjectName("recoveryKey")
        self.key_label.setWordWrap(True)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setFont(key_font(1.25))
        self.key_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        card_layout.addWidget(self.key_label, 1)
        self.qr = QLabel()
        self.qr.setObjectName("recoveryQr")
        self.qr.hide()
        card_layout.addWidget(self.qr)
        layout.addWidget(card)
        buttons = QHBoxLayout()
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self._copy)
        self.save_button = QPushButton("Save as text…")
        self.save_button.clicked.connect(self._save)
        self.qr_button = QPushButton("Show as QR code")
        self.qr_button.setCheckable(True)
        self.qr_button.toggled.connect(self._toggle_qr)
        for b in (self.copy_button, self.save_button, self.qr_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.note = QLabel(" ")
        self.note.setProperty("muted", True)
        layout.addWidget(self.note)
        self.codes_label = _para("")
        self.codes_label.setObjectName("recoveryCodes")
        self.codes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.codes_label)
        layout.addStretch(1)
        layout.addWidget(_para("Write it down or print it, and keep it somewhere safe away from this "
                               "computer — not in a photo on your phone. Anyone with this key and a "
                               "copy of the vault folder can open it.", muted=True))
        self.confirm_box = QCheckBox("I have stored my recovery key somewhere safe")
        self.confirm_box.setObjectName("recoverySaved")
        self.confirm_box.toggled.connect(self.completeChanged)
        layout.addWidget(self.confirm_box)

    def initializePage(self) -> None:  # noqa: N802
        created = self._wizard.created.created
        self.key_label.setText(created.recovery_key)
        from .qr import qr_pixmap

        self.qr.setPixmap(qr_pixmap(created.recovery_key, scale=4))
        if created.totp is not None:
            codes = created.recovery_codes
            half = (len(codes) + 1) // 2
            rows = "".join(f"<tr><td style='padding-right:24px'><code>{a}</code></td><td><code>{b}</code></td></tr>"
                           for a, b in zip(codes[:half], codes[half:] + [""]))
            self.codes_label.setText(
                "<b>One-time codes</b> — each one stands in for an authenticator code once, if you "
                f"lose your phone (they are in the copy and the saved file too):<table>{rows}</table>")
        else:
            self.codes_label.setText("")

    def text_to_keep(self) -> str:
        created = self._wizard.created.created
        lines = ["Sanctum recovery key", "", created.recovery_key, "",
                 f"Vault: {self._wizard.created.vault.path}", ""]
        if created.totp is not None:
            lines += ["One-time codes (each works once instead of an authenticator code):", ""]
            lines += created.recovery_codes
        return "\n".join(lines) + "\n"

    def _copy(self) -> None:
        # The session's guard, not a timer on this page: the page dies with the wizard, and the
        # key must still leave the clipboard after that (and on lock or quit).
        guard = self._wizard.session.clipboard
        guard.copy(self.text_to_keep())
        self.note.setText(copied_note(guard))

    def _save(self) -> None:
        path = dialogs.save_file(self, "Save the recovery key", str(Path.home() / "Sanctum recovery key.txt"),
                                 "Text files (*.txt)")
        if not path:
            return
        try:
            write_private_text(Path(path), self.text_to_keep())  # 0600: readable by you only
        except OSError as exc:
            dialogs.show_error(self, exc)
            return
        self.note.setText(f"Saved to {path}. Move it off this computer (a USB stick, a printout).")

    def _toggle_qr(self, shown: bool) -> None:
        self.qr.setVisible(shown)
        self.qr_button.setText("Hide QR code" if shown else "Show as QR code")

    def isComplete(self) -> bool:  # noqa: N802
        return self.confirm_box.isChecked()


class DonePage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Your vault is ready")
        layout = QVBoxLayout(self)
        layout.addWidget(_para("Drag photos or whole folders onto the Sanctum window to add them. "
                               "They are encrypted as they arrive; the originals stay where they "
                               "were, so delete them yourself once you have checked the vault."))
        layout.addWidget(_para("Sanctum locks itself after 5 minutes without use; you can change "
                               "that in Settings. Lock it any time with Ctrl+L.", muted=True))
        layout.addStretch(1)


class SetupWizard(QWizard):
    vault_ready = Signal(object)  # the open Vault

    def __init__(self, session: Session, default_path: Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.created: CreatedVault | None = None
        self._passphrase_for_recreate: str | None = None
        self.setObjectName("setupWizard")
        self.setWindowTitle("Set up Sanctum")
        self.setWindowIcon(app_icon())
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setMinimumSize(700, 540)
        self.location_page = LocationPage(default_path or default_vault_path())
        self.passphrase_page = PassphrasePage(self)
        self.totp_page = TotpPage(self)
        self.recovery_page = RecoveryPage(self)
        self.done_page = DonePage()
        for page_id, page in ((PAGE_LOCATION, self.location_page), (PAGE_PASSPHRASE, self.passphrase_page),
                              (PAGE_TOTP, self.totp_page), (PAGE_RECOVERY, self.recovery_page),
                              (PAGE_DONE, self.done_page)):
            self.setPage(page_id, page)
        self.setStartId(PAGE_LOCATION)
        self._skip_confirm = False

    def set_created(self, created: CreatedVault) -> None:
        self.created = created
        if created.created.totp is not None:
            # Kept only until the authenticator page is done: a skip re-creates the vault with it.
            self._passphrase_for_recreate = self.passphrase_page.passphrase()

    def passphrase_for_recreate(self) -> str:
        return self._passphrase_for_recreate or ""

    def forget_passphrase(self) -> None:
        self._passphrase_for_recreate = None

    def nextId(self) -> int:  # noqa: N802
        current = self.currentId()
        if current == PAGE_PASSPHRASE:
            return PAGE_TOTP
        return super().nextId()

    def initializePage(self, page_id: int) -> None:  # noqa: N802
        if page_id == PAGE_RECOVERY:
            self.forget_passphrase()
        super().initializePage(page_id)

    def accept(self) -> None:
        if self.created is None:
            return
        self.forget_passphrase()
        vault = self.created.vault
        self.created = None  # the recovery key and codes are not kept anywhere
        super().accept()
        self.vault_ready.emit(vault)

    def reject(self) -> None:
        if self.passphrase_page._working or self.totp_page._working:  # noqa: SLF001
            return  # a vault is being made right now; cancelling must wait for it
        if self.created is not None and not self._skip_confirm:
            if not dialogs.confirm(self, "Stop setting up?",
                                   "The new, empty vault will be removed.", "Stop and remove it",
                                   destructive=True):
                return
        self.reject_without_asking()

    def reject_without_asking(self) -> None:
        created, self.created = self.created, None
        self.forget_passphrase()
        if created is not None:
            from app.workers.vault_jobs import remove_new_vault

            try:
                remove_new_vault(created.vault)
            except Exception:  # noqa: BLE001 - leave the folder; it is an empty, locked vault
                log.warning("could not remove the unfinished vault", exc_info=True)
        self._skip_confirm = True
        super().reject()
