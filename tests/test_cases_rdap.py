"""The hosting provider's abuse contact by RDAP, against a real RDAP responder on 127.0.0.1 (the
registry map points whoisit at it); a site that resolves into a private network is never
looked up."""

from __future__ import annotations

import pytest

from app.core.leaks import rdap
from app.core.leaks.enums import NoticeAudience
from app.core.leaks.errors import ProviderLookupError

from .rdaphost import RdapHost
from .test_cases import DANA, _record_copy, stock

PUBLIC = "8.8.4.4"  # any public address: the lookup only asks the responder about it


@pytest.fixture
def registry():
    server = RdapHost().start()
    yield server
    server.stop()


def test_the_abuse_contact_nested_under_the_organisation_is_found(registry):
    registry.add_network(PUBLIC, "EXAMPLE-NET", "Example Hosting Ltd", "abuse@hosting.example")
    found = rdap.abuse_contact("pics.example", resolve=lambda host: [PUBLIC], bootstrap=registry.bootstrap())
    assert found.abuse_emails == ("abuse@hosting.example",)
    assert (found.address, found.network, found.organisation) == (PUBLIC, "EXAMPLE-NET", "Example Hosting Ltd")
    assert found.registry_url == f"{registry.base}ip/{PUBLIC}" and registry.hits[f"/ip/{PUBLIC}"] == 1


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.7", "169.254.1.1", "::1", "fd00::5"])
def test_a_site_in_a_private_network_is_never_looked_up(registry, address):
    with pytest.raises(ProviderLookupError, match="private or special"):
        rdap.abuse_contact("intranet.example", resolve=lambda host: [PUBLIC, address],
                           bootstrap=registry.bootstrap())
    assert not registry.hits


def test_an_unknown_network_is_a_clear_error(registry):
    with pytest.raises(ProviderLookupError, match="registry could not be asked"):
        rdap.abuse_contact("pics.example", resolve=lambda host: [PUBLIC], bootstrap=registry.bootstrap())
    assert registry.hits[f"/ip/{PUBLIC}"] >= 1


def test_escalation_goes_to_the_provider_found_for_the_case(vault, registry):
    vault, ids = stock(vault)
    registry.add_network(PUBLIC, "EXAMPLE-NET", "Example Hosting Ltd", "abuse@hosting.example")
    _record_copy(vault, "https://img.pics.example/a.jpg", ids["dog"])
    case = vault.list_cases()[0]
    vault.lookup_provider(case.id, resolve=lambda host: [PUBLIC], bootstrap=registry.bootstrap())
    assert vault.case(case.id).provider["abuse_emails"] == ["abuse@hosting.example"]
    notice = vault.draft_notice(case.id, "dsa", DANA, audience=NoticeAudience.PROVIDER)
    assert notice.to == "abuse@hosting.example"
    assert notice.text.startswith("To the abuse team of Example Hosting Ltd,") and PUBLIC in notice.text
