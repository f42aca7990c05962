"""The portal's two keys, checked before it starts: the cookie-signing key and the connection-secret keys.

In production both must be set: with the built-in (public) cookie key anyone can forge a session, and a
secret key derived from the cookie key would fall with it. Development and test derive what is missing."""

from __future__ import annotations

from portal.plugins.secrets import SecretsError, fernet_for
from portal.settings import Settings

# 32 random bytes are 43 characters of url-safe base64 (64 of hex).
MIN_SECRET_KEY_LENGTH = 43
# Random text of that length has far more; 'a' * 43 or 'abcabc…' has fewer.
MIN_DISTINCT_CHARACTERS = 10
GENERATE_SECRET_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class UnsafeKeys(RuntimeError):
    """The app refuses to start: a key is missing or weak. The message names the variable, never its value."""


def secret_key_problem(secret_key: str) -> str | None:
    """Why FLOWPORT_SECRET_KEY is not fit to sign production cookies, or None."""
    if secret_key == Settings.model_fields["secret_key"].default:
        return "FLOWPORT_SECRET_KEY is not set (the built-in development key is public: anyone could forge a session)"
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        return f"FLOWPORT_SECRET_KEY is too short: use at least {MIN_SECRET_KEY_LENGTH} random characters"
    if len(set(secret_key)) < MIN_DISTINCT_CHARACTERS:
        return "FLOWPORT_SECRET_KEY does not look random (too few different characters)"
    return None


def key_problems(settings: Settings) -> list[str]:
    """Everything wrong with the keys for this environment, each with how to fix it."""
    problems = []
    if settings.env == "production" and (problem := secret_key_problem(settings.secret_key)):
        problems.append(f"{problem}; generate one with `{GENERATE_SECRET_KEY}`")
    try:
        fernet_for(settings.secrets_key, settings.secret_key, derive=settings.env != "production")
    except SecretsError as error:
        problems.append(str(error))
    return problems


def require_safe_keys(settings: Settings) -> None:
    """Raise UnsafeKeys naming each problem; production with a weak or missing key never starts."""
    if problems := key_problems(settings):
        raise UnsafeKeys(f"Flowport will not start in {settings.env}: " + "; ".join(problems))
