"""Sign-in resolvers: which catalog User a provider's identity is, the way Backstage's resolvers decide.

- `email`: the User whose `spec.profile.email` is the person's (verified) email;
- `email-local-part`: the User named like the part before the @, when the domain is allowed;
- `github-username`: the User annotated `github.com/user-login: <login>`, else the User named <login>.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from portal.auth.provider_config import AuthProviderConfig
from portal.catalog.models import CatalogEntity, CatalogSearch

_USER_NAME = re.compile(r"^[a-z0-9A-Z][a-z0-9A-Z._-]{0,62}$")


@dataclass(frozen=True)
class ProviderProfile:
    """What a provider told us about the person signing in."""

    provider_id: str
    subject: str
    email: str | None = None
    # False when the provider says the address was not verified; None when it does not say.
    email_verified: bool | None = None
    login: str | None = None
    name: str | None = None


class SignInRefused(Exception):
    """The provider vouched for someone Flowport will not sign in; the message is for that person."""


def _users_where(session: Session, key: str, value: str) -> list[str]:
    uids = select(CatalogSearch.entity_uid).where(
        CatalogSearch.key == key, CatalogSearch.value == value.lower(), CatalogSearch.kind == "user")
    return list(session.execute(
        select(CatalogEntity.entity_ref).where(CatalogEntity.uid.in_(uids)).order_by(CatalogEntity.entity_ref)
    ).scalars())


def _user_named(session: Session, name: str) -> str | None:
    if not _USER_NAME.match(name):
        return None
    ref = f"user:default/{name.lower()}"
    found = session.execute(select(CatalogEntity.entity_ref).where(CatalogEntity.entity_ref == ref)).scalar_one_or_none()
    return found


def _one(refs: list[str], what: str) -> str | None:
    if len(refs) > 1:
        # Backstage refuses an ambiguous match too: signing in as the wrong person is worse than not at all.
        raise SignInRefused(f"{len(refs)} catalog users match {what}; ask an admin to make it unique")
    return refs[0] if refs else None


def _checked_email(config: AuthProviderConfig, profile: ProviderProfile) -> str:
    email = (profile.email or "").strip()
    if "@" not in email or len(email) > 254:
        raise SignInRefused(f"{config.button_title} did not share an email address with Flowport")
    if profile.email_verified is False:
        raise SignInRefused(f"the email address {email} is not verified at {config.button_title}")
    domain = email.rsplit("@", 1)[1].lower()
    if config.domains and domain not in config.domains:
        raise SignInRefused(f"email addresses at {domain} may not sign in here")
    return email


def resolve_user(session: Session, config: AuthProviderConfig, profile: ProviderProfile) -> str | None:
    """The catalog User ref for this person, None when no User matches; SignInRefused when it must not be."""
    if config.resolver == "email":
        email = _checked_email(config, profile)
        return _one(_users_where(session, "spec.profile.email", email), f"the email {email}")
    if config.resolver == "email-local-part":
        email = _checked_email(config, profile)
        return _user_named(session, email.rsplit("@", 1)[0])
    login = (profile.login or "").strip()
    if not login:
        raise SignInRefused(f"{config.button_title} did not say who you are")
    annotated = _one(_users_where(session, "metadata.annotations.github.com/user-login", login),
                     f"the GitHub login {login}")
    return annotated or _user_named(session, login)


def guest_ref(profile: ProviderProfile) -> str:
    """A stable ref for a guest: not a catalog entity, never owning anything."""
    base = (profile.login or (profile.email or "").split("@")[0] or profile.subject).lower()
    cleaned = re.sub(r"[^a-z0-9._-]+", "-", base).strip("-.") or "guest"
    return f"user:guest/{profile.provider_id}.{cleaned[:60]}"
