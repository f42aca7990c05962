"""Bad input at /webhooks/{source}, signed correctly: each gets a 400 that says why, and nothing is stored."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from portal.webhooks.models import WebhookDelivery
from tests.webhooks import signed
from tests.webhooks.support import all_rows


@pytest.fixture
def client(settings, monkeypatch):
    signed.configure_secrets(monkeypatch)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def payload(tool: str) -> dict:
    return json.loads(signed.PAYLOADS[tool].read_bytes())


def post(client, tool: str, body: bytes, delivery: str | None = "d-1", **extra):  # noqa: ANN001, ANN201
    headers = {**signed.SIGNERS[tool](body, delivery), **extra}
    return client.post(f"/webhooks/{tool}", content=body, headers=headers)


def edited(tool: str, edit) -> bytes:  # noqa: ANN001
    document = payload(tool)
    edit(document)
    return json.dumps(document).encode()


def assert_refused(response, reason: str, engine) -> None:  # noqa: ANN001
    assert response.status_code == 400, response.text
    assert response.json()["status"] == "rejected"
    assert reason in response.json()["reason"]
    assert all_rows(engine, WebhookDelivery) == []


NON_STRING_FIELDS = [
    ("gitlab", lambda p: p.update(object_kind={"kind": "merge_request"}), "object_kind must be a string"),
    ("gitlab", lambda p: p.update(object_kind=7), "object_kind must be a string, not a number"),
    ("gitlab", lambda p: p["object_attributes"].update(action=["open"]), "object_attributes.action must be a string"),
    ("gitlab", lambda p: p.update(object_attributes="open"), "object_attributes must be an object"),
    ("jira", lambda p: p.update(webhookEvent=["jira:issue_created"]), "webhookEvent must be a string"),
    ("jira", lambda p: p.update(webhookEvent=12), "webhookEvent must be a string"),
    ("pagerduty", lambda p: p["event"].update(event_type={"a": 1}), "event.event_type must be a string"),
    ("pagerduty", lambda p: p["event"].update(id={"nested": "object"}), "event.id must be a string"),
    ("pagerduty", lambda p: p.update(event=[1, 2]), "an event object with an event_type"),
    ("cdevents", lambda p: p["context"].update(type=["dev.cdevents.pipelinerun.finished.0.1.1"]),
     "context.type must be a string"),
    ("cdevents", lambda p: p["context"].update(id=12345), "context.id must be a string"),
    ("cdevents", lambda p: p["context"].update(source={"uri": "x"}), "context.source must be a string"),
    ("cdevents", lambda p: p.update(context="not an object"), "a CloudEvent needs id, source and type"),
    ("github", lambda p: p.update(action={"opened": True}), "action must be a string"),
]


@pytest.mark.parametrize("tool, edit, reason", NON_STRING_FIELDS)
def test_non_string_ids_and_event_types_are_refused_and_not_stored(client, engine, tool, edit, reason):
    response = post(client, tool, edited(tool, edit), delivery=None if tool == "pagerduty" else "d-1")
    assert_refused(response, reason, engine)


@pytest.mark.parametrize("tool", ["jira", "pagerduty", "cdevents", "gitlab"])
def test_a_nul_or_control_character_in_an_event_type_is_refused(client, engine, tool):
    text = "jira:issue_created\u0000"
    edit = {"jira": lambda p: p.update(webhookEvent=text),
            "pagerduty": lambda p: p["event"].update(event_type="incident.\u0000triggered"),
            "cdevents": lambda p: p["context"].update(type="dev.cdevents\u0007"),
            "gitlab": lambda p: p.update(object_kind="merge\u0000request")}[tool]
    assert_refused(post(client, tool, edited(tool, edit)), "control or unprintable characters", engine)


def test_a_lone_surrogate_in_an_event_id_is_refused(client, engine):
    body = edited("pagerduty", lambda p: p["event"].update(id="\ud800"))
    assert_refused(post(client, "pagerduty", body, delivery=None), "unprintable", engine)


@pytest.mark.parametrize("tool", ["github", "gitlab", "jira", "pagerduty"])
def test_a_delivery_id_longer_than_its_column_is_a_400(client, engine, tool):
    body = signed.PAYLOADS[tool].read_bytes()
    assert_refused(post(client, tool, body, delivery="x" * 301), "301 characters long; at most 300", engine)


def test_a_delivery_id_of_exactly_the_column_length_is_accepted(client, engine):
    body = signed.PAYLOADS["github"].read_bytes()
    assert post(client, "github", body, delivery="x" * 300).status_code == 202


def test_a_control_character_in_a_delivery_header_is_refused(client, engine):
    body = signed.PAYLOADS["github"].read_bytes()
    assert_refused(post(client, "github", body, delivery="d\x01-1"), "control or unprintable", engine)


def test_an_overlong_event_type_is_a_400(client, engine):
    body = signed.PAYLOADS["github"].read_bytes()
    headers = signed.github(body, "d-1", event="e" * 250)
    response = client.post("/webhooks/github", content=body, headers=headers)
    assert_refused(response, "at most 200 are accepted", engine)


def test_cloudevents_with_a_long_source_and_id_are_kept_apart_by_a_digest(client, engine):
    # Two events whose source + id share their first 300 characters used to collide as "duplicate".
    for suffix in ("a", "b"):
        body = edited("cdevents", lambda p: p["context"].update(source="s" * 280, id="i" * 40 + suffix))
        assert post(client, "cdevents", body).status_code == 202
    ids = [row.delivery_id for row in all_rows(engine, WebhookDelivery)]
    assert len(set(ids)) == 2 and all(i.startswith("sha256:") and len(i) <= 300 for i in ids)


NOT_A_SANE_OBJECT = [
    (b"[" * 1000 + b"]" * 1000, "nested more than 64 levels deep"),
    (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested more than 64 levels deep"),
    (b"[" * 200_000, "nested more than 64 levels deep"),
    (b"[1, 2, 3]", "must be an object, not an array"),
    (b"42", "must be an object, not a number"),
    (b'"text"', "must be an object, not a string"),
    (b"null", "must be an object, not null"),
    (b'{"action": "opened", "bad": "\xff\xfe"}', "not valid JSON"),
    (b"\x00\x01\x02", "not valid JSON"),
]


@pytest.mark.parametrize("tool", sorted(signed.SIGNERS))
def test_bodies_that_are_not_a_json_object_of_sane_depth_are_a_400(client, engine, tool):
    for body, reason in NOT_A_SANE_OBJECT:
        response = post(client, tool, body)
        assert (response.status_code, reason in response.json()["reason"]) == (400, True), (body[:20], response.text)
    assert all_rows(engine, WebhookDelivery) == []


def test_json_nested_exactly_to_the_limit_is_read(client, engine):
    body = edited("github", lambda p: p.update(deep=json.loads("[" * 60 + "]" * 60)))
    assert post(client, "github", body).status_code == 202


def test_form_encoded_github_deliveries_get_the_same_checks(client, engine):
    from urllib.parse import urlencode

    body = urlencode({"payload": "[" * 500 + "]" * 500}).encode()
    headers = {**signed.github(body, "d-1"), "Content-Type": "application/x-www-form-urlencoded"}
    assert_refused(client.post("/webhooks/github", content=body, headers=headers), "nested more than 64", engine)


def test_a_third_party_plugin_that_trips_over_a_payload_gives_a_400_not_a_500(client, engine, monkeypatch):
    from flowport_jira import JiraPlugin

    def crashing(self, request, payload):  # noqa: ANN001, ANN202
        return payload["no such field"]

    monkeypatch.setattr(JiraPlugin, "describe_delivery", crashing)
    body = signed.PAYLOADS["jira"].read_bytes()
    assert_refused(post(client, "jira", body), "the Jira plugin could not read this delivery (KeyError)", engine)
