"""The hosting provider's abuse contact, by RDAP (the registries' JSON successor of WHOIS), for
escalating when a site does not answer.

The site's name is resolved to its addresses; only a public address is ever looked up (a name
that resolves into a private, loopback or special network is refused, as `fetch.network_of`
decides for scans). The query goes to the regional internet registry that holds the address
(found through IANA's bootstrap files, fetched on the first lookup), never to the site.
`whoisit` does the RDAP part; `bootstrap` lets a caller hand it the registry map instead of
fetching it (tests point it at a responder on 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ProviderLookupError

log = logging.getLogger(__name__)

# whoisit keeps its registry map in module state: one lookup at a time.
_lock = threading.Lock()


@dataclass(frozen=True)
class ProviderContact:
    host: str
    address: str  # the public IP address looked up
    network: str  # the network's name or handle, as the registry has it
    organisation: str  # the provider's name, when the registry gives one
    abuse_emails: tuple[str, ...]
    registry_url: str  # the RDAP record, for the user to read

    def to_json(self) -> dict:
        return {"host": self.host, "address": self.address, "network": self.network,
                "organisation": self.organisation, "abuse_emails": list(self.abuse_emails),
                "registry_url": self.registry_url}


def system_resolve(host: str) -> list[str]:
    try:
        return [info[4][0] for info in socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)]
    except (OSError, UnicodeError) as exc:
        raise ProviderLookupError(f"The name {host} could not be resolved ({exc}).") from None


def public_address(host: str, resolve: Callable[[str], list[str]] = system_resolve) -> str:
    """The first address of `host`, refusing any that is not public."""
    from .fetch import PUBLIC, network_of

    addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(host)]
    if not addresses:
        raise ProviderLookupError(f"The name {host} has no address.")
    for address in addresses:
        if network_of(address) != PUBLIC:
            raise ProviderLookupError(f"{host} points into a private or special network: there is no public "
                                      "provider to look up.")
    return addresses[0].compressed


def _vcard_field(entity: dict, name: str) -> list[str]:
    card = entity.get("vcardArray") or []
    items = card[1] if len(card) > 1 and isinstance(card[1], list) else []
    return [str(item[3]) for item in items if isinstance(item, list) and len(item) > 3 and item[0] == name]


def _walk(entities: list, found: dict[str, list[str]]) -> None:
    """Abuse contacts sit at any depth (ARIN nests them under the organisation)."""
    for entity in entities or []:
        if not isinstance(entity, dict):
            continue
        roles = set(entity.get("roles") or [])
        if "abuse" in roles:
            found["abuse"] += _vcard_field(entity, "email")
        if roles & {"registrant", "administrative"} and not found["org"]:
            found["org"] += _vcard_field(entity, "fn")
        _walk(entity.get("entities") or [], found)


def abuse_contact(host: str, *, resolve: Callable[[str], list[str]] = system_resolve,
                  bootstrap: str | None = None) -> ProviderContact:
    """Who hosts `host`, and where to report abuse to them."""
    import requests
    import whoisit
    from whoisit.errors import WhoisItError

    address = public_address(host, resolve)
    with _lock:
        try:
            if bootstrap is not None:
                whoisit.clear_bootstrapping()
                # a given map may name plain-http responders (a local one in tests)
                whoisit.load_bootstrap_data(bootstrap, allow_insecure=True)
            elif not whoisit.is_bootstrapped():
                whoisit.bootstrap()
            _method, url, _ = whoisit.build_query(query_type="ip", query_value=address)
            # raw: the nested entities as the registry sent them (the abuse role sits deep in them)
            record = whoisit.ip(address, raw=True)
        except (WhoisItError, requests.RequestException, ValueError) as exc:
            raise ProviderLookupError(f"The registry could not be asked about {host} "
                                      f"({type(exc).__name__}).") from None
        finally:
            if bootstrap is not None:
                whoisit.clear_bootstrapping()  # the next real lookup must not reach the given map
    found: dict[str, list[str]] = {"abuse": [], "org": []}
    _walk(record.get("entities") or [], found)
    emails = tuple(dict.fromkeys(e.strip() for e in found["abuse"] if "@" in e))
    return ProviderContact(host, address, str(record.get("name") or record.get("handle") or ""),
                           found["org"][0] if found["org"] else "", emails, url)
