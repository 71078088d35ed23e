"""Handing a notice to the user's own mail program (a `mailto:` draft) without its words leaking
into logs or stderr on the way, and the light check of an email address the dialogs share."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys

from PySide6.QtCore import QUrl, qInstallMessageHandler
from PySide6.QtGui import QDesktopServices, QGuiApplication

log = logging.getLogger(__name__)


def mail_program_available() -> bool:
    """Whether a mail program will take a mailto: draft. Asked first because a failed attempt
    is noisy: Qt and xdg-email print the whole address, i.e. the notice with the user's name
    and email, to stderr. Windows and macOS always have a handler (or say so themselves)."""
    if sys.platform in ("win32", "darwin"):
        return True
    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return False  # these platforms cannot open anything
    query = shutil.which("xdg-mime")
    if query is None:
        return False
    try:
        found = subprocess.run([query, "query", "default", "x-scheme-handler/mailto"], capture_output=True,
                               text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(found.stdout.strip())


def open_url(url: str) -> bool:
    """Hand a mailto: draft to the user's mail program (tests replace this)."""
    previous = qInstallMessageHandler(_quiet_qt_message)  # Qt would print the notice on failure
    try:
        return QDesktopServices.openUrl(QUrl.fromEncoded(url.encode("ascii", "replace")))
    finally:
        qInstallMessageHandler(previous)


def _quiet_qt_message(_mode, _context, _message: str) -> None:
    log.warning("the mail program could not be opened")  # the message holds the notice: not logged


def looks_like_email(text: str) -> bool:
    text = text.strip()
    return "@" in text and "." in text.rsplit("@", 1)[-1] and " " not in text
