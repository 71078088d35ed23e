"""What the fake web hosts of the tests share (`leakhost.ImageHost`, `hostile_host.HostileHost`):
a threaded HTTP server on a loopback address and a free port, served from a daemon thread that
starts and stops with the test, and a request handler that stays quiet and sends whole answers."""

from __future__ import annotations

import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LoopbackHost:
    """A server on `address` (127.0.0.1 or ::1: nothing here is reachable from another machine),
    over https when given a server `tls` context. Subclasses add what they serve."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, address: str = "127.0.0.1",
                 tls: ssl.SSLContext | None = None, name: str = "loopback-host") -> None:
        self.address = address
        self.scheme = "https" if tls else "http"
        family = socket.AF_INET6 if ":" in address else socket.AF_INET

        class Server(ThreadingHTTPServer):
            address_family = family
            daemon_threads = True

        self._server = Server((address, 0), handler)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)

    @property
    def base(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{host}:{self._server.server_address[1]}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 (kept-alive connections, as real hosts), no request log in the test output."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
