import base64
import hashlib
import hmac
import time

import pytest

from portal.webhooks.signatures import (
    SignatureError,
    sign_standard_webhook,
    verify_hub_signature,
    verify_pagerduty,
    verify_standard_webhook,
    verify_token,
)
from tests.conftest import FIXTURES

BODY = (FIXTURES / "github/octokit-webhooks/ping/payload.json").read_bytes()


def hub(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_github_signature_of_a_real_payload_is_accepted():
    verify_hub_signature(["s3cret"], BODY, hub("s3cret", BODY), "X-Hub-Signature-256")


@pytest.mark.parametrize("header, reason", [
    (None, "missing"),
    ("sha1=abcd", "must look like"),
    ("sha256=" + "0" * 64, "does not match"),
])
def test_github_signature_problems_are_named(header, reason):
    with pytest.raises(SignatureError, match=reason):
        verify_hub_signature(["s3cret"], BODY, header, "X-Hub-Signature-256")


def test_a_tampered_body_fails():
    with pytest.raises(SignatureError):
        verify_hub_signature(["s3cret"], BODY + b" ", hub("s3cret", BODY), "X-Hub-Signature-256")


def test_gitlab_token_must_equal_one_secret():
    verify_token(["old", "new"], "new", "X-Gitlab-Token")
    with pytest.raises(SignatureError, match="does not match"):
        verify_token(["old", "new"], "other", "X-Gitlab-Token")


def test_pagerduty_accepts_any_v1_value_during_key_rotation():
    pd_body = (FIXTURES / "pagerduty/zulip-fixtures/triggered_v3.json").read_bytes()
    good = hmac.new(b"new-key", pd_body, hashlib.sha256).hexdigest()
    verify_pagerduty(["new-key"], pd_body, f"v1={'ab' * 32},v1={good}")
    with pytest.raises(SignatureError, match="no X-PagerDuty-Signature value matches"):
        verify_pagerduty(["other-key"], pd_body, f"v1={good}")


def test_standard_webhooks_round_trip_and_replay_window():
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    now = int(time.time())
    signature = sign_standard_webhook(secret, "msg_1", now, BODY)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(now), "webhook-signature": f"v1,bogus {signature}"}
    verify_standard_webhook([secret], headers, BODY, now=now)
    with pytest.raises(SignatureError, match="5 minutes"):
        verify_standard_webhook([secret], headers, BODY, now=now + 301)
    with pytest.raises(SignatureError, match="does not match"):
        verify_standard_webhook([secret], {**headers, "webhook-id": "msg_2"}, BODY, now=now)
