"""A small organisation with a product, two capabilities and dated orders, for the value and impact tests.
The numbers each test expects are worked out by hand next to the assertions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from portal.requests.models import Request, RequestEvent
from portal.requests.stages import first_delivery
from tests.flow.factories import GITHUB
from tests.requests.factories import capability, group, product, store, user

PRODUCT = "platformproduct:default/delivery-platform"
CI = "capability:default/ci-pipeline"
DB = "capability:default/postgres"


def day(month: int, day_of_month: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2024, month, day_of_month, hour, minute, tzinfo=UTC)


def _component(name: str, owner: str, repo: str, uses: str | None = None) -> dict:
    annotations = {GITHUB: repo, **({"flowport.dev/uses-capabilities": uses} if uses else {})}
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": name, "annotations": annotations},
            "spec": {"type": "service", "lifecycle": "production", "owner": owner}}


def seed_catalog(session: Session) -> None:
    store(session, [
        group("team-dx", ["olga.owner"]), group("team-apps", ["rui.requester"]), group("team-other", ["otto"]),
        group("team-web", []), group("team-api", []),
        user("olga.owner", ["team-dx"]), user("rui.requester", ["team-apps"]), user("otto", ["team-other"]),
        product("delivery-platform"),
        capability("ci-pipeline", "automated", targetLeadTime="PT30M", timeSaved="PT6H"),
        capability("postgres", "approval", approvers="group:default/team-dx", targetLeadTime="P1D", timeSaved="PT16H"),
        # web declares the CI capability and also ordered it (the order dates the adoption).
        _component("web", "group:default/team-web", "acme/web", uses=CI),
        _component("api", "group:default/team-api", "acme/api"),
        _component("worker", "group:default/team-api", "acme/worker"),
    ])


def order(session: Session, capability_ref: str, created: datetime, *, stage: str, delivered: datetime | None,
          component: str | None = None, target: int | None = None, rating: int | None = None,
          saved: int | None = None, comment: str | None = None, confirmed: datetime | None = None,
          requester: str = "user:default/rui.requester") -> Request:
    """An order as the request service leaves it, with its stage events at the given times."""
    row = Request(kind="order", title=f"Order of {capability_ref}", capability_ref=capability_ref,
                  product_ref=PRODUCT, requester_ref=requester, stage=stage, created_at=created,
                  updated_at=confirmed or delivered or created, lead_time_ended_at=delivered,
                  target_lead_time_seconds=target, parameters={"component": component} if component else {},
                  component_parameter=component,
                  value_rating=rating, value_time_saved_seconds=saved, value_comment=comment,
                  value_confirmed_at=confirmed)
    events = [(created, None, "submitted"), (created, "submitted", "fulfilling")]
    if delivered is not None:
        events.append((delivered, "fulfilling", "delivered"))
    if stage not in ("submitted", "fulfilling", "delivered"):
        events.append((confirmed or delivered or created, events[-1][2], stage))
    row.delivered_at = first_delivery((at, to_stage) for at, _, to_stage in events)
    session.add(row)
    session.flush()
    for at, from_stage, to_stage in events:
        session.add(RequestEvent(request_id=row.id, at=at, actor=requester, from_stage=from_stage,
                                 to_stage=to_stage, source="user"))
    session.commit()
    return row


def seed_orders(session: Session) -> None:
    """Six orders; the window the tests read is May and June 2024."""
    # O5: before the window; dates web's adoption of CI to 1 April.
    order(session, CI, day(4, 1), stage="delivered", delivered=day(4, 1, 0, 10), component="web", target=1800)
    # O1: 20 minutes (target 30): within. Rated 5, saved 8 h, confirmed 3 May.
    order(session, CI, day(5, 2, 10), stage="value-confirmed", delivered=day(5, 2, 10, 20), component="web",
          target=1800, rating=5, saved=8 * 3600, comment="Pipeline in minutes", confirmed=day(5, 3))
    # O2: 48 h (target 24 h): breached. api adopts postgres on 12 May. Rated 3, saved 1 h.
    order(session, DB, day(5, 10), stage="value-confirmed", delivered=day(5, 12), component="api", target=86400,
          rating=3, saved=3600, comment="Took two days", confirmed=day(6, 1))
    # O3: 12 h: within. worker adopts postgres on 5 June.
    order(session, DB, day(6, 5), stage="in-use", delivered=day(6, 5, 12), component="worker", target=86400)
    # O4: failed, never delivered: counts nowhere.
    order(session, CI, day(5, 20), stage="failed", delivered=None, component="api", target=1800)
    # O6: 40 minutes: breached; no component named. Rated 4 without a comment.
    order(session, CI, day(5, 15), stage="value-confirmed", delivered=day(5, 15, 0, 40), target=1800, rating=4,
          confirmed=day(5, 20))
