"""The network under leak-scan fetches: which network an address is on, and connections that
obey a per-request deadline and the cancel event down to every socket wait.

`fetch.Fetcher` builds its httpx client on `GuardedBackend`: each connection's addresses are
resolved and classified *at connect time*, so every redirect hop and every DNS answer (rebinding
included) is checked on the address actually connected to (see fetch.py for the policy).
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpcore

CANCEL_POLL = 0.25  # longest single socket wait: the cancel event is looked at this often

PUBLIC, LOOPBACK, PRIVATE, LINK_LOCAL, SPECIAL = "public", "loopback", "private", "link-local", "special"
NETWORK_WORDS = {
    LOOPBACK: "this computer (loopback)",
    PRIVATE: "a private network (home, office or provider)",
    LINK_LOCAL: "the local link (router and device setup pages)",
    SPECIAL: "a special-purpose address",
}
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: a provider's LAN
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # "0.0.0.0" reaches this computer on Linux

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# --- which network an address is on ----------------------------------------------------------


def network_of(address: IPAddress) -> str:
    """PUBLIC, LOOPBACK, PRIVATE, LINK_LOCAL or SPECIAL (never connected to)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if address.is_loopback:
        return LOOPBACK
    if address.is_link_local:
        return LINK_LOCAL
    if (address.is_unspecified or address.is_multicast or address.is_reserved
            or (address.version == 4 and address in _THIS_NETWORK)):
        return SPECIAL
    if address.is_private or (address.version == 4 and address in _SHARED_ADDRESS_SPACE):
        return PRIVATE
    return PUBLIC if address.is_global else SPECIAL


def resolve(host: str, port: int) -> list[tuple[int, tuple]]:
    """(family, socket address) pairs for a host, as getaddrinfo gives them."""
    return [(family, sockaddr) for family, _, _, _, sockaddr
            in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def address_of(sockaddr: tuple) -> IPAddress:
    return ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # fe80::1%eth0: drop the zone


# --- one deadline per request, and cancel, down to every socket wait ----------------------------


class DeadlinePassed(Exception):
    pass


class WaitCancelled(Exception):
    pass


class BadCertificate(Exception):
    pass


class AddressRefused(Exception):
    def __init__(self, host: str, network: str):
        super().__init__(host)
        self.host, self.network = host, network


@dataclass(frozen=True)
class _Deadline:
    at: float  # time.monotonic()
    cancel: threading.Event | None


# The request a thread is making: the sync client reads and writes sockets in the calling
# thread, so the network stream below finds the deadline of the request it is serving here.
_current = threading.local()


@contextlib.contextmanager
def deadline(seconds: float, cancel: threading.Event | None) -> Iterator[None]:
    previous = getattr(_current, "deadline", None)
    _current.deadline = _Deadline(time.monotonic() + seconds, cancel)
    try:
        yield
    finally:
        _current.deadline = previous


def _wait_slice(give_up: float, on_timeout: type[Exception]) -> float:
    """How long the next socket wait may last; raises when cancelled or out of time."""
    now = time.monotonic()
    deadline: _Deadline | None = getattr(_current, "deadline", None)
    limit = min(CANCEL_POLL, give_up - now)
    if deadline is not None:
        if deadline.cancel is not None and deadline.cancel.is_set():
            raise WaitCancelled()
        if now >= deadline.at:
            raise DeadlinePassed()
        limit = min(limit, deadline.at - now)
    if limit <= 0:
        raise on_timeout("timed out")
    return limit


def _give_up(timeout: float | None) -> float:
    return time.monotonic() + timeout if timeout is not None else float("inf")


class _Stream(httpcore.NetworkStream):
    """A socket whose every wait is sliced (cancel, deadline). A recv or send that timed out
    consumed nothing, so it is simply tried again, for plain and TLS sockets alike."""

    def __init__(self, sock: socket.socket):
        self._sock = sock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        give_up = _give_up(timeout)
        while True:
            self._sock.settimeout(_wait_slice(give_up, httpcore.ReadTimeout))
            try:
                return self._sock.recv(max_bytes)
            except TimeoutError:
                continue
            except OSError as exc:
                raise httpcore.ReadError(str(exc)) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        give_up = _give_up(timeout)
        while buffer:
            self._sock.settimeout(_wait_slice(give_up, httpcore.WriteTimeout))
            try:
                sent = self._sock.send(buffer)
            except TimeoutError:
                continue
            except OSError as exc:
                raise httpcore.WriteError(str(exc)) from exc
            buffer = buffer[sent:]

    def close(self) -> None:
        self._sock.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> _Stream:
        give_up = _give_up(timeout)
        try:
            tls = ssl_context.wrap_socket(self._sock, server_hostname=server_hostname,
                                          do_handshake_on_connect=False)
            while True:
                tls.settimeout(_wait_slice(give_up, httpcore.ConnectTimeout))
                try:
                    tls.do_handshake()
                    return _Stream(tls)
                except TimeoutError:
                    continue
        except ssl.SSLCertVerificationError as exc:
            self._sock.close()
            raise BadCertificate(exc.verify_message or "not trusted") from exc
        except OSError as exc:  # other ssl.SSLErrors are OSErrors too
            self._sock.close()
            raise httpcore.ConnectError(str(exc)) from exc

    def get_extra_info(self, info: str) -> object:
        if info == "ssl_object":
            return self._sock if isinstance(self._sock, ssl.SSLSocket) else None
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":  # an idle pooled connection the server has closed
            if self._sock.fileno() == -1:
                return True
            with selectors.DefaultSelector() as selector:
                selector.register(self._sock, selectors.EVENT_READ)
                return bool(selector.select(0))
        return None


def _connect(family: int, sockaddr: tuple, timeout: float | None) -> socket.socket:
    """A non-blocking connect waited for in slices, so cancel and the deadline apply."""
    give_up = _give_up(timeout)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        error = sock.connect_ex(sockaddr)
        if error not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, 10035):  # 10035: Windows
            raise OSError(error, os.strerror(error))
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_WRITE)
            while error != 0:
                if selector.select(_wait_slice(give_up, httpcore.ConnectTimeout)):
                    error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if error:
                        raise OSError(error, os.strerror(error))
                    break
        sock.setblocking(True)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    except BaseException:
        sock.close()
        raise


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to addresses on the networks `allowed`, checked on the very address used."""

    def __init__(self, allowed: frozenset[str], classify: Callable[[IPAddress], str],
                 resolver: Callable[[str, int], list[tuple[int, tuple]]]):
        self.allowed = allowed
        self.classify = classify
        self.resolver = resolver

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: object = None) -> _Stream:
        try:
            addresses = self.resolver(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"the name {host} could not be resolved") from exc
        refused, failure = None, None
        for family, sockaddr in addresses:
            network = self.classify(address_of(sockaddr))
            if network not in self.allowed:
                refused = network
                continue
            try:
                return _Stream(_connect(family, sockaddr, timeout))
            except OSError as exc:
                failure = exc
        if failure is None and refused is not None:
            raise AddressRefused(host, refused)
        raise httpcore.ConnectError(str(failure or f"no address for {host}"))

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: object = None):
        raise httpcore.ConnectError("local sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
