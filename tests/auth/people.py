"""A small organisation for permission tests, signed-in clients, and production settings with real keys."""

from __future__ import annotations

import base64
import json
import secrets
import time

import itsdangerous
from cryptography.fernet import Fernet
from sqlmodel import Session

from portal.catalog.store import PreparedEntity, write_entities
from portal.settings import Settings

LOCATION = "file:/srv/catalog/org.yaml"
# 64 url-safe characters, as `secrets.token_urlsafe(48)` prints them.
STRONG_SECRET_KEY = "q7Vd2mXk9LpR4tWz8NcB1yHs6FgJ3uEa0OiKxQvZrTnMbY5lCwDhSjUeAoPfG-_x"


def _entity(kind: str, name: str, spec: dict) -> dict:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def _group(name: str, parent: str | None = None, children: tuple[str, ...] = ()) -> dict:
    spec = {"type": "team", "children": list(children)}
    if parent:
        spec["parent"] = parent
    return _entity("Group", name, spec)


def seed_org(session: Session) -> None:
    """platform-admins > platform-engineering > team-runtime (alice); team-shipments (bruno) stands alone.
    The top link is declared by the parent only (`children`), the lower one by the child only (`parent`)."""
    entities = [
        _group("platform-admins", children=("platform-engineering",)),
        _group("platform-engineering"),
        _group("team-runtime", parent="platform-engineering"),
        _group("team-shipments"),
        _entity("User", "alice", {"profile": {"displayName": "Alice Admin"}, "memberOf": ["team-runtime"]}),
        _entity("User", "bruno", {"profile": {"displayName": "Bruno Builder"}, "memberOf": ["team-shipments"]}),
    ]
    write_entities(session, [PreparedEntity(item, LOCATION, LOCATION) for item in entities])
    session.commit()


def production_settings(settings: Settings, **updates: object) -> Settings:
    """The test settings as production runs them: both keys set, admins by configuration."""
    return settings.model_copy(update={"env": "production", "secret_key": STRONG_SECRET_KEY,
                                       "secrets_key": Fernet.generate_key().decode(), **updates})


def sign_in(client, settings: Settings, user_ref: str) -> None:  # noqa: ANN001
    """Give the client the session cookie a sign-in and a page load would have set (signed with the app's
    key), and send the page's CSRF token with every request, as its forms would."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    session = {"user_ref": user_ref, "csrf_token": token, "csrf_user": user_ref, "signed_in_at": now, "last_seen": now}
    payload = base64.b64encode(json.dumps(session).encode())
    client.cookies.set("session", itsdangerous.TimestampSigner(settings.secret_key).sign(payload).decode())
    client.headers["X-CSRF-Token"] = token
