"""Who hears about a request when it is raised or moves: the one hook the requests service calls.

`request_moved()` runs inside the service's transaction, right after the stage event is added, so a
notification exists exactly when the move it tells of was committed. Recipients:

- the requester, on every later stage change of their request (reaching delivery asks for its value);
- the approvers group's members, when an order starts waiting for approval;
- the owner groups' members, when a manual order or an idea is raised.

Nobody is told about what they did themselves.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from portal.catalog.models import CatalogRelation
from portal.notifications.service import notify
from portal.requests.models import ANONYMOUS_ACTOR, Request, RequestEvent
from portal.requests.offerings import Offering, offering_of

AWAITING_APPROVAL = "awaiting-approval"


def members_of(session: Session, groups: list[str]) -> list[str]:
    """The users who are direct members of any of the groups (lower-cased refs)."""
    if not groups:
        return []
    return sorted(set(session.execute(
        select(CatalogRelation.source_ref).where(CatalogRelation.type == "memberOf",
                                                 CatalogRelation.target_ref.in_(groups),
                                                 CatalogRelation.source_ref.like("user:%"))
    ).scalars()))


def request_moved(session: Session, row: Request, event: RequestEvent, offering: Offering | None = None) -> None:
    """Notify the people a new request or a stage change concerns (see the module docstring)."""
    offering = offering or offering_of(session, row.capability_ref, row.product_ref)
    label = f"{row.public_id} “{row.title}”"
    notices: list[tuple[list[str], str, str]] = []
    if event.from_stage is None:
        if event.to_stage == AWAITING_APPROVAL and offering.approvers:
            notices.append((members_of(session, [offering.approvers]), "approval-needed",
                            f"{label} awaits your approval"))
        elif row.kind == "idea":
            notices.append((members_of(session, list(offering.owners)), "new-idea",
                            f"New idea for {row.product_ref}: {label}"))
        elif offering.fulfillment_mode == "manual":
            notices.append((members_of(session, list(offering.owners)), "new-work",
                            f"New order to fulfil: {label}"))
    else:
        stream = offering.value_stream(row.kind)
        if row.kind == "order" and event.to_stage == stream.delivery_stage:
            notices.append(([row.requester_ref], "value-requested",
                            f"{label} was delivered: tell its owners what value you got"))
        else:
            notices.append(([row.requester_ref], "stage-changed",
                            f"{label} moved from {event.from_stage} to {event.to_stage}"))
        if event.to_stage == AWAITING_APPROVAL and offering.approvers:
            notices.append((members_of(session, [offering.approvers]), "approval-needed",
                            f"{label} awaits your approval again"))
    for recipients, kind, text in notices:
        notify(session, [ref for ref in recipients if ref not in (event.actor, ANONYMOUS_ACTOR)], row.id, kind, text,
               event.at)
