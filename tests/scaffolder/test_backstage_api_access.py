"""Who may use /api/scaffolder/v2 in production: API tokens by scope, nobody anonymously."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from portal.auth.tokens import issue_token
from tests.auth.people import production_settings
from tests.requests.factories import REQUESTER, request_catalog, store
from tests.scaffolder.tasks.api_support import BASE
from tests.scaffolder.tasks.support import greeting_template

BODY = {"templateRef": "template:default/greeter", "values": {"name": "returns"}}


@pytest.fixture
def production_client(settings, session):
    store(session, [*request_catalog(), greeting_template()])
    with TestClient(create_app(production_settings(settings))) as client:
        yield client


def bearer(session, *scopes: str) -> dict[str, str]:  # noqa: ANN001
    issued = issue_token(session, kind="personal", subject_ref=REQUESTER, name="scaffolder", scopes=scopes,
                         created_by=REQUESTER)
    session.commit()
    return {"Authorization": f"Bearer {issued.token}"}


def test_a_token_with_the_request_scope_creates_cancels_and_retries_tasks(production_client, session):
    headers = bearer(session, "request")
    created = production_client.post(f"{BASE}/tasks", json=BODY, headers=headers)
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    assert production_client.get(f"{BASE}/tasks/{task_id}", headers=headers).json()["createdBy"] == REQUESTER
    assert production_client.post(f"{BASE}/tasks/{task_id}/cancel", headers=headers).status_code == 200
    assert production_client.post(f"{BASE}/tasks/{task_id}/retry", headers=headers).status_code == 201


def test_a_read_only_token_reads_but_may_not_start_a_task(production_client, session):
    headers = bearer(session, "read")
    assert production_client.get(f"{BASE}/tasks", headers=headers).status_code == 200
    assert production_client.get(f"{BASE}/actions", headers=headers).status_code == 200
    refused = production_client.post(f"{BASE}/tasks", json=BODY, headers=headers)
    assert refused.status_code == 403 and "request scope" in refused.json()["error"]["message"]
    refused = production_client.post(f"{BASE}/dry-run", json={"template": greeting_template()}, headers=headers)
    assert refused.status_code == 403


@pytest.mark.parametrize(("method", "path"), [("GET", "/tasks"), ("POST", "/tasks"), ("GET", "/actions"),
                                              ("GET", "/tasks/some-id/events")])
def test_anonymous_callers_are_asked_to_sign_in(production_client, method, path):
    response = production_client.request(method, f"{BASE}{path}", json=BODY if method == "POST" else None)
    assert response.status_code == 401, response.text
