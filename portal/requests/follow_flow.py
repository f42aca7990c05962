"""Requests that follow the flow data: orders move to `in-use` on their component's first production
deployment, ideas follow the issue-tracker item they are linked to.

A reconciling loop rather than a hook in the flow writer: it sees records however they arrived
(webhook, pull sync, replay after a normalizer fix), and a round that changes nothing costs two
indexed queries. Each move is an ordinary transition (rework rules, lead-time clock) with source
`plugin` and the time the tool reported, not the time the loop noticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.background import BackgroundLoop
from portal.flow.models import FlowDeployment, FlowWorkItem, FlowWorkItemTransition
from portal.flow.query import entity_links
from portal.logging_setup import get_logger
from portal.requests.inputs import RequestProblem
from portal.requests.models import Request, RequestEvent
from portal.requests.offerings import offering_of
from portal.requests.service import transition

log = get_logger(__name__)
DELIVERED, IN_USE = "delivered", "in-use"
FOLLOWER_ACTOR = "flowport:flow-data"
# Where an idea goes when its tracker item reaches a status category. `todo` moves an idea only
# back, when its item was reopened after the tracker had moved the idea on.
IDEA_STAGE_BY_CATEGORY = {"in_progress": "in-progress", "done": "released"}
REOPENED_TO = "planned"
TRACKER_MOVED_STAGES = ("in-progress", "released")
ROUND_LIMIT = 500  # requests looked at per kind and round; the next round takes the rest


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _delivered_at(session: Session, row: Request) -> datetime:
    """When the order last entered `delivered` (a deployment before that did not come from it)."""
    at = session.execute(
        select(RequestEvent.at).where(RequestEvent.request_id == row.id, RequestEvent.to_stage == DELIVERED)
        .order_by(RequestEvent.at.desc(), RequestEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    return _aware(at) or _aware(row.updated_at)


def first_production_deployment(session: Session, component_ref: str, since: datetime) -> FlowDeployment | None:
    """The component's first successful production deployment that finished at or after `since`."""
    try:
        _, links = entity_links(session, component_ref)
    except Exception:  # noqa: BLE001 - a component that left the catalog has no deployments to follow
        return None
    if not links:
        return None
    linked = or_(*(and_(FlowDeployment.link_annotation == annotation, FlowDeployment.link_value == value)
                   for annotation, value in links))
    return session.execute(
        select(FlowDeployment).where(linked, FlowDeployment.tier == "production", FlowDeployment.status == "success",
                                     FlowDeployment.finished_at >= since)
        .order_by(FlowDeployment.finished_at, FlowDeployment.id).limit(1)
    ).scalar_one_or_none()


def _follow_order(session: Session, row: Request) -> bool:
    deployment = first_production_deployment(session, row.component_ref, _delivered_at(session, row))
    if deployment is None:
        return False
    transition(session, row, to=IN_USE, actor=FOLLOWER_ACTOR, source="plugin", at=_aware(deployment.finished_at),
               note=f"First production deployment of {row.component_ref} ({deployment.environment}, "
                    f"{deployment.source} {deployment.id})")
    return True


def find_tracker_item(session: Session, reference: str) -> FlowWorkItem | None:
    """The work item an idea names: its key (`PROJ-12`, `org/repo#12`), its URL or its record id."""
    return session.execute(
        select(FlowWorkItem).where(or_(FlowWorkItem.key == reference, FlowWorkItem.url == reference,
                                       FlowWorkItem.id == reference), FlowWorkItem.deleted.is_(False))
        .order_by(FlowWorkItem.updated_at.desc()).limit(1)
    ).scalar_one_or_none()


def _idea_target(stage: str, category: str | None) -> str | None:
    if category == "todo":
        return REOPENED_TO if stage in TRACKER_MOVED_STAGES else None
    return IDEA_STAGE_BY_CATEGORY.get(category or "")


def _changed_at(session: Session, item: FlowWorkItem) -> datetime | None:
    last = session.execute(
        select(FlowWorkItemTransition.at).where(FlowWorkItemTransition.work_item_id == item.id)
        .order_by(FlowWorkItemTransition.at.desc()).limit(1)
    ).scalar_one_or_none()
    return _aware(last or item.source_updated_at or item.updated_at)


def _follow_idea(session: Session, row: Request) -> bool:
    item = find_tracker_item(session, row.tracker_item)
    if item is None:
        return False
    target = _idea_target(row.stage, item.status_category)
    if target is None or target == row.stage:
        return False
    stream = offering_of(session, row.capability_ref, row.product_ref).value_stream("idea")
    main_line = list(stream.main_line)
    if target not in main_line or row.stage not in main_line:
        return False  # the product's own stages, or a terminal one: people move it
    going_back = main_line.index(target) < main_line.index(row.stage)
    if going_back and row.stage not in TRACKER_MOVED_STAGES:
        return False  # never undo adoption or realized value because a ticket was reopened
    try:
        transition(session, row, to=target, actor=FOLLOWER_ACTOR, source="plugin", at=_changed_at(session, item),
                   note=f"{item.key} is {item.status or item.status_category} in {item.source}")
    except RequestProblem as refusal:  # the stream refuses this move (e.g. a product's own rules)
        log.info("an idea could not follow its tracker item", request=row.public_id, reason=refusal.message)
        return False
    return True


@dataclass
class FollowReport:
    orders_in_use: int = 0
    ideas_moved: int = 0

    @property
    def moved(self) -> int:
        return self.orders_in_use + self.ideas_moved


def follow_flow_round(engine: Engine) -> FollowReport:
    """One pass over delivered orders with a component and ideas with a tracker item; each request
    is moved in a transaction of its own, so one that fails is logged and the rest still move."""
    report = FollowReport()
    with Session(engine) as session:
        orders = session.execute(
            select(Request.id).where(Request.kind == "order", Request.stage == DELIVERED,
                                     Request.component_ref.is_not(None)).order_by(Request.id).limit(ROUND_LIMIT)
        ).scalars().all()
        ideas = session.execute(
            select(Request.id).where(Request.kind == "idea", Request.tracker_item.is_not(None))
            .order_by(Request.id).limit(ROUND_LIMIT)
        ).scalars().all()
    for request_ids, follow, counter in ((orders, _follow_order, "orders_in_use"), (ideas, _follow_idea, "ideas_moved")):
        for request_id in request_ids:
            with Session(engine) as session:
                try:
                    row = session.execute(select(Request).where(Request.id == request_id).with_for_update()
                                          ).scalar_one_or_none()
                    if row is not None and follow(session, row):
                        session.commit()
                        setattr(report, counter, getattr(report, counter) + 1)
                except Exception:  # noqa: BLE001
                    session.rollback()
                    log.exception("following the flow data failed for a request", request_id=request_id)
    return report


class FlowFollower(BackgroundLoop):
    """Runs follow_flow_round every `interval` seconds (sooner again while it finds work)."""

    thread_name = "request-flow-follower"

    def __init__(self, engine: Engine, interval: float = 60.0) -> None:
        super().__init__()
        self.engine = engine
        self.interval = interval

    def round(self) -> int:
        return follow_flow_round(self.engine).moved

    def pause_after(self, done: int) -> float:
        return 1.0 if done >= ROUND_LIMIT else self.interval
