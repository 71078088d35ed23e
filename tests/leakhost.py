"""A small fake image host on 127.0.0.1 for scan tests: uploads, pages, deletion links, and
the misbehaviours real servers show (slow, huge, redirect loops, HTML posing as JPEG,
endless bodies, flaky 5xx). Everything is bounded in time and size and stops with the test."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections import Counter

from .loopback_host import LoopbackHost, QuietHandler


class ImageHost(LoopbackHost):
    def __init__(self) -> None:
        self.images: dict[str, bytes] = {}
        self.delete_tokens: dict[str, str] = {}
        self.pages: dict[str, str] = {}
        self.hits: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.flaky_failures: dict[str, int] = {}
        super().__init__(self._handler(), name="leakhost")

    def upload(self, data: bytes, ext: str = "jpg") -> tuple[str, str]:
        """Store an image; returns (its URL, its deletion link) as image hosts do."""
        name = f"{secrets.token_hex(4)}.{ext}"
        token = secrets.token_hex(8)
        self.images[name] = data
        self.delete_tokens[token] = name
        return f"{self.base}/i/{name}", f"{self.base}/delete/{token}"

    def add_page(self, name: str, html: str) -> str:
        self.pages[name] = html
        return f"{self.base}/page/{name}"

    def _handler(self):
        host = self

        class Handler(QuietHandler):
            def do_DELETE(self) -> None:  # noqa: N802 - an Imgur-style API: DELETE /3/image/{delete_hash}
                path = self.path.split("?", 1)[0]
                host.hits[path] += 1
                if not self.headers.get("Authorization", "").startswith("Client-ID "):
                    return self._send(403, b'{"success": false}', "application/json")
                name = host.delete_tokens.pop(path.rsplit("/", 1)[-1], None)
                if not path.startswith("/3/image/") or name is None:
                    return self._send(404, b'{"success": false}', "application/json")
                host.images.pop(name, None)
                return self._send(200, b'{"success": true}', "application/json")

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?", 1)[0]
                host.hits[path] += 1
                if path.startswith("/i/"):
                    name = path[3:]
                    if name not in host.images:
                        return self._send(404, b"gone", "text/plain")
                    data = host.images[name]
                    etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
                    if self.headers.get("If-None-Match") == etag:
                        host.not_modified[path] += 1
                        self.send_response(304)
                        self.send_header("ETag", etag)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return None
                    return self._send(200, data, "image/jpeg", {"ETag": etag})
                if path.startswith("/page/"):
                    html = host.pages.get(path[6:])
                    if html is None:
                        return self._send(404, b"no page", "text/plain")
                    return self._send(200, html.encode(), "text/html; charset=utf-8")
                if path.startswith("/delete/"):
                    name = host.delete_tokens.pop(path[8:], None)
                    if name is None:
                        return self._send(404, b"unknown link", "text/plain")
                    host.images.pop(name, None)
                    return self._send(200, json.dumps({"deleted": name}).encode(), "application/json")
                if path == "/slow.jpg":
                    time.sleep(3)  # longer than the tests' read timeout
                    return self._send(200, b"late", "image/jpeg")
                if path == "/huge.jpg":
                    # Declares 200 MB; the client must refuse before reading it.
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(200 * 2**20))
                    self.end_headers()
                    try:
                        for _ in range(64):
                            self.wfile.write(b"\xff" * 65536)
                    except OSError:
                        pass
                    return None
                if path == "/endless.jpg":
                    # Chunked with no end: the size cap must stop it. Bounded here as well.
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    chunk = b"\xff\xd8\xff" + b"\0" * 65533
                    try:
                        for _ in range(2000):  # at most ~128 MB, in case the client never stops
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    except OSError:
                        pass
                    self.close_connection = True
                    return None
                if path == "/loop.jpg":
                    self.send_response(302)
                    self.send_header("Location", "/loop.jpg")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if path == "/fake.jpg":
                    return self._send(200, b"<!DOCTYPE html><html><body>Login required</body></html>", "image/jpeg")
                if path.startswith("/flaky/"):
                    left = host.flaky_failures.get(path, 0)
                    if left > 0:
                        host.flaky_failures[path] = left - 1
                        return self._send(503, b"try later", "text/plain")
                    return self._send(200, host.images[path[7:]], "image/jpeg")
                return self._send(404, b"not found", "text/plain")

        return Handler
