"""Signing outbound payloads as the Standard Webhooks specification describes
(https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
`webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed by the secret's bytes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

SECRET_PREFIX = "whsec_"
SECRET_SETTING = "FLOWPORT_HTTP_REQUEST_SIGNING_SECRET"


class SigningSecretError(ValueError):
    """The configured secret is not `whsec_<base64>`; the message never shows it."""


def secret_bytes(secret: str) -> bytes:
    """The key of a `whsec_<base64>` secret."""
    encoded = secret.removeprefix(SECRET_PREFIX) if secret.startswith(SECRET_PREFIX) else None
    try:
        key = base64.b64decode(encoded or "", validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if encoded is None or len(key) < 16:
        raise SigningSecretError(f"{SECRET_SETTING} must be 'whsec_' followed by at least 16 bytes in base64")
    return key


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 signature>` of one message."""
    signed = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class Signer:
    """Signs the bodies of one message: the same id and timestamp for every hop of its redirects."""

    key: bytes = field(repr=False)
    message_id: str
    timestamp: int

    def headers(self, body: bytes) -> dict[str, str]:
        """The three Standard Webhooks headers for `body`."""
        return {"webhook-id": self.message_id, "webhook-timestamp": str(self.timestamp),
                "webhook-signature": signature(self.key, self.message_id, self.timestamp, body)}


def signer_for(secret: str, clock: Callable[[], float] = time.time,
               new_id: Callable[[], str] = lambda: f"msg_{uuid.uuid4().hex}") -> Signer:
    """A Signer for a new message; SigningSecretError when the secret is not `whsec_<base64>`."""
    return Signer(secret_bytes(secret), new_id(), int(clock()))
