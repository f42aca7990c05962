"""A worker process killed mid-run (SIGKILL: no chance to clean up) leaves a task whose heartbeat stops;
another worker recovers it as failed (retrying it is tested in test_claims.py) and removes the workspace it left."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlmodel import Session

from portal.scaffolder.actions import default_registry
from portal.scaffolder.tasks import service
from portal.scaffolder.tasks.models import FAILED, PROCESSING
from tests.conftest import REPO_ROOT
from tests.scaffolder.conftest import make_template
from tests.scaffolder.tasks.support import messages, runner_for, task_events, task_row, wait_for

pytestmark = pytest.mark.slow

WORKER = """
import sys
from portal.db import build_engine
from portal.settings import Settings
from portal.scaffolder.tasks.runner import TaskRunner

settings = Settings(env="test", database_url=sys.argv[1], data_dir=sys.argv[2], task_heartbeat_timeout=2)
engine = build_engine(settings.resolved_database_url)
TaskRunner(engine, settings, worker_id="doomed-worker").run_once()
"""


def test_a_killed_worker_is_noticed_and_its_task_recovered(engine, settings, database_url):
    entity = make_template(steps=[{"id": "pause", "action": "debug:wait", "input": {"minutes": 5}}], name="long")
    with Session(engine, expire_on_commit=False) as session:
        task_id = service.create_task(session, entity=entity, values={}, created_by="user:default/rui.requester",
                                      registry=default_registry()).id
        session.commit()
    worker = subprocess.Popen([sys.executable, "-c", WORKER, database_url, str(settings.data_dir)], cwd=REPO_ROOT)
    try:
        wait_for(lambda: "Waiting 300 seconds" in messages(engine, task_id), "the worker to start waiting")
        workspace = settings.data_dir / "scaffolder-tasks" / f"{task_id}-1"
        assert workspace.is_dir() and task_row(engine, task_id).claimed_by == "doomed-worker"
    finally:
        worker.kill()
        worker.wait(30)
    assert task_row(engine, task_id).status == PROCESSING  # nobody knows yet

    survivor = runner_for(engine, settings.model_copy(update={"task_heartbeat_timeout": 2}))
    wait_for(lambda: survivor.run_once() and task_row(engine, task_id).status == FAILED,
             "the stale heartbeat to be noticed")

    events = task_events(engine, task_id)
    assert [e.type for e in events[-2:]] == ["recovered", "completion"]
    assert "doomed-worker stopped while running this task" in events[-2].body["message"]
    assert not workspace.exists()

