"""Which IP addresses the portal may connect to: public ones, and private networks an operator allows.

Host names are checked again once resolved (portal/net/transport.py); this module only classifies
addresses, including the odd spellings that C's inet_aton accepts (`2130706433`, `0x7f.1`, `0177.0.0.1`),
because the resolver turns those names into addresses too.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
ALLOW_PRIVATE_SETTING = "FLOWPORT_URL_ALLOW_PRIVATE_NETWORKS"

# 64:ff9b::/96 carries an IPv4 address for NAT64 gateways; the embedded address is what is reached.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_AMAZON_METADATA = ipaddress.IPv4Address("169.254.169.254")
_INET_ATON_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """CIDR entries (`10.0.0.0/8`, `fd00::/8`, a single address) as networks; ValueError names a bad one."""
    networks = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not a network in CIDR notation, e.g. 10.20.0.0/16") from None
    return tuple(networks)


def as_networks(entries: Iterable[str | Network]) -> tuple[Network, ...]:
    """Networks given as CIDR text or already parsed."""
    entries = list(entries)
    return tuple(entry for entry in entries if not isinstance(entry, str)) + parse_networks(
        entry for entry in entries if isinstance(entry, str))


def literal_ip(host: str) -> IPAddress | None:
    """The address a host name stands for without DNS (dotted, IPv6, or inet_aton's decimal, octal and
    hex forms), or None for a real name."""
    host = host.strip().rstrip(".").strip("[]")
    if not host:
        return None
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    parts = host.split(".")
    if len(parts) > 4 or not all(_INET_ATON_PART.match(part) for part in parts):
        return None
    values = [int(part, 16) if part[:2].lower() == "0x" and len(part) > 2 else
              0 if part[:2].lower() == "0x" else int(part, 8) if part.startswith("0") else int(part)
              for part in parts]
    # inet_aton: every part but the last is one byte; the last fills the bytes that remain.
    *leading, last = values
    if any(value > 255 for value in leading) or last >= 256 ** (5 - len(values)):
        return None
    number = 0
    for value in leading:
        number = number * 256 + value
    number = (number << (8 * (5 - len(values)))) + last
    return ipaddress.IPv4Address(number)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address reaches in the end (mapped, 6to4, Teredo, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _why_not_public(address: IPAddress) -> str | None:
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address == _AMAZON_METADATA:
        return "the cloud metadata address"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


def address_refusal(address: IPAddress, allow_private: Iterable[Network] = ()) -> str | None:
    """Why the portal may not connect to `address`, or None when it may.

    Addresses inside an allowed network may be reached even when private, loopback or link-local;
    unspecified and multicast addresses never.
    """
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(address.packed)  # drop a %scope: it does not change the network
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = address_refusal(embedded, allow_private)
            return f"{reason} (inside IPv6 address {address})" if reason else None
    reason = _why_not_public(address)
    if reason is None:
        return None
    if not (address.is_unspecified or address.is_multicast):
        if any(address.version == network.version and address in network for network in allow_private):
            return None
    return f"{address} is {reason}"
