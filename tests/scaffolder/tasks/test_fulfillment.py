"""Orders fulfilled by tasks: automated orders start one at once, approved ones when approved, and the
order follows its task (fulfilling, delivered, failed, retried) in the task's own transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from portal.app import create_app
from portal.scaffolder.tasks.models import ScaffolderTask
from tests.requests.factories import APPROVER, FLOWPORT, OWNER, REQUESTER, request_catalog, store
from tests.scaffolder.tasks.support import greeting_template, messages, store_templates, runner_for, task_row, template_on_disk
from tests.web.csrf_support import dev_sign_in

URL = "/api/v1/requests"


def template_capability(name: str, mode: str, template: str, **fulfillment: str) -> dict:
    return {"apiVersion": FLOWPORT, "kind": "Capability", "metadata": {"name": name},
            "spec": {"product": "platformproduct:default/delivery-platform", "owner": "group:team-dx",
                     "lifecycle": "ga", "fulfillment": {"mode": mode, "template": template, **fulfillment}}}


@pytest.fixture
def skeleton_folder(tmp_path):
    return tmp_path / "flaky-template"


@pytest.fixture
def dev_app(settings, session, skeleton_folder):
    flaky = template_on_disk(skeleton_folder, "flaky-repo", [
        {"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton", "values": {"name": "x"}}}])
    # Ingestion records where a template was read from; fetch:template reads its skeleton from that folder.
    store_templates(session, flaky, location=f"file:{skeleton_folder / 'template.yaml'}")
    store(session, [
        *request_catalog(), greeting_template(),
        template_capability("greeting-repo", "automated", "template:default/greeter"),
        template_capability("approved-greeting", "approval", "template:default/greeter",
                            approvers="group:default/team-sre"),
        template_capability("manual-greeting", "manual", "template:default/greeter"),
        template_capability("flaky-repo", "automated", "template:default/flaky-repo"),
        template_capability("ghost-repo", "automated", "template:default/no-such-template"),
    ])
    return create_app(settings.model_copy(update={"env": "development", "requests_visible_to": "everyone"}))


@pytest.fixture
def client_as(dev_app) -> Iterator[Callable[[str], TestClient]]:
    with ExitStack() as stack:
        def signed_in(user_ref: str) -> TestClient:
            client = stack.enter_context(TestClient(dev_app))
            dev_sign_in(client, user_ref)
            return client
        yield signed_in


def order(client: TestClient, capability: str, parameters: dict) -> dict:
    response = client.post(URL, json={"kind": "order", "capability": capability, "parameters": parameters})
    assert response.status_code == 201, response.text
    return response.json()


def timeline(client: TestClient, request_id: str) -> list[tuple]:
    body = client.get(f"{URL}/{request_id}").json()
    return [(e["from"], e["to"], e["source"]) for e in body["events"]]


def test_an_automated_order_starts_a_task_and_is_delivered_when_it_completes(client_as, engine, settings):
    requester = client_as(REQUESTER)
    created = order(requester, "greeting-repo", {"name": "returns"})
    assert created["stage"] == "submitted" and created["taskId"]
    task = task_row(engine, created["taskId"])
    assert f"REQ-{task.request_id}" == created["id"] and task.values == {"name": "returns"} and task.created_by == REQUESTER

    runner_for(engine, settings).run_once()

    body = requester.get(f"{URL}/{created['id']}").json()
    assert body["stage"] == "delivered"
    assert timeline(requester, created["id"]) == [(None, "submitted", "user"), ("submitted", "fulfilling", "automation"),
                                                  ("fulfilling", "delivered", "automation")]
    delivered = body["events"][-1]
    task = task_row(engine, created["taskId"])
    assert delivered["actor"] == f"task:{task.id}"
    assert delivered["workTimeSeconds"] == round((task.finished_at - task.started_at).total_seconds())
    assert body["events"][1]["workTimeSeconds"] is None


def test_an_order_whose_parameters_do_not_fit_the_template_is_refused_naming_the_field(client_as, engine):
    response = client_as(REQUESTER).post(URL, json={"kind": "order", "capability": "greeting-repo",
                                                    "parameters": {"name": "Not Valid!", "port": 80}})
    assert response.status_code == 422
    paths = {detail["path"] for detail in response.json()["error"]["details"]}
    assert paths == {"parameters.name", "parameters.port"}
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(ScaffolderTask)).scalar_one() == 0


def test_an_order_for_a_capability_whose_template_is_missing_is_refused(client_as):
    response = client_as(REQUESTER).post(URL, json={"kind": "order", "capability": "ghost-repo", "parameters": {}})
    assert response.status_code == 422
    assert "template:default/no-such-template" in response.json()["error"]["message"]


def test_an_approval_order_waits_and_its_task_starts_when_approved(client_as, engine, settings):
    requester = client_as(REQUESTER)
    created = order(requester, "approved-greeting", {"name": "tracking"})
    assert created["stage"] == "awaiting-approval" and created["taskId"] is None
    assert runner_for(engine, settings).run_once() == 0

    approved = client_as(APPROVER).post(f"{URL}/{created['id']}/decision", json={"decision": "approve"}).json()
    assert approved["stage"] == "fulfilling" and approved["taskId"]
    runner_for(engine, settings).run_once()

    assert timeline(requester, created["id"]) == [
        (None, "awaiting-approval", "user"), ("awaiting-approval", "fulfilling", "user"),
        ("fulfilling", "delivered", "automation")]


def test_a_rejected_order_and_a_manual_order_start_no_task(client_as, engine):
    requester = client_as(REQUESTER)
    waiting = order(requester, "approved-greeting", {"name": "tracking"})
    rejected = client_as(APPROVER).post(f"{URL}/{waiting['id']}/decision",
                                        json={"decision": "reject", "reason": "Use the shared cluster"})
    assert rejected.json()["stage"] == "rejected" and rejected.json()["taskId"] is None
    manual = order(requester, "manual-greeting", {"name": "by-hand"})
    assert manual["taskId"] is None
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(ScaffolderTask)).scalar_one() == 0


def test_a_failed_task_fails_the_order_and_a_retry_brings_it_back_to_delivered(
        client_as, engine, settings, skeleton_folder):
    requester = client_as(REQUESTER)
    created = order(requester, "flaky-repo", {})
    runner = runner_for(engine, settings)
    runner.run_once()
    body = requester.get(f"{URL}/{created['id']}").json()
    assert body["stage"] == "failed"
    assert body["events"][-1]["workTimeSeconds"] is not None

    (skeleton_folder / "skeleton").mkdir()  # the template's owners fix the missing skeleton
    (skeleton_folder / "skeleton" / "README.md").write_text("# ${{ values.name }}\n")
    retried = requester.post(f"/api/scaffolder/v2/tasks/{created['taskId']}/retry", json={})
    assert retried.status_code == 201, retried.text
    assert requester.get(f"{URL}/{created['id']}").json()["stage"] == "fulfilling"
    runner.run_once()

    body = requester.get(f"{URL}/{created['id']}").json()
    assert body["stage"] == "delivered", messages(engine, created["taskId"])
    assert timeline(requester, created["id"]) == [
        (None, "submitted", "user"), ("submitted", "fulfilling", "automation"), ("fulfilling", "failed", "automation"),
        ("failed", "fulfilling", "automation"), ("fulfilling", "delivered", "automation")]
    assert [e["rework"] for e in body["events"]] == [False, False, False, True, False]


def test_a_cancelled_task_cancels_its_order(client_as, engine):
    requester = client_as(REQUESTER)
    created = order(requester, "greeting-repo", {"name": "returns"})
    response = requester.post(f"/api/scaffolder/v2/tasks/{created['taskId']}/cancel")
    assert response.status_code == 200 and response.json() == {"status": "cancelled"}
    assert timeline(requester, created["id"])[-1] == ("submitted", "cancelled", "automation")


def test_the_template_is_what_the_catalog_had_when_the_order_was_placed(client_as, engine, settings, session):
    created = order(client_as(REQUESTER), "greeting-repo", {"name": "returns"})
    changed = greeting_template()
    changed["spec"]["steps"][0]["input"]["message"] = "Changed later"
    store(session, [changed])

    runner_for(engine, settings).run_once()

    assert task_row(engine, created["taskId"]).template["spec"]["steps"][0]["input"]["message"].startswith("Hello")


def test_an_order_moved_by_hand_while_its_task_runs_stays_where_it_was_put(client_as, engine, settings):
    created = order(client_as(REQUESTER), "greeting-repo", {"name": "returns"})
    by_hand = client_as(OWNER).post(f"{URL}/{created['id']}/transitions", json={"to": "delivered"})
    assert by_hand.status_code == 200, by_hand.text

    runner_for(engine, settings).run_once()

    assert task_row(engine, created["taskId"]).status == "completed"
    requester = client_as(REQUESTER)
    assert requester.get(f"{URL}/{created['id']}").json()["stage"] == "delivered"
    assert timeline(requester, created["id"])[-1] == ("submitted", "delivered", "user")
    notes = [m for m in messages(engine, created["taskId"]) if m.startswith(created["id"])]
    assert notes == [f"{created['id']} stays in 'delivered': it was moved while its task ran, so the task "
                     f"started does not move it"]


def test_a_requester_who_withdraws_an_order_cancels_its_task(client_as, engine, settings):
    requester = client_as(REQUESTER)
    waiting = order(requester, "greeting-repo", {"name": "early"})
    withdrawn = requester.post(f"{URL}/{waiting['id']}/transitions", json={"to": "cancelled"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert task_row(engine, waiting["taskId"]).status == "cancelled"  # it had not started: cancelled at once
    assert timeline(requester, waiting["id"])[-1] == ("submitted", "cancelled", "user")  # once, by the person
    assert f"{waiting['id']} was cancelled, so its task is too" in messages(engine, waiting["taskId"])

    running = order(requester, "greeting-repo", {"name": "late"})
    runner = runner_for(engine, settings)
    claimed = runner.claim()  # a worker has taken it (the order is fulfilling) and is about to run it
    assert requester.post(f"{URL}/{running['id']}/transitions", json={"to": "cancelled"}).status_code == 200
    task = task_row(engine, running["taskId"])
    assert task.status == "processing" and task.cancel_requested

    runner.run(claimed)  # the worker sees the request before its first step

    assert task_row(engine, running["taskId"]).status == "cancelled"
    assert timeline(requester, running["id"])[1:] == [("submitted", "fulfilling", "automation"),
                                                      ("fulfilling", "cancelled", "user")]
