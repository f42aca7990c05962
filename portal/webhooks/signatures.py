"""Signature checks for each toolchain's webhooks, all compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping


class SignatureError(Exception):
    """The delivery is not authentic; the message says why (returned to the sender with a 401)."""


def _hmac_sha256(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, body, hashlib.sha256).digest()


def _as_bytes(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _matches_any(expected: Iterable[bytes], presented: Iterable[bytes]) -> bool:
    # Compare every pair so the time taken does not depend on which one matched.
    found = False
    for want in expected:
        for got in presented:
            found |= hmac.compare_digest(want, got)
    return found


def _hex_values(header: str, prefix: str) -> list[bytes]:
    values = []
    for part in header.split(","):
        part = part.strip()
        if part.startswith(prefix):
            try:
                values.append(bytes.fromhex(part[len(prefix):]))
            except ValueError:
                continue
    return values


def verify_hub_signature(secrets: Iterable[str | bytes], body: bytes, header: str | None, name: str) -> None:
    """GitHub `X-Hub-Signature-256` and Jira `X-Hub-Signature`: `sha256=<hex HMAC of the body>`."""
    if not header:
        raise SignatureError(f"missing {name} header")
    presented = _hex_values(header, "sha256=")
    if not presented:
        raise SignatureError(f"{name} must look like 'sha256=<hex digest>'")
    if not _matches_any((_hmac_sha256(_as_bytes(s), body) for s in secrets), presented):
        raise SignatureError(f"{name} does not match the body signed with the configured secret")


def verify_token(secrets: Iterable[str], header: str | None, name: str) -> None:
    """GitLab `X-Gitlab-Token`: the shared secret itself."""
    if not header:
        raise SignatureError(f"missing {name} header")
    if not _matches_any((s.encode() for s in secrets), [header.encode()]):
        raise SignatureError(f"{name} does not match the configured token")


def verify_pagerduty(secrets: Iterable[str | bytes], body: bytes, header: str | None) -> None:
    """PagerDuty v3 `X-PagerDuty-Signature: v1=<hex>,v1=<hex>` (several during key rotation)."""
    if not header:
        raise SignatureError("missing X-PagerDuty-Signature header")
    presented = _hex_values(header, "v1=")
    if not presented:
        raise SignatureError("X-PagerDuty-Signature has no v1= signature")
    if not _matches_any((_hmac_sha256(_as_bytes(s), body) for s in secrets), presented):
        raise SignatureError("no X-PagerDuty-Signature value matches the configured secrets")


STANDARD_WEBHOOKS_TOLERANCE = 5 * 60


def standard_webhooks_key(secret: str) -> bytes:
    """Standard Webhooks secrets are `whsec_<base64 key>`; anything else is used as raw bytes."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_"):])
    return secret.encode()


def sign_standard_webhook(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value a sender computes (used by tests and outbound webhooks)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = _hmac_sha256(standard_webhooks_key(secret), signed)
    return "v1," + base64.b64encode(digest).decode()


def verify_standard_webhook(
    secrets: Iterable[str], headers: Mapping[str, str], body: bytes, now: float | None = None
) -> None:
    """Standard Webhooks: `webhook-id`, `webhook-timestamp` (5-minute tolerance), `webhook-signature`."""
    message_id = headers.get("webhook-id")
    timestamp_text = headers.get("webhook-timestamp")
    signature = headers.get("webhook-signature")
    if not message_id or not timestamp_text or not signature:
        raise SignatureError("Standard Webhooks need webhook-id, webhook-timestamp and webhook-signature headers")
    try:
        timestamp = int(timestamp_text)
    except ValueError as error:
        raise SignatureError("webhook-timestamp must be whole seconds since the epoch") from error
    current = time.time() if now is None else now
    if abs(current - timestamp) > STANDARD_WEBHOOKS_TOLERANCE:
        raise SignatureError("webhook-timestamp is more than 5 minutes away from now (replayed or clock skew)")
    presented = []
    for part in signature.split():
        version, _, value = part.partition(",")
        if version == "v1":
            try:
                presented.append(base64.b64decode(value))
            except ValueError:
                continue
    if not presented:
        raise SignatureError("webhook-signature has no v1 signature")
    signed = f"{message_id}.{timestamp_text}.".encode() + body
    expected = (_hmac_sha256(standard_webhooks_key(s), signed) for s in secrets)
    if not _matches_any(expected, presented):
        raise SignatureError("webhook-signature does not match the configured secret")
