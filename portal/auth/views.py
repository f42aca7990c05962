"""Development sign-in: act as any catalog User. Real sign-in providers plug in elsewhere."""

from __future__ import annotations

import json
from urllib.parse import urlparse

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlmodel import Session

from portal.auth.identity import SESSION_USER_KEY, CurrentUser, identity_for_user
from portal.auth.session_rules import revoke_sessions, start_session
from portal.catalog.models import CatalogEntity, CatalogRelation, CatalogSearch
from portal.db import SessionDep
from portal.web.humanize import display_name, ref_label

router = APIRouter(tags=["auth"])
MAX_LISTED_USERS = 300


def _safe_next(target: str | None) -> str:
    """Only redirect within the portal, so a crafted link cannot send people elsewhere."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def catalog_users(session: Session) -> list[dict]:
    """Users to pick from: ref, name, display name and groups, by name (first MAX_LISTED_USERS)."""
    user_uids = select(CatalogSearch.entity_uid).where(CatalogSearch.key == "kind", CatalogSearch.value == "user")
    rows = session.execute(
        select(CatalogEntity.entity_ref, CatalogEntity.body).where(CatalogEntity.uid.in_(user_uids))
        .order_by(CatalogEntity.name).limit(MAX_LISTED_USERS)
    ).all()
    refs = [ref for ref, _ in rows]
    groups: dict[str, list[str]] = {ref: [] for ref in refs}
    if refs:
        for source, target in session.execute(
            select(CatalogRelation.source_ref, CatalogRelation.target_ref).distinct()
            .where(CatalogRelation.source_ref.in_(refs), CatalogRelation.type == "memberOf")
            .order_by(CatalogRelation.target_ref)
        ).all():
            groups[source].append(ref_label(target))
    users = []
    for ref, body in rows:
        entity = json.loads(body)
        users.append({"ref": ref, "name": entity["metadata"]["name"], "displayName": display_name(entity),
                      "email": ((entity.get("spec") or {}).get("profile") or {}).get("email"),
                      "groups": groups.get(ref, [])})
    return users


@router.get("/auth/sign-in", response_class=HTMLResponse, include_in_schema=False)
def sign_in_page(request: Request, session: SessionDep, identity: CurrentUser, next: str = "/") -> HTMLResponse:
    """Pick a catalog user in development; elsewhere explain that no provider is configured."""
    enabled = request.app.state.settings.dev_sign_in_enabled
    return request.app.state.templates.TemplateResponse(request, "auth/sign_in.html", {
        "enabled": enabled,
        "providers": [{"id": provider_id, "title": config.button_title}
                      for provider_id, config in request.app.state.settings.auth_providers.items()],
        "users": catalog_users(session) if enabled else [],
        "next": _safe_next(next),
        "max_listed": MAX_LISTED_USERS,
    })


@router.post("/auth/dev/sign-in", include_in_schema=False)
def dev_sign_in(request: Request, session: SessionDep, user_ref: str = Form(...), next: str = Form("/")):
    """Act as the chosen catalog user (development only; the route does not exist elsewhere)."""
    # Signing in changes only this browser's session cookie, not portal data, so no policy check:
    # the gate is that development sign-in is switched on at all.
    if not request.app.state.settings.dev_sign_in_enabled:
        raise HTTPException(404, "Development sign-in is switched off")
    identity = identity_for_user(session, user_ref)
    if identity is None:
        raise HTTPException(400, f"There is no catalog User '{user_ref}' to sign in as")
    # A fresh session at every sign-in: nothing held before (e.g. a planted value) carries over.
    request.session.clear()
    request.session[SESSION_USER_KEY] = identity.user_ref
    start_session(request.session)
    request.state.identity = identity
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/auth/sign-out", include_in_schema=False)
def sign_out(request: Request, session: SessionDep, identity: CurrentUser, next: str = Form("/")):
    """Sign out everywhere: every session of this user, in every browser, ends now."""
    if identity.is_authenticated and identity.token_scopes is None:
        revoke_sessions(session, identity.user_ref)
    request.session.clear()
    return RedirectResponse(_safe_next(next), status_code=303)


@router.get("/api/v1/identity")
def get_identity(identity: CurrentUser) -> dict:
    """Who the caller is: user ref, display name, email and the refs they own things through."""
    return {
        "userEntityRef": identity.user_ref,
        "displayName": identity.display_name,
        "email": identity.email,
        "ownershipEntityRefs": list(identity.ownership_refs),
        "authenticated": identity.is_authenticated,
    }
