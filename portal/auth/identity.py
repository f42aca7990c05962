"""The current user, resolved once per request through one dependency, and the one authorization gate."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Protocol

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlmodel import Session

from portal.auth.admins import is_admin
from portal.catalog.models import CatalogEntity, CatalogRelation

SESSION_USER_KEY = "user_ref"


@dataclass(frozen=True)
class Identity:
    """The person acting: a catalog User ref (or anonymous) and the refs they own things through."""

    user_ref: str | None = None
    display_name: str = "Guest"
    email: str | None = None
    ownership_refs: tuple[str, ...] = field(default_factory=tuple)
    # Named by FLOWPORT_ADMINS, directly or through a group (portal/auth/admins.py).
    is_admin: bool = False

    @property
    def is_authenticated(self) -> bool:
        return self.user_ref is not None


ANONYMOUS = Identity()


class Policy(Protocol):
    """A permission policy: may `identity` perform `action` (on `resource`, an entity ref or id)?"""

    def allows(self, identity: Identity, action: str, resource: str | None) -> bool: ...


# Actions only admins may take once signed in: connections hold tokens and decide where they are sent.
ADMIN_ACTIONS = ("plugins.connection.",)


class DefaultPolicy:
    """Reads are open; changes need a signed-in user, unless anonymous changes are allowed (dev/test).
    Admin actions (reads included) need an admin; an anonymous caller keeps development rights."""

    def __init__(self, allow_anonymous_changes: bool) -> None:
        self.allow_anonymous_changes = allow_anonymous_changes

    def allows(self, identity: Identity, action: str, resource: str | None) -> bool:
        if action.startswith(ADMIN_ACTIONS):
            return identity.is_admin if identity.is_authenticated else self.allow_anonymous_changes
        if action.endswith(".read"):
            return True
        return identity.is_authenticated or self.allow_anonymous_changes

    def reason(self, identity: Identity, action: str, resource: str | None) -> str | None:
        """Why a signed-in caller was refused, when there is more to say than the action."""
        if action.startswith(ADMIN_ACTIONS) and identity.is_authenticated and not identity.is_admin:
            return (f"{identity.display_name} is not an admin: connections are managed by the users and "
                    "groups named in FLOWPORT_ADMINS")
        return None


def identity_for_user(session: Session, user_ref: str, admins: Sequence[str] = ()) -> Identity | None:
    """Build an Identity from a catalog User entity, its group memberships and the configured admins."""
    row = session.execute(
        select(CatalogEntity.body).where(CatalogEntity.entity_ref == user_ref.lower())
    ).scalar_one_or_none()
    if row is None:
        return None
    body = json.loads(row)
    profile = (body.get("spec") or {}).get("profile") or {}
    groups = session.execute(
        select(CatalogRelation.target_ref).where(
            CatalogRelation.source_ref == user_ref.lower(), CatalogRelation.type == "memberOf"
        )
    ).scalars().all()
    return Identity(
        user_ref=user_ref.lower(),
        display_name=profile.get("displayName") or body["metadata"]["name"],
        email=profile.get("email"),
        ownership_refs=(user_ref.lower(), *sorted(set(groups))),
        is_admin=is_admin(session, user_ref, groups, admins),
    )


def current_user(request: Request) -> Identity:
    """The signed-in user from the session cookie, or anonymous. Every route gets the user from here."""
    cached = getattr(request.state, "identity", None)
    if cached is not None:
        return cached
    identity = ANONYMOUS
    user_ref = request.session.get(SESSION_USER_KEY) if "session" in request.scope else None
    if user_ref:
        with Session(request.app.state.engine) as session:
            admins = request.app.state.settings.admins
            identity = identity_for_user(session, user_ref, admins) or ANONYMOUS
    request.state.identity = identity
    return identity


CurrentUser = Annotated[Identity, Depends(current_user)]


def authorize(request: Request, identity: Identity, action: str, resource: str | None = None) -> None:
    """The one gate every state change passes; raises 401/403 when the policy says no."""
    policy: Policy = request.app.state.policy
    if policy.allows(identity, action, resource):
        return
    if not identity.is_authenticated:
        raise HTTPException(401, f"Sign in to {action.replace('.', ' ')}")
    explain = getattr(policy, "reason", None)
    reason = explain(identity, action, resource) if explain else None
    raise HTTPException(403, reason or f"{identity.display_name} may not {action.replace('.', ' ')}")
