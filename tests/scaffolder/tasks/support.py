"""Helpers for task tests: templates in the catalog, a runner on the test database, waiting for a status."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from portal.catalog.store import PreparedEntity, write_entities
from portal.scaffolder.tasks.models import ScaffolderTask, ScaffolderTaskEvent
from portal.scaffolder.tasks.runner import TaskRunner
from tests.scaffolder.conftest import make_template

LOCATION = "file:/srv/templates/tasks-test.yaml"
NAME_PAGE = {"title": "Name it", "type": "object", "required": ["name"],
             "properties": {"name": {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,40}$"},
                            "port": {"type": "integer", "minimum": 1024, "maximum": 65535}}}


def greeting_template(name: str = "greeter", **metadata: Any) -> dict[str, Any]:
    """Two debug:log steps and an output that reads the parameters."""
    return make_template(
        steps=[{"id": "hello", "name": "Say hello", "action": "debug:log",
                "input": {"message": "Hello ${{ parameters.name }}"}},
               {"id": "done", "action": "debug:log", "input": {"message": "All done"}}],
        parameters=[NAME_PAGE],
        output={"links": [{"title": "Repository", "url": "https://git.example/${{ parameters.name }}"}]},
        name=name, **metadata)


def store_templates(session: Session, *entities: dict[str, Any], location: str = LOCATION) -> None:
    """Write Template entities into the catalog as ingestion would, and commit."""
    write_entities(session, [PreparedEntity(entity, location, location) for entity in entities])
    session.commit()


def template_on_disk(folder: Path, name: str, steps: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    """A template whose managed-by-location points into `folder`, so fetch:template reads from there."""
    entity = make_template(steps=steps, name=name, **spec)
    folder.mkdir(parents=True, exist_ok=True)
    entity["metadata"]["annotations"] = {"backstage.io/managed-by-location": f"file:{folder / 'template.yaml'}"}
    return entity


def runner_for(engine, settings, **options: Any) -> TaskRunner:  # noqa: ANN001
    return TaskRunner(engine, settings, idle_seconds=0.05, **options)


def task_row(engine, task_id: str) -> ScaffolderTask:  # noqa: ANN001
    with Session(engine, expire_on_commit=False) as session:
        return session.get(ScaffolderTask, task_id)


def task_events(engine, task_id: str) -> list[ScaffolderTaskEvent]:  # noqa: ANN001
    with Session(engine, expire_on_commit=False) as session:
        query = select(ScaffolderTaskEvent).where(ScaffolderTaskEvent.task_id == task_id)
        return list(session.execute(query.order_by(ScaffolderTaskEvent.id)).scalars())


def messages(engine, task_id: str) -> list[str]:  # noqa: ANN001
    return [event.body.get("message", "") for event in task_events(engine, task_id)]


def wait_for(condition: Callable[[], Any], what: str, deadline_seconds: float = 30) -> Any:
    """Poll `condition` until it returns something truthy; fail naming `what` after the deadline."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
