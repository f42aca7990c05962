"""What the request page works out beside the stored row: masked parameters, ages, whose turn it is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from portal.requests.models import Request, RequestEvent
from portal.requests.offerings import Offering
from portal.requests.pages.details import MASK, age_text, masked_parameters, waiting_on

SCHEMA = {"type": "object", "properties": {
    "hosts": {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string"}, "sshKey": {"type": "string", "ui:widget": "password"}}}},
    "note": {"type": "string"},
}}


def test_secrets_inside_arrays_are_masked_and_the_rest_shown():
    rows = masked_parameters({"hosts": [{"name": "db-1", "sshKey": "AAAAB3Nza"}, {"name": "db-2", "sshKey": "k2"}],
                              "note": "<b>x</b>", "flags": [1, 2], "empty": {}}, [SCHEMA])
    assert rows == [("hosts[0].name", "db-1", False), ("hosts[0].sshKey", MASK, True),
                    ("hosts[1].name", "db-2", False), ("hosts[1].sshKey", MASK, True),
                    ("note", "<b>x</b>", False), ("flags", "[1, 2]", False), ("empty", "{}", False)]


@pytest.mark.parametrize("name", ["password", "DB_PASSWORD", "clientSecret", "api_key", "apiKey", "githubToken",
                                  "private-key"])
def test_secret_looking_names_are_masked_without_a_schema(name):
    assert masked_parameters({name: "s3cr3t"}, []) == [(name, MASK, True)]


def test_parameters_that_are_not_an_object_show_nothing():
    assert masked_parameters(None, []) == [] and masked_parameters(["a"], []) == []


@pytest.mark.parametrize("seconds,text", [(0, "less than a minute"), (59, "less than a minute"), (60, "1 minute"),
                                          (7_200, "2 hours"), (86_400, "1 day"), (10 * 86_400 + 5, "10 days"),
                                          (-5, "less than a minute")])
def test_ages_read_like_people_say_them(seconds, text):
    assert age_text(seconds) == text


def _row(kind: str, stage: str) -> Request:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    return Request(id=1, kind=kind, title="t", requester_ref="user:default/a", stage=stage, created_at=at,
                   updated_at=at)


def _offering(mode: str, approvers: str | None = None) -> Offering:
    fulfillment = {"mode": mode, **({"approvers": approvers} if approvers else {})}
    capability = {"kind": "Capability", "spec": {"owner": "group:default/team-dx", "fulfillment": fulfillment}}
    return Offering("capability:default/c", capability, None, None)


@pytest.mark.parametrize("kind,stage,mode,who", [
    ("order", "awaiting-approval", "approval", "approvers"),
    ("order", "submitted", "automated", "automation"),
    ("order", "fulfilling", "approval", "automation"),
    ("order", "submitted", "manual", "owners"),
    ("order", "fulfilling", "manual", "owners"),
    ("order", "delivered", "manual", "requester"),
    ("order", "in-use", "automated", "requester"),
    ("order", "value-confirmed", "manual", "nobody"),
    ("order", "cancelled", "manual", "nobody"),
    ("idea", "triaged", "manual", "owners"),
    ("idea", "value-realized", "manual", "nobody"),
])
def test_whose_turn_it_is(kind, stage, mode, who):
    event = RequestEvent(request_id=1, at=datetime(2026, 12, 2, tzinfo=UTC), actor="x", to_stage=stage, source="user")
    waiting = waiting_on(_row(kind, stage), _offering(mode, "group:default/team-sre"), event)
    assert waiting.who == who
    assert waiting.since == datetime(2026, 12, 2, tzinfo=UTC)
    if who == "approvers":
        assert waiting.groups == ("group:default/team-sre",)
    if who == "owners":
        assert waiting.groups == ("group:default/team-dx",)


_PLAIN_KEYS = st.sampled_from(["name", "size", "region", "tags", "replicas", "owner"])
_LEAVES = st.one_of(st.integers(-2**63, 2**63), st.booleans(), st.none(),
                    st.text(alphabet="abcdefgh <>&\"'", max_size=8))
_SECRET_LEAF = st.builds(lambda n: {"password": f"SECRET-{n}"}, st.integers(0, 999))
_VALUES = st.recursive(st.one_of(_LEAVES, _SECRET_LEAF), lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(_PLAIN_KEYS, children, max_size=4)), max_leaves=20)


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.dictionaries(_PLAIN_KEYS, _VALUES, max_size=5))
def test_a_password_never_shows_however_deep_it_is(parameters):
    rows = masked_parameters(parameters, [])
    assert not any("SECRET-" in shown for _, shown, _ in rows)
