"""Where tasks run: the web process's lifespan (`make run`) and `flowport worker` both start a TaskRunner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from portal.app import create_app
from portal.scaffolder.actions import default_registry
from portal.scaffolder.tasks import service
from portal.scaffolder.tasks.models import COMPLETED
from tests.scaffolder.tasks.support import greeting_template, task_row, wait_for


def open_task(engine) -> str:  # noqa: ANN001
    with Session(engine, expire_on_commit=False) as session:
        task = service.create_task(session, entity=greeting_template(), values={"name": "returns"},
                                   created_by="user:default/rui.requester", registry=default_registry())
        session.commit()
    return task.id


def test_the_web_process_runs_tasks_in_its_lifespan_and_stops_the_runner_after(settings, engine):
    app = create_app(settings.model_copy(update={"run_worker": True, "sync_interval": 0}))
    task_id = open_task(engine)
    with TestClient(app):
        assert app.state.task_runner.running
        wait_for(lambda: task_row(engine, task_id).status == COMPLETED, "the in-process runner to run the task")
    assert app.state.task_runner is None


def test_no_runner_starts_when_a_separate_worker_does_the_work(settings):
    app = create_app(settings)  # run_worker=False in the test settings
    with TestClient(app):
        assert app.state.task_runner is None


@pytest.mark.slow
def test_flowport_worker_runs_open_tasks_and_stops_on_sigterm(tmp_path, database_url, engine):
    task_id = open_task(engine)
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLOWPORT_")}
    env.update(FLOWPORT_ENV="test", FLOWPORT_DATABASE_URL=database_url, FLOWPORT_DATA_DIR=str(tmp_path / "data"),
               FLOWPORT_SYNC_INTERVAL="0")
    process = subprocess.Popen([sys.executable, "-m", "portal.cli", "worker"], env=env, cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: task_row(engine, task_id).status == COMPLETED, "the worker to run the task", 60)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not any((tmp_path / "data" / "scaffolder-tasks").iterdir())
