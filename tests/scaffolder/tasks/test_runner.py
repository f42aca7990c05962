"""The runner runs a task's steps for real: events, outputs, workspace, failure, cancel and retry."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from sqlmodel import Session

from portal.scaffolder.actions import Action, ActionContext, ActionRegistry, default_registry
from portal.scaffolder.tasks import service
from portal.scaffolder.tasks.models import CANCELLED, COMPLETED, FAILED, OPEN
from tests.scaffolder.conftest import make_template
from tests.scaffolder.tasks.support import (
    greeting_template,
    messages,
    runner_for,
    task_events,
    task_row,
    wait_for,
)

CREATOR = "user:default/rui.requester"


class RecordWorkspace(Action):
    """Test-only: writes a file, remembers where its workspace was and what services it got."""

    id = "test:record-workspace"
    description = "Remembers its workspace"
    input_schema: ClassVar[dict] = {"type": "object"}
    seen: ClassVar[list] = []

    def run(self, ctx: ActionContext) -> None:
        (ctx.workspace / "made.txt").write_text("made")
        RecordWorkspace.seen.append((ctx.workspace, ctx.workspace.is_dir(), ctx.services))
        if ctx.input.get("fail"):
            raise RuntimeError("the test action was told to fail")
        if ctx.input.get("failUnless") and not Path(ctx.input["failUnless"]).exists():
            raise RuntimeError(f"{ctx.input['failUnless']} is missing")


def registry_with_test_actions() -> ActionRegistry:
    registry = default_registry()
    registry.register(RecordWorkspace())
    return registry


def new_task(engine, entity, values, registry=None, **options):  # noqa: ANN001, ANN003
    with Session(engine, expire_on_commit=False) as session:
        task = service.create_task(session, entity=entity, values=values, created_by=CREATOR,
                                   registry=registry or default_registry(), **options)
        session.commit()
    return task.id


def test_a_task_runs_its_steps_in_order_and_records_events_and_output(engine, settings):
    task_id = new_task(engine, greeting_template(), {"name": "returns"})
    runner = runner_for(engine, settings)

    assert runner.run_once() == 1

    task = task_row(engine, task_id)
    assert task.status == COMPLETED and task.attempts == 1 and task.claimed_by is None
    assert task.started_at <= task.finished_at
    assert task.output == {"links": [{"title": "Repository", "url": "https://git.example/returns"}]}
    events = task_events(engine, task_id)
    assert [e.type for e in events] == ["log"] * 7 + ["completion"]
    assert [e.body.get("stepId") for e in events[1:7]] == ["hello"] * 3 + ["done"] * 3
    assert [e.body["message"] for e in events[1:4]] == ["Beginning step Say hello", "Hello returns",
                                                        "Finished step Say hello"]
    assert events[3].body["status"] == "completed"
    assert events[-1].body == {"message": "Run completed", "status": "completed", "output": task.output}
    assert [e.id for e in events] == sorted(e.id for e in events)


def test_the_task_runs_the_template_as_it_was_when_created(engine, settings):
    entity = greeting_template()
    task_id = new_task(engine, entity, {"name": "first"})
    entity["spec"]["steps"][0]["input"]["message"] = "Changed afterwards"

    runner_for(engine, settings).run_once()

    assert "Hello first" in messages(engine, task_id) and "Changed afterwards" not in messages(engine, task_id)


def test_an_idle_round_does_nothing(engine, settings):
    assert runner_for(engine, settings).run_once() == 0


def test_the_workspace_lives_under_the_data_dir_and_is_removed_after_success_and_failure(engine, settings):
    RecordWorkspace.seen.clear()
    registry = registry_with_test_actions()
    ok = make_template(steps=[{"id": "w", "action": "test:record-workspace", "input": {}}], name="ok")
    bad = make_template(steps=[{"id": "w", "action": "test:record-workspace", "input": {"fail": True}}], name="bad")
    ok_id, bad_id = new_task(engine, ok, {}, registry), new_task(engine, bad, {}, registry)
    runner = runner_for(engine, settings, registry=registry)

    runner.run_once()
    runner.run_once()

    assert task_row(engine, ok_id).status == COMPLETED and task_row(engine, bad_id).status == FAILED
    (first, existed_1, services), (second, existed_2, _) = RecordWorkspace.seen
    assert existed_1 and existed_2
    tasks_root = settings.data_dir / "scaffolder-tasks"
    assert first.parent == second.parent == tasks_root
    assert not first.exists() and not second.exists() and list(tasks_root.iterdir()) == []
    assert services.engine is engine and services.settings is settings and callable(services.http)


def test_a_failing_step_fails_the_task_with_its_message(engine, settings):
    entity = make_template(steps=[{"id": "too-long", "action": "debug:wait", "input": {"minutes": 11}}], name="slow")
    task_id = new_task(engine, entity, {})

    runner_for(engine, settings).run_once()

    task = task_row(engine, task_id)
    assert task.status == FAILED and task.output is None
    events = task_events(engine, task_id)
    failed_step = next(e for e in events if e.body.get("status") == "failed" and e.type == "log")
    assert failed_step.body["stepId"] == "too-long"
    assert "more than the 10 minutes allowed" in failed_step.body["message"]
    completion = events[-1]
    assert completion.type == "completion" and completion.body["status"] == "failed"
    assert "too-long" in completion.body["error"]["message"]


def test_a_template_whose_action_is_gone_fails_with_a_message(engine, settings):
    registry = registry_with_test_actions()
    entity = make_template(steps=[{"id": "w", "action": "test:record-workspace"}], name="gone-action")
    task_id = new_task(engine, entity, {}, registry)

    runner_for(engine, settings).run_once()  # this runner's registry lacks the test action

    assert task_row(engine, task_id).status == FAILED
    assert "unknown action 'test:record-workspace'" in task_events(engine, task_id)[-1].body["message"]


def test_cancelling_a_running_debug_wait_stops_the_task(engine, settings):
    entity = make_template(steps=[{"id": "pause", "action": "debug:wait", "input": {"minutes": 5}},
                                  {"id": "after", "action": "debug:log", "input": {"message": "never"}}],
                           name="waiting")
    task_id = new_task(engine, entity, {})
    runner = runner_for(engine, settings).start()
    try:
        wait_for(lambda: "Waiting 300 seconds" in messages(engine, task_id), "the wait to begin")
        with Session(engine, expire_on_commit=False) as session:
            service.cancel_task(session, service.get_task(session, task_id), "user:default/olga.owner")
            session.commit()
        wait_for(lambda: task_row(engine, task_id).status == CANCELLED, "the task to be cancelled")
    finally:
        runner.stop()
    events = task_events(engine, task_id)
    assert "cancelled" in [e.type for e in events]
    assert events[-1].type == "completion" and events[-1].body["status"] == "cancelled"
    assert "never" not in messages(engine, task_id)
    assert not any((settings.data_dir / "scaffolder-tasks").iterdir())


def test_cancelling_an_open_task_cancels_it_at_once_and_it_never_runs(engine, settings):
    task_id = new_task(engine, greeting_template(), {"name": "x"})
    with Session(engine, expire_on_commit=False) as session:
        service.cancel_task(session, service.get_task(session, task_id), CREATOR)
        session.commit()

    assert runner_for(engine, settings).run_once() == 0
    assert task_row(engine, task_id).status == CANCELLED
    assert [e.type for e in task_events(engine, task_id)] == ["cancelled", "completion"]


def test_a_finished_task_cannot_be_cancelled_and_an_open_one_cannot_be_retried(engine, settings):
    task_id = new_task(engine, greeting_template(), {"name": "x"})
    with Session(engine, expire_on_commit=False) as session:
        with pytest.raises(service.TaskProblem) as refused:
            service.retry_task(session, service.get_task(session, task_id), CREATOR)
        assert refused.value.status == 409
    runner_for(engine, settings).run_once()
    with Session(engine, expire_on_commit=False) as session:
        with pytest.raises(service.TaskProblem) as refused:
            service.cancel_task(session, service.get_task(session, task_id), CREATOR)
    assert refused.value.status == 409 and "already finished" in refused.value.message


def test_a_failed_task_retried_runs_again_keeping_its_events(engine, settings, tmp_path):
    RecordWorkspace.seen.clear()
    registry = registry_with_test_actions()
    marker = tmp_path / "fixed"
    entity = make_template(steps=[
        {"id": "check", "action": "test:record-workspace", "input": {"failUnless": str(marker)}}], name="flaky")
    task_id = new_task(engine, entity, {}, registry)
    runner = runner_for(engine, settings, registry=registry)
    runner.run_once()
    assert task_row(engine, task_id).status == FAILED
    assert "fixed is missing" in task_events(engine, task_id)[-1].body["message"]
    before = [e.id for e in task_events(engine, task_id)]

    with Session(engine, expire_on_commit=False) as session:
        task = service.get_task(session, task_id)
        service.retry_task(session, task, CREATOR)
        session.commit()
    marker.write_text("whatever failed has been fixed outside the portal")
    assert task_row(engine, task_id).status == OPEN
    runner.run_once()

    task = task_row(engine, task_id)
    assert task.status == COMPLETED and task.attempts == 2
    events = task_events(engine, task_id)
    assert [e.id for e in events][:len(before)] == before
    assert any(m.startswith(f"Retried by {CREATOR}") for m in messages(engine, task_id))
    assert [e.type for e in events].count("completion") == 2


def test_the_heartbeat_is_renewed_while_a_step_runs_so_other_workers_leave_the_task_alone(engine, settings):
    quick = settings.model_copy(update={"task_heartbeat_timeout": 2})  # a beat every half second
    entity = make_template(steps=[{"id": "pause", "action": "debug:wait", "input": {"minutes": 5}}], name="beating")
    task_id = new_task(engine, entity, {})
    runner = runner_for(engine, quick).start()
    try:
        started = wait_for(lambda: task_row(engine, task_id).started_at, "the task to start")
        wait_for(lambda: task_row(engine, task_id).heartbeat_at > started, "a renewed heartbeat")
        assert runner_for(engine, quick).run_once() == 0  # nothing stale to recover, nothing open
        assert task_row(engine, task_id).status == "processing"
        with Session(engine, expire_on_commit=False) as session:
            service.cancel_task(session, service.get_task(session, task_id), CREATOR)
            session.commit()
        wait_for(lambda: task_row(engine, task_id).status == CANCELLED, "the task to be cancelled")
    finally:
        runner.stop()
