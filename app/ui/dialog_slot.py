"""One dialog of a kind at a time: the slot holds the open dialog and forgets it when it closes."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog


class DialogSlot:
    """Where a window keeps its one open Share, Check, Scan, Takedown or Settings dialog.

    `current()` raises the open dialog (and returns it) so a second click brings it forward
    instead of stacking a twin; `show(dialog)` opens a new one and holds it until it finishes."""

    def __init__(self) -> None:
        self.dialog: QDialog | None = None

    @property
    def is_open(self) -> bool:
        return self.dialog is not None

    def current(self) -> QDialog | None:
        """The open dialog, brought to the front; None when none is open."""
        if self.dialog is not None:
            self.dialog.raise_()
            self.dialog.activateWindow()
        return self.dialog

    def show(self, dialog: QDialog) -> QDialog:
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def close_for_lock(self) -> None:
        """Close it now, before the keys go: dialogs that show decrypted photos wipe them first
        (`close_for_lock`); one that holds none (Settings) is simply rejected."""
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            getattr(dialog, "close_for_lock", dialog.reject)()

    def _forget(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
