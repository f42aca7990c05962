"""How much a location read may take: bytes per source, YAML alias expansion, URL redirects and time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from portal.net import FetchRules

if TYPE_CHECKING:
    from portal.settings import Settings

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ALIAS_NODES = 10_000
MAX_BYTES_SETTING = "FLOWPORT_LOCATION_MAX_BYTES"
MAX_ALIAS_NODES_SETTING = "FLOWPORT_YAML_MAX_ALIAS_NODES"
# Deeper than any real descriptor or API definition; well inside Python's recursion limit, which
# validation, JSON encoding and placeholder walks all rely on. Not a setting: nothing legitimate needs more.
MAX_NESTING_DEPTH = 100


@dataclass(frozen=True)
class ReadLimits:
    """The limits of one location read, from Settings (defaults for `catalog validate` and tests)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_alias_nodes: int = DEFAULT_MAX_ALIAS_NODES
    max_redirects: int = 5
    url_timeout: float | None = None
    allow_private: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadLimits:
        return cls(max_bytes=settings.location_max_bytes, max_alias_nodes=settings.yaml_max_alias_nodes,
                   max_redirects=settings.url_max_redirects, url_timeout=settings.url_timeout,
                   allow_private=tuple(settings.url_allow_private_networks))

    def fetch_rules(self, allow_hosts: list[str]) -> FetchRules:
        return FetchRules.build(allow_hosts, self.allow_private, max_bytes=self.max_bytes,
                                max_redirects=self.max_redirects, deadline_seconds=self.url_timeout)
