"""Sharing: the Share dialog, the Shared view (its list, selection and count) and the Check an
image dialog."""

from __future__ import annotations

from app.core.vault import ShareInfo, ShareOutcome
from app.workers.base import CallJob

from ..dialog_slot import DialogSlot
from ..shares_view import share_line
from .base import WindowController


class SharesController(WindowController):
    def __init__(self, window):
        super().__init__(window)
        self.share_slot = DialogSlot()
        self.check_slot = DialogSlot()
        table = window.shares_page.table
        table.activated_share.connect(self.open_share)
        table.selectionModel().selectionChanged.connect(self.selection_changed)
        window.shares_model.modelReset.connect(self._shares_changed)
        window.shares_model.rowsInserted.connect(self._shares_changed)

    def load(self) -> None:
        """List the vault's shares (after unlocking)."""
        vault = self.session.vault
        self.run_job(CallJob(vault, vault.list_shares), self._shares_listed, priority=2)

    def close_dialogs(self) -> None:
        self.share_slot.close_for_lock()
        self.check_slot.close_for_lock()

    def share_photo(self, photo_id: int | None = None):
        """Open the Share dialog for one photo (the current one when no id is given)."""
        if not self.session.is_unlocked or self.share_slot.is_open:
            return None
        window = self.window
        info = window.photo_info(photo_id) if isinstance(photo_id, int) else window.photo_to_share()
        if info is None:
            return None
        from ..share_dialog import ShareDialog  # loads the sharing stack on first use

        dialog = ShareDialog(self.session, info, window.loader.pixmap(info.id), window)
        dialog.shared.connect(self._share_done)
        return self.share_slot.show(dialog)

    def _shares_listed(self, shares: list[ShareInfo]) -> None:
        if self.session.is_unlocked:
            self.window.shares_model.set_shares(shares)

    def _share_done(self, outcome: ShareOutcome) -> None:
        if not self.session.is_unlocked:
            return
        self.window.shares_model.add_share(outcome.share)
        self.show_status(f"Saved a protected copy for {outcome.share.recipient}: {outcome.out}", 15000)

    def _shares_changed(self, *args) -> None:
        window = self.window
        window.sidebar_model.set_share_count(window.shares_model.rowCount())
        window.detail.meta.refresh_shares()
        window.viewer.panel.refresh_shares()
        if window.showing_shares:
            window.update_scope_count()

    def selection_changed(self, *args) -> None:
        window = self.window
        if not window.showing_shares:
            return
        share = window.shares_page.table.selected_share()
        info = window.photo_info(share.photo_id) if share and share.photo_id is not None else None
        if share is None:
            window.detail.show_text("Select a share to see its photo.\n\nDouble-click to open the photo.")
        elif info is None:
            window.detail.show_text(f"{share_line(share)}.\n\nThe photo was deleted from the vault since; "
                                    "the record of who received this copy is kept.")
        else:
            window.detail.show_selection([info])
        window.update_actions()

    def open_share(self, share: ShareInfo) -> None:
        """Double-click in the Shared view: the photo in the viewer, if it is still in the vault."""
        if share.photo_id is not None and self.window.model.row_of(share.photo_id) is not None:
            self.window.open_viewer(share.photo_id)
        else:
            self.show_status("That photo is no longer in the vault; the record of the share is kept.", 10000)

    def open_check(self, path: str | None = None):
        """The "Check an image" dialog (one at a time); with `path`, that file is checked at once."""
        if not self.session.is_unlocked:
            return None
        dialog = self.check_slot.current()
        if dialog is None:
            from ..check_dialog import CheckDialog

            dialog = self.check_slot.show(CheckDialog(self.session, self.window))
        if path:
            dialog.check(path)
        return dialog
