"""Secrets given to a run live only in the memory of the process that took them: never in any column,
never in the task log or the application log; a worker without them fails the task saying so."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlmodel import Session, SQLModel

from portal.scaffolder.tasks.models import COMPLETED, FAILED
from portal.scaffolder.tasks.secrets import TaskSecrets
from tests.requests.factories import REQUESTER, store
from tests.scaffolder.conftest import make_template
from tests.scaffolder.tasks.api_support import BASE, client_as, scaffolder_app  # noqa: F401
from tests.scaffolder.tasks.support import messages, runner_for, task_events, task_row

SECRET = "ghp_S3cr3tT0kenValue9876"


def secret_template() -> dict:
    return make_template(
        steps=[{"id": "say", "action": "debug:log", "input": {"message": "Pushing with ${{ secrets.token }}"}},
               {"id": "use", "action": "debug:wait", "input": {"seconds": "${{ secrets.token }}"}}],
        name="uses-secrets")


def every_stored_value(engine) -> str:  # noqa: ANN001
    """Every column of every row of every table, as one text to search."""
    with Session(engine) as session:
        rows = [tuple(row) for table in SQLModel.metadata.sorted_tables for row in session.execute(select(table))]
    return repr(rows)


def test_secrets_are_never_stored_and_are_masked_in_every_log(client_as, session, engine, scaffolder_app, caplog):
    caplog.set_level(logging.DEBUG)
    store(session, [secret_template()])
    requester = client_as(REQUESTER)
    created = requester.post(f"{BASE}/tasks", json={"templateRef": "template:default/uses-secrets", "values": {},
                                                    "secrets": {"token": SECRET}})
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    runner = runner_for(engine, scaffolder_app.state.settings, secrets=scaffolder_app.state.task_secrets)

    runner.run_once()

    task = task_row(engine, task_id)
    assert task.status == FAILED and task.needs_secrets  # the wait step got the token where a number belongs
    said = messages(engine, task_id)
    assert "Pushing with ***" in said
    assert any("***" in message and "is not of type 'number'" in message for message in said)
    assert SECRET not in every_stored_value(engine)
    assert SECRET not in repr([event.body for event in task_events(engine, task_id)])
    assert SECRET not in caplog.text and SECRET not in requester.get(f"{BASE}/tasks/{task_id}/events").text


def test_a_worker_without_the_secrets_fails_the_task_saying_to_retry_with_them(client_as, session, engine,
                                                                               scaffolder_app):
    store(session, [make_template(steps=[{"id": "say", "action": "debug:log",
                                          "input": {"message": "have ${{ secrets.token }}"}}], name="needs-token")])
    requester = client_as(REQUESTER)
    task_id = requester.post(f"{BASE}/tasks", json={"templateRef": "template:default/needs-token",
                                                    "secrets": {"token": SECRET}}).json()["id"]
    other_process = runner_for(engine, scaffolder_app.state.settings, secrets=TaskSecrets())

    other_process.run_once()

    assert task_row(engine, task_id).status == FAILED
    completion = task_events(engine, task_id)[-1].body
    assert "secrets are kept only in the memory of the process that created the task" in completion["message"]
    assert f"/tasks/{task_id}/retry" in completion["message"]

    retried = requester.post(f"{BASE}/tasks/{task_id}/retry", json={"secrets": {"token": SECRET}})
    assert retried.status_code == 201
    runner_for(engine, scaffolder_app.state.settings, secrets=scaffolder_app.state.task_secrets).run_once()
    assert task_row(engine, task_id).status == COMPLETED
    assert "have ***" in messages(engine, task_id)
    assert SECRET not in every_stored_value(engine)
    assert len(scaffolder_app.state.task_secrets) == 0  # forgotten once the task completed
