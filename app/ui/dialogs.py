"""Small modal helpers, in one module so tests can replace them (no real modal loops in tests).

Every file dialog in the app goes through `_run_file_dialog`, for two reasons:

- **No folder history on disk.** Qt's file dialog writes the folders it visited (`history`,
  `lastVisited`) in plain text to the shared `QtProject` settings (`~/.config/QtProject.conf`
  on Linux, the registry on Windows) when it is destroyed — unconditionally, in
  `QFileDialog`'s destructor. Native dialogs keep their own recent-folder lists (the Windows
  "LastVisitedPidlMRU", macOS recent places) that Sanctum cannot clear. So Sanctum uses Qt's own
  dialog and, before it is destroyed, points it back at the home folder with an empty history:
  what Qt writes then names no folder the user imported from or exported to.
- **Start where the user was.** The last folder used for each purpose (import, export, share,
  check) is remembered in memory only, for as long as the vault stays unlocked.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QCheckBox, QDialog, QFileDialog, QMessageBox, QPushButton, QWidget

from .errors import describe

PHOTO_FILTER = ("Photos (*.jpg *.jpeg *.png *.heic *.heif *.webp *.gif *.tif *.tiff *.bmp *.avif)"
                ";;All files (*)")

#: What a dialog is for; each remembers its own last folder.
PURPOSES = ("import", "export", "share", "check")


def confirm(parent: QWidget | None, title: str, text: str, ok_text: str, *, destructive: bool = False,
            informative: str = "", pixmap: QPixmap | None = None) -> bool:
    box, ok = confirm_box(parent, title, text, ok_text, destructive=destructive, informative=informative,
                          pixmap=pixmap)
    box.exec()
    return box.clickedButton() is ok


def confirm_box(parent: QWidget | None, title: str, text: str, ok_text: str, *, destructive: bool = False,
                informative: str = "", pixmap: QPixmap | None = None) -> tuple[QMessageBox, QPushButton]:
    """The question `confirm` asks, built but not shown; `pixmap` (the photos concerned) takes
    the place of the warning icon, so the user sees what the answer applies to."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning if destructive else QMessageBox.Icon.Question)
    if pixmap is not None and not pixmap.isNull():
        box.setIconPixmap(pixmap)
    box.setWindowTitle(title)
    box.setText(text)
    if informative:
        box.setInformativeText(informative)
    ok = box.addButton(ok_text, QMessageBox.ButtonRole.DestructiveRole if destructive
                       else QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel if destructive else ok)
    return box, ok


def confirm_with_option(parent: QWidget | None, title: str, text: str, ok_text: str, option: str, *,
                        destructive: bool = False, informative: str = "", option_checked: bool = False,
                        pixmap: QPixmap | None = None) -> tuple[bool, bool]:
    """`confirm` with one checkbox: (confirmed, ticked)."""
    box, ok = confirm_box(parent, title, text, ok_text, destructive=destructive, informative=informative,
                          pixmap=pixmap)
    check = QCheckBox(option)
    check.setChecked(option_checked)
    box.setCheckBox(check)
    box.exec()
    return box.clickedButton() is ok, check.isChecked()


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    message = describe(exc)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information if message.severity == "info" else QMessageBox.Icon.Warning)
    box.setWindowTitle(message.title)
    box.setText(message.text)
    box.exec()


class FolderMemory:
    """The last folder used for each purpose — in this process's memory, never on disk.

    The session forgets it on lock and quit. Only folders are kept, never file names.
    """

    def __init__(self) -> None:
        self._last: dict[str, str] = {}
        #: Bumped by forget(): a dialog still open when the vault locked must not refill it.
        self.generation = 0

    def start(self, purpose: str, fallback: str = "") -> str:
        folder = self._last.get(purpose, "")
        if folder and os.path.isdir(folder):
            return folder
        return fallback or str(Path.home())

    def remember(self, purpose: str, chosen: str, *, is_folder: bool, generation: int | None = None) -> None:
        if not purpose or not chosen or (generation is not None and generation != self.generation):
            return
        path = Path(chosen)
        self._last[purpose] = str(path if is_folder else path.parent)

    def forget(self) -> None:
        self._last.clear()
        self.generation += 1


#: One per process: the app has one session, and the session clears it on lock.
last_folders = FolderMemory()


def _leave_no_trace(dialog: QFileDialog, sidebar: list) -> None:
    """What the destructor will write to QtProject settings: the home folder, no history."""
    dialog.setHistory([])
    dialog.setSidebarUrls(sidebar)  # a folder dragged into the sidebar would be saved too
    dialog.setDirectory(str(Path.home()))  # `lastVisited` and the history's current entry


def _run_file_dialog(parent: QWidget | None, title: str, *, mode: QFileDialog.FileMode, purpose: str,
                     fallback_dir: str = "", select: str = "", filters: str = "",
                     save: bool = False) -> list[str]:
    dialog = QFileDialog(parent, title)
    # Must come first (Qt reads it when the dialog is set up): the native dialogs keep their
    # own recent-folder lists.
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setFileMode(mode)
    if mode == QFileDialog.FileMode.Directory:
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    if save:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    if filters:
        dialog.setNameFilter(filters)
    sidebar = dialog.sidebarUrls()
    dialog.setDirectory(last_folders.start(purpose, fallback_dir))
    if select:
        dialog.selectFile(select)
    generation = last_folders.generation
    try:
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        chosen = dialog.selectedFiles() if accepted else []
    finally:
        _leave_no_trace(dialog, sidebar)
        dialog.deleteLater()
    if chosen:
        last_folders.remember(purpose, chosen[0], is_folder=mode == QFileDialog.FileMode.Directory,
                              generation=generation)
    return chosen


def choose_folder(parent: QWidget | None, title: str, start: str = "", *, purpose: str = "") -> str:
    chosen = _run_file_dialog(parent, title, mode=QFileDialog.FileMode.Directory, purpose=purpose,
                              fallback_dir=start)
    return chosen[0] if chosen else ""


def choose_files(parent: QWidget | None, title: str, start: str = "", *, purpose: str = "",
                 filters: str = PHOTO_FILTER) -> list[str]:
    return _run_file_dialog(parent, title, mode=QFileDialog.FileMode.ExistingFiles, purpose=purpose,
                            fallback_dir=start, filters=filters)


def open_file(parent: QWidget | None, title: str, filters: str, *, purpose: str = "") -> str:
    chosen = _run_file_dialog(parent, title, mode=QFileDialog.FileMode.ExistingFile, purpose=purpose,
                              filters=filters)
    return chosen[0] if chosen else ""


def save_file(parent: QWidget | None, title: str, suggested: str, filters: str, *,
              purpose: str = "") -> str:
    """`suggested` is a file name or a full path; the remembered folder for `purpose` wins."""
    suggested_path = Path(suggested)
    chosen = _run_file_dialog(parent, title, mode=QFileDialog.FileMode.AnyFile, purpose=purpose,
                              fallback_dir=str(suggested_path.parent) if suggested_path.parent != Path() else "",
                              select=suggested_path.name, filters=filters, save=True)
    return chosen[0] if chosen else ""
