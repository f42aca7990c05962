"""API tokens over HTTP: GET/POST /api/v1/tokens, DELETE /api/v1/tokens/{id}."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from portal.auth.identity import CurrentUser, authorize
from portal.auth.tokens import TokenError, find_token, issue_token, list_tokens, parse_lifetime, parse_scopes, revoke_token, token_json
from portal.db import SessionDep

router = APIRouter(prefix="/api/v1/tokens", tags=["auth"])


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Literal["read", "request", "admin"]] = Field(min_length=1, max_length=3)
    expiresIn: str = Field(default="90d", max_length=6, description="90d, 12h or 1y; at most a year")
    kind: Literal["personal", "service"] = "personal"
    # A service token acts for this group (admins only).
    group: str | None = Field(default=None, max_length=300, pattern=r"^group:[a-z0-9._-]+/[a-z0-9._-]+$")


@router.get("")
def get_tokens(request: Request, session: SessionDep, user: CurrentUser, all: bool = False) -> dict:
    """The caller's tokens (never their secrets); `all=true` lists everyone's, for admins."""
    if all:
        authorize(request, user, "admin.tokens.list")
        rows = list_tokens(session)
    else:
        authorize(request, user, "auth.tokens.read")
        if not user.is_authenticated:
            return {"items": [], "totalItems": 0}
        rows = list_tokens(session, user.user_ref)
    items = [token_json(row) for row in rows]
    return {"items": items, "totalItems": len(items)}


@router.post("", status_code=201)
def create_token(body: TokenCreate, request: Request, session: SessionDep, user: CurrentUser) -> dict:
    """A new token, shown once in `token`; store it now, Flowport keeps only its hash."""
    if body.kind == "service":
        authorize(request, user, "admin.token.create", body.group)
        if not body.group:
            raise HTTPException(400, "a service token acts for a group: give group (group:<namespace>/<name>)")
        subject = body.group
    else:
        authorize(request, user, "auth.token.create")
        if not user.is_authenticated or user.is_guest or user.token_scopes is not None:
            raise HTTPException(400, "personal tokens are for signed-in catalog users, created from a browser "
                                     "session or with `flowport token create`")
        subject = user.user_ref
    try:
        issued = issue_token(session, kind=body.kind, subject_ref=subject, name=body.name,
                             scopes=parse_scopes(list(body.scopes)), created_by=user.user_ref or "anonymous",
                             lifetime=parse_lifetime(body.expiresIn))
    except TokenError as error:
        raise HTTPException(400, str(error)) from None
    return {**token_json(issued.row), "token": issued.token}


@router.delete("/{token_id}", status_code=204)
def delete_token(token_id: str, request: Request, session: SessionDep, user: CurrentUser) -> None:
    """Revoke a token at once: the caller's own, or any for admins."""
    row = find_token(session, token_id)
    own = row is not None and user.user_ref is not None and row.subject_ref == user.user_ref
    authorize(request, user, "auth.token.revoke" if own else "admin.token.revoke", token_id)
    if row is None or revoke_token(session, token_id) is None:
        raise HTTPException(404, f"no API token {token_id!r}")
