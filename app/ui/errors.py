"""The one place where the app turns errors into words a person can act on.

Qt-free on purpose: `describe()` is a plain table lookup, and `ErrorNotifier` is what
`sys.excepthook` / `threading.excepthook` feed (the application shows it on the UI thread).
"""

from __future__ import annotations

import errno
import logging
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.core import errors as core
from app.core.leaks.errors import (
    BrowserUnavailable,
    EvidenceError,
    FetchError,
    NoticeIncomplete,
    ProviderLookupError,
    TakedownError,
    WatchError,
)
from app.core.urls import is_url
from app.core.vision.errors import VisionUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserMessage:
    title: str
    text: str
    #: "error" for a problem, "info" for something the user can simply retry
    severity: str = "error"


# Order matters: the first matching class wins, so subclasses come before their bases.
_TABLE: list[tuple[type[BaseException], str, str | None]] = [
    (core.WrongPassphrase, "Wrong passphrase",
     "That passphrase does not open this vault. Check Caps Lock and the keyboard layout."),
    (core.TotpRequired, "Code needed",
     "Enter the 6-digit code from your authenticator app."),
    (core.TotpReused, "Code already used",
     "That code was already used. Wait a few seconds for the next one and enter it."),
    (core.WrongTotp, "Wrong code", None),  # the core's text says which (TOTP or recovery code)
    (core.LockedOut, "Too many attempts", None),  # its message carries the wait
    (core.WrongRecoveryKey, "Wrong recovery key",
     "That recovery key does not open this vault. Check for typos; groups can be typed with or "
     "without dashes."),
    (core.VaultBusy, "Vault in use",
     "This vault is open in another Sanctum window or command. Close that one first."),
    (core.VaultNotFound, "No vault here", None),
    (core.NotAVault, "Not a vault", None),
    (core.VaultExists, "Folder not empty", None),
    (core.UnsupportedVaultVersion, "Newer vault",
     "This vault was made by a newer version of Sanctum. Install the latest version to open it."),
    (core.WeakPassphrase, "Passphrase too weak", None),  # its message carries the advice
    (core.HeaderTampered, "Vault header altered", None),  # its message says what to restore
    (core.VaultIncomplete, "Vault database missing", None),
    (core.SecondPassphraseRefused, "Second passphrase not set", None),  # its message says why
    (core.VaultLocked, "Vault locked", "The vault was locked. Unlock it and try again."),
    (core.AuthenticationFailed, "Damaged data",
     "Part of the vault failed its integrity check: it is damaged or was tampered with. "
     "Nothing was changed. If this keeps happening, restore the vault folder from a backup."),
    (core.ImageTooLarge, "Image too large", None),
    (core.UnsupportedImage, "Not a supported image", None),
    (core.PhotoNotFound, "Photo not found", "That photo is no longer in the vault."),
    (core.ExportError, "Export failed", None),
    (VisionUnavailable, "Organising unavailable",
     "Automatic tags, people and the sensitive flag need model packages that are missing or damaged "
     "in this installation. Your photos are safe; reinstall Sanctum to get them back."),
    (core.Cancelled, "Cancelled", "Cancelled."),  # before FetchError: a cancelled fetch is one too
    (NoticeIncomplete, "Notice not complete", None),  # its message names each missing part
    (EvidenceError, "Report not made", None),  # its message says why (no such copy, a bad .sig file)
    (TakedownError, "Removal request not sent", None),  # its message says why (HTTP status…)
    (ProviderLookupError, "Hosting provider not found", None),  # its message says why
    (FetchError, "Could not reach the address", None),
    (core.BackupDestinationFull, "Backup destination full", None),  # its message says what to do
    (core.BackupDestinationGone, "Backup destination gone", None),
    (core.NotABackup, "Not a backup folder", None),  # its message says which folder to choose
    (core.BackupDamaged, "Backup damaged", None),
    (core.BackupError, "Backup failed", None),
    (BrowserUnavailable, "No browser to read this page", None),  # its message says what to install
    (WatchError, "Watch list not changed", None),  # its message says why
    (core.SanctumError, "Something went wrong", None),
]


