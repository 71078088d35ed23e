"""The file a protected copy is written to: the formats it can be saved in (with their labels in
the Share dialog, suffixes and file-dialog filters), the folder offered, and its suggested name."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from app.core import sharing
from app.core.vault import PhotoInfo

FORMATS = (
    ("JPEG", "JPEG — smallest, opens everywhere", ".jpg"),
    ("PNG", "PNG — keeps a fragile mark that proves the file is untouched", ".png"),
    ("WEBP", "WebP — small, for apps and browsers", ".webp"),
)
SUFFIX = {fmt: suffix for fmt, _, suffix in FORMATS}
FILTERS = {"JPEG": "JPEG image (*.jpg *.jpeg)", "PNG": "PNG image (*.png)", "WEBP": "WebP image (*.webp)"}


def default_folder() -> Path:
    """Pictures, else Desktop, else home: where people look for a file they are about to send."""
    for location in (QStandardPaths.StandardLocation.PicturesLocation,
                     QStandardPaths.StandardLocation.DesktopLocation):
        folder = QStandardPaths.writableLocation(location)
        if folder and Path(folder).is_dir():
            return Path(folder)
    return Path.home()


def safe_name_part(text: str) -> str:
    """A recipient's name as part of a file name: letters, digits, '-' and '_' only."""
    cleaned = re.sub(r"[^\w-]+", "-", text.strip(), flags=re.UNICODE).strip("-_")
    return cleaned[:40] or "someone"


def suggested_name(photo: PhotoInfo, recipient: str, output_format: str) -> str:
    return f"{Path(photo.filename).stem}-for-{safe_name_part(recipient)}{SUFFIX[output_format]}"


def with_suffix_for(path: str, output_format: str) -> str:
    """The format chosen in the dialog decides the file's type; the name's suffix follows it."""
    p = Path(path)
    suffix = p.suffix.lower()
    if sharing.OUTPUT_FORMATS.get(suffix) == output_format:
        return str(p)
    if suffix in sharing.OUTPUT_FORMATS:
        p = p.with_suffix("")
    return str(p.with_name(p.name + SUFFIX[output_format]))
