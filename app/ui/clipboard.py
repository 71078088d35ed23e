"""Copying to the clipboard — a secret (the recovery key) or plain text (a check's details, a
removal notice) — and taking it back.

The guard lives on the Session, not on the page that copied: a timer owned by a wizard page
dies with the wizard, and the key would stay on the clipboard for as long as the computer
runs. It clears after a delay, on lock and on quit — but only if the clipboard still holds
what Sanctum put there, so it never wipes something the user copied since.

The copy is marked as a secret for clipboard managers that honour the common hints (as
password managers such as KeePassXC do): KDE Klipper and most Linux clipboard tools read
`x-kde-passwordManagerHint: secret`; Windows' clipboard history (Win+V) and cloud clipboard
read the `ExcludeClipboardContentFromMonitorProcessing`, `CanIncludeInClipboardHistory` and
`CanUploadToCloudClipboard` formats; macOS clipboard tools read `org.nspasteboard.ConcealedType`.
A manager that ignores them can still keep a copy: the docs say so.

Plain copies are not timed (the user needs the notice until it is pasted) but leave on lock,
panic and quit like the secret: a removal notice names the user and the leaked photo's address.
"""

from __future__ import annotations

import hashlib
import logging
import sys

from PySide6.QtCore import QByteArray, QMimeData, QObject, QTimer, Signal
from PySide6.QtGui import QClipboard, QGuiApplication

from app.core.words import duration

log = logging.getLogger(__name__)

#: Linux/BSD: KDE Klipper, GPaste, CopyQ, wl-clip-persist filters and others skip this.
KDE_SECRET_HINT = "x-kde-passwordManagerHint"
#: Windows: named clipboard formats. Qt maps "application/x-qt-windows-mime;value=NAME" to the
#: registered format NAME. A DWORD 0 in the last two says "not in history, not to the cloud".
WINDOWS_HINTS = {
    'application/x-qt-windows-mime;value="ExcludeClipboardContentFromMonitorProcessing"': b"\x00\x00\x00\x00",
    'application/x-qt-windows-mime;value="CanIncludeInClipboardHistory"': b"\x00\x00\x00\x00",
    'application/x-qt-windows-mime;value="CanUploadToCloudClipboard"': b"\x00\x00\x00\x00",
}
#: macOS: nspasteboard.org's concealed type, carried by a converter registered below.
MAC_CONCEALED_MIME = "application/x-nspasteboard-concealed-type"
MAC_CONCEALED_UTI = "org.nspasteboard.ConcealedType"

DEFAULT_CLEAR_MS = 120_000


