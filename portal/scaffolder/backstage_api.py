"""Backstage's scaffolder API under /api/scaffolder/v2, in Backstage's shapes, so that its own
ScaffolderClient (@backstage/plugin-scaffolder-common) works unchanged against Flowport."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Literal

from fastapi import APIRouter, Header, Query, Request as HttpRequest, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from sqlmodel import Session

from portal.auth.identity import CurrentUser, Identity, authorize
from portal.db import SessionDep
from portal.requests.inputs import FieldProblem, RequestProblem, json_problems, text_problem
from portal.requests.permissions import actor_of
from portal.requests.routing import problem_response, validation_problem
from portal.scaffolder.filters import BACKSTAGE_FILTERS
from portal.scaffolder.dry_run import DryRunFailed, InvalidValues, dry_run
from portal.scaffolder.tasks import access, service
from portal.scaffolder.tasks.events import event_json, events_after
from portal.scaffolder.tasks.models import STATUSES
from portal.scaffolder.tasks.runner import registry_for
from portal.scaffolder.tasks.service import TaskFilters, TaskProblem
from portal.scaffolder.tasks.stream import task_event_stream
from portal.scaffolder.templates import TemplateError, load_template, parameter_schema
from portal.scaffolder.workspace import DirectoryContentsError

MAX_TASKS_LISTED = 500
MAX_EVENT_ID = 2**63 - 1
MAX_SECRETS = 100
Secrets = dict[str, str]


class ScaffolderRoute(APIRoute):
    """Refusals in Backstage's error shape (naming each bad field), whatever raised them."""

    def get_route_handler(self) -> Callable[[HttpRequest], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answering_handler(http: HttpRequest) -> Response:
            try:
                return await handler(http)
            except RequestValidationError as error:
                return problem_response(http, validation_problem(error))
            except TaskProblem as problem:
                details = [FieldProblem(f["path"], f["message"]) for f in problem.fields]
                return problem_response(http, RequestProblem(problem.status, problem.message, details))
            except RequestProblem as problem:
                return problem_response(http, problem)

        return answering_handler


router = APIRouter(prefix="/api/scaffolder/v2", tags=["scaffolder"], route_class=ScaffolderRoute)


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    templateRef: str = Field(max_length=400)
    values: dict[str, Any] = Field(default_factory=dict)
    secrets: Secrets = Field(default_factory=dict, max_length=MAX_SECRETS)


class TaskRetry(BaseModel):
    model_config = ConfigDict(extra="ignore")
    secrets: Secrets | None = Field(default=None, max_length=MAX_SECRETS)


class DryRunBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    template: dict[str, Any]
    values: dict[str, Any] = Field(default_factory=dict)
    secrets: Secrets = Field(default_factory=dict, max_length=MAX_SECRETS)
    directoryContents: list[dict[str, Any]] = Field(default_factory=list)


def _registry(http: HttpRequest):  # noqa: ANN202 - an ActionRegistry
    return registry_for(http.app.state.settings, http.app.state.plugins)


def _check_json(value: Any, path: str) -> None:
    if problems := json_problems(value, path):
        raise RequestProblem(400, f"{path} cannot be taken: " + "; ".join(f"{p.path} {p.message}" for p in problems),
                             problems)


def _visible(http: HttpRequest, session: Session, user: Identity):  # noqa: ANN202 - a SQL condition or None
    return access.visible_tasks(http, session, user)


@router.get("/actions")
def list_actions(http: HttpRequest, user: CurrentUser) -> list[dict]:
    """Every action templates may use: `[{id, description, schema: {input, output}}]`."""
    authorize(http, user, "requests.action.read")
    return _registry(http).list()


@router.get("/templating-extensions")
def list_templating_extensions(http: HttpRequest, user: CurrentUser) -> dict:
    """The filters templates may use beyond Jinja's own: `{filters: {name: {description}}, globals: {...}}`."""
    authorize(http, user, "requests.action.read")
    filters = {name: {"description": (function.__doc__ or name).strip().splitlines()[0]}
               for name, function in sorted(BACKSTAGE_FILTERS.items())}
    return {"filters": filters, "globals": {"functions": {}, "values": {}}}


@router.get("/templates/{namespace}/{kind}/{name}/parameter-schema")
def get_parameter_schema(namespace: str, kind: str, name: str, http: HttpRequest, session: SessionDep,
                         user: CurrentUser) -> dict:
    """The template's form: `{title, description, steps: [{title, schema}]}`."""
    authorize(http, user, "catalog.template.read", f"{kind}:{namespace}/{name}")
    if kind.lower() != "template":
        raise TaskProblem(404, f"{kind}:{namespace}/{name} is not a template")
    entity = service.template_entity(session, f"template:{namespace}/{name}")
    try:
        return parameter_schema(load_template(entity, _registry(http)))
    except TemplateError as error:
        raise TaskProblem(422, str(error), [{"path": "template", "message": p} for p in error.problems]) from None


@router.post("/tasks", status_code=201)
def create_task(body: TaskCreate, http: HttpRequest, session: SessionDep, user: CurrentUser) -> dict:
    """Start a run of a catalog template: `{templateRef, values, secrets}` → `{id}`."""
    authorize(http, user, access.CREATE, body.templateRef[:400])
    if problem := text_problem(body.templateRef):
        raise RequestProblem(400, f"templateRef {problem}", [FieldProblem("templateRef", problem)])
    _check_json(body.values, "values")
    _check_json(body.secrets, "secrets")
    entity = service.template_entity(session, body.templateRef)
    task = service.create_task(session, entity=entity, values=body.values, created_by=actor_of(user),
                               registry=_registry(http), needs_secrets=bool(body.secrets))
    if body.secrets:
        http.app.state.task_secrets.keep(task.id, body.secrets)
    return {"id": task.id}


def _order(values: list[str]) -> list[tuple[str, str]]:
    order = []
    for value in values:
        direction, _, column = value.partition(":")
        if direction not in ("asc", "desc") or column not in service.ORDERABLE_COLUMNS:
            raise RequestProblem(400, f"order={value[:100]!r}: use asc:<field> or desc:<field> with a field of "
                                      f"{', '.join(service.ORDERABLE_COLUMNS)}", [FieldProblem("order", "invalid")])
        order.append((column, direction))
    return order


@router.get("/tasks")
def list_tasks(
    http: HttpRequest, session: SessionDep, user: CurrentUser,
    createdBy: list[str] = Query([], max_length=50, description="User refs whose tasks to list"),  # noqa: N803
    status: list[Literal[STATUSES]] = Query([], max_length=len(STATUSES)),  # type: ignore[valid-type]
    limit: int = Query(100, ge=1, le=MAX_TASKS_LISTED),
    offset: int = Query(0, ge=0, le=10**9),
    order: list[str] = Query([], max_length=5, description="asc:created_at, desc:status, ..."),
) -> dict:
    """Tasks the caller may see, newest first: `{tasks, totalTasks}`."""
    authorize(http, user, access.READ)
    for ref in createdBy:
        if (problem := text_problem(ref)) or len(ref) > 400:
            raise RequestProblem(400, f"createdBy {problem or 'is longer than 400 characters'}")
    filters = TaskFilters(created_by=[ref.lower() for ref in createdBy], status=status, order=_order(order))
    rows, total = service.list_tasks(session, filters, _visible(http, session, user), limit, offset)
    return {"tasks": [service.task_json(row) for row in rows], "totalTasks": total}


@router.get("/tasks/{task_id}")
def get_task(task_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser) -> dict:
    """One task in Backstage's shape."""
    authorize(http, user, access.READ, task_id)
    return service.task_json(service.get_task(session, task_id, _visible(http, session, user)))


@router.get("/tasks/{task_id}/events")
def list_task_events(task_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser,
                     after: int | None = Query(None, ge=0, le=MAX_EVENT_ID)) -> list[dict]:
    """The task's events after the event id `after`, as a JSON list (what long-polling clients read)."""
    authorize(http, user, access.READ, task_id)
    task = service.get_task(session, task_id, _visible(http, session, user))
    return [event_json(event) for event in events_after(session, task.id, after)]


def _readable_task(http: HttpRequest, user: Identity, task_id: str) -> str:
    with Session(http.app.state.engine) as session:
        return service.get_task(session, task_id, _visible(http, session, user)).id


@router.get("/tasks/{task_id}/eventstream", response_class=StreamingResponse)
async def stream_task_events(task_id: str, http: HttpRequest, user: CurrentUser,
                             after: int | None = Query(None, ge=0, le=MAX_EVENT_ID),
                             last_event_id: str | None = Header(None, max_length=30)) -> StreamingResponse:
    """`text/event-stream` of `log` and `completion` events with `id:` lines; resumes with `?after=` or the
    Last-Event-ID header, and ends after the task's completion."""
    authorize(http, user, access.READ, task_id)
    if after is None and last_event_id is not None:
        if not last_event_id.isdigit() or int(last_event_id) > MAX_EVENT_ID:
            raise RequestProblem(400, "Last-Event-ID must be an event id (a whole number)",
                                 [FieldProblem("Last-Event-ID", "must be a whole number")])
        after = int(last_event_id)
    task_id = await run_in_threadpool(_readable_task, http, user, task_id)
    stream = task_event_stream(http.app.state.engine, task_id, after, http.is_disconnected)
    return StreamingResponse(stream, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/tasks/{task_id}/cancel")
def cancel_task(task_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser) -> dict:
    """Cancel a task: at once if it has not started, else its worker stops at the next chance."""
    task = service.get_task(session, task_id, _visible(http, session, user), for_update=True)
    access.check_may_change(http, user, task, access.CANCEL)
    service.cancel_task(session, task, actor_of(user))
    return {"status": "cancelled"}


@router.post("/tasks/{task_id}/retry", status_code=201)
def retry_task(task_id: str, http: HttpRequest, session: SessionDep, user: CurrentUser,
               body: TaskRetry | None = None) -> dict:
    """Run a failed or cancelled task again; `{"secrets": {...}}` gives secrets again when they were not kept."""
    task = service.get_task(session, task_id, _visible(http, session, user), for_update=True)
    access.check_may_change(http, user, task, access.RETRY)
    if body is not None and body.secrets:
        _check_json(body.secrets, "secrets")
        http.app.state.task_secrets.keep(task.id, body.secrets)
        task.needs_secrets = True
    service.retry_task(session, task, actor_of(user))
    return {"id": task.id}


@router.post("/dry-run")
def dry_run_template(body: DryRunBody, http: HttpRequest, user: CurrentUser) -> dict:
    """Run a template's dry-run-capable steps in a scratch folder: `{log, directoryContents, output, steps}`."""
    authorize(http, user, access.DRY_RUN)
    _check_json(body.values, "values")
    try:
        return dry_run(body.template, body.values, _registry(http), secrets=body.secrets,
                       directory_contents=body.directoryContents, user={"ref": actor_of(user)})
    except TemplateError as error:
        raise TaskProblem(400, str(error), [{"path": "template", "message": p} for p in error.problems]) from None
    except InvalidValues as error:
        raise TaskProblem(400, str(error), [e.as_dict() for e in error.errors]) from None
    except DryRunFailed as error:
        raise TaskProblem(400, f"The dry run failed: {error}") from None
    except DirectoryContentsError as error:
        raise TaskProblem(400, str(error)) from None
