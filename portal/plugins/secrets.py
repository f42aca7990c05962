"""Secrets of stored connections: encrypted with the configured keys, or referenced by env-var name.

An `env:NAME` reference is read from the server's environment whenever the connection is built, so
only names the operator set aside for it (FLOWPORT_SECRET_ENV_PREFIX) may be referenced: anything
else would let whoever edits a connection send the server's own keys to a host of their choosing."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import BaseModel, SecretStr

ENV_PREFIX = "env:"
ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
KEY_SETTING = "FLOWPORT_SECRETS_KEY"
GENERATE_KEY = "flowport secrets generate-key"


class SecretsError(ValueError):
    """A secret that cannot be stored or read back; the message never contains the secret."""


def parse_keys(secrets_key: str | None) -> list[str]:
    """FLOWPORT_SECRETS_KEY as a list of keys, the one that encrypts first."""
    return [part.strip() for part in (secrets_key or "").split(",") if part.strip()]


def derived_key(secret_key: str) -> str:
    """The key derived from the cookie key: used outside production, and by earlier versions everywhere."""
    return base64.urlsafe_b64encode(hashlib.sha256(("flowport-secrets:" + secret_key).encode()).digest()).decode()


def fernet_for(secrets_key: str | None, secret_key: str, derive: bool = True) -> MultiFernet:
    """The configured keys (the first encrypts, all decrypt), or one derived from the app's secret key."""
    keys = parse_keys(secrets_key)
    if not keys:
        if not derive:
            raise SecretsError(f"{KEY_SETTING} is not set; generate a key with `{GENERATE_KEY}`")
        return MultiFernet([Fernet(derived_key(secret_key).encode())])
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError):
            # Never echo the key: say which one of the list is wrong.
            raise SecretsError(f"key {position} of {KEY_SETTING} is not a Fernet key (32 bytes in url-safe "
                               f"base64, 44 characters); generate one with `{GENERATE_KEY}`") from None
    return MultiFernet(fernets)


@dataclass(frozen=True)
class EnvRule:
    """Which environment variables `env:NAME` secrets may name: the prefix, minus Flowport's own settings."""

    prefix: str
    reserved: frozenset[str] = frozenset()

    def refusal(self, name: str) -> str | None:
        """Why `env:<name>` may not be used, or None; never repeats the name (it may be a pasted secret)."""
        if not ENV_NAME.fullmatch(name) or not name.startswith(self.prefix) or name in self.reserved:
            return (f"an env: reference must name an upper-case environment variable (A-Z, 0-9, _) starting "
                    f"with {self.prefix} (FLOWPORT_SECRET_ENV_PREFIX) that is not a Flowport setting")
        return None


def secret_fields(model: type[BaseModel]) -> set[str]:
    """Names of fields typed SecretStr (alone, optional, or in a list)."""
    names = set()
    for name, field in model.model_fields.items():
        if "SecretStr" in str(field.annotation) or field.annotation is SecretStr:
            names.add(name)
        elif any(arg is SecretStr for arg in typing.get_args(field.annotation)):
            names.add(name)
    return names


def _seal_one(fernet: MultiFernet, rule: EnvRule, field: str, value: object) -> dict:
    text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    if text.startswith(ENV_PREFIX):
        name = text[len(ENV_PREFIX):]
        if refusal := rule.refusal(name):
            raise SecretsError(f"{field}: {refusal}")
        return {"env": name}
    return {"encrypted": fernet.encrypt(text.encode()).decode()}


def seal(model: type[BaseModel], values: Mapping[str, object], fernet: MultiFernet, rule: EnvRule) -> dict:
    """The storable form of a connection config: secret values encrypted or kept as env refs."""
    stored = dict(values)
    for name in secret_fields(model) & set(values):
        value = values[name]
        if value is None:
            continue
        stored[name] = ([_seal_one(fernet, rule, name, v) for v in value] if isinstance(value, list)
                        else _seal_one(fernet, rule, name, value))
    return stored


def _open_one(fernet: MultiFernet, rule: EnvRule, field: str, sealed: object,
              environ: Mapping[str, str]) -> str:
    if not isinstance(sealed, dict):
        raise SecretsError(f"{field}: the stored secret is not in a known form; save the connection again")
    if "env" in sealed:
        name = sealed["env"]
        # Rows stored before the rule existed are checked again: an old reference is no safer than a new one.
        if refusal := (rule.refusal(name) if isinstance(name, str) else "the stored reference is not a name"):
            raise SecretsError(f"{field}: {refusal}; save the connection again with an allowed name")
        if name not in environ:
            raise SecretsError(f"environment variable {name} referenced by this connection is not set")
        return environ[name]
    try:
        return fernet.decrypt(sealed["encrypted"].encode()).decode()
    except (InvalidToken, KeyError, AttributeError) as error:
        raise SecretsError(f"a stored secret cannot be decrypted: is the key that encrypted it still in "
                           f"{KEY_SETTING}?") from error


def unseal(model: type[BaseModel], stored: Mapping[str, object], fernet: MultiFernet, rule: EnvRule,
           environ: Mapping[str, str] | None = None) -> dict:
    """Config values ready for the plugin's model, secrets decrypted or read from the environment."""
    environ = os.environ if environ is None else environ
    values = dict(stored)
    for name in secret_fields(model) & set(stored):
        sealed = stored[name]
        if sealed is None:
            continue
        values[name] = ([_open_one(fernet, rule, name, s, environ) for s in sealed] if isinstance(sealed, list)
                        else _open_one(fernet, rule, name, sealed, environ))
    return values


def rotate(stored: Mapping[str, object], fernet: MultiFernet) -> tuple[dict, int]:
    """The stored config with every encrypted secret re-encrypted by the first key, and how many there were.
    Sealed values are found by their shape, so rows of a plugin that is not installed are rotated too."""
    rotated, count = dict(stored), 0

    def again(sealed: object) -> object:
        nonlocal count
        if isinstance(sealed, dict) and "encrypted" in sealed:
            try:
                token = fernet.rotate(str(sealed["encrypted"]).encode())
            except InvalidToken:
                raise SecretsError(f"a stored secret cannot be decrypted by any key in {KEY_SETTING}") from None
            count += 1
            return {"encrypted": token.decode()}
        return sealed

    for name, sealed in stored.items():
        rotated[name] = [again(s) for s in sealed] if isinstance(sealed, list) else again(sealed)
    return rotated, count


def describe(model: type[BaseModel], stored: Mapping[str, object]) -> dict:
    """What the API may show: secrets replaced by how they are kept, never their values."""
    shown = dict(stored)
    for name in secret_fields(model) & set(stored):
        sealed = stored[name]
        if sealed is None:
            continue
        items = sealed if isinstance(sealed, list) else [sealed]
        masked = [f"env:{s['env']}" if isinstance(s, dict) and "env" in s else "encrypted" for s in items]
        shown[name] = masked if isinstance(sealed, list) else masked[0]
    return shown
