"""Write, count, list and mark notifications. Functions flush; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlmodel import Session

from portal.notifications.models import Notification

MAX_TEXT = 500
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def notify(session: Session, recipients: list[str], request_id: int, kind: str, text: str,
           at: datetime | None = None) -> int:
    """One notification per distinct recipient; returns how many were written."""
    at = at or datetime.now(UTC)
    clipped = text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
    unique = list(dict.fromkeys(ref for ref in recipients if ref))
    session.add_all([Notification(recipient_ref=ref, request_id=request_id, kind=kind, text=clipped,
                                  created_at=at) for ref in unique])
    if unique:
        session.flush()
    return len(unique)


def unread_count(session: Session, recipient: str) -> int:
    return session.execute(
        select(func.count()).select_from(Notification)
        .where(Notification.recipient_ref == recipient, Notification.read_at.is_(None))
    ).scalar_one()


@dataclass
class NotificationPage:
    items: list[Notification]
    unread: int
    next_before: int | None  # the id to pass as `before` for older rows, when there are any


def list_notifications(session: Session, recipient: str, *, before: int | None = None,
                       unread_only: bool = False, limit: int = PAGE_SIZE) -> NotificationPage:
    """A recipient's notifications, newest first; `before` is an id from `next_before`."""
    statement = select(Notification).where(Notification.recipient_ref == recipient)
    if before is not None:
        statement = statement.where(Notification.id < before)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    rows = list(session.execute(statement.order_by(Notification.id.desc()).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return NotificationPage(rows, unread_count(session, recipient), rows[-1].id if more and rows else None)


def mark_read(session: Session, recipient: str, ids: list[int] | None = None) -> int:
    """Mark the recipient's notifications read (all of them when `ids` is None); returns how many changed.
    Ids of other people's notifications change nothing: the recipient is part of the condition."""
    statement = (update(Notification)
                 .where(Notification.recipient_ref == recipient, Notification.read_at.is_(None))
                 .values(read_at=datetime.now(UTC)))
    if ids is not None:
        if not ids:
            return 0
        statement = statement.where(Notification.id.in_(ids))
    changed = session.execute(statement.execution_options(synchronize_session=False)).rowcount
    session.flush()
    return changed or 0


def notification_json(row: Notification, public_id: str) -> dict:
    from portal.flow.query import iso

    return {"id": row.id, "request": public_id, "kind": row.kind, "text": row.text,
            "createdAt": iso(row.created_at), "readAt": iso(row.read_at) if row.read_at else None,
            "url": f"/requests/{public_id}"}
