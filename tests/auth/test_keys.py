"""Production refuses to start on a public, short, repetitive or missing key; development and test derive."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from portal.app import create_app
from portal.auth.keys import UnsafeKeys
from tests.auth.people import STRONG_SECRET_KEY, production_settings

FERNET_KEY = Fernet.generate_key().decode()


@pytest.mark.parametrize(("secret_key", "problem"), [
    ("flowport-development-key-change-me", "FLOWPORT_SECRET_KEY is not set (the built-in development key is public"),
    ("s3cret", "FLOWPORT_SECRET_KEY is too short: use at least 43 random characters"),
    ("a" * 64, "FLOWPORT_SECRET_KEY does not look random"),
    ("abcdefgh" * 8, "FLOWPORT_SECRET_KEY does not look random"),
])
def test_production_refuses_a_weak_cookie_key_and_says_how_to_make_one(settings, secret_key, problem):
    with pytest.raises(UnsafeKeys) as refused:
        create_app(production_settings(settings, secret_key=secret_key))
    message = str(refused.value)
    assert message.startswith("Flowport will not start in production: ") and problem in message
    assert "python -c 'import secrets; print(secrets.token_urlsafe(48))'" in message
    if secret_key != "flowport-development-key-change-me":
        assert secret_key not in message


def test_production_refuses_to_derive_the_connection_key_from_the_cookie_key(settings):
    with pytest.raises(UnsafeKeys, match="FLOWPORT_SECRETS_KEY is not set; generate a key with "
                                         "`flowport secrets generate-key`"):
        create_app(production_settings(settings, secrets_key=None))


def test_a_key_that_is_not_a_fernet_key_is_named_by_position_never_shown(settings):
    for mode in (production_settings(settings, secrets_key=f"{FERNET_KEY}, not-a-key-but-maybe-a-secret"),
                 settings.model_copy(update={"secrets_key": "not-a-key-but-maybe-a-secret"})):
        with pytest.raises(UnsafeKeys) as refused:
            create_app(mode)
        assert "of FLOWPORT_SECRETS_KEY is not a Fernet key" in str(refused.value)
        assert "not-a-key-but-maybe-a-secret" not in str(refused.value)


def test_production_starts_with_both_keys_and_a_hex_cookie_key_counts(settings):
    assert create_app(production_settings(settings)).state.settings.secret_key == STRONG_SECRET_KEY
    create_app(production_settings(settings, secret_key="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                                   secrets_key=f" {FERNET_KEY} , {Fernet.generate_key().decode()}"))


def test_development_and_test_start_without_any_key(settings):
    for env in ("development", "test"):
        create_app(settings.model_copy(update={"env": env, "secrets_key": None}))
