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
from portal.catalog.group_tree import groups_with_parents
from portal.catalog.models import CatalogEntity, CatalogRelation

SESSION_USER_KEY = "user_ref"
# A person a provider vouched for who has no catalog User (FLOWPORT_AUTH_UNKNOWN_USERS=guest).
GUEST_KEY = "guest"


@dataclass(frozen=True)
class Identity:
    """The person acting: a catalog User ref (or anonymous) and the refs they own things through."""

    user_ref: str | None = None
    display_name: str = "Guest"
    email: str | None = None
    # The user and every group they belong to, directly or through a parent group (`childOf`): what
    # they own, approve and decide through.
    ownership_refs: tuple[str, ...] = field(default_factory=tuple)
    # Only the groups they are a direct member of: their team, whose requests they see as teammates
    # (parents are left out, or the whole company would be one team).
    team_refs: tuple[str, ...] = field(default_factory=tuple)
    # Signed in through a provider but not in the catalog: owns nothing, belongs to no group.
    is_guest: bool = False
    # Set when the caller presented an API token: what the token may do (None: a browser session).
    token_scopes: tuple[str, ...] | None = None
    # Named by FLOWPORT_ADMINS, directly or through a group (portal/auth/admins.py).
    is_admin: bool = False

    @property
    def is_authenticated(self) -> bool:
        return self.user_ref is not None


ANONYMOUS = Identity()


class Policy(Protocol):
    """A permission policy: may `identity` perform `action` (on `resource`, an entity ref or id)?"""

    def allows(self, identity: Identity, action: str, resource: str | None) -> bool: ...


# Actions only admins may take once signed in: connections hold tokens and decide where they are sent;
# the audit log and other people's or service tokens are for admins too.
ADMIN_ACTIONS = ("plugins.connection.", "admin.", "audit.")
# Reads open to everyone, also anonymous callers in production: the catalog (products and
# capabilities are catalog entities) and who you are. Every other read needs a signed-in caller there.
OPEN_READS = ("catalog.", "products.", "auth.")


class DefaultPolicy:
    """Catalog reads are open; other reads and changes need a signed-in user, unless anonymous callers
    keep playground rights (dev/test).
    Admin actions (reads included) need an admin; an anonymous caller keeps development rights."""

    def __init__(self, allow_anonymous_changes: bool) -> None:
        self.allow_anonymous_changes = allow_anonymous_changes

    def allows(self, identity: Identity, action: str, resource: str | None) -> bool:
        if action.startswith(ADMIN_ACTIONS):
            return identity.is_admin if identity.is_authenticated else self.allow_anonymous_changes
        if action.endswith(".read") and action.startswith(OPEN_READS):
            return True
        return identity.is_authenticated or self.allow_anonymous_changes

    def reason(self, identity: Identity, action: str, resource: str | None) -> str | None:
        """Why a signed-in caller was refused, when there is more to say than the action."""
        if action.startswith(ADMIN_ACTIONS) and identity.is_authenticated and not identity.is_admin:
            what = "connections are" if action.startswith("plugins.connection.") else "this is"
            return (f"{identity.display_name} is not an admin: {what} managed by the users and "
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
        ownership_refs=(user_ref.lower(), *sorted(groups_with_parents(session, groups))),
        team_refs=tuple(sorted({group.lower() for group in groups})),
        is_admin=is_admin(session, user_ref, groups, admins),
    )


def _bearer_identity(request: Request, presented: str) -> Identity:
    from portal.auth.tokens import TokenError, check_token

    client = request.client.host if request.client else None
    with Session(request.app.state.engine) as session:
        try:
            row = check_token(session, presented, client)
            identity = _token_identity(session, row, request.app.state.settings.admins)
            session.commit()
        except TokenError as error:
            raise HTTPException(401, str(error), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    return identity


def _token_identity(session: Session, row, admins: Sequence[str]) -> Identity:  # noqa: ANN001
    from portal.auth.tokens import TokenError

    scopes = tuple(row.scopes.split(","))
    if row.kind == "service":
        group_is_admin = is_admin(session, row.subject_ref, [row.subject_ref], admins)
        return Identity(user_ref=f"token:{row.prefix}", display_name=f"service token {row.name}",
                        ownership_refs=(row.subject_ref,), token_scopes=scopes, is_admin=group_is_admin)
    user = identity_for_user(session, row.subject_ref, admins)
    if user is None:
        raise TokenError(f"the user of token {row.prefix} is no longer in the catalog")
    return Identity(user_ref=user.user_ref, display_name=user.display_name, email=user.email,
                    ownership_refs=user.ownership_refs, team_refs=user.team_refs, token_scopes=scopes,
                    is_admin=user.is_admin)


def current_user(request: Request) -> Identity:
    """The caller: an API token's identity, the signed-in user of the session cookie, or anonymous.
    Every route gets the user from here."""
    cached = getattr(request.state, "identity", None)
    if cached is not None:
        return cached
    authorization = request.headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        request.state.identity = _bearer_identity(request, authorization[7:])
        return request.state.identity
    session_data = request.session if "session" in request.scope else {}
    user_ref = session_data.get(SESSION_USER_KEY)
    request.state.identity = _session_identity(request, session_data, user_ref) if user_ref else ANONYMOUS
    return request.state.identity


def _session_identity(request: Request, session_data: dict, user_ref: str) -> Identity:
    """The signed-in user of a browser session that still lasts; an ended session is cleared."""
    from portal.auth.session_rules import revoked_before, session_refusal, touch

    settings = request.app.state.settings
    with Session(request.app.state.engine) as session:
        ended = session_refusal(session_data, revoked_before(session, user_ref),
                                settings.session_idle_minutes * 60, settings.session_max_age_hours * 3600)
        if ended:
            # The cookie is rewritten empty: the browser is signed out, and its CSRF token goes with it.
            session_data.clear()
            return ANONYMOUS
        touch(session_data)
        guest = session_data.get(GUEST_KEY)
        if isinstance(guest, dict):
            return Identity(user_ref=user_ref, display_name=str(guest.get("name") or "Guest"),
                            email=guest.get("email") or None, ownership_refs=(user_ref,), is_guest=True)
        return identity_for_user(session, user_ref, settings.admins) or ANONYMOUS


CurrentUser = Annotated[Identity, Depends(current_user)]


def require(action: str):  # noqa: ANN201 - a FastAPI dependency
    """A router dependency that passes `action` through the gate for every route of the router."""
    def check(request: Request, user: CurrentUser) -> None:
        authorize(request, user, action)

    return Depends(check)


def authorize(request: Request, identity: Identity, action: str, resource: str | None = None) -> None:
    """The one gate every state change passes; raises 401/403 when the policy says no."""
    from portal.audit.recorder import note_decision
    from portal.auth.token_scopes import scope_refusal

    refusal = scope_refusal(identity.token_scopes, action)
    if refusal:
        note_decision(request, identity.user_ref, action, resource, allowed=False, reason=refusal)
        raise HTTPException(403, refusal)
    policy: Policy = request.app.state.policy
    if policy.allows(identity, action, resource):
        note_decision(request, identity.user_ref, action, resource, allowed=True)
        return
    if not identity.is_authenticated:
        reason = f"Sign in to {action.replace('.', ' ')}"
    else:
        explain = getattr(policy, "reason", None)
        reason = (explain(identity, action, resource) if explain else None) or \
            f"{identity.display_name} may not {action.replace('.', ' ')}"
    note_decision(request, identity.user_ref, action, resource, allowed=False, reason=reason)
    raise HTTPException(401 if not identity.is_authenticated else 403, reason)
