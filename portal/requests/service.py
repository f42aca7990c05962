"""Raise, move, decide, value, vote and comment on requests. Functions flush; the caller commits."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from portal.products.settings import ideas_open
from portal.catalog.models import CatalogEntity
from portal.requests import fulfillment
from portal.requests.durations import DurationError, duration_seconds_or_none, parse_duration
from portal.requests.inputs import FieldProblem, RequestProblem, json_problems, parameter_problems, schema_is_usable
from portal.requests.models import Request, RequestComment, RequestEvent, RequestVote, component_parameter
from portal.requests.offerings import (
    Offering,
    OfferingRefError,
    capability_offering,
    normalize_ref,
    offering_of,
    product_offering,
)
from portal.requests.passes import derive_requests
from portal.requests.stages import DELIVERED_STAGES, StageError
from portal.notifications.hooks import request_moved  # the one notification hook (see its module)

AWAITING_APPROVAL, REJECTED, VALUE_CONFIRMED = "awaiting-approval", "rejected", "value-confirmed"
VALUE_CONFIRMABLE_STAGES = ("delivered", "in-use")
MAX_TIME_SAVED_SECONDS = 366 * 86_400  # a year per order is already generous
MAX_WORK_TIME_SECONDS = 366 * 86_400


def utcnow() -> datetime:
    return datetime.now(UTC)


def _refuse(status: int, message: str, path: str | None = None) -> RequestProblem:
    return RequestProblem(status, message, [FieldProblem(path, message)] if path else None)


def _entity_title(entity: dict | None) -> str:
    metadata = (entity or {}).get("metadata") or {}
    return str(metadata.get("title") or metadata.get("name") or "")[:200]


def _initial_stage(offering: Offering) -> str:
    # Approval waits for the approvers; automated orders wait for automation and manual ones for the
    # owners' queue, both from `submitted`.
    return AWAITING_APPROVAL if offering.fulfillment_mode == "approval" else "submitted"


def create_order(session: Session, *, capability: str, requester: str, parameters: dict | None = None,
                 value_hypothesis: dict | str | None = None, title: str | None = None,
                 description: str | None = None, flow_item_type: str = "feature") -> Request:
    """An order for a catalog capability, its parameters checked against the capability's `inputs`."""
    try:
        capability_ref = normalize_ref(capability, "capability")
    except OfferingRefError as error:
        raise _refuse(422, f"capability {error}", "capability") from None
    offering = capability_offering(session, capability_ref)
    if offering is None:
        raise _refuse(422, f"There is no capability {capability_ref} in the catalog", "capability")
    parameters = {} if parameters is None else parameters
    problems = json_problems(parameters, "parameters")
    schema = offering.inputs_schema
    if not problems and schema is not None:
        if unusable := schema_is_usable(schema):
            raise _refuse(422, f"{capability_ref} cannot take orders: its spec.inputs {unusable}; "
                               f"ask its owners to fix the descriptor", "capability")
        problems = parameter_problems(schema, parameters)
    if problems:
        raise RequestProblem(422, f"The parameters do not fit what {capability_ref} asks for", problems)
    row = _new_request(session, "order", title or _entity_title(offering.capability) or capability_ref,
                       description, requester, value_hypothesis, flow_item_type, offering)
    row.parameters = parameters
    row.component_parameter = component_parameter(parameters)
    row.target_lead_time = offering.target_lead_time
    row.target_lead_time_seconds = duration_seconds_or_none(offering.target_lead_time)
    _start(session, row, _initial_stage(offering), requester, "Ordered")
    fulfillment.order_placed(session, row, offering)  # automated capabilities start their task now
    return row


def create_idea(session: Session, *, product: str, requester: str, title: str, description: str | None = None,
                value_hypothesis: dict | str | None = None, flow_item_type: str = "feature") -> Request:
    """An idea for a platform product, starting at `submitted`."""
    try:
        product_ref = normalize_ref(product, "platformproduct")
    except OfferingRefError as error:
        raise _refuse(422, f"product {error}", "product") from None
    offering = product_offering(session, product_ref)
    if offering is None:
        raise _refuse(422, f"There is no platform product {product_ref} in the catalog", "product")
    if not title or not title.strip():
        raise _refuse(422, "An idea needs a title", "title")
    if not ideas_open(session, product_ref):
        raise _refuse(409, f"{product_ref} is not taking ideas at the moment (its owners closed them in its "
                           f"settings)", "product")
    row = _new_request(session, "idea", title.strip(), description, requester, value_hypothesis, flow_item_type,
                       offering)
    _start(session, row, "submitted", requester, "Submitted")
    return row


