"""Who the client is, behind reverse proxies: the address every per-client limit counts.

The model is the trusted networks of Express's `trust proxy`, Rails' `trusted_proxies` and
nginx's `set_real_ip_from` + `real_ip_recursive`: `TRUSTED_PROXIES` lists the networks (CIDR) of
the load balancers in front of gunicorn, empty by default. A request from an address outside
them is its own client, whatever `X-Forwarded-For` it sends. A request from a trusted proxy is
from the nearest address that proxy chain vouches for: `X-Forwarded-For` read from the right
(each proxy appends the address it received the request from), skipping the trusted hops; the
first address outside the trusted networks is the client. What a client writes itself stays to
the left of it and is never read. An entry that is not an address ends the walk at the last
trusted hop, so a client never chooses its key.

Networks rather than a hop count (DRF's NUM_PROXIES, werkzeug ProxyFix's x_for): a count
trusts the header of every request, so a client that reaches gunicorn without the proxy (a
health checker, an internal caller, a misrouted port) could name any address; networks trust
the header only from the proxies, and a chain of any length is read the same.

The scheme is separate: Django takes it from `X-Forwarded-Proto` (SECURE_PROXY_SSL_HEADER)
from any peer, so the proxy must overwrite that header, not append to it; gunicorn's own
`forwarded_allow_ips` sets only `wsgi.url_scheme`, which Django does not read while the header
is present, and gunicorn never takes REMOTE_ADDR from `X-Forwarded-For`.
"""

import ipaddress
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(value: str) -> tuple[IPNetwork, ...]:
    """TRUSTED_PROXIES, comma-separated networks (`10.0.0.0/8`) or addresses (`10.0.0.5`),
    parsed once at settings load; anything else stops the process at startup."""
    networks = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        try:
            network = ipaddress.ip_network(item)
        except ValueError as error:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {item!r} is not a network or address ({error}); "
                "e.g. TRUSTED_PROXIES=10.0.0.0/8,192.0.2.7"
            ) from None
        if network.prefixlen == 0:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {item!r} trusts every address, so any client could choose "
                "its own address in X-Forwarded-For; list the proxies' networks."
            )
        networks.append(network)
    return tuple(networks)


def client_address(request: "HttpRequest") -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXIES the rightmost address of
    `X-Forwarded-For` outside them (see the module's docstring)."""
    peer = request.META.get("REMOTE_ADDR") or ""
    hop = _address(peer)
    if hop is None or not _trusted(hop):
        return peer or "unknown"
    for entry in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        forwarded = _address(entry)
        if forwarded is None:
            break
        hop = forwarded
        if not _trusted(hop):
            break
    return str(hop)


def _trusted(address: IPAddress) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def _address(entry: str) -> IPAddress | None:
    """An entry of `X-Forwarded-For` (or REMOTE_ADDR) as an address: `192.0.2.1`,
    `2001:db8::1`, or with a port as some load balancers write them (`192.0.2.1:4711`,
    `[2001:db8::1]:4711`); an IPv4-mapped IPv6 address as its IPv4 one. None if it is none."""
    text = entry.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address
