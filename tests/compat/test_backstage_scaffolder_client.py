"""Backstage's own ScaffolderClient (Node, @backstage/plugin-scaffolder-common) against a real Flowport server
whose in-process worker runs the tasks."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from portal.app import create_app
from portal.auth.tokens import issue_token
from tests.live_server import serve_in_thread
from tests.requests.factories import REQUESTER, request_catalog, store
from tests.scaffolder.conftest import make_template
from tests.scaffolder.tasks.support import greeting_template

SCRIPT = Path(__file__).with_name("scaffolder_client_check.mjs")
REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def waiting_template() -> dict:
    return make_template(steps=[{"id": "pause", "action": "debug:wait", "input": {"minutes": 5}}], name="waiter")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_backstage_scaffolder_client_works_against_flowport(settings, engine, session):
    store(session, [*request_catalog(), greeting_template(), waiting_template()])
    token = issue_token(session, kind="personal", subject_ref=REQUESTER, name="scaffolder-client",
                        scopes=("request",), created_by=REQUESTER).token
    session.commit()
    app = create_app(settings.model_copy(update={"run_worker": True, "sync_interval": 0}))
    with serve_in_thread(app) as base_url:
        run = subprocess.run(
            ["node", str(SCRIPT)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
            env={"PATH": "/usr/bin:/bin:/usr/local/bin", "SCAFFOLDER_BASE_URL": f"{base_url}/api/scaffolder",
                 "TOKEN": token, "USER_REF": REQUESTER},
        )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)

    assert {"debug:log", "debug:wait", "fetch:template", "catalog:write"} <= set(out["listActions"])
    assert out["debugWaitInput"] == ["minutes", "seconds", "milliseconds"]
    assert out["templatingExtensions"] == {"filters": ["dump", "parseEntityRef", "parseRepoUrl", "pick", "projectSlug"],
                                           "globals": {"functions": {}, "values": {}}}
    assert out["parameterSchema"] == {"title": "greeter", "steps": ["Name it"], "required": ["name"]}
    assert out["parameterSchemaMissing"]["name"] == "ResponseError"
    assert out["parameterSchemaMissing"]["causeName"] == "NotFoundError"

    streamed = out["streamed"]
    assert streamed[0]["message"] == "Task started (attempt 1)" and "Hello returns" in [e["message"] for e in streamed]
    assert streamed[-1]["type"] == "completion" and streamed[-1]["status"] == "completed"
    assert [e["id"] for e in streamed] == sorted(e["id"] for e in streamed)
    assert out["polled"] == streamed  # the long-polling events list gives the same events
    assert out["streamedAfter"] == streamed[-2:]
    assert out["getTask"] == {"id": out["scaffoldTaskId"], "status": "completed", "createdBy": REQUESTER,
                              "parameters": {"name": "returns"}, "templateRef": "template:default/greeter",
                              "hasHeartbeat": True}
    assert "400" in out["scaffoldInvalid"]["message"] and "name" in out["scaffoldInvalid"]["message"]
    assert out["listTasks"] == {"total": 1, "ids": [out["scaffoldTaskId"]]}

    assert out["cancelTask"] == {"status": "cancelled"}
    assert out["cancelledStatus"] == "cancelled"
    assert out["cancelledStream"][-1]["type"] == "completion" and out["cancelledStream"][-1]["status"] == "cancelled"
    assert "cancelled" in [e["type"] for e in out["cancelledStream"]]
    assert out["retry"] == {"id": out["waitingTaskId"]}
    assert out["retriedStatus"] == "processing"
    retried_messages = [e["message"] for e in out["retriedStream"]]
    assert retried_messages[0].startswith(f"Retried by {REQUESTER}") and "Task started (attempt 2)" in retried_messages
    assert out["retriedStream"][-1]["status"] == "cancelled"

    assert out["dryRun"]["files"] == ["catalog-info.yaml"] and out["dryRun"]["steps"] == ["write"]
    assert out["dryRun"]["output"] == {"text": [{"title": "Name", "content": "dry-one"}]}

    with Session(engine) as check:
        stored = repr([tuple(row) for table in SQLModel.metadata.sorted_tables for row in check.execute(select(table))])
    assert "client-secret-123" not in stored
