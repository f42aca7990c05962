"""A bounded fuzz loop: real payloads of every tool, mutated and signed correctly, never make the intake
answer a 5xx, and whatever it stores never stops the worker."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from portal.app import create_app
from portal.webhooks import processing
from portal.webhooks.models import WebhookDelivery
from tests.conftest import FIXTURES
from tests.webhooks import signed

EXAMPLES_PER_TOOL = 80
FIXTURE_FOLDERS = {"github": "github", "gitlab": "gitlab", "jira": "jira", "pagerduty": "pagerduty",
                   "cdevents": "cdevents"}
ODD_VALUES: list[object] = [
    None, True, 0, -1, 2**64, 10**400 // 10**350, 1.5e308, "", "x" * 400, "nul\u0000inside", "bell\u0007",
    "\ud800", "ünïcödé ✓", [], [1, [2, [3]]], {}, {"nested": {"deeper": ["list"]}},
    json.loads("[" * 70 + "]" * 70),
]
ODD_HEADER_VALUES = ["", " ", "x" * 301, "a\x01b", "\x7f", "tab\there", "0", "-1", "../../etc/passwd", "{}", "[]",
                     "99999999999999999999"]


def payload_files(tool: str) -> list:
    return sorted(path for path in (FIXTURES / FIXTURE_FOLDERS[tool]).rglob("*.json"))


def _containers(document: object, path: tuple = ()) -> list[tuple]:
    """Every (container, key) pair in a JSON document, so a mutation can land anywhere."""
    found = []
    if isinstance(document, dict):
        for key, value in document.items():
            found.append((document, key))
            found += _containers(value, path + (key,))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.append((document, index))
            found += _containers(value, path + (index,))
    return found


def mutate_document(rng: random.Random, document: object) -> bytes:
    places = _containers(document)
    for _ in range(rng.randint(1, 3)):
        if not places:
            break
        container, key = rng.choice(places)
        if isinstance(container, dict) and rng.random() < 0.2:
            container.pop(key, None)
            places = _containers(document)
        else:
            container[key] = rng.choice(ODD_VALUES)
    return json.dumps(document).encode()


def mutate_bytes(rng: random.Random, body: bytes) -> bytes:
    choice = rng.randrange(5)
    position = rng.randrange(max(len(body), 1))
    if choice == 0:
        return body[:position]
    if choice == 1:
        return body[:position] + bytes([rng.randrange(256)]) + body[position + 1:]
    if choice == 2:
        return body[:position] + b"\x00" + body[position:]
    if choice == 3:
        return body[:position] + b"\\ud800" + body[position:]
    return json.dumps(rng.choice([[], 1, "s", None, [json.loads(body or b"{}")]])).encode()


def mutated_delivery(rng: random.Random, tool: str, sign: Callable[..., dict]) -> tuple[bytes, dict]:
    original = rng.choice(payload_files(tool)).read_bytes()
    body = mutate_bytes(rng, original) if rng.random() < 0.3 else mutate_document(rng, json.loads(original))
    delivery = rng.choice([None, *ODD_HEADER_VALUES]) if rng.random() < 0.3 else None
    headers = sign(body, delivery)
    if rng.random() < 0.2:
        name = rng.choice([name for name in headers if name.lower().startswith(("x-", "ce-", "idempotency"))
                           and "signature" not in name.lower() and "token" not in name.lower()] or ["X-Extra"])
        headers[name] = rng.choice(ODD_HEADER_VALUES)
    return body, headers


@pytest.mark.parametrize("tool", sorted(signed.SIGNERS))
def test_mutated_real_payloads_never_get_a_5xx_and_never_stop_the_worker(settings, monkeypatch, engine, tool):
    signed.configure_secrets(monkeypatch)
    rng = random.Random(f"flowport-fuzz-{tool}")  # fixed: a failure here is reproducible
    statuses: dict[int, int] = {}
    with TestClient(create_app(settings)) as client:
        for example in range(EXAMPLES_PER_TOOL):
            body, headers = mutated_delivery(rng, tool, signed.SIGNERS[tool])
            response = client.post(f"/webhooks/{tool}", content=body, headers=headers)
            assert response.status_code < 500, (example, body[:300], headers, response.text)
            if response.status_code >= 400:
                assert response.json()["reason"], response.text
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        report = processing.process_all(client.app.state.engine, client.app.state.plugins)
    assert statuses.get(202, 0) > 0 and statuses.get(400, 0) > 0, statuses  # both kinds were exercised
    with Session(engine) as session:
        rows = list(session.execute(select(WebhookDelivery)).scalars())
    assert report.claimed == sum(1 for row in rows if row.status != "ignored")
    for row in rows:
        assert row.status in ("processed", "failed", "ignored"), (row.delivery_id, row.status)
        if row.status == "failed":
            assert row.last_error and "Traceback" not in row.last_error
