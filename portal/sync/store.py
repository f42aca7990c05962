"""Reading and writing sync state: the connection lease, cursors, validators, and page commits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.catalog.models import CatalogSearch
from portal.flow.writer import write_records
from portal.sync.models import CONNECTION_ROW, SyncStateRow
from portal.sync.state import SyncPage

LEASE_SECONDS = 600
# Validators kept per connection; the least recently used are forgotten first.
MAX_VALIDATORS = 2000
_table = SyncStateRow.__table__


@dataclass
class Saved:
    """A connection's committed cursors (by resource) and conditional-request validators (by URL)."""

    cursors: dict[str, dict]
    validators: dict[str, list]


def _insert(session: Session):  # noqa: ANN202
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(_table)


def _ensure_row(session: Session, source: str, connection: str, resource: str) -> None:
    statement = _insert(session).values(
        source=source, connection=connection, resource=resource, last_requests=0, last_not_modified=0,
        last_records=0, requests_total=0,
    ).on_conflict_do_nothing(index_elements=["source", "connection", "resource"])
    session.execute(statement)


def _is_connection(source: str, connection: str, resource: str = CONNECTION_ROW):  # noqa: ANN202
    return (_table.c.source == source) & (_table.c.connection == connection) & (_table.c.resource == resource)


def claim(engine: Engine, source: str, connection: str, owner: str, now: datetime | None = None,
          lease_seconds: int = LEASE_SECONDS) -> bool:
    """Take the connection's lease unless another worker holds a live one; True when taken."""
    now = now or datetime.now(UTC)
    with Session(engine) as session:
        _ensure_row(session, source, connection, CONNECTION_ROW)
        session.commit()
        free = or_(_table.c.lease_until.is_(None), _table.c.lease_until < now, _table.c.lease_owner == owner)
        if session.get_bind().dialect.name == "postgresql":
            # Two workers racing for the row: the loser skips it instead of queueing behind it.
            locked = session.execute(
                select(_table.c.id).where(_is_connection(source, connection), free).with_for_update(skip_locked=True)
            ).first()
            if locked is None:
                return False
        # The conditional update is the claim itself; on SQLite the database write lock serialises it.
        result = session.execute(
            update(_table).where(_is_connection(source, connection), free)
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
        )
        session.commit()
        return result.rowcount == 1


def release(engine: Engine, source: str, connection: str, owner: str) -> None:
    """Give the lease back (only if still ours)."""
    with Session(engine) as session:
        session.execute(update(_table).where(_is_connection(source, connection), _table.c.lease_owner == owner)
                        .values(lease_owner=None, lease_until=None))
        session.commit()


def load(engine: Engine, source: str, connection: str) -> Saved:
    """Committed cursors and validators of a connection."""
    with Session(engine) as session:
        rows = session.execute(select(SyncStateRow).where(
            SyncStateRow.source == source, SyncStateRow.connection == connection)).scalars().all()
    cursors = {row.resource: json.loads(row.cursor) for row in rows
               if row.resource != CONNECTION_ROW and row.cursor}
    validators = next((json.loads(row.validators) for row in rows
                       if row.resource == CONNECTION_ROW and row.validators), {})
    return Saved(cursors=cursors, validators=validators)


def commit_page(engine: Engine, source: str, connection: str, owner: str, page: SyncPage,
                validators: dict[str, list]) -> int:
    """Store a page's records, its resource cursor and the validators it used, all in one commit."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        written = write_records(session, page.records)
        _ensure_row(session, source, connection, page.resource)
        session.execute(update(_table).where(_is_connection(source, connection, page.resource)).values(
            cursor=json.dumps(page.cursor) if page.cursor is not None else None, updated_at=now))
        values: dict = {"lease_until": now + timedelta(seconds=LEASE_SECONDS), "updated_at": now}
        if validators:
            current = session.execute(select(_table.c.validators).where(_is_connection(source, connection))
                                      ).scalar_one_or_none()
            merged = {**(json.loads(current) if current else {}), **validators}
            values["validators"] = json.dumps(_prune(merged))
        session.execute(update(_table).where(_is_connection(source, connection), _table.c.lease_owner == owner)
                        .values(**values))
        session.commit()
    return written


def _prune(validators: dict[str, list]) -> dict[str, list]:
    if len(validators) <= MAX_VALIDATORS:
        return validators
    newest = sorted(validators.items(), key=lambda item: item[1][2] or 0, reverse=True)[:MAX_VALIDATORS]
    return dict(newest)


def finish(engine: Engine, source: str, connection: str, *, requests: int, not_modified: int,
           records: int, error: str | None, succeeded: bool) -> None:
    """Record how the run went on the connection row (shown by the admin page and the API)."""
    now = datetime.now(UTC)
    values: dict = {
        "last_sync_at": now, "last_requests": requests, "last_not_modified": not_modified,
        "last_records": records, "requests_total": _table.c.requests_total + requests,
        "last_error": error, "updated_at": now,
    }
    if succeeded:
        values["last_success_at"] = now
    with Session(engine) as session:
        _ensure_row(session, source, connection, CONNECTION_ROW)
        session.execute(update(_table).where(_is_connection(source, connection)).values(**values))
        session.commit()


def last_sync_times(engine: Engine) -> dict[tuple[str, str], datetime | None]:
    """When each connection last synced, for the scheduler."""
    with Session(engine) as session:
        rows = session.execute(select(_table.c.source, _table.c.connection, _table.c.last_sync_at)
                               .where(_table.c.resource == CONNECTION_ROW)).all()
    return {(row.source, row.connection): row.last_sync_at for row in rows}


def linked_values(engine: Engine, annotation: str) -> list[str]:
    """Distinct values of one annotation across catalog entities, as written in the descriptors."""
    key = f"metadata.annotations.{annotation}".lower()
    with Session(engine) as session:
        values = session.execute(
            select(CatalogSearch.original_value).where(CatalogSearch.key == key).distinct()
        ).scalars().all()
    return sorted({value for value in values if value})


def sync_status(engine: Engine) -> list[dict]:
    """How each connection's pull sync went, for the admin page and GET /api/v1/plugins."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        rows = session.execute(select(SyncStateRow).where(SyncStateRow.resource == CONNECTION_ROW)
                               .order_by(SyncStateRow.source, SyncStateRow.connection)).scalars().all()
    return [{
        "source": row.source, "connection": row.connection, "last_sync_at": row.last_sync_at,
        "last_success_at": row.last_success_at, "last_error": row.last_error,
        "last_requests": row.last_requests, "last_not_modified": row.last_not_modified,
        "last_records": row.last_records, "requests_total": row.requests_total,
        "syncing": row.lease_until is not None and row.lease_until > now,
    } for row in rows]
