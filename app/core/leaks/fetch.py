"""Polite, bounded, guarded HTTP fetching for leak scans.

The hosts a scan talks to may be hostile (the abuser may run the site), so:

* **bounded**: every download is capped while it streams, redirects are limited, and one
  deadline per request covers connecting, the headers and the body: a server that trickles its
  headers a byte at a time is cut off at `total_timeout` like any other. Every socket wait is cut
  into slices of at most `CANCEL_POLL` seconds, so the cancel event ends a fetch within a second.
* **guarded**: a page may not lead Sanctum into the user's own network (server-side request
  forgery). Each connection's addresses are resolved and classified *at connect time*, by our
  own network backend under httpx, so every redirect hop and every DNS answer (rebinding
  included) is checked on the address actually connected to. Loopback, private and link-local
  addresses are refused unless the user's own typed source is on that kind of network: a page
  the user typed on 192.168.1.5 may show images from it, a public page may not send us there.
  Only http and https are followed, on every hop.
* **polite**: each host is asked at most every `min_host_interval` seconds, 5xx answers are
  retried with back-off.
* **unremarkable**: a common browser's user agent and headers, so a host cannot pick a Sanctum
  user out of its logs. Validators (ETag / Last-Modified) are replayed only within one session
  (the vault keeps them in memory), never across sessions, where they would work like a cookie.

Every failure comes out as a `FetchError` (a `SanctumError`) whose message says why in words.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpcore
import httpx

from .errors import BlockedAddress, FetchCancelled, FetchError, HttpStatusError, NotFound, Refused  # noqa: F401 (re-exported)
from .netguard import (  # noqa: F401 (the network names are re-exported: callers name them from here)
    CANCEL_POLL,
    LINK_LOCAL,
    LOOPBACK,
    NETWORK_WORDS,
    PRIVATE,
    PUBLIC,
    SPECIAL,
    AddressRefused,
    BadCertificate,
    DeadlinePassed,
    GuardedBackend,
    IPAddress,
    WaitCancelled,
    address_of,
    deadline,
    network_of,
    resolve,
)

# A current desktop Chrome on Windows, the most common browser there is: a host sees one more
# visitor, not "a leak check". Refresh it with releases (a years-old version stands out too).
USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/142.0.0.0 Safari/537.36")
BROWSER_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
              "image/apng,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9",
}
MAX_BYTES = 25 * 1024 * 1024
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int = MAX_BYTES
    connect_timeout: float = 10.0
    read_timeout: float = 20.0  # longest silence between two bytes
    total_timeout: float = 60.0  # one deadline per request: connect, headers and body
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
    # Kept as evidence with what a scan finds (leaks.capture): the server's own clock and ours.
    server_date: str | None = None  # the response's Date header, as the server wrote it
    fetched_at: datetime | None = None  # UTC, when the answer's headers arrived


@dataclass
class CacheEntry:
    etag: str | None = None
    last_modified: str | None = None


# --- the fetcher ------------------------------------------------------------------------------


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


class _NotWeb(Exception):
    pass


def _only_web(request: httpx.Request) -> None:
    # Called by httpx before every hop, redirects included.
    if request.url.scheme not in ("http", "https"):
        raise _NotWeb(request.url.scheme)


@dataclass
class Fetcher:
    policy: FetchPolicy = field(default_factory=FetchPolicy)
    # Which network an address is on, and how names resolve. Tests pass a `network_of` that
    # calls one 127.0.0.1 server "public", to show a public page cannot lead to loopback
    # without ever touching another address.
    network_of: Callable[[IPAddress], str] = network_of
    resolve: Callable[[str, int], list[tuple[int, tuple]]] = resolve
    # Certificates trusted for https; None: the usual public CAs (certifi). Tests pass their own.
    ssl_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        self._clients: dict[frozenset[str], httpx.Client] = {}
        self._origin_networks: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()
        self._pacer = _HostPacer(self.policy.min_host_interval)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def allowed_networks(self, origin: str) -> frozenset[str]:
        """The public internet, plus the kinds of network the user's typed source is on."""
        parts = urlsplit(origin)
        host = parts.hostname or ""
        with self._lock:
            known = self._origin_networks.get(host)
        if known is not None:
            return known
        networks = {PUBLIC}
        try:
            networks |= {self.network_of(address_of(sockaddr))
                         for _, sockaddr in self.resolve(host, parts.port or 443)}
        except (OSError, ValueError):
            pass  # the fetch itself will say the name does not resolve
        networks.discard(SPECIAL)
        allowed = frozenset(networks)
        with self._lock:
            self._origin_networks[host] = allowed
        return allowed

    def _client(self, allowed: frozenset[str]) -> httpx.Client:
        # One client (and connection pool) per set of allowed networks, so a connection opened
        # for a typed local source is never reused for a request that may not go there.
        with self._lock:
            client = self._clients.get(allowed)
            if client is None:
                limits = httpx.Limits(max_connections=8, max_keepalive_connections=4)
                transport = httpx.HTTPTransport(limits=limits)
                # httpx has no parameter for httpcore's network backend, the one place that sees
                # the address actually connected to; its pool is rebuilt with ours.
                transport._pool = httpcore.ConnectionPool(
                    ssl_context=self.ssl_context or httpx.create_ssl_context(),
                    max_connections=limits.max_connections,
                    max_keepalive_connections=limits.max_keepalive_connections,
                    keepalive_expiry=limits.keepalive_expiry,
                    network_backend=GuardedBackend(allowed, self.network_of, self.resolve),
                )
                client = httpx.Client(
                    transport=transport,
                    headers=BROWSER_HEADERS,
                    timeout=httpx.Timeout(self.policy.read_timeout, connect=self.policy.connect_timeout),
                    follow_redirects=True,
                    max_redirects=self.policy.max_redirects,
                    event_hooks={"request": [_only_web]},
                    trust_env=False,  # no ~/.netrc credentials sent to hosts that may be hostile
                )
                self._clients[allowed] = client
            return client

    def get(self, url: str, cache: CacheEntry | None = None, cancel: threading.Event | None = None,
            origin: str | None = None) -> Fetched:
        """Download `url`. `origin` is the source the user typed that led here (the page an
        image is on); it decides which local networks may be reached. Default: `url` itself."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not a web address: {url}")
        allowed = self.allowed_networks(origin or url)
        headers = {}
        if cache and cache.etag:
            headers["If-None-Match"] = cache.etag
        if cache and cache.last_modified:
            headers["If-Modified-Since"] = cache.last_modified
        delay = self.policy.backoff
        for attempt in range(self.policy.retries + 1):
            if cancel is not None and cancel.is_set():
                raise FetchCancelled()
            self._pacer.wait(parts.hostname, cancel)
            try:
                return self._get_once(url, headers, cancel, allowed)
            except _Retryable as exc:
                if attempt == self.policy.retries:
                    raise FetchError(str(exc)) from None
                if cancel is not None:
                    cancel.wait(delay)
                else:
                    time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def request(self, method: str, url: str, headers: dict | None = None,
                cancel: threading.Event | None = None) -> int:
        """A single small request (a deletion link, an API call): returns the HTTP status."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not a web address: {url}")
        client = self._client(self.allowed_networks(url))
        self._pacer.wait(parts.hostname, cancel)
        with self._guard(url), deadline(self.policy.total_timeout, cancel):
            return client.request(method, url, headers=headers).status_code

    def _get_once(self, url: str, headers: dict, cancel: threading.Event | None,
                  allowed: frozenset[str]) -> Fetched:
        client = self._client(allowed)
        with self._guard(url), deadline(self.policy.total_timeout, cancel), \
                client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            server_date, fetched_at = response.headers.get("date"), datetime.now(UTC)
            if status == 304:
                return Fetched(str(response.url), 304, None, "", response.headers.get("etag"),
                               response.headers.get("last-modified"), server_date, fetched_at)
            if status >= 500:
                raise _Retryable(f"the server failed (HTTP {status})")
            if status in (404, 410):
                raise NotFound(f"not found (HTTP {status}): it may have been removed", status)
            if status == 429:
                raise Refused("the server is limiting requests (HTTP 429): try again later", status)
            if not 200 <= status < 300:
                raise Refused(f"refused by the server (HTTP {status})", status)
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.policy.max_bytes:
                raise FetchError(f"too large ({int(declared) // 2**20} MB; the limit is "
                                 f"{self.policy.max_bytes // 2**20} MB)")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.policy.max_bytes:
                    raise FetchError(f"too large (over {self.policy.max_bytes // 2**20} MB)")
                if cancel is not None and cancel.is_set():
                    raise FetchCancelled()
                chunks.append(chunk)
            return Fetched(
                url=str(response.url),
                status=status,
                content=b"".join(chunks),
                content_type=response.headers.get("content-type", ""),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                server_date=server_date,
                fetched_at=fetched_at,
            )

    @contextlib.contextmanager
    def _guard(self, url: str) -> Iterator[None]:
        """Every way a request can fail, as a FetchError in words (or _Retryable)."""
        try:
            yield
        except WaitCancelled:
            raise FetchCancelled() from None
        except DeadlinePassed:
            raise FetchError(f"the server is too slow (gave up after {self.policy.total_timeout:g} s)") from None
        except AddressRefused as exc:
            raise BlockedAddress(
                f"refused: {exc.host} is on {NETWORK_WORDS.get(exc.network, exc.network)}, and the "
                "address you gave is not; a page on the internet may not lead Sanctum there") from None
        except BadCertificate as exc:  # not retried: it will not get better in a second
            raise FetchError(f"the site's security certificate is not valid ({exc})") from None
        except (_NotWeb, httpx.UnsupportedProtocol):
            raise FetchError("redirected to something that is not a web address (only http and "
                             "https are followed)") from None
        except httpx.TooManyRedirects:
            raise FetchError(f"too many redirects (more than {self.policy.max_redirects})") from None
        except httpx.DecodingError:
            raise FetchError("the server sent a damaged answer (its compression is broken)") from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise _Retryable(f"could not connect ({type(exc).__name__})") from None
        except httpx.TimeoutException:
            raise _Retryable("the server did not answer in time") from None
        except httpx.InvalidURL:
            raise FetchError(f"not a valid web address: {url}") from None
        except (httpx.HTTPError, httpx.StreamError) as exc:  # anything else httpx may raise
            raise FetchError(f"the download failed ({type(exc).__name__})") from None


class _Retryable(FetchError):
    pass
