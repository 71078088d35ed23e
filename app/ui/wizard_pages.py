"""The setup wizard's pages but the authenticator's (`wizard_totp`) and the restore's
(`wizard_restore`): a new vault or a restore, and where the vault lives; the passphrase (strength
meter, confirmation; "Create vault" makes it in a job), the recovery key shown once, and done."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from app.core.paths import vault_status
from app.core.strength import MIN_PASSPHRASE_LENGTH

from . import dialogs, strength
from .errors import explain
from .secrets_panel import SecretsPanel

if TYPE_CHECKING:  # the vault and its jobs load when the vault is created, not to show the wizard
    from app.workers.vault_jobs import CreatedVault

    from .wizard import SetupWizard


def para(text: str, *, muted: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setOpenExternalLinks(False)
    if muted:
        label.setProperty("muted", True)
    return label


def busy_bar() -> QProgressBar:
    bar = QProgressBar()
    bar.setRange(0, 0)
    bar.setTextVisible(False)
    bar.setMaximumHeight(6)
    bar.hide()
    return bar


class LocationPage(QWizardPage):
    def __init__(self, default: Path):
        super().__init__()
        self.setTitle("Welcome to Sanctum")
        self.setSubTitle("Sanctum keeps your private photos in an encrypted vault on this computer. "
                         "Nothing in it can be read without your passphrase.")
        layout = QVBoxLayout(self)
        # The first question, because someone setting up a new computer after losing the old one
        # must find the way to their photos here, not an empty vault.
        self.create_choice = QRadioButton("Create a new vault")
        self.create_choice.setObjectName("createVault")
        self.restore_choice = QRadioButton("Restore from a backup")
        self.restore_choice.setObjectName("restoreVault")
        self.create_choice.setChecked(True)
        choices = QButtonGroup(self)
        for button, text in (
            (self.create_choice, "Start with an empty vault and a passphrase of your choice."),
            (self.restore_choice, "Get every photo back from a Sanctum backup folder, on a new computer or "
                                  "after losing the old one. You need its passphrase or recovery key."),
        ):
            button.setStyleSheet("font-weight: 600;")
            choices.addButton(button)
            layout.addWidget(button)
            note = para(text, muted=True)
            note.setContentsMargins(24, 0, 0, 6)
            layout.addWidget(note)
        self.restore_choice.toggled.connect(self._on_changed)
        layout.addSpacing(8)
        self.where = para("")
        layout.addWidget(self.where)
        row = QHBoxLayout()
        self.path_edit = QLineEdit(str(default))
        self.path_edit.setObjectName("vaultPath")
        self.path_edit.textChanged.connect(self._on_changed)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        layout.addLayout(row)
        self.problem = para("")
        self.problem.setProperty("role", "error")
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addWidget(para("Sanctum never uploads anything. Photos stay encrypted on this "
                              "computer; you decide what leaves it.", muted=True))
        self._on_changed()

    def restoring(self) -> bool:
        return self.restore_choice.isChecked()

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
        # A restore refuses any file there (it never mixes with someone's files), hidden ones too.
        if path.is_dir() and any(p for p in path.iterdir() if self.restoring() or not p.name.startswith(".")):
            return "That folder is not empty. Choose an empty or new folder."
        return ""

    def _on_changed(self) -> None:
        self.where.setText("Choose where the restored vault goes. The default is where Sanctum looks "
                           "when it starts." if self.restoring() else
                           "Choose where the vault is kept. The default is fine for most "
                           "people; a folder on an encrypted or external drive works too.")
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
        self.busy = busy_bar()
        self.status = para("")
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


class RecoveryPage(QWizardPage):
    def __init__(self, wizard: SetupWizard):
        super().__init__()
        self._wizard = wizard
        self.setTitle("Your recovery key")
        self.setSubTitle("If you forget your passphrase, this key is the only way back in. "
                         "It is shown only now.")
        layout = QVBoxLayout(self)
        self.panel = SecretsPanel(wizard.session.clipboard, self.text_to_keep)
        layout.addWidget(self.panel)
        layout.addStretch(1)
        layout.addWidget(para("Write it down or print it, and keep it somewhere safe away from this "
                              "computer — not in a photo on your phone. Anyone with this key and a "
                              "copy of the vault folder can open it.", muted=True))
        self.confirm_box = QCheckBox("I have stored my recovery key somewhere safe")
        self.confirm_box.setObjectName("recoverySaved")
        self.confirm_box.toggled.connect(self.completeChanged)
        layout.addWidget(self.confirm_box)

    def initializePage(self) -> None:  # noqa: N802
        created = self._wizard.created.created
        codes = created.recovery_codes if created.totp is not None else ()
        self.panel.show_secrets(created.recovery_key, codes, codes_heading=(
            "<b>One-time codes</b> — each one stands in for an authenticator code once, if you "
            "lose your phone (they are in the copy and the saved file too):"))

    def text_to_keep(self) -> str:
        created = self._wizard.created.created
        lines = ["Sanctum recovery key", "", created.recovery_key, "",
                 f"Vault: {self._wizard.created.vault.path}", ""]
        if created.totp is not None:
            lines += ["One-time codes (each works once instead of an authenticator code):", ""]
            lines += created.recovery_codes
        return "\n".join(lines) + "\n"

    def isComplete(self) -> bool:  # noqa: N802
        return self.confirm_box.isChecked()


class DonePage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Your vault is ready")
        layout = QVBoxLayout(self)
        layout.addWidget(para("Drag photos or whole folders onto the Sanctum window to add them. "
                              "They are encrypted as they arrive; the originals stay where they "
                              "were, so delete them yourself once you have checked the vault."))
        layout.addWidget(para("Sanctum locks itself after 5 minutes without use; you can change "
                              "that in Settings. Lock it any time with Ctrl+L.", muted=True))
        layout.addStretch(1)
