"""Whether a URL may be fetched at all, before any connection: scheme, host allow-list, literal addresses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import httpx

from portal.net.addresses import ALLOW_PRIVATE_SETTING, Network, address_refusal, as_networks, literal_ip

ALLOW_HOSTS_SETTING = "FLOWPORT_URL_ALLOW_HOSTS"


def url_host(url: httpx.URL) -> str:
    """The host as the connection will see it: lower case, IDNA-encoded, without a trailing dot."""
    return url.raw_host.decode("ascii", "replace").lower().rstrip(".")


def host_allowed(host: str, allow_hosts: Iterable[str]) -> bool:
    """`*` allows any host; otherwise an exact host or a `*.suffix` entry must match."""
    host = host.lower().rstrip(".")
    for entry in allow_hosts:
        entry = entry.strip().lower().rstrip(".")
        if entry == "*" or entry == host:
            return True
        if entry.startswith("*.") and host.endswith(entry[1:]):
            return True
    return False


def refuse_reason(url: str, allow_hosts: Sequence[str], allow_private: Iterable[str | Network] = (),
                  *, allow_hosts_setting: str = ALLOW_HOSTS_SETTING) -> str | None:
    """Why `url` may not be fetched, or None when it may (the resolved addresses are checked again when
    connecting, see portal/net/transport.py).

    `allow_hosts`: host names, `*.suffix` or `*`; `allow_private`: CIDR networks (text or parsed) whose
    private addresses may be reached. Parsed the way httpx parses it, so the host checked is the host
    connected to.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return f"{url!r} is not a valid URL"
    if parsed.scheme not in ("http", "https") or not parsed.raw_host:
        return f"{url!r} is not an http(s) URL"
    host = url_host(parsed)
    if not host_allowed(host, allow_hosts):
        return f"host {host!r} is not allowed; add it to {allow_hosts_setting} (a host, '*.suffix' or '*')"
    address = literal_ip(host)
    if address is not None:
        refusal = address_refusal(address, as_networks(allow_private))
        if refusal:
            return (f"{url} is not fetched: {refusal}; to reach an intranet server, add its network to "
                    f"{ALLOW_PRIVATE_SETTING}")
    return None
