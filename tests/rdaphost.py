"""A small RDAP responder on 127.0.0.1: what a regional internet registry answers about an IP
address, with the abuse contact nested under the organisation as ARIN does. `bootstrap()` is the
IANA-style registry map pointing every lookup here, for `rdap.abuse_contact(bootstrap=...)`."""

from __future__ import annotations

import json
from collections import Counter

from .loopback_host import LoopbackHost, QuietHandler


def _vcard(name: str, email: str | None = None) -> list:
    items = [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]
    if email:
        items.append(["email", {}, "text", email])
    return ["vcard", items]


class RdapHost(LoopbackHost):
    def __init__(self) -> None:
        self.records: dict[str, dict] = {}
        self.hits: Counter[str] = Counter()
        super().__init__(self._handler(), name="rdaphost")

    @property
    def base(self) -> str:
        return super().base + "/"  # RDAP base URLs end in a slash

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

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                host.hits[self.path] += 1
                address = self.path.rsplit("/", 1)[-1]
                record = host.records.get(address) if self.path.startswith("/ip/") else None
                body = json.dumps(record or {"errorCode": 404, "title": "Not Found"}).encode()
                self._send(200 if record else 404, body, "application/rdap+json")

        return Handler
