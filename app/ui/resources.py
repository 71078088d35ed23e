"""The stylesheet and icon: package data in app/resources (source tree, wheel and PyInstaller
build alike)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QWidget


@cache
def resources_dir() -> Path | None:
    folder = Path(__file__).resolve().parents[1] / "resources"
    return folder if (folder / "style.qss").is_file() else None


def stylesheet() -> str:
    folder = resources_dir()
    if folder is None:
        return ""
    return (folder / "style.qss").read_text(encoding="utf-8")


def app_icon() -> QIcon:
    folder = resources_dir()
    if folder is not None and (folder / "sanctum.svg").is_file():
        return QIcon(str(folder / "sanctum.svg"))
    return QIcon()


def repolish(widget: QWidget) -> None:
    """Re-apply the stylesheet after changing a property it selects on (e.g. [dragging="true"])."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)
