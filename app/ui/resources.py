"""Where the stylesheet and icon live: the source tree, an installed copy, or a PyInstaller build."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QWidget


@cache
def resources_dir() -> Path | None:
    here = Path(__file__).resolve()
    candidates = []
    if getattr(sys, "_MEIPASS", None):  # PyInstaller one-folder build
        candidates.append(Path(sys._MEIPASS) / "resources")  # noqa: SLF001
    candidates += [here.parents[2] / "resources",  # source tree / editable install
                   here.parents[1] / "resources"]  # app/resources, if packaged inside the app
    for candidate in candidates:
        if (candidate / "style.qss").is_file():
            return candidate
    return None


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