def _immunizer_rows() -> list[tuple[type[BaseException], str, str | None]]:
    """The immunizer's rows, once its module is loaded. Importing it here would load numpy at
    start-up; and until it is loaded, none of its errors can exist."""
    errors = sys.modules.get("app.core.immunizer.errors")
    if errors is None:
        return []
    return [
        (errors.ImageTooSmallToImmunize, "Photo too small", None),  # its message gives the sizes
        (errors.ImmunizeCancelled, "Cancelled", "Cancelled."),
        (errors.ImmunizerError, "Immunization problem", None),  # its message says what
    ]


def _watermark_rows() -> list[tuple[type[BaseException], str, str | None]]:
    """The watermark's rows, once its module is loaded (it brings OpenCV and scipy)."""
    errors = sys.modules.get("app.core.watermark.errors")
    if errors is None:
        return []
    return [
        (errors.ImageTooSmallForWatermark, "Photo too small", None),
        (errors.FragileMessageTooLong, "Photo too small", None),
        (errors.InvalidWatermarkImage, "Watermark problem", None),  # each message says what
        (errors.InvalidWatermarkPayload, "Watermark problem", None),
        (errors.InvalidWatermarkKey, "Watermark problem", None),
        (errors.WatermarkError, "Watermark problem", None),
    ]


_OS_REASONS = {
    errno.ENOSPC: "The disk is full. Free some space and try again.",
    errno.EROFS: "That location is read-only. Choose another folder.",
    errno.EACCES: "Permission denied. Choose a folder you can write to.",
    errno.EPERM: "Permission denied. Choose a folder you can write to.",
    errno.ENOENT: "That file or folder does not exist (was a drive unplugged?).",
    errno.EISDIR: "That is a folder, not a file. Choose a file.",
    errno.ENAMETOOLONG: "That file name is too long. Choose a shorter one.",
}


