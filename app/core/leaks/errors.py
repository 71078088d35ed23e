"""What can go wrong fetching and sending, in a light module: the UI's error table and the
start path read these without loading the HTTP client (`fetch.py` pulls in httpx)."""

from __future__ import annotations

from ..errors import Cancelled, SanctumError


class FetchError(SanctumError):
    """A source could not be fetched; the message says why in words."""


class HttpStatusError(FetchError):
    """The server answered, with a status that is not the content."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class NotFound(HttpStatusError):
    """404 or 410: the address no longer serves anything."""


class Refused(HttpStatusError):
    """Any other 4xx (403 forbidden, 429 too many requests, 401...): the host would not say."""


class FetchCancelled(FetchError, Cancelled):
    """The scan's cancel event was set during the fetch. Still a FetchError (with the message
    "cancelled"), so the scan's own handling of a failed fetch is unchanged."""

    default_message = "cancelled"


class BlockedAddress(FetchError):
    """The address (or a redirect) leads into a network the typed source is not on."""


class TakedownError(SanctumError):
    default_message = "The removal request could not be sent."


class NoticeIncomplete(TakedownError):
    """A notice may not be sent: a part its law requires is missing (the message names them)."""


class ProviderLookupError(FetchError):
    """The site's hosting provider could not be found by RDAP (the message says why)."""


class EvidenceError(SanctumError):
    """An evidence report could not be made or read (no such copy, a damaged signature file)."""

    default_message = "The evidence report could not be made."


class BrowserUnavailable(SanctumError):
    """No Chromium, Chrome or Edge to read a page that builds its images with JavaScript."""

    default_message = "No Chromium, Chrome or Edge was found to read pages built by JavaScript."


class WatchError(SanctumError):
    """The watch list refused a change: no such place, nothing to watch, an interval out of range."""

    default_message = "The watch list could not be changed."