def _new_request(session: Session, kind: str, title: str, description: str | None, requester: str,
                 value_hypothesis: dict | str | None, flow_item_type: str, offering: Offering) -> Request:
    at = utcnow()
    row = Request(kind=kind, title=title, description=description, capability_ref=offering.capability_ref,
                  product_ref=offering.product_ref, requester_ref=requester, stage="", created_at=at,
                  updated_at=at, value_hypothesis=value_hypothesis, flow_item_type=flow_item_type)
    session.add(row)
    return row


def _start(session: Session, row: Request, stage: str, actor: str, note: str) -> None:
    row.stage = stage
    session.flush()  # hands out the id the event points at
    event = RequestEvent(request_id=row.id, at=row.created_at, actor=actor, from_stage=None, to_stage=stage,
                         source="user", note=note)
    session.add(event)
    session.flush()
    derive_requests(session, [row.id])
    request_moved(session, row, event)


def _last_main_line_stage(session: Session, row: Request, main_line: tuple[str, ...]) -> str | None:
    """The main-line stage a request was last in: where a terminal stage was entered from."""
    stages = session.execute(
        select(RequestEvent.to_stage).where(RequestEvent.request_id == row.id)
        .order_by(RequestEvent.at.desc(), RequestEvent.id.desc())
    ).scalars()
    return next((stage for stage in stages if stage in main_line), None)


def transition(session: Session, row: Request, *, to: str, actor: str, source: str = "user",
               note: str | None = None, work_time_seconds: int | None = None,
               offering: Offering | None = None, at: datetime | None = None) -> RequestEvent:
    """Move a request to stage `to`, recording the event; going back (or reopening) is rework.

    `at` is when it happened, for moves that flow data reports after the fact (a deployment that
    finished a minute ago); it defaults to now and is never before the request's last change."""
    offering = offering or offering_of(session, row.capability_ref, row.product_ref)
    stream = offering.value_stream(row.kind)
    if work_time_seconds is not None and not 0 <= work_time_seconds <= MAX_WORK_TIME_SECONDS:
        raise _refuse(422, "workTime must be between zero and a year", "workTime")
    needs_history = stream.is_terminal(row.stage) or row.stage not in stream.main_line
    last_main = _last_main_line_stage(session, row, stream.main_line) if needs_history else None
    try:
        rework = stream.check_move(row.stage, to, last_main)
    except StageError as error:
        raise _refuse(error.status, error.message, "to" if error.status == 422 else None) from None
    last_change = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=UTC)
    at = max(at, last_change) if at is not None else utcnow()
    event = RequestEvent(request_id=row.id, at=at, actor=actor, from_stage=row.stage, to_stage=to, source=source,
                         note=note, work_time_seconds=work_time_seconds, is_rework=rework)
    session.add(event)
    row.stage = to
    row.updated_at = at
    if stream.ends_lead_time(to):
        row.lead_time_ended_at = row.lead_time_ended_at or at
    else:
        row.lead_time_ended_at = None  # reopened before delivery: the clock runs again
    if to in DELIVERED_STAGES:
        row.delivered_at = row.delivered_at or at  # moves only go forward in time: the first is the earliest
    session.add(row)
    session.flush()
    derive_requests(session, [row.id])
    request_moved(session, row, event, offering)
    fulfillment.order_moved(session, row, source)  # a withdrawn order stops its task
    return event


def decide(session: Session, row: Request, *, approve: bool, actor: str, reason: str | None = None,
           offering: Offering | None = None) -> RequestEvent:
    """An approver's decision: approval moves the order on to fulfilment, rejection ends it."""
    if row.kind != "order" or row.stage != AWAITING_APPROVAL:
        raise _refuse(409, f"{row.public_id} is not awaiting approval (it is {row.kind} in stage {row.stage!r})")
    offering = offering or offering_of(session, row.capability_ref, row.product_ref)
    if not approve:
        if not reason or not reason.strip():
            raise _refuse(422, "A rejection needs a reason the requester can act on", "reason")
        return transition(session, row, to=REJECTED, actor=actor, note=reason.strip(), offering=offering)
    following = offering.value_stream(row.kind).next_after(AWAITING_APPROVAL) or "fulfilling"
    event = transition(session, row, to=following, actor=actor, note=(reason or "").strip() or "Approved",
                       offering=offering)
    fulfillment.order_approved(session, row, offering)  # a template-fulfilled capability starts its task
    return event


