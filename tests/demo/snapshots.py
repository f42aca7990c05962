"""The demo rows as comparable plain data: everything but database-assigned ids and write times."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from portal.flow.records import RECORD_TABLES
from portal.requests.models import Request, RequestComment, RequestEvent, RequestVote

SKIPPED = {"updated_at"}  # stamped by the flow writer when a row is written


def flow_snapshot(session: Session) -> dict[str, list[tuple]]:
    snapshot = {}
    for kind, model in RECORD_TABLES.items():
        table = model.__table__
        columns = [column for column in table.columns if column.name not in SKIPPED and column.name != "id"
                   or (column.name == "id" and kind not in ("transition", "incident_event"))]
        rows = session.execute(select(*columns)).all()
        snapshot[kind] = sorted(tuple(str(value) for value in row) for row in rows)
    return snapshot


def request_snapshot(session: Session) -> list[tuple]:
    """Each request with its events, votes and comments, keyed by content instead of by id."""
    requests = session.execute(select(Request).order_by(Request.created_at, Request.title)).scalars().all()
    snapshot = []
    for request in requests:
        events = session.execute(select(RequestEvent.at, RequestEvent.actor, RequestEvent.from_stage,
                                        RequestEvent.to_stage, RequestEvent.source, RequestEvent.note,
                                        RequestEvent.work_time_seconds, RequestEvent.is_rework)
                                 .where(RequestEvent.request_id == request.id)
                                 .order_by(RequestEvent.at, RequestEvent.id)).all()
        votes = session.execute(select(RequestVote.voter_ref, RequestVote.at)
                                .where(RequestVote.request_id == request.id)).all()
        comments = session.execute(select(RequestComment.author_ref, RequestComment.at, RequestComment.body)
                                   .where(RequestComment.request_id == request.id)).all()
        values = {key: str(value) for key, value in request.model_dump().items() if key != "id"}
        snapshot.append((tuple(sorted(values.items())), tuple(map(str, events)), tuple(sorted(map(str, votes))),
                         tuple(sorted(map(str, comments)))))
    return sorted(snapshot)
