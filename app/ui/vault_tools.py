"""Settings → Vault: the decoy passphrase and the integrity check, and the warning shown after
unlocking a vault older than the one last opened here.

Both passphrases open a session that looks the same: this section, like everything else, shows
the same words whichever one was typed (docs/threat-model.md, "A second passphrase")."""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.vault import CheckReport, RepairReport
from app.workers.vault_check_jobs import CheckRequest, CheckVaultJob, SecondPassphraseJob

from .action_rows import add_action_rows
from .key_dialogs import _JobDialog, _para, _password_field
from .session import Session
from .strength import pair_hint

log = logging.getLogger(__name__)

ROLLBACK_TEXT = ("This vault is older than the one last opened on this computer. The vault folder may "
                 "have been replaced by an earlier copy, for example from a backup: photos added or "
                 "removed since then are not as you left them. If you did not restore it yourself, "
                 "someone may have.")


def _button_row(layout: QVBoxLayout, *buttons: QPushButton) -> None:
    row = QHBoxLayout()
    row.addStretch(1)
    for button in buttons:
        row.addWidget(button)
    layout.addLayout(row)


class VaultToolsSection(QWidget):
    """The two rows of Settings → Vault; `dialog` is the one open (tests drive it)."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("vaultToolsSection")
        self.session = session
        self.dialog: QDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        rows = (
            ("decoyPassphrase", "Decoy passphrase…", self.open_decoy,
             "A second passphrase that opens a second, ordinary vault in this folder, with only the "
             "photos you put there. For when you may be forced to unlock."),
            ("checkVault", "Check vault…", self.open_check,
             "Reads back every stored photo and finds damaged or missing files."),
        )
        self.buttons = add_action_rows(layout, rows)

    def _open(self, dialog: QDialog) -> QDialog:
        self.dialog = dialog
        dialog.open()
        return dialog

    def open_decoy(self) -> QDialog | None:
        return self._open(DecoyDialog(self.session, self)) if self.session.is_unlocked else None

    def open_check(self) -> QDialog | None:
        return self._open(CheckDialog(self.session, self)) if self.session.is_unlocked else None


class DecoyDialog(_JobDialog):
    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(session, parent)
        self.setObjectName("decoyDialog")
        self.setWindowTitle("Decoy passphrase")
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        layout.addWidget(_para(
            "The decoy passphrase opens a second vault in this same folder. It starts empty: unlock "
            "with it and add the photos it should show. It looks like any vault: nothing on its "
            "screens says it is a decoy, and your photos here stay hidden from it. It fools someone "
            "looking at the screen, not a forensic examination of the vault folder (it holds the "
            "encrypted files of both vaults, so a count of them shows there is more)."))
        layout.addWidget(_para(
            "Setting a new decoy passphrase replaces an earlier one and removes the photos of that "
            "decoy vault. The authenticator code and recovery codes are the same for both; your "
            "recovery key opens this vault only.", muted=True))
        form = QFormLayout()
        self.first = _password_field("decoyPassphraseField")
        self.second = _password_field("decoyPassphraseAgain")
        self.hint = QLabel(" ")
        self.hint.setWordWrap(True)
        form.addRow("Decoy passphrase", self.first)
        form.addRow("Type it again", self.second)
        form.addRow("", self.hint)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.start_button = QPushButton("Set decoy passphrase")
        self.start_button.setObjectName("startDecoy")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        _button_row(layout, self.cancel_button, self.start_button)
        for field in (self.first, self.second):
            field.textChanged.connect(self._update_enabled)
        self._update_enabled()

    def _update_enabled(self) -> None:
        hint, ok = pair_hint(self.first.text(), self.second.text())
        self.hint.setText(hint)
        self.start_button.setEnabled(ok and not self._running)
        self.cancel_button.setEnabled(not self._running)
        for field in (self.first, self.second):
            field.setEnabled(not self._running)

    def start(self) -> None:
        if not self.start_button.isEnabled() or self.session.vault is None:
            return
        self.message.setProperty("role", None)
        self._run(SecondPassphraseJob(self.session.vault, self.first.text(), self.session.kdf),
                  "Setting the decoy passphrase… (strengthening it takes a moment)")

    def succeeded(self, _result) -> None:
        for field in (self.first, self.second):
            field.clear()
        self.message.setText("Decoy passphrase set. Lock Sanctum and unlock with it to add the photos "
                             "the decoy vault should show.")
        self.message.setProperty("role", "ok")
        self.cancel_button.setText("Close")


class CheckDialog(_JobDialog):
    report_shown = Signal(object)  # the CheckReport shown (tests wait on it)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(session, parent)
        self.setObjectName("checkVaultDialog")
        self.setWindowTitle("Check vault")
        self.setMinimumWidth(520)
        self.report: CheckReport | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(_para(
            "Sanctum reads back every stored photo and thumbnail, checks that each one is intact "
            "(not damaged or altered), and that no file is missing."))
        layout.addWidget(self.progress)
        self.text = QPlainTextEdit()
        self.text.setObjectName("checkReport")
        self.text.setReadOnly(True)
        self.text.setMinimumHeight(140)
        self.text.hide()
        layout.addWidget(self.text)
        self.remove_unreadable = QCheckBox("Also remove photos whose original can no longer be read")
        self.remove_unreadable.setObjectName("removeUnreadable")
        self.remove_unreadable.setToolTip("Their thumbnails may still show, but the photo itself is lost. A "
                                          "photo that can still be read is never removed.")
        self.remove_unreadable.hide()
        layout.addWidget(self.remove_unreadable)
        layout.addWidget(self.message)
        self.cancel_button = QPushButton("Close")
        self.cancel_button.clicked.connect(self._close_or_stop)
        self.repair_button = QPushButton("Repair")
        self.repair_button.setObjectName("repairVault")
        self.repair_button.clicked.connect(self.repair)
        self.repair_button.hide()
        self.start_button = QPushButton("Check")
        self.start_button.setObjectName("startCheck")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        _button_row(layout, self.cancel_button, self.repair_button, self.start_button)
        self._job = None
        self._update_enabled()

    def _close_or_stop(self) -> None:
        if self._running and self._job is not None:
            self._job.cancel()
        else:
            self.reject()

    def _update_enabled(self) -> None:
        self.start_button.setEnabled(not self._running)
        self.repair_button.setEnabled(not self._running)
        self.cancel_button.setText("Stop" if self._running else "Close")

    def start(self, request: CheckRequest | None = None) -> None:
        if self.session.vault is None or self._running:
            return
        self.message.setProperty("role", None)
        self._job = CheckVaultJob(self.session.vault, request or CheckRequest())
        self._run(self._job, "Repairing…" if request and request.repair else "Checking…")

    def repair(self) -> None:
        self.start(CheckRequest(repair=True, remove_unreadable=self.remove_unreadable.isChecked()))

    def _job_cancelled(self) -> None:
        self._running = False
        self.progress.hide()
        self.message.setText("Stopped. Nothing was changed.")
        self._update_enabled()

    def succeeded(self, result: CheckReport | RepairReport) -> None:
        lines = []
        if isinstance(result, RepairReport):
            lines.append(f"Removed {result.removed_orphans + result.removed_temporary} unused or half-written "
                         "file(s).")
            if result.removed_photos:
                lines.append(f"Removed {len(result.removed_photos)} photo(s) whose original could not be read.")
            result = result.after
        self.report = result
        if result.ok:
            lines.append(f"All {result.checked} stored files read back intact. Every photo has its files.")
        else:
            lines.append(f"{len(result.problems)} problem(s):")
            lines += [f"• {problem.detail}" for problem in result.problems]
        self.text.setPlainText("\n".join(lines))
        self.text.show()
        problems = not result.ok
        self.repair_button.setVisible(problems)
        self.remove_unreadable.setVisible(bool(result.unreadable_photos()))
        self.message.setText("Repair removes unused and half-written files; it never removes a photo "
                             "unless you tick the box above." if problems else " ")
        self.message.setProperty("role", "error" if problems else "ok")
        self.report_shown.emit(result)


def show_rollback_warning(parent: QWidget) -> QMessageBox:
    """After an unlock that found the vault older than last seen: said, not refused."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Older copy of your vault", ROLLBACK_TEXT,
                      QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("rollbackWarning")
    box.open()
    return box
