"""First run: the setup wizard.

Pages: a new vault or a restore, and where the vault lives → passphrase (strength meter,
confirmation) → the vault is made → authenticator (QR in the window, a code check before going on;
skipping only after a plain warning) → the recovery key, shown once (copy, save as text, QR) →
done. Or, to restore: where the vault lives → the backup folder and its passphrase or recovery
key → the restore (progress, Cancel); then the wizard closes with `vault_restored` and the app
shows the restored vault's unlock screen. The pages are in `wizard_pages`, `wizard_totp` and
`wizard_restore`; this module puts them in order.

The authenticator page comes before the recovery key on purpose: if the user skips the
authenticator, the brand-new empty vault is made again without it, and the recovery key they
then see is the one that counts.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget, QWizard

from app.core.paths import default_vault_path

from . import dialogs
from .resources import app_icon
from .session import Session
from .wizard_pages import DonePage, LocationPage, PassphrasePage, RecoveryPage
from .wizard_restore import RestorePage
from .wizard_totp import TotpPage

if TYPE_CHECKING:  # the vault and its jobs load when the vault is created, not to show the wizard
    from app.workers.vault_jobs import CreatedVault

log = logging.getLogger(__name__)

PAGE_LOCATION, PAGE_PASSPHRASE, PAGE_TOTP, PAGE_RECOVERY, PAGE_DONE, PAGE_RESTORE = range(6)


class SetupWizard(QWizard):
    vault_ready = Signal(object)  # the open Vault
    vault_restored = Signal(object)  # the RestoreReport: the restored (locked) vault's folder, its photos

    def __init__(self, session: Session, default_path: Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.created: CreatedVault | None = None
        self._passphrase_for_recreate: str | None = None
        self.setObjectName("setupWizard")
        self.setWindowTitle("Set up Sanctum")
        self.setWindowIcon(app_icon())
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.currentIdChanged.connect(self._last_page_buttons)
        self.setMinimumSize(700, 540)
        self.location_page = LocationPage(default_path or default_vault_path())
        self.passphrase_page = PassphrasePage(self)
        self.totp_page = TotpPage(self)
        self.recovery_page = RecoveryPage(self)
        self.done_page = DonePage()
        self.restore_page = RestorePage(self)
        for page_id, page in ((PAGE_LOCATION, self.location_page), (PAGE_PASSPHRASE, self.passphrase_page),
                              (PAGE_TOTP, self.totp_page), (PAGE_RECOVERY, self.recovery_page),
                              (PAGE_DONE, self.done_page), (PAGE_RESTORE, self.restore_page)):
            self.setPage(page_id, page)
        self.setStartId(PAGE_LOCATION)
        self._skip_confirm = False

    def _last_page_buttons(self, page_id: int) -> None:
        # Done has no way back (the vault exists), but the restore page is a last page too, and
        # there Back (another folder) and Cancel must stay: Qt's options apply to every last page.
        done = page_id == PAGE_DONE
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, done)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, done)

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
        if current == PAGE_LOCATION:
            return PAGE_RESTORE if self.location_page.restoring() else PAGE_PASSPHRASE
        if current == PAGE_PASSPHRASE:
            return PAGE_TOTP
        if current in (PAGE_DONE, PAGE_RESTORE):  # each path's last page (ids are not the order)
            return -1
        return super().nextId()

    def initializePage(self, page_id: int) -> None:  # noqa: N802
        if page_id == PAGE_RECOVERY:
            self.forget_passphrase()
        super().initializePage(page_id)

    def accept(self) -> None:
        if self.currentId() == PAGE_RESTORE:
            self._accept_restore()
            return
        if self.created is None:
            return
        self.forget_passphrase()
        vault = self.created.vault
        self.created = None  # the recovery key and codes are not kept anywhere
        super().accept()
        self.vault_ready.emit(vault)

    def _accept_restore(self) -> None:
        """Restore (the Finish button, named so on that page) starts the job; the job's end calls
        this again, and the wizard closes with the report."""
        report = self.restore_page.report
        if report is None:
            self.restore_page.start()
            return
        self.restore_page.report = None
        super().accept()
        self.vault_restored.emit(report)

    def reject(self) -> None:
        if self.restore_page.working:
            self.restore_page.cancel()  # Cancel (or closing the window) while restoring stops the restore
            return
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
