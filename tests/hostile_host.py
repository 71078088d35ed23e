"""Hosts that misbehave on purpose, for the scan's hostile-host tests, on 127.0.0.1 or ::1 only:
a server that trickles its headers a byte at a time, redirects to file:// or to another
server, a gzip body that does not decompress, answers 403 / 429 / 404, and logs the headers it
is sent; over http or https (`tls_pair` makes a certificate for 127.0.0.1). Everything is
bounded in time and stops with the test."""

from __future__ import annotations

import ssl
import time

from .loopback_host import LoopbackHost, QuietHandler


class HostileHost(LoopbackHost):
    def __init__(self, address: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.images: dict[str, bytes] = {}
        self.pages: dict[str, str] = {}
        self.redirects: dict[str, str] = {}  # path -> Location
        self.statuses: dict[str, int] = {}  # path -> status to answer with
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, headers) of each request
        super().__init__(self._handler(), address=address, tls=tls, name="hostile-host")

    def _handler(self):
        host = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?", 1)[0]
                host.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
                if path in host.statuses:
                    return self._send(host.statuses[path], b"no", "text/plain")
                if path in host.redirects:
                    return self._send(302, b"", "text/plain", {"Location": host.redirects[path]})
                if path.startswith("/i/") and path[3:] in host.images:
                    data = host.images[path[3:]]
                    return self._send(200, data, "image/jpeg", {"ETag": '"v1"', "Last-Modified":
                                                               "Mon, 07 Dec 2026 04:00:00 GMT"})
                if path.startswith("/page/") and path[6:] in host.pages:
                    return self._send(200, host.pages[path[6:]].encode(), "text/html; charset=utf-8")
                if path == "/bad-gzip.jpg":
                    return self._send(200, b"\x1f\x8b\x08\x00 this is not deflate data at all",
                                      "image/jpeg", {"Content-Encoding": "gzip"})
                if path == "/trickle.jpg":
                    # Headers one byte every 0.2 s: never silent for a read timeout, never done.
                    # Bounded at 60 s in case the client never gives up.
                    try:
                        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Padding: ")
                        self.wfile.flush()
                        for _ in range(300):
                            time.sleep(0.2)
                            self.wfile.write(b"a")
                            self.wfile.flush()
                    except OSError:
                        pass
                    self.close_connection = True
                    return None
                return self._send(404, b"not found", "text/plain")

        return Handler


def tls_pair() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a fresh self-signed 127.0.0.1 certificate."""
    import datetime
    import ipaddress
    import tempfile
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as folder:  # load_cert_chain reads files only
        (Path(folder) / "cert.pem").write_bytes(cert_pem)
        (Path(folder) / "key.pem").write_bytes(key_pem)
        server.load_cert_chain(Path(folder) / "cert.pem", Path(folder) / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client
