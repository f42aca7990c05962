"""The admin role: a user FLOWPORT_ADMINS names, directly or through one of their groups or its parents."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlmodel import Session

from portal.catalog.group_tree import groups_with_parents

ADMIN_REF = re.compile(r"(user|group):(?:([a-z0-9][a-z0-9._-]{0,62})/)?([a-z0-9][a-z0-9._-]{0,62})")
ENV_PREFIX = re.compile(r"[A-Z][A-Z0-9_]{2,}")


def check_admin_refs(refs: list[str]) -> list[str]:
    """FLOWPORT_ADMINS as full lower-case refs (`user:alice` means `user:default/alice`)."""
    normalized = []
    for ref in refs:
        match = ADMIN_REF.fullmatch(ref.strip().lower())
        if match is None:
            raise ValueError(f"{ref[:80]!r} is not a user or group ref; write user:default/alice or "
                             "group:default/platform-admins")
        kind, namespace, name = match.groups()
        normalized.append(f"{kind}:{namespace or 'default'}/{name}")
    return normalized


def check_env_prefix(prefix: str) -> str:
    """FLOWPORT_SECRET_ENV_PREFIX must be a real prefix: an empty or bare FLOWPORT_ one would open every variable."""
    if not ENV_PREFIX.fullmatch(prefix) or prefix == "FLOWPORT_":
        raise ValueError("must be at least 3 upper-case letters, digits or '_' (e.g. FLOWPORT_SECRET_), "
                         "and not FLOWPORT_ alone")
    return prefix


def is_admin(session: Session, user_ref: str, groups: Iterable[str], admins: Iterable[str]) -> bool:
    """Whether the user, or a group they belong to (directly or through a parent group), is an admin."""
    admins = set(admins)
    if not admins:
        return False
    if user_ref.lower() in admins:
        return True
    return bool(groups_with_parents(session, groups) & admins)
