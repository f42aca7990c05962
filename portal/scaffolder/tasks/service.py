"""Create, read, list, cancel and retry tasks. Functions flush; the caller (request or job scope) commits."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.catalog.point_reads import entity_by_ref
from portal.catalog.refs import RefError, parse_ref
from portal.scaffolder.actions.contract import ActionRegistry
from portal.scaffolder.tasks.events import append_event, iso, utcnow
from portal.scaffolder.tasks.listeners import notify
from portal.scaffolder.tasks.models import CANCELLED, FAILED, FINISHED, OPEN, ScaffolderTask
from portal.scaffolder.templates import TemplateError, load_template, validate_values

ORDERABLE_COLUMNS = {"created_at": ScaffolderTask.created_at, "status": ScaffolderTask.status,
                     "created_by": ScaffolderTask.created_by}


class TaskProblem(Exception):
    """A task request that cannot be done; `status` is the HTTP status that fits, `fields` what was wrong."""

    def __init__(self, status: int, message: str, fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields or []


def template_entity(session: Session, ref: str) -> dict[str, Any]:
    """The Template entity `ref` names, as the catalog has it now; TaskProblem 404/400 otherwise."""
    try:
        parsed = parse_ref(ref, default_kind="template")
    except RefError as error:
        raise TaskProblem(400, f"templateRef {ref[:200]!r}: {error}") from None
    if parsed.kind.lower() != "template":
        raise TaskProblem(400, f"templateRef {ref[:200]!r} names a {parsed.kind}, not a Template")
    entity = entity_by_ref(session.connection(), parsed.key)
    if entity is None:
        raise TaskProblem(404, f"There is no template {parsed.key} in the catalog")
    return entity


def check_values(entity: Mapping[str, Any], values: Any, registry: ActionRegistry) -> None:
    """Raise TaskProblem when the template is broken (422) or the values do not fit its parameters (400)."""
    try:
        template = load_template(entity, registry)
    except TemplateError as error:
        raise TaskProblem(422, str(error), [{"path": "template", "message": p} for p in error.problems]) from None
    errors = validate_values(template, values)
    if errors:
        listed = "; ".join(f"{e.path}: {e.message}" for e in errors)
        raise TaskProblem(400, f"Values for {template.ref} are invalid: {listed}", [e.as_dict() for e in errors])


def create_task(session: Session, *, entity: Mapping[str, Any], values: Mapping[str, Any], created_by: str,
                registry: ActionRegistry, request_id: int | None = None, needs_secrets: bool = False) -> ScaffolderTask:
    """A new open task running a snapshot of `entity` with `values` (checked first)."""
    check_values(entity, values, registry)
    metadata = entity["metadata"]
    task = ScaffolderTask(
        id=str(uuid.uuid4()), template_ref=f"template:{metadata.get('namespace') or 'default'}/{metadata['name']}",
        template=dict(entity), values=dict(values), created_by=created_by, status=OPEN, created_at=utcnow(),
        request_id=request_id, needs_secrets=needs_secrets,
    )
    session.add(task)
    session.flush()
    return task


def get_task(session: Session, task_id: str, visible: ColumnElement | None = None,
             for_update: bool = False) -> ScaffolderTask:
    """One task the caller may see; TaskProblem 404 otherwise (also for tasks they may not see)."""
    query = select(ScaffolderTask).where(ScaffolderTask.id == task_id)
    if visible is not None:
        query = query.where(visible)
    if for_update:
        query = query.with_for_update()
    task = session.execute(query).scalar_one_or_none()
    if task is None:
        raise TaskProblem(404, f"Task {task_id[:100]!r} not found")
    return task


@dataclass(frozen=True)
class TaskFilters:
    created_by: Sequence[str] = ()
    status: Sequence[str] = ()
    order: Sequence[tuple[str, str]] = ()  # (column, asc|desc)


def list_tasks(session: Session, filters: TaskFilters, visible: ColumnElement | None, limit: int,
               offset: int) -> tuple[list[ScaffolderTask], int]:
    """A page of tasks (newest first unless ordered otherwise) and the total matching."""
    conditions = [] if visible is None else [visible]
    if filters.created_by:
        conditions.append(ScaffolderTask.created_by.in_(list(filters.created_by)))
    if filters.status:
        conditions.append(ScaffolderTask.status.in_(list(filters.status)))
    total = session.execute(select(func.count()).select_from(ScaffolderTask).where(*conditions)).scalar_one()
    ordering = [ORDERABLE_COLUMNS[c].asc() if d == "asc" else ORDERABLE_COLUMNS[c].desc() for c, d in filters.order]
    ordering += [ScaffolderTask.created_at.desc(), ScaffolderTask.id.desc()]
    rows = session.execute(select(ScaffolderTask).where(*conditions).order_by(*ordering)
                           .limit(limit).offset(offset)).scalars()
    return list(rows), total


def cancel_task(session: Session, task: ScaffolderTask, actor: str, reason: str | None = None) -> None:
    """Cancel at once when the task has not started; ask its worker to stop when it is running."""
    if task.status in FINISHED:
        raise TaskProblem(409, f"Task {task.id} has already finished ({task.status}); there is nothing to cancel")
    append_event(session, task.id, "cancelled", {"message": reason or f"Cancellation requested by {actor}"})
    if task.status == OPEN:
        finish_task(session, task, CANCELLED, "The task was cancelled before it started")
    else:
        task.cancel_requested = True
        session.add(task)
        session.flush()


def retry_task(session: Session, task: ScaffolderTask, actor: str) -> None:
    """Open a failed or cancelled task again; its events are kept and a log event says who retried it."""
    if task.status not in (FAILED, CANCELLED):
        raise TaskProblem(409, f"Task {task.id} is {task.status}; only failed or cancelled tasks can be retried")
    task.status, task.cancel_requested, task.claimed_by = OPEN, False, None
    task.finished_at = task.heartbeat_at = None
    task.output = None
    session.add(task)
    append_event(session, task.id, "log", {"message": f"Retried by {actor} (attempt {task.attempts + 1} follows)"})
    notify(session, task, "retried")
    session.flush()


def finish_task(session: Session, task: ScaffolderTask, status: str, message: str,
                output: dict[str, Any] | None = None, error: str | None = None) -> None:
    """Record the outcome, the `completion` event that ends every stream, and tell the listeners."""
    task.status, task.finished_at, task.claimed_by = status, utcnow(), None
    task.output = output
    session.add(task)
    body: dict[str, Any] = {"message": message, "status": status}
    if output is not None:
        body["output"] = output
    if error is not None:
        body["error"] = {"name": "Error", "message": error}
    append_event(session, task.id, "completion", body)
    notify(session, task, status)
    session.flush()


def task_json(task: ScaffolderTask) -> dict[str, Any]:
    """Backstage's task shape: `{id, spec, status, createdAt, lastHeartbeatAt, createdBy}`."""
    spec = task.template.get("spec") or {}
    metadata = task.template.get("metadata") or {}
    steps = [{"id": step.get("id") or f"step-{index + 1}", "name": step.get("name") or step.get("action"),
              "action": step.get("action"), "input": step.get("input") or {}, **({"if": step["if"]} if "if" in step
                                                                                  else {})}
             for index, step in enumerate(spec.get("steps") or []) if isinstance(step, Mapping)]
    return {
        "id": task.id,
        "spec": {"apiVersion": task.template.get("apiVersion"), "parameters": task.values, "steps": steps,
                 "output": spec.get("output") or {},
                 "templateInfo": {"entityRef": task.template_ref, "entity": {"metadata": metadata}},
                 "user": {"ref": task.created_by}},
        "status": task.status,
        "createdAt": iso(task.created_at),
        "lastHeartbeatAt": iso(task.heartbeat_at),
        "createdBy": task.created_by,
        "startedAt": iso(task.started_at),
        "finishedAt": iso(task.finished_at),
        "attempts": task.attempts,
        "requestId": f"REQ-{task.request_id}" if task.request_id is not None else None,
        "output": task.output,
    }
