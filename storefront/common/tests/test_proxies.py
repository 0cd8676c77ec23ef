"""The client address every per-client limit counts: X-Forwarded-For only through the trusted
proxies, read from the right, and never a client's own entry."""

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from storefront.common.proxies import client_address, trusted_networks

PROXIES = "10.0.0.0/8, 2001:db8:f::/48"


@pytest.fixture
def behind_proxies(settings):
    settings.TRUSTED_PROXIES = trusted_networks(PROXIES)


def address(peer: str, forwarded: str | None = None) -> str:
    extra: dict[str, Any] = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **extra))


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards():
    assert address("10.0.0.1", "203.0.113.9") == "10.0.0.1"
    assert address("", "203.0.113.9") == "unknown"


def test_an_untrusted_peers_forwarded_header_is_ignored(behind_proxies):
    assert address("198.51.100.7", "203.0.113.9") == "198.51.100.7"
    assert address("198.51.100.7", "10.0.0.2") == "198.51.100.7"


def test_a_trusted_peer_forwards_the_rightmost_untrusted_address(behind_proxies):
    assert address("10.0.0.1", "203.0.113.9") == "203.0.113.9"
    # The client wrote the left entries itself; the proxy appended its real address.
    assert address("10.0.0.1", "1.2.3.4, 5.6.7.8, 203.0.113.9") == "203.0.113.9"


def test_a_chain_of_trusted_proxies_is_skipped(behind_proxies):
    # client 203.0.113.9 -> edge proxy 10.1.0.1 -> internal proxy 10.0.0.1 -> gunicorn
    assert address("10.0.0.1", "1.2.3.4, 203.0.113.9, 10.1.0.1") == "203.0.113.9"


def test_a_request_through_the_proxies_from_inside_them_is_its_last_trusted_hop(behind_proxies):
    assert address("10.0.0.1", "10.2.0.1") == "10.2.0.1"
    assert address("10.0.0.1") == "10.0.0.1"
    assert address("10.0.0.1", "") == "10.0.0.1"


@pytest.mark.parametrize(
    "forwarded",
    ["garbage, 10.2.0.1", "203.0.113.9, , 10.2.0.1", "300.1.2.3, 10.2.0.1", "unknown,10.2.0.1"],
)
def test_an_entry_that_is_no_address_stops_at_the_last_trusted_hop(behind_proxies, forwarded):
    assert address("10.0.0.1", forwarded) == "10.2.0.1"


def test_garbage_from_a_client_left_of_its_real_address_is_never_read(behind_proxies):
    assert address("10.0.0.1", "garbage, 203.0.113.9") == "203.0.113.9"


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("2001:db8:f::1", "2001:DB8:1::7", "2001:db8:1::7"),  # one spelling per address
        ("10.0.0.1", "[2001:db8:1::7]:4711", "2001:db8:1::7"),
        ("10.0.0.1", "203.0.113.9:4711", "203.0.113.9"),
        ("::ffff:10.0.0.1", "203.0.113.9", "203.0.113.9"),  # a dual-stack socket's peer
        ("10.0.0.1", "::ffff:203.0.113.9, 2001:db8:f::2", "203.0.113.9"),
    ],
)
def test_ipv6_ports_and_mapped_addresses(behind_proxies, peer, forwarded, client):
    assert address(peer, forwarded) == client


def test_networks_and_single_addresses_are_parsed_once():
    networks = trusted_networks(" 10.0.0.0/8,, 192.0.2.7 ,2001:db8::/32 ")
    assert [str(network) for network in networks] == ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]
    assert trusted_networks("") == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10.0.0.0/33", "'10.0.0.0/33' is not a network or address"),
        ("proxy.internal", "'proxy.internal' is not a network or address"),
        ("10.0.0.5/8", "has host bits set"),  # 10.0.0.0/8 or 10.0.0.5, not a guess between
        ("0.0.0.0/0", "trusts every address"),
        ("10.0.0.0/8,::/0", "trusts every address"),
    ],
)
def test_a_bad_value_is_refused(value, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        trusted_networks(value)
