"""A log of which record links changed, and from when, so derived data (the DORA rollup in
portal/metrics/dora_rollup.py) can redo only what a write may have changed.

The writer adds one row per link and batch: `since` is the earliest time from which a sample derived
from that link's records may differ. Readers remember the last id they consumed; rows every reader has
consumed are deleted (`forget_consumed`), all but the newest, which keeps ids growing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, Column, Integer, delete, func, insert, select, text
from sqlmodel import Field, Session, SQLModel

# An incident counts against the last deployment before it, looked for this far back
# (portal/metrics/dora_records.LOOKBACK); a deployment or incident write moves samples that far back.
ATTRIBUTION_REACH = timedelta(days=90)
# Taken shared by every write that logs link changes and briefly exclusive by a reader of the latest id:
# on PostgreSQL ids are handed out before their transactions commit, so without it a reader could move
# past a lower id whose transaction commits later, and never see it. A writer holds it to its commit,
# which for the inbox worker is a whole batch of deliveries: readers that must answer quickly do not
# queue for it (see `latest_change_id`'s `if_busy`), or writers arriving later would queue behind them.
CHANGE_LOG_LOCK = 0x0D0A_0D0A
# Records without any time (rare, malformed) invalidate everything of their link.
EVER = datetime(1970, 1, 1, tzinfo=UTC)
# The record kinds DORA is derived from, with the time columns that bound what a change to one moves.
TRACKED_TIMES = {
    "deployment": (("started_at", "finished_at", "source_updated_at"), ATTRIBUTION_REACH),
    "incident": (("created_at", "acknowledged_at", "resolved_at"), ATTRIBUTION_REACH),
    "change": (("created_at", "first_commit_at", "merged_at", "closed_at"), timedelta(0)),
    "commit": (("authored_at", "pushed_at"), timedelta(0)),
}


class FlowLinkChange(SQLModel, table=True):
    # No index but the id: every write adds rows, readers only look at the few ids after what they
    # consumed, and the refresher deletes what everyone consumed every pass.
    __tablename__ = "flow_link_changes"

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"),
                                                            primary_key=True, autoincrement=True))
    link_annotation: str = Field(max_length=200)
    link_value: str = Field(max_length=400)
    since: datetime
    written_at: datetime


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def change_since(kind: str, values: Mapping) -> datetime | None:
    """From when a written record of `kind` may change derived samples; None for kinds nothing derives from."""
    tracked = TRACKED_TIMES.get(kind)
    if tracked is None:
        return None
    columns, reach = tracked
    times = [_aware(values[name]) for name in columns if isinstance(values.get(name), datetime)]
    return min(times) - reach if times else EVER


def log_link_changes(session: Session, written: Iterable[tuple[str, Mapping]]) -> int:
    """One row per link of the written (kind, values): the earliest `since` among them. Returns rows added."""
    earliest: dict[tuple[str, str], datetime] = {}
    for kind, values in written:
        annotation, value = values.get("link_annotation"), values.get("link_value")
        if not annotation or not value:
            continue
        since = change_since(kind, values)
        if since is None:
            continue
        key = (annotation, value)
        earliest[key] = min(since, earliest.get(key, since))
    return _log(session, earliest)


def log_links_changed(session: Session, links: Iterable[tuple[str, str]], since: datetime = EVER) -> int:
    """Log links whose records were written or deleted outside the writer (bulk inserts, deletions)."""
    return _log(session, dict.fromkeys(links, since))


def _log(session: Session, earliest: Mapping[tuple[str, str], datetime]) -> int:
    if not earliest:
        return 0
    now = datetime.now(UTC)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": CHANGE_LOG_LOCK})
    session.execute(insert(FlowLinkChange), [
        {"link_annotation": annotation, "link_value": value, "since": since, "written_at": now}
        for (annotation, value), since in sorted(earliest.items())])
    return len(earliest)


def latest_change_id(session: Session, *, if_busy: Callable[[Session], int] | None = None) -> int:
    """The latest logged change id such that no lower id can still appear (see CHANGE_LOG_LOCK).

    Waits for writers holding the lock, unless `if_busy` is given: then it answers `if_busy(session)`
    at once. That must be an id already known safe the same way, e.g. one an earlier call returned."""
    latest = select(func.coalesce(func.max(FlowLinkChange.id), 0))
    if session.get_bind().dialect.name != "postgresql":
        return session.execute(latest).scalar_one()
    if if_busy is None:
        session.execute(text("SELECT pg_advisory_lock(:key)"), {"key": CHANGE_LOG_LOCK})
    elif not session.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": CHANGE_LOG_LOCK}).scalar_one():
        return if_busy(session)
    try:
        return session.execute(latest).scalar_one()
    finally:
        session.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": CHANGE_LOG_LOCK})


def forget_consumed(session: Session, consumed_by_all: int) -> int:
    """Delete the rows every reader has consumed (ids up to `consumed_by_all`) but the newest row."""
    # The newest row stays: SQLite (the table has no AUTOINCREMENT) numbers a row one past the highest id
    # left in the table, so an emptied log would hand out 1, 2, ... again, ids every reader has consumed
    # already, and the changes they stand for would never be seen.
    newest = select(func.max(FlowLinkChange.id)).scalar_subquery()
    return session.execute(delete(FlowLinkChange).where(FlowLinkChange.id <= consumed_by_all,
                                                        FlowLinkChange.id < newest)).rowcount or 0