def secret_mime_data(text: str) -> QMimeData:
    """The text plus every "this is a secret" hint; harmless where a platform ignores one."""
    mime = QMimeData()
    mime.setText(text)
    mime.setData(KDE_SECRET_HINT, QByteArray(b"secret"))
    for name, value in WINDOWS_HINTS.items():
        mime.setData(name, QByteArray(value))
    # The concealed type's value is ignored by readers; a marker keeps the secret in one place.
    mime.setData(MAC_CONCEALED_MIME, QByteArray(b"1"))
    return mime


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class SecretClipboard(QObject):
    """Puts text on the clipboard and removes it again on lock, panic and quit — a secret also
    after `clear_ms` — but only while the clipboard still holds what Sanctum put there.

    Only SHA-256 digests of the copied texts are kept, to recognise them: the guard holds no
    secret itself.
    """

    cleared = Signal()

    def __init__(self, parent: QObject | None = None, clear_ms: int = DEFAULT_CLEAR_MS):
        super().__init__(parent)
        self.clear_ms = clear_ms
        self._digest: bytes | None = None  # the secret's: it also leaves after clear_ms
        self._copied: set[bytes] = set()  # every other text Sanctum put there this session
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._expire)
        _install_mac_converter()
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.dataChanged.connect(self._note_own_copy)

    @property
    def pending(self) -> bool:
        """True while a secret Sanctum copied may still be on the clipboard."""
        return self._digest is not None

    def copy(self, text: str, *, secret: bool = True) -> None:
        clipboard = QGuiApplication.clipboard()
        if not secret:
            self._copied.add(_digest(text))
            clipboard.setText(text, QClipboard.Mode.Clipboard)
            return
        clipboard.setMimeData(secret_mime_data(text), QClipboard.Mode.Clipboard)
        self._digest = _digest(text)
        self._timer.start(self.clear_ms)

    def _note_own_copy(self) -> None:
        # Ctrl+C in one of Sanctum's fields copies without going through `copy`. Where the
        # platform says who owns the clipboard (X11, Windows, macOS), what Sanctum owns is
        # Sanctum's copy; elsewhere (offscreen) only `copy` is known.
        clipboard = QGuiApplication.clipboard()
        text = clipboard.text() if clipboard.ownsClipboard() else ""
        if text:
            self._copied.add(_digest(text))

    def _expire(self) -> None:
        """The secret's time is up: it goes; plain copies stay until lock or quit."""
        self._wipe({self._digest} if self._digest is not None else set())
        self._digest = None

    def clear(self) -> None:
        """On lock, panic and quit: empty the clipboard (and the X11/Wayland selection) of
        whatever Sanctum put there that it still holds."""
        self._timer.stop()
        ours = self._copied | ({self._digest} if self._digest is not None else set())
        self._digest = None
        self._copied = set()
        self._wipe(ours)

    def _wipe(self, digests: set[bytes]) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is None or not digests:
            return
        # The selection too: selecting the key on screen puts it there without any "Copy".
        modes = [QClipboard.Mode.Clipboard]
        if clipboard.supportsSelection():
            modes.append(QClipboard.Mode.Selection)
        wiped = False
        for mode in modes:
            if _digest(clipboard.text(mode)) in digests:
                clipboard.clear(mode)
                wiped = True
        if wiped:
            log.info("cleared what Sanctum copied from the clipboard")
            self.cleared.emit()

    def clear_selection(self) -> None:
        """On lock and quit: drop the X11/Wayland primary selection if Sanctum owns it.

        Selecting the recovery key (or any text) in Sanctum with the mouse puts it there
        without a copy, so it cannot be recognised by content; what Sanctum owns goes.
        """
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None and clipboard.supportsSelection() and clipboard.ownsSelection():
            clipboard.clear(QClipboard.Mode.Selection)


_mac_converter = None


def _install_mac_converter() -> None:
    """On macOS, map the concealed MIME type to its pasteboard UTI (Qt has no mapping for it).

    QUtiMimeConverter exists only in macOS builds of Qt; elsewhere this does nothing.
    """
    global _mac_converter
    if _mac_converter is not None or sys.platform != "darwin":
        return
    try:
        from PySide6.QtGui import QUtiMimeConverter  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - macOS only
        return

    class ConcealedTypeConverter(QUtiMimeConverter):  # pragma: no cover - macOS only
        def utiForMime(self, mime: str) -> str:  # noqa: N802 - Qt name
            return MAC_CONCEALED_UTI if mime == MAC_CONCEALED_MIME else ""

        def mimeForUti(self, uti: str) -> str:  # noqa: N802 - Qt name
            return MAC_CONCEALED_MIME if uti == MAC_CONCEALED_UTI else ""

        def convertFromMime(self, mime, data, uti):  # noqa: N802 - Qt name
            return [QByteArray(b"1")]

        def convertToMime(self, mime, data, uti):  # noqa: N802 - Qt name
            return QByteArray(b"1")

    try:  # pragma: no cover - macOS only
        _mac_converter = ConcealedTypeConverter()
    except Exception:  # noqa: BLE001 - a missing hint must never stop the copy
        log.warning("could not register the macOS concealed-clipboard type", exc_info=True)


def copied_note(guard: SecretClipboard) -> str:
    """What to tell the user once a secret is on the clipboard, and for how long it stays."""
    return (f"Copied. Paste it somewhere safe; the clipboard is cleared in {duration(guard.clear_ms / 1000)}, "
            "or when Sanctum locks or quits.")