def _sentence(text: str) -> str:
    """Core messages are phrases ("the file is not a supported image"): make them sentences."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?)" else text + "."


# Network failures as the fetcher and httpx word them ("could not connect (ConnectError)",
# "[Errno -2] Name or service not known"…), first match wins; {host} is the site's name.
_NETWORK_WORDS: list[tuple[tuple[str, ...], str]] = [
    (("certificate", "ssl", "tls"),
     "the secure connection to {host} failed: its certificate is not valid, or something between "
     "this computer and the site interfered"),
    (("name or service not known", "nodename nor servname", "getaddrinfo", "name resolution",
      "no address associated", "dns"),
     "{host} was not found: check the spelling of the address, and that this computer is online"),
    (("connection refused", "refused the connection"),
     "{host} refused the connection: the site may be down; try again later"),
    (("timeout", "timed out", "did not answer in time", "too slow"),
     "{host} did not answer in time: try again later"),
    (("connecterror", "could not connect", "could not reach", "remoteprotocolerror", "readerror",
      "network is unreachable", "connection reset"),
     "could not reach {host}: check the address and the internet connection"),
]

# A library's class name in parentheses, e.g. "(ConnectError)": means nothing to a person.
_CLASS_NAME = re.compile(r"\s*\((?:httpx\.)?[A-Z][A-Za-z]*(?:Error|Timeout|Exception)\)")


def network_words(reason: str, host: str | None = None) -> str | None:
    """A network failure in plain words, or None when `reason` is not one."""
    lowered = re.sub(r"\S+://\S+", "", reason).lower()  # an address in the text is not a cause
    for needles, words in _NETWORK_WORDS:
        if any(needle in lowered for needle in needles):
            return words.format(host=host or "the site")
    return None


def place_problem(place: str, reason: str) -> str:
    """Why a scanned place (a web address or a file) could not be checked, in words."""
    host = urlsplit(place).hostname if is_url(place) else None
    if host:
        return reason_words(reason, host)
    return _CLASS_NAME.sub("", reason)


def reason_words(reason: str, host: str | None = None) -> str:
    """A recorded reason (a failed request's, a scan's) as a person reads it: network failures
    in plain words, no library class names."""
    return network_words(reason, host) or _CLASS_NAME.sub("", reason)


def _is_httpx_error(exc: BaseException) -> bool:
    """An httpx error, judged without importing httpx for every other error: one of its
    exceptions means it is loaded already, and the start path must not load it."""
    if not type(exc).__module__.startswith("httpx"):
        return False
    import httpx

    return isinstance(exc, httpx.HTTPError)


def _network_message(exc: BaseException) -> UserMessage | None:
    """httpx's own errors (a request made outside the fetcher), and the fetcher's FetchError."""
    if isinstance(exc, core.Cancelled | NoticeIncomplete | ProviderLookupError):
        return None  # a cancel like any other; the two case errors have their own rows
    if _is_httpx_error(exc):
        host = None
        try:
            host = exc.request.url.host
        except RuntimeError:  # an error raised without its request
            pass
        words = network_words(f"{type(exc).__name__} {exc}", host) or f"could not reach {host or 'the site'}"
        return UserMessage("Could not reach the address", _sentence(words))
    if isinstance(exc, TakedownError):
        words = network_words(str(exc))
        return UserMessage("Removal request not sent", _sentence(words)) if words else None
    if isinstance(exc, FetchError):
        words = network_words(str(exc))
        if words:
            return UserMessage("Could not reach the address", _sentence(words))
        return UserMessage("Could not reach the address", _sentence(_CLASS_NAME.sub("", str(exc))))
    return None


def describe(exc: BaseException) -> UserMessage:
    """Words for an exception. Never includes secrets: core messages never carry them."""
    network = _network_message(exc)
    if network is not None:
        return network
    for cls, title, text in _immunizer_rows() + _watermark_rows() + _TABLE:
        if isinstance(exc, cls):
            severity = "info" if title == "Cancelled" or isinstance(exc, core.TotpRequired) else "error"
            return UserMessage(title, text or _sentence(str(exc)) or cls.__doc__ or title, severity)
    if isinstance(exc, OSError):
        text = _OS_REASONS.get(exc.errno or -1, f"The system reported: {exc.strerror or exc}.")
        return UserMessage("File problem", text)
    if isinstance(exc, MemoryError):
        return UserMessage("Out of memory", "The computer ran out of memory. Close other programs "
                                            "and try again with fewer photos at once.")
    return UserMessage(
        "Unexpected problem",
        f"Something unexpected went wrong ({type(exc).__name__}). Your vault was not changed by "
        "this error. If it keeps happening, please report it with the log file.",
    )


def explain(exc: BaseException) -> str:
    return describe(exc).text


class ErrorNotifier:
    """Collects uncaught exceptions from any thread and passes them to one sink.

    The sink is set by the application (it forwards to the UI thread with a queued signal);
    until then, errors are only logged.
    """

    def __init__(self) -> None:
        self._sink: Callable[[BaseException], None] | None = None
        self._lock = threading.Lock()

    def set_sink(self, sink: Callable[[BaseException], None] | None) -> None:
        with self._lock:
            self._sink = sink

    def notify(self, exc: BaseException) -> None:
        log.error("uncaught %s", type(exc).__name__, exc_info=exc)
        with self._lock:
            sink = self._sink
        if sink is not None:
            try:
                sink(exc)
            except Exception:  # noqa: BLE001 - the error reporter itself must never raise
                log.exception("the error sink failed")

    def excepthook(self, exc_type, exc, tb) -> None:  # sys.excepthook signature
        if issubclass(exc_type, KeyboardInterrupt):
            return
        self.notify(exc if exc is not None else exc_type())

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        self.notify(args.exc_value)


notifier = ErrorNotifier()
