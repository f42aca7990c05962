"""Secrets of stored connections: encrypted with a key from settings, or referenced by env-var name."""

from __future__ import annotations

import base64
import hashlib
import os
import typing
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, SecretStr

ENV_PREFIX = "env:"


class SecretsError(ValueError):
    """A secret that cannot be stored or read back; the message never contains the secret."""


def fernet_for(secrets_key: str | None, secret_key: str) -> Fernet:
    """The configured Fernet key, or one derived from the app's secret key."""
    if secrets_key:
        return Fernet(secrets_key.encode())
    derived = base64.urlsafe_b64encode(hashlib.sha256(("flowport-secrets:" + secret_key).encode()).digest())
    return Fernet(derived)


def secret_fields(model: type[BaseModel]) -> set[str]:
    """Names of fields typed SecretStr (alone, optional, or in a list)."""
    names = set()
    for name, field in model.model_fields.items():
        if "SecretStr" in str(field.annotation) or field.annotation is SecretStr:
            names.add(name)
        elif any(arg is SecretStr for arg in typing.get_args(field.annotation)):
            names.add(name)
    return names


def _seal_one(fernet: Fernet, value: object) -> dict:
    text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    if text.startswith(ENV_PREFIX):
        return {"env": text[len(ENV_PREFIX):]}
    return {"encrypted": fernet.encrypt(text.encode()).decode()}


def seal(model: type[BaseModel], values: Mapping[str, object], fernet: Fernet) -> dict:
    """The storable form of a connection config: secret values encrypted or kept as env refs."""
    stored = dict(values)
    for name in secret_fields(model) & set(values):
        value = values[name]
        if value is None:
            continue
        stored[name] = [_seal_one(fernet, v) for v in value] if isinstance(value, list) else _seal_one(fernet, value)
    return stored


def _open_one(fernet: Fernet, sealed: dict, environ: Mapping[str, str]) -> str:
    if "env" in sealed:
        name = sealed["env"]
        if name not in environ:
            raise SecretsError(f"environment variable {name} referenced by this connection is not set")
        return environ[name]
    try:
        return fernet.decrypt(sealed["encrypted"].encode()).decode()
    except (InvalidToken, KeyError) as error:
        raise SecretsError("a stored secret cannot be decrypted: was FLOWPORT_SECRETS_KEY changed?") from error


def unseal(model: type[BaseModel], stored: Mapping[str, object], fernet: Fernet,
           environ: Mapping[str, str] | None = None) -> dict:
    """Config values ready for the plugin's model, secrets decrypted or read from the environment."""
    environ = os.environ if environ is None else environ
    values = dict(stored)
    for name in secret_fields(model) & set(stored):
        sealed = stored[name]
        if sealed is None:
            continue
        values[name] = ([_open_one(fernet, s, environ) for s in sealed] if isinstance(sealed, list)
                        else _open_one(fernet, sealed, environ))
    return values


def describe(model: type[BaseModel], stored: Mapping[str, object]) -> dict:
    """What the API may show: secrets replaced by how they are kept, never their values."""
    shown = dict(stored)
    for name in secret_fields(model) & set(stored):
        sealed = stored[name]
        if sealed is None:
            continue
        items = sealed if isinstance(sealed, list) else [sealed]
        masked = [f"env:{s['env']}" if "env" in s else "encrypted" for s in items]
        shown[name] = masked if isinstance(sealed, list) else masked[0]
    return shown
