"""Orders fulfilled by scaffolder tasks: a task is started for automated orders (and approved ones), and
the order follows its task: started → fulfilling, completed → delivered, failed → failed, cancelled →
cancelled, retried → fulfilling again (rework). Every move is made by `automation` in the transaction
that changes the task, so the order and its task never disagree."""

from __future__ import annotations

from sqlmodel import Session

from portal.logging_setup import get_logger
from portal.catalog.refs import RefError, parse_ref
from portal.requests.inputs import FieldProblem, RequestProblem
from portal.requests.models import Request
from portal.requests.offerings import Offering, offering_of
from portal.scaffolder.tasks.events import append_event
from portal.scaffolder.tasks.models import ScaffolderTask

log = get_logger(__name__)
FULFILLING, DELIVERED, FAILED, CANCELLED = "fulfilling", "delivered", "failed", "cancelled"
# What the order moves to when its task ends.
ENDING_STAGES = {"completed": DELIVERED, "failed": FAILED, "cancelled": CANCELLED}


def template_of(offering: Offering) -> str | None:
    """The template a capability names for its fulfilment, if any."""
    template = offering.fulfillment.get("template")
    return template if isinstance(template, str) and template.strip() else None


def _problem(message: str) -> RequestProblem:
    return RequestProblem(422, message, [FieldProblem("parameters", message)])


def _checked_template(session: Session, offering: Offering, parameters: dict) -> dict:
    """The template entity the capability names, with the order's parameters checked against it."""
    from portal.scaffolder.tasks.runner import registry_for
    from portal.scaffolder.tasks.service import TaskProblem, check_values, template_entity

    ref = template_of(offering)
    try:
        entity = template_entity(session, ref)
        check_values(entity, parameters, registry_for(None, None))
    except TaskProblem as problem:
        fields = [FieldProblem(f"parameters.{f['path']}" if f["path"] != "template" else "capability", f["message"])
                  for f in problem.fields] or None
        raise RequestProblem(422, f"{offering.capability_ref} is fulfilled by {ref}: {problem.message}",
                             fields) from None
    return entity


def order_placed(session: Session, row: Request, offering: Offering) -> None:
    """Called when an order is created: check its parameters against the template, and start a task at once
    for automated capabilities (approval ones start theirs when approved; manual ones never)."""
    if row.kind != "order" or template_of(offering) is None or offering.fulfillment_mode == "manual":
        return
    entity = _checked_template(session, offering, row.parameters or {})
    if offering.fulfillment_mode == "automated":
        _start_task(session, row, entity)


def order_approved(session: Session, row: Request, offering: Offering) -> None:
    """Called when an approver approves: start the task of an approval-mode capability that names a template."""
    if row.kind != "order" or offering.fulfillment_mode != "approval" or template_of(offering) is None:
        return
    _start_task(session, row, _checked_template(session, offering, row.parameters or {}))


def _start_task(session: Session, row: Request, entity: dict) -> None:
    from portal.scaffolder.tasks.runner import registry_for
    from portal.scaffolder.tasks.service import create_task

    task = create_task(session, entity=entity, values=row.parameters or {}, created_by=row.requester_ref,
                       registry=registry_for(None, None), request_id=row.id)
    row.task_id = task.id
    session.add(row)
    session.flush()


def order_moved(session: Session, row: Request, source: str) -> None:
    """Called after every move of a request: an order cancelled by a person cancels its unfinished task."""
    if row.kind != "order" or row.task_id is None or row.stage != CANCELLED or source == "automation":
        return
    from portal.scaffolder.tasks.models import FINISHED
    from portal.scaffolder.tasks.service import cancel_task

    task = session.get(ScaffolderTask, row.task_id, with_for_update=True)
    if task is not None and task.status not in FINISHED:
        cancel_task(session, task, row.requester_ref, reason=f"{row.public_id} was cancelled, so its task is too")


def created_component(output: object) -> str | None:
    """The component a template's run registered, from its output's `entityRef` or the `entityRef` of
    one of its `links` (Backstage's output shape); None when it names no component."""
    if not isinstance(output, dict):
        return None
    links = output.get("links") if isinstance(output.get("links"), list) else []
    for candidate in [output.get("entityRef"), *(link.get("entityRef") for link in links if isinstance(link, dict))]:
        if isinstance(candidate, str) and 0 < len(candidate) <= 400:
            try:
                parsed = parse_ref(candidate, default_kind="component")
            except RefError:
                continue
            if parsed.kind.lower() == "component":
                return parsed.key
    return None


def _run_seconds(task: ScaffolderTask) -> int | None:
    if task.started_at is None or task.finished_at is None:
        return None
    return max(0, round((task.finished_at - task.started_at).total_seconds()))


def _target(row: Request, offering: Offering, change: str) -> str | None:
    """Where the order goes for this change of its task, or None when it stays where it is."""
    line = offering.value_stream(row.kind).main_line
    # Intake, approval (or a stage the product put before fulfilling): where a task's order waits or works.
    up_to_fulfilling = row.stage in line and FULFILLING in line and line.index(row.stage) <= line.index(FULFILLING)
    if change == "started":
        return FULFILLING if up_to_fulfilling and row.stage != FULFILLING else None
    if change == "retried":
        return FULFILLING if row.stage in (FAILED, CANCELLED) else None
    if change in ENDING_STAGES:
        return ENDING_STAGES[change] if up_to_fulfilling else None
    return None


def on_task_change(session: Session, task: ScaffolderTask, change: str) -> None:
    """Move the order a task fulfils. An order someone moved meanwhile (cancelled it, delivered it by
    hand) stays where it is, and the task's log says so."""
    from portal.requests.service import transition

    row = session.get(Request, task.request_id)
    if row is None or row.kind != "order" or (change == "started" and row.stage == FULFILLING):
        return
    if ENDING_STAGES.get(change) == row.stage:
        return  # the order got there first (a person cancelled it, which cancelled this task)
    offering = offering_of(session, row.capability_ref, row.product_ref)
    target = _target(row, offering, change)
    if target is None:
        append_event(session, task.id, "log", {"message": f"{row.public_id} stays in {row.stage!r}: it was moved "
                                                          f"while its task ran, so the task {change} does not move it"})
        return
    if change == "completed" and row.component_ref is None:
        # The component the template created: the flow follower and adoption read it from the order.
        row.component_ref = created_component(task.output)
    work = _run_seconds(task) if change in ENDING_STAGES else None
    try:
        transition(session, row, to=target, actor=f"task:{task.id}", source="automation",
                   note=f"Task {task.id} {change}", work_time_seconds=work, offering=offering)
    except RequestProblem as problem:
        append_event(session, task.id, "log", {"message": f"{row.public_id} stays in {row.stage!r}: {problem}"})
        log.warning("order not moved by its task", request=row.id, task=task.id, reason=str(problem))
