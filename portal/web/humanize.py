"""Words for people: entity URLs, short ref labels and ISO-8601 durations such as "2 days"."""

from __future__ import annotations

import re
from urllib.parse import quote

from portal.catalog.kinds import KIND_SPECS
from portal.catalog.refs import DEFAULT_NAMESPACE, EntityRef, RefError, parse_ref

_DURATION = re.compile(
    r"^P(?:(?P<years>\d+(?:\.\d+)?)Y)?(?:(?P<months>\d+(?:\.\d+)?)M)?(?:(?P<weeks>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<days>\d+(?:\.\d+)?)D)?(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
# Refs are stored lower-cased; show kinds the way descriptors spell them.
_KIND_NAMES = {spec.kind.lower(): spec.kind for spec in KIND_SPECS}
_UNITS = (
    ("years", "year"), ("months", "month"), ("weeks", "week"), ("days", "day"),
    ("hours", "hour"), ("minutes", "minute"), ("seconds", "second"),
)


def human_duration(value: object) -> str:
    """`P2D` -> "2 days", `PT1H30M` -> "1 hour 30 minutes"; anything unreadable is shown as given."""
    if not isinstance(value, str) or not value:
        return ""
    match = _DURATION.match(value.strip().upper())
    if match is None or value.strip().upper() in ("P", "PT"):
        return value
    parts = []
    for group, word in _UNITS:
        amount = match.group(group)
        if amount is None:
            continue
        number = float(amount)
        text = f"{number:g}"
        parts.append(f"{text} {word}" if number == 1 else f"{text} {word}s")
    return " ".join(parts) if parts else value


def to_ref(ref: str | dict | EntityRef, default_kind: str | None = None,
           default_namespace: str = DEFAULT_NAMESPACE) -> EntityRef | None:
    """Parse a ref leniently: None when it cannot be read (the page still renders)."""
    if isinstance(ref, EntityRef):
        return ref
    try:
        return parse_ref(ref, default_kind, default_namespace)
    except RefError:
        return None


def entity_url(ref: str | dict | EntityRef | None, default_kind: str | None = None,
               default_namespace: str = DEFAULT_NAMESPACE) -> str:
    """The entity page, Backstage's shape: `/catalog/{namespace}/{kind}/{name}` with kind lower-cased."""
    parsed = to_ref(ref, default_kind, default_namespace) if ref else None
    if parsed is None:
        return "/catalog"
    return "/catalog/{}/{}/{}".format(
        quote(parsed.namespace.lower(), safe=""), quote(parsed.kind.lower(), safe=""), quote(parsed.name, safe="")
    )


def entity_url_of(entity: dict) -> str:
    """The page URL of a full entity dict."""
    metadata = entity.get("metadata") or {}
    return entity_url(EntityRef(str(entity.get("kind")), str(metadata.get("namespace") or DEFAULT_NAMESPACE),
                                str(metadata.get("name"))))


def ref_label(ref: str | dict | EntityRef | None, default_kind: str | None = None,
              default_namespace: str = DEFAULT_NAMESPACE) -> str:
    """A short label for a ref: `team-a`, or `ops/team-a` outside the default namespace."""
    parsed = to_ref(ref, default_kind, default_namespace) if ref else None
    if parsed is None:
        return str(ref or "")
    if parsed.namespace.lower() == DEFAULT_NAMESPACE:
        return parsed.name
    return f"{parsed.namespace}/{parsed.name}"


def display_name(entity: dict) -> str:
    """Title, User display name, or plain name: what people call the entity."""
    metadata = entity.get("metadata") or {}
    profile = (entity.get("spec") or {}).get("profile") or {}
    return str(metadata.get("title") or profile.get("displayName") or metadata.get("name") or "")


def plural(word: str, count: int) -> str:
    """`Capability`, 2 -> `Capabilities`; `API`, 2 -> `APIs`."""
    if count == 1:
        return word
    if word.endswith("y") and word[-2:-1].lower() not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def kind_name(kind: str) -> str:
    """`platformproduct` -> `PlatformProduct`; unknown kinds are returned unchanged."""
    return _KIND_NAMES.get(kind.lower(), kind)
