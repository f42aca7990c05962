"""Outbound HTTP safety, free of any domain: which URLs and addresses may be reached, guarded httpx
transports that check resolved addresses when connecting, and a fetch that re-checks every redirect."""

from portal.net.addresses import ALLOW_PRIVATE_SETTING, address_refusal, as_networks, literal_ip, parse_networks
from portal.net.fetch import Fetched, FetchRefused, FetchRules, fetch_text
from portal.net.transport import (
    AddressRefused,
    AsyncGuardedBackend,
    AsyncGuardedTransport,
    GuardedBackend,
    GuardedTransport,
    guarded_client,
)
from portal.net.urls import ALLOW_HOSTS_SETTING, host_allowed, refuse_reason

__all__ = [
    "ALLOW_HOSTS_SETTING", "ALLOW_PRIVATE_SETTING", "AddressRefused", "AsyncGuardedBackend",
    "AsyncGuardedTransport", "FetchRefused", "FetchRules", "Fetched", "GuardedBackend", "GuardedTransport",
    "address_refusal", "as_networks", "fetch_text", "guarded_client", "host_allowed", "literal_ip",
    "parse_networks", "refuse_reason",
]
