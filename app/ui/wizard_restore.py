"""The setup wizard's restore path: a Sanctum backup folder (checked as soon as it is chosen),
the passphrase or the recovery key that opens it, then the restore in a job with a progress bar
and Cancel. The vault goes where the first page says (a new or empty folder).

When it is done the wizard closes and the app shows the unlock screen of the restored vault: the
authenticator code, when the vault has one, is asked there as usual. Cancelled or failed, nothing
is left where the vault was to go (the core assembles it in a hidden folder and renames it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QWizard,
    QWizardPage,
)

from app.core.errors import BackupError, NotABackup, WrongPassphrase, WrongRecoveryKey
from app.core.paths import default_vault_path

from . import dialogs
from .backup_scheduler import when
from .errors import explain
from .resources import repolish
from .wizard_pages import para

if TYPE_CHECKING:  # the backup code loads when a folder is checked, not to show the wizard
    from app.core.backup import RestoreReport
    from app.workers.backup_jobs import RestoreJob

    from .wizard import SetupWizard


class RestorePage(QWizardPage):
    def __init__(self, wizard: SetupWizard):
        super().__init__()
        self._wizard = wizard
        self.job: RestoreJob | None = None
        self.report: RestoreReport | None = None
        self._folder_ok = False
        self.use_recovery_key = False
        self.setTitle("Restore from a backup")
        self.setSubTitle("Bring back every photo from a Sanctum backup: the folder on your external "
                         "drive, or the one your cloud service copied to this computer.")
        self.setFinalPage(True)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Restore")

        grid = QGridLayout(self)
        grid.addWidget(QLabel("Backup folder"), 0, 0)
        row = QHBoxLayout()
        self.folder_edit = QLineEdit()
        self.folder_edit.setObjectName("backupFolder")
        self.folder_edit.setPlaceholderText("The folder that holds sanctum-backup.json")
        self.folder_edit.textChanged.connect(self._check_folder)
        self.browse = QPushButton("Choose…")
        self.browse.setObjectName("chooseBackup")
        self.browse.clicked.connect(self._browse)
        row.addWidget(self.folder_edit, 1)
        row.addWidget(self.browse)
        grid.addLayout(row, 0, 1)
        self.folder_note = para("")
        self.folder_note.setObjectName("backupFolderNote")
        grid.addWidget(self.folder_note, 1, 1)

        self.secret_label = QLabel("Passphrase")
        grid.addWidget(self.secret_label, 2, 0)
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("restorePassphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.recovery_key = QLineEdit()
        self.recovery_key.setObjectName("restoreRecoveryKey")
        self.recovery_key.setPlaceholderText("XXXX-XXXX-…")
        self.recovery_key.hide()
        for edit in (self.passphrase, self.recovery_key):
            edit.textChanged.connect(self.completeChanged)  # Enter: Restore is the default button
            grid.addWidget(edit, 2, 1)
        self.secret_hint = para("", muted=True)
        grid.addWidget(self.secret_hint, 3, 1)
        self.switch = QPushButton()
        self.switch.setObjectName("restoreUseRecoveryKey")
        self.switch.setFlat(True)
        self.switch.setProperty("link", True)
        self.switch.clicked.connect(self.toggle_secret)
        grid.addWidget(self.switch, 4, 1)
        self.target_note = para("", muted=True)
        grid.addWidget(self.target_note, 5, 0, 1, 2)
        grid.setRowStretch(6, 1)

        bar_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setObjectName("restoreProgress")
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel restore")
        self.cancel_button.setObjectName("cancelRestore")
        self.cancel_button.clicked.connect(self.cancel)
        bar_row.addWidget(self.progress, 1)
        bar_row.addWidget(self.cancel_button)
        grid.addLayout(bar_row, 7, 0, 1, 2)
        self.status = para("")
        self.status.setObjectName("restoreStatus")
        grid.addWidget(self.status, 8, 0, 1, 2)
        self._show_secret_mode()
        self._set_working(False)

    # --- the page's state -------------------------------------------------------------------

    def initializePage(self) -> None:  # noqa: N802
        target = self._wizard.location_page.path()
        text = (f"The vault will be restored into <b>{_html(str(target))}</b> (change it with Back). "
                "Nothing else on this computer is touched.")
        if target.absolute() != default_vault_path().absolute():
            # Sanctum remembers no other folder: say how to find this one again.
            text += (" Sanctum opens its default folder when it starts; to open this one, start it with "
                     f"<code>sanctum --vault \"{_html(str(target))}\"</code>.")
        self.target_note.setText(text)
        self._check_folder()
        self.status.setText("")

    def cleanupPage(self) -> None:  # noqa: N802
        # Back while restoring: stop it (Qt cannot refuse a Back; the job leaves nothing behind).
        self.cancel()

    @property
    def working(self) -> bool:
        return self.job is not None

    def isComplete(self) -> bool:  # noqa: N802
        return self._folder_ok and bool(self.secret().strip()) and not self.working

    def secret(self) -> str:
        return (self.recovery_key if self.use_recovery_key else self.passphrase).text()

    def toggle_secret(self) -> None:
        self.use_recovery_key = not self.use_recovery_key
        self._show_secret_mode()
        self.completeChanged.emit()

    def _show_secret_mode(self) -> None:
        key = self.use_recovery_key
        self.passphrase.setVisible(not key)
        self.recovery_key.setVisible(key)
        self.secret_label.setText("Recovery key" if key else "Passphrase")
        self.secret_hint.setText(
            "The recovery key you saved when you set up Sanctum; groups with or without dashes."
            if key else "The passphrase the vault had when this backup was made.")
        self.switch.setText("Use the passphrase instead" if key else
                            "Forgot the passphrase? Use the recovery key")
        (self.recovery_key if key else self.passphrase).setFocus()

    def _set_working(self, working: bool) -> None:
        for widget in (self.folder_edit, self.browse, self.passphrase, self.recovery_key, self.switch):
            widget.setEnabled(not working)
        self.progress.setVisible(working)
        self.cancel_button.setVisible(working)
        self.cancel_button.setEnabled(working)
        if working:
            self.progress.setRange(0, 0)  # busy until the first count: the passphrase is checked first
        self.completeChanged.emit()  # the wizard re-enables Back here; a running restore turns it off
        back = self._wizard.button(QWizard.WizardButton.BackButton)
        if working and back is not None:
            back.setEnabled(False)

    def _say(self, text: str, role: str = "") -> None:
        self.status.setText(text)
        self.status.setProperty("role", role)
        repolish(self.status)

    # --- the backup folder ------------------------------------------------------------------

    def _browse(self) -> None:
        folder = dialogs.choose_folder(self, "The backup folder", self.folder_edit.text(), purpose="restore")
        if folder:
            self.folder_edit.setText(folder)

    def backup_folder(self) -> Path:
        return Path(self.folder_edit.text().strip()).expanduser()

    def _check_folder(self) -> None:
        text, ok = self._folder_problem()
        self._folder_ok = ok
        self.folder_note.setText(text)
        self.folder_note.setProperty("role", "ok" if ok else "error")
        repolish(self.folder_note)
        self.completeChanged.emit()

    def _folder_problem(self) -> tuple[str, bool]:
        """What the folder is, in words, and whether it can be restored from. Reads only the
        manifest: the rest needs the passphrase, and is checked while restoring."""
        if not self.folder_edit.text().strip():
            return "", False
        folder = self.backup_folder()
        if not folder.is_dir():
            return "There is no folder there. If the backup is on a drive, is it connected?", False
        from app.core.backup import read_manifest

        try:
            manifest = read_manifest(folder)
        except NotABackup:
            inner = _backup_inside(folder)
            if inner is not None:
                return f"This folder holds no backup itself, but “{_html(inner.name)}” inside it does: choose that one.", False
            return ("This is not a Sanctum backup folder: it has no sanctum-backup.json. Choose the folder "
                    "you backed up into (it also holds README-sanctum-backup.txt).", False)
        except BackupError as exc:  # BackupDamaged: the manifest does not read
            return f"{_html(explain(exc))} Sanctum cannot restore from it as it is; choose another backup if you have one.", False
        except OSError as exc:
            return _html(explain(exc)), False
        target = self._wizard.location_page.path().absolute()
        if folder.absolute() in (target, *target.parents):
            return "The vault cannot go inside its own backup folder: choose another place for it (Back).", False
        made = when(manifest.created_at) or "at an unknown time"
        return f"✓ A Sanctum backup, last updated {made}.", True

    # --- restoring --------------------------------------------------------------------------

    def start(self) -> None:
        """What the Restore button does (through the wizard's accept)."""
        if not self.isComplete():
            return
        from app.workers.backup_jobs import RestoreJob, RestoreRequest

        secret = self.secret().strip()
        request = RestoreRequest(
            self.backup_folder(), self._wizard.location_page.path(),
            passphrase=None if self.use_recovery_key else self.secret(),
            recovery_key=secret if self.use_recovery_key else None,
        )
        job = RestoreJob(request)
        job.signals.progress.connect(self._progress)
        job.signals.finished.connect(self._restored)
        job.signals.failed.connect(self._failed)
        job.signals.cancelled.connect(self._cancelled)
        self.job = job
        self._set_working(True)
        self._say("Checking the passphrase…" if not self.use_recovery_key else "Checking the recovery key…")
        self._wizard.session.jobs.start(job)

    def cancel(self) -> None:
        if self.job is None:
            return
        self.job.cancel()
        self.cancel_button.setEnabled(False)
        self._say("Cancelling…")

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        if self.job is not None and not self.job.is_cancelled:
            self._say(f"Restoring… {done} of {total} files")

    def _restored(self, report: RestoreReport) -> None:
        self.job = None
        self.report = report
        self.passphrase.clear()
        self.recovery_key.clear()
        self._set_working(False)
        self._wizard.accept()  # closes the wizard: the app shows the restored vault's unlock screen

    def _failed(self, exc: BaseException) -> None:
        self.job = None
        self._set_working(False)
        self._say(_html(_failure_words(exc)), "error")
        if isinstance(exc, WrongPassphrase | WrongRecoveryKey):
            edit = self.recovery_key if self.use_recovery_key else self.passphrase
            edit.selectAll()
            edit.setFocus()

    def _cancelled(self) -> None:
        self.job = None
        self._set_working(False)
        self._say(f"Restore cancelled. Nothing was left in {_html(str(self._wizard.location_page.path()))}.")


def _failure_words(exc: BaseException) -> str:
    # The table's words for these say "vault"; here it is a backup, and the other secret may open it.
    if isinstance(exc, WrongPassphrase):
        return ("That passphrase does not open this backup. It is the passphrase the vault had when the "
                "backup was made: check Caps Lock and the keyboard layout, or use the recovery key.")
    if isinstance(exc, WrongRecoveryKey):
        return ("That recovery key does not open this backup. Check for typos (groups can be typed with or "
                "without dashes), or use the passphrase.")
    return explain(exc)


def _backup_inside(folder: Path) -> Path | None:
    """A backup one level down: people often pick the drive rather than the folder on it."""
    from app.core.backup import MANIFEST_NAME

    try:
        return next((p for p in sorted(folder.iterdir()) if (p / MANIFEST_NAME).is_file()), None)
    except OSError:
        return None


def _html(text: str) -> str:
    # The labels are rich text (for <b>): a folder name with < or & must show as typed.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
