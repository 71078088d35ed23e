"""Polite, bounded HTTP fetching for leak scans.

Every download is capped while it streams (a hostile or broken server cannot fill memory or
disk), redirects are limited, each host is asked at most every `min_host_interval` seconds,
5xx answers are retried with back-off, and answers are revalidated by ETag / Last-Modified
so a re-scan of an unchanged page costs one short request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..errors import SanctumError

if TYPE_CHECKING:
    pass

USER_AGENT = "Sanctum/0.1 (personal leak check; https://github.com/sanctum-app)"
MAX_BYTES = 25 * 1024 * 1024
MAX_REDIRECTS = 5


class FetchError(SanctumError):
    """A source could not be fetched; the message says why in words."""


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int = MAX_BYTES
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0  # a trickling server is cut off after this, whatever it sends
    max_redirects: int = MAX_REDIRECTS
    retries: int = 2  # extra attempts after a 5xx or a dropped connection
    backoff: float = 1.0  # seconds before the first retry, doubling after
    min_host_interval: float = 0.5  # seconds between two requests to one host


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int  # 200, or 304 when the cached copy is still current
    content: bytes | None  # None on 304
    content_type: str
    etag: str | None
    last_modified: str | None


@dataclass
class CacheEntry:
    etag: str | None = None
    last_modified: str | None = None


class _HostPacer:
    """Keeps at least `interval` seconds between requests to the same host."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str, cancel: threading.Event | None) -> None:
        with self._lock:
            now = self.clock()
            slot = max(now, self._next_slot.get(host, 0.0))
            self._next_slot[host] = slot + self.interval
        delay = slot - now
        if delay > 0:
            if cancel is not None:
                cancel.wait(delay)
            else:
                time.sleep(delay)


@dataclass
class Fetcher:
    policy: FetchPolicy = field(default_factory=FetchPolicy)

    def __post_init__(self) -> None:
        import httpx  # here, not at the top: opening the app needs no HTTP client (~0.05 s)

        self._client = httpx.Client(
            headers={"User-Agent": USER_AGENT, "Accept": "image/*,text/html;q=0.8,*/*;q=0.5"},
            timeout=httpx.Timeout(self.policy.read_timeout, connect=self.policy.connect_timeout),
            follow_redirects=True,
            max_redirects=self.policy.max_redirects,
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
        )
        self._pacer = _HostPacer(self.policy.min_host_interval)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, cache: CacheEntry | None = None, cancel: threading.Event | None = None) -> Fetched:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not a web address: {url}")
        headers = {}
        if cache and cache.etag:
            headers["If-None-Match"] = cache.etag
        if cache and cache.last_modified:
            headers["If-Modified-Since"] = cache.last_modified
        delay = self.policy.backoff
        for attempt in range(self.policy.retries + 1):
            if cancel is not None and cancel.is_set():
                raise FetchError("cancelled")
            self._pacer.wait(parts.hostname, cancel)
            try:
                result = self._get_once(url, headers, cancel)
            except _Retryable as exc:
                if attempt == self.policy.retries:
                    raise FetchError(str(exc)) from None
                if cancel is not None:
                    cancel.wait(delay)
                else:
                    time.sleep(delay)
                delay *= 2
                continue
            return result
        raise AssertionError("unreachable")

    def request(self, method: str, url: str, headers: dict | None = None) -> int:
        """A single small request (a deletion link, an API call): returns the HTTP status."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not a web address: {url}")
        import httpx  # loaded by __post_init__ already: a dictionary look-up

        self._pacer.wait(parts.hostname, None)
        try:
            response = self._client.request(method, url, headers=headers)
        except httpx.TooManyRedirects:
            raise FetchError(f"too many redirects (more than {self.policy.max_redirects})") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"could not reach the host ({type(exc).__name__})") from None
        return response.status_code

    def _get_once(self, url: str, headers: dict, cancel: threading.Event | None = None) -> Fetched:
        import httpx  # loaded by __post_init__ already: a dictionary look-up

        started = time.monotonic()
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304:
                    return Fetched(str(response.url), 304, None, "", response.headers.get("etag"),
                                   response.headers.get("last-modified"))
                if response.status_code >= 500:
                    raise _Retryable(f"the server failed (HTTP {response.status_code})")
                if response.status_code == 404 or response.status_code == 410:
                    raise FetchError(f"not found (HTTP {response.status_code}): it may have been removed")
                if response.status_code >= 400:
                    raise FetchError(f"refused by the server (HTTP {response.status_code})")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.policy.max_bytes:
                    raise FetchError(f"too large ({int(declared) // 2**20} MB; the limit is "
                                     f"{self.policy.max_bytes // 2**20} MB)")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.policy.max_bytes:
                        raise FetchError(f"too large (over {self.policy.max_bytes // 2**20} MB)")
                    if time.monotonic() - started > self.policy.total_timeout:
                        raise FetchError("the server is too slow (gave up)")
                    if cancel is not None and cancel.is_set():
                        raise FetchError("cancelled")
                    chunks.append(chunk)
                return Fetched(
                    url=str(response.url),
                    status=response.status_code,
                    content=b"".join(chunks),
                    content_type=response.headers.get("content-type", ""),
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                )
        except httpx.TooManyRedirects:
            raise FetchError(f"too many redirects (more than {self.policy.max_redirects})") from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise _Retryable(f"could not connect ({type(exc).__name__})") from None
        except httpx.TimeoutException:
            raise _Retryable("the server did not answer in time") from None
        except httpx.InvalidURL:
            raise FetchError(f"not a valid web address: {url}") from None


class _Retryable(Exception):
    pass
