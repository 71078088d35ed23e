"""A small RDAP responder on 127.0.0.1: what a regional internet registry answers about an IP
address, with the abuse contact nested under the organisation as ARIN does. `bootstrap()` is the
IANA-style registry map pointing every lookup here, for `rdap.abuse_contact(bootstrap=...)`."""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _vcard(name: str, email: str | None = None) -> list:
    items = [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]
    if email:
        items.append(["email", {}, "text", email])
    return ["vcard", items]


class RdapHost:
    def __init__(self) -> None:
        self.records: dict[str, dict] = {}
        self.hits: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="rdaphost", daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def start(self) -> RdapHost:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def add_network(self, address: str, name: str, organisation: str, abuse_email: str) -> None:
        self.records[address] = {
            "objectClassName": "ip network", "handle": f"NET-{address}", "name": name,
            "startAddress": address, "endAddress": address, "ipVersion": "v4" if "." in address else "v6",
            "entities": [{
                "objectClassName": "entity", "handle": "ORG-1", "roles": ["registrant"],
                "vcardArray": _vcard(organisation),
                "entities": [{"objectClassName": "entity", "handle": "ABUSE-1", "roles": ["abuse"],
                              "vcardArray": _vcard("Abuse desk", abuse_email)}],
            }],
        }

    def bootstrap(self) -> str:
        """An IANA bootstrap map sending every kind of lookup to this responder."""
        here = [self.base]
        return json.dumps({
            "timestamp": 1_700_000_000,
            "ipv4": {"services": [[["0.0.0.0/0"], here]]},
            "ipv6": {"services": [[["::/0"], here]]},
            "asn": {"services": [[["1-4199999999"], here]]},
            "dns": {"services": [[["example"], here]]},
            "object": {"services": [[["test@example.org"], ["TEST"], here]]},
        })

    def _handler(self):
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                host.hits[self.path] += 1
                address = self.path.rsplit("/", 1)[-1]
                record = host.records.get(address) if self.path.startswith("/ip/") else None
                body = json.dumps(record or {"errorCode": 404, "title": "Not Found"}).encode()
                self.send_response(200 if record else 404)
                self.send_header("Content-Type", "application/rdap+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
