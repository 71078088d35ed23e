"""Small modal helpers, in one module so tests can replace them (no real modal loops in tests)."""

from __future__ import annotations

from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton, QWidget

from .errors import describe


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


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    message = describe(exc)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information if message.severity == "info" else QMessageBox.Icon.Warning)
    box.setWindowTitle(message.title)
    box.setText(message.text)
    box.exec()


def choose_folder(parent: QWidget | None, title: str, start: str = "") -> str:
    return QFileDialog.getExistingDirectory(parent, title, start)


def choose_files(parent: QWidget | None, title: str, start: str = "") -> list[str]:
    files, _ = QFileDialog.getOpenFileNames(
        parent, title, start,
        "Photos (*.jpg *.jpeg *.png *.heic *.heif *.webp *.gif *.tif *.tiff *.bmp *.avif);;All files (*)")
    return files


def save_file(parent: QWidget | None, title: str, suggested: str, filters: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    return path
