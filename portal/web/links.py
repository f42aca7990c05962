"""Which URLs from data may become links: http(s), mailto and the portal's own paths, nothing else."""

from __future__ import annotations

import re

# Browsers drop tabs and newlines anywhere in a URL and strip leading and trailing C0 controls and
# spaces before reading its scheme (WHATWG URL standard), so `java\tscript:` runs as `javascript:`.
_REMOVED_ANYWHERE = str.maketrans("", "", "\t\n\r")
_STRIPPED = "".join(chr(code) for code in range(0x21))
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
EXTERNAL_SCHEMES = frozenset({"http", "https"})


def safe_href(value: object) -> str | None:
    """The URL as a browser would read it when it is safe to link; None when it must be shown as text."""
    if not isinstance(value, str):
        return None
    url = value.translate(_REMOVED_ANYWHERE).strip(_STRIPPED)
    if not url or any(ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        return None
    scheme = _SCHEME.match(url)
    if scheme is not None:
        return url if scheme.group(1).lower() in SAFE_SCHEMES else None
    # No scheme: only a path on this portal. `//host` and `/\host` would leave it (browsers read `\` as `/`).
    if url.startswith("/") and not url.startswith(("//", "/\\")):
        return url
    return None


def is_external(href: str | None) -> bool:
    """An absolute http(s) link to another site (gets rel="noopener noreferrer")."""
    if not href:
        return False
    scheme = _SCHEME.match(href)
    return scheme is not None and scheme.group(1).lower() in EXTERNAL_SCHEMES