def confirm_value(session: Session, row: Request, *, rating: object, time_saved: object, actor: str,
                  comment: str | None = None) -> Request:
    """The requester's view of the value delivered; moves a delivered or in-use order to value-confirmed."""
    problems = []
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        problems.append(FieldProblem("rating", "must be a whole number from 1 to 5"))
    seconds = None
    try:
        seconds = parse_duration(time_saved)  # type: ignore[arg-type]
        if seconds > MAX_TIME_SAVED_SECONDS:
            problems.append(FieldProblem("timeSaved", "must be at most a year (P366D) per order"))
    except DurationError as error:
        problems.append(FieldProblem("timeSaved", str(error)))
    if problems:
        raise RequestProblem(422, "The value could not be recorded", problems)
    if row.kind != "order" or row.stage not in (*VALUE_CONFIRMABLE_STAGES, VALUE_CONFIRMED):
        raise _refuse(409, f"Value is confirmed for delivered or in-use orders; {row.public_id} is a {row.kind} "
                           f"in stage {row.stage!r}")
    if row.stage != VALUE_CONFIRMED:
        transition(session, row, to=VALUE_CONFIRMED, actor=actor, note=f"Value confirmed: {rating}/5")
    row.value_rating = rating  # type: ignore[assignment]
    row.value_time_saved = time_saved  # type: ignore[assignment]
    row.value_time_saved_seconds = round(seconds or 0)
    row.value_comment = comment
    row.value_confirmed_at = utcnow()
    session.add(row)
    session.flush()
    return row


def _require_idea(row: Request, what: str) -> None:
    if row.kind != "idea":
        raise _refuse(409, f"Only ideas take {what}; {row.public_id} is an order")


def vote(session: Session, row: Request, voter: str) -> bool:
    """Count one vote per person for an idea; False when this person had already voted."""
    _require_idea(row, "votes")
    existing = select(RequestVote.id).where(RequestVote.request_id == row.id, RequestVote.voter_ref == voter)
    if session.execute(existing).first() is not None:
        return False
    try:
        with session.begin_nested():  # a concurrent vote by the same person hits the unique key
            session.add(RequestVote(request_id=row.id, voter_ref=voter, at=utcnow()))
    except IntegrityError:
        return False
    # In SQL, so concurrent voters do not overwrite each other's count.
    session.execute(update(Request).where(Request.id == row.id).values(vote_count=Request.vote_count + 1))
    session.refresh(row)
    return True


def comment(session: Session, row: Request, author: str, body: str) -> RequestComment:
    """A comment on an idea."""
    _require_idea(row, "comments")
    if not body.strip():
        raise _refuse(422, "A comment needs some text", "body")
    item = RequestComment(request_id=row.id, author_ref=author, at=utcnow(), body=body)
    session.add(item)
    session.flush()
    return item


def comments_of(session: Session, row: Request, limit: int) -> list[RequestComment]:
    """A request's comments, oldest first."""
    return list(session.execute(
        select(RequestComment).where(RequestComment.request_id == row.id)
        .order_by(RequestComment.at, RequestComment.id).limit(limit)
    ).scalars())


def comment_count(session: Session, row: Request) -> int:
    return session.execute(
        select(func.count()).select_from(RequestComment).where(RequestComment.request_id == row.id)
    ).scalar_one()


def set_links(session: Session, row: Request, *, component: str | None, tracker_item: str | None,
              fields: set[str]) -> Request:
    """Link an order to the component it is for (or created) and an idea to its issue-tracker item;
    only the fields named in `fields` change (None unlinks). A component must be in the catalog."""
    if "component" in fields:
        row.component_ref = None if component is None else _catalog_component(session, component)
    if "tracker_item" in fields:
        row.tracker_item = None if tracker_item is None else tracker_item.strip() or None
    session.add(row)
    session.flush()
    return row


def _catalog_component(session: Session, ref: str) -> str:
    try:
        component_ref = normalize_ref(ref, "component")
    except OfferingRefError as error:
        raise _refuse(422, f"component {error}", "component") from None
    found = session.execute(select(CatalogEntity.uid).where(CatalogEntity.entity_ref == component_ref)).first()
    if found is None:
        raise _refuse(422, f"There is no component {component_ref} in the catalog", "component")
    return component_ref
